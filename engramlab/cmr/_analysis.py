"""Free-recall analyses via psifr: serial position curve, probability of first recall,
lag-CRP, for data and model simulations alike (both are psifr long-format frames)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._data import _check_frame

__all__ = ["recall_curves", "compare_curves"]


def recall_curves(data: pd.DataFrame, *, max_lag: int | None = None) -> dict[str, pd.DataFrame]:
    """psifr analyses of a long-format frame, averaged over subjects.

    **Returns:** ``{"spc": input, recall; "pfr": input, prob; "lag_crp": lag, prob}``
    (group means of psifr's per-subject ``spc``, ``pnr`` at output 1 and ``lag_crp``;
    lag-CRP restricted to ``|lag| <= max_lag`` when given).
    """
    from psifr import fr

    df = _check_frame(data, "data")
    cols = ["subject", "list", "trial_type", "position", "item"]
    merged = fr.merge_free_recall(df[cols])
    spc = fr.spc(merged).groupby("input")["recall"].mean().reset_index()
    pnr = fr.pnr(merged)
    pfr = pnr.query("output == 1").groupby("input")["prob"].mean().reset_index()
    crp = fr.lag_crp(merged).groupby("lag")["prob"].mean().reset_index()
    if max_lag is not None:
        crp = crp[crp["lag"].abs() <= max_lag].reset_index(drop=True)
    crp.loc[crp["lag"] == 0, "prob"] = float("nan")
    return {"spc": spc, "pfr": pfr, "lag_crp": crp}


def compare_curves(data: pd.DataFrame, model: pd.DataFrame, **kwargs: Any) -> dict[str, Any]:
    """:func:`recall_curves` of data and model side by side, with RMSE per curve.

    **Returns:** ``{"data": curves, "model": curves, "rmse": {curve: float}}``.
    """
    import numpy as np

    d, m = recall_curves(data, **kwargs), recall_curves(model, **kwargs)
    rmse = {}
    for name, key, val in (("spc", "input", "recall"), ("pfr", "input", "prob"),
                           ("lag_crp", "lag", "prob")):
        j = d[name].merge(m[name], on=key, suffixes=("_d", "_m")).dropna()
        rmse[name] = float(np.sqrt(np.mean((j[f"{val}_d"] - j[f"{val}_m"]) ** 2)))
    return {"data": d, "model": m, "rmse": rmse}

"""Posterior predictive checks: the experiment simulated from posterior draws, summarised
by psifr's recall curves against the data's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._validation import as_key, check_int, check_range
from .._data import _check_frame
from .compare import check_sampled_data
from .convert import read_meta

__all__ = ["posterior_predictive"]


def _draw_params(idata, n_draws: int, rng: np.random.Generator):
    """``(n_draws, S, n_par)`` full parameter vectors of random posterior draws."""
    meta = read_meta(idata)["spec"]
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    pick = rng.choice(C * D, size=min(n_draws, C * D), replace=False)
    base = np.asarray(meta["base"])
    S = post.sizes["subject"]
    out = np.tile(base, (len(pick), S, 1))
    for n in meta["free"]:
        v = post[n].transpose("chain", "draw", "subject").values.reshape(C * D, S)
        out[:, :, meta["names"].index(n)] = v[pick]
    return out, meta


def posterior_predictive(idata: Any, data: pd.DataFrame, *, key: Any, n_draws: int = 20,
                         n_rep: int = 1, interval: float = 0.9,
                         pool_size: int | None = None) -> dict[str, Any]:
    """Posterior predictive check: simulate the experiment from posterior draws.

    For each of ``n_draws`` random posterior draws, every subject's lists (the study
    lists of ``data``) are simulated ``n_rep`` times with that subject's parameters, and
    psifr's SPC, PFR and lag-CRP (:func:`~engramlab.cmr.recall_curves`) are computed on the
    simulated group.

    **Returns:** ``{"data": curves of the data, "draws": {curve: tidy frame with a
    "draw" column}, "bands": {curve: frame with x, data, median, lo, hi}, "interval",
    "coverage": {curve: fraction of data points inside the band}}``; ``x`` is ``input``
    (SPC, PFR) or ``lag`` (lag-CRP); ``lo``/``hi`` are the central ``interval`` quantiles
    over draws.
    """
    import jax

    from .._analysis import recall_curves
    from .._api import simulate

    key = as_key(key, "key")
    read_meta(idata)
    data = _check_frame(data, "data")
    n_draws = check_int(n_draws, "n_draws", min_value=1)
    n_rep = check_int(n_rep, "n_rep", min_value=1)
    interval = check_range(interval, "interval", 0.0, 1.0, lo_inclusive=False,
                           hi_inclusive=False)
    subjects, dsub = check_sampled_data(idata, data)
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())
    thetas, meta = _draw_params(idata, n_draws, rng)
    names, variant = meta["names"], meta["variant"]
    curves = {"spc": [], "pfr": [], "lag_crp": []}
    frames = {s: data[dsub == s] for s in subjects}
    for d in range(thetas.shape[0]):
        sims = []
        for si, s in enumerate(subjects):
            params = dict(zip(names, thetas[d, si].tolist(), strict=True))
            sim = simulate(params, frames[s], key=jax.random.fold_in(key, d * 100003 + si),
                           variant=variant, n_rep=n_rep, pool_size=pool_size)
            sim["subject"] = si
            sims.append(sim)
        c = recall_curves(pd.concat(sims, ignore_index=True), category=False)
        for k in curves:
            curves[k].append(c[k].assign(draw=d))
    obs = recall_curves(data, category=False)
    bands, coverage = {}, {}
    q = (1 - interval) / 2
    for k, (x, y) in {"spc": ("input", "recall"), "pfr": ("input", "prob"),
                      "lag_crp": ("lag", "prob")}.items():
        allc = pd.concat(curves[k], ignore_index=True)
        g = allc.groupby(x)[y]
        b = pd.DataFrame({"median": g.median(), "lo": g.quantile(q), "hi": g.quantile(1 - q)})
        b = b.join(obs[k].set_index(x)[y].rename("data"), how="inner").reset_index()
        b = b.rename(columns={x: "x"})
        bands[k] = b
        ok = b.dropna()
        coverage[k] = float(((ok["data"] >= ok["lo"]) & (ok["data"] <= ok["hi"])).mean())
        curves[k] = allc
    return {"data": obs, "draws": curves, "bands": bands, "interval": interval,
            "coverage": coverage}

"""Model comparison: PSIS-LOO and WAIC over lists (ArviZ), AIC / BIC of per-subject
maximum-likelihood fits, and the checks that the models were fitted to the same data."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ValidationError
from .._data import _check_frame
from .convert import DATA_ATTR, read_meta
from .fingerprint import data_differences, data_fingerprint, frame_fingerprint

__all__ = ["check_sampled_data", "check_same_data", "compare", "idata_fingerprint",
           "point_fits"]


def compare(results: Mapping[str, Any], *,
            point_fits: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Compare models fitted to the same data: PSIS-LOO, WAIC and (optionally) AIC / BIC.

    The models must have been fitted to the same lists in the same order: the same
    recalls of the same subjects (checked by the data fingerprint :func:`sample` stores,
    or, for a result saved without one, rebuilt from its ``observed_data``); otherwise a
    :class:`~engramlab.errors.ValidationError` names the two models and what differs
    (recalls, list subjects, list order or number of lists). Different free sets are
    fine (that is what a comparison is for) and ``k`` shows them.

    - ``elpd_loo`` = ``sum_i log p(y_i | y_-i)`` estimated by Pareto-smoothed importance
      sampling over lists (ArviZ ``loo``), ``se_loo``, ``p_loo``, ``n_bad_k`` (lists with
      Pareto ``k > 0.7``: the estimate is unreliable there);
    - ``k``: free parameters per subject (the size of the model's free set);
    - ``elpd_waic``, ``se_waic``, ``p_waic``;
    - ``d_loo`` = best ``elpd_loo`` minus this model's, ``d_se`` its standard error from
      the pointwise differences (``sqrt(n var(d_i))``);
    - with ``point_fits`` (name -> table of :func:`point_fits`, checked against the
      model's data when the table carries a fingerprint): ``logl`` (summed maxima),
      ``k_total`` (free parameters summed over subjects), ``aic = 2k - 2 logl`` and
      ``bic = sum_s (k_s ln n_s - 2 logl_s)`` with ``n_s`` the subject's lists.

    **Returns:** one row per model, sorted by ``elpd_loo`` (best first).
    """
    import arviz as az

    if not isinstance(results, Mapping) or len(results) == 0:
        raise ValidationError(f"results: expected a non-empty dict name -> InferenceData, "
                              f"got {results!r}"[:200])
    n_lists: dict[str, int] = {}
    prints: dict[str, dict[str, Any]] = {}
    rows, pointwise = [], {}
    for name, idata in results.items():
        meta = read_meta(idata, f"results[{name!r}]", ("log_likelihood",))
        lik = idata.log_likelihood
        if "recall" not in lik or "list" not in lik["recall"].dims:
            raise ValidationError(f"results[{name!r}]: its log_likelihood group has no "
                                  "'recall' variable over 'list'")
        bad = int((~np.isfinite(lik["recall"].values)).sum())
        if bad:
            raise ValidationError(f"results[{name!r}]: {bad} pointwise log-likelihood "
                                  "value(s) are NaN or infinite; LOO and WAIC need finite "
                                  "values (a list the model gives probability 0?)")
        n_lists[name] = int(lik.sizes["list"])
        fp = idata_fingerprint(idata)
        if fp is not None:
            prints[name] = fp
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # surfaced as n_bad_k / waic_warning columns
            loo = az.loo(idata, pointwise=True)
            waic = az.waic(idata, pointwise=True)
        k = np.asarray(loo.pareto_k)
        pointwise[name] = np.asarray(loo.loo_i)
        rows.append({"model": name, "elpd_loo": float(loo.elpd_loo), "se_loo": float(loo.se),
                     "p_loo": float(loo.p_loo), "n_bad_k": int((k > 0.7).sum()),
                     "k": len(meta["spec"]["free"]),
                     "elpd_waic": float(waic.elpd_waic), "se_waic": float(waic.se),
                     "p_waic": float(waic.p_waic), "waic_warning": bool(waic.warning)})
    check_same_data(n_lists, prints)
    tab = pd.DataFrame(rows).set_index("model")
    best = tab["elpd_loo"].idxmax()
    tab["d_loo"] = tab["elpd_loo"].max() - tab["elpd_loo"]
    tab["d_se"] = [float(np.sqrt(len(pointwise[m]) * np.var(pointwise[best] - pointwise[m])))
                   for m in tab.index]
    if point_fits is not None:
        for m in tab.index:
            if m not in point_fits:
                raise ValidationError(f"point_fits: expected a table for model {m!r}, got "
                                      f"keys {sorted(point_fits)}")
            pf = point_fits[m]
            raw = getattr(pf, "attrs", {}).get(DATA_ATTR)
            if raw is not None and m in prints:
                diff = data_differences(prints[m], json.loads(raw))
                if diff:
                    raise ValidationError(f"point_fits[{m!r}]: fitted to other data than "
                                          f"model {m!r}'s posterior (what differs: "
                                          f"{', '.join(diff)}); fit the same lists")
            tab.loc[m, "logl"] = float(pf["logl"].sum())
            tab.loc[m, "k_total"] = int(pf["k"].sum())
            tab.loc[m, "aic"] = float((2 * pf["k"] - 2 * pf["logl"]).sum())
            tab.loc[m, "bic"] = float((pf["k"] * np.log(pf["n_lists"]) - 2 * pf["logl"]).sum())
    return tab.sort_values("elpd_loo", ascending=False)


def point_fits(idata: Any, data: pd.DataFrame, *, method: str = "gradient",
               pool_size: int | None = None, **fit_kw: Any) -> pd.DataFrame:
    """Maximum-likelihood fits of every subject with the sampled model's free parameters,
    bounds and fixed values (for AIC / BIC); one row per subject, as
    :func:`~engramlab.cmr.fit` (``fit_kw`` passed on, e.g. ``n_starts``, ``maxiter``)."""
    from .._fit import fit

    meta = read_meta(idata)["spec"]
    data = _check_frame(data, "data")
    free = {n: (lo, hi) for n, lo, hi in zip(meta["free"], meta["lo"], meta["hi"],
                                             strict=True)}
    fixed = {n: v for n, v in zip(meta["names"], meta["base"], strict=True) if n not in free}
    subjects, dsub = check_sampled_data(idata, data)
    rows = []
    for s in subjects:
        r = fit(data[dsub == s], variant=meta["variant"], method=method, free=free,
                fixed=fixed, pool_size=pool_size, **fit_kw)
        r.insert(0, "subject", s)
        rows.append(r)
    out = pd.concat(rows, ignore_index=True)
    out.attrs[DATA_ATTR] = json.dumps(frame_fingerprint(data[dsub.isin(subjects)]))
    return out


def idata_fingerprint(idata: Any) -> dict[str, Any] | None:
    """The data fingerprint stored by :func:`sample`; for an older result without it,
    one rebuilt from its ``observed_data`` (recalls and list subjects; ``None`` if those
    are missing too)."""
    raw = idata.posterior.attrs.get(DATA_ATTR)
    if raw is not None:
        return json.loads(raw)
    obs = getattr(idata, "observed_data", None)
    if obs is None or "recalls" not in obs or "list_subject" not in obs:
        return None
    return data_fingerprint(np.asarray(obs["recalls"].values),
                             np.asarray(obs["list_subject"].values))


def check_same_data(n_lists: Mapping[str, int], prints: Mapping[str, Mapping[str, Any]]
                     ) -> None:
    """Refuse models fitted to different data (:func:`compare`); ``prints`` holds the
    models with a data fingerprint, the others are checked by list count only (with a
    warning)."""
    names = list(n_lists)
    blind = [m for m in names if m not in prints]
    if blind:
        warnings.warn(f"results: {blind} carry neither a data fingerprint nor observed "
                      "recalls (saved by an older engramlab?); only their number of lists "
                      "is checked, not that they were fitted to the same recalls of the "
                      "same subjects in the same order", UserWarning, stacklevel=3)
    if len(set(n_lists.values())) > 1:
        raise ValidationError(f"results: models must be fitted to the same lists; got list "
                              f"counts {n_lists}")
    have = [m for m in names if m in prints]
    for m in have[1:]:
        diff = data_differences(prints[have[0]], prints[m])
        if diff:
            raise ValidationError(f"results: models {have[0]!r} and {m!r} were fitted to "
                                  f"different data (what differs: {', '.join(diff)}); "
                                  "compare needs every model fitted to the same lists in "
                                  "the same order")


def check_sampled_data(idata: Any, data: pd.DataFrame) -> tuple[list[Any], pd.Series]:
    """``data`` must hold every subject of the posterior and, restricted to them, be the
    lists the posterior was sampled on (where ``idata`` carries a data fingerprint).

    **Returns:** ``(subjects, dsub)``: the posterior's subjects and ``data``'s subject
    column in their type (as strings when the posterior stores strings).
    """
    subjects = list(idata.posterior["subject"].values)
    dsub = pd.Series(data["subject"]).astype(str) if idata.posterior["subject"].dtype.kind \
        in "US" else data["subject"]
    missing = [s for s in subjects if not (dsub == s).any()]
    if missing:
        raise ValidationError(f"data: expected the data the posterior was sampled on; "
                              f"subject(s) {missing[:5]} are missing")
    fp = idata_fingerprint(idata)
    if fp is not None:
        diff = data_differences(fp, frame_fingerprint(data[dsub.isin(subjects)]))
        if diff:
            raise ValidationError(f"data: expected the lists the posterior was sampled on "
                                  f"(what differs: {', '.join(diff)})")
    return subjects, dsub

"""Free-recall analyses via psifr: serial position curve, probability of first recall,
lag-CRP, and analyses of organisation (category CRP, within- vs between-category
transitions, distance / semantic CRP), for data and model simulations alike (both are
psifr long-format frames).

**Transitions** (all organisation analyses, as psifr counts them): in each recall
sequence, the transition from output ``n`` to ``n + 1`` is scored when both recalls are
studied items not recalled before (transitions from or to an intrusion or a repeat are
skipped). The items *available* on a transition are the studied items not yet recalled,
the "from" item removed; the "to" item is one of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ShapeError, ValidationError
from ._data import _check_frame

__all__ = ["recall_curves", "compare_curves", "category_crp", "category_transitions",
           "distance_crp", "CATEGORY_COLUMN"]

#: The column :func:`recall_curves` looks for to add the category CRP (Morton2013's).
CATEGORY_COLUMN = "category"

_CORE = ["subject", "list", "trial_type", "position", "item"]


def _category_key(df: pd.DataFrame, category: Any, name: str) -> str | None:
    """The category column to use: ``None`` (auto: ``"category"`` when the frame
    has it), ``False`` (none) or a column name (which must exist). Every study event
    must carry a label."""
    if category is False:
        return None
    if category is None or category is True:
        if CATEGORY_COLUMN not in df.columns:
            if category is True:
                raise DataError(f"{name}: category=True needs a {CATEGORY_COLUMN!r} column "
                                f"of category labels; the frame has {list(df.columns)}")
            return None
        category = CATEGORY_COLUMN
    if not isinstance(category, str):
        raise ValidationError(f"category: expected a column name, None (auto-detect "
                              f"{CATEGORY_COLUMN!r}) or False, got {category!r}")
    if category not in df.columns:
        raise DataError(f"{name}: missing category column {category!r} (one label per "
                        f"study event); the frame has columns {list(df.columns)}")
    if category in _CORE:
        raise ValidationError(f"category: expected a column of category labels, got the "
                              f"core psifr column {category!r}")
    study = df.loc[df["trial_type"] == "study", category]
    if study.isna().any():
        raise DataError(f"{name}: category column {category!r} is missing on "
                        f"{int(study.isna().sum())} of {len(study)} study events; every "
                        "studied item needs a label (or pass category=False)")
    return category


def _merge(df: pd.DataFrame, study_keys: list[str]):
    """psifr's scored frame (one row per study/recall pair) with ``study_keys`` taken from
    the study events (so recalled items carry their studied item's values)."""
    from psifr import fr

    cols = _CORE + [k for k in study_keys if k not in _CORE]
    return fr.merge_free_recall(df[cols], study_keys=list(study_keys))


def _labels(df: pd.DataFrame, key: str) -> list:
    vals = df.loc[df["trial_type"] == "study", key].unique().tolist()
    try:
        return sorted(vals)
    except TypeError:
        return vals


def _group(per: pd.DataFrame, by: str, cols: list[str]) -> pd.DataFrame:
    """Mean over subjects (NaN skipped) of ``cols`` by ``by`` (keeping ``by``'s first-
    appearance order), with ``sem`` of the first column and ``n_subjects`` (finite)."""
    g = per.groupby(by, sort=False)
    out = g[cols].mean()
    first = g[cols[0]]
    out["sem"] = first.std(ddof=1) / np.sqrt(first.count())
    out["n_subjects"] = first.count()
    return out.reset_index()


def category_crp(data: pd.DataFrame, *, category: str = CATEGORY_COLUMN,
                 by_category: bool = True, per_subject: bool = False) -> pd.DataFrame:
    """Category CRP (psifr's ``fr.category_crp``): the probability that a transition stays
    within the category of the item just recalled, given that it could.

    For one subject, over the scored transitions (module docstring) from item ``i`` with
    at least one same-category item available,
    ``CRP_within = n(category(next) == category(i)) / n(transitions with a same-category
    item available)``. Transitions whose "from" item has no same-category item left are
    not counted (psifr's definition). A subject with no such transition gets NaN.

    **Arguments:**

    - ``data``: psifr long-format frame whose study events carry ``category``.
    - ``category``: the column of category labels (default ``"category"``).
    - ``by_category``: also one row per category of the "from" item (psifr's
      ``test_key=category, test=lambda prev, curr: prev == c``).
    - ``per_subject``: return the per-subject table instead of the group means.

    **Returns:** per subject: columns ``subject, category, prob, actual, possible``
    (``category`` is ``"all"`` for all transitions, else the "from" item's category;
    ``actual``/``possible``: the counts above). Group (default): ``category, prob, sem,
    n_subjects``, ``prob`` the mean over subjects of their ``prob`` (NaN skipped), ``sem``
    its standard error; rows ``"all"`` first, then the categories (sorted).
    """
    from psifr import fr

    df = _check_frame(data, "data")
    key = _category_key(df, category, "data")
    if key is None:
        raise DataError(f"data: no category column (expected {CATEGORY_COLUMN!r})")
    merged = _merge(df, [key])
    rows = [fr.category_crp(merged, category_key=key).assign(category="all")]
    if by_category:
        for c in _labels(df, key):
            r = fr.category_crp(merged, category_key=key, test_key=key,
                                test=lambda prev, curr, c=c: prev == c)
            rows.append(r.assign(category=c))
    per = pd.concat(rows, ignore_index=True)
    per["category"] = per["category"].astype(object)
    per = per[["subject", "category", "prob", "actual", "possible"]]
    if per_subject:
        return per
    return _group(per, "category", ["prob"])


def category_transitions(data: pd.DataFrame, *, category: str = CATEGORY_COLUMN,
                         per_subject: bool = False) -> pd.DataFrame:
    """Within- vs between-category transitions, and what chance predicts.

    For one subject, over its scored transitions ``t = 1..T`` (module docstring), with
    ``A_t`` the available items, ``S_t`` those of the "from" item's category and
    ``w_t = 1`` when the transition stays within the category:

    - ``within = sum_t w_t / T``: fraction of transitions within the category;
    - ``chance = sum_t (|S_t| / |A_t|) / T``: the same fraction expected if each next
      item were drawn uniformly from the available ones;
    - ``within_crp = sum_t w_t / sum_t |S_t|`` and ``between_crp = sum_t (1 - w_t) /
      sum_t |A_t \\ S_t|``: conditional response probabilities per available item (as
      the lag-CRP counts each available item), equal in expectation under uniform
      choice; clustering by category is ``within_crp > between_crp``.

    **Returns:** per subject: ``subject, n_transitions, n_within, within, chance,
    within_crp, between_crp, possible_within, possible_between`` (``possible_*``:
    ``sum_t |S_t|`` and ``sum_t |A_t \\ S_t|``; ratios with a zero denominator are NaN).
    Group (default): one row, ``within, chance, within_crp, between_crp`` (means over
    subjects, NaN skipped), ``sem`` (of ``within``), ``n_subjects``.
    """
    from psifr import fr, maskers

    df = _check_frame(data, "data")
    key = _category_key(df, category, "data")
    if key is None:
        raise DataError(f"data: no category column (expected {CATEGORY_COLUMN!r})")
    merged = _merge(df, [key])
    rows = []
    for subject, sd in merged.groupby("subject", sort=True):
        pool = fr.split_lists(sd, "study", ["input", key], ["items", "label"], as_list=True)
        rec = fr.split_lists(sd, "recall", ["input", key], ["items", "label"], as_list=True)
        n = within = p_within = p_between = 0
        chance = 0.0
        for p_items, p_lab, r_items, r_lab in zip(pool["items"], pool["label"],
                                                  rec["items"], rec["label"], strict=True):
            for _, prev, curr, poss in maskers.transitions_masker(p_items, r_items,
                                                                  p_lab, r_lab):
                same = int(np.sum(poss == prev))
                n += 1
                within += int(curr == prev)
                chance += same / len(poss)
                p_within += same
                p_between += len(poss) - same

        def ratio(a: float, b: float) -> float:
            return a / b if b else float("nan")

        rows.append({"subject": subject, "n_transitions": n, "n_within": within,
                     "within": ratio(within, n), "chance": ratio(chance, n),
                     "within_crp": ratio(within, p_within),
                     "between_crp": ratio(n - within, p_between),
                     "possible_within": p_within, "possible_between": p_between})
    per = pd.DataFrame(rows)
    if per_subject:
        return per
    cols = ["within", "chance", "within_crp", "between_crp"]
    out = pd.DataFrame({c: [per[c].mean()] for c in cols})
    out["sem"] = per["within"].std(ddof=1) / np.sqrt(per["within"].count())
    out["n_subjects"] = int(per["within"].count())
    return out


def _check_distances(distances: Any, df: pd.DataFrame, index: str) -> np.ndarray:
    if index not in df.columns:
        raise DataError(f"data: missing column {index!r} (0-based row of each item in "
                        f"distances); the frame has columns {list(df.columns)}")
    from .._validation import as_array

    d = as_array(distances, "distances", dtype=np.float64)  # numbers, finite
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ShapeError(f"distances: expected a square (pool, pool) matrix, got shape "
                         f"{d.shape}")
    study = df.loc[df["trial_type"] == "study", index]
    vals = pd.to_numeric(study, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not (np.isfinite(vals).all() and (vals == np.round(vals)).all() and (vals >= 0).all()):
        raise DataError(f"data: column {index!r} must hold integers >= 0 on every study "
                        "event (the row of each item in distances)")
    need = int(vals.max()) + 1
    if d.shape[0] < need:
        raise ShapeError(f"distances: expected at least max({index}) + 1 = {need} rows and "
                         f"columns (one per pool item), got shape {d.shape}")
    return d


def _default_edges(d: np.ndarray, items: np.ndarray, n_bins: int) -> np.ndarray:
    """Quantile edges of the off-diagonal values among ``items``; the lowest edge is
    moved just below the minimum (psifr bins are right-closed, ``(lo, hi]``)."""
    sub = d[np.ix_(items, items)]
    off = sub[~np.eye(len(items), dtype=bool)]
    edges = np.unique(np.quantile(off, np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:  # every pair at the same distance: one bin around it
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    edges[0] = np.nextafter(edges[0], -np.inf)
    return edges


def distance_crp(data: pd.DataFrame, distances: Any, *, edges: Any = None,
                 n_bins: int = 6, index: str = "item_index",
                 per_subject: bool = False) -> pd.DataFrame:
    """Distance (semantic) CRP: the probability of a transition to an item in each bin of
    distance (or similarity) from the item just recalled, given the available items
    (psifr's ``fr.distance_crp``).

    For one subject and bin ``b``, over the scored transitions (module docstring) from
    item ``i`` to ``j``: ``CRP(b) = n(d[i, j] in b) / sum_t n(available k with d[i, k]
    in b)``, every available item counted (as the lag-CRP counts lags).

    **Arguments:**

    - ``data``: psifr long-format frame with ``index`` (0-based row of each item in
      ``distances``; :func:`load_dataset` adds ``item_index``).
    - ``distances``: ``(pool, pool)`` finite matrix of pairwise distances or similarities
      (e.g. cosine similarities of word vectors), ``pool >= max(index) + 1``.
    - ``edges``: increasing bin edges; bins are ``(edges[k], edges[k+1]]``. Default:
      ``n_bins`` quantile bins of the off-diagonal values among the items the data study
      (ties merged, the lowest edge just below the minimum so that it is counted).
    - ``per_subject``: return psifr's per-subject table instead of the group means.

    **Returns:** per subject: ``subject, center, bin, prob, actual, possible``. Group
    (default): ``center, prob, sem, n_subjects`` (one row per bin, ``prob`` the mean over
    subjects, NaN skipped, of bins a subject could reach); ``attrs["edges"]`` holds the
    edges.
    """
    from psifr import fr

    from .._validation import as_array, check_int

    df = _check_frame(data, "data")
    d = _check_distances(distances, df, index)
    if edges is None:
        n_bins = check_int(n_bins, "n_bins", min_value=1)
        items = np.unique(df.loc[df["trial_type"] == "study", index].to_numpy(int))
        edges = _default_edges(d, items, n_bins)
    else:
        edges = as_array(edges, "edges", ndim=1, dtype=np.float64)
        if len(edges) < 2 or (np.diff(edges) <= 0).any():
            raise ValidationError(f"edges: expected at least 2 strictly increasing values, "
                                  f"got {edges.tolist()}")
    merged = _merge(df, [index])
    # psifr indexes distances with the merged index; intrusions carry NaN and are skipped
    per = fr.distance_crp(merged, index_key=index, distances=d, edges=edges)
    per["prob"] = per["prob"].astype(float)
    per = per[["subject", "center", "bin", "prob", "actual", "possible"]]
    if per_subject:
        per.attrs["edges"] = edges
        return per
    out = _group(per, "center", ["prob"])
    out.attrs["edges"] = edges
    return out


def recall_curves(data: pd.DataFrame, *, max_lag: int | None = None,
                  category: Any = None) -> dict[str, pd.DataFrame]:
    """psifr analyses of a long-format frame, averaged over subjects.

    ``category``: ``None`` (default) adds the category CRP when the frame has a
    ``"category"`` column (``"category"``); a column name uses that column (it
    must exist); ``False`` never adds it.

    **Returns:** ``{"spc": input, recall; "pfr": input, prob; "lag_crp": lag, prob}``
    (group means of psifr's per-subject ``spc``, ``pnr`` at output 1 and ``lag_crp``;
    lag-CRP restricted to ``|lag| <= max_lag`` when given), plus, with categories,
    ``"category_crp"``: :func:`category_crp`'s group table (``category, prob, sem,
    n_subjects``; rows ``"all"`` and each category).
    """
    from psifr import fr

    df = _check_frame(data, "data")
    key = _category_key(df, category, "data")
    merged = fr.merge_free_recall(df[_CORE])
    spc = fr.spc(merged).groupby("input")["recall"].mean().reset_index()
    pnr = fr.pnr(merged)
    pfr = pnr.query("output == 1").groupby("input")["prob"].mean().reset_index()
    crp = fr.lag_crp(merged).groupby("lag")["prob"].mean().reset_index()
    if max_lag is not None:
        crp = crp[crp["lag"].abs() <= max_lag].reset_index(drop=True)
    crp.loc[crp["lag"] == 0, "prob"] = float("nan")
    out = {"spc": spc, "pfr": pfr, "lag_crp": crp}
    if key is not None:
        out["category_crp"] = category_crp(df, category=key)
    return out


def compare_curves(data: pd.DataFrame, model: pd.DataFrame, *, category: Any = None,
                   **kwargs: Any) -> dict[str, Any]:
    """:func:`recall_curves` of data and model side by side, with RMSE per curve.

    ``category``: as in :func:`recall_curves`; with the default (auto-detect) the
    category CRP is compared only when both frames have the column
    (:func:`~engramlab.cmr.simulate` carries the design's ``category`` over); a column
    named explicitly must be in both.

    **Returns:** ``{"data": curves, "model": curves, "rmse": {curve: float}}``; the RMSE
    of ``"category_crp"`` is over its rows (``"all"`` and each category) when present.
    """
    if category is None:
        both = all(isinstance(f, pd.DataFrame) and CATEGORY_COLUMN in f.columns
                   for f in (data, model))
        category = CATEGORY_COLUMN if both else False
    for f, name in ((data, "data"), (model, "model")):
        if isinstance(f, pd.DataFrame):
            category = _category_key(f, category, name) or False
    d = recall_curves(data, category=category, **kwargs)
    m = recall_curves(model, category=category, **kwargs)
    rmse = {}
    curves = [("spc", "input", "recall"), ("pfr", "input", "prob"), ("lag_crp", "lag", "prob")]
    if "category_crp" in d:
        curves.append(("category_crp", "category", "prob"))
    for name, key, val in curves:
        j = d[name].merge(m[name], on=key, suffixes=("_d", "_m")).dropna(
            subset=[f"{val}_d", f"{val}_m"])
        rmse[name] = float(np.sqrt(np.mean((j[f"{val}_d"] - j[f"{val}_m"]) ** 2)))
    return {"data": d, "model": m, "rmse": rmse}

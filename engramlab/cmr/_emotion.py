"""Emotional memory in free recall: recall by valence, emotional clustering, and the
emotional list-composition effect (Talmi, Lohnas & Daw 2019).

Valence lives in a ``valence`` column on study events (psifr long format): eCMR reads
``valence != 0`` as emotional, CMR3 ``< 0`` negative / ``> 0`` positive / ``0`` neutral.
:func:`valence_class` names the classes; the analyses use psifr on the merged study /
recall table, for data and simulations alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_array, check_choice, check_int
from ..errors import DataError
from ._data import _check_frame

__all__ = ["valence_class", "recall_by_valence", "spc_by_valence", "lag_crp_by_valence",
           "emotional_clustering", "list_composition", "composition_effect",
           "LIST_TYPES"]

SCHEMES = ("emotional", "signed")
LIST_TYPES = ("pure-neutral", "pure-emotional", "mixed")


def valence_class(valence: Any, scheme: str = "emotional") -> np.ndarray:
    """``"emotional"`` / ``"neutral"`` (``scheme="emotional"``, eCMR) or ``"negative"`` /
    ``"neutral"`` / ``"positive"`` (``"signed"``, CMR3) for each valence value."""
    check_choice(scheme, "scheme", SCHEMES)
    v = as_array(valence, "valence", dtype=np.float64, allow_empty=True)  # finite
    if scheme == "emotional":
        return np.where(v != 0, "emotional", "neutral")
    return np.where(v < 0, "negative", np.where(v > 0, "positive", "neutral"))


def _merged(data: pd.DataFrame, column: str, scheme: str) -> pd.DataFrame:
    from psifr import fr

    df = _check_frame(data, "data")
    if column not in df.columns:
        raise DataError(f"data: missing column {column!r} (valence of every study event)")
    study = df["trial_type"] == "study"
    vals = pd.to_numeric(df.loc[study, column], errors="coerce")
    if vals.isna().any() or not np.isfinite(vals.to_numpy(float)).all():
        raise DataError(f"data: column {column!r} must be a finite number on every study "
                        "event")
    df = df.copy()
    df["valence_class"] = pd.Series(pd.NA, index=df.index, dtype=object)
    df.loc[study, "valence_class"] = valence_class(vals.to_numpy(float), scheme)
    return fr.merge_free_recall(df, study_keys=["valence_class"])


def recall_by_valence(data: pd.DataFrame, *, column: str = "valence",
                      scheme: str = "emotional") -> pd.DataFrame:
    """Probability of recall of studied items by valence class, per subject.

    **Returns:** tidy ``subject, valence_class, recall, n_items``.
    """
    m = _merged(data, column, scheme)
    studied = m[m["study"]]
    g = studied.groupby(["subject", "valence_class"])["recall"]
    return pd.DataFrame({"recall": g.mean(), "n_items": g.size()}).reset_index()


def spc_by_valence(data: pd.DataFrame, *, column: str = "valence",
                   scheme: str = "emotional") -> pd.DataFrame:
    """psifr's serial position curve separately for each valence class.

    **Returns:** tidy ``subject, valence_class, input, recall``.
    """
    m = _merged(data, column, scheme)
    out = []
    for cls, part in m[m["study"]].groupby("valence_class"):
        rec = part.groupby(["subject", "input"])["recall"].mean().reset_index()
        rec.insert(1, "valence_class", cls)
        out.append(rec)
    return pd.concat(out, ignore_index=True)


def lag_crp_by_valence(data: pd.DataFrame, *, column: str = "valence",
                       scheme: str = "emotional") -> pd.DataFrame:
    """psifr's lag-CRP restricted to transitions among items of one valence class.

    **Returns:** tidy ``subject, valence_class, lag, prob, actual, possible``.
    """
    from psifr import fr

    m = _merged(data, column, scheme)
    out = []
    for cls in sorted(m["valence_class"].dropna().unique()):
        crp = fr.lag_crp(m, item_query=f"valence_class == '{cls}'").reset_index()
        crp.insert(1, "valence_class", cls)
        out.append(crp)
    return pd.concat(out, ignore_index=True)


def emotional_clustering(data: pd.DataFrame, *, column: str = "valence",
                         scheme: str = "emotional") -> pd.DataFrame:
    """psifr's category-CRP with valence class as the category: the probability that a
    transition goes to an item of the same class, per subject (0.5-ish without
    clustering in a half-and-half list).

    **Returns:** tidy ``subject, prob, actual, possible``.
    """
    from psifr import fr

    return fr.category_crp(_merged(data, column, scheme),
                           category_key="valence_class").reset_index()


def _composition_design(list_type: str, L: int, n: int, rng: np.random.Generator,
                        emotional_value: float) -> np.ndarray:
    if list_type == "pure-neutral":
        return np.zeros((n, L))
    if list_type == "pure-emotional":
        return np.full((n, L), emotional_value)
    half = np.r_[np.full(L // 2, emotional_value), np.zeros(L - L // 2)]
    return np.stack([rng.permutation(half) for _ in range(n)])


def list_composition(params: Mapping[str, Any], *, list_length: int = 16,
                     n_lists: int = 500, key: Any = 0, emotional_value: float = -1.0,
                     ) -> pd.DataFrame:
    """Simulate the emotional list-composition experiment under several variants.

    Pure-neutral, pure-emotional and mixed (half emotional, in random positions) lists of
    ``list_length`` items, ``n_lists`` of each, simulated with every ``variant -> params``
    of ``params`` (e.g. ``{"ecmr": EcmrParams(...), "cmr3": ..., "jaxcmr": ...}``).
    Emotional items have valence ``emotional_value`` (negative: emotional for eCMR and
    negative for CMR3).

    **Returns:** tidy ``variant, list_type, valence_class, recall, se, n_items`` —
    recall probability of the studied items of each class with its binomial standard
    error over lists (``se = sd of per-list recall / sqrt(n_lists)``).
    """
    import jax

    from .._validation import as_key
    from ._api import simulate
    from ._variants import get_variant

    L = check_int(list_length, "list_length", min_value=2, max_value=512)
    n = check_int(n_lists, "n_lists", min_value=2, max_value=100_000)
    if not isinstance(params, Mapping) or not params:
        raise DataError("params: expected a non-empty mapping variant -> parameters")
    from ._data import to_arrays

    # independent simulations: one key per (variant, list type)
    keys = jax.random.split(as_key(key), (len(params) + 1) * len(LIST_TYPES))
    seed = int(np.asarray(jax.random.key_data(keys[-1])).ravel()[-1])
    rng = np.random.default_rng(seed)
    designs = {t: _composition_design(t, L, n, rng, emotional_value) for t in LIST_TYPES}
    rows = []
    for a, (name, par) in enumerate(params.items()):
        v = get_variant(name)
        for b, (t, val) in enumerate(designs.items()):
            sim = simulate(par, {"list_length": L, "n_lists": n,
                                 "features": {"valence": val}},
                           key=keys[a * len(LIST_TYPES) + b], variant=v)
            arr = to_arrays(sim, features=("valence",))
            rec = np.zeros(arr.pres_itemnos.shape, bool)
            r, o = np.nonzero(arr.recalls)
            rec[r, arr.recalls[r, o] - 1] = True
            emo = arr.features["valence"] != 0
            for cls, mask in (("emotional", emo), ("neutral", ~emo)):
                counts = mask.sum(axis=1)
                has = counts > 0
                if not has.any():
                    continue
                per_list = (rec & mask).sum(axis=1)[has] / counts[has]
                rows.append(dict(variant=v.name, list_type=t, valence_class=cls,
                                 recall=float(rec[mask].mean()),
                                 se=float(per_list.std(ddof=1) / np.sqrt(per_list.size)),
                                 n_items=int(mask.sum())))
    return pd.DataFrame(rows)


def composition_effect(table: pd.DataFrame) -> pd.DataFrame:
    """Emotional advantage in mixed and in pure lists, per variant, from
    :func:`list_composition`'s table.

    ``mixed_advantage = P(emotional | mixed) - P(neutral | mixed)``,
    ``pure_advantage = P(pure-emotional) - P(pure-neutral)``, each with its standard
    error (independent lists), and ``difference = mixed - pure`` with its SE.
    """
    out = []
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table: expected the DataFrame of list_composition, got "
                        f"{type(table).__name__}")
    need = ["variant", "list_type", "valence_class", "recall", "se"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise DataError(f"table: missing column(s) {missing} (expected list_composition's "
                        f"table with {need})")

    def get(g: pd.DataFrame, t: str, c: str) -> tuple[float, float]:
        row = g[(g["list_type"] == t) & (g["valence_class"] == c)]
        if row.empty:
            raise DataError(f"table: no row for list_type {t!r}, valence_class {c!r}")
        try:
            r, se = float(row["recall"].iloc[0]), float(row["se"].iloc[0])
        except (TypeError, ValueError):
            r = se = float("nan")
        if not (0.0 <= r <= 1.0 and np.isfinite(se) and se >= 0):
            raise DataError(f"table: list_type {t!r}, valence_class {c!r}: expected a "
                            f"recall probability in [0, 1] and a finite se >= 0, got "
                            f"recall={row['recall'].iloc[0]!r}, se={row['se'].iloc[0]!r}")
        return r, se

    for name, g in table.groupby("variant", sort=False):
        (me, mse), (mn, mns) = get(g, "mixed", "emotional"), get(g, "mixed", "neutral")
        (pe, pse) = get(g, "pure-emotional", "emotional")
        (pn, pns) = get(g, "pure-neutral", "neutral")
        ma, ma_se = me - mn, float(np.hypot(mse, mns))
        pa, pa_se = pe - pn, float(np.hypot(pse, pns))
        out.append(dict(variant=name, mixed_advantage=ma, mixed_se=ma_se,
                        pure_advantage=pa, pure_se=pa_se, difference=ma - pa,
                        difference_se=float(np.hypot(ma_se, pa_se))))
    return pd.DataFrame(out)

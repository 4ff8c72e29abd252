"""Condition statistics for phase locking: mean +- SEM, permutation test, effect size.

Both senses of PLV reduce to a *sum over trials followed by a finishing function*:

- across trials: per-trial relative phasors ``U[n, k] = u_n(pair, t)`` (``k`` runs over
  the chosen pairs x time points); a condition's value is ``theta = mean_k f(S_k, n)``
  with ``S = sum_{n in condition} U[n]`` and ``f = |S|/n`` (PLV), PPC or debiased PLV;
- within trial: per-trial values ``v[n]`` (the within-trial PLV averaged over pairs);
  ``theta = S / n``, the mean.

So one engine serves both: the **permutation test** shuffles the condition labels
(keeping group sizes), recomputing ``theta_A - theta_B`` with one matrix product per
batch of permutations; two-sided ``p = (1 + #{|null| >= |observed|}) / (1 + P)``. The
**SEM** is the leave-one-trial-out jackknife, ``sqrt((n-1)/n sum (theta_(-n) -
mean)^2)`` (for a mean this is exactly ``SD/sqrt(n)``). The **effect size** is Cohen's
``d`` of the jackknife pseudo-values ``n theta - (n-1) theta_(-n)`` with pooled SD (for a
mean these are the values themselves, so it is the ordinary Cohen's ``d``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import (
    as_array,
    as_rng,
    check_callable,
    check_choice,
    check_finite_scalar,
    check_int,
    check_resources,
    nbytes,
)
from ..errors import ValidationError

__all__ = ["ConditionComparison", "compare_groups", "jackknife", "TimeClusters",
           "cluster_permutation_time"]


def _finisher(kind: str, estimator: str) -> Callable[[np.ndarray, Any], np.ndarray]:
    """f(S, n) -> value, vectorised over leading axes of S (last axis = k)."""
    if kind == "values":
        return lambda s, n: (s / n).mean(axis=-1)
    if estimator == "plv":
        return lambda s, n: (np.abs(s) / n).mean(axis=-1)

    def ppc(s, n):
        return ((np.abs(s) ** 2 - n) / (n * (n - 1.0)))

    if estimator == "ppc":
        return lambda s, n: ppc(s, n).mean(axis=-1)
    return lambda s, n: np.sqrt(np.clip(ppc(s, n), 0.0, None)).mean(axis=-1)


def jackknife(u: np.ndarray, finish: Callable) -> tuple[float, float, np.ndarray]:
    """Estimate, jackknife SEM and pseudo-values of ``finish(sum(u), n)``.

    ``u`` has shape ``(n, k)``. **Returns:** ``(theta, sem, pseudo (n,))``.
    """
    u = as_array(u, "u", ndim=2, kind="complex")
    finish = check_callable(finish, "finish")
    n = u.shape[0]
    s = u.sum(axis=0)
    theta = float(finish(s[None], n)[0])
    if n < 2:
        return theta, float("nan"), np.array([theta])
    loo = finish(s[None] - u, n - 1)                      # (n,)
    sem = float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))
    pseudo = n * theta - (n - 1) * loo
    return theta, sem, pseudo


@dataclass
class ConditionComparison:
    """Result of :func:`compare_groups` / :meth:`PhaseLocking.compare`.

    **Fields:** ``table`` (DataFrame: condition, n_trials, value, sem, ci_low, ci_high);
    ``conditions`` ``(A, B)``; ``difference`` ``theta_A - theta_B``; ``p_value``
    (two-sided permutation); ``effect_size`` (Cohen's d of jackknife pseudo-values);
    ``null`` the permutation distribution; ``sense``, ``estimator``.
    """

    table: Any
    conditions: tuple[str, str]
    difference: float
    p_value: float
    effect_size: float
    null: np.ndarray
    sense: str
    estimator: str
    n_permutations: int
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Plain-dict summary (JSON-friendly)."""
        out: dict[str, Any] = {"sense": self.sense, "estimator": self.estimator,
                               "conditions": list(self.conditions),
                               "difference": self.difference, "p_value": self.p_value,
                               "effect_size_d": self.effect_size,
                               "n_permutations": self.n_permutations}
        for rec in self.table.to_dict("records"):
            out[str(rec["condition"])] = {"n_trials": int(rec["n_trials"]),
                                          "mean": float(rec["value"]),
                                          "sem": float(rec["sem"])}
        return out



def _check_conditions(labels: Any, n_trials: int, conditions: Any
                      ) -> tuple[np.ndarray, list[str], tuple[str, str]]:
    """Validate per-trial ``labels`` and the two ``conditions`` to compare.

    **Returns:** ``(labels as str array, sorted conditions present, (A, B))``; the default
    ``(A, B)`` is the two labels present, required to be named when there are more.
    """
    labels = np.asarray(labels).astype(str)
    if labels.ndim != 1 or labels.shape[0] != n_trials:
        raise ValidationError(f"labels: expected {n_trials} labels (one per trial), got "
                              f"shape {labels.shape}")
    present = [str(c) for c in np.unique(labels)]
    if conditions is None:
        if len(present) != 2:
            raise ValidationError(f"conditions: the labels hold {len(present)} condition(s) "
                                  f"{present}; name the two to compare (conditions=(A, B))")
        conditions = (present[0], present[1])
    if isinstance(conditions, str) or not hasattr(conditions, "__len__") or len(
            conditions) != 2:
        raise ValidationError(f"conditions: expected two condition names (A, B), got "
                              f"{conditions!r}"[:200])
    conditions = (str(conditions[0]), str(conditions[1]))
    for c in conditions:
        if c not in present:
            raise ValidationError(f"conditions: {c!r} is not among the labels {present}")
    if conditions[0] == conditions[1]:
        raise ValidationError(f"conditions: expected two different conditions, got {conditions}")
    return labels, present, conditions


def _permutation_null(stat: Callable[[np.ndarray], np.ndarray], is_a: np.ndarray,
                      p_count: int, seed: int | np.random.Generator, max_elements: int,
                      width: int) -> tuple[np.ndarray, np.ndarray]:
    """The observed statistic and its label-permutation null distribution.

    ``stat(mask)`` maps ``(b, n_trials)`` 0/1 group-A masks to ``(b, ...)`` statistics.
    Each shuffle keeps the group sizes; shuffles run in batches of at most
    ``max_elements // width`` masks, under single-threaded BLAS (many small products).

    **Returns:** ``(observed (...), null (p_count, ...))``.
    """
    from ._plv import blas_single_thread

    rng = as_rng(seed)
    n, n_a = is_a.shape[0], int(is_a.sum())
    check_resources("the permutation test", n_bytes=3 * nbytes(p_count, width, itemsize=8)
                    // max(1, width) + 8 * nbytes(min(p_count, max(1, max_elements // max(
                        1, width))), n + width, itemsize=8),
                    n_ops=float(p_count) * n * (4 * width + 30),
                    args={"n_permutations": p_count, "n_trials": n, "width": width})
    batch = max(1, min(p_count, max_elements // max(1, width)))
    with blas_single_thread():
        observed = stat(is_a[None].astype(np.float64))[0]
        null = np.empty((p_count,) + np.shape(observed))
        done = 0
        while done < p_count:
            b = min(batch, p_count - done)
            order = np.argsort(rng.random((b, n)), axis=1)
            mask = np.zeros((b, n))
            np.put_along_axis(mask, order[:, :n_a], 1.0, axis=1)
            null[done:done + b] = stat(mask)
            done += b
    return observed, null

def compare_groups(u: np.ndarray, labels: np.ndarray, *, kind: str = "phasors",
                   estimator: str = "plv", conditions: tuple[str, str] | None = None,
                   n_permutations: int = 1000, seed: int | np.random.Generator = 0,
                   max_elements: int = 4_000_000, sense: str = "across_trials"
                   ) -> ConditionComparison:
    """Compare two conditions: jackknife mean +- SEM, permutation p-value, Cohen's d.

    **Arguments:**

    - ``u``: ``(n_trials, k)`` complex relative phasors (``kind="phasors"``, across-trial
      PLV over the ``k`` pair/time elements) or real per-trial values (``kind="values"``).
    - ``labels``: ``(n_trials,)`` condition of each trial.
    - ``estimator``: ``"plv"``, ``"ppc"`` or ``"plv_debiased"`` (phasors only).
    - ``conditions``: the two conditions ``(A, B)``; default: the two labels present (sorted);
      required when there are more.
    - ``n_permutations``: label shuffles (>= 1); ``seed`` for them.
    - ``max_elements``: memory bound on ``permutations x k`` per batch.

    **Returns:** :class:`ConditionComparison` (table rows for every condition present).
    """
    import pandas as pd

    u = as_array(u, "u", ndim=(1, 2), kind="complex", dtype=None)
    if u.ndim == 1:
        u = u[:, None]
    check_choice(kind, "kind", ("phasors", "values"))
    check_choice(estimator, "estimator", ("plv", "ppc", "plv_debiased"))
    max_elements = check_int(max_elements, "max_elements", min_value=1)
    labels, present, conditions = _check_conditions(labels, u.shape[0], conditions)
    p_count = check_int(n_permutations, "n_permutations", min_value=1)
    finish = _finisher("values" if kind == "values" else "phasors", estimator)
    minimum = 2
    rows, pseudo = [], {}
    for c in present:
        sub = u[labels == c]
        if sub.shape[0] < minimum:
            raise ValidationError(f"labels: condition {c!r} has {sub.shape[0]} trial; "
                                  f"across-trial PLV and its SEM need at least 2")
        theta, sem, ps = jackknife(sub, finish)
        pseudo[c] = ps
        rows.append({"condition": c, "n_trials": int(sub.shape[0]), "value": theta,
                     "sem": sem, "ci_low": theta - 1.96 * sem, "ci_high": theta + 1.96 * sem})
    table = pd.DataFrame(rows)
    sel = np.isin(labels, conditions)
    uu, ll = u[sel], labels[sel]
    is_a = ll == conditions[0]
    n_a, n_b = int(is_a.sum()), int((~is_a).sum())
    total = uu.sum(axis=0)
    if np.iscomplexobj(uu):
        uu_re = np.ascontiguousarray(uu.real, dtype=np.float64)
        uu_im = np.ascontiguousarray(uu.imag, dtype=np.float64)

    def stat(mask: np.ndarray) -> np.ndarray:
        if np.iscomplexobj(uu):  # two real GEMMs: much faster than a complex matmul here
            s_a = (mask @ uu_re) + 1j * (mask @ uu_im)
        else:
            s_a = mask @ uu
        return finish(s_a, n_a) - finish(total[None] - s_a, n_b)

    observed, null = _permutation_null(stat, is_a, p_count, seed, max_elements, uu.shape[1])
    observed = float(observed)
    p = float((1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + p_count))
    pa, pb = pseudo[conditions[0]], pseudo[conditions[1]]
    pooled = np.sqrt(((pa.size - 1) * pa.var(ddof=1) + (pb.size - 1) * pb.var(ddof=1))
                     / (pa.size + pb.size - 2))
    d = float(observed / pooled) if pooled > 0 else float("inf") * np.sign(observed)
    return ConditionComparison(table=table, conditions=conditions, difference=observed,
                               p_value=p, effect_size=d, null=null, sense=sense,
                               estimator=estimator, n_permutations=p_count)


@dataclass
class TimeClusters:
    """Result of :func:`cluster_permutation_time`.

    **Fields:** ``times`` (s); ``difference`` ``theta_A(t) - theta_B(t)``; ``z`` the
    difference divided by its permutation SD at each time; ``clusters`` a DataFrame
    (t_start, t_end, sign, mass, p_value) of supra-threshold runs; ``null_max`` the
    permutation distribution of the largest cluster mass; ``conditions``; ``threshold``.
    """

    times: np.ndarray
    difference: np.ndarray
    z: np.ndarray
    clusters: Any
    null_max: np.ndarray
    conditions: tuple[str, str]
    threshold: float

    def significant(self, alpha: float = 0.05) -> list[tuple[float, float]]:
        """``(t_start, t_end)`` of the clusters with ``p_value <= alpha``."""
        c = self.clusters
        return [(float(a), float(b)) for a, b, p in zip(c["t_start"], c["t_end"],
                                                         c["p_value"], strict=True)
                if p <= alpha]


def _runs(z: np.ndarray, threshold: float) -> list[tuple[int, int, float, int]]:
    """Contiguous runs of ``|z| > threshold`` with one sign: (start, stop, mass, sign)."""
    out = []
    sign = np.sign(z) * (np.abs(z) > threshold)
    t = 0
    n = z.size
    while t < n:
        if sign[t] == 0:
            t += 1
            continue
        s, start = sign[t], t
        while t < n and sign[t] == s:
            t += 1
        out.append((start, t, float(np.abs(z[start:t]).sum()), int(s)))
    return out


def cluster_permutation_time(u: np.ndarray, labels: np.ndarray, times: np.ndarray, *,
                             estimator: str = "plv",
                             conditions: tuple[str, str] | None = None,
                             n_permutations: int = 1000,
                             seed: int | np.random.Generator = 0,
                             threshold: float = 1.96,
                             max_elements: int = 4_000_000) -> TimeClusters:
    """Cluster-mass permutation test over time for the across-trial PLV difference.

    ``u`` ``(n_trials, n_pairs, n_times)`` relative phasors. At each time ``t`` the
    statistic is ``d(t) = theta_A(t) - theta_B(t)`` (across-trial PLV averaged over the
    pairs), standardised as ``z(t) = d(t) / SD_perm(t)`` by its permutation SD; runs with
    ``|z| > threshold`` and one sign form clusters whose mass is ``sum |z|``; each
    cluster's p-value is the fraction of label shuffles whose *largest* cluster mass is
    at least as large (Maris & Oostenveld 2007), which controls the family-wise error over
    time. The shuffles keep the group sizes.
    """
    import pandas as pd

    u = as_array(u, "u", kind="complex")
    if u.ndim != 3 or not np.iscomplexobj(u):
        raise ValidationError(f"u: expected complex phasors (n_trials, n_pairs, n_times), "
                              f"got shape {u.shape} dtype {u.dtype}")
    labels, present, conditions = _check_conditions(labels, u.shape[0], conditions)
    p_count = check_int(n_permutations, "n_permutations", min_value=19)
    threshold = check_finite_scalar(threshold, "threshold", dtype=np.float64)
    check_choice(estimator, "estimator", ("plv", "ppc", "plv_debiased"))
    max_elements = check_int(max_elements, "max_elements", min_value=1)
    times = as_array(times, "times", shape=(u.shape[2],), dtype=np.float64)
    sel = np.isin(labels, conditions)
    uu = u[sel]
    is_a = labels[sel] == conditions[0]
    n, n_pairs, n_t = uu.shape
    n_a, n_b = int(is_a.sum()), int((~is_a).sum())
    if min(n_a, n_b) < 2:
        raise ValidationError(f"labels: each condition needs at least 2 trials, got "
                              f"{n_a} and {n_b}")
    flat = uu.reshape(n, -1)
    re = np.ascontiguousarray(flat.real, dtype=np.float64)
    im = np.ascontiguousarray(flat.imag, dtype=np.float64)
    total = flat.sum(axis=0)
    f = _finisher("phasors", estimator)

    def stat(mask: np.ndarray) -> np.ndarray:       # (b, n) -> (b, n_t)
        s_a = (mask @ re) + 1j * (mask @ im)
        a = f(s_a.reshape(-1, n_pairs, n_t).swapaxes(1, 2), n_a)
        b = f((total[None] - s_a).reshape(-1, n_pairs, n_t).swapaxes(1, 2), n_b)
        return a - b

    observed, null = _permutation_null(stat, is_a, p_count, seed, max_elements, flat.shape[1])
    # SD over all P + 1 labellings (the observed one included), so that every labelling
    # is treated alike and the test stays exact under exchangeability
    sd = np.concatenate([observed[None], null]).std(axis=0)
    sd = np.where(sd > 0, sd, np.inf)
    z_obs = observed / sd
    z_null = null / sd
    null_max = np.array([max((r[2] for r in _runs(zr, threshold)), default=0.0)
                         for zr in z_null])
    times = np.asarray(times, dtype=np.float64)
    rows = [{"t_start": times[a], "t_end": times[b - 1], "sign": s, "mass": m,
             "p_value": float((1 + np.sum(null_max >= m - 1e-12)) / (1 + p_count))}
            for a, b, m, s in _runs(z_obs, threshold)]
    clusters = pd.DataFrame(rows, columns=["t_start", "t_end", "sign", "mass", "p_value"])
    return TimeClusters(times=times, difference=observed, z=z_obs, clusters=clusters,
                        null_max=null_max, conditions=(str(conditions[0]),
                                                       str(conditions[1])),
                        threshold=float(threshold))

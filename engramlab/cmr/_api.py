"""Public CMR entry points: :func:`log_likelihood` and :func:`simulate`.

Computation runs in float64 (``jax.enable_x64`` is switched on inside these calls only)
so that log-likelihoods agree with cymr's double-precision Cython code to ~1e-12.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, check_int
from ..errors import DataError, ValidationError
from ._data import RecallArrays, from_arrays, to_arrays
from ._params import VARIANTS, as_params

__all__ = ["log_likelihood", "simulate", "prepare", "Prepared", "make_loglik", "LoglikFunction"]


class Prepared:
    """Validated data ready for scoring: ``arrays``, ``recalls`` ``(n, L)``, ``sqrt_m``.

    ``pool_size`` (cymr variant): number of localist item units (cymr's
    ``config_loc_cmr(pool_size)``); defaults to ``max(item_index) + 1`` of the data.
    """

    def __init__(self, data: pd.DataFrame | RecallArrays, *, pool_size: int | None = None,
                 clean: bool = True):
        arrays = data if isinstance(data, RecallArrays) else to_arrays(data, clean=clean)
        self.arrays = arrays
        self.L = arrays.list_length
        if pool_size is None:
            pool_size = arrays.pool_size
        pool_size = check_int(pool_size, "pool_size", min_value=self.L)
        if pool_size < arrays.pool_size:
            raise ValidationError(f"pool_size: expected at least max(item_index) + 1 = "
                                  f"{arrays.pool_size}, got {pool_size}")
        self.pool_size = pool_size
        self.sqrt_m = float(np.sqrt(pool_size - self.L))
        self.recalls = np.asarray(arrays.recalls, dtype=np.int32)


def prepare(data: Any, *, pool_size: int | None = None, clean: bool = True) -> Prepared:
    """Validate ``data`` once (for repeated scoring, e.g. in a fit)."""
    if isinstance(data, Prepared):
        return data
    return Prepared(data, pool_size=pool_size, clean=clean)


def _theta(params: Any, variant: str) -> np.ndarray:
    p = as_params(params, variant)
    return np.array([getattr(p, n) for n in p.names()], dtype=np.float64)


def trial_logliks(data: Any, params: Any, *, variant: str = "jaxcmr",
                  pool_size: int | None = None) -> np.ndarray:
    """Log-likelihood of every list, ``(n_lists,)`` float64 (lists in data order)."""
    import jax
    import jax.numpy as jnp

    from ._model import trials_loglik

    variant = check_choice(variant, "variant", VARIANTS)
    prep = prepare(data, pool_size=pool_size)
    theta = _theta(params, variant)
    with jax.enable_x64(True):
        ll = trials_loglik(jnp.asarray(theta), jnp.asarray(prep.recalls),
                           jnp.asarray(prep.sqrt_m), variant=variant, L=prep.L)
        return np.asarray(ll)


def log_likelihood(data: Any, params: Any, *, variant: str = "jaxcmr",
                   per_subject: bool = False, pool_size: int | None = None) -> float | pd.Series:
    """Exact log-likelihood of free-recall data under CMR.

    ``log L = sum_lists [ sum_{j<n} log((1 - P_stop(j)) P(r_j | c_j)) + log P_stop(n) ]``
    (equations in :mod:`engramlab.cmr._model`); vmapped over lists, ``lax.scan`` over
    recall events, jitted, float64.

    **Arguments:**

    - ``data``: psifr long-format DataFrame (or :class:`RecallArrays`). Item identity is
      ``item_index`` when present, else ``item``. Intrusions and repeats are removed from
      each recall sequence before scoring (as cymr's ``prepare_lists(clean=True)``).
    - ``params``: a dict or the typed class of the variant (:class:`JaxcmrParams`,
      :class:`CymrParams`).
    - ``variant``: ``"jaxcmr"`` (power choice rule, exact) or ``"cymr"`` (exponential
      choice rule; each event probability clipped below at 1e-5 before the log, as cymr).
    - ``per_subject``: return a Series of log-likelihoods indexed by subject.
    - ``pool_size``: cymr variant only: number of localist pool units (default
      ``max(item_index) + 1``); matters only when ``Afc`` or ``Acf`` is non-zero.

    **Returns:** a float, or a ``pandas.Series`` named ``"logl"`` indexed by ``subject``.
    """
    prep = prepare(data, pool_size=pool_size)
    ll = trial_logliks(prep, params, variant=variant)
    if not per_subject:
        return float(ll.sum())
    s = pd.Series(ll, index=pd.Index(prep.arrays.subject, name="subject"))
    return s.groupby(level=0, sort=False).sum().rename("logl")


def _design(design: Any) -> tuple[RecallArrays, int]:
    """``design``: a DataFrame / RecallArrays (its study lists are re-used), or a dict
    ``{"list_length": L, "n_lists": n, "n_subjects": s}``."""
    if isinstance(design, pd.DataFrame):
        arr = to_arrays(design, name="design")
    elif isinstance(design, RecallArrays):
        arr = design
    elif isinstance(design, dict):
        unknown = set(design) - {"list_length", "n_lists", "n_subjects"}
        if unknown:
            raise ValidationError(f"design: unknown key(s) {sorted(unknown)}; expected "
                                  "list_length, n_lists, n_subjects")
        L = check_int(design.get("list_length"), "design['list_length']", min_value=1)
        n = check_int(design.get("n_lists", 1), "design['n_lists']", min_value=1)
        s = check_int(design.get("n_subjects", 1), "design['n_subjects']", min_value=1)
        subj = np.repeat(np.arange(1, s + 1), n)
        lst = np.tile(np.arange(1, n + 1), s)
        pres = np.tile(np.arange(L), (n * s, 1))
        arr = RecallArrays(subj, lst, pres, np.zeros((n * s, L), int))
    else:
        raise DataError(f"design: expected a DataFrame, RecallArrays or dict, got "
                        f"{type(design).__name__}")
    return arr, arr.list_length


def simulate(params: Any, design: Any, *, key: Any, variant: str = "jaxcmr",
             n_rep: int = 1, pool_size: int | None = None) -> pd.DataFrame:
    """Simulate free recall with CMR; returns a psifr long-format DataFrame.

    **Arguments:**

    - ``params``: dict or typed parameter class of ``variant``.
    - ``design``: a psifr DataFrame or :class:`RecallArrays` (its study lists are
      simulated; recalls in it are ignored), or ``{"list_length", "n_lists",
      "n_subjects"}``.
    - ``key``: a JAX PRNG key (required; same key, same sequences).
    - ``n_rep``: replications of every list (list numbers are renumbered per subject).
    - ``pool_size``: as in :func:`log_likelihood`.

    **Returns:** DataFrame with ``subject, list, trial_type, position, item,
    item_index``; sequences follow the model exactly (stop, then choice without repeats).
    """
    import jax
    import jax.numpy as jnp

    from ._model import trials_simulate

    variant = check_choice(variant, "variant", VARIANTS)
    n_rep = check_int(n_rep, "n_rep", min_value=1)
    arr, L = _design(design)
    if pool_size is None:
        pool_size = arr.pool_size
    pool_size = check_int(pool_size, "pool_size", min_value=max(L, arr.pool_size))
    theta = _theta(params, variant)
    try:
        keys = jax.random.split(key, len(arr.subject) * n_rep)
    except Exception as exc:
        raise ValidationError(f"key: expected a JAX PRNG key, got {key!r}") from exc
    with jax.enable_x64(True):
        rec = trials_simulate(jnp.asarray(theta), keys, jnp.asarray(np.sqrt(pool_size - L)),
                              variant=variant, L=L)
        rec = np.asarray(rec)
    subj = np.tile(arr.subject, n_rep)
    pres = np.tile(arr.pres_itemnos, (n_rep, 1))
    order = np.argsort(subj, kind="stable")
    subj, pres, rec = subj[order], pres[order], rec[order]
    lst = pd.Series(subj).groupby(subj).cumcount().to_numpy() + 1
    # compact the 0-padded rows (sampling keeps recalls contiguous already)
    return from_arrays(RecallArrays(subj, lst, pres, rec))


class LoglikFunction:
    """A differentiable, jittable log-likelihood of fixed data, for samplers and optimisers.

    Built by :func:`make_loglik`. Call it inside ``jax.enable_x64(True)`` (or with x64
    enabled globally, as NumPyro's ``numpyro.enable_x64()`` does).

    - ``names``: parameter names of the variant, in canonical order (``theta`` layout);
    - ``params_class``: the variant's typed parameter class (``BOUNDS``, ``VALID``);
    - ``subject`` ``(n_lists,)``: the subject of every list (data order);
    - ``per_list(theta)``: log-likelihood of every list, ``(n_lists,)``; ``theta`` is one
      parameter vector ``(n_par,)`` shared by all lists, or ``(n_lists, n_par)`` with one
      vector per list (hierarchical models give each list its subject's parameters).
    - ``theta(params)``: a parameter dict / typed class as a float64 vector ``(n_par,)``.
    """

    def __init__(self, prep: Prepared, variant: str):
        from ._params import params_class

        self.variant = variant
        self.params_class = params_class(variant)
        self.names = self.params_class.names()
        self.subject = np.asarray(prep.arrays.subject)
        self.n_lists = int(prep.recalls.shape[0])
        self._prep = prep

    def theta(self, params: Any) -> np.ndarray:
        return _theta(params, self.variant)

    def per_list(self, theta: Any) -> Any:
        import jax
        import jax.numpy as jnp

        from ._model import trial_logp

        rec = jnp.asarray(self._prep.recalls)
        sqrt_m = jnp.asarray(self._prep.sqrt_m, dtype=jnp.float64)
        theta = jnp.asarray(theta)

        def one(th, r):
            return jnp.sum(trial_logp(th, r, sqrt_m, variant=self.variant, L=self._prep.L))

        if theta.ndim == 1:
            return jax.vmap(lambda r: one(theta, r))(rec)
        return jax.vmap(one)(theta, rec)


def make_loglik(data: Any, *, variant: str = "jaxcmr",
                pool_size: int | None = None) -> LoglikFunction:
    """Validate ``data`` once and return its :class:`LoglikFunction` under ``variant``."""
    variant = check_choice(variant, "variant", VARIANTS)
    return LoglikFunction(prepare(data, pool_size=pool_size), variant)

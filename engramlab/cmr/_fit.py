"""Fitting CMR by maximum likelihood: differential evolution and gradients, Dask per subject.

- ``method="de"``: :func:`scipy.optimize.differential_evolution` with
  ``vectorized=True``: every generation's whole population is scored in one jitted call
  (``vmap`` over parameter vectors and over lists), as jaxcmr does.
- ``method="gradient"``: random points are scored in one vectorised call and L-BFGS-B
  (bounded to the box) runs from the best of them and the class defaults, in rounds
  until two runs agree, with exact gradients from ``jax.grad`` of the log-likelihood
  (float64). DE's best member is one start of the same search.

The objective is the negative log-likelihood (cymr: with its 1e-5 event clip).
:func:`fit_subjects` fits each subject separately on Dask (in-process ``LocalCluster`` by
default, or a scheduler address) with a progress bar; :func:`save_fits` writes the tidy
table to NetCDF.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import write_with
from .._progress import make_progress
from .._validation import check_choice, check_int
from ..errors import ConfigError, ConvergenceWarning, DivergenceError
from ._api import _theta, prepare
from ._variants import Variant, get_variant
from .inference.spec import FitSpec

__all__ = ["fit", "fit_subjects", "save_fits", "profile", "DEFAULT_FREE", "default_free"]


def default_free(variant: str | Variant) -> tuple[str, ...]:
    """Free parameters fitted by default for ``variant`` (the others keep their class
    defaults): the variant's ``free``, or every parameter that is not a switch."""
    return get_variant(variant).default_free()


class _DefaultFree(Mapping):
    """``DEFAULT_FREE[name]``: :func:`default_free` of every registered variant."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return default_free(name)

    def __iter__(self):
        from ._variants import available_variants

        return iter(available_variants())

    def __len__(self) -> int:
        from ._variants import available_variants

        return len(available_variants())


#: Free parameters fitted by default, by variant name (a live view of the registry).
DEFAULT_FREE: Mapping[str, tuple[str, ...]] = _DefaultFree()


#: Starts whose maximised log-likelihoods lie within this many log-likelihood units of
#: the best "agree" (``n_agree``).
AGREE_TOL = 0.1


class _NonFinite(Exception):
    def __init__(self, z: np.ndarray, value: float, grad: np.ndarray):
        self.z, self.value, self.grad = z, value, grad


class _Space:
    """The unit search coordinates ``u`` in ``[0, 1]`` of the free parameters:
    ``theta = lo + (hi - lo) u``. (A log scale for the wide boxes was tried: it gives
    half of ``choice_sensitivity``'s box to values below 0.01, a uniform-choice plateau
    on which runs and DE's population agree, and was dropped.)"""

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)

    def theta_np(self, u: np.ndarray) -> np.ndarray:
        """Free parameters at unit coordinates ``u`` in ``[0, 1]``."""
        return self.lo + (self.hi - self.lo) * u

    def unit_np(self, theta: np.ndarray) -> np.ndarray:
        return (theta - self.lo) / (self.hi - self.lo)

    def args(self):
        import jax.numpy as jnp

        return (jnp.asarray(self.lo), jnp.asarray(self.hi))


def fit(data: Any, *, variant: str | Variant = "jaxcmr", method: str = "de",
        free: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
        fixed: Mapping[str, float] | None = None, seed: int = 0, popsize: int = 15,
        maxiter: int | None = None, tol: float = 1e-3, n_starts: int = 4,
        max_rounds: int = 3, pool_size: int | None = None,
        warn: bool = True, items: Any = None, start: Any = None) -> pd.DataFrame:
    """Maximum-likelihood fit of CMR to ``data`` (all lists share one parameter set).

    **Arguments:**

    - ``data``: psifr long-format DataFrame (validated and cleaned as in
      :func:`log_likelihood`).
    - ``variant``: a registered variant name (``"jaxcmr"``, ``"paper"``, ``"cymr"``, ...;
      see :func:`~engramlab.cmr.available_variants`) or a :class:`~engramlab.cmr.Variant`.
    - ``method``: ``"de"`` (differential evolution over the box, vectorised population,
      its best member then one start of the multi-start L-BFGS search below) or
      ``"gradient"`` (the multi-start L-BFGS search, exact ``jax.grad`` gradients,
      float64, the class defaults one start).
    - ``free``: names (bounds from the parameter class's ``BOUNDS``) or a dict
      ``name -> (lo, hi)``; default :data:`DEFAULT_FREE`.
    - ``fixed``: values of non-free parameters (others keep the class defaults).
    - ``seed``: seeds DE's population / the gradient starts.
    - ``popsize``, ``tol``: DE's population size multiplier and tolerance;
      ``maxiter``: DE's generations (default 200) or each L-BFGS run's iteration cap
      (default 1000).
    - ``n_starts``: L-BFGS runs per round; ``max_rounds``: rounds run until two starts
      agree.
    - ``warn``: ``False``: no :class:`~engramlab.errors.ConvergenceWarning` (the
      ``converged`` column still says it; :func:`fit_subjects` warns once for all).
    - ``pool_size``, ``items``: as in :func:`~engramlab.cmr.log_likelihood` (``items``:
      the :class:`~engramlab.cmr.ItemFeatures` a semantic or category variant reads).
    - ``start``: an extra L-BFGS start (a dict, a typed parameter set or a one-row fit
      table; free parameters it does not name keep the class defaults; values outside the
      box are moved onto it). Fitting a model that contains another as a special case,
      start it from the smaller model's estimate (e.g. a semantic variant from the base
      fit with ``semantic_scale`` small): the larger fit can then only end at least as high.

    **The gradient search.** Every free parameter is searched in a unit coordinate
    ``u`` in ``[0, 1]``, ``theta = lo + (hi - lo) u``, by L-BFGS-B with the box as its
    bounds (a sigmoid transform flattens the gradient near the bounds, where estimates
    often lie, and runs stopped there). ``max(64, 16 n_starts)`` points, uniform in
    ``[0.02, 0.98]``, and the class defaults are scored in one vectorised call; L-BFGS
    runs from the best ``n_starts``. A round
    ends the search when at least two runs end within ``AGREE_TOL`` (0.1) log-likelihood
    units of the best and the best run's L-BFGS converged; otherwise another round
    starts, half of it near the best estimate so far (normal steps of 0.05 in unit
    coordinates) and half from fresh screened points, up to ``max_rounds``. A run whose
    objective or gradient becomes non-finite is abandoned (never turned into a
    constant): if every run is, the fit raises
    :class:`~engramlab.errors.DivergenceError` naming the parameters.

    **Returns:** a one-row DataFrame: every parameter, ``logl`` (maximised
    log-likelihood), ``n_lists``, ``k`` (free parameters), ``method``, ``variant``,
    ``n_evals``, ``seconds``, and what the fit can tell:

    - ``converged``: the best run's L-BFGS converged and another start agrees;
      ``n_agree``: starts within 0.1 log L of the best;
      ``n_runs``, ``n_failed``: L-BFGS runs made and abandoned (non-finite);
    - ``at_bound``: free parameters within ``1e-3`` of their box's width of a bound;
      ``flat``: free parameters along which the log-likelihood, the others held at the
      estimate, changes by less than 0.5 over the whole box (then the profile likelihood
      is flat too, so the data do not constrain it; see :func:`profile`). Both are
      comma-separated names ("" when none).

    A fit that did not converge warns (:class:`~engramlab.errors.ConvergenceWarning`).
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import differential_evolution

    from ._model import trials_loglik

    v = get_variant(variant)
    method = check_choice(method, "method", ("de", "gradient"))
    seed = check_int(seed, "seed", min_value=0)
    popsize = check_int(popsize, "popsize", min_value=2)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", min_value=1)
    n_starts = check_int(n_starts, "n_starts", min_value=1)
    max_rounds = check_int(max_rounds, "max_rounds", min_value=1)
    spec = FitSpec.resolve(v, free, fixed)
    fnames, lo, hi, theta0 = list(spec.free), spec.lo, spec.hi, spec.base
    prep = prepare(data, pool_size=pool_size, variant=v, items=items)
    names = v.names()
    idx = np.array([names.index(n) for n in fnames])
    L = prep.L
    n_lists = int(prep.recalls.shape[0])
    space = _Space(lo, hi)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        base = jnp.asarray(theta0)
        jidx = jnp.asarray(idx)
        opt = _Optimizer(space, base, jidx, rec, feats, sqrt_m, v, L, fnames,
                         maxiter=maxiter or 1000)

        def score(u: np.ndarray) -> np.ndarray:
            th = jnp.tile(base, (u.shape[0], 1)).at[:, jidx].set(
                jnp.asarray(space.theta_np(u)))
            opt.n_evals += u.shape[0]
            return _population(th, rec, feats, sqrt_m, variant=v, L=L)

        first = [np.clip(space.unit_np(theta0[idx]), 0.02, 0.98)]  # the class defaults
        extra = [] if start is None else [_start_unit(start, v, idx, space)]
        if method == "de":
            def objective(x: np.ndarray) -> np.ndarray:
                x2 = np.atleast_2d(np.asarray(x).T)  # (S, N) unit coordinates
                nll = -score(x2)
                nll[~np.isfinite(nll)] = 1e12  # DE only compares values (no gradient)
                return nll if np.ndim(x) == 2 else nll[0]

            res = differential_evolution(objective, [(0.0, 1.0)] * len(lo),
                                         vectorized=True, updating="deferred",
                                         popsize=popsize, maxiter=maxiter or 200, tol=tol,
                                         seed=rng, polish=False)
            # DE can settle on a plateau (e.g. every drift rate near 0: recall ignores
            # context) where its population's values agree: its best is polished by
            # L-BFGS and checked by the same multi-start search as method="gradient"
            first = [np.clip(np.asarray(res.x), 0.0, 1.0)]
        first = first + extra
        n_agree, converged = _multistart(opt, score, rng, first, n_starts=n_starts,
                                         max_rounds=max_rounds, n_lists=n_lists)
        u_best = opt.best_u()
        theta = np.asarray(base.at[jidx].set(jnp.asarray(space.theta_np(u_best))))
        logl = float(jnp.sum(trials_loglik(jnp.asarray(theta), rec, feats, sqrt_m, variant=v,
                                           L=L)))
        at_bound, flat = _flags(theta, idx, fnames, lo, hi, space, logl, score)
    if not converged and warn:
        warnings.warn(
            f"fit ({v.name}, {method}): not converged: "
            + f"{n_agree} of {len(opt.runs)} L-BFGS runs reached the best log-likelihood "
              f"{logl:.3f} (within {AGREE_TOL}); best run: {opt.best_run().message}"
            + "; try more n_starts / max_rounds, a larger maxiter, or the other method",
            ConvergenceWarning, stacklevel=2)
    row: dict[str, Any] = dict(zip(names, theta.tolist(), strict=True))
    row.update(logl=logl, n_lists=n_lists, k=len(fnames), method=method, variant=v.name,
               n_evals=opt.n_evals, seconds=time.perf_counter() - t0,
               converged=converged, n_agree=int(n_agree), n_runs=len(opt.runs),
               n_failed=opt.n_failed, at_bound=",".join(at_bound), flat=",".join(flat))
    return pd.DataFrame([row])


def _start_unit(start: Any, v: Variant, idx: np.ndarray, space: _Space) -> np.ndarray:
    """``start`` (dict / typed parameters / one-row fit table) as unit coordinates of the
    free parameters, clipped onto the box."""
    if isinstance(start, pd.DataFrame):
        if len(start) != 1:
            raise ConfigError(f"start: expected a one-row fit table, got {len(start)} rows")
        start = {n: float(start.iloc[0][n]) for n in v.names() if n in start.columns}
    if isinstance(start, Mapping):
        unknown = sorted(set(start) - set(v.names()))
        if unknown:
            raise ConfigError(f"start: unknown parameter(s) {unknown} for variant "
                              f"{v.name!r}; its parameters: {list(v.names())}")
        start = {**v.params().to_dict(), **{k: float(x) for k, x in start.items()}}
    theta = _theta(start, v)
    return np.clip(space.unit_np(theta[idx]), 0.0, 1.0)


def _multistart(opt: _Optimizer, score, rng: np.random.Generator, first: list[np.ndarray],
                *, n_starts: int, max_rounds: int, n_lists: int) -> tuple[int, bool]:
    """Rounds of ``n_starts`` L-BFGS runs until two agree (see :func:`fit`); the first
    round starts from ``first`` and the best screened points. Returns
    ``(n_agree, converged)``; raises ``DivergenceError`` when every run was abandoned."""
    n_par = len(opt.fnames)
    n_agree, converged = 0, False
    for rnd in range(max_rounds):
        u = rng.uniform(0.02, 0.98, size=(max(64, 16 * n_starts), n_par))
        n_new = n_starts
        if rnd == 0:
            for z in first:
                opt.run(z)
            n_new = max(n_starts - len(first), 1)
        elif opt.runs:  # half the round restarts near the best estimate
            n_near = (n_starts + 1) // 2
            near = opt.best_u() + rng.normal(0.0, 0.05, size=(n_near, n_par))
            for z in np.clip(near, 0.0, 1.0):
                opt.run(z)
            n_new = n_starts - n_near
        ll = score(u)
        order = [i for i in np.argsort(-np.where(np.isfinite(ll), ll, -np.inf),
                                       kind="stable") if np.isfinite(ll[i])]
        for i in order[:n_new]:
            opt.run(u[i])
        if not opt.runs:
            continue
        n_agree = opt.n_agree(n_lists)
        converged = bool(opt.best_run().success) and (n_agree >= 2 or n_starts == 1
                                                      and max_rounds == 1)
        if converged:
            break
    if not opt.runs:
        raise opt.divergence()
    return n_agree, converged


def _flags(theta, idx, fnames, lo, hi, space, logl, score):
    """``(at_bound, flat)`` names: within 1e-3 of the width of a bound; log L changes by
    < 0.5 over the box along the parameter (others at the estimate; 33 points, the
    box's ends and the estimate included)."""
    x = theta[idx]
    at_bound = [n for n, xi, a, b in zip(fnames, x, lo, hi, strict=True)
                if min(xi - a, b - xi) <= 1e-3 * (b - a)]
    grid = np.linspace(0.0, 1.0, 33)
    u_hat = np.clip(space.unit_np(x), 0.0, 1.0)
    u = np.repeat(u_hat[None], len(fnames) * len(grid), axis=0)
    for j in range(len(fnames)):
        u[j * len(grid):(j + 1) * len(grid), j] = grid
    ll = score(u).reshape(len(fnames), len(grid))
    ll = np.where(np.isfinite(ll), ll, -np.inf)
    span = np.maximum(ll.max(axis=1), logl) - ll.min(axis=1)
    flat = [n for n, sj in zip(fnames, span, strict=True) if sj < 0.5]
    return at_bound, flat


class _Optimizer:
    """L-BFGS-B runs (box ``[0, 1]`` in unit coordinates) on the mean negative
    log-likelihood per list;
    keeps every finished run, abandons a run whose value or gradient turns non-finite."""

    def __init__(self, space, base, jidx, rec, feats, sqrt_m, variant, L, fnames, *,
                 maxiter: int):
        import jax.numpy as jnp

        self.space, self.fnames, self.maxiter = space, fnames, maxiter
        self.args = (base, jidx, *space.args(), rec, feats, sqrt_m)
        self.variant, self.L = variant, L
        self.runs: list[Any] = []
        self.failures: list[_NonFinite] = []
        self.n_evals = 0
        self._jnp = jnp

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    def fun(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        self.n_evals += 1
        val, g = _nll_grad(self._jnp.asarray(z), *self.args, variant=self.variant, L=self.L)
        val, g = float(val), np.asarray(g, dtype=np.float64)
        if not (np.isfinite(val) and np.isfinite(g).all()):
            raise _NonFinite(np.array(z), val, g)
        return val, g

    def run(self, z0: np.ndarray) -> None:
        from scipy.optimize import minimize

        try:
            r = minimize(self.fun, z0, jac=True, method="L-BFGS-B",
                         bounds=[(0.0, 1.0)] * len(z0),
                         options={"maxiter": self.maxiter, "maxfun": 4 * self.maxiter})
        except _NonFinite as e:
            self.failures.append(e)
            return
        self.runs.append(r)

    def best_run(self):
        return min(self.runs, key=lambda r: r.fun)

    def best_u(self) -> np.ndarray:
        return np.clip(np.asarray(self.best_run().x), 0.0, 1.0)

    def n_agree(self, n_lists: int) -> int:
        best = self.best_run().fun
        return sum((r.fun - best) * n_lists <= AGREE_TOL for r in self.runs)

    def divergence(self) -> DivergenceError:
        e = self.failures[-1] if self.failures else None
        if e is None:
            return DivergenceError("fit: no start with a finite log-likelihood in the box")
        theta = self.space.theta_np(np.clip(e.z, 0.0, 1.0))
        bad = [n for n, gi in zip(self.fnames, e.grad, strict=True) if not np.isfinite(gi)]
        where = ", ".join(f"{n}={t:.6g}" for n, t in zip(self.fnames, theta, strict=True))
        what = (f"the log-likelihood is {e.value}" if not np.isfinite(e.value)
                else f"the gradient with respect to {bad} is not finite")
        return DivergenceError(f"fit: every L-BFGS run ({self.n_failed}) was abandoned: "
                               f"{what} at {where}")


#: Most (parameter vector, list) pairs scored in one call (bounds memory: each pair
#: carries an MFC and an MCF of ``L (L + 2)`` float64 values).
MAX_PAIRS = 32768


def _population(thetas, rec, feats, sqrt_m, *, variant, L) -> np.ndarray:
    """Total log-likelihood per row of ``thetas`` ``(S, P)``, in equal-size chunks of the
    population (padded, so one compiled shape serves every generation)."""
    import jax.numpy as jnp

    from ._model import population_loglik

    S, n = thetas.shape[0], rec.shape[0]
    chunk = max(1, min(S, MAX_PAIRS // max(n, 1)))
    pad = (-S) % chunk
    th = jnp.concatenate([thetas, jnp.repeat(thetas[-1:], pad, axis=0)]) if pad else thetas
    out = [np.asarray(population_loglik(th[i:i + chunk], rec, feats, sqrt_m, variant=variant,
                                        L=L))
           for i in range(0, S + pad, chunk)]
    return np.concatenate(out)[:S].copy()


def _nll(z, base, idx, lo, hi, rec, feats, sqrt_m, *, variant, L):
    """Mean negative log-likelihood per list at the free parameters ``lo + (hi - lo) z``,
    unit coordinates ``z`` in ``[0, 1]`` (see :class:`_Space`)."""
    import jax.numpy as jnp

    from ._model import trials_loglik

    th = base.at[idx].set(lo + (hi - lo) * z)
    return -jnp.mean(trials_loglik(th, rec, feats, sqrt_m, variant=variant, L=L))


def _make_nll_grad():
    import jax

    return jax.jit(jax.value_and_grad(_nll), static_argnames=("variant", "L"))


_NLL_GRAD = None


def _nll_grad(*args, **kwargs):
    global _NLL_GRAD
    if _NLL_GRAD is None:
        _NLL_GRAD = _make_nll_grad()
    return _NLL_GRAD(*args, **kwargs)


def profile(data: Any, params: Any, name: str, *, variant: str | Variant = "jaxcmr",
            free: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
            fixed: Mapping[str, float] | None = None, n_points: int = 21,
            pool_size: int | None = None, items: Any = None) -> pd.DataFrame:
    """Profile log-likelihood of one free parameter: at each of ``n_points`` values of
    ``name`` over its box, the maximum over the other free parameters.

    ``PL(x) = max_{theta_-} log L(x, theta_-)``. The grid is linear over the box, plus
    the estimate and points 0.003, 0.01 and 0.03 of the box's width either side. Each
    point's L-BFGS search starts from its neighbour's optimum (walking out from the
    estimate in both directions) and from the estimate itself; the better is kept.

    **Arguments:**

    - ``data``: psifr DataFrame (as :func:`fit`).
    - ``params``: the estimate: a one-row :func:`fit` table, a dict or a typed parameter
      class (non-free parameters keep these values unless ``fixed`` says otherwise).
    - ``name``: the profiled parameter; one of ``free``.
    - ``free``, ``fixed``: as in :func:`fit` (default: the variant's default free set).
    - ``n_points``: grid points over the box (at least 3).

    **Returns:** a DataFrame with one row per grid value: ``name`` (the value), ``logl``
    (the profile log-likelihood), ``delta`` (``logl`` minus its maximum) and the other
    free parameters' maximising values. ``attrs``: ``parameter``, ``estimate``,
    ``logl_max``, ``ci95`` (``(lo, hi)``: where ``delta >= -1.92``, the
    likelihood-ratio interval, ``chi^2_1(0.95) / 2``, its ends interpolated linearly
    between grid points; an end at the box's bound means the interval is open there),
    ``flat`` (the profile changes by less than 0.5 over the box: the data do not
    constrain ``name``). Plot with :func:`engramlab.plots.cmr.plot_profile`.
    """
    import jax
    import jax.numpy as jnp

    v = get_variant(variant)
    n_points = check_int(n_points, "n_points", min_value=3)
    if isinstance(params, pd.DataFrame):
        if len(params) != 1:
            raise ConfigError(f"params: expected a one-row fit table, got {len(params)} rows")
        params = {n: params.iloc[0][n] for n in v.names() if n in params.columns}
    theta_hat = np.asarray(_theta(params, v), dtype=np.float64)
    spec = FitSpec.resolve(v, free, fixed)
    fnames, lo, hi, theta0 = list(spec.free), spec.lo, spec.hi, spec.base
    if name not in fnames:
        raise ConfigError(f"name: expected one of the free parameters {fnames}, got {name!r}")
    names = list(v.names())
    for k in fixed or {}:  # validated by FitSpec.resolve; they override ``params``
        theta_hat[names.index(k)] = theta0[names.index(k)]
    j = fnames.index(name)
    others = [n for n in fnames if n != name]
    sp_all = _Space(lo, hi)
    grid_u = np.linspace(0.0, 1.0, n_points)
    x_hat = theta_hat[names.index(name)]
    u_hat = float(np.clip(sp_all.unit_np(theta_hat[[names.index(n) for n in fnames]])[j],
                          0.0, 1.0))
    # the estimate's neighbourhood at finer steps (a profile is often narrow on its box)
    local = u_hat + np.array([-0.03, -0.01, -0.003, 0.0, 0.003, 0.01, 0.03])
    grid_u = np.unique(np.concatenate([grid_u, local[(local >= 0) & (local <= 1)]]))
    grid = _Space(lo[j:j + 1], hi[j:j + 1]).theta_np(grid_u[:, None])[:, 0]
    prep = prepare(data, pool_size=pool_size, variant=v, items=items)
    idx_o = np.array([names.index(n) for n in others], dtype=int)
    keep = [i for i, n in enumerate(fnames) if n != name]
    space = _Space(lo[keep], hi[keep])
    u_start = np.clip(space.unit_np(theta_hat[idx_o]), 0.0, 1.0)
    rows: dict[int, dict[str, float]] = {}
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        jidx = jnp.asarray(idx_o)

        def best_at(x: float, starts: list[np.ndarray]) -> tuple[float, np.ndarray]:
            base = jnp.asarray(theta_hat).at[names.index(name)].set(x)
            if not others:
                from ._model import trials_loglik

                ll = float(jnp.sum(trials_loglik(base, rec, feats, sqrt_m, variant=v,
                                                 L=prep.L)))
                return ll, np.zeros(0)
            opt = _Optimizer(space, base, jidx, rec, feats, sqrt_m, v, prep.L, others,
                             maxiter=1000)
            for z in starts:
                opt.run(z)
            if not opt.runs:
                raise opt.divergence()
            r = opt.best_run()
            return -float(r.fun) * prep.recalls.shape[0], opt.best_u()

        i0 = int(np.argmin(np.abs(grid_u - u_hat)))
        ll0, u0 = best_at(grid[i0], [u_start])
        rows[i0] = {"logl": ll0, "u": u0}
        for direction in (1, -1):
            prev = u0
            i = i0 + direction
            while 0 <= i < len(grid):
                ll, prev = best_at(grid[i], [prev, u_start])
                rows[i] = {"logl": ll, "u": prev}
                i += direction
    out = []
    for i in sorted(rows):
        row = {name: float(grid[i]), "logl": rows[i]["logl"]}
        if others:
            row.update(zip(others, space.theta_np(rows[i]["u"]).tolist(), strict=True))
        out.append(row)
    table = pd.DataFrame(out)
    table.insert(2, "delta", table["logl"] - table["logl"].max())
    table.attrs.update(parameter=name, estimate=float(x_hat),
                       logl_max=float(table["logl"].max()),
                       ci95=_lr_interval(table[name].to_numpy(), table["delta"].to_numpy()),
                       flat=bool(table["delta"].min() > -0.5), variant=v.name)
    return table


def _lr_interval(x: np.ndarray, delta: np.ndarray, cut: float = 1.92) -> tuple[float, float]:
    """Ends of ``{x: delta(x) >= -cut}`` around the maximum, linearly interpolated."""
    i = int(np.argmax(delta))
    ends = []
    for step in (-1, 1):
        j = i
        while 0 <= j + step < len(x) and delta[j + step] >= -cut:
            j += step
        k = j + step
        if 0 <= k < len(x):  # crossing between j (inside) and k (outside)
            w = (delta[j] + cut) / (delta[j] - delta[k])
            ends.append(float(x[j] + w * (x[k] - x[j])))
        else:
            ends.append(float(x[j]))
    return ends[0], ends[1]


def _fit_one(subject: Any, sub_data: pd.DataFrame, kwargs: dict) -> pd.DataFrame:
    st = kwargs.get("start")
    if isinstance(st, pd.DataFrame) and "subject" in st.columns:  # one start per subject
        rows = st[st["subject"] == subject]
        kwargs = {**kwargs, "start": rows.drop(columns="subject") if len(rows) else None}
    out = fit(sub_data, **{**kwargs, "warn": False})
    out.insert(0, "subject", subject)
    return out


def fit_subjects(data: pd.DataFrame, *, scheduler: str | None = None, workers: int = 1,
                 quiet: bool | None = None, **kwargs: Any) -> pd.DataFrame:
    """Fit each subject separately, in parallel on Dask, with a progress bar.

    **Arguments:**

    - ``data``: psifr long-format DataFrame with several subjects.
    - ``scheduler``: ``None`` starts an in-process ``LocalCluster`` with ``workers``
      threads (threads share JAX's compilation cache); or a scheduler address
      ``"tcp://host:port"`` of a running cluster.
    - ``quiet``: no progress bar (default: ``ENGRAMLAB_QUIET``).
    - ``**kwargs``: passed to :func:`fit` (``variant``, ``method``, ``free``, ...);
      ``start`` may be a fit table with a ``subject`` column (e.g. another model's
      :func:`fit_subjects` table): each subject starts from its own row.

    **Returns:** the tidy table: one row per subject (``subject`` first), as :func:`fit`.
    """
    from .._scheduler import dask_client, run_tasks
    from ._data import _check_frame

    _check_frame(data, "data")
    workers = check_int(workers, "workers", min_value=1, max_value=1024)
    subjects = list(pd.unique(data["subject"]))
    rows = []
    with dask_client(scheduler, workers) as client, make_progress(quiet) as progress:
        task = progress.add_task("fitting CMR per subject", total=len(subjects))

        def done(_s, row):
            rows.append(row)
            progress.advance(task)

        run_tasks(client, _fit_one, ((s, (s, data[data["subject"] == s], kwargs))
                                     for s in subjects), done)
    table = pd.concat(rows, ignore_index=True)
    order = {s: i for i, s in enumerate(subjects)}
    table = table.sort_values("subject", key=lambda c: c.map(order)).reset_index(drop=True)
    bad = table.loc[~table["converged"].astype(bool), "subject"].tolist()
    if bad and kwargs.get("warn", True):
        warnings.warn(f"fit_subjects: {len(bad)} of {len(table)} fits did not converge "
                      f"(subjects {bad[:10]}{' ...' if len(bad) > 10 else ''}); they are "
                      "kept, flagged in the 'converged' column", ConvergenceWarning,
                      stacklevel=2)
    return table


def save_fits(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a fit table to NetCDF (atomically): one variable per column, dim ``fit``."""
    import xarray as xr

    ds = xr.Dataset.from_dataframe(table.reset_index(drop=True).rename_axis("fit"))
    for c in ("method", "variant"):
        if c in ds:
            ds[c] = ds[c].astype(str)
    if "subject" in ds and ds["subject"].dtype == object:
        ds["subject"] = ds["subject"].astype(str)
    return write_with(path, lambda p: ds.to_netcdf(p, engine="h5netcdf"))

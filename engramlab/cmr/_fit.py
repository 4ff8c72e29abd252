"""Fitting CMR by maximum likelihood: differential evolution and gradients, Dask per subject.

- ``method="de"``: :func:`scipy.optimize.differential_evolution` with
  ``vectorized=True``: every generation's whole population is scored in one jitted call
  (``vmap`` over parameter vectors and over lists), as jaxcmr does.
- ``method="gradient"``: ``16 n_starts`` random points are scored in one vectorised call
  and L-BFGS runs from the best ``n_starts`` of them, on the unbounded transform
  ``theta = lo + (hi - lo) sigmoid(z)``, with exact gradients from ``jax.grad`` of the
  log-likelihood (float64).

The objective is the negative log-likelihood (cymr: with its 1e-5 event clip).
:func:`fit_subjects` fits each subject separately on Dask (in-process ``LocalCluster`` by
default, or a scheduler address) with a progress bar; :func:`save_fits` writes the tidy
table to NetCDF.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import write_with
from .._progress import make_progress
from .._validation import check_choice, check_int
from ..errors import ConfigError
from ._api import prepare
from ._variants import Variant, get_variant

__all__ = ["fit", "fit_subjects", "save_fits", "DEFAULT_FREE", "default_free"]


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


def _spec(variant: Variant, free: Any, fixed: Any) -> tuple[list[str], np.ndarray,
                                                              np.ndarray, np.ndarray]:
    """Resolve ``free`` / ``fixed`` into (free names, bounds lo, hi, base theta)."""
    cls = variant.params
    names = cls.names()
    if free is None:
        free = variant.default_free()
    if isinstance(free, Mapping):
        free_b = {k: v for k, v in free.items()}
    elif isinstance(free, Sequence) and not isinstance(free, str) and all(
            isinstance(k, str) for k in free):
        free_b = {k: cls.BOUNDS.get(k, (0.0, 1.0)) for k in free}
    else:
        raise ConfigError(f"free: expected a list of names or a dict name -> (lo, hi), "
                          f"got {free!r:.120}")
    unknown = sorted(map(str, set(free_b) - set(names)))
    if unknown:
        raise ConfigError(f"free: unknown parameter(s) {unknown} for variant "
                          f"{variant.name!r}; expected names from {list(names)}")
    if not free_b:
        raise ConfigError("free: expected at least one free parameter")
    unread = sorted(set(free_b) - variant.reads() - set(cls.FLAGS))
    if unread:
        raise ConfigError(f"free: parameter(s) {unread} are read by no component of variant "
                          f"{variant.name!r}: fitting them would not change the likelihood "
                          f"but would count in k; parameters it reads: "
                          f"{sorted(variant.reads())}")
    flags = sorted(set(free_b) & set(cls.FLAGS))
    if flags:
        raise ConfigError(f"free: {flags} are switches (0/1), not fittable; set them in "
                          "fixed")
    for k, b in list(free_b.items()):
        try:
            b = tuple(float(x) for x in b)
        except (TypeError, ValueError):
            raise ConfigError(f"free[{k!r}]: expected bounds (lo, hi), got {b!r:.80}") from None
        free_b[k] = b
        if len(b) != 2 or not (np.isfinite(b).all() and b[0] < b[1]):
            raise ConfigError(f"free[{k!r}]: expected finite bounds (lo, hi) with lo < hi, "
                              f"got {b}")
        vlo, vhi = cls.VALID[k]
        if b[0] < vlo or b[1] > vhi:
            raise ConfigError(f"free[{k!r}]: bounds {b} leave the valid range "
                              f"[{vlo:g}, {vhi:g}]")
    if fixed is not None and not isinstance(fixed, Mapping):
        raise ConfigError(f"fixed: expected a mapping name -> value, got "
                          f"{type(fixed).__name__} {fixed!r:.80}")
    fixed = dict(fixed or {})
    both = sorted(set(fixed) & set(free_b))
    if both:
        raise ConfigError(f"fixed: parameter(s) {both} are also free")
    base = cls.from_mapping({**cls().to_dict(), **fixed}, name="fixed")  # validates
    theta0 = np.array([getattr(base, n) for n in names], dtype=np.float64)
    fnames = [n for n in names if n in free_b]
    lo = np.array([free_b[n][0] for n in fnames], dtype=np.float64)
    hi = np.array([free_b[n][1] for n in fnames], dtype=np.float64)
    return fnames, lo, hi, theta0


def fit(data: Any, *, variant: str | Variant = "jaxcmr", method: str = "de",
        free: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
        fixed: Mapping[str, float] | None = None, seed: int = 0, popsize: int = 15,
        maxiter: int = 200, tol: float = 1e-3, n_starts: int = 4,
        pool_size: int | None = None) -> pd.DataFrame:
    """Maximum-likelihood fit of CMR to ``data`` (all lists share one parameter set).

    **Arguments:**

    - ``data``: psifr long-format DataFrame (validated and cleaned as in
      :func:`log_likelihood`).
    - ``variant``: a registered variant name (``"jaxcmr"``, ``"paper"``, ``"cymr"``, ...;
      see :func:`~engramlab.cmr.available_variants`) or a :class:`~engramlab.cmr.Variant`.
    - ``method``: ``"de"`` (differential evolution, vectorised population) or
      ``"gradient"`` (``n_starts`` L-BFGS runs on a sigmoid transform, exact ``jax.grad``).
    - ``free``: names (bounds from the parameter class's ``BOUNDS``) or a dict
      ``name -> (lo, hi)``; default :data:`DEFAULT_FREE`.
    - ``fixed``: values of non-free parameters (others keep the class defaults).
    - ``seed``: seeds DE's population / the gradient starts.
    - ``popsize``, ``maxiter``, ``tol``: passed to ``differential_evolution`` (``maxiter``
      is also the L-BFGS iteration cap).

    **Returns:** a one-row DataFrame: every parameter, ``logl`` (maximised log-likelihood),
    ``n_lists``, ``k`` (free parameters), ``method``, ``variant``, ``n_evals``,
    ``seconds``.
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import differential_evolution, minimize

    from ._model import trials_loglik

    v = get_variant(variant)
    method = check_choice(method, "method", ("de", "gradient"))
    seed = check_int(seed, "seed", min_value=0)
    popsize = check_int(popsize, "popsize", min_value=2)
    maxiter = check_int(maxiter, "maxiter", min_value=1)
    n_starts = check_int(n_starts, "n_starts", min_value=1)
    fnames, lo, hi, theta0 = _spec(v, free, fixed)
    prep = prepare(data, pool_size=pool_size, variant=v)
    names = v.names()
    idx = np.array([names.index(n) for n in fnames])
    L = prep.L
    t0 = time.perf_counter()
    n_evals = 0
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        base = jnp.asarray(theta0)
        jidx = jnp.asarray(idx)
        if method == "de":
            def objective(x: np.ndarray) -> np.ndarray:
                nonlocal n_evals
                x2 = np.atleast_2d(np.asarray(x).T)  # (S, N)
                thetas = jnp.tile(base, (x2.shape[0], 1)).at[:, jidx].set(jnp.asarray(x2))
                ll = _population(thetas, rec, feats, sqrt_m, variant=v, L=L)
                n_evals += x2.shape[0]
                nll = -ll
                nll[~np.isfinite(nll)] = 1e12
                return nll if np.ndim(x) == 2 else nll[0]

            res = differential_evolution(objective, list(zip(lo, hi, strict=True)),
                                         vectorized=True, updating="deferred",
                                         popsize=popsize, maxiter=maxiter, tol=tol,
                                         seed=np.random.default_rng(seed), polish=False)
            best = np.asarray(res.x)
        else:
            jlo, jhi = jnp.asarray(lo), jnp.asarray(hi)

            def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
                nonlocal n_evals
                n_evals += 1
                val, g = _nll_grad(jnp.asarray(z), base, jidx, jlo, jhi, rec, feats, sqrt_m,
                                   variant=v, L=L)
                val, g = float(val), np.asarray(g, dtype=np.float64)
                if not (np.isfinite(val) and np.isfinite(g).all()):
                    return 1e12, np.zeros_like(z)
                return val, g

            # screen 16 random points per start in one vectorised call; start from the
            # best finite ones (random points can have P(stop) = 1 and log L = -inf)
            rng = np.random.default_rng(seed)
            u = rng.uniform(0.02, 0.98, size=(16 * n_starts, len(lo)))
            cand = lo + (hi - lo) * u
            thetas = jnp.tile(base, (cand.shape[0], 1)).at[:, jidx].set(jnp.asarray(cand))
            screen = _population(thetas, rec, feats, sqrt_m, variant=v, L=L)
            screen[~np.isfinite(screen)] = -np.inf
            n_evals += cand.shape[0]
            best, best_v = None, np.inf
            for i in np.argsort(-screen, kind="stable")[:n_starts]:
                z0 = np.log(u[i]) - np.log1p(-u[i])
                r = minimize(fun, z0, jac=True, method="L-BFGS-B",
                             options={"maxiter": maxiter})
                if r.fun < best_v:
                    best_v, best = r.fun, r.x
            best = lo + (hi - lo) / (1.0 + np.exp(-np.asarray(best)))
        theta = np.asarray(base.at[jidx].set(jnp.asarray(best)))
        logl = float(jnp.sum(trials_loglik(jnp.asarray(theta), rec, feats, sqrt_m, variant=v,
                                           L=L)))
    row: dict[str, Any] = dict(zip(names, theta.tolist(), strict=True))
    row.update(logl=logl, n_lists=int(prep.recalls.shape[0]), k=len(fnames), method=method,
               variant=v.name, n_evals=n_evals, seconds=time.perf_counter() - t0)
    return pd.DataFrame([row])


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
    """Mean negative log-likelihood per list at ``theta = lo + (hi - lo) sigmoid(z)``."""
    import jax
    import jax.numpy as jnp

    from ._model import trials_loglik

    th = base.at[idx].set(lo + (hi - lo) * jax.nn.sigmoid(z))
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


def _fit_one(subject: Any, sub_data: pd.DataFrame, kwargs: dict) -> pd.DataFrame:
    out = fit(sub_data, **kwargs)
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
    - ``**kwargs``: passed to :func:`fit` (``variant``, ``method``, ``free``, ...).

    **Returns:** the tidy table: one row per subject (``subject`` first), as :func:`fit`.
    """
    from distributed import Client, LocalCluster, as_completed

    from ._data import _check_frame

    _check_frame(data, "data")
    workers = check_int(workers, "workers", min_value=1)
    subjects = list(pd.unique(data["subject"]))
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               # ":0": a free port (the default 8787 may be taken)
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        from .._scheduler import check_scheduler_address

        client = Client(check_scheduler_address(scheduler, "scheduler"), timeout="30s")
    rows = []
    try:
        futures = [client.submit(_fit_one, s, data[data["subject"] == s], kwargs, pure=False)
                   for s in subjects]
        with make_progress(quiet) as progress:
            task = progress.add_task("fitting CMR per subject", total=len(futures))
            try:
                for fut in as_completed(futures):
                    rows.append(fut.result())
                    progress.advance(task)
            except BaseException:
                client.cancel(futures)
                raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    table = pd.concat(rows, ignore_index=True)
    order = {s: i for i, s in enumerate(subjects)}
    return table.sort_values("subject", key=lambda c: c.map(order)).reset_index(drop=True)


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

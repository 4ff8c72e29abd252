"""Bayesian inference for CMR: NUTS on the exact likelihood, PPCs, model comparison.

Built only on :func:`engramlab.cmr.make_loglik` (a differentiable, jitted per-list
log-likelihood of fixed data), so every variant that :func:`~engramlab.cmr._variants.params_class`
accepts can be sampled, with no per-variant code.

**Transform.** Each free parameter ``k`` with bounds ``(lo_k, hi_k)`` is sampled on the
real line as ``z_k`` with ``theta_k = lo_k + (hi_k - lo_k) sigmoid(z_k)`` (the same
bounded transform as ``fit(method="gradient")``). Non-free parameters keep their ``fixed``
value (or the class default), as in :func:`~engramlab.cmr.fit`.

**Hierarchical model** (``hierarchical=True``, partial pooling)::

    mu_k     ~ Normal(mu_loc_k, mu_scale_k)        group location on the z scale
    sigma_k  ~ HalfNormal(sigma_scale_k)           between-subject spread (z scale)
    z_sk     ~ Normal(mu_k, sigma_k)               s = 1..S subjects
    log p(data | z) = sum_lists log L(recalls_i | theta(z_{s(i)}))

sampled non-centred (``z = mu + sigma eta``), centred, or partially centred per subject
and parameter (default; see :func:`_make_model`), in coordinates that whiten a Laplace
approximation (:class:`_Sampler`).

``lo + (hi - lo) sigmoid(mu_k)`` is the group median of parameter ``k``.

**Per-subject model** (``hierarchical=False``, no pooling): ``z_sk ~ Normal(mu_loc_k,
mu_scale_k)`` independently; every subject is sampled separately (on Dask for several
subjects, like :func:`~engramlab.cmr.fit_subjects`).

With the default ``mu_loc = 0``, ``mu_scale = 1.5`` the prior on each parameter is a
logit-normal over its bounds, close to uniform (a standard deviation of 1.5 on the logit
scale is nearly flat on ``(lo, hi)``); so the **bounds are part of the prior**: pass
``free={name: (lo, hi)}`` to narrow them.

The result is an ArviZ ``InferenceData`` with groups ``posterior`` (every free parameter
in natural units, dims ``(chain, draw, subject)``; hierarchical runs add ``mu_<name>``
(group median, natural units) and ``sigma_<name>`` (z scale), dims ``(chain, draw)``),
``sample_stats`` (``diverging``, ``lp``, ``n_steps``, ``tree_depth``,
``acceptance_rate``, ``step_size``), ``log_likelihood`` (``recall``: log-likelihood of
every list, dims ``(chain, draw, list)``, for PSIS-LOO / WAIC) and ``observed_data``
(``recalls`` ``(list, output)``: 1-based study positions, 0-padded; ``list_subject``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import write_with
from .._progress import make_progress
from .._validation import check_choice, check_int, check_range, check_resources
from ..errors import ConfigError, ConvergenceWarning, DivergenceError, ValidationError
from ._data import _check_frame

__all__ = ["Priors", "sample", "diagnostics", "posterior_predictive", "point_fits",
           "compare", "save_inference", "load_inference"]

#: Usual thresholds (Vehtari et al. 2021): rank-normalised split R-hat and total bulk /
#: tail effective sample sizes.
RHAT_MAX = 1.01
ESS_MIN = 400

_EXTRA = ("diverging", "num_steps", "accept_prob", "adapt_state.step_size",
          "potential_energy")
_SPEC_ATTR = "engramlab_spec"
#: posterior attribute (JSON) identifying the data a posterior was sampled on; see
#: :func:`_data_fingerprint`
_DATA_ATTR = "engramlab_data"


# --------------------------------------------------------------------------- spec / priors

@dataclass(frozen=True)
class Priors:
    """Priors on the unconstrained scale ``z = logit((theta - lo) / (hi - lo))``.

    Each field is a number (all free parameters) or a dict ``name -> number`` (named
    parameters; the others keep the default).

    - ``mu_loc`` (default ``0``): prior mean of ``mu_k`` (hierarchical) or of ``z_sk``
      (per subject); ``0`` is the middle of the bounds.
    - ``mu_scale`` (default ``1.5``, > 0): its standard deviation.
    - ``sigma_scale`` (default ``1.0``, > 0): scale of the half-normal prior on the
      between-subject spread ``sigma_k`` (hierarchical only).
    """

    mu_loc: float | Mapping[str, float] = 0.0
    mu_scale: float | Mapping[str, float] = 1.5
    sigma_scale: float | Mapping[str, float] = 1.0
    _defaults: dict = field(default_factory=lambda: {"mu_loc": 0.0, "mu_scale": 1.5,
                                                     "sigma_scale": 1.0}, repr=False)

    def resolve(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """Arrays ``(n_free,)`` of ``mu_loc``, ``mu_scale``, ``sigma_scale``; validated."""
        out = {}
        for fname in ("mu_loc", "mu_scale", "sigma_scale"):
            v = getattr(self, fname)
            default = self._defaults[fname]
            if isinstance(v, Mapping):
                unknown = sorted(set(v) - set(names))
                if unknown:
                    raise ConfigError(f"priors.{fname}: unknown parameter(s) {unknown}; "
                                      f"expected free parameters {list(names)}")
                vals = [v.get(n, default) for n in names]
            else:
                vals = [v] * len(names)
            arr = np.empty(len(names))
            for i, (n, x) in enumerate(zip(names, vals, strict=True)):
                try:
                    x = float(x)
                except (TypeError, ValueError):
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a real number, got "
                                      f"{x!r}") from None
                if not math.isfinite(x):
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a finite number, "
                                      f"got {x}")
                if fname != "mu_loc" and x <= 0:
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a scale > 0, got "
                                      f"{x:g} (an impossible prior)")
                arr[i] = x
            out[fname] = arr
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Mapping) else float(v))
                for k, v in (("mu_loc", self.mu_loc), ("mu_scale", self.mu_scale),
                             ("sigma_scale", self.sigma_scale))}


def _as_priors(priors: Any) -> Priors:
    if priors is None:
        return Priors()
    if isinstance(priors, Priors):
        return priors
    if isinstance(priors, Mapping):
        unknown = sorted(set(priors) - {"mu_loc", "mu_scale", "sigma_scale"})
        if unknown:
            raise ConfigError(f"priors: unknown key(s) {unknown}; expected mu_loc, "
                              "mu_scale, sigma_scale")
        return Priors(**priors)
    raise ConfigError(f"priors: expected a Priors, a dict or None, got {type(priors).__name__}")


@dataclass(frozen=True)
class _Spec:
    variant: str
    names: tuple[str, ...]          # all parameter names (theta layout)
    free: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    base: np.ndarray                 # (n_par,) theta with fixed values
    idx: np.ndarray                  # positions of the free names in theta

    def to_json(self) -> dict[str, Any]:
        return {"variant": self.variant, "names": list(self.names), "free": list(self.free),
                "lo": self.lo.tolist(), "hi": self.hi.tolist(), "base": self.base.tolist()}


def _resolve_spec(variant: str, free: Any, fixed: Any) -> _Spec:
    """Free names with bounds and the fixed base vector: the same resolution (and the
    same checks) as :func:`~engramlab.cmr.fit` (``_fit._spec``)."""
    from ._fit import _spec
    from ._variants import get_variant

    v = get_variant(variant)
    fnames, lo, hi, base = _spec(v, free, fixed)
    names = tuple(v.names())
    return _Spec(variant=v.name, names=names, free=tuple(fnames), lo=lo, hi=hi, base=base,
                 idx=np.array([names.index(n) for n in fnames]))


# --------------------------------------------------------------------------- the model

def _make_model(ll, spec: _Spec, subj_idx: np.ndarray, n_subj: int,
                pri: dict[str, np.ndarray], hierarchical: bool,
                parameterization: str = "non-centered", likelihood: bool = True,
                weights: np.ndarray | None = None):
    """The NumPyro model (a closure over the data's :class:`LoglikFunction`).

    ``parameterization`` (hierarchical): ``"non-centered"`` samples ``eta`` with
    ``z = mu + sigma eta``; ``"centered"`` samples ``z ~ Normal(mu, sigma)`` directly
    (the same posterior; better geometry when every subject has many lists);
    ``"partial"`` interpolates per subject and parameter with ``weights`` ``w`` ``(S, k)``
    (Gorinova, Moore & Hoffman 2020): ``zt ~ Normal(w mu, sigma^w)``,
    ``z = mu + sigma^(1 - w) (zt - w mu)`` (``w = 1`` centred, ``w = 0`` non-centred).
    ``likelihood=False`` is the prior alone (same sites; for the preconditioner)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    k = len(spec.free)
    lo, hi = jnp.asarray(spec.lo), jnp.asarray(spec.hi)
    base = jnp.asarray(spec.base)
    idx = jnp.asarray(spec.idx)
    sidx = np.asarray(subj_idx)        # numpy: lets the likelihood lay lists out by subject
    mu_loc, mu_scale = jnp.asarray(pri["mu_loc"]), jnp.asarray(pri["mu_scale"])
    sigma_scale = jnp.asarray(pri["sigma_scale"])

    def model():
        if hierarchical:
            mu = numpyro.sample("mu", dist.Normal(mu_loc, mu_scale).to_event(1))
            sigma = numpyro.sample("sigma", dist.HalfNormal(sigma_scale).to_event(1))
            if parameterization == "centered":
                z = numpyro.sample("z", dist.Normal(jnp.broadcast_to(mu, (n_subj, k)),
                                                    sigma).to_event(2))
            elif parameterization == "partial":
                w = jnp.asarray(weights)
                zt = numpyro.sample("zt", dist.Normal(w * mu, sigma ** w).to_event(2))
                z = numpyro.deterministic("z", mu + sigma ** (1.0 - w) * (zt - w * mu))
            else:
                eta = numpyro.sample("eta", dist.Normal(jnp.zeros((n_subj, k)),
                                                        1.0).to_event(2))
                z = mu + sigma * eta
        else:
            z = numpyro.sample("z", dist.Normal(jnp.broadcast_to(mu_loc, (n_subj, k)),
                                                mu_scale).to_event(2))
        if likelihood:
            per = ll.per_subject(_thetas(z, lo, hi, base, idx), sidx)  # (n_lists,)
            numpyro.deterministic("log_lik", per)
            numpyro.factor("loglik", jnp.sum(per))

    return model


def _thetas(z, lo, hi, base, idx):
    """``z`` ``(S, k)`` on the unconstrained scale -> full parameter vectors ``(S, n_par)``."""
    import jax
    import jax.numpy as jnp

    th_s = lo + (hi - lo) * jax.nn.sigmoid(z)
    return jnp.broadcast_to(base, (z.shape[0], base.shape[0])).at[:, idx].set(th_s)


def _z_of(site: dict, hierarchical: bool, parameterization: str):
    """Per-subject ``z`` ``(S, k)`` from constrained site values."""
    if hierarchical and parameterization == "non-centered":
        return site["mu"] + site["sigma"] * site["eta"]
    return site["z"]


class _Sampler:
    """NUTS on one model, optionally preconditioned by a Laplace approximation.

    **Preconditioner** (``precondition="laplace"``): the point ``x0`` and the matrix
    ``R`` of a Gaussian approximation ``N(x0, R R^T)`` of the posterior on NumPyro's
    unconstrained scale; NUTS then runs on ``y`` with ``x = x0 + R y`` — a fixed linear
    change of variables (constant Jacobian: the posterior is unchanged), after which
    NumPyro's diagonal mass-matrix adaptation only corrects what the approximation
    missed. ``x0``: every subject's posterior mode without pooling (``z_s`` under the
    ``Normal(mu_loc, mu_scale)`` prior, L-BFGS on all subjects at once), with ``mu`` and
    ``sigma`` at the mean and spread of those modes (hierarchical). ``R R^T = H^-1``,
    ``H`` the Hessian of the negative log posterior at ``x0``: the prior's exactly, the
    likelihood's as ``J^T B J`` (``B`` the per-subject ``k x k`` blocks of the likelihood
    Hessian in ``z`` — ``k`` Hessian-vector products for all subjects at once, since
    subjects' likelihoods are independent given ``z``; ``J = dz/dx``), eigenvalues
    floored at 0.1. Each chain starts at ``y ~ Normal(0, I)`` (a draw of the
    approximation). ``precondition=None``: ``R = I``, chains start uniformly in
    ``(-1, 1)`` on the unconstrained scale (as NumPyro's ``init_to_uniform``).
    """

    def __init__(self, ll, spec, subj_idx, n_subj, pri, hierarchical, *, parameterization,
                 precondition, draws, warmup, target_accept, max_tree_depth):
        import jax
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree
        from numpyro.infer.util import (
            constrain_fn,
            initialize_model,
            potential_energy,
            unconstrain_fn,
        )

        self.kw = dict(draws=draws, warmup=warmup, target_accept=target_accept,
                       max_tree_depth=max_tree_depth)
        self.preconditioned = precondition == "laplace"
        lo, hi = jnp.asarray(spec.lo), jnp.asarray(spec.hi)
        base, idx = jnp.asarray(spec.base), jnp.asarray(spec.idx)
        sidx = np.asarray(subj_idx)

        def thetas_of(z):                               # (S, k) -> (S, n_par)
            return _thetas(z, lo, hi, base, idx)

        def nll(z):                                     # (S, k) -> -log likelihood
            return -jnp.sum(ll.per_subject(thetas_of(z), sidx))

        gibbs = hierarchical and parameterization == "gibbs"
        if gibbs:                     # NUTS within Gibbs on the centred model (_gibbs.py)
            parameterization = "centered"
        weights = None
        if self.preconditioned or gibbs or (hierarchical and parameterization == "partial"):
            zhat = _subject_modes(nll, n_subj, pri)
            blocks = _likelihood_blocks(nll, zhat)                      # (S, k, k)
            mu0 = zhat.mean(axis=0)
            sd0 = np.maximum(zhat.std(axis=0), 0.1) if n_subj > 1 else np.ones_like(mu0)
            if hierarchical and parameterization == "partial":
                from ._gibbs import pooling_factors

                weights = 1.0 - pooling_factors(blocks, sd0)
        self.weights = weights
        model = _make_model(ll, spec, subj_idx, n_subj, pri, hierarchical, parameterization,
                            weights=weights)
        prior = _make_model(ll, spec, subj_idx, n_subj, pri, hierarchical, parameterization,
                            likelihood=False, weights=weights)
        info = initialize_model(jax.random.key(0), prior)
        flat, unravel = ravel_pytree(info.param_info.z)
        self.unravel, self.dim = unravel, int(flat.size)
        # NumPyro's potential of the full model, built without initialize_model's
        # eager run of the likelihood (the prior's layout is the same)
        self.potential = partial(potential_energy, model, (), {})
        # constrained sites and log_lik of flat draws, compiled once per sampler
        self._post_map = jax.jit(lambda flat: jax.lax.map(
            lambda f: constrain_fn(model, (), {}, unravel(f), return_deterministic=True),
            flat, batch_size=16))
        #: compiled chain runs by ``(chains, chain_method)`` (:meth:`program`)
        self._programs: dict[tuple[int, str], Any] = {}
        self.gibbs = None
        if gibbs:
            self._init_gibbs(ll, sidx, nll, thetas_of, zhat, blocks, mu0, sd0, pri)
            return
        if not self.preconditioned:
            self.x0, self.root = jnp.zeros(self.dim), jnp.eye(self.dim)
            return
        if not hierarchical:
            values = {"z": zhat}
        elif parameterization == "centered":
            values = {"mu": mu0, "sigma": sd0, "z": zhat}
        elif parameterization == "partial":
            values = {"mu": mu0, "sigma": sd0,
                      "zt": weights * mu0 + sd0 ** weights * (zhat - mu0) / sd0}
        else:
            values = {"mu": mu0, "sigma": sd0, "eta": (zhat - mu0) / sd0}
        x0 = ravel_pytree(unconstrain_fn(prior, (), {}, values))[0]

        def z_flat(f):
            return _z_of(constrain_fn(prior, (), {}, unravel(f), return_deterministic=True),
                         hierarchical, parameterization)

        # compiled once each (evaluated eagerly, JAX would compile every operation)
        h_prior = jax.jit(jax.hessian(lambda f: info.potential_fn(unravel(f))))(x0)
        J = np.asarray(jax.jit(jax.jacfwd(z_flat))(x0), np.float64)  # (S, k, D)
        # Gauss-Newton: the likelihood's curvature in z mapped through dz/dx (exact
        # where z is linear in x: centred, no pooling)
        H = np.asarray(h_prior, np.float64) + np.einsum("sid,sij,sje->de", J, blocks, J)
        self.hessian = 0.5 * (H + H.T)
        w, v = np.linalg.eigh(self.hessian)
        if not np.all(np.isfinite(w)):
            raise DivergenceError("sample: the Laplace preconditioner's Hessian is not "
                                  "finite at the subjects' modes; pass precondition=None")
        # no direction wider than the priors allow (sd <= 1 / sqrt(0.1) ~ 3 on the
        # unconstrained scale; guards against Hessian rounding in flat directions)
        w = np.maximum(w, 0.1)
        dtype = jnp.result_type(float)
        self.x0 = jnp.asarray(np.asarray(x0, np.float64), dtype)
        self.root = jnp.asarray(v / np.sqrt(w), dtype)

    def _init_gibbs(self, ll, sidx, nll, thetas_of, zhat, blocks, mu0, sd0, pri):
        """The NUTS-within-Gibbs kernel (:mod:`engramlab.cmr._gibbs`): the subjects'
        block whitened by their likelihood modes and Hessian blocks under the current
        hyperparameters (by the prior alone without preconditioning); draws are the
        centred model's flat vector, so post-processing needs no map. ``thetas_of``: ``z``
        ``(S, k)`` -> full parameter vectors (the bounded transform ``nll`` uses)."""
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        from ._gibbs import GibbsKernel
        from ._model import subject_loglik

        dtype = jnp.result_type(float)
        S, k = zhat.shape
        if not self.preconditioned:       # no likelihood curvature: the prior alone
            blocks = np.zeros((S, k, k))

        def pack(mu, sigma, z):
            return ravel_pytree({"mu": mu, "sigma": jnp.log(sigma), "z": z})[0]

        # every subject's lists, laid out by subject, for its own NUTS chain
        rec, feats, sqrt_m = ll.data
        lay = ll._blocks(sidx, np.asarray(rec), S)
        index = jnp.asarray(lay.index)
        rows = jnp.maximum(index, 0)
        data = {"recalls": rec[rows], "features": {f: v[rows] for f, v in feats.items()},
                "mask": index >= 0}

        def nll_one(z_s, d):
            theta = thetas_of(z_s[None])[0]
            return -subject_loglik(theta, d["recalls"], d["features"], d["mask"], sqrt_m,
                                   variant=ll.variant, L=ll._prep.L, n_steps=lay.n_steps)

        self.gibbs = GibbsKernel(nll, nll_one, data, jnp.asarray(zhat, dtype),
                                 jnp.asarray(blocks, dtype), mu0, sd0, pri, pack,
                                 target_accept=self.kw["target_accept"],
                                 max_tree_depth=self.kw["max_tree_depth"])
        self.x0, self.root = jnp.zeros(self.dim, dtype), jnp.eye(self.dim, dtype=dtype)

    def init(self, key, chains: int | None):
        """Initial ``y`` of one chain (``chains=None``) or ``(chains, D)`` (the whitened
        subject block, ``D = S k``, for the Gibbs kernel)."""
        import jax

        dim = self.dim if self.gibbs is None else self.gibbs.zhat.size
        shape = (dim,) if chains is None else (chains, dim)
        if self.preconditioned:
            return jax.random.normal(key, shape, self.x0.dtype)
        return jax.random.uniform(key, shape, self.x0.dtype, -1.0, 1.0)

    def program(self, chains: int, chain_method: str):
        """The compiled run of ``chains`` chains side by side: ``(keys (chains,), y0
        (chains, D)) -> (draws (chains, N, D), {field: (chains, N)})`` (the fields of
        ``_EXTRA``). Each chain is the kernel's init then ``warmup + draws`` transitions in
        one ``lax.scan`` (warm-up adapts step size and mass matrix; only the last
        ``draws`` states are returned), as NumPyro's ``MCMC.run`` does; ``chains`` chains
        run on as many devices (``"parallel"``, ``pmap``) or in one vectorised program.

        Made once per layout and kept: the chains of a sequential run, one unit each, then
        compile it once (``MCMC`` re-wraps its loop on every ``run`` and compiles it
        again for every chain)."""
        import jax
        from numpyro.infer import NUTS
        from numpyro.util import nested_attrgetter

        cache = self._programs
        if (chains, chain_method) in cache:
            return cache[chains, chain_method]
        x0, root, unravel, pot = self.x0, self.root, self.unravel, self.potential

        def potential(y):
            return pot(unravel(x0 + root @ y))

        kernel = self.gibbs or NUTS(potential_fn=potential,
                                    target_accept_prob=self.kw["target_accept"],
                                    max_tree_depth=self.kw["max_tree_depth"])
        warmup, draws = self.kw["warmup"], self.kw["draws"]
        fields = (kernel.sample_field, *_EXTRA)
        collect = nested_attrgetter(*fields)      # as MCMC collects them

        def one(key, y0):
            state = kernel.init(key, warmup, y0, (), {})

            def step(st, _):
                st = kernel.sample(st, (), {})
                return st, collect(st)

            out = jax.lax.scan(step, state, None, length=warmup + draws)[1]
            return out[0][warmup:], {f: a[warmup:] for f, a in zip(fields[1:], out[1:],
                                                                 strict=True)}

        if chains == 1:
            run = jax.jit(lambda keys, y0: jax.tree.map(lambda a: a[None],
                                                        one(keys[0], y0[0])))
        elif chain_method == "parallel":
            run = jax.pmap(one)
        else:
            run = jax.jit(jax.vmap(one))
        cache[chains, chain_method] = run
        return run

    def postprocess(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """``y`` ``(C, N, D)`` -> constrained sites and ``log_lik``, each ``(C, N, ...)``."""
        import jax.numpy as jnp

        C, N = y.shape[:2]
        flat = self.x0 + jnp.asarray(y, self.x0.dtype).reshape(C * N, -1) @ self.root.T
        vals = self._post_map(flat)
        return {k: np.asarray(v).reshape((C, N) + v.shape[1:]) for k, v in vals.items()}


def _subject_modes(nll, n_subj: int, pri: dict[str, np.ndarray]) -> np.ndarray:
    """Every subject's posterior mode of ``z`` ``(S, k)`` without pooling (prior
    ``Normal(mu_loc, mu_scale)``): one L-BFGS run on the sum (the subjects' objectives
    are independent), from the prior mean."""
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize

    loc, scale = pri["mu_loc"], pri["mu_scale"]
    k = loc.shape[0]

    def obj(zf):
        z = zf.reshape(n_subj, k)
        return nll(z) + 0.5 * jnp.sum(((z - loc) / scale) ** 2)

    vg = jax.jit(jax.value_and_grad(obj))
    z0 = np.broadcast_to(loc, (n_subj, k)).ravel().astype(np.float64)

    def f(zf):
        v, g = vg(jnp.asarray(zf, dtype=jnp.result_type(float)))
        v, g = float(v), np.asarray(g, np.float64)
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            return 1e300, np.zeros_like(zf)
        return v, g

    res = minimize(f, z0, jac=True, method="L-BFGS-B",
                   options={"maxiter": 500, "maxfun": 1000})
    return np.clip(res.x.reshape(n_subj, k), -12.0, 12.0)


def _likelihood_blocks(nll, zhat: np.ndarray) -> np.ndarray:
    """Per-subject ``k x k`` Hessians of ``nll`` in ``z`` at ``zhat`` ``(S, k)``,
    eigenvalues clipped at 0: ``k`` Hessian-vector products, direction ``e_j`` for every
    subject at once (subjects' likelihoods are independent given ``z``)."""
    import jax
    import jax.numpy as jnp

    z0 = jnp.asarray(zhat, jnp.result_type(float))
    k = z0.shape[1]
    grad = jax.grad(nll)

    @jax.jit
    def columns(z0):
        return jax.lax.map(lambda e: jax.jvp(grad, (z0,), (e,))[1],
                           jnp.broadcast_to(jnp.eye(k, dtype=z0.dtype)[:, None, :],
                                            (k,) + z0.shape))

    cols = columns(z0)
    blocks = np.asarray(jnp.moveaxis(cols, 0, -1), dtype=np.float64)        # (S, k, k)
    blocks = 0.5 * (blocks + np.swapaxes(blocks, 1, 2))
    bad = np.flatnonzero(~np.all(np.isfinite(blocks), axis=(1, 2)))
    if bad.size:
        where = (f"the likelihood's curvature is not finite at the mode of {bad.size} of "
                 f"{len(blocks)} subjects (positions {bad[:10].tolist()})")
        if z0.dtype == jnp.float32:
            raise DivergenceError(f"precision: expected 'float64' for these data, got "
                                  f"'float32': {where} (float32's narrower range can make "
                                  f"it so)")
        raise DivergenceError(f"sample: {where}; check those subjects' data and the priors")
    w, v = np.linalg.eigh(blocks)
    return np.einsum("sij,sj,skj->sik", v, np.maximum(w, 0.0), v)


def _run_mcmc(mcmc, *, key=None, keys=None, on_done=None) -> dict[str, np.ndarray]:
    """Run one unit (``mcmc``: ``(sampler, chains, chain_method)``): warm-up (step size and
    diagonal mass-matrix adaptation) and sampling in one compiled loop; numpy arrays
    ``(chains, draws, ...)`` of the samples (``s:`` prefix, constrained) and sample stats
    (``x:`` prefix).

    ``keys``: one key per chain; chain ``c`` then starts and runs exactly as a one-chain
    unit with ``key=keys[c]`` would (chains side by side on several devices are the chains
    run one after the other, up to rounding). ``key``: one key for all the
    chains (NumPyro splits it; ``chain_method="vectorized"``)."""
    import jax
    import jax.numpy as jnp

    sampler, chains, chain_method = mcmc
    if keys is None:     # one key for all chains, split as NumPyro's MCMC splits it
        k_init, k_run = jax.random.split(key)
        init = sampler.init(k_init, None if chains == 1 else chains)
        k_run = k_run[None] if chains == 1 else jax.random.split(k_run, chains)
    else:
        pairs = [jax.random.split(k) for k in keys]
        init = jnp.stack([sampler.init(p[0], None) for p in pairs])
        k_run = jnp.stack([p[1] for p in pairs])
    init = init.reshape(chains, -1)
    y, extra = sampler.program(chains, chain_method)(k_run, init)
    y = np.asarray(y)
    out = {f"s:{k}": v for k, v in sampler.postprocess(y).items()}
    out.update({f"x:{k}": np.asarray(v) for k, v in extra.items()})
    if on_done:
        on_done()
    return out


# --------------------------------------------------------------------------- checkpoints

def _fingerprint(spec: _Spec, pri: dict, recalls: np.ndarray, subject: np.ndarray,
                 settings: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(spec.to_json(), sort_keys=True).encode())
    h.update(json.dumps({k: v.tolist() for k, v in pri.items()}, sort_keys=True).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(recalls).tobytes())
    h.update(np.asarray(pd.Series(subject).astype(str)).astype("U").tobytes())
    return h.hexdigest()[:20]


def _arrays_digest(arrays: Mapping[str, np.ndarray], fp: str) -> str:
    """SHA-256 over the run's fingerprint and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(fp.encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _save_unit(path: Path, arrays: dict[str, np.ndarray], fp: str) -> None:
    """Write one finished unit (chain, chains or subject) atomically, with the run's
    fingerprint and a checksum of its arrays."""
    def writer(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, _fingerprint=np.array(fp),
                     _checksum=np.array(_arrays_digest(arrays, fp)), **arrays)

    write_with(path, writer)


def _load_unit(path: Path, fp: str, lead: tuple[int, int]) -> dict[str, np.ndarray] | None:
    """A finished unit from ``path``, or ``None`` when it is absent or damaged (then the
    unit is recomputed, saying why on stderr). Verified: readable, this run's fingerprint
    (another run's file is a :class:`ConfigError`), its checksum, every array shaped
    ``(chains, draws, ...)`` as ``lead`` says, and finite samples (``s:`` arrays)."""
    from .._progress import say

    if not path.exists():
        return None

    def damaged(why: str) -> None:
        say(f"checkpoint {str(path)!r}: {why}; recomputing it")

    try:
        # our own handle: np.load leaks the one it opens when the zip is unreadable
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is damaged
        damaged(f"unreadable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    got_fp, digest = arrays.pop("_fingerprint", None), arrays.pop("_checksum", None)
    if got_fp is None or got_fp.shape != () or digest is None or digest.shape != ():
        damaged("not a checkpoint of this package (no fingerprint or checksum)")
        return None
    if str(got_fp) != fp:
        raise ConfigError(f"checkpoint_dir: {str(path)!r} belongs to a different run "
                          f"(fingerprint {got_fp}, this run {fp}: other data, priors, "
                          "bounds, draws or seed); use an empty folder to start afresh")
    if str(digest) != _arrays_digest(arrays, fp):
        damaged("its arrays do not match its checksum (edited or corrupt)")
        return None
    if not any(k.startswith("s:") for k in arrays):
        damaged("it holds no samples")
        return None
    for k, v in arrays.items():
        if v.shape[:2] != tuple(lead):
            damaged(f"array {k!r} has shape {v.shape}, expected (chains, draws) = {lead}")
            return None
        if k.startswith("s:") and not (np.issubdtype(v.dtype, np.number)
                                       and np.isfinite(v).all()):
            damaged(f"array {k!r} holds non-finite or non-numeric samples")
            return None
    return arrays


def _checkpoint_folder(checkpoint_dir: Any) -> Path | None:
    """``checkpoint_dir`` as a folder (created), or a :class:`ConfigError` saying why not."""
    if checkpoint_dir is None:
        return None
    if not isinstance(checkpoint_dir, (str, os.PathLike)) or not str(checkpoint_dir):
        raise ConfigError(f"checkpoint_dir: expected a folder path (str or Path), got "
                          f"{type(checkpoint_dir).__name__} {checkpoint_dir!r:.80}")
    ckpt = Path(checkpoint_dir)
    if ckpt.exists() and not ckpt.is_dir():
        raise ConfigError(f"checkpoint_dir: {str(ckpt)!r} exists and is not a folder")
    try:
        ckpt.mkdir(parents=True, exist_ok=True)
        probe = ckpt / ".engramlab-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"checkpoint_dir: cannot create or write the folder "
                          f"{str(ckpt)!r} ({exc.strerror or exc})") from None
    return ckpt


# --------------------------------------------------------------------------- data identity

def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for b in parts:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _data_fingerprint(recalls: np.ndarray, list_subject: np.ndarray) -> dict[str, Any]:
    """What identifies the data a model was fitted to, for :func:`compare`.

    **Arguments:** ``recalls`` ``(n_lists, L)`` (1-based study positions, 0-padded, in the
    model's list order) and ``list_subject`` ``(n_lists,)`` (each list's subject).

    **Returns:** a JSON-able dict: ``n_lists``; ``recalls`` (sha256 of the recalls matrix,
    in order); ``subjects`` (sha256 of the subject labels, in order, compared as text so
    ``1`` and ``"1"`` agree); ``lists`` (sha256 of the sorted per-list digests of
    ``(subject, recalls row)``: the same lists in another order share it, which is how
    :func:`compare` tells a reordering from other data).
    """
    rec = np.ascontiguousarray(np.asarray(recalls), dtype=np.int64)
    subj = [str(x) for x in np.asarray(list_subject).tolist()]
    if rec.ndim != 2 or rec.shape[0] != len(subj):
        raise ValidationError(f"recalls: expected (n_lists, L) with one subject per list, "
                              f"got shape {rec.shape} and {len(subj)} subject labels")
    rows = sorted(_digest(s.encode(), r.tobytes()) for s, r in zip(subj, rec, strict=True))
    return {"n_lists": int(rec.shape[0]),
            "recalls": _digest(np.asarray(rec.shape, np.int64).tobytes(), rec.tobytes()),
            "subjects": _digest("\x1f".join(subj).encode()),
            "lists": _digest("".join(rows).encode())}


def _data_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What differs between two :func:`_data_fingerprint` s (empty: the same data)."""
    if a["n_lists"] != b["n_lists"]:
        return [f"number of lists ({a['n_lists']} vs {b['n_lists']})"]
    same_recalls, same_subjects = a["recalls"] == b["recalls"], a["subjects"] == b["subjects"]
    if same_recalls and same_subjects:
        return []
    if a.get("lists") is not None and a.get("lists") == b.get("lists"):
        return ["list order"]
    return ([] if same_recalls else ["recalls"]) + ([] if same_subjects else
                                                    ["list subjects"])


def _chain_key(key, c: int):
    import jax

    return jax.random.fold_in(key, c)


def _check_key(key: Any):
    """A JAX PRNG key from a key or an int seed (the validation layer's ``as_key``)."""
    from .._validation import as_key

    return as_key(key, "key")


# --------------------------------------------------------------------------- sampling

def _sample_block(ll, spec, subj_idx, n_subj, pri, hierarchical, key, *, chains, draws,
                  warmup, chain_method, target_accept, max_tree_depth, parameterization,
                  precondition, precision, ckpt, fp, tag, on_unit=None):
    """Sample one model (all subjects pooled, or one subject); per-chain checkpoints."""
    import jax

    with jax.enable_x64(precision == "float64"):
        sampler = None

        def get_sampler():
            nonlocal sampler
            if sampler is None:     # built (mode search, Hessian) only if a unit is run
                sampler = _Sampler(ll, spec, subj_idx, n_subj, pri, hierarchical,
                                   parameterization=parameterization,
                                   precondition=precondition, draws=draws, warmup=warmup,
                                   target_accept=target_accept,
                                   max_tree_depth=max_tree_depth)
            return sampler

        if chain_method in ("sequential", "parallel"):
            # one chain at a time, or as many side by side as there are devices (rounds of
            # ``width`` chains); every chain checkpointed on its own, with its own key
            width = 1 if chain_method == "sequential" else _parallel_width(chains)
            paths = [None if ckpt is None else ckpt / f"{tag}-chain{c}.npz"
                     for c in range(chains)]
            done: dict[int, dict[str, np.ndarray]] = {}
            for c, path in enumerate(paths):
                got = None if path is None else _load_unit(path, fp, (1, draws))
                if got is not None:
                    done[c] = got
                    if on_unit is not None:
                        on_unit(f"{tag}: chain {c + 1} resumed")
            pending = [c for c in range(chains) if c not in done]
            for i in range(0, len(pending), width):
                group = pending[i:i + width]
                got = _run_mcmc((get_sampler(), len(group),
                                 "parallel" if len(group) > 1 else "sequential"),
                                keys=[_chain_key(key, c) for c in group])
                for j, c in enumerate(group):
                    done[c] = {k: v[j:j + 1] for k, v in got.items()}
                    if paths[c] is not None:
                        _save_unit(paths[c], done[c], fp)
                    if on_unit is not None:
                        on_unit(f"{tag}: chain {c + 1} done")
            return {k: np.concatenate([done[c][k] for c in range(chains)]) for k in done[0]}
        path = None if ckpt is None else ckpt / f"{tag}-chains.npz"
        got = None if path is None else _load_unit(path, fp, (chains, draws))
        if got is None:
            got = _run_mcmc((get_sampler(), chains, chain_method), key=key,
                            on_done=None if on_unit is None else
                            (lambda: on_unit(f"{tag}: chains done")))
            if path is not None:
                _save_unit(path, got, fp)
        elif on_unit is not None:
            on_unit(f"{tag}: chains resumed")
        return got


def _parallel_width(chains: int) -> int:
    """How many chains ``chain_method="parallel"`` runs side by side: one per JAX device
    (on CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` set before JAX
    starts; the CLI sets it), at most ``chains``."""
    import jax

    return max(1, min(chains, jax.local_device_count()))


def _sample_subject_task(data_sub, variant, pool_size, spec, pri, key, kw):
    from ._api import make_loglik

    ll = make_loglik(data_sub, variant=variant, pool_size=pool_size)
    return _sample_block(ll, spec, np.zeros(ll.n_lists, dtype=np.int32), 1, pri, False,
                         key, ckpt=None, fp="", tag="subject", **kw)


#: deepest NUTS tree ``sample`` accepts (2^30 - 1 leapfrog steps per draw)
MAX_TREE_DEPTH = 30


def sample(data: Any, *, key: Any, variant: str = "jaxcmr", hierarchical: bool = True,
           chains: int = 4, draws: int = 500, warmup: int = 500,
           free: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
           fixed: Mapping[str, float] | None = None, priors: Priors | Mapping | None = None,
           pool_size: int | None = None, chain_method: str = "parallel",
           target_accept: float = 0.8, max_tree_depth: int | None = None,
           parameterization: str = "partial", precondition: str | None = "laplace",
           precision: str = "float64", subject_runs: str = "separate",
           scheduler: str | None = None, workers: int = 1,
           checkpoint_dir: str | Path | None = None, quiet: bool | None = None,
           check: bool = True) -> Any:
    """Posterior of CMR parameters by NUTS (NumPyro) on the exact log-likelihood.

    The model, transform and priors are in the module docstring
    (:mod:`engramlab.cmr._inference`); the log-likelihood of list ``i`` is
    ``log L_i = sum_{j<n_i} log[(1 - P_stop(j)) P(r_j)] + log P_stop(n_i)`` from
    :func:`~engramlab.cmr.make_loglik`, in ``precision``.

    **Arguments:**

    - ``data``: psifr long-format DataFrame (validated and cleaned as in
      :func:`~engramlab.cmr.log_likelihood`).
    - ``key``: JAX PRNG key (required). Chain ``c`` uses ``fold_in(key, c)`` (subject ``s``
      of a per-subject run ``fold_in(key, 1000 + s)`` first), so a resumed run draws the
      same numbers as an uninterrupted one.
    - ``variant``: any registered variant name.
    - ``hierarchical``: partial pooling across subjects (``True``; needs at least 2
      subjects, one subject is a ``ConfigError``) or independent per-subject posteriors
      (``False``; subjects run on Dask).
    - ``chains``, ``draws``, ``warmup``: NUTS chains, kept draws per chain (>= 1) and
      adaptation steps per chain (>= 0).
    - ``free``, ``fixed``: as :func:`~engramlab.cmr.fit` (names, or ``name -> (lo, hi)``;
      default :data:`~engramlab.cmr._fit.DEFAULT_FREE`); the bounds define the transform.
    - ``priors``: :class:`Priors` or a dict of its fields.
    - ``chain_method``: ``"parallel"`` (default: chains side by side, one per JAX device,
      in rounds when there are fewer devices than chains; on a CPU,
      ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts — the CLI
      sets it — else there is one device and the chains run one after the other),
      ``"sequential"`` (one chain after the other) or ``"vectorized"`` (all chains in one
      vmapped call; one checkpoint). ``"sequential"`` and ``"parallel"`` run the same
      chains (chain ``c`` has its own key, start and checkpoint, and either resumes the
      other's checkpoints); their programs round differently, which HMC amplifies, so
      long chains agree in distribution rather than draw for draw.
    - ``target_accept``, ``max_tree_depth``: NUTS settings. ``max_tree_depth=None``
      (default): 8 (at most 255 leapfrog steps per draw; at most
      ``MAX_TREE_DEPTH`` = 30), and 3 for the per-subject trees
      of ``"gibbs"`` — those run in coordinates where a subject's conditional posterior
      is close to ``Normal(0, I)``, whose U-turn comes after about 7 steps at the usual
      step size, and the vmapped trees all wait for the longest, so one subject against
      the stop rule's wall would otherwise set every subject's cost.
    - ``parameterization`` (hierarchical): ``"partial"`` (default: centred per subject
      and parameter by the weight ``w = I / (I + 1 / sigma0^2)`` from the Laplace blocks,
      see ``_make_model``), ``"non-centered"`` (``z = mu + sigma eta``, robust when
      subjects have few lists), ``"centered"`` (``z ~ Normal(mu, sigma)``, better
      geometry when every subject has many lists) or ``"gibbs"`` (the centred model by
      NUTS within Gibbs: NUTS on the subjects given ``mu, sigma``, whitened under the
      current ``sigma``, alternating with exact moves of ``mu, sigma``; needs 2 or more
      subjects; :mod:`engramlab.cmr._gibbs`; every subject has its own NUTS chain, and
      ``sample_stats`` reports the longest tree as ``n_steps``, the subjects' median
      ``step_size``, mean ``acceptance_rate`` and any divergence); the same posterior.
    - ``precondition``: ``"laplace"`` (default) runs NUTS in the coordinates that whiten
      a Laplace approximation at the subjects' modes (see ``_Sampler``), which cuts the
      leapfrog steps per draw several-fold on CMR posteriors; ``None``: NumPyro's plain
      diagonal adaptation from a uniform start. Either samples the same posterior.
    - ``precision``: ``"float64"`` (default) or ``"float32"`` (jaxcmr's own precision;
      about twice as fast on CPU; the total log-likelihood is then exact to ~1e-7
      relative).
    - ``subject_runs`` (``hierarchical=False`` only): ``"separate"`` (one NUTS run per
      subject, on Dask) or ``"joint"`` (one NUTS run over the product of the independent
      per-subject posteriors: the same posterior, one compilation, vectorised over
      subjects; best for many small subjects).
    - ``scheduler``, ``workers``: separate per-subject runs only: Dask scheduler address,
      or an in-process ``LocalCluster`` with ``workers`` threads.
    - ``checkpoint_dir``: finished chains (hierarchical) or subjects (per subject) are
      written there atomically and reused on a rerun with identical inputs (checked by a
      fingerprint of data, priors, bounds, settings and key; a mismatch is a
      ``ConfigError``).
    - ``quiet``: no progress bar. ``check``: run :func:`diagnostics` and warn
      (``ConvergenceWarning``) when R-hat > 1.01, bulk/tail ESS < 400 or any divergence.

    **Returns:** ``arviz.InferenceData`` (groups described in the module docstring; the
    diagnostics summary is in ``sample_stats.attrs``). Save it with
    :func:`save_inference`.
    """
    import jax

    from ._api import make_loglik
    from ._data import to_arrays

    key = _check_key(key)
    hierarchical = bool(hierarchical)
    chains = check_int(chains, "chains", min_value=1)
    draws = check_int(draws, "draws", min_value=1)
    warmup = check_int(warmup, "warmup", min_value=0)
    chain_method = check_choice(chain_method, "chain_method",
                                ("sequential", "vectorized", "parallel"))
    target_accept = check_range(target_accept, "target_accept", 0.0, 1.0,
                                lo_inclusive=False, hi_inclusive=False)
    workers = check_int(workers, "workers", min_value=1, max_value=1024)
    subject_runs = check_choice(subject_runs, "subject_runs", ("separate", "joint"))
    if scheduler is not None:
        from .._scheduler import check_scheduler_address

        if hierarchical or subject_runs == "joint":
            raise ConfigError(f"scheduler: a {'hierarchical' if hierarchical else 'joint'} "
                              f"run samples every subject in one model in this process; "
                              f"Dask (scheduler={scheduler!r:.60}) is for separate "
                              "per-subject runs: hierarchical=False, subject_runs='separate'")
        scheduler = check_scheduler_address(scheduler, "scheduler")
    ckpt = _checkpoint_folder(checkpoint_dir)
    parameterization = check_choice(parameterization, "parameterization",
                                    ("non-centered", "centered", "partial", "gibbs"))
    # NumPyro's iterative NUTS keeps O(depth) buffers per tree, and depth 30 is already
    # 2^30 leapfrog steps per draw: deeper is never useful and 1e9 exhausts memory
    max_tree_depth = (check_int(max_tree_depth, "max_tree_depth", min_value=1,
                                max_value=MAX_TREE_DEPTH)
                      if max_tree_depth is not None
                      else 3 if hierarchical and parameterization == "gibbs" else 8)
    if precondition is not None:
        precondition = check_choice(precondition, "precondition", ("laplace",))
    precision = check_choice(precision, "precision", ("float64", "float32"))
    _check_finite_columns(data)
    spec = _resolve_spec(variant, free, fixed)
    pri_obj = _as_priors(priors)
    pri = pri_obj.resolve(spec.free)
    ll = make_loglik(data, variant=variant, pool_size=pool_size)  # validates the data
    subject = np.asarray(ll.subject)
    subjects = list(pd.unique(subject))
    # refuse before anything is allocated: the kept draws (every list's log-likelihood
    # and every site, float64) and at least one gradient per iteration
    n_sites = (len(subjects) + 2) * len(spec.free)
    L = ll._prep.L
    check_resources("sample", n_bytes=8.0 * chains * draws * (ll.n_lists + n_sites),
                    n_ops=36.0 * chains * (warmup + draws) * ll.n_lists * L * L * (L + 1),
                    args={"chains": chains, "draws": draws, "warmup": warmup})
    subj_idx = np.array([subjects.index(s) for s in subject], dtype=np.int32)
    recalls = np.asarray(to_arrays(data).recalls)     # same cleaning and order as ll
    if recalls.shape[0] != ll.n_lists:
        raise ValidationError(f"data: {recalls.shape[0]} lists after cleaning but the "
                              f"likelihood has {ll.n_lists}")
    if hierarchical and parameterization == "gibbs" and len(subjects) < 2:
        raise ConfigError(f"parameterization: 'gibbs' draws the group spread from the "
                          f"subjects and needs at least 2 of them, got {len(subjects)}")
    if hierarchical and len(subjects) < 2:
        # one subject gives the group spread nothing to learn from: its posterior would be
        # the prior's, and the subject's own would be pulled towards an arbitrary mean
        raise ConfigError(f"hierarchical: partial pooling needs at least 2 subjects, the "
                          f"data have 1 (subject {subjects[0]}); sample one subject "
                          "without pooling: hierarchical=False (on the command line "
                          "--no-hierarchical)")
    settings = dict(hierarchical=hierarchical, subject_runs=subject_runs, chains=chains,
                    draws=draws, warmup=warmup,
                    chain_method=chain_method, target_accept=target_accept,
                    max_tree_depth=max_tree_depth, pool_size=pool_size,
                    parameterization=parameterization, precondition=precondition,
                    precision=precision, key=np.asarray(jax.random.key_data(key)).tolist())
    # sequential and parallel runs are the same chains: either resumes the other
    fp = _fingerprint(spec, pri, recalls, subject,
                      dict(settings, chain_method="vectorized" if chain_method == "vectorized"
                           else "per-chain"))
    kw = dict(chains=chains, draws=draws, warmup=warmup, chain_method=chain_method,
              target_accept=target_accept, max_tree_depth=max_tree_depth,
              parameterization=parameterization, precondition=precondition,
              precision=precision)

    if hierarchical or subject_runs == "joint":
        n_units = 1 if chain_method == "vectorized" else chains
        what = "hierarchical" if hierarchical else "independent subjects, joint run"
        with make_progress(quiet) as progress:
            task = progress.add_task(f"NUTS {variant} ({what}, {len(subjects)} subjects)",
                                     total=n_units)

            def on_unit(desc):
                progress.update(task, description=f"NUTS {variant}: {desc}")
                progress.advance(task)

            raw = _sample_block(ll, spec, subj_idx, len(subjects), pri, hierarchical, key,
                                ckpt=ckpt, fp=fp, tag="hier" if hierarchical else "joint",
                                on_unit=on_unit, **kw)
        per_subject = None
    else:
        per_subject = _sample_subjects(data, subjects, variant, pool_size, spec, pri, key,
                                       kw, ckpt, fp, scheduler, workers, quiet)
        raw = None
    idata = _to_inference_data(raw, per_subject, spec, pri_obj, hierarchical, subjects,
                               subj_idx, recalls, settings)
    diagnostics(idata, warn=check)
    return idata


def _check_finite_columns(data: pd.DataFrame) -> None:
    """Reject NaN / inf in the numeric identity columns (before anything is compiled)."""
    from ..errors import DataError

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data: expected a pandas DataFrame in psifr long format, got "
                        f"{type(data).__name__}")
    for col in ("subject", "list", "position", "item_index"):
        if col not in data.columns:
            continue
        v = data[col]
        bad = v.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(v):
            bad = bad | ~np.isfinite(v.to_numpy(dtype=float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"data: column {col!r} must be finite, got {int(bad.sum())} "
                            f"NaN/inf value(s) (first at row {i}: {v.iloc[i]!r})")


def _sample_subjects(data, subjects, variant, pool_size, spec, pri, key, kw, ckpt, fp,
                     scheduler, workers, quiet) -> list[dict[str, np.ndarray]]:
    """Per-subject posteriors on Dask; finished subjects come from ``ckpt``."""
    import jax

    results: dict[int, dict] = {}
    todo = []
    for i, _s in enumerate(subjects):
        path = None if ckpt is None else ckpt / f"subject{i}.npz"
        got = None if path is None else _load_unit(path, fp, (kw["chains"], kw["draws"]))
        if got is None:
            todo.append(i)
        else:
            results[i] = got
    keys = {i: jax.random.fold_in(key, 1000 + i) for i in todo}
    subj_col = data["subject"]
    with make_progress(quiet) as progress:
        task = progress.add_task(f"NUTS {variant} per subject", total=len(subjects),
                                 completed=len(results))
        if len(todo) == 1 and scheduler is None:
            i = todo[0]
            results[i] = _sample_subject_task(data[subj_col == subjects[i]], variant,
                                              pool_size, spec, pri, keys[i], kw)
            if ckpt is not None:
                _save_unit(ckpt / f"subject{i}.npz", results[i], fp)
            progress.advance(task)
        elif todo:
            from .._scheduler import dask_client, run_tasks

            def done(i, res):
                results[i] = res
                if ckpt is not None:  # written by the client: any cluster works
                    _save_unit(ckpt / f"subject{i}.npz", res, fp)
                progress.advance(task)

            with dask_client(scheduler, workers) as client:
                run_tasks(client, _sample_subject_task,
                          ((i, (data[subj_col == subjects[i]], variant, pool_size, spec, pri,
                                keys[i], kw)) for i in todo), done)
    return [results[i] for i in range(len(subjects))]


def _to_inference_data(raw, per_subject, spec, pri_obj, hierarchical, subjects, subj_idx,
                       recalls, settings):
    import arviz as az

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    if raw is not None:
        z = (raw["s:mu"][:, :, None, :] + raw["s:sigma"][:, :, None, :] * raw["s:eta"]
             if "s:eta" in raw else raw["s:z"])
        log_lik = raw["s:log_lik"]
        x = {k[2:]: v for k, v in raw.items() if k.startswith("x:")}
    else:
        z = np.concatenate([p["s:z"] for p in per_subject], axis=2)     # (C, D, S, k)
        log_lik = np.zeros(z.shape[:2] + (len(subj_idx),))
        for s, p in enumerate(per_subject):
            log_lik[:, :, subj_idx == s] = p["s:log_lik"]
        # per-subject sample stats get a subject dim
        x = {k[2:]: np.stack([p[k] for p in per_subject], axis=2)
             for k in per_subject[0] if k.startswith("x:")}
    theta = spec.lo + (spec.hi - spec.lo) * sig(z)                          # (C, D, S, k)
    post = {n: theta[..., j] for j, n in enumerate(spec.free)}
    dims = {n: ["subject"] for n in spec.free}
    if hierarchical:
        for j, n in enumerate(spec.free):
            post[f"mu_{n}"] = spec.lo[j] + (spec.hi[j] - spec.lo[j]) * sig(raw["s:mu"][..., j])
            post[f"sigma_{n}"] = raw["s:sigma"][..., j]
    sdims = [] if raw is not None else ["subject"]
    n_steps = x["num_steps"].astype(np.int64)
    stats = {"diverging": x["diverging"].astype(bool), "lp": -x["potential_energy"],
             "n_steps": n_steps, "tree_depth": np.floor(np.log2(np.maximum(n_steps, 1)))
             .astype(np.int64) + 1, "acceptance_rate": x["accept_prob"],
             "step_size": x["adapt_state.step_size"]}
    stat_dims = {k: sdims for k in stats}
    subj_coord = np.asarray(subjects)
    if subj_coord.dtype == object:
        subj_coord = subj_coord.astype(str)
    coords = {"subject": subj_coord, "list": np.arange(len(subj_idx)),
              "output": np.arange(recalls.shape[1])}
    idata = az.from_dict(
        posterior=post, sample_stats=stats, log_likelihood={"recall": log_lik},
        observed_data={"recalls": recalls.astype(np.int64),
                       "list_subject": subj_coord[subj_idx]},
        coords=coords,
        dims={**dims, **stat_dims, "recall": ["list"], "recalls": ["list", "output"],
              "list_subject": ["list"]},
    )
    meta = {"spec": spec.to_json(), "priors": pri_obj.to_dict(),
            "settings": {k: v for k, v in settings.items() if k != "key"}}
    idata.posterior.attrs[_SPEC_ATTR] = json.dumps(meta)
    idata.posterior.attrs["variant"] = spec.variant
    idata.posterior.attrs["hierarchical"] = int(hierarchical)
    idata.posterior.attrs[_DATA_ATTR] = json.dumps(
        _data_fingerprint(recalls, subj_coord[subj_idx]))
    return idata


def _meta(idata: Any, name: str = "idata", groups: Sequence[str] = ()) -> dict[str, Any]:
    """The run description :func:`sample` stores in ``idata``, after checking that
    ``idata`` is an ArviZ InferenceData made by :func:`sample` and has every group in
    ``groups`` (a :class:`ValidationError` naming ``name`` otherwise)."""
    have = idata.groups() if callable(getattr(idata, "groups", None)) else None
    if have is None or "posterior" not in have:
        raise ValidationError(f"{name}: expected an ArviZ InferenceData made by "
                              f"engramlab.cmr.sample (with a posterior group), got "
                              f"{type(idata).__name__}")
    try:
        meta = json.loads(idata.posterior.attrs[_SPEC_ATTR])
        meta["spec"]["free"], meta["spec"]["names"]  # noqa: B018 - the keys used downstream
    except (KeyError, TypeError, ValueError):
        raise ValidationError(f"{name}: expected an InferenceData made by "
                              "engramlab.cmr.sample (no valid engramlab_spec attribute on "
                              "its posterior)") from None
    missing = [g for g in groups if g not in have]
    if missing:
        raise ValidationError(f"{name}: the InferenceData has no {missing} group(s) "
                              f"(it has {list(have)}); use the result of cmr.sample or "
                              "cmr.load_inference as written by cmr.save_inference")
    return meta


def _check_sampled_data(idata: Any, data: Any, subjects: Sequence[Any],
                        dsub: pd.Series) -> None:
    """``data`` (restricted to the posterior's subjects) must be the lists the posterior
    was sampled on, where ``idata`` carries a data fingerprint."""
    fp = _idata_fingerprint(idata)
    if fp is None:
        return
    diff = _data_differences(fp, _frame_fingerprint(data[dsub.isin(subjects)]))
    if diff:
        raise ValidationError(f"data: expected the lists the posterior was sampled on "
                              f"(what differs: {', '.join(diff)})")


# --------------------------------------------------------------------------- diagnostics

def diagnostics(idata: Any, *, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN,
                warn: bool = True) -> pd.DataFrame:
    """Convergence table: one row per scalar posterior quantity.

    Columns ``mean, sd, q5, q95, r_hat`` (rank-normalised split R-hat), ``ess_bulk``,
    ``ess_tail`` (ArviZ), and ``ok`` (``r_hat <= rhat_max`` and both ESS ``>= ess_min``).
    The summary (``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail``, ``n_divergent``,
    ``n_draws``) is stored in ``idata.sample_stats.attrs``; with ``warn`` a
    :class:`~engramlab.errors.ConvergenceWarning` lists what fails (R-hat > 1.01, ESS < 400,
    any divergence). R-hat needs >= 2 chains (NaN with one chain, reported as failing).
    """
    import arviz as az

    _meta(idata, groups=("sample_stats",))
    post = idata.posterior
    names = list(post.data_vars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns on tiny samples / single chains
        rhat = az.rhat(post, var_names=names)
        essb = az.ess(post, var_names=names, method="bulk")
        esst = az.ess(post, var_names=names, method="tail")
    rows = []
    for n in names:
        v = post[n]
        extra = [d for d in v.dims if d not in ("chain", "draw")]
        stacked = v.stack(_s=("chain", "draw")).transpose(*extra, "_s").values
        flat_r, flat_b, flat_t = (np.atleast_1d(a[n].values).ravel() for a in (rhat, essb, esst))
        flat = stacked.reshape(-1, stacked.shape[-1])
        labels = ([n] if not extra else
                  [f"{n}[{c}]" for c in np.atleast_1d(post[extra[0]].values)])
        for i, lab in enumerate(labels):
            rows.append({"variable": lab, "mean": flat[i].mean(), "sd": flat[i].std(ddof=1)
                         if flat.shape[1] > 1 else np.nan,
                         "q5": np.quantile(flat[i], 0.05), "q95": np.quantile(flat[i], 0.95),
                         "r_hat": flat_r[i], "ess_bulk": flat_b[i], "ess_tail": flat_t[i]})
    tab = pd.DataFrame(rows).set_index("variable")
    tab["ok"] = ((tab["r_hat"] <= rhat_max) & (tab["ess_bulk"] >= ess_min)
                 & (tab["ess_tail"] >= ess_min))
    n_div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    summary = {"max_r_hat": float(np.nanmax(tab["r_hat"])) if tab["r_hat"].notna().any()
               else float("nan"),
               "min_ess_bulk": float(tab["ess_bulk"].min()),
               "min_ess_tail": float(tab["ess_tail"].min()), "n_divergent": n_div,
               "n_draws": n_draws, "n_chains": int(post.sizes["chain"])}
    idata.sample_stats.attrs.update(summary)
    if warn:
        problems = []
        bad_r = tab[~(tab["r_hat"] <= rhat_max)]
        if len(bad_r):
            worst = (bad_r["r_hat"].idxmax() if bad_r["r_hat"].notna().any()
                     else bad_r.index[0])
            problems.append(f"R-hat > {rhat_max} (or undefined with one chain) for "
                            f"{len(bad_r)} of {len(tab)} quantities (worst {worst} = "
                            f"{summary['max_r_hat']:.3f})")
        for col in ("ess_bulk", "ess_tail"):
            bad = tab[tab[col] < ess_min]
            if len(bad):
                problems.append(f"{col.replace('_', ' ')} < {ess_min:g} for {len(bad)} "
                                f"quantities (lowest {bad[col].idxmin()} = "
                                f"{bad[col].min():.0f} of {n_draws} draws)")
        if n_div:
            problems.append(f"{n_div} divergent transition(s) of {n_draws} (raise "
                            "target_accept, narrow bounds or reparameterise)")
        if problems:
            warnings.warn("NUTS diagnostics fail the usual thresholds: " + "; ".join(problems)
                          + ". Do not trust these posteriors; run longer chains.",
                          ConvergenceWarning, stacklevel=2)
    return tab


# --------------------------------------------------------------------------- I/O

def save_inference(idata: Any, path: str | Path) -> Path:
    """Write the InferenceData of :func:`sample` to NetCDF (h5netcdf), atomically."""
    _meta(idata)
    return write_with(path, lambda p: idata.to_netcdf(str(p), engine="h5netcdf"),
                      name="path")


def load_inference(path: str | Path) -> Any:
    """Read an InferenceData written by :func:`save_inference` (loaded into memory).

    A path that is missing or a folder, a file that is not NetCDF (empty, truncated,
    another format) and a NetCDF file that is not a posterior of :func:`sample` are a
    :class:`~engramlab.errors.DataError` naming the file."""
    import arviz as az

    from ..errors import DataError

    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise DataError(f"path: expected a file path (str or Path), got "
                        f"{type(path).__name__} {path!r:.80}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"path: no such file {str(p)!r}")
    if p.is_dir():
        raise DataError(f"path: {str(p)!r} is a folder; expected a NetCDF file written by "
                        "cmr.save_inference")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.from_netcdf(str(p), engine="h5netcdf")
            idata.load()
    except Exception as exc:  # noqa: BLE001 - h5py/xarray raise many kinds
        raise DataError(f"path: {str(p)!r} is not a readable NetCDF posterior (empty, "
                        f"truncated or another format: {type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    try:
        _meta(idata, "path")
    except ValidationError:
        raise DataError(f"path: {str(p)!r} is a NetCDF file but not a posterior written "
                        "by cmr.save_inference (no engramlab_spec attribute)") from None
    return idata


# --------------------------------------------------------------------------- PPC

def _draw_params(idata, n_draws: int, rng: np.random.Generator):
    """``(n_draws, S, n_par)`` full parameter vectors of random posterior draws."""
    meta = _meta(idata)["spec"]
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

    from ._analysis import recall_curves
    from ._api import simulate

    key = _check_key(key)
    _meta(idata)
    data = _check_frame(data, "data")
    n_draws = check_int(n_draws, "n_draws", min_value=1)
    n_rep = check_int(n_rep, "n_rep", min_value=1)
    interval = check_range(interval, "interval", 0.0, 1.0, lo_inclusive=False,
                           hi_inclusive=False)
    subjects = list(idata.posterior["subject"].values)
    dsub = pd.Series(data["subject"]).astype(str) if idata.posterior["subject"].dtype.kind \
        in "US" else data["subject"]
    missing = [s for s in subjects if not (dsub == s).any()]
    if missing:
        raise ValidationError(f"data: expected the data the posterior was sampled on; "
                              f"subject(s) {missing[:5]} are missing")
    _check_sampled_data(idata, data, subjects, dsub)
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
        c = recall_curves(pd.concat(sims, ignore_index=True))
        for k in curves:
            curves[k].append(c[k].assign(draw=d))
    obs = recall_curves(data)
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


# --------------------------------------------------------------------------- comparison

def point_fits(idata: Any, data: pd.DataFrame, *, method: str = "gradient",
               pool_size: int | None = None, **fit_kw: Any) -> pd.DataFrame:
    """Maximum-likelihood fits of every subject with the sampled model's free parameters,
    bounds and fixed values (for AIC / BIC); one row per subject, as
    :func:`~engramlab.cmr.fit` (``fit_kw`` passed on, e.g. ``n_starts``, ``maxiter``)."""
    from ._fit import fit

    meta = _meta(idata)["spec"]
    data = _check_frame(data, "data")
    free = {n: (lo, hi) for n, lo, hi in zip(meta["free"], meta["lo"], meta["hi"],
                                             strict=True)}
    fixed = {n: v for n, v in zip(meta["names"], meta["base"], strict=True) if n not in free}
    subjects = list(idata.posterior["subject"].values)
    dsub = pd.Series(data["subject"]).astype(str) if idata.posterior["subject"].dtype.kind \
        in "US" else data["subject"]
    missing = [s for s in subjects if not (dsub == s).any()]
    if missing:
        raise ValidationError(f"data: expected the data the posterior was sampled on; "
                              f"subject(s) {missing[:5]} are missing")
    _check_sampled_data(idata, data, subjects, dsub)
    rows = []
    for s in subjects:
        r = fit(data[dsub == s], variant=meta["variant"], method=method, free=free,
                fixed=fixed, pool_size=pool_size, **fit_kw)
        r.insert(0, "subject", s)
        rows.append(r)
    out = pd.concat(rows, ignore_index=True)
    out.attrs[_DATA_ATTR] = json.dumps(_frame_fingerprint(data[dsub.isin(subjects)]))
    return out


def _frame_fingerprint(data: pd.DataFrame) -> dict[str, Any]:
    """:func:`_data_fingerprint` of a psifr frame, cleaned and ordered as ``sample`` does."""
    from ._data import to_arrays

    arr = to_arrays(data)
    return _data_fingerprint(arr.recalls, arr.subject)


def _idata_fingerprint(idata: Any) -> dict[str, Any] | None:
    """The data fingerprint stored by :func:`sample`; for an older result without it,
    one rebuilt from its ``observed_data`` (recalls and list subjects; ``None`` if those
    are missing too)."""
    raw = idata.posterior.attrs.get(_DATA_ATTR)
    if raw is not None:
        return json.loads(raw)
    obs = getattr(idata, "observed_data", None)
    if obs is None or "recalls" not in obs or "list_subject" not in obs:
        return None
    return _data_fingerprint(np.asarray(obs["recalls"].values),
                             np.asarray(obs["list_subject"].values))


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
        meta = _meta(idata, f"results[{name!r}]", ("log_likelihood",))
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
        fp = _idata_fingerprint(idata)
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
    _check_same_data(n_lists, prints)
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
            raw = getattr(pf, "attrs", {}).get(_DATA_ATTR)
            if raw is not None and m in prints:
                diff = _data_differences(prints[m], json.loads(raw))
                if diff:
                    raise ValidationError(f"point_fits[{m!r}]: fitted to other data than "
                                          f"model {m!r}'s posterior (what differs: "
                                          f"{', '.join(diff)}); fit the same lists")
            tab.loc[m, "logl"] = float(pf["logl"].sum())
            tab.loc[m, "k_total"] = int(pf["k"].sum())
            tab.loc[m, "aic"] = float((2 * pf["k"] - 2 * pf["logl"]).sum())
            tab.loc[m, "bic"] = float((pf["k"] * np.log(pf["n_lists"]) - 2 * pf["logl"]).sum())
    return tab.sort_values("elpd_loo", ascending=False)


def _check_same_data(n_lists: Mapping[str, int], prints: Mapping[str, Mapping[str, Any]]
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
        diff = _data_differences(prints[have[0]], prints[m])
        if diff:
            raise ValidationError(f"results: models {have[0]!r} and {m!r} were fitted to "
                                  f"different data (what differs: {', '.join(diff)}); "
                                  "compare needs every model fitted to the same lists in "
                                  "the same order")

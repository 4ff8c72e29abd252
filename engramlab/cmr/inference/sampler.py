"""One model's sampler: the model, its preconditioner and kernel, the compiled chains.

:class:`Sampler` builds the NumPyro model of ``engramlab.cmr.inference.model`` for one
data set, the Laplace preconditioner (``engramlab.cmr.inference.laplace``) and the
kernel (``engramlab.cmr.inference.kernels``), and compiles the run of ``warmup +
draws`` transitions of one or several chains (:meth:`Sampler.program`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from .laplace import (
    Preconditioner,
    laplace_preconditioner,
    likelihood_blocks,
    pooling_factors,
    start_values,
    subject_modes,
)
from .model import make_model, thetas

if TYPE_CHECKING:
    from .._api import LoglikFunction
    from .spec import FitSpec

__all__ = ["Sampler", "INFO_KEYS"]

#: the sample-stats a chain run returns, by :class:`~.kernels.SampleInfo` field: the keys
#: of the ``x:`` arrays of a unit (NumPyro's attribute paths; checkpoints store them)
INFO_KEYS = {"diverging": "diverging", "num_steps": "num_steps",
             "accept_prob": "accept_prob", "step_size": "adapt_state.step_size",
             "potential_energy": "potential_energy"}


class Sampler:
    """One model's sampler: NUTS (``sampler="nuts"``) or NUTS within Gibbs
    (``sampler="gibbs"``, the centred hierarchical model), optionally preconditioned by a
    Laplace approximation, with its compiled chain programs (:meth:`program`).

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

    def __init__(self, ll: LoglikFunction, spec: FitSpec, subj_idx: np.ndarray, n_subj: int,
                 pri: dict[str, np.ndarray], hierarchical: bool, *, parameterization: str,
                 precondition: str | None, draws: int, warmup: int, target_accept: float,
                 max_tree_depth: int, sampler: str = "nuts") -> None:
        import jax
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree
        from numpyro.infer.util import constrain_fn, initialize_model, potential_energy

        self.kw = dict(draws=draws, warmup=warmup, target_accept=target_accept,
                       max_tree_depth=max_tree_depth)
        self.preconditioned = precondition == "laplace"
        lo, hi = jnp.asarray(spec.lo), jnp.asarray(spec.hi)
        base, idx = jnp.asarray(spec.base), jnp.asarray(spec.idx)
        sidx = np.asarray(subj_idx)

        def thetas_of(z):                               # (S, k) -> (S, n_par)
            return thetas(z, lo, hi, base, idx)

        def nll(z):                                     # (S, k) -> -log likelihood
            return -jnp.sum(ll.per_subject(thetas_of(z), sidx))

        gibbs = hierarchical and sampler == "gibbs"
        if gibbs:                     # NUTS within Gibbs on the centred model
            parameterization = "centered"
        weights = None
        if self.preconditioned or gibbs or (hierarchical and parameterization == "partial"):
            zhat = subject_modes(nll, n_subj, pri)
            blocks = likelihood_blocks(nll, zhat)                       # (S, k, k)
            mu0 = zhat.mean(axis=0)
            sd0 = np.maximum(zhat.std(axis=0), 0.1) if n_subj > 1 else np.ones_like(mu0)
            if hierarchical and parameterization == "partial":
                weights = 1.0 - pooling_factors(blocks, sd0)
        self.weights = weights
        model = make_model(ll, spec, subj_idx, n_subj, pri, hierarchical, parameterization,
                           weights=weights)
        prior = make_model(ll, spec, subj_idx, n_subj, pri, hierarchical, parameterization,
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
            self.gibbs = self._gibbs_kernel(ll, sidx, nll, thetas_of, zhat, blocks, mu0, sd0,
                                            pri)
            dtype = jnp.result_type(float)
            self.pre = Preconditioner(jnp.zeros(self.dim, dtype),
                                      jnp.eye(self.dim, dtype=dtype), None)
        elif not self.preconditioned:
            self.pre = Preconditioner(jnp.zeros(self.dim), jnp.eye(self.dim), None)
        else:
            values = start_values(zhat, mu0, sd0, hierarchical, parameterization, weights)
            self.pre = laplace_preconditioner(prior, info.potential_fn, unravel, values,
                                              blocks, hierarchical, parameterization)

    @property
    def x0(self) -> Any:
        """The preconditioner's centre ``(D,)``."""
        return self.pre.x0

    @property
    def root(self) -> Any:
        """The preconditioner's matrix ``R`` ``(D, D)``."""
        return self.pre.root

    @property
    def hessian(self) -> np.ndarray | None:
        """The Laplace Hessian ``H`` ``(D, D)`` (float64), ``None`` without."""
        return self.pre.hessian

    def _gibbs_kernel(self, ll, sidx, nll, thetas_of, zhat, blocks, mu0, sd0, pri):
        """The NUTS-within-Gibbs kernel (``engramlab.cmr.inference.kernels.gibbs``):
        the subjects' block whitened by their likelihood modes and Hessian blocks under
        the current hyperparameters (by the prior alone without preconditioning); draws
        are the centred model's flat vector, so post-processing needs no map.
        ``thetas_of``: ``z`` ``(S, k)`` -> full parameter vectors (the bounded transform
        ``nll`` uses)."""
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        from .._model import subject_loglik
        from .kernels import GibbsKernel

        dtype = jnp.result_type(float)
        S, k = zhat.shape
        if not self.preconditioned:       # no likelihood curvature: the prior alone
            blocks = np.zeros((S, k, k))

        def pack(mu, sigma, z):
            return ravel_pytree({"mu": mu, "sigma": jnp.log(sigma), "z": z})[0]

        # every subject's lists, laid out by subject, for its own NUTS chain
        rec, feats, sqrt_m = ll.data
        lay = ll.subject_layout(sidx, np.asarray(rec), S)
        index = jnp.asarray(lay.index)
        rows = jnp.maximum(index, 0)
        data = {"recalls": rec[rows], "features": {f: v[rows] for f, v in feats.items()},
                "mask": index >= 0}
        L = ll.list_length

        def nll_one(z_s, d):
            theta = thetas_of(z_s[None])[0]
            return -subject_loglik(theta, d["recalls"], d["features"], d["mask"], sqrt_m,
                                   variant=ll.variant, L=L, n_steps=lay.n_steps)

        return GibbsKernel(nll, nll_one, data, jnp.asarray(zhat, dtype),
                           jnp.asarray(blocks, dtype), mu0, sd0, pri, pack,
                           target_accept=self.kw["target_accept"],
                           max_tree_depth=self.kw["max_tree_depth"])

    def init(self, key: Any, chains: int | None) -> Any:
        """Initial ``y`` of one chain (``chains=None``) or ``(chains, D)`` (the whitened
        subject block, ``D = S k``, for the Gibbs kernel)."""
        import jax

        dim = self.dim if self.gibbs is None else self.gibbs.zhat.size
        shape = (dim,) if chains is None else (chains, dim)
        if self.preconditioned:
            return jax.random.normal(key, shape, self.x0.dtype)
        return jax.random.uniform(key, shape, self.x0.dtype, -1.0, 1.0)

    def kernel(self) -> Any:
        """The :class:`~engramlab.cmr.inference.kernels.Kernel` the chains run: NUTS on
        the preconditioned potential ``y -> U(x0 + R y)``, or the Gibbs kernel."""
        from .kernels import gibbs_kernel, nuts

        warmup = self.kw["warmup"]
        if self.gibbs is not None:
            return gibbs_kernel(self.gibbs, warmup)
        x0, root, unravel, pot = self.x0, self.root, self.unravel, self.potential

        def potential(y):
            return pot(unravel(x0 + root @ y))

        return nuts(potential, num_warmup=warmup, target_accept=self.kw["target_accept"],
                    max_tree_depth=self.kw["max_tree_depth"])

    def program(self, chains: int, chain_method: str) -> Any:
        """The compiled run of ``chains`` chains side by side: ``(keys (chains,), y0
        (chains, D)) -> (draws (chains, N, D), {field: (chains, N)})`` (the sample-stats of
        :data:`INFO_KEYS`). Each chain is the kernel's init then ``warmup + draws``
        transitions in one ``lax.scan`` (warm-up adapts step size and mass matrix; only
        the last ``draws`` states are returned), as NumPyro's ``MCMC.run`` does;
        ``chains`` chains run on as many devices (``"parallel"``, ``pmap``) or in one
        vectorised program.

        Made once per layout and kept: the chains of a sequential run, one unit each, then
        compile it once (``MCMC`` re-wraps its loop on every ``run`` and compiles it
        again for every chain)."""
        import jax

        cache = self._programs
        if (chains, chain_method) in cache:
            return cache[chains, chain_method]
        kernel = self.kernel()
        warmup = self.kw["warmup"]

        def one(key, y0):
            state = kernel.init(key, y0)

            def step(st, _):
                st, info = kernel.step(st)
                return st, (kernel.position(st), info)

            pos, info = jax.lax.scan(step, state, None, length=warmup + self.kw["draws"])[1]
            return pos[warmup:], {INFO_KEYS[f]: getattr(info, f)[warmup:] for f in INFO_KEYS}

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

"""The Laplace approximation of the posterior: subject modes, likelihood blocks and the
preconditioner NUTS runs in.

- :func:`subject_modes`: every subject's posterior mode ``zhat_s`` ``(S, k)`` without
  pooling (prior ``Normal(mu_loc, mu_scale)``; one L-BFGS run on all subjects at once);
- :func:`likelihood_blocks`: the per-subject ``k x k`` Hessians ``B_s`` of the negative
  log-likelihood in ``z`` at ``zhat`` (``k`` Hessian-vector products);
- :func:`pooling_factors`: ``lambda_sk``, the group prior's share of subject ``s``'s
  precision in parameter ``k`` (sets the ``"partial"`` parameterisation's weights
  ``w = 1 - lambda`` and the Gibbs kernel's weakly identified parameters);
- :func:`laplace_preconditioner`: the Gaussian approximation ``N(x0, R R^T)`` of the
  posterior on NumPyro's unconstrained scale, ``R R^T = H^-1`` (eigenvalues of ``H``
  floored at 0.1), whose linear change of variables ``x = x0 + R y`` NUTS samples in.

Everything is on the unconstrained ``z`` scale of ``engramlab.cmr.inference.model``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from ...errors import DivergenceError
from .model import z_of

__all__ = ["Preconditioner", "laplace_preconditioner", "likelihood_blocks",
           "pooling_factors", "start_values", "subject_modes"]


class Preconditioner(NamedTuple):
    """``x = x0 + root y``: ``x0`` ``(D,)`` the approximation's centre on NumPyro's
    unconstrained scale, ``root`` ``(D, D)`` with ``root root^T = H^-1`` (``H`` the
    Hessian of the negative log posterior at ``x0``, eigenvalues floored at 0.1; the
    identity without preconditioning), ``hessian`` ``(D, D)`` (float64; ``None``
    without)."""

    x0: Any
    root: Any
    hessian: np.ndarray | None


def subject_modes(nll: Callable[[Any], Any], n_subj: int,
                  pri: Mapping[str, np.ndarray]) -> np.ndarray:
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


def likelihood_blocks(nll: Callable[[Any], Any], zhat: np.ndarray) -> np.ndarray:
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


def pooling_factors(blocks: Any, sigma: Any) -> np.ndarray:
    """``lambda_sk = sigma_k^-2 / (info_sk + sigma_k^-2)``: the group prior's share of
    subject ``s``'s precision in parameter ``k`` (0: the data identify ``z_sk``; 1: it is
    pinned to the group distribution), with ``info_sk = 1 / (B_s^-1)_kk`` the
    likelihood's information, marginal over the other parameters (pseudo-inverse; 0 where
    the likelihood does not depend on ``z_sk``). ``blocks`` ``(S, k, k)`` the subjects'
    likelihood Hessians, ``sigma`` ``(k,)``; returns ``(S, k)`` (NumPy, float64)."""
    var = np.diagonal(np.linalg.pinv(np.asarray(blocks, np.float64)), axis1=1, axis2=2)
    info = np.where(var > 0, 1.0 / np.where(var > 0, var, 1.0), 0.0)
    prec = 1.0 / np.asarray(sigma, np.float64) ** 2
    return prec / (info + prec)


def start_values(zhat: np.ndarray, mu0: np.ndarray, sd0: np.ndarray, hierarchical: bool,
                 parameterization: str, weights: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """The constrained sites at the approximation's centre: every subject at its unpooled
    mode ``zhat`` ``(S, k)``, ``mu``, ``sigma`` ``(k,)`` at ``mu0``, ``sd0`` (the modes'
    mean and spread), in the sites of ``parameterization``."""
    if not hierarchical:
        return {"z": zhat}
    if parameterization == "centered":
        return {"mu": mu0, "sigma": sd0, "z": zhat}
    if parameterization == "partial":
        return {"mu": mu0, "sigma": sd0,
                "zt": weights * mu0 + sd0 ** weights * (zhat - mu0) / sd0}
    return {"mu": mu0, "sigma": sd0, "eta": (zhat - mu0) / sd0}


def laplace_preconditioner(prior: Callable[[], None], potential_fn: Callable[[Any], Any],
                           unravel: Callable[[Any], Any], values: Mapping[str, Any],
                           blocks: np.ndarray, hierarchical: bool,
                           parameterization: str) -> Preconditioner:
    """The preconditioner at ``values`` (:func:`start_values`): ``H`` = the prior's Hessian
    (exact, ``potential_fn`` the prior model's potential on the flat unconstrained vector
    through ``unravel``) + ``J^T B J`` (Gauss-Newton: the likelihood blocks ``B``
    ``(S, k, k)`` mapped through ``J = dz/dx`` ``(S, k, D)``; exact where ``z`` is linear
    in ``x``: centred, no pooling). A non-finite ``H`` is a
    :class:`~engramlab.errors.DivergenceError`."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import constrain_fn, unconstrain_fn

    x0 = ravel_pytree(unconstrain_fn(prior, (), {}, values))[0]

    def z_flat(f):
        return z_of(constrain_fn(prior, (), {}, unravel(f), return_deterministic=True),
                    hierarchical, parameterization)

    # compiled once each (evaluated eagerly, JAX would compile every operation)
    h_prior = jax.jit(jax.hessian(lambda f: potential_fn(unravel(f))))(x0)
    J = np.asarray(jax.jit(jax.jacfwd(z_flat))(x0), np.float64)  # (S, k, D)
    # Gauss-Newton: the likelihood's curvature in z mapped through dz/dx (exact
    # where z is linear in x: centred, no pooling)
    H = np.asarray(h_prior, np.float64) + np.einsum("sid,sij,sje->de", J, blocks, J)
    hessian = 0.5 * (H + H.T)
    w, v = np.linalg.eigh(hessian)
    if not np.all(np.isfinite(w)):
        raise DivergenceError("sample: the Laplace preconditioner's Hessian is not "
                              "finite at the subjects' modes; pass precondition=None")
    # no direction wider than the priors allow (sd <= 1 / sqrt(0.1) ~ 3 on the
    # unconstrained scale; guards against Hessian rounding in flat directions)
    w = np.maximum(w, 0.1)
    dtype = jnp.result_type(float)
    return Preconditioner(jnp.asarray(np.asarray(x0, np.float64), dtype),
                          jnp.asarray(v / np.sqrt(w), dtype), hessian)

"""The NumPyro model of CMR parameters and the bounded transform ``z <-> theta``.

Built only on :func:`engramlab.cmr.make_loglik` (a differentiable, jitted per-list
log-likelihood of fixed data), so every variant can be sampled, with no per-variant code.

**Transform.** Each free parameter ``k`` with bounds ``(lo_k, hi_k)`` (natural units) is
sampled on the real line as ``z_k`` with ``theta_k = lo_k + (hi_k - lo_k) sigmoid(z_k)``
(the same bounded transform as ``fit(method="gradient")``). Non-free parameters keep their
``fixed`` value (or the class default), as in :func:`~engramlab.cmr.fit`.

**Hierarchical model** (``hierarchical=True``, partial pooling), ``k = 1..K`` free
parameters, ``s = 1..S`` subjects, lists ``i`` of subject ``s(i)``::

    mu_k     ~ Normal(mu_loc_k, mu_scale_k)        group location on the z scale
    sigma_k  ~ HalfNormal(sigma_scale_k)           between-subject spread (z scale)
    z_sk     ~ Normal(mu_k, sigma_k)
    log p(data | z) = sum_i log L(recalls_i | theta(z_{s(i)}))

sampled non-centred (``z = mu + sigma eta``), centred, or partially centred per subject
and parameter (default; see :func:`make_model`), in coordinates that whiten a Laplace
approximation (``engramlab.cmr.inference.laplace``).
``lo_k + (hi_k - lo_k) sigmoid(mu_k)`` is the group median of parameter ``k``.

**Per-subject model** (``hierarchical=False``, no pooling): ``z_sk ~ Normal(mu_loc_k,
mu_scale_k)`` independently; every subject is sampled separately (on Dask for several
subjects, like :func:`~engramlab.cmr.fit_subjects`) or in one joint run.

With the default ``mu_loc = 0``, ``mu_scale = 1.5`` the prior on each parameter is a
logit-normal over its bounds, close to uniform (a standard deviation of 1.5 on the logit
scale is nearly flat on ``(lo, hi)``); so the **bounds are part of the prior**: pass
``free={name: (lo, hi)}`` to narrow them.

``log L_i = sum_{j<n_i} log[(1 - P_stop(j)) P(r_j)] + log P_stop(n_i)`` is the exact
recall-sequence likelihood of list ``i`` (``n_i`` recalls, nats).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._api import LoglikFunction
    from .spec import FitSpec

__all__ = ["make_model", "thetas", "z_of"]


def make_model(ll: LoglikFunction, spec: FitSpec, subj_idx: np.ndarray, n_subj: int,
               pri: dict[str, np.ndarray], hierarchical: bool,
               parameterization: str = "non-centered", likelihood: bool = True,
               weights: np.ndarray | None = None) -> Callable[[], None]:
    """The NumPyro model (a closure over the data's :class:`LoglikFunction`) of the
    module docstring: ``subj_idx`` ``(n_lists,)`` each list's subject in ``0..n_subj - 1``,
    ``pri`` the resolved priors (:meth:`Priors.resolve`: ``mu_loc``, ``mu_scale``,
    ``sigma_scale``, each ``(k,)``); sites ``mu``, ``sigma`` ``(k,)``, ``z`` / ``eta`` /
    ``zt`` ``(S, k)`` and the deterministic ``log_lik`` ``(n_lists,)`` (nats).

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
            per = ll.per_subject(thetas(z, lo, hi, base, idx), sidx)  # (n_lists,)
            numpyro.deterministic("log_lik", per)
            numpyro.factor("loglik", jnp.sum(per))

    return model


def thetas(z: Any, lo: Any, hi: Any, base: Any, idx: Any) -> Any:
    """``z`` ``(S, k)`` on the unconstrained scale -> full parameter vectors ``(S, n_par)``:
    ``theta[:, idx] = lo + (hi - lo) sigmoid(z)``, the other entries ``base`` ``(n_par,)``
    (``lo``, ``hi`` ``(k,)`` in natural units)."""
    import jax
    import jax.numpy as jnp

    th_s = lo + (hi - lo) * jax.nn.sigmoid(z)
    return jnp.broadcast_to(base, (z.shape[0], base.shape[0])).at[:, idx].set(th_s)


def z_of(site: Mapping[str, Any], hierarchical: bool, parameterization: str) -> Any:
    """Per-subject ``z`` ``(S, k)`` from constrained site values (``z = mu + sigma eta``
    non-centred, else the ``z`` site)."""
    if hierarchical and parameterization == "non-centered":
        return site["mu"] + site["sigma"] * site["eta"]
    return site["z"]

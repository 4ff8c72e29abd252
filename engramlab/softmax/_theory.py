r"""Closed-form theory of the memory-target similarity (Lotito 2025, App. B) and the
appendix experiment, batched over seeds and parameters.

Derivation (winner-take-all, fixed targets)
-------------------------------------------
Let the stream present target ``eta_mu`` on a fraction ``p_mu`` of the steps and let
memory ``mu`` win the softmax whenever ``eta_mu`` is shown (``w_mu ~ 1``) and lose
otherwise (``w_mu ~ 0``): true when ``beta (Xi_mu . eta_mu - max_{nu != mu}
Xi_nu . eta_mu) >> 1`` -- in App. B ``beta * ~47 ~ 94``. Averaging the dynamics over
presentations (``tau_Xi`` is much longer than one round of presentations),

    tau_Xi dXi_mu/dt = p_mu (Lambda_mu + eta_mu - Xi_mu),

so memory ``mu`` relaxes exponentially with the *effective time constant*
``tau_mu = tau_Xi / p_mu``:

    Xi_mu(t) = e_mu(t) xi_mu + (1 - e_mu(t)) u_mu,   e_mu(t) = exp(-p_mu t / tau_Xi),

with ``xi_mu = Xi_mu(0)`` and ``u_mu = eta_mu + Lambda_mu``. The cosine similarity with
the target follows from dot products only:

    S_mu(t) = [e (xi.eta) + (1-e) (u.eta)]
              / (|eta| sqrt(e^2 |xi|^2 + (1-e)^2 |u|^2 + 2 e (1-e) xi.u)).

With ``Lambda = 0`` and writing ``a = |xi|``, ``b = |eta|``, ``alpha = cos(xi, eta)``
(the measured initial overlap),

    S(t) = (e a alpha + (1-e) b) / sqrt(e^2 a^2 + (1-e)^2 b^2 + 2 e (1-e) a b alpha),

which for ``a = b`` is the paper's formula

    S(t) = (e alpha + 1 - e) / sqrt(e^2 + (1-e)^2 + 2 e (1-e) alpha).

The paper's script uses the ``a = b`` form although its targets are
``eta = xi + 0.4 z`` (``|eta|^2 ~ 1.16 |xi|^2``); that norm mismatch, not the
winner-take-all approximation, is the dominant error (up to ~4e-3 in App. B, see
``docs/softmax.md``). ``norms="measured"`` (default) uses the actual norms; ``"equal"``
reproduces the paper's formula.

Discrete form (``labels`` given): the Euler map relaxes memory ``mu`` by a factor
``(1 - dt/tau_Xi)`` at each step on which pattern ``mu`` is shown and leaves it alone
otherwise, so ``e_mu(k) = (1 - dt/tau_Xi)^{n_mu(k)}`` with ``n_mu(k)`` the number of
presentations of ``mu`` before step ``k``. This is exact (to round-off) under exact
winner-take-all and shows the residual of the continuous form is the staircase of
discrete presentations plus ``(1 - dt/tau)^n`` vs ``exp(-n dt/tau)``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._integrate import ensure_finite
from .._validation import (
    as_array,
    as_key,
    check_choice,
    check_nonnegative,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import ShapeError, ValidationError
from ._dynamics import SoftmaxSynapses, _float_dtype, check_bias, check_params
from ._streams import orthogonal_memories

__all__ = ["theory_similarity", "run_appendix", "APPENDIX"]

#: The App. B configuration of the paper's script.
APPENDIX = dict(n_v=50, n_h=4, n_steps=2000, tau=250.0, noise=0.4, beta=2.0, dt=1.0)


def _relaxation(xi0: jax.Array, targets: jax.Array, bias: jax.Array, e: jax.Array,
                norms: str) -> jax.Array:
    """Cosine of ``e xi + (1-e) u`` with ``eta``; ``e`` of shape ``(K, N_h)``."""
    u = targets + bias
    xe = jnp.sum(xi0 * targets, -1)
    ue = jnp.sum(u * targets, -1)
    xx = jnp.sum(xi0 * xi0, -1)
    uu = jnp.sum(u * u, -1)
    xu = jnp.sum(xi0 * u, -1)
    ee = jnp.sum(targets * targets, -1)
    if norms == "equal":  # the paper's formula: |xi| = |eta| = |u|, Lambda = 0
        alpha = xe / jnp.sqrt(xx * ee)
        return (e * alpha + 1 - e) / jnp.sqrt(e**2 + (1 - e) ** 2 + 2 * e * (1 - e) * alpha)
    num = e * xe + (1 - e) * ue
    den = jnp.sqrt(ee) * jnp.sqrt(e**2 * xx + (1 - e) ** 2 * uu + 2 * e * (1 - e) * xu)
    return num / den


def _theory_core(xi0: jax.Array, targets: jax.Array, bias: jax.Array, n_steps: int,
                 tau: Any, dt: Any, p: jax.Array, norms: str) -> jax.Array:
    t = jnp.arange(n_steps + 1, dtype=xi0.dtype) * dt
    e = jnp.exp(-t[:, None] * p[None, :] / tau)
    return _relaxation(xi0, targets, bias, e, norms)


def theory_similarity(xi0: Any, targets: Any, *, n_steps: int, tau: float, dt: float = 1.0,
                      p: Any = None, labels: Any = None, bias: Any = None,
                      norms: str = "measured") -> jax.Array:
    """Closed-form memory-target cosine similarity ``S_mu(t)``, shape ``(T + 1, N_h)``.

    Continuous form (default; the paper's theory): exponential relaxation of memory
    ``mu`` from ``Xi_mu(0)`` towards ``eta_mu + Lambda_mu`` with effective time constant
    ``tau / p_mu``, ``e_mu(t) = exp(-p_mu t / tau)`` at ``t = k dt``, ``k = 0..T``:

        S_mu(t) = [e xi.eta + (1-e) u.eta] / (|eta| |e xi + (1-e) u|),  u = eta + Lambda,

    i.e. for ``Lambda = 0``, ``S = (e a alpha + (1-e) b) / sqrt(e^2 a^2 + (1-e)^2 b^2
    + 2 e (1-e) a b alpha)`` with ``a = |xi_mu|``, ``b = |eta_mu|`` and ``alpha`` the
    measured initial overlap ``cos(xi_mu, eta_mu)``. See the module docstring for the
    derivation (winner-take-all, presentation-averaged dynamics).

    **Arguments:**

    - ``xi0``: initial memories ``(N_h, N_v)``; ``targets``: ``eta`` ``(N_h, N_v)``.
    - ``n_steps``: ``T``; ``tau``: ``tau_Xi``; ``dt``: step (``t = k dt``).
    - ``p``: ``p_mu``, the fraction of time pattern ``mu`` wins, ``(N_h,)``; default
      ``1/N_h`` (round robin), or the presentation frequencies of ``labels``.
    - ``labels``: optional ``(T,)`` index of the target shown at each step; if given the
      *discrete* form ``e_mu(k) = (1 - dt/tau)^{n_mu(k)}`` is used (``n_mu(k)``:
      presentations of ``mu`` before step ``k``), exact under winner-take-all.
    - ``bias``: ``Lambda`` as in :func:`~engramlab.softmax.simulate`.
    - ``norms``: ``"measured"`` (default, exact for the relaxation) or ``"equal"`` (the
      paper's script: assumes ``|xi_mu| = |eta_mu|`` and ``Lambda = 0``).

    **Returns:** ``(T + 1, N_h)``, row 0 the initial overlap.
    """
    xi0 = as_array(xi0, "xi0", ndim=2)
    n_h, n_v = xi0.shape
    targets = as_array(targets, "targets", shape=(n_h, n_v))
    n_steps = check_size(n_steps, "n_steps", max_value=2**31 - 1)
    _, tau, dt = check_params(0.0, tau, dt)
    check_resources("theory_similarity", n_bytes=6 * nbytes(n_steps + 1, n_h),
                    n_ops=20.0 * (n_steps + 1) * n_h, args={"n_steps": n_steps, "n_h": n_h})
    bias = check_bias(bias, n_h, n_v)
    norms = check_choice(norms, "norms", ("measured", "equal"))
    dtype = _float_dtype()
    xi0_j, tg_j, b_j = (jnp.asarray(a, dtype) for a in (xi0, targets, bias))
    if labels is not None:
        labels = as_array(labels, "labels", shape=(n_steps,), kind="int")
        if labels.min() < 0 or labels.max() >= n_h:
            raise ValidationError(f"labels: expected values in [0, {n_h - 1}], got range "
                                  f"[{labels.min()}, {labels.max()}]")
        onehot = labels[:, None] == np.arange(n_h)[None, :]
        counts = np.concatenate([np.zeros((1, n_h)), np.cumsum(onehot, axis=0)], axis=0)
        e = jnp.asarray((1.0 - dt / tau) ** counts, dtype)
        return _finite_theory(_relaxation(xi0_j, tg_j, b_j, e, norms), tau, dt)
    if p is None:
        p = np.full(n_h, 1.0 / n_h)
    p = as_array(p, "p", shape=(n_h,))
    if np.any(p < 0):
        raise ValidationError(f"p: expected fractions >= 0, got {p}")
    out = _theory_core(xi0_j, tg_j, b_j, n_steps, tau, dt, jnp.asarray(p, dtype), norms)
    return _finite_theory(out, tau, dt)


def _finite_theory(out: jax.Array, tau: float, dt: float) -> jax.Array:
    """The closed form is a cosine: non-finite only for zero or overflowing rows."""
    return ensure_finite(out, "theory_similarity", {"tau": tau, "dt": dt},
                         hint="a memory, target or u = eta + Lambda row is zero (cosine "
                              "undefined) or too large for the working dtype")


def _appendix_single(key: jax.Array, beta: Any, tau: Any, noise: Any, dt: Any, n_v: int,
                     n_h: int, n_steps: int) -> dict[str, jax.Array]:
    k_mem, k_noise = jax.random.split(key)
    dtype = _float_dtype()
    xi0 = orthogonal_memories(k_mem, n_h, n_v)
    targets = xi0 + noise * jax.random.normal(k_noise, xi0.shape, dtype)
    labels = jnp.arange(n_steps) % n_h  # round robin, shared by all seeds
    zeros = jnp.zeros_like(xi0)
    model = SoftmaxSynapses(beta=beta, tau=tau, dt=dt, bias=zeros)
    sim = model.run_similarity(xi0, targets, targets, labels=labels)
    p = jnp.full((n_h,), 1.0 / n_h, dtype)
    return {"similarity": sim,
            "theory": _theory_core(xi0, targets, zeros, n_steps, tau, dt, p, "measured"),
            "theory_equal_norms": _theory_core(xi0, targets, zeros, n_steps, tau, dt, p,
                                               "equal"),
            "xi0": xi0, "targets": targets}


def run_appendix(key: jax.Array, *, n_seeds: int | None = None, beta: Any = 2.0,
                 tau: Any = 250.0, noise: Any = 0.4, dt: float = 1.0, n_v: int = 50,
                 n_h: int = 4, n_steps: int = 2000, chunk: int = 64) -> dict[str, jax.Array]:
    """The App. B experiment, ``vmap``-ed over seeds and over ``beta``/``tau``/``noise``.

    Per run: ``Xi(0)`` = Gram-Schmidt orthogonal rows of norm ``sqrt(N_v)``; targets
    ``eta_mu = Xi_mu(0) + noise * z``; round-robin stream ``v_t = eta_{t mod N_h}``;
    ``T`` Euler steps of :func:`~engramlab.softmax.simulate` (``Lambda = 0``); the
    measured similarity and the closed forms of :func:`theory_similarity` (measured
    norms, and the paper's equal-norm formula).

    **Arguments:**

    - ``key``: PRNG key. With ``n_seeds`` it is split into ``n_seeds`` runs (leading
      batch axis ``B = n_seeds``); with ``n_seeds=None`` one run, no batch axis.
    - ``beta``, ``tau``, ``noise``: scalars or 1-D arrays of length ``n_seeds`` (one value
      per run; build grids with ``np.meshgrid`` / ``np.repeat``).
    - ``dt``, ``n_v``, ``n_h``, ``n_steps``: as in the paper (defaults: App. B).
    - ``chunk``: runs per jitted ``vmap`` call (fixed, padded: bounds memory and reuses
      one compilation for any ``n_seeds``).

    **Returns:** dict with ``similarity``, ``theory`` and ``theory_equal_norms``
    ``([B,] T + 1, N_h)``, ``xi0`` and ``targets`` ``([B,] N_h, N_v)`` (NumPy arrays).
    """
    key = as_key(key)
    n_v = check_size(n_v, "n_v")
    n_h = check_size(n_h, "n_h")
    n_steps = check_size(n_steps, "n_steps", max_value=2**31 - 1)
    chunk = check_size(chunk, "chunk")
    if n_h > n_v:
        raise ShapeError(f"n_h: at most n_v = {n_v} orthogonal memories, got {n_h}")
    b = 1 if n_seeds is None else check_size(n_seeds, "n_seeds")
    c = min(chunk, b)
    check_resources("run_appendix",
                    n_bytes=2 * nbytes(b, 3 * (n_steps + 1) * n_h + 2 * n_h * n_v)
                    + 4 * nbytes(c, n_steps + 1, n_h) + 4 * nbytes(c, 64, n_h, n_v),
                    n_ops=12.0 * b * n_steps * n_h * n_v,
                    args={"n_seeds": n_seeds, "n_steps": n_steps, "n_h": n_h, "n_v": n_v})
    vals = {}
    for name, val in (("beta", beta), ("tau", tau), ("noise", noise)):
        arr = as_array(val, name, ndim=(0, 1)).astype(np.float64)
        if arr.ndim == 1 and arr.shape[0] != b:
            raise ShapeError(f"{name}: expected a scalar or {b} values (one per seed), got "
                             f"shape {arr.shape}")
        vals[name] = np.broadcast_to(arr, (b,))
    for bt, ta in zip(vals["beta"], vals["tau"], strict=True):
        check_params(bt, ta, dt)
    for nz in vals["noise"]:
        check_nonnegative(nz, "noise")
    dtype = _float_dtype()
    keys = jax.random.split(key, b) if n_seeds is not None else key[None]
    chunk = min(chunk, b)
    n_pad = -b % chunk
    pad = np.concatenate([np.arange(b), np.zeros(n_pad, dtype=int)])
    keys = keys[pad]
    params = [jnp.asarray(vals[k][pad], dtype) for k in ("beta", "tau", "noise")]
    parts = []
    for start in range(0, b + n_pad, chunk):  # fixed-size vmapped chunks (memory bound)
        sl = slice(start, start + chunk)
        parts.append(jax.device_get(_appendix_chunk(
            keys[sl], *(p[sl] for p in params), jnp.asarray(dt, dtype), n_v, n_h, n_steps)))
    out = {k: np.concatenate([p[k] for p in parts])[:b] for k in parts[0]}
    ensure_finite(out, "run_appendix", {"beta": vals["beta"], "tau": vals["tau"],
                                        "noise": vals["noise"], "dt": dt},
                  hint="beta * Xi v or the noise overflows the working dtype: use smaller "
                       "beta or noise")
    if n_seeds is None:
        out = {k: v[0] for k, v in out.items()}
    return out


@partial(jax.jit, static_argnums=(5, 6, 7))
def _appendix_chunk(keys, beta, tau, noise, dt, n_v, n_h, n_steps):
    return jax.vmap(_appendix_single, (0, 0, 0, 0, None, None, None, None))(
        keys, beta, tau, noise, dt, n_v, n_h, n_steps)

"""Softmax synaptic dynamics (seed 003; Lotito 2025, Neurocomputing 636:129865, App. B).

The memory matrix ``Xi`` (shape ``(N_h, N_v)``: one row per hidden unit / memory) evolves
under a stream of visible states ``v(t)`` (shape ``(N_v,)``) as

    tau_Xi dXi/dt = w ⊙ [(-Xi + Lambda) + v^T],     w = softmax(beta Xi v),

i.e. row ``mu`` relaxes towards ``Lambda_mu + v`` at a rate ``w_mu / tau_Xi`` set by how
strongly hidden unit ``mu`` wins the softmax competition for the current input. Explicit
Euler with step ``dt`` (the paper's script uses ``dt = 1``):

    Xi_{k+1} = Xi_k + (dt / tau_Xi) * w_k[:, None] * (-Xi_k + Lambda + v_k),
    w_k = softmax(beta * Xi_k v_k).

Times are in the same (arbitrary) unit as ``tau`` and ``dt``; the paper uses steps.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import default_float as _float_dtype
from .._integrate import ensure_finite, euler_scan
from .._validation import (
    as_array,
    check_nonnegative,
    check_positive,
    check_resources,
    nbytes,
)
from ..errors import DataError, ShapeError, ValidationError

__all__ = ["SoftmaxSynapses", "simulate", "similarity", "softmax_weights"]


def _traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def softmax_weights(xi: jax.Array, v: jax.Array, beta: jax.Array | float) -> jax.Array:
    """``w = softmax(beta * Xi v)`` over hidden units; ``xi (N_h, N_v)``, ``v (N_v,)``."""
    if not _traced(xi, v, beta):  # called directly (the dynamics call it traced)
        xi = check_memories(xi, "xi")
        v = as_array(v, "v", shape=(xi.shape[1],))
        beta = check_nonnegative(beta, "beta")
        dtype = _float_dtype()
        out = _softmax_weights(jnp.asarray(xi, dtype), jnp.asarray(v, dtype), beta)
        return ensure_finite(out, "softmax_weights", {"beta": beta},
                             hint="beta * Xi v overflows the working dtype: use a smaller "
                                  "beta or smaller memories")
    return _softmax_weights(xi, v, beta)


def _softmax_weights(xi, v, beta):
    # elementwise product + sum (not a dot): fuses well under vmap on CPU
    return jax.nn.softmax(beta * jnp.sum(xi * v, axis=-1))


class SoftmaxSynapses(eqx.Module):
    """Parameters of the softmax synaptic dynamics (a pytree: ``vmap`` over them).

    **Fields:** ``beta`` (softmax inverse temperature, >= 0), ``tau`` (``tau_Xi``, memory
    time constant), ``dt`` (Euler step, same unit as ``tau``), ``bias`` (``Lambda``, shape
    ``(N_h, N_v)`` or broadcastable to it; zero by default). All are array leaves, so
    ``jax.vmap`` over a batch of parameter sets works directly.
    """

    beta: jax.Array
    tau: jax.Array
    dt: jax.Array
    bias: jax.Array

    def __check_init__(self):
        fields = (self.beta, self.tau, self.dt, self.bias)
        if _traced(*fields):
            return  # under jit/vmap: validated at the boundary that built it
        beta = as_array(self.beta, "beta", allow_empty=True)
        tau = as_array(self.tau, "tau", allow_empty=True)
        dt = as_array(self.dt, "dt", allow_empty=True)
        if np.any(beta < 0):
            raise ValidationError(f"beta: expected values >= 0, got {beta}"[:200])
        if np.any(tau <= 0):
            raise ValidationError(f"tau: expected values > 0, got {tau}"[:200])
        if np.any(dt <= 0):
            raise ValidationError(f"dt: expected values > 0, got {dt}"[:200])
        try:
            too_big = np.any(dt >= tau)
        except ValueError:
            raise ShapeError(f"dt: shape {dt.shape} does not broadcast with tau's "
                             f"{tau.shape}") from None
        if too_big:
            raise ValidationError(f"dt: expected dt < tau (explicit Euler with dt >= tau_Xi "
                                  f"overshoots), got dt={dt} and tau={tau}"[:200])
        as_array(self.bias, "bias", allow_empty=True)

    def vector_field(self, t: Any, xi: jax.Array, args: Any, v: jax.Array) -> jax.Array:
        """``dXi/dt = w[:, None] * (-Xi + Lambda + v) / tau``, ``w = softmax(beta Xi v)``."""
        del t, args
        w = _softmax_weights(xi, v, self.beta)
        return w[:, None] * (-xi + self.bias + v[None, :]) / self.tau

    def run(self, xi0: jax.Array, v: jax.Array) -> jax.Array:
        """Unvalidated, jit/vmap-friendly trajectory ``(T + 1, N_h, N_v)`` (see
        :func:`simulate`)."""
        _, traj = euler_scan(self.vector_field, xi0, dt=self.dt, n_steps=v.shape[0],
                             inputs=v)
        return traj

    def final(self, xi0: jax.Array, v: jax.Array) -> jax.Array:
        """Unvalidated final state ``Xi(T)`` only (no trajectory kept)."""
        y, _ = euler_scan(self.vector_field, xi0, dt=self.dt, n_steps=v.shape[0],
                          inputs=v, save_every=None)
        return y

    def run_similarity(self, xi0: jax.Array, v: jax.Array, targets: jax.Array, *,
                       labels: jax.Array | None = None) -> jax.Array:
        """Trajectory reduced on the fly to the cosine similarity with ``targets``:
        ``(T + 1, N_h)``, equal to ``similarity(run(xi0, v), targets)``.

        With ``labels`` (``(T,)`` int), ``v`` is a ``(P, N_v)`` table of patterns and the
        input at step ``k`` is ``v[labels[k]]`` (the stream is never materialised; under
        ``vmap`` over seeds the shared ``labels`` stay unbatched).

        Memory-light: :func:`~engramlab._integrate.euler_scan` runs over blocks of steps
        (the largest divisor of ``T`` up to 64) inside an outer ``lax.scan``, and each
        block's states are reduced to similarities before the next, so the full
        ``(T + 1, N_h, N_v)`` trajectory is never stored."""
        if labels is None:
            inputs, field = v, self.vector_field
        else:
            inputs = labels

            def field(t, y, args, lab):
                return self.vector_field(t, y, args, v[lab])

        n_steps = inputs.shape[0]
        block = max(d for d in range(1, min(n_steps, 64) + 1) if n_steps % d == 0)

        def outer(xi, in_block):
            xi_end, traj = euler_scan(field, xi, dt=self.dt, n_steps=block, inputs=in_block)
            return xi_end, similarity_core(traj[1:], targets)

        blocks = inputs.reshape((n_steps // block, block) + inputs.shape[1:])
        _, sims = jax.lax.scan(outer, xi0, blocks)
        first = similarity_core(xi0[None], targets)
        return jnp.concatenate([first, sims.reshape(n_steps, -1)], axis=0)


def similarity_core(xi_traj: jax.Array, targets: jax.Array) -> jax.Array:
    """Unvalidated cosine similarity of rows (see :func:`similarity`)."""
    dots = jnp.einsum("...tij,...ij->...ti", xi_traj, targets)
    nx = jnp.linalg.norm(xi_traj, axis=-1)
    ne = jnp.linalg.norm(targets, axis=-1)[..., None, :]
    return dots / (nx * ne)


@jax.jit
def _simulate_jit(model: SoftmaxSynapses, xi0: jax.Array, v: jax.Array) -> jax.Array:
    return model.run(xi0, v)


def check_memories(xi: Any, name: str = "xi0") -> np.ndarray:
    """Validate a memory matrix ``(N_h, N_v)`` (finite, 2-D, N_h >= 1)."""
    return as_array(xi, name, ndim=2)


def check_bias(bias: Any, n_h: int, n_v: int) -> np.ndarray:
    """``Lambda``: ``None`` (zeros), scalar, ``(N_v,)`` or ``(N_h, N_v)``; finite."""
    if bias is None:
        return np.zeros((n_h, n_v), dtype=np.float32)
    arr = as_array(bias, "bias", ndim=(0, 1, 2))
    if arr.ndim == 1 and arr.shape != (n_v,) or arr.ndim == 2 and arr.shape != (n_h, n_v):
        raise ShapeError(
            f"bias: expected a scalar, shape ({n_v},) or ({n_h}, {n_v}) to match xi0, "
            f"got shape {arr.shape}")
    return np.broadcast_to(arr, (n_h, n_v))


def check_params(beta: Any, tau: Any, dt: Any) -> tuple[float, float, float]:
    """``beta >= 0``, ``tau > 0``, ``0 < dt < tau`` (the Euler step must be below tau)."""
    beta = check_nonnegative(beta, "beta")
    tau = check_positive(tau, "tau")
    dt = check_positive(dt, "dt")
    if dt >= tau:
        raise ValidationError(
            f"dt: expected dt < tau (explicit Euler with dt >= tau_Xi overshoots), got "
            f"dt={dt:g} and tau={tau:g}")
    return beta, tau, dt


def simulate(xi0: Any, v: Any, *, beta: float, tau: float, dt: float = 1.0,
             bias: Any = None) -> jax.Array:
    """Simulate the softmax synaptic dynamics driven by a stream of visible states.

    Euler steps (Lotito 2025, App. B; ``dt = 1`` reproduces the paper's script)::

        w_k      = softmax(beta * Xi_k v_k)                       # (N_h,)
        Xi_{k+1} = Xi_k + (dt / tau) * w_k[:, None] * (-Xi_k + Lambda + v_k)

    **Arguments:**

    - ``xi0``: initial memories ``Xi(0)``, shape ``(N_h, N_v)``.
    - ``v``: visible state at each step, shape ``(T, N_v)``, ``T >= 1``.
    - ``beta``: softmax inverse temperature (>= 0; 0 gives uniform weights ``1/N_h``).
    - ``tau``: memory time constant ``tau_Xi`` (> 0, time units).
    - ``dt``: Euler step (``0 < dt < tau``, same unit).
    - ``bias``: synaptic bias ``Lambda``: ``None`` (zeros), scalar, ``(N_v,)`` or
      ``(N_h, N_v)``.

    **Returns:** the trajectory ``Xi`` of shape ``(T + 1, N_h, N_v)``, ``Xi(0)`` first
    (float32 unless x64 is enabled). For batches over seeds or parameters, ``jax.vmap``
    :meth:`SoftmaxSynapses.run` (see :func:`engramlab.softmax.run_appendix`).

    **Raises:** :class:`~engramlab.errors.ShapeError` / ``ValidationError`` for bad shapes,
    non-finite values, ``beta < 0``, ``tau <= 0``, ``dt >= tau`` or ``T <= 0``;
    :class:`~engramlab.errors.DivergenceError` if the run produced NaN/inf.
    """
    xi0 = check_memories(xi0, "xi0")
    n_h, n_v = xi0.shape
    v = as_array(v, "v", ndim=2, allow_empty=True)
    if v.shape[0] < 1:
        raise ShapeError(f"v: expected at least one time step (T >= 1), got shape {v.shape}")
    if v.shape[1] != n_v:
        raise ShapeError(f"v: expected shape (T, {n_v}) to match xi0's N_v = {n_v}, "
                         f"got shape {v.shape}")
    bias = check_bias(bias, n_h, n_v)
    beta, tau, dt = check_params(beta, tau, dt)
    t = v.shape[0]
    check_resources("softmax simulate", n_bytes=2 * nbytes(t + 1, n_h, n_v),
                    n_ops=10.0 * t * n_h * n_v, args={"v": v.shape, "xi0": xi0.shape})
    dtype = _float_dtype()
    model = SoftmaxSynapses(beta=jnp.asarray(beta, dtype), tau=jnp.asarray(tau, dtype),
                            dt=jnp.asarray(dt, dtype), bias=jnp.asarray(bias, dtype))
    traj = _simulate_jit(model, jnp.asarray(xi0, dtype), jnp.asarray(v, dtype))
    return ensure_finite(traj, "softmax synaptic dynamics",
                         {"beta": beta, "tau": tau, "dt": dt},
                         hint="use a smaller beta or dt, or inputs of smaller magnitude")


def similarity(xi_traj: Any, targets: Any) -> jax.Array:
    """Cosine similarity of each memory row with its target over time.

    ``S_mu(t) = Xi_mu(t) · eta_mu / (|Xi_mu(t)| |eta_mu|)``.

    **Arguments:** ``xi_traj`` of shape ``(T + 1, N_h, N_v)`` (or one state
    ``(N_h, N_v)``); ``targets`` ``eta`` of shape ``(N_h, N_v)`` (row ``mu`` is memory
    ``mu``'s target).

    **Returns:** ``(T + 1, N_h)`` (or ``(N_h,)`` for one state).

    **Raises:** :class:`~engramlab.errors.DataError` for a zero row (its cosine is
    undefined).
    """
    xi_traj = as_array(xi_traj, "xi_traj", ndim=(2, 3))
    single = xi_traj.ndim == 2
    if single:
        xi_traj = xi_traj[None]
    targets = as_array(targets, "targets", shape=xi_traj.shape[1:])
    dtype = _float_dtype()
    out = similarity_core(jnp.asarray(xi_traj, dtype), jnp.asarray(targets, dtype))
    if not bool(jnp.all(jnp.isfinite(out))):
        for name, arr in (("targets", targets), ("xi_traj", xi_traj)):
            zero = np.argwhere(~np.any(arr != 0, axis=-1))
            if zero.size:
                raise DataError(f"{name}: row {tuple(int(i) for i in zero[0])} is all zeros: "
                                "its cosine similarity is undefined")
        ensure_finite(out, "similarity", hint="the inputs are too large for the working "
                                              "dtype: rescale them")
    return out[0] if single else out

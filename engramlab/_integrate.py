"""The one fixed-step integrator: explicit Euler as a ``jax.lax.scan``.

Used by the attractor rate dynamics (seed 000) and the softmax synaptic dynamics
(seed 003). The user supplies a plain vector field ``f(t, y, args, x) -> dy/dt``
(``x`` is the external input at that step, or ``None``), in the spirit of diffrax.

The Euler step is ``y_{k+1} = y_k + dt * f(t_k, y_k, args, x_k)`` with
``t_k = t0 + k * dt``. For ``tau dy/dt = -y + g(y)`` with ``dt = 1`` this is the seed's
``r += (-r + tanh(W r)) / tau`` update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import MAX_STEPS, check_size
from .errors import DivergenceError, ValidationError

__all__ = ["euler_scan", "ensure_finite"]

VectorField = Callable[[Any, Any, Any, Any], Any]


def euler_scan(
    vector_field: VectorField,
    y0: Any,
    *,
    dt: float | jax.Array,
    n_steps: int,
    args: Any = None,
    inputs: Any = None,
    t0: float = 0.0,
    save_every: int | None = 1,
) -> tuple[Any, Any]:
    """Integrate ``dy/dt = f(t, y, args, x_t)`` with ``n_steps`` explicit Euler steps.

    **Arguments:**

    - ``vector_field``: ``f(t, y, args, x) -> dy/dt`` (a pytree like ``y``).
    - ``y0``: initial state (pytree of arrays).
    - ``dt``: step size (same time unit as the vector field's time constants).
    - ``n_steps``: number of Euler steps (static).
    - ``args``: passed through to ``f`` unchanged.
    - ``inputs``: optional pytree whose leaves have leading axis ``n_steps``; step ``k``
      receives ``x_k = inputs[k]``. ``None`` passes ``x = None``.
    - ``t0``: initial time.
    - ``save_every``: keep every ``save_every``-th state (static); ``None`` keeps only the
      final state. ``n_steps`` must be divisible by ``save_every``.

    **Returns:** ``(y_final, trajectory)``; ``trajectory`` has leading axis
    ``n_steps // save_every + 1`` and includes ``y0`` first, or is ``None`` when
    ``save_every is None``.
    """
    n_steps = check_size(n_steps, "n_steps", min_value=0, max_value=MAX_STEPS)
    dt = jnp.asarray(dt)

    def step(carry, x):
        k, y = carry
        t = t0 + k * dt
        dy = vector_field(t, y, args, x)
        y = jax.tree_util.tree_map(lambda a, b: a + dt * b, y, dy)
        return (k + 1, y), None

    k0 = jnp.asarray(0, dtype=jnp.int32)
    if save_every is None or n_steps == 0:
        (_, y_final), _ = jax.lax.scan(step, (k0, y0), inputs, length=n_steps)
        if save_every is None:
            return y_final, None
        traj = jax.tree_util.tree_map(lambda a: a[None], y0)
        return y_final, traj

    save_every = check_size(save_every, "save_every")
    if n_steps % save_every:
        raise ValidationError(
            f"save_every: expected a divisor of n_steps ({n_steps}), got {save_every}")
    n_saves = n_steps // save_every
    chunked = (
        None
        if inputs is None
        else jax.tree_util.tree_map(
            lambda a: a.reshape((n_saves, save_every) + a.shape[1:]), inputs
        )
    )

    def outer(carry, xs):
        carry, _ = jax.lax.scan(step, carry, xs, length=save_every)
        return carry, carry[1]

    (_, y_final), saved = jax.lax.scan(outer, (k0, y0), chunked, length=n_saves)
    traj = jax.tree_util.tree_map(
        lambda a, s: jnp.concatenate([a[None], s], axis=0), y0, saved
    )
    return y_final, traj


_HINT = "Reduce dt relative to tau, the learning rate or the weight scale."


def _params_text(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    parts = []
    for k, v in params.items():
        try:
            v = float(v) if np.ndim(v) == 0 else v
        except (TypeError, ValueError):
            pass
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}"[:60])
    return " with " + ", ".join(parts)


def ensure_finite(x: Any, what: str, params: Mapping[str, Any] | None = None, *,
                  hint: str = _HINT) -> Any:
    """Raise :class:`DivergenceError` if any leaf of ``x`` holds NaN or inf.

    Call at the boundary, after a jitted computation returns, so a diverging run is
    reported instead of silently returning NaN; ``params`` (name -> value) are the
    parameters that set the run, named in the message. Under ``jit``/``vmap`` (traced
    leaves) the check is an :func:`equinox.error_if` on the returned value instead:
    use the return value.
    """
    leaves = jax.tree_util.tree_leaves(x)
    msg = f"{what} diverged (NaN or inf){_params_text(params)}. {hint}"
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        import equinox as eqx

        def check(leaf):
            if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
                return leaf
            return eqx.error_if(leaf, ~jnp.all(jnp.isfinite(leaf)), msg)

        return jax.tree_util.tree_map(check, x)
    for leaf in leaves:
        arr = np.asarray(leaf)
        if np.issubdtype(arr.dtype, np.inexact) and not np.all(np.isfinite(arr)):
            n_bad = int((~np.isfinite(arr)).sum())
            raise DivergenceError(
                f"{what} diverged: {n_bad} of {arr.size} values are NaN or inf"
                f"{_params_text(params)}. {hint}")
    return x

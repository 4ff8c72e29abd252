"""Linear associative memory (seed 002: jaxcmr's LinearMemory notebook).

A linear associative memory stores associations between input patterns ``x_in``
(length ``n_in``) and output patterns ``x_out`` (length ``n_out``) in a matrix ``M`` of
shape ``(n_in, n_out)`` by Hebbian learning, and retrieves by a dot product:

    Delta M = gamma * outer(x_in, x_out)          (associate)
    y       = x_in @ M                             (probe)

(The notebook writes ``Delta M = gamma x_out x_in^T`` and ``y = M x``: the same operator
with ``M`` stored transposed; we store ``(n_in, n_out)`` as jaxcmr does.)

CMR uses two such memories: MFC (item -> context, ``(n_items, n_context)``) and MCF
(context -> item, ``(n_context, n_items)``), built by :func:`init_mfc` and
:func:`init_mcf`. Context unit 0 is the start-of-list unit.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._dtypes import default_float as _default_float
from .._integrate import ensure_finite
from .._validation import (
    as_array,
    check_finite_scalar,
    check_int,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import ShapeError, ValidationError

__all__ = ["LinearMemory", "init_mfc", "init_mcf"]


def _is_traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


_BIG = ("the memory's values overflow the working dtype: use a smaller learning rate or "
        "patterns and state of smaller magnitude")


class LinearMemory(eqx.Module):
    """An immutable linear associative memory ``state`` of shape ``(n_in, n_out)``.

    A pytree (equinox ``Module``): ``jax.jit(memory.probe)`` and ``jax.vmap`` over a
    batch of memories just work. Updates return a new memory.

    **Arguments:**

    - ``state``: initial association matrix, shape ``(n_in, n_out)``.

    Use :func:`init_mfc` / :func:`init_mcf` for CMR's initial structures.
    """

    state: jax.Array

    def __init__(self, state: Any):
        if not _is_traced(state):
            arr = as_array(state, "state", ndim=2)
            self.state = jnp.asarray(arr, dtype=_default_float())
        else:
            self.state = state

    @property
    def input_size(self) -> int:
        """``n_in``, the length of input patterns."""
        return int(self.state.shape[-2])

    @property
    def output_size(self) -> int:
        """``n_out``, the length of output patterns."""
        return int(self.state.shape[-1])

    # -- the seed notebook's constructors (jaxcmr's classmethod API) ------------------
    @classmethod
    def init_mfc(cls, item_count: int, context_size: int, learning_rate: float
                 ) -> LinearMemory:
        """``LinearMemory.init_mfc(...)``: the same as :func:`init_mfc` (seed notebook)."""
        return init_mfc(item_count, context_size, learning_rate)

    @classmethod
    def init_mcf(cls, item_count: int, context_size: int, item_support: float,
                 shared_support: float) -> LinearMemory:
        """``LinearMemory.init_mcf(...)``: the same as :func:`init_mcf` (seed notebook).

        The notebook's reading: the own-item entry is ``shared_support + item_support``
        (its growth figure marks the initial ``MCF[1, 0]`` so). jaxcmr's CMR code *sets*
        it to ``item_support`` instead; the ``"jaxcmr"`` CMR variant does that
        (:class:`engramlab.cmr.LocalistPreexp`).
        """
        return init_mcf(item_count, context_size, item_support, shared_support)

    # -- validation of concrete (non-traced) arguments -------------------------------
    def _check_vec(self, x: Any, name: str, size: int) -> Any:
        if _is_traced(x):
            if x.shape[-1:] != (size,):
                raise ShapeError(f"{name}: expected shape ({size},), got {x.shape}")
            return x
        arr = as_array(x, name, ndim=1)
        if arr.shape[0] != size:
            raise ShapeError(f"{name}: expected shape ({size},), got shape {arr.shape}")
        return jnp.asarray(arr, dtype=self.state.dtype)

    def associate(self, in_pattern: Any, out_pattern: Any, learning_rate: Any) -> LinearMemory:
        """Return a new memory with ``state + learning_rate * outer(in_pattern, out_pattern)``.

        **Arguments:**

        - ``in_pattern``: shape ``(n_in,)``.
        - ``out_pattern``: shape ``(n_out,)``.
        - ``learning_rate``: scalar ``gamma`` (any finite real; usually in [0, 1]).
        """
        x_in = self._check_vec(in_pattern, "in_pattern", self.input_size)
        x_out = self._check_vec(out_pattern, "out_pattern", self.output_size)
        if not _is_traced(learning_rate):
            learning_rate = check_finite_scalar(learning_rate, "learning_rate")
        new = self.state + learning_rate * jnp.outer(x_in, x_out)
        if not _is_traced(new):  # inside jit (CMR's hot loops) the caller checks
            ensure_finite(new, "associate", {"learning_rate": learning_rate}, hint=_BIG)
        return LinearMemory(new)

    def probe(self, in_pattern: Any) -> jax.Array:
        """Retrieve ``in_pattern @ state``, shape ``(n_out,)``."""
        x_in = self._check_vec(in_pattern, "in_pattern", self.input_size)
        out = x_in @ self.state
        return out if _is_traced(out) else ensure_finite(out, "probe", hint=_BIG)

    def zero_out(self, index: Any) -> LinearMemory:
        """Return a new memory whose input row ``index`` is all zeros.

        CMR uses this to stop a recalled item from being recalled again.
        """
        if not _is_traced(index):
            index = check_int(index, "index", min_value=-self.input_size,
                              max_value=self.input_size - 1)
        return LinearMemory(self.state.at[index].set(0.0))


def _check_sizes(item_count: Any, context_size: Any) -> tuple[int, int]:
    item_count = check_size(item_count, "item_count")
    context_size = check_size(context_size, "context_size")
    if context_size < item_count + 1:
        raise ValidationError(
            f"context_size: expected at least item_count + 1 = {item_count + 1} "
            f"(one start-of-list unit plus one unit per item), got {context_size}"
        )
    check_resources("the initial memory", n_bytes=4 * nbytes(item_count, context_size,
                                                              itemsize=8),
                    args={"item_count": item_count, "context_size": context_size})
    return item_count, context_size


def init_mfc(item_count: int, context_size: int, learning_rate: float) -> LinearMemory:
    """Initial item-to-context memory (MFC), shape ``(item_count, context_size)``.

    Item ``i`` is associated with its own context unit ``i + 1`` with strength
    ``1 - learning_rate``; the start-of-list unit 0 and every other entry are zero:
    ``M[i, i + 1] = 1 - learning_rate``.
    """
    item_count, context_size = _check_sizes(item_count, context_size)
    lr = check_finite_scalar(learning_rate, "learning_rate")
    if not 0.0 <= lr <= 1.0:
        raise ValidationError(f"learning_rate: expected a value in [0, 1], got {lr:g}")
    state = np.eye(item_count, context_size, k=1) * (1.0 - lr)
    return LinearMemory(state)


def init_mcf(item_count: int, context_size: int, item_support: float,
             shared_support: float) -> LinearMemory:
    """Initial context-to-item memory (MCF), shape ``(context_size, item_count)``.

    The start-of-list unit (row 0) has no associations. Each in-list context unit
    ``j = 1..item_count`` is associated with every item with ``shared_support`` and,
    additionally, with its own item ``j - 1`` with ``item_support``:

        M[0, :] = 0
        M[j, i] = shared_support + item_support * (i == j - 1)     for 1 <= j <= item_count

    Extra context units (``j > item_count``, e.g. distractor units) start at zero.
    """
    item_count, context_size = _check_sizes(item_count, context_size)
    item_support = check_finite_scalar(item_support, "item_support")
    shared_support = check_finite_scalar(shared_support, "shared_support")
    state = np.zeros((context_size, item_count))
    state[1 : item_count + 1] = shared_support
    state += np.eye(context_size, item_count, k=-1) * item_support
    return LinearMemory(state)


def associate_sequence(memory: LinearMemory, in_patterns: Any, out_patterns: Any,
                       learning_rate: Any) -> tuple[LinearMemory, jax.Array]:
    """Associate ``in_patterns[k]`` with ``out_patterns[k]`` for ``k = 0..K-1`` in order.

    A ``lax.scan`` over :meth:`LinearMemory.associate`; ``learning_rate`` is a scalar or
    one value per step (shape ``(K,)``, e.g. CMR's primacy gradient).

    **Arguments:**

    - ``memory``: the starting memory, state ``(n_in, n_out)``.
    - ``in_patterns``: shape ``(K, n_in)``.
    - ``out_patterns``: shape ``(K, n_out)``.
    - ``learning_rate``: scalar or ``(K,)``.

    **Returns:** ``(final_memory, states)`` with ``states`` of shape
    ``(K + 1, n_in, n_out)``: the state before any association, then after each one.
    """
    if not isinstance(memory, LinearMemory):
        raise ValidationError(f"memory: expected a LinearMemory, got "
                              f"{type(memory).__name__}")
    x_in = as_array(in_patterns, "in_patterns", ndim=2)
    x_out = as_array(out_patterns, "out_patterns", ndim=2)
    if x_in.shape[1] != memory.input_size:
        raise ShapeError(f"in_patterns: expected shape (K, {memory.input_size}), "
                         f"got {x_in.shape}")
    if x_out.shape != (x_in.shape[0], memory.output_size):
        raise ShapeError(f"out_patterns: expected shape ({x_in.shape[0]}, "
                         f"{memory.output_size}), got {x_out.shape}")
    lr = as_array(learning_rate, "learning_rate", ndim=(0, 1))
    if lr.ndim == 1 and lr.shape[0] != x_in.shape[0]:
        raise ShapeError(f"learning_rate: expected a scalar or shape ({x_in.shape[0]},), "
                         f"got {lr.shape}")
    dtype = memory.state.dtype
    k = x_in.shape[0]
    check_resources("associate_sequence", n_bytes=2 * nbytes(k + 1, *memory.state.shape),
                    n_ops=4.0 * k * memory.state.size,
                    args={"in_patterns": x_in.shape, "state": tuple(memory.state.shape)})
    lrs = jnp.broadcast_to(jnp.asarray(lr, dtype), (x_in.shape[0],))
    final_state, states = _associate_scan(memory.state, jnp.asarray(x_in, dtype),
                                          jnp.asarray(x_out, dtype), lrs)
    ensure_finite(states, "associate_sequence", {"learning_rate": lr}, hint=_BIG)
    return LinearMemory(final_state), states


@jax.jit
def _associate_scan(state, x_in, x_out, lrs):
    def step(s, xs):
        a, b, lr = xs
        s = s + lr * jnp.outer(a, b)
        return s, s

    final, states = jax.lax.scan(step, state, (x_in, x_out, lrs))
    return final, jnp.concatenate([state[None], states], axis=0)


__all__.append("associate_sequence")

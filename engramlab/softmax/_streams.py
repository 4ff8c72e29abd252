"""Initial memories, targets and input streams for the softmax synaptic dynamics.

- :func:`orthogonal_memories` -- Gram-Schmidt orthogonal rows scaled to norm
  ``sqrt(N_v)`` (the paper's ``create_orthogonal_memories``).
- :func:`random_memories` -- i.i.d. Gaussian rows.
- :func:`noisy_targets` -- ``eta_mu = xi_mu + noise * z``, ``z ~ N(0, 1)`` (App. B).
- :func:`make_stream` -- the visible states ``v(t)``: targets presented in round-robin
  order (App. B: ``v_t = eta_{t mod N_h}``), random order or blocks, optionally with fresh
  noise on every presentation.

All functions are pure JAX (``key`` first) and can be ``vmap``-ed over keys.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._dtypes import default_float as _dtype
from .._integrate import ensure_finite
from .._validation import (
    as_array,
    as_key,
    check_choice,
    check_finite_scalar,
    check_nonnegative,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import ShapeError

_BIG = "the values overflow the working dtype: use a smaller scale or noise"


def _traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def _size(n_h: Any, n_v: Any, what: str) -> tuple[int, int]:
    n_h = check_size(n_h, "n_h")
    n_v = check_size(n_v, "n_v")
    check_resources(what, n_bytes=3 * nbytes(n_h, n_v), n_ops=10.0 * n_h * n_v * min(n_h,
                                                                                       n_v),
                    args={"n_h": n_h, "n_v": n_v})
    return n_h, n_v

__all__ = ["orthogonal_memories", "random_memories", "noisy_targets", "make_stream",
           "win_fractions", "ORDERS"]

#: Presentation orders understood by :func:`make_stream`.
ORDERS = ("round_robin", "random", "blocks")


def orthogonal_memories(key: jax.Array, n_h: int, n_v: int) -> jax.Array:
    """``N_h`` mutually orthogonal random rows of norm ``sqrt(N_v)``: ``(N_h, N_v)``.

    Gram-Schmidt on i.i.d. Gaussian rows, computed as a QR decomposition with the sign
    of ``R``'s diagonal made positive (identical to classical Gram-Schmidt in exact
    arithmetic, numerically more stable). Requires ``N_h <= N_v``.
    """
    n_h, n_v = _size(n_h, n_v, "orthogonal_memories")
    if n_h > n_v:
        raise ShapeError(f"n_h: at most n_v = {n_v} orthogonal rows exist, got n_h = {n_h}")
    g = jax.random.normal(as_key(key), (n_v, n_h), _dtype())
    q, r = jnp.linalg.qr(g)
    q = q * jnp.where(jnp.diag(r) < 0, -1.0, 1.0)[None, :]
    return q.T * jnp.sqrt(jnp.asarray(n_v, q.dtype))


def random_memories(key: jax.Array, n_h: int, n_v: int, *, scale: float = 1.0) -> jax.Array:
    """I.i.d. Gaussian memories ``scale * N(0, 1)`` of shape ``(N_h, N_v)``."""
    n_h, n_v = _size(n_h, n_v, "random_memories")
    if _traced(scale):
        return scale * jax.random.normal(as_key(key), (n_h, n_v), _dtype())
    scale = check_finite_scalar(scale, "scale")
    out = scale * jax.random.normal(as_key(key), (n_h, n_v), _dtype())
    return ensure_finite(out, "random_memories", {"scale": scale}, hint=_BIG)


def noisy_targets(key: jax.Array, patterns: Any, noise: float | jax.Array) -> jax.Array:
    """Targets ``eta = patterns + noise * z``, ``z ~ N(0, 1)`` i.i.d., same shape."""
    if _traced(patterns, noise):  # inside jit/vmap (e.g. the appendix batch)
        patterns = jnp.asarray(patterns, _dtype())
        return patterns + noise * jax.random.normal(as_key(key), patterns.shape,
                                                    patterns.dtype)
    patterns = jnp.asarray(as_array(patterns, "patterns"), _dtype())
    noise = check_nonnegative(noise, "noise")
    out = patterns + noise * jax.random.normal(as_key(key), patterns.shape, patterns.dtype)
    return ensure_finite(out, "noisy_targets", {"noise": noise}, hint=_BIG)


def _labels(key: jax.Array, n_patterns: int, n_steps: int, order: str,
            block_length: int) -> jax.Array:
    t = jnp.arange(n_steps)
    if order == "round_robin":
        return t % n_patterns
    if order == "random":
        return jax.random.randint(key, (n_steps,), 0, n_patterns)
    return (t // block_length) % n_patterns


def make_stream(key: jax.Array, patterns: Any, n_steps: int, *, order: str = "round_robin",
                noise: float = 0.0, block_length: int = 1) -> tuple[jax.Array, jax.Array]:
    """A stream of visible states presenting ``patterns`` (rows) one per step.

    **Arguments:**

    - ``key``: PRNG key (random order and presentation noise).
    - ``patterns``: ``(P, N_v)``; row ``mu`` is pattern ``eta_mu``.
    - ``n_steps``: ``T >= 1``.
    - ``order``: ``"round_robin"`` (``mu_t = t mod P``, the paper's App. B),
      ``"random"`` (i.i.d. uniform) or ``"blocks"`` (each pattern for ``block_length``
      consecutive steps, then the next, cyclically).
    - ``noise``: std of fresh Gaussian noise added at every presentation (0: none).
    - ``block_length``: block size for ``order="blocks"``.

    **Returns:** ``(v, labels)``: ``v`` of shape ``(T, N_v)``, ``labels`` (``(T,)``, int)
    the index of the pattern shown at each step.
    """
    patterns = as_array(patterns, "patterns", ndim=2)
    n_steps = check_size(n_steps, "n_steps", max_value=2**31 - 1)
    order = check_choice(order, "order", ORDERS)
    noise = check_nonnegative(noise, "noise")
    block_length = check_size(block_length, "block_length")
    check_resources("make_stream", n_bytes=3 * nbytes(n_steps, patterns.shape[1]),
                    n_ops=10.0 * n_steps * patterns.shape[1],
                    args={"n_steps": n_steps, "patterns": patterns.shape})
    out = _stream(as_key(key), jnp.asarray(patterns, _dtype()), n_steps, order, noise,
                  block_length)
    return ensure_finite(out, "make_stream", {"noise": noise}, hint=_BIG)


def _stream(key: jax.Array, patterns: jax.Array, n_steps: int, order: str, noise: Any,
            block_length: int = 1) -> tuple[jax.Array, jax.Array]:
    k_order, k_noise = jax.random.split(key)
    labels = _labels(k_order, patterns.shape[0], n_steps, order, block_length)
    v = patterns[labels]
    v = v + noise * jax.random.normal(k_noise, v.shape, v.dtype)
    return v, labels


def win_fractions(labels: Any, n_h: int) -> jax.Array:
    """``p_mu``: the fraction of steps on which pattern ``mu`` is presented, ``(N_h,)``."""
    if _traced(labels):
        labels = jnp.asarray(labels)
        return jnp.mean(labels[:, None] == jnp.arange(n_h)[None, :], axis=0)
    labels = as_array(labels, "labels", ndim=1, kind="int")
    n_h = check_size(n_h, "n_h")
    check_resources("win_fractions", n_bytes=nbytes(labels.shape[0], n_h),
                    args={"labels": labels.shape, "n_h": n_h})
    labels = jnp.asarray(labels)
    return jnp.mean(labels[:, None] == jnp.arange(n_h)[None, :], axis=0)

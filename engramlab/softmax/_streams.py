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
from .._validation import as_array, check_choice, check_int, check_nonnegative
from ..errors import ShapeError

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
    n_h = check_int(n_h, "n_h", min_value=1)
    n_v = check_int(n_v, "n_v", min_value=1)
    if n_h > n_v:
        raise ShapeError(f"n_h: at most n_v = {n_v} orthogonal rows exist, got n_h = {n_h}")
    g = jax.random.normal(key, (n_v, n_h), _dtype())
    q, r = jnp.linalg.qr(g)
    q = q * jnp.where(jnp.diag(r) < 0, -1.0, 1.0)[None, :]
    return q.T * jnp.sqrt(jnp.asarray(n_v, q.dtype))


def random_memories(key: jax.Array, n_h: int, n_v: int, *, scale: float = 1.0) -> jax.Array:
    """I.i.d. Gaussian memories ``scale * N(0, 1)`` of shape ``(N_h, N_v)``."""
    n_h = check_int(n_h, "n_h", min_value=1)
    n_v = check_int(n_v, "n_v", min_value=1)
    return scale * jax.random.normal(key, (n_h, n_v), _dtype())


def noisy_targets(key: jax.Array, patterns: Any, noise: float | jax.Array) -> jax.Array:
    """Targets ``eta = patterns + noise * z``, ``z ~ N(0, 1)`` i.i.d., same shape."""
    patterns = jnp.asarray(patterns, _dtype())
    return patterns + noise * jax.random.normal(key, patterns.shape, patterns.dtype)


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
    n_steps = check_int(n_steps, "n_steps", min_value=1)
    order = check_choice(order, "order", ORDERS)
    noise = check_nonnegative(noise, "noise")
    block_length = check_int(block_length, "block_length", min_value=1)
    return _stream(key, jnp.asarray(patterns, _dtype()), n_steps, order, noise, block_length)


def _stream(key: jax.Array, patterns: jax.Array, n_steps: int, order: str, noise: Any,
            block_length: int = 1) -> tuple[jax.Array, jax.Array]:
    k_order, k_noise = jax.random.split(key)
    labels = _labels(k_order, patterns.shape[0], n_steps, order, block_length)
    v = patterns[labels]
    v = v + noise * jax.random.normal(k_noise, v.shape, v.dtype)
    return v, labels


def win_fractions(labels: Any, n_h: int) -> jax.Array:
    """``p_mu``: the fraction of steps on which pattern ``mu`` is presented, ``(N_h,)``."""
    labels = jnp.asarray(labels)
    return jnp.mean(labels[:, None] == jnp.arange(n_h)[None, :], axis=0)

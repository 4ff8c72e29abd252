"""Random draws shared by the sweepable models (the families' ``sweeps.py`` adapters).

Sweeps pad every chunk to one compiled shape and compare grid points with common random
numbers, so a point's random values must depend only on its seed and the element's
index, never on the padded shape. The banks below give exactly that: entry ``(p, i)``
is a function of ``(key, p, i)`` only (counter-based threefry with partitionable
counters), so growing ``n_rows`` or ``n_cols`` extends a bank without changing what is
already there. JAX is imported inside the functions (no JAX at import).
"""

from __future__ import annotations

from typing import Any

from .._dtypes import default_float

__all__ = ["N_CAP", "bucket", "rademacher_bank", "uniform_bank"]

#: largest pattern length of a bank: random bits are drawn at this length and cut
N_CAP = 1024


def bucket(n: int) -> int:
    """Smallest power of two >= n (bounds the number of distinct compiled shapes)."""
    return 1 << max(int(n) - 1, 0).bit_length()


def rademacher_bank(key: Any, n_rows: int, n_cols: int) -> Any:
    """``(n_rows, n_cols)`` +-1 values (default float dtype); entry (p, i) depends only on
    (key, p, i).

    Row ``p`` is bits ``p * 32 .. p * 32 + 31`` (uint32 words) of the counter-based
    threefry stream of ``key`` with partitionable counters (one counter per element
    index, forced on here), so growing ``n_rows`` or ``n_cols`` (padding) extends the
    bank without changing what is already there. ``n_cols <= N_CAP``.
    """
    import jax
    import jax.numpy as jnp

    words = N_CAP // 32
    with jax.threefry_partitionable(True):
        bits = jax.random.bits(key, (n_rows, words), jnp.uint32)
    b = (bits[:, :, None] >> jnp.arange(32, dtype=jnp.uint32)) & jnp.uint32(1)
    b = b.reshape(n_rows, N_CAP)[:, :n_cols]
    dtype = default_float()
    return 2 * b.astype(dtype) - 1


def uniform_bank(key: Any, n_rows: int, n_cols: int, dtype: Any) -> Any:
    """``(n_rows, n_cols)`` uniforms in [0, 1) (24-bit resolution, ``dtype``); entry (p, i)
    depends only on (key, p, i). ``n_cols <= N_CAP``."""
    import jax
    import jax.numpy as jnp

    with jax.threefry_partitionable(True):
        bits = jax.random.bits(key, (n_rows, N_CAP), jnp.uint32)[:, :n_cols]
    return (bits >> 8).astype(dtype) * (1.0 / (1 << 24))

"""The dtype policy, in one place: float32 by default, float64 when JAX's x64 is on."""

from __future__ import annotations

from typing import Any


def default_float() -> Any:
    """``jnp.float64`` when ``jax.config.jax_enable_x64`` is set, else ``jnp.float32``."""
    import jax
    import jax.numpy as jnp

    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32

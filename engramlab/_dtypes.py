"""The dtype policy, in one place: float32 by default, float64 when JAX's x64 is on."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np


def default_float() -> Any:
    """``jnp.float64`` when ``jax.config.jax_enable_x64`` is set, else ``jnp.float32``."""
    import jax
    import jax.numpy as jnp

    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def working_dtype() -> np.dtype:
    """The NumPy dtype of the JAX working precision, without importing JAX.

    float64 when x64 is on (``jax.config.jax_enable_x64`` if JAX is imported, else the
    ``JAX_ENABLE_X64`` environment variable), float32 otherwise. The validation layer
    checks that floating input is finite *after* the cast to this dtype.
    """
    jax = sys.modules.get("jax")
    if jax is not None and hasattr(jax, "config"):
        x64 = bool(jax.config.jax_enable_x64)
    else:
        x64 = os.environ.get("JAX_ENABLE_X64", "").strip().lower() in ("1", "true", "yes",
                                                                          "on")
    return np.dtype(np.float64 if x64 else np.float32)

"""Emotional salience ``s(E; beta)``: one definition shared by every family.

The attractor family scales Hebbian imprinting by it (``dW = gamma s(E) r r^T``); the
emotional CMR variants scale encoding strength by it (``phi_emot = emotion_scale s(E)``,
:class:`engramlab.cmr.EmotionSchedule`). Pure JAX: traceable in ``E`` and ``beta``.

- ``"exp"``: ``exp(+beta E)`` (emotion-enhancing, the attractor default);
- ``"linear"``: ``1 + beta E`` (enhancing);
- ``"seed"``: ``exp(-beta E)``, seed 000's formula as written (emotion-*weakening*);
- a callable ``s(E, beta)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

__all__ = ["SALIENCE_KINDS", "salience_value"]

SALIENCE_KINDS = ("exp", "linear", "seed")


def salience_value(e: Any, beta: Any, kind: str | Callable[[Any, Any], Any]) -> Any:
    """``s(E; beta)`` elementwise (``kind`` already validated by the caller)."""
    if callable(kind):
        return jnp.asarray(kind(e, beta))
    if kind == "seed":
        return jnp.exp(-beta * e)
    if kind == "exp":
        return jnp.exp(beta * e)
    if kind == "linear":
        return 1.0 + beta * e
    raise ValueError(f"salience kind {kind!r}")  # unreachable after validation

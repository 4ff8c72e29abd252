"""Shared test set-up: CPU JAX, quiet progress, headless matplotlib, a ``getkey`` fixture."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ENGRAMLAB_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import itertools  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def getkey():
    """Call ``getkey()`` for a fresh, deterministic JAX PRNG key each time."""
    import jax

    counter = itertools.count()
    return lambda: jax.random.key(next(counter))


@pytest.fixture
def rng():
    """A deterministic NumPy Generator."""
    return np.random.default_rng(12345)

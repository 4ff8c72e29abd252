"""Sweepable model of the memory family: ``memory.capacity`` (:data:`MEMORY_CAPACITY`).

Capacity of a linear associative memory (:class:`engramlab.memory.LinearMemory`): ``P``
random +-1 pairs of length ``N`` stored by Hebbian learning and probed with every stored
input, with closed forms for the crosstalk, bit error and signal. Registered in
:data:`engramlab.experiments.config.KNOWN_MODELS`; JAX is imported inside the functions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ValidationError
from ..experiments._random import N_CAP, bucket, rademacher_bank
from ..experiments.config import ModelSpec

__all__ = ["MEMORY_CAPACITY", "MemoryCapacityParams", "memory_capacity_patterns"]


class MemoryCapacityParams(BaseModel):
    """Parameters of ``memory.capacity`` (dimensionless counts and a rate)."""

    model_config = ConfigDict(extra="forbid")

    n_units: int = Field(64, ge=2, le=N_CAP,
                         description="N: length of the input and output patterns (units)")
    n_patterns: int = Field(8, ge=1, le=1024, description="P: number of stored pairs")
    learning_rate: float = Field(1.0, gt=0.0, le=1000.0,
                                 description="gamma: Hebbian learning rate of every pair")


@functools.cache
def _patterns_fn(n_patterns: int, n_units: int) -> Any:
    import jax

    @jax.jit
    def draw(key):
        kx, ky = jax.random.split(key)
        return (rademacher_bank(kx, n_patterns, n_units),
                rademacher_bank(ky, n_patterns, n_units))

    return draw


def memory_capacity_patterns(seed: int, n_patterns: int, n_units: int
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The input and output patterns ``(x, y)``, each ``(n_patterns, n_units)`` of +-1,
    that ``memory.capacity`` stores for ``seed`` (pattern ``p`` of a bigger ``P`` or
    ``N`` extends, never changes, the smaller one: common random numbers)."""
    import jax

    x, y = _patterns_fn(int(n_patterns), int(n_units))(jax.random.key(int(seed)))
    return np.asarray(x), np.asarray(y)


def _capacity_point(key, n, p, lr, p_pad: int, n_pad: int):
    import jax
    import jax.numpy as jnp

    from ._linear import LinearMemory

    kx, ky = jax.random.split(key)
    x = rademacher_bank(kx, p_pad, n_pad)
    y = rademacher_bank(ky, p_pad, n_pad)
    dtype = x.dtype
    umask = (jnp.arange(n_pad) < n).astype(dtype)
    pmask = (jnp.arange(p_pad) < p).astype(dtype)
    x, y = x * umask, y * umask
    lr = lr.astype(dtype)

    # associating the P pairs one by one (M += lr outer(x_p, y_p)) sums to one matmul
    mem = LinearMemory(lr * ((x * pmask[:, None]).T @ y))
    h = jax.vmap(mem.probe)(x)                      # (p_pad, n_pad) = lr (N y_q + noise)
    w = pmask[:, None] * umask[None, :]
    count = (p * n).astype(dtype)
    hn = h / (lr * n.astype(dtype))                 # normalised: y_q + crosstalk
    crosstalk = (hn - y) * w
    # hn_j = +-1 + k/N with k an integer, so |hn_j| < 1/(2N) means an exact tie (0) and
    # only rounding (e.g. a learning rate like 0.1) would give it a sign
    tie = jnp.abs(hn) < 0.5 / n.astype(dtype)
    agree = jnp.where(tie, 0.0, jnp.sign(hn)) * y   # +1 correct, 0 tie, -1 wrong
    bit_error = jnp.sum((1 - agree) / 2 * w) / count
    wrong_any = jnp.any((agree <= 0) & (w > 0), axis=1)
    perfect = jnp.sum(jnp.where(pmask > 0, 1 - wrong_any, 0)) / p.astype(dtype)
    return {
        "crosstalk_var": jnp.sum(crosstalk**2) / count,
        "bit_error": bit_error,
        "perfect_recall": perfect,
        "signal": jnp.sum(h * y * w) / count,
    }


def _capacity_batch_fn():
    import jax

    @functools.partial(jax.jit, static_argnames=("p_pad", "n_pad"))
    def batch(seeds, n, p, lr, *, p_pad, n_pad):
        keys = jax.vmap(jax.random.key)(seeds)
        return jax.vmap(lambda k, a, b, c: _capacity_point(k, a, b, c, p_pad, n_pad))(
            keys, n, p, lr)

    return batch


_CAPACITY_BATCH: list[Any] = []


def _memory_capacity_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                              ) -> dict[str, np.ndarray]:
    """Batch function of ``memory.capacity`` (see :data:`MEMORY_CAPACITY`)."""
    import jax.numpy as jnp

    if not _CAPACITY_BATCH:
        _CAPACITY_BATCH.append(_capacity_batch_fn())
    n = np.asarray(params["n_units"], np.int64)
    p = np.asarray(params["n_patterns"], np.int64)
    lr = np.asarray(params["learning_rate"], np.float64)
    if n.min() < 2 or n.max() > N_CAP or p.min() < 1 or np.any(lr <= 0):
        raise ValidationError(f"memory.capacity: n_units in [2, {N_CAP}], n_patterns >= 1 "
                              "and learning_rate > 0 are required")
    out = _CAPACITY_BATCH[0](jnp.asarray(seeds, jnp.uint32), jnp.asarray(n, jnp.int32),
                             jnp.asarray(p, jnp.int32), jnp.asarray(lr),
                             p_pad=bucket(int(p.max())), n_pad=bucket(int(n.max())))
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def _memory_capacity_theory(params: Mapping[str, Any]) -> dict[str, Any]:
    """Closed forms for random +-1 patterns (Hopfield-style signal-to-noise analysis).

    With ``h = x_q M / (gamma N) = y_q + c`` and ``c_j = (1/N) sum_{p != q} (x_q.x_p)
    y_pj``: ``E[c_j^2] = (P - 1)/N`` exactly, ``E[x_q M y_q / N] = gamma N`` exactly,
    and for large N the crosstalk is Gaussian, so the bit error is
    ``Phi(-sqrt(N / (P - 1)))`` and a whole pattern is recalled with probability
    ``(1 - bit_error)^N`` (independent bits approximation).
    """
    from scipy.special import ndtr

    n = np.asarray(params["n_units"], np.float64)
    p = np.asarray(params["n_patterns"], np.float64)
    lr = np.asarray(params["learning_rate"], np.float64)
    n, p, lr = np.broadcast_arrays(n, p, lr)
    var = (p - 1) / n
    with np.errstate(divide="ignore"):
        err = np.where(p > 1, ndtr(-np.sqrt(n / np.maximum(p - 1, 1e-300))), 0.0)
    return {"crosstalk_var": var, "bit_error": err, "perfect_recall": (1 - err) ** n,
            "signal": lr * n}


#: ``memory.capacity``: a linear associative memory (:class:`engramlab.memory.LinearMemory`)
#: stores ``P`` random +-1 pairs ``(x_p, y_p)`` of length ``N`` by Hebbian learning,
#: ``M = gamma sum_p outer(x_p, y_p)``, and is probed with every stored ``x_q``.
MEMORY_CAPACITY = ModelSpec(
    name="memory.capacity",
    params=MemoryCapacityParams,
    evaluate=_memory_capacity_evaluate,
    outputs={
        "crosstalk_var": "variance of the crosstalk c = x_q M / (gamma N) - y_q "
                         "(dimensionless; theory (P - 1) / N)",
        "bit_error": "fraction of output units with sign(x_q M) != y_q, ties count 1/2 "
                     "(theory Phi(-sqrt(N / (P - 1))))",
        "perfect_recall": "fraction of stored pairs recalled with every unit correct",
        "signal": "mean of (x_q M) . y_q / N, the retrieved signal (output units; "
                  "theory gamma N)",
    },
    description="Capacity of a linear (Hebbian) associative memory: P random +-1 pairs of "
                "length N are stored as M = gamma sum_p outer(x_p, y_p) and every stored "
                "input is probed. Recall degrades as the crosstalk variance (P - 1)/N grows.",
    theory=_memory_capacity_theory,
)

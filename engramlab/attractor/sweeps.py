"""Sweepable model of the attractor family: ``attractor.capacity``
(:data:`ATTRACTOR_CAPACITY`).

Retrieval in an emotional attractor network against the load ``P/N``: ``P`` random +-1
patterns imprinted Hebbian-style (pattern 0 with salience ``exp(beta E)``), each recalled
from a noisy cue. Registered in :data:`engramlab.experiments.config.KNOWN_MODELS`; JAX is
imported inside the functions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..experiments._random import bucket, rademacher_bank, uniform_bank
from ..experiments.config import ModelSpec

__all__ = ["ATTRACTOR_CAPACITY", "ATTRACTOR_CAPACITY_OUTPUTS", "AttractorCapacityParams"]


class AttractorCapacityParams(BaseModel):
    """Parameters of ``attractor.capacity`` (times in ms)."""

    model_config = ConfigDict(extra="forbid")

    n_neurons: int = Field(64, ge=2, le=512, description="N: number of rate units")
    n_patterns: int = Field(4, ge=1, le=256, description="P: imprinted +-1 patterns")
    flip: float = Field(0.1, ge=0.0, le=0.5,
                        description="fraction of a cue's signs flipped (cue noise)")
    emotion: float = Field(0.0, ge=-5.0, le=5.0,
                           description="emotion E of pattern 0 (the others have E = 0)")
    beta: float = Field(1.0, ge=0.0, le=10.0, description="emotional intensity beta")
    gain: float = Field(20.0, gt=0.0, le=1000.0, description="gain g of tanh")
    threshold: float = Field(0.95, ge=-1.0, le=1.0,
                             description="overlap above which a pattern is retrieved")
    n_steps: int = Field(100, ge=1, le=100_000, description="Euler steps")
    tau: float = Field(1.0, gt=0.0, le=1000.0, description="time constant (ms)")
    dt: float = Field(0.5, gt=0.0, le=1000.0, description="Euler step (ms)")

    @model_validator(mode="after")
    def _stable(self) -> AttractorCapacityParams:
        if self.dt >= self.tau:
            raise ValueError(f"dt must be < tau for a stable Euler scheme (dt = {self.dt:g}, "
                             f"tau = {self.tau:g})")
        return self


#: parameters that fix the compiled program (static in engramlab.attractor.recall)
_ATTRACTOR_STATIC = ("gain", "n_steps", "tau", "dt")


def _attractor_point(key, n, p, flip, emotion, beta, threshold, *, p_pad, n_pad, gain,
                     n_steps, tau, dt):
    import jax
    import jax.numpy as jnp

    from . import AttractorNetwork, recall, salience

    kx, kf = jax.random.split(key)
    xi = rademacher_bank(kx, p_pad, n_pad)
    dtype = xi.dtype
    umask = (jnp.arange(n_pad) < n).astype(dtype)
    pmask = (jnp.arange(p_pad) < p).astype(dtype)
    xi = xi * umask
    emotions = jnp.zeros(p_pad, dtype).at[0].set(emotion)
    sal = salience(emotions, beta, "exp") * pmask
    nf = n.astype(dtype)
    w = jnp.einsum("p,pi,pj->ij", sal, xi, xi) / nf
    w = w * (1.0 - jnp.eye(n_pad, dtype=dtype))
    flips = uniform_bank(kf, p_pad, n_pad, dtype) < flip
    cues = jnp.where(flips, -xi, xi)
    net = AttractorNetwork(w, tau=tau, dt=dt, gain=gain)
    final = recall(net, cues, n_steps=n_steps)
    m = jnp.sum(final * xi, axis=1) / nf                       # overlap with own pattern
    ok = (m > threshold).astype(dtype) * pmask
    n_neutral = (p - 1).astype(dtype)
    neutral = jnp.where(n_neutral > 0,
                        jnp.sum(m * pmask * (jnp.arange(p_pad) > 0)) / jnp.maximum(
                            n_neutral, 1.0), jnp.nan)
    return {"success": jnp.sum(ok) / p.astype(dtype), "overlap_emotional": m[0],
            "overlap_neutral": neutral, "mean_overlap": jnp.sum(m * pmask) / p.astype(dtype)}


@functools.lru_cache(maxsize=32)
def _attractor_batch_fn(p_pad: int, n_pad: int, gain: float, n_steps: int, tau: float,
                        dt: float) -> Any:
    import jax

    point = functools.partial(_attractor_point, p_pad=p_pad, n_pad=n_pad, gain=gain,
                              n_steps=n_steps, tau=tau, dt=dt)

    @jax.jit
    def batch(seeds, *args):
        keys = jax.vmap(jax.random.key)(seeds)
        return jax.vmap(point)(keys, *args)

    return batch


def _attractor_capacity_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                                 ) -> dict[str, np.ndarray]:
    """Batch function of ``attractor.capacity``: one vmapped call per distinct value of
    the static parameters (gain, n_steps, tau, dt) in the batch, each padded to the
    batch size so the compiled programs are reused across chunks."""
    import jax.numpy as jnp

    b = seeds.shape[0]
    n = np.asarray(params["n_neurons"], np.int64)
    p = np.asarray(params["n_patterns"], np.int64)
    p_pad, n_pad = bucket(int(p.max())), bucket(int(n.max()))
    static = np.stack([np.asarray(params[k], np.float64) for k in _ATTRACTOR_STATIC], 1)
    out = {k: np.full(b, np.nan) for k in ATTRACTOR_CAPACITY_OUTPUTS}
    for combo in np.unique(static, axis=0):
        idx = np.flatnonzero(np.all(static == combo, axis=1))
        take = np.concatenate([idx, np.full(b - idx.size, idx[-1])])  # pad to b
        gain, n_steps, tau, dt = float(combo[0]), int(combo[1]), float(combo[2]), float(
            combo[3])
        fn = _attractor_batch_fn(p_pad, n_pad, gain, n_steps, tau, dt)
        res = fn(jnp.asarray(seeds[take], jnp.uint32), jnp.asarray(n[take], jnp.int32),
                 jnp.asarray(p[take], jnp.int32),
                 *(jnp.asarray(np.asarray(params[k], np.float64)[take])
                   for k in ("flip", "emotion", "beta", "threshold")))
        for k in out:
            out[k][idx] = np.asarray(res[k], np.float64)[: idx.size]
    return out


ATTRACTOR_CAPACITY_OUTPUTS = {
    "success": "fraction of the P stored patterns retrieved (final overlap > threshold)",
    "overlap_emotional": "final overlap m = r . xi / N of pattern 0 (emotion E) from its cue",
    "overlap_neutral": "mean final overlap of the neutral patterns 1..P-1 (NaN when P = 1)",
    "mean_overlap": "mean final overlap over all stored patterns",
}

#: ``attractor.capacity``: P random +-1 patterns imprinted in a rate network
#: (:class:`engramlab.attractor.AttractorNetwork`) with ``W = (1/N) sum_p s(E_p) xi_p
#: xi_p^T`` (zero diagonal; ``s = exp(beta E)``, pattern 0 emotional), each recalled from a
#: cue with a fraction ``flip`` of signs flipped by :func:`engramlab.attractor.recall`.
ATTRACTOR_CAPACITY = ModelSpec(
    name="attractor.capacity",
    params=AttractorCapacityParams,
    evaluate=_attractor_capacity_evaluate,
    outputs=ATTRACTOR_CAPACITY_OUTPUTS,
    nan_outputs=("overlap_neutral",),  # undefined when every pattern is emotional (P = 1)
    description="Retrieval in an emotional attractor network (tau dr/dt = -r + tanh(g W r)) "
                "against the load P/N: P random patterns imprinted Hebbian-style, pattern 0 "
                "with salience exp(beta E); every pattern is cued with noise and recalled. "
                "At high gain this is the Hopfield network (capacity P/N ~ 0.138).",
)

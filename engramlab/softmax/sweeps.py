"""Sweepable model of the softmax family: ``softmax.appendix`` (:data:`SOFTMAX_APPENDIX`).

The App. B experiment of Lotito (2025) over a parameter grid: orthogonal initial
memories learn noisy targets shown round robin; simulated vs closed-form memory-target
similarity. Registered in :data:`engramlab.experiments.config.KNOWN_MODELS`; JAX is
imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._dtypes import default_float
from ..experiments.config import ModelSpec

__all__ = ["SOFTMAX_APPENDIX", "SOFTMAX_APPENDIX_OUTPUTS", "SoftmaxAppendixParams"]


class SoftmaxAppendixParams(BaseModel):
    """Parameters of ``softmax.appendix`` (Lotito 2025, App. B; times in steps of dt)."""

    model_config = ConfigDict(extra="forbid")

    beta: float = Field(2.0, ge=0.0, le=1000.0, description="softmax inverse temperature")
    tau: float = Field(250.0, gt=0.0, le=1e6, description="tau_Xi, synaptic time constant")
    noise: float = Field(0.4, ge=0.0, le=100.0, description="target noise sd (eta = xi + "
                         "noise z)")
    dt: float = Field(1.0, gt=0.0, le=1e6, description="Euler step")
    n_v: int = Field(50, ge=1, le=4096, description="N_v, visible units")
    n_h: int = Field(4, ge=1, le=512, description="N_h, memories (<= N_v)")
    n_steps: int = Field(2000, ge=1, le=1_000_000, description="T, Euler steps")

    @model_validator(mode="after")
    def _valid(self) -> SoftmaxAppendixParams:
        if self.dt >= self.tau:
            raise ValueError(f"dt must be < tau (dt = {self.dt:g}, tau = {self.tau:g})")
        if self.n_h > self.n_v:
            raise ValueError(f"n_h must be <= n_v (orthogonal memories), got n_h = "
                             f"{self.n_h}, n_v = {self.n_v}")
        return self


_SOFTMAX_STATIC = ("n_v", "n_h", "n_steps")


def _softmax_appendix_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                               ) -> dict[str, np.ndarray]:
    """Batch function of ``softmax.appendix``: engramlab.softmax's vmapped App. B run
    (one call per distinct ``(n_v, n_h, n_steps)`` in the batch, padded to the batch)."""
    import jax
    import jax.numpy as jnp

    from ._theory import _appendix_chunk

    b = seeds.shape[0]
    static = np.stack([np.asarray(params[k], np.int64) for k in _SOFTMAX_STATIC], 1)
    out = {k: np.full(b, np.nan) for k in SOFTMAX_APPENDIX_OUTPUTS}
    dtype = default_float()
    for combo in np.unique(static, axis=0):
        idx = np.flatnonzero(np.all(static == combo, axis=1))
        take = np.concatenate([idx, np.full(b - idx.size, idx[-1])])
        keys = jax.vmap(jax.random.key)(jnp.asarray(seeds[take], jnp.uint32))
        f = {k: jnp.asarray(np.asarray(params[k], np.float64)[take], dtype)
             for k in ("beta", "tau", "noise", "dt")}
        # dt enters _appendix_chunk as one scalar: group by it too
        for dt in np.unique(np.asarray(f["dt"])):
            sub = np.flatnonzero(np.asarray(f["dt"]) == dt)
            sel = np.concatenate([sub, np.full(b - sub.size, sub[-1])])
            res = _appendix_chunk(keys[sel], f["beta"][sel], f["tau"][sel], f["noise"][sel],
                                  jnp.asarray(dt, dtype), int(combo[0]), int(combo[1]),
                                  int(combo[2]))
            sim = np.asarray(res["similarity"], np.float64)[: sub.size]
            th = np.asarray(res["theory"], np.float64)[: sub.size]
            rows = idx[sub[sub < idx.size]]
            out["similarity_final"][rows] = sim[:, -1].mean(axis=1)
            out["theory_final"][rows] = th[:, -1].mean(axis=1)
            out["max_abs_error"][rows] = np.abs(sim - th).max(axis=(1, 2))
    return out


SOFTMAX_APPENDIX_OUTPUTS = {
    "similarity_final": "memory-target cosine similarity S(T), mean over the N_h memories",
    "theory_final": "closed-form S(T) (exponential relaxation with tau / p_mu, measured "
                    "norms), mean over memories",
    "max_abs_error": "max over t and memories of |S_simulated(t) - S_theory(t)|",
}

#: ``softmax.appendix``: the App. B experiment of Lotito (2025) on
#: :mod:`engramlab.softmax`: orthogonal initial memories, noisy targets shown round robin,
#: ``T`` Euler steps of the softmax synaptic dynamics; simulated vs closed-form similarity.
SOFTMAX_APPENDIX = ModelSpec(
    name="softmax.appendix",
    params=SoftmaxAppendixParams,
    evaluate=_softmax_appendix_evaluate,
    outputs=SOFTMAX_APPENDIX_OUTPUTS,
    description="Softmax synaptic dynamics tau dXi/dt = w * (-Xi + v^T), w = softmax(beta Xi "
                "v) (Lotito 2025, App. B): N_h orthogonal memories learn noisy targets shown "
                "round robin; their similarity to the targets relaxes as predicted by the "
                "closed form with effective time constant tau N_h.",
)

"""Attractor recall: B = 1000 cues in an N = 1000 network for 50 Euler steps, float32.

- ours: one call of the public ``engramlab.attractor.recall`` (validation, the batched
  ``lax.scan`` of ``R <- R + dt/tau (-R + tanh(R W^T))`` and the divergence check);
- seed loop: the seed's ``NeuralResonanceSimulator.recall`` transcribed to NumPy, called
  cue by cue (``r = r + (-r + tanh(W @ r)) * (1 / tau)``, 50 steps). It is timed on the
  first ``n_seed_cues`` cues and scaled linearly to B (the per-cue work is identical), to
  keep the benchmark short; the scaling is recorded in the result;
- machine: the throughput (GF/s) of a same-size ``jnp.dot`` (B x N) @ (N x N), float32.
  Our effective throughput counts the 2 B N^2 flops of the matrix product per step.

The three are timed in interleaved rounds (median over rounds) so that load from other
processes on a shared machine affects them alike.

Targets: ratio (seed loop / ours) >= 20; ours GF/s >= 70% of the matmul GF/s.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import result, timeit
from engramlab.attractor import AttractorNetwork, recall


def run(quick: bool = False) -> dict:
    b, n, steps = (1000, 1000, 50) if not quick else (250, 500, 50)
    n_seed = 50 if not quick else 20
    tau = 10.0
    rng = np.random.default_rng(0)
    xi = np.sign(rng.standard_normal((20, n))).astype(np.float32)
    w = (xi.T @ xi / n).astype(np.float32)
    np.fill_diagonal(w, 0.0)
    cues = (xi[rng.integers(0, 20, b)] * 0.6
            + 0.4 * rng.standard_normal((b, n))).astype(np.float32)
    net = AttractorNetwork(w, tau=tau, dt=1.0)
    cues_j = jnp.asarray(cues)

    def ours():
        return recall(net, cues_j, n_steps=steps)

    def seed_loop(m):
        out = []
        for c in cues[:m]:
            r = c.copy()
            for _ in range(steps):
                r = r + (-r + np.tanh(w @ r)) * np.float32(1 / tau)
            out.append(r)
        return np.stack(out)

    got = np.asarray(ours())
    np.testing.assert_allclose(got[:n_seed], seed_loop(n_seed), atol=1e-4)

    a = jnp.asarray(cues)
    wj = jnp.asarray(w)
    dot = jax.jit(lambda a, w: jnp.dot(a, w.T))
    # interleave the three measurements round by round, so that a busy (shared) machine
    # slows them alike; report the median over rounds
    _ = timeit(ours, repeat=1), timeit(lambda: dot(a, wj), repeat=1)  # compile, warm up
    rounds = 5 if not quick else 2
    t_o, t_d, t_s = [], [], []
    for _ in range(rounds):
        t_o.append(timeit(ours, repeat=1, warmup=0)["median_s"])
        t_d.append(timeit(lambda: dot(a, wj), repeat=5, warmup=0)["median_s"])
        t_s.append(timeit(lambda: seed_loop(n_seed), repeat=1, warmup=0)["median_s"])
    t_ours, t_dot, t_seed_sub = (float(np.median(t)) for t in (t_o, t_d, t_s))
    t_seed = t_seed_sub * b / n_seed
    flops_step = 2.0 * b * n * n
    gf_ours = flops_step * steps / t_ours / 1e9
    gf_dot = flops_step / t_dot / 1e9
    return result(
        "attractor_recall", t_ours, t_seed,
        f"seed's per-cue NumPy loop (timed on {n_seed} cues, scaled x{b / n_seed:g} to "
        f"{b} cues)",
        batch=b, n_neurons=n, steps=steps, dtype="float32",
        seed_loop_measured_s=t_seed_sub, seed_loop_cues_timed=n_seed,
        ours_gflops=gf_ours, matmul_gflops=gf_dot, matmul_s=t_dot,
        fraction_of_matmul=gf_ours / gf_dot,
        targets={"ratio": 20.0, "fraction_of_matmul": 0.7})

"""Attractor recall: B = 1000 cues in an N = 1000 network for 50 Euler steps, float32.

The network is the Hebbian one the seed builds: P = 20 random ±1 patterns,
``W = (1/N) sum_p xi_p xi_p^T`` with zero diagonal.

- ours (factored, the default path): ``AttractorNetwork.zeros(N).imprint(xi, gamma=1/N)``
  holds ``W`` exactly as ``U^T diag(c) U + diag(d)`` (:class:`LowRankWeights`), and one
  call of the public ``engramlab.attractor.recall`` (validation, the batched ``lax.scan``
  with ``W R = ((R U^T) c) U + d R`` and the divergence check) runs it in ``O(B P N)``
  per step. This is what ``recall`` does for every network imprinted from ``zeros``, so
  ``ratio`` is this path's speed-up;
- ours (dense): the same network with its dense matrix (``net.to_dense()``), one
  ``recall`` call: ``R <- R + dt/tau (-R + tanh(R W^T))``; its speed-up is
  ``ratio_dense`` and its throughput is compared with the machine's matmul;
- seed loop: the seed's ``NeuralResonanceSimulator.recall`` transcribed to NumPy, called
  cue by cue (``r = r + (-r + tanh(W @ r)) * (1 / tau)``, 50 steps) on the dense ``W``. It
  is timed on the first ``n_seed_cues`` cues and scaled linearly to B (the per-cue work is
  identical), to keep the benchmark short; the scaling is recorded in the result;
- machine: the throughput (GF/s) of a same-size ``jnp.dot`` (B x N) @ (N x N), float32.
  The dense path's effective throughput counts the 2 B N^2 flops of its product per step.

All four are timed in interleaved rounds (median over rounds) so that load from other
processes on a shared machine affects them alike.

Targets: ratio (seed loop / ours, factored) >= 20; dense GF/s >= 70% of the matmul GF/s.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import result, timeit
from engramlab.attractor import AttractorNetwork, recall


def run(quick: bool = False) -> dict:
    b, n, steps = (1000, 1000, 50) if not quick else (250, 500, 50)
    n_pat = 20
    n_seed = 50 if not quick else 20
    tau = 10.0
    rng = np.random.default_rng(0)
    xi = np.sign(rng.standard_normal((n_pat, n))).astype(np.float32)
    w = (xi.T @ xi / n).astype(np.float32)
    np.fill_diagonal(w, 0.0)
    cues = (xi[rng.integers(0, n_pat, b)] * 0.6
            + 0.4 * rng.standard_normal((b, n))).astype(np.float32)
    net = AttractorNetwork.zeros(n, tau=tau, dt=1.0).imprint(xi, gamma=1.0 / n)
    assert net.is_factored
    dense = AttractorNetwork(w, tau=tau, dt=1.0)
    np.testing.assert_allclose(np.asarray(net.weights), w, atol=1e-6)
    cues_j = jnp.asarray(cues)

    def ours():
        return recall(net, cues_j, n_steps=steps)

    def ours_dense():
        return recall(dense, cues_j, n_steps=steps)

    def seed_loop(m):
        out = []
        for c in cues[:m]:
            r = c.copy()
            for _ in range(steps):
                r = r + (-r + np.tanh(w @ r)) * np.float32(1 / tau)
            out.append(r)
        return np.stack(out)

    want = seed_loop(n_seed)
    got = np.asarray(ours())
    got_dense = np.asarray(ours_dense())
    np.testing.assert_allclose(got[:n_seed], want, atol=1e-4)
    np.testing.assert_allclose(got_dense[:n_seed], want, atol=1e-4)
    max_diff = float(np.abs(got - got_dense).max())

    a = jnp.asarray(cues)
    wj = jnp.asarray(w)
    dot = jax.jit(lambda a, w: jnp.dot(a, w.T))
    # interleave the measurements round by round, so that a busy (shared) machine slows
    # them alike; report the median over rounds
    _ = timeit(ours, repeat=1), timeit(ours_dense, repeat=1)  # compile, warm up
    _ = timeit(lambda: dot(a, wj), repeat=1)
    rounds = 5 if not quick else 2
    t_f, t_o, t_d, t_s = [], [], [], []
    for _ in range(rounds):
        t_f.append(timeit(ours, repeat=3, warmup=0)["median_s"])
        t_o.append(timeit(ours_dense, repeat=1, warmup=0)["median_s"])
        t_d.append(timeit(lambda: dot(a, wj), repeat=5, warmup=0)["median_s"])
        t_s.append(timeit(lambda: seed_loop(n_seed), repeat=1, warmup=0)["median_s"])
    t_fact, t_dense, t_dot, t_seed_sub = (float(np.median(t)) for t in (t_f, t_o, t_d, t_s))
    t_seed = t_seed_sub * b / n_seed
    flops_step = 2.0 * b * n * n
    gf_dense = flops_step * steps / t_dense / 1e9
    gf_dot = flops_step / t_dot / 1e9
    return result(
        "attractor_recall", t_fact, t_seed,
        f"seed's per-cue NumPy loop (timed on {n_seed} cues, scaled x{b / n_seed:g} to "
        f"{b} cues)",
        path="factored (LowRankWeights, the default for imprinted networks)",
        batch=b, n_neurons=n, n_patterns=n_pat, steps=steps, dtype="float32",
        seed_loop_measured_s=t_seed_sub, seed_loop_cues_timed=n_seed,
        factored_s=t_fact, dense_s=t_dense, ratio_dense=t_seed / t_dense,
        factored_vs_dense=t_dense / t_fact, max_abs_diff_factored_dense=max_diff,
        ours_gflops=gf_dense, matmul_gflops=gf_dot, matmul_s=t_dot,
        fraction_of_matmul=gf_dense / gf_dot,
        targets={"ratio": 20.0, "fraction_of_matmul": 0.7})

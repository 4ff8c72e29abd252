"""Softmax synaptic dynamics: the App. B experiment for 1000 seeds, vmapped, vs the
original script's per-step NumPy loop.

Ours: :func:`engramlab.softmax.run_appendix` with ``n_seeds=1000`` (draw memories and
targets, 2000 Euler steps, per-step cosine similarity, closed-form theory), jitted and
vmapped in fixed chunks. Baseline: a transcription of ``memory-dynamics-theoretical.py``
(Lotito 2025): a Python loop over the 2000 steps with NumPy softmax and update and a
Python loop over the N_h memories for the cosine similarity at each step, then the
theory curves. The baseline is timed on ``n_base`` seeds (10; 3 with ``--quick``) and
scaled linearly to 1000 seeds (each seed is an independent, identical-cost run).
"""

from __future__ import annotations

import time

import jax
import numpy as np

from benchmarks._harness import result, timeit
from engramlab.softmax import run_appendix

N_V, N_H, T, TAU, NOISE, BETA = 50, 4, 2000, 250.0, 0.4, 2.0


def _original_loop(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One run of the paper's script (per-step NumPy loop), without plotting."""
    xi = np.zeros((N_H, N_V))
    for i in range(N_H):
        xi[i] = rng.standard_normal(N_V)
        for j in range(i):
            xi[i] -= np.dot(xi[i], xi[j]) / np.dot(xi[j], xi[j]) * xi[j]
        xi[i] /= np.linalg.norm(xi[i])
        xi[i] *= np.sqrt(N_V)
    eta = xi.copy()
    for i in range(N_H):
        eta[i] += NOISE * rng.standard_normal(N_V)

    def cos(x, y):
        return np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-4)

    sims = np.zeros((T, N_H))
    cur = xi.copy()
    lam = np.zeros((N_H, N_V))
    for t in range(T):
        v = eta[t % N_H]
        s = cur.dot(v)
        e = np.exp(BETA * (s - np.max(s)))
        w = e / np.sum(e)
        cur += (-cur + lam + v) * w[:, None] / TAU
        for i in range(N_H):
            sims[t, i] = cos(cur[i], eta[i])
    alpha = np.array([cos(xi[i], eta[i]) for i in range(N_H)])
    tc = TAU * N_H
    ex = np.exp(-np.arange(T)[:, None] / tc)
    theory = (ex * alpha + 1 - ex) / np.sqrt(ex**2 + (1 - ex) ** 2 + 2 * ex * (1 - ex) * alpha)
    return sims, theory


def run(quick: bool = False) -> dict:
    n_seeds = 1000
    n_base = 3 if quick else 10
    key = jax.random.key(0)

    def ours():
        return run_appendix(key, n_seeds=n_seeds, beta=BETA, tau=TAU, noise=NOISE,
                            n_v=N_V, n_h=N_H, n_steps=T)

    res = ours()
    err = float(np.abs(res["similarity"] - res["theory"]).max())
    t_ours = timeit(ours, repeat=2 if quick else 3, warmup=0)

    rng = np.random.default_rng(41)
    t0 = time.perf_counter()
    for _ in range(n_base):
        sims, _ = _original_loop(rng)
    t_base_runs = time.perf_counter() - t0
    t_base = t_base_runs / n_base * n_seeds
    return result("softmax_appendix", t_ours["median_s"], t_base,
                  f"original script's per-step NumPy loop; {n_base} runs timed "
                  f"({t_base_runs:.2f} s) and scaled to {n_seeds}",
                  n_seeds=n_seeds, n_steps=T, n_v=N_V, n_h=N_H,
                  baseline_runs_timed=n_base, baseline_s_per_run=t_base_runs / n_base,
                  ours_s_per_seed=t_ours["median_s"] / n_seeds,
                  max_abs_error_vs_theory_1000_seeds=err)

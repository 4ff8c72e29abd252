"""Figures of the softmax synaptic dynamics (seed 003, Lotito 2025 App. B).

- :func:`plot_similarity_theory` -- the paper's figure: memory-target cosine similarity
  over time, numerics (solid) and closed-form theory (dashed, same colour), per memory.
- :func:`plot_theory_error` -- ``|numerics - theory|`` over time for each memory.
- :func:`plot_error_distribution` -- max error over seeds for theory variants.
- :func:`plot_beta_sweep` -- final similarity vs ``beta`` (winner-take-all vs averaging).
- :func:`plot_retrieval_vs_noise`, :func:`plot_retrieval_vs_memories` -- dense
  associative memory with learned memories vs the Hebbian network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._style import get_ax, new_figure

__all__ = ["plot_similarity_theory", "plot_theory_error", "plot_error_distribution",
           "plot_beta_sweep", "plot_retrieval_vs_noise", "plot_retrieval_vs_memories"]


def plot_similarity_theory(similarity: Any, theory: Any, ax: Any = None, *, dt: float = 1.0,
                           title: str = "Memory-target similarity: numerics vs theory") -> Any:
    """Solid: measured ``S_mu(t)``; dashed: theory; ``(T + 1, N_h)`` each. Returns Axes."""
    ax = get_ax(ax, figsize=(8, 6))
    sim, th = np.asarray(similarity), np.asarray(theory)
    t = np.arange(sim.shape[0]) * dt
    for i in range(sim.shape[1]):
        (line,) = ax.plot(t, sim[:, i], label=f"Memory {i + 1}")
        ax.plot(t, th[:, i], "--", color=line.get_color())
    ax.plot([], [], "k-", label="numerics")
    ax.plot([], [], "k--", label="theory")
    ax.set_xlabel(f"Time t (Euler steps, dt = {dt:g})")
    ax.set_ylabel("Cosine similarity with target")
    ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def plot_theory_error(errors: Mapping[str, Any], *, dt: float = 1.0,
                      tolerance: float | None = 2e-3, floor: float = 1e-8) -> Any:
    """One panel per theory variant: ``|numerics - theory|`` over time per memory.

    ``errors`` maps a theory name to ``(T + 1, N_h)`` absolute errors (log scale, shared
    y axis, values below ``floor`` clipped). **Returns:** the Figure.
    """
    n = len(errors)
    fig, axes = new_figure(1, n, figsize=(4.5 * n, 4.2), sharey=True, squeeze=False)
    for ax, (name, err) in zip(axes[0], errors.items(), strict=True):
        err = np.maximum(np.asarray(err), floor)
        t = np.arange(err.shape[0]) * dt
        for i in range(err.shape[1]):
            ax.plot(t, err[:, i], lw=0.6, color=f"C{i}", label=f"Memory {i + 1}")
        if tolerance is not None:
            ax.axhline(tolerance, color="r", lw=1.2, ls="--", label=f"{tolerance:g}")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("Time t (Euler steps)")
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("|numerics - theory| (cosine similarity)")
    axes[0, -1].legend(fontsize=8, loc="lower right")
    return fig


def plot_error_distribution(max_errors: Mapping[str, Any], ax: Any = None, *,
                            tolerance: float | None = 2e-3,
                            title: str = "Max error over time, across seeds") -> Any:
    """Histogram of per-seed max errors for each theory variant. Returns Axes."""
    ax = get_ax(ax, figsize=(8, 5))
    allv = np.concatenate([np.asarray(v).ravel() for v in max_errors.values()])
    bins = np.logspace(np.log10(allv.min() * 0.9), np.log10(allv.max() * 1.1), 40)
    for name, v in max_errors.items():
        ax.hist(np.asarray(v).ravel(), bins=bins, alpha=0.6, label=name)
    if tolerance is not None:
        ax.axvline(tolerance, color="r", lw=1, label=f"tolerance {tolerance:g}")
    ax.set_xscale("log")
    ax.set_xlabel("max over t and memories of |numerics - theory|")
    ax.set_ylabel("Number of seeds")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_beta_sweep(betas: Any, final_similarity: Any, ax: Any = None, *,
                    beta0_theory: Any = None,
                    title: str = "Final memory-target similarity vs beta") -> Any:
    """``final_similarity`` ``(n_beta, N_h)`` (e.g. averaged over seeds);
    ``beta0_theory`` the ``beta = 0`` prediction (drawn as a horizontal line). Returns
    Axes."""
    ax = get_ax(ax, figsize=(8, 5))
    betas = np.asarray(betas)
    fs = np.asarray(final_similarity)
    for i in range(fs.shape[1]):
        ax.plot(betas, fs[:, i], "o-", ms=3, label=f"Memory {i + 1}")
    if beta0_theory is not None:
        ax.axhline(float(beta0_theory), color="k", ls=":",
                   label="beta = 0 theory: e xi(0) + (1-e) mean input")
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_xlim(left=0)
    ax.set_xlabel("beta (softmax inverse temperature)")
    ax.set_ylabel("Cosine similarity with own target at t = T")
    ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def _curves(ax: Any, x: Any, res: Mapping[str, Any], sel: Any, betas: Sequence[float],
            show_initial: bool) -> None:
    for j, b in enumerate(betas):
        ax.plot(x, res["dam_learned"][sel(j)], "o-", ms=4, color=f"C{j}",
                label=f"DAM, learned Xi, beta={b:g}")
    jb = len(betas) - 1
    ax.plot(x, res["dam_ideal"][sel(jb)], "x:", color="k",
            label=f"DAM, Xi = patterns, beta={betas[jb]:g}")
    if show_initial:
        ax.plot(x, res["dam_initial"][sel(jb)], "s--", ms=3, color="grey",
                label=f"DAM, initial Xi(0), beta={betas[jb]:g}")
    ax.plot(x, res["hebbian"][sel(None)], "D-", ms=4, color="m", lw=2, label="Hebbian Hopfield")


def plot_retrieval_vs_noise(res: Mapping[str, Any], k_index: int, ax: Any = None, *,
                            show_initial: bool = True) -> Any:
    """Success rate vs cue flip probability at ``n_memories[k_index]`` (from
    :func:`engramlab.softmax.capacity_sweep`). Returns Axes."""
    ax = get_ax(ax, figsize=(8, 5))
    betas = list(np.asarray(res["betas"]))

    def sel(j):
        return (k_index, j) if j is not None else (k_index,)

    _curves(ax, np.asarray(res["flips"]), res, sel, betas, show_initial)
    k = int(np.asarray(res["n_memories"])[k_index])
    ax.set_xlabel("Cue corruption (fraction of flipped bits)")
    ax.set_ylabel("Retrieval success rate (overlap >= 0.95)")
    ax.set_title(f"Retrieval vs cue noise, K = {k} memories")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return ax


def plot_retrieval_vs_memories(res: Mapping[str, Any], flip_index: int, ax: Any = None, *,
                               n_v: int | None = None, show_initial: bool = False) -> Any:
    """Success rate vs number of stored memories at ``flips[flip_index]``. Returns Axes."""
    ax = get_ax(ax, figsize=(8, 5))
    betas = list(np.asarray(res["betas"]))

    def sel(j):
        return (slice(None), j, flip_index) if j is not None else (slice(None), flip_index)

    _curves(ax, np.asarray(res["n_memories"]), res, sel, betas, show_initial)
    if n_v is not None:
        ax.axvline(0.138 * n_v, color="grey", ls=":", label="0.138 N_v (Hopfield capacity)")
    f = float(np.asarray(res["flips"])[flip_index])
    ax.set_xlabel("Number of stored memories K")
    ax.set_ylabel("Retrieval success rate (overlap >= 0.95)")
    ax.set_title(f"Capacity: cues with {f:.0%} flipped bits")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return ax

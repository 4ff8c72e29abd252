"""Figures for emotional attractor networks (seed 000).

Each ``plot_*`` function draws on an optional Axes and returns it; no ``plt.show()``.
Inputs are plain arrays (NumPy or JAX), computed by :mod:`engramlab.attractor`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._style import get_ax

__all__ = [
    "plot_retrieval", "plot_weights", "plot_tsne_basin", "plot_phase_space_3d",
    "plot_convergence_curves", "plot_beta_scan", "plot_basin_vs_emotion", "plot_capacity",
    "plot_pca_trajectories",
]


def plot_retrieval(original: Any, retrieved: Any, ax: Any = None, *,
                   cue: Any = None) -> Any:
    """Original vs retrieved pattern (rate per neuron); optionally the noisy cue."""
    ax = get_ax(ax, figsize=(8, 3.5))
    o = np.asarray(original)
    if cue is not None:
        ax.plot(np.asarray(cue), color="0.7", lw=0.8, label="Cue")
    ax.plot(o, lw=1.5, label="Original")
    ax.plot(np.asarray(retrieved), "--", lw=1.2, label="Retrieved")
    ax.set_xlabel("Neuron index")
    ax.set_ylabel("Firing rate r (a.u.)")
    ax.set_title("Attractor memory retrieval")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_weights(weights: Any, ax: Any = None, *, vmax: float | None = None,
                 title: str = "Synaptic weight matrix") -> Any:
    """Heat map of ``W`` (rows: post-synaptic ``i``, columns: pre-synaptic ``j``),
    symmetric colour scale (the seed's ``coolwarm``, default ``max |W|``)."""
    ax = get_ax(ax, figsize=(5, 4.2))
    w = np.asarray(weights)
    v = float(np.abs(w).max()) if vmax is None else float(vmax)
    v = v if v > 0 else 1.0
    im = ax.imshow(w, cmap="coolwarm", vmin=-v, vmax=v, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label="Connection strength w_ij")
    ax.set_xlabel("Pre-synaptic neuron j")
    ax.set_ylabel("Post-synaptic neuron i")
    ax.set_title(title)
    return ax


def plot_tsne_basin(embedding: Any, noise_levels: Any, ax: Any = None) -> Any:
    """t-SNE embedding of recalled states coloured by the cue's noise level."""
    ax = get_ax(ax, figsize=(6, 4.5))
    e = np.asarray(embedding)
    sc = ax.scatter(e[:, 0], e[:, 1], c=np.asarray(noise_levels), cmap="viridis", s=40)
    ax.figure.colorbar(sc, ax=ax, label="Input noise level")
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_title("Attractor basin structure (t-SNE)")
    return ax


def plot_phase_space_3d(projection: Any, labels: Sequence[str] | None = None,
                        ax: Any = None) -> Any:
    """Recalled states in the space of their first three principal components."""
    ax = get_ax(ax, figsize=(6.5, 5.5), projection="3d")
    x = np.asarray(projection)
    if x.shape[1] < 3:
        x = np.pad(x, ((0, 0), (0, 3 - x.shape[1])))
    labels = labels or [f"Memory {i + 1}" for i in range(x.shape[0])]
    for i, lab in enumerate(labels):
        ax.scatter(x[i, 0], x[i, 1], x[i, 2], s=100, label=lab)
    ax.set_title("Emotional memory attractors in phase space")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_zlabel("PC3")
    ax.legend(fontsize=8)
    return ax


def plot_convergence_curves(curves: Any, noise_levels: Sequence[float], ax: Any = None, *,
                            dt: float | None = None) -> Any:
    """MSE from the target against recall steps (log scale), one line per noise level.

    ``curves``: ``(L, T)``. With ``dt`` (ms) the x axis is time in ms.
    """
    ax = get_ax(ax, figsize=(6.5, 4.2))
    c = np.asarray(curves)
    x = np.arange(c.shape[1]) * (1.0 if dt is None else dt)
    for row, n in zip(c, noise_levels, strict=True):
        ax.plot(x, np.maximum(row, 1e-12), marker=".", label=f"{int(round(n * 100))}% noise")
    ax.set_yscale("log")
    ax.set_xlabel("Recovery steps" if dt is None else "Time (ms)")
    ax.set_ylabel("MSE from target")
    ax.set_title("Memory retrieval dynamics")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def plot_beta_scan(betas: Any, strengths: Mapping[str, Any] | Any, ax: Any = None) -> Any:
    """Retrieval success against beta; ``strengths`` an array or ``{label: array}``."""
    ax = get_ax(ax, figsize=(6.5, 4.2))
    items = strengths.items() if isinstance(strengths, Mapping) else [("strength", strengths)]
    for label, s in items:
        ax.plot(np.asarray(betas), np.asarray(s), marker="o", label=label)
    ax.set_xlabel("β (emotional intensity)")
    ax.set_ylabel("Retrieval success rate")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("Emotional intensity vs memory stability")
    ax.grid(True, alpha=0.3)
    if isinstance(strengths, Mapping):
        ax.legend(fontsize=8)
    return ax


def plot_basin_vs_emotion(emotions: Any, noise_levels: Any, success: Any, ax: Any = None, *,
                          label: str = "") -> Any:
    """Basin size against emotion: success against noise level, one line per emotion.

    ``success``: ``(P, L)`` for emotions ``(P,)`` and noise levels ``(L,)``.
    """
    ax = get_ax(ax, figsize=(6.5, 4.2))
    s = np.asarray(success)
    for e, row in zip(np.asarray(emotions), s, strict=True):
        ax.plot(np.asarray(noise_levels), row, marker="o", label=f"E = {e:g}")
    ax.set_xlabel("Cue noise level")
    ax.set_ylabel("Retrieval success rate")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("Basin size vs emotion" + (f" ({label})" if label else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_capacity(load: Any, success: Any, ax: Any = None, *, label: str | None = None,
                  alpha_c: float | None = 0.138, transition: float | None = None) -> Any:
    """Fraction of stored patterns retrieved against the load ``P / N``."""
    ax = get_ax(ax, figsize=(6.5, 4.2))
    ax.plot(np.asarray(load), np.asarray(success), marker="o", label=label or "simulation")
    if alpha_c is not None:
        ax.axvline(alpha_c, color="k", ls="--", lw=1, label=f"Hopfield limit α_c = {alpha_c}")
    if transition is not None and np.isfinite(transition):
        ax.axvline(transition, color="C3", ls=":", lw=1.2,
                   label=f"measured 50% point = {transition:.3f}")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_xlabel("Load α = P / N (stored patterns per neuron)")
    ax.set_ylabel("Fraction of patterns retrieved")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("Storage capacity")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_pca_trajectories(trajectories: Any, ax: Any = None, *,
                          labels: Sequence[str] | None = None,
                          patterns: Any = None) -> Any:
    """Recall trajectories ``(T, B, N)`` projected on the first two principal components of
    all visited states. Trajectories with the same label share a colour and one legend
    entry; stored ``patterns`` (``(P, N)``) are marked with filled stars and their mirror
    images ``-xi`` (also attractors of a Hebbian network) with open stars."""
    ax = get_ax(ax, figsize=(6.5, 5))
    tr = np.asarray(trajectories, dtype=np.float64)
    t, b, n = tr.shape
    flat = tr.reshape(-1, n)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    proj = ((tr - mean) @ vt[:2].T)
    groups: dict[str, str] = {}
    for i in range(b):
        lab = labels[i] if labels is not None else f"cue {i + 1}"
        first = lab not in groups
        color = groups.setdefault(lab, f"C{len(groups) % 10}")
        ax.plot(proj[:, i, 0], proj[:, i, 1], lw=1, alpha=0.8, color=color,
                label=lab if first else "_nolegend_")
        ax.plot(proj[0, i, 0], proj[0, i, 1], "o", color=color, ms=4)
    if patterns is not None:
        pat = np.asarray(patterns, dtype=np.float64)
        pp = (pat - mean) @ vt[:2].T
        mp = (-pat - mean) @ vt[:2].T
        ax.plot(pp[:, 0], pp[:, 1], "k*", ms=14, label="stored patterns")
        ax.plot(mp[:, 0], mp[:, 1], "*", ms=14, mfc="none", mec="k",
                label="mirror images -ξ")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title("Recall trajectories (circles: cues)")
    ax.legend(fontsize=8)
    return ax

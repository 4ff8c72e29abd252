"""Figures of the linear-associative-memory notebook (seed 002).

- :func:`plot_memory_heatmap` -- an association matrix as a heatmap ("MCF: Initial
  State").
- :func:`plot_memory_evolution` -- the 2 x 3 grid "MCF Association Matrix Evolution"
  after 0, 2, 4, 6, 8, 10 studied items.
- :func:`plot_association_growth` -- one entry over study positions with the initial
  support line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._style import get_ax, new_figure

__all__ = ["plot_memory_heatmap", "plot_memory_evolution", "plot_association_growth"]


def _state(memory: Any) -> np.ndarray:
    return np.asarray(getattr(memory, "state", memory))


def plot_memory_heatmap(memory: Any, ax: Any = None, *, title: str = "MCF: Initial State",
                        xlabel: str = "Item", ylabel: str = "Context Unit",
                        cmap: str = "viridis", vmin: float | None = None,
                        vmax: float | None = None, colorbar: bool = True) -> Any:
    """Heatmap of a memory's association matrix (rows: input units, columns: outputs).

    **Arguments:** ``memory`` is a :class:`~engramlab.memory.LinearMemory` or an array
    of shape ``(n_in, n_out)``. **Returns:** the Axes.
    """
    ax = get_ax(ax, figsize=(8, 6))
    state = _state(memory)
    im = ax.imshow(state, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="Association Strength")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def plot_memory_evolution(states: Any, positions: Sequence[int] = (0, 2, 4, 6, 8, 10), *,
                          vmin: float = 0.0, vmax: float = 0.6, cmap: str = "viridis",
                          title: str = "MCF Association Matrix Evolution") -> Any:
    """The notebook's 2 x 3 grid: the matrix after each of ``positions`` studied items.

    **Arguments:** ``states`` has shape ``(K + 1, n_in, n_out)`` (as returned by
    :func:`engramlab.memory.associate_sequence`). **Returns:** the Figure.
    """
    states = np.asarray(states)
    n = len(positions)
    ncols = 3
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(12, 4 * nrows), squeeze=False)
    im = None
    for ax, pos in zip(axes.flat, positions, strict=False):
        if pos >= states.shape[0]:
            raise ValueError(f"positions: {pos} exceeds the {states.shape[0] - 1} items studied")
        im = ax.imshow(states[pos], cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax,
                       interpolation="nearest")
        ax.set_title(f"After {pos} items")
        ax.set_xlabel("Item")
        ax.set_ylabel("Context Unit")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.colorbar(im, ax=axes, label="Association Strength", shrink=0.8)
    fig.suptitle(title)
    return fig


def plot_association_growth(strengths: Any, initial: float | None = None, ax: Any = None, *,
                            title: str = "MCF[context_1, item_0] Association Growth") -> Any:
    """Association strength of one (input, output) pair over study positions.

    ``initial`` draws the dashed "Initial (support)" reference line
    (``shared_support + item_support`` in the notebook). **Returns:** the Axes.
    """
    ax = get_ax(ax, figsize=(8, 4))
    s = np.asarray(strengths)
    ax.plot(np.arange(len(s)), s, "o-", linewidth=2, markersize=8, label="MCF entry")
    if initial is not None:
        ax.axhline(y=initial, color="r", linestyle="--", label="Initial (support)")
    ax.set_xlabel("Study Position (items studied)")
    ax.set_ylabel("Association Strength")
    ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax

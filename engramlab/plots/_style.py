"""Shared plotting helpers: get-or-create Axes, consistent figure creation."""

from __future__ import annotations

from typing import Any


def get_ax(ax: Any = None, *, figsize: tuple[float, float] = (6.0, 4.0),
           projection: str | None = None):
    """Return ``ax`` or a new Axes on a new Figure (never calls ``plt.show``)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    return fig.add_subplot(111, projection=projection) if projection else fig.add_subplot(111)


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
               **kw: Any):
    """``plt.subplots`` with engramlab defaults (constrained layout)."""
    import matplotlib.pyplot as plt

    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=figsize, **kw)

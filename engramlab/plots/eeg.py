"""Figures for EEG phase locking (seed 000's EEG protocol).

- :func:`plot_plv_matrix` -- channel-pair PLV matrix as a heatmap.
- :func:`plot_plv_timecourse` -- across-trial PLV over time, one line per condition,
  with the zero-locking bias level ``sqrt(pi / (4 N))``.
- :func:`plot_condition_bars` -- mean +- SEM per condition (the seed's table as a bar
  chart), annotated with the permutation p-value and Cohen's d.
- :func:`plot_phase_locking_summary` -- the three side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._style import get_ax, new_figure

__all__ = ["plot_plv_matrix", "plot_plv_timecourse", "plot_condition_bars",
           "plot_phase_locking_summary"]

_COLORS = ("#c0392b", "#2c7fb8", "#27ae60", "#8e44ad", "#f39c12")


def plot_plv_matrix(matrix: Any, ax: Any = None, *, ch_names: Sequence[str] | None = None,
                    title: str = "Gamma PLV matrix", label: str = "PLV", vmin: float = 0.0,
                    vmax: float = 1.0, cmap: str = "viridis", mask_diagonal: bool = True,
                    colorbar: bool = True) -> Any:
    """Heatmap of a ``(n_channels, n_channels)`` PLV matrix.

    ``matrix`` is an array or an xarray with coordinates ``channel_i``/``channel_j``
    (their values label the axes unless ``ch_names`` is given). The diagonal (always 1)
    is masked by default. **Returns:** the Axes.
    """
    ax = get_ax(ax, figsize=(5.5, 4.8))
    if ch_names is None and hasattr(matrix, "coords") and "channel_i" in matrix.coords:
        ch_names = [str(c) for c in matrix.coords["channel_i"].values]
    m = np.array(matrix, dtype=float)
    if mask_diagonal:
        np.fill_diagonal(m, np.nan)
    im = ax.imshow(m, vmin=vmin, vmax=vmax, cmap=cmap, interpolation="nearest")
    n = m.shape[0]
    names = list(ch_names) if ch_names is not None else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names, rotation=90, fontsize=8 if n > 10 else 9)
    ax.set_yticks(range(n), names, fontsize=8 if n > 10 else 9)
    ax.set_xlabel("Channel j")
    ax.set_ylabel("Channel i")
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label, fraction=0.046, pad=0.04)
    return ax


def plot_plv_timecourse(timecourse: Any, ax: Any = None, *, times: Any = None,
                        conditions: Sequence[str] | None = None,
                        n_trials: Mapping[str, int] | None = None,
                        window: tuple[float, float] | None = None,
                        clusters: Sequence[tuple[float, float]] | None = None,
                        title: str = "Across-trial gamma PLV over time",
                        ylabel: str = "PLV (mean over channel pairs)") -> Any:
    """Across-trial PLV time course per condition.

    ``timecourse`` is an xarray ``(condition, time)`` (from
    :meth:`~engramlab.eeg.PhaseLocking.timecourse`) or an array with ``times`` (s) and
    ``conditions``. With ``n_trials`` (condition -> N) the zero-locking bias level
    ``sqrt(pi/(4N))`` is drawn dashed (once per distinct N); ``window`` (s) shades the
    analysis window; ``clusters`` (``(t_start, t_end)`` in s, e.g.
    ``TimeClusters.significant()``) are marked by a bar at the top. **Returns:** the Axes.
    """
    ax = get_ax(ax, figsize=(6.5, 4.0))
    if hasattr(timecourse, "coords"):
        times = np.asarray(timecourse.coords["time"].values) if times is None else times
        conditions = ([str(c) for c in timecourse.coords["condition"].values]
                      if conditions is None else conditions)
    data = np.atleast_2d(np.asarray(timecourse, dtype=float))
    times = np.arange(data.shape[1]) if times is None else np.asarray(times)
    conditions = conditions or [f"condition {k}" for k in range(data.shape[0])]
    if window is not None:
        ax.axvspan(window[0], window[1], color="0.9", zorder=0, label="analysis window")
    for k, (cond, row) in enumerate(zip(conditions, data, strict=True)):
        ax.plot(times, row, color=_COLORS[k % len(_COLORS)], lw=1.8, label=str(cond))
    for k, (c0, c1) in enumerate(clusters or []):
        ax.plot([c0, c1], [0.97, 0.97], color="k", lw=4, solid_capstyle="butt",
                label="significant cluster (p < 0.05)" if k == 0 else None)
    drawn: set[int] = set()
    for k, cond in enumerate(conditions):
        if n_trials and cond in n_trials and n_trials[cond] not in drawn:
            n = int(n_trials[cond])
            drawn.add(n)
            ax.axhline(np.sqrt(np.pi / (4 * n)), color=_COLORS[k % len(_COLORS)], ls="--",
                       lw=1, label=f"no-locking bias sqrt(pi/4N), N={n}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Time in epoch (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return ax


def plot_condition_bars(comparison: Any, ax: Any = None, *,
                        title: str = "Gamma PLV by condition (mean ± SEM)",
                        ylabel: str = "PLV", reference: Mapping[str, tuple[float, float]]
                        | None = None) -> Any:
    """Bar chart of the per-condition value with SEM error bars.

    ``comparison`` is a :class:`~engramlab.eeg.ConditionComparison` (annotated with its
    p-value and Cohen's d) or a DataFrame with columns ``condition``, ``value``, ``sem``.
    ``reference`` (condition -> (mean, sem), e.g. the seed's table) adds hollow markers
    with error bars beside each bar. **Returns:** the Axes.
    """
    ax = get_ax(ax, figsize=(4.8, 4.2))
    table = getattr(comparison, "table", comparison)
    conds = [str(c) for c in table["condition"]]
    vals = np.asarray(table["value"], dtype=float)
    sems = np.asarray(table["sem"], dtype=float)
    x = np.arange(len(conds))
    ax.bar(x, vals, yerr=sems, capsize=6, color=[_COLORS[k % len(_COLORS)] for k in x],
           alpha=0.85, label="measured (jackknife SEM)")
    if reference:
        ref = [(k, reference[c]) for k, c in enumerate(conds) if c in reference]
        if ref:
            ax.errorbar([k + 0.3 for k, _ in ref], [r[0] for _, r in ref],
                        yerr=[r[1] for _, r in ref], fmt="o", mfc="white", color="k",
                        capsize=4, label="seed table")
    for k, (v, s) in enumerate(zip(vals, sems, strict=True)):
        ax.text(k, v + s + 0.02, f"{v:.2f} ± {s:.2f}", ha="center", fontsize=9)
    ax.set_xticks(x, conds)
    ax.set_ylim(0, max(1.0, float(np.max(vals + sems)) + 0.12))
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Condition")
    title_full = title
    if hasattr(comparison, "p_value"):
        title_full += (f"\npermutation p = {comparison.p_value:.3g} "
                       f"({comparison.n_permutations} shuffles), d = "
                       f"{comparison.effect_size:.2f}")
    ax.set_title(title_full, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def plot_phase_locking_summary(result: Any, comparison: Any, *, condition: str | None = None,
                               reference: Mapping[str, tuple[float, float]] | None = None,
                               timecourse_result: Any = None,
                               clusters: Sequence[tuple[float, float]] | None = None,
                               suptitle: str | None = None) -> Any:
    """Matrix (one condition), time course (all conditions) and bars in one Figure.

    ``timecourse_result`` (e.g. the same data without an analysis window) is used for
    the time course, with ``result``'s window shaded.
    """
    fig, axes = new_figure(1, 3, figsize=(16, 4.6))
    cond = condition or result.conditions[0]
    plot_plv_matrix(result.matrix(cond), ax=axes[0],
                    title=f"Across-trial PLV, {cond} ({result.band[0]:g}-{result.band[1]:g} Hz)")
    n_trials = {c: int(np.sum(result.labels == c)) for c in result.conditions}
    tc_res = timecourse_result if timecourse_result is not None else result
    window = ((float(result.times[0]), float(result.times[-1]))
              if timecourse_result is not None else None)
    plot_plv_timecourse(tc_res.timecourse(), ax=axes[1], n_trials=n_trials, window=window,
                        clusters=clusters)
    plot_condition_bars(comparison, ax=axes[2], reference=reference)
    if suptitle:
        fig.suptitle(suptitle)
    return fig

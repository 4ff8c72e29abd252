"""Figures for CMR: serial position curve, probability of first recall, lag-CRP, category
CRP and distance CRP (organisation), the "model vs data" panel, profile likelihoods,
parameter recovery and model identification.

The curve plots take the tidy frames of :func:`engramlab.cmr.recall_curves` (or the
dict of :func:`engramlab.cmr.compare_curves`), an optional Axes, and return the Axes; the
multi-panel figures (model vs data, recovery, identification) return the Figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_choice, check_int
from ._style import get_ax, new_figure

__all__ = ["plot_spc", "plot_pfr", "plot_lag_crp", "plot_category_crp",
           "plot_distance_crp", "plot_model_vs_data",
           "plot_fit_scatter", "plot_list_composition", "plot_profile", "plot_recovery",
           "plot_confusion"]

_DATA = dict(color="black", marker="o", ms=4, lw=1.5)
_MODEL = dict(color="tab:red", lw=2, ls="--")


def plot_spc(curves: dict, ax: Any = None, *, label: str | None = None, **style: Any) -> Any:
    """Serial position curve: recall probability by study position."""
    ax = get_ax(ax)
    d = curves["spc"]
    ax.plot(d["input"], d["recall"], label=label, **({**_DATA, **style}))
    ax.set_xlabel("Serial position")
    ax.set_ylabel("Recall probability")
    ax.set_ylim(0, 1)
    ax.set_title("Serial position curve")
    return ax


def plot_pfr(curves: dict, ax: Any = None, *, label: str | None = None, **style: Any) -> Any:
    """Probability of first recall by study position."""
    ax = get_ax(ax)
    d = curves["pfr"]
    ax.plot(d["input"], d["prob"], label=label, **({**_DATA, **style}))
    ax.set_xlabel("Serial position")
    ax.set_ylabel("Probability of first recall")
    top = np.nanmax(np.concatenate([d["prob"], [ax.get_ylim()[1] / 1.1]]))
    ax.set_ylim(0, 1.1 * top)
    ax.set_title("Probability of first recall")
    return ax


def plot_lag_crp(curves: dict, ax: Any = None, *, label: str | None = None,
                 max_lag: int = 5, **style: Any) -> Any:
    """Lag-CRP for ``|lag| <= max_lag``, negative and positive lags drawn separately."""
    ax = get_ax(ax)
    d = curves["lag_crp"]
    s = {**_DATA, **style}
    neg = d[(d["lag"] < 0) & (d["lag"] >= -max_lag)]
    pos = d[(d["lag"] > 0) & (d["lag"] <= max_lag)]
    ax.plot(neg["lag"], neg["prob"], label=label, **s)
    ax.plot(pos["lag"], pos["prob"], **s)
    ax.set_xlabel("Lag (study positions)")
    ax.set_ylabel("Conditional response probability")
    ax.set_xticks(np.arange(-max_lag, max_lag + 1))
    top = np.nanmax(np.concatenate([neg["prob"], pos["prob"], [ax.get_ylim()[1] / 1.1]]))
    ax.set_ylim(0, 1.1 * top)
    ax.set_title("Lag-CRP")
    return ax


def _category_table(curves: Any, name: str) -> Any:
    import pandas as pd

    from ..errors import DataError

    if isinstance(curves, pd.DataFrame):
        table = curves
    elif isinstance(curves, dict) and "category_crp" in curves:
        table = curves["category_crp"]
    else:
        raise DataError(f"{name}: expected recall_curves' dict with a 'category_crp' entry "
                        "(data with a category column) or category_crp's table, got "
                        + (f"a dict with keys {sorted(curves)}" if isinstance(curves, dict)
                           else type(curves).__name__))
    if not {"category", "prob"} <= set(table.columns):
        raise DataError(f"{name}: expected a table with columns category, prob, got "
                        f"{list(table.columns)}")
    return table


def plot_category_crp(curves: Any, ax: Any = None, *, model: Any = None,
                      label: str = "data", model_label: str = "CMR",
                      interval: float = 0.95) -> Any:
    """Category CRP (:func:`engramlab.cmr.category_crp`): bars for ``curves`` (± 1 SEM
    over subjects when the table has ``sem``), one bar per row (``"all"`` transitions,
    then each category of the item recalled before), and optionally the model as red
    points.

    ``curves``: :func:`~engramlab.cmr.recall_curves`' dict (its ``"category_crp"``), or
    :func:`~engramlab.cmr.compare_curves`' dict (then ``model`` defaults to its model
    side), or the table itself. ``model``: the same for one simulation, or a list of
    them (several simulations: the point is their mean and a vertical band spans the
    central ``interval`` of their values).
    """
    if isinstance(curves, dict) and "data" in curves and "model" in curves:
        model = curves["model"] if model is None else model
        curves = curves["data"]
    ax = get_ax(ax, figsize=(5.0, 3.6))
    d = _category_table(curves, "curves")
    cats = [str(c) for c in d["category"]]
    x = np.arange(len(cats))
    yerr = d["sem"].to_numpy(float) if "sem" in d.columns else None
    if yerr is not None and not np.isfinite(yerr).any():
        yerr = None
    ax.bar(x, d["prob"].to_numpy(float), 0.6, yerr=yerr, color="lightgrey",
           edgecolor="black", lw=0.8, capsize=3, label=label)
    if model is not None:
        sims = model if isinstance(model, list | tuple) else [model]
        vals = np.full((len(sims), len(cats)), np.nan)
        for i, m in enumerate(sims):
            t = _category_table(m, "model").assign(category=lambda f: f["category"].map(str))
            vals[i] = t.set_index("category")["prob"].reindex(cats).to_numpy(float)
        mean = np.nanmean(vals, axis=0) if len(sims) > 1 else vals[0]
        if len(sims) > 1:
            q = (1 - interval) / 2
            lo, hi = np.nanquantile(vals, [q, 1 - q], axis=0)
            ax.vlines(x, lo, hi, color="tab:red", lw=6, alpha=0.3,
                      label=f"{model_label} ({interval:.0%} of {len(sims)} simulations)")
        ax.plot(x, mean, ls="none", marker="D", ms=6, color="tab:red", label=model_label)
    ax.set_xticks(x, cats)
    ax.set_xlabel("Category of the previous recall")
    ax.set_ylabel("P(within-category transition)")
    ax.set_ylim(0, 1.12)  # room for the legend above the bars
    ax.set_title("Category CRP")
    ax.legend(loc="upper center", ncol=3, fontsize=7, frameon=False)
    return ax


def plot_distance_crp(crp: Any, ax: Any = None, *, label: str | None = None,
                      xlabel: str = "Distance (bin centre)", **style: Any) -> Any:
    """Distance (semantic) CRP (:func:`engramlab.cmr.distance_crp`'s group table): the
    probability of a transition by bin of distance or similarity from the previous
    recall, one point per bin centre. Draw the model on the same Axes with, e.g.,
    ``plot_distance_crp(model_crp, ax, label="CMR", color="tab:red", ls="--")``."""
    from ..errors import DataError

    if not {"center", "prob"} <= set(getattr(crp, "columns", ())):
        raise DataError("crp: expected distance_crp's table with columns center, prob, got "
                        f"{type(crp).__name__}")
    ax = get_ax(ax)
    ax.plot(crp["center"], crp["prob"], label=label, **({**_DATA, **style}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Conditional response probability")
    top = np.nanmax(np.concatenate([crp["prob"], [ax.get_ylim()[1] / 1.1]]))
    ax.set_ylim(0, 1.1 * top)
    ax.set_title("Distance CRP")
    return ax


def plot_model_vs_data(comparison: dict, *, title: str | None = None,
                       max_lag: int = 5, organisation: bool = False) -> Any:
    """Three panels (SPC, PFR, lag-CRP), data in black, model dashed red; returns the Figure.

    ``comparison``: the dict returned by :func:`engramlab.cmr.compare_curves`.
    ``organisation=True`` adds a fourth panel, the category CRP
    (:func:`plot_category_crp`; the comparison must hold ``"category_crp"``, i.e. data
    and model with a category column).
    """
    if organisation:
        for side in ("data", "model"):
            _category_table(comparison[side], f"comparison[{side!r}]")
    fig, axes = new_figure(1, 4 if organisation else 3,
                           figsize=(17, 3.8) if organisation else (13, 3.8))
    for fn, ax in zip((plot_spc, plot_pfr), axes[:2], strict=True):
        fn(comparison["data"], ax, label="data")
        fn(comparison["model"], ax, label="CMR", **_MODEL, marker=None)
    plot_lag_crp(comparison["data"], axes[2], label="data", max_lag=max_lag)
    plot_lag_crp(comparison["model"], axes[2], label="CMR", max_lag=max_lag, **_MODEL,
                 marker=None)
    names = ["spc", "pfr", "lag_crp"]
    if organisation:
        plot_category_crp(comparison["data"], axes[3], model=comparison["model"])
        names.append("category_crp")
    for ax, name in zip(axes, names, strict=True):
        rmse = comparison.get("rmse", {}).get(name)
        if rmse is not None:
            ax.text(0.03, 0.95, f"RMSE {rmse:.3f}", transform=ax.transAxes, ha="left",
                    va="top", fontsize=9)
    axes[0].legend(loc="lower center")
    if title:
        fig.suptitle(title)
    return fig


def plot_fit_scatter(x: Any, y: Any, ax: Any = None, *, xlabel: str = "Model A",
                     ylabel: str = "Model B", title: str = "", **style: Any) -> Any:
    """Scatter of two sets of per-subject values with the identity line."""
    ax = get_ax(ax, figsize=(4.5, 4.5))
    x, y = np.asarray(x, float), np.asarray(y, float)
    ax.scatter(x, y, **({"s": 25, "color": "tab:blue"} | style))
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls=":", label="identity")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    return ax


def plot_list_composition(table: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """The emotional list-composition effect: recall probability by list type and item
    valence (bars, ± 1 simulation SE), one group of bars per variant.

    ``table``: :func:`engramlab.cmr.list_composition`'s tidy frame.
    """
    ax = get_ax(ax, figsize=(8, 4))
    order = [("pure-neutral", "neutral"), ("pure-emotional", "emotional"),
             ("mixed", "neutral"), ("mixed", "emotional")]
    colors = {"neutral": "tab:gray", "emotional": "tab:red"}
    hatch = {"mixed": "//"}
    variants = list(dict.fromkeys(table["variant"]))
    width = 0.8 / len(order)
    for vi, v in enumerate(variants):
        g = table[table["variant"] == v]
        for k, (lt, cls) in enumerate(order):
            row = g[(g["list_type"] == lt) & (g["valence_class"] == cls)]
            if row.empty:
                continue
            x = vi + (k - (len(order) - 1) / 2) * width
            ax.bar(x, row["recall"].iloc[0], width * 0.95, yerr=row["se"].iloc[0],
                   color=colors[cls], hatch=hatch.get(lt, ""), edgecolor="black", lw=0.5,
                   capsize=2, label=f"{lt}, {cls}" if vi == 0 else None)
    ax.set_xticks(range(len(variants)), variants)
    ax.set_ylabel("Recall probability")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, ncol=2, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_profile(table: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """Profile log-likelihood of :func:`engramlab.cmr.profile`: ``logl - max`` against
    the parameter, the estimate, the 95 % likelihood-ratio interval (``delta >= -1.92``)
    shaded, and the box's bounds as the axis limits (log axis where the grid is)."""
    ax = get_ax(ax, figsize=(5.0, 3.6))
    name = table.attrs.get("parameter", table.columns[0])
    x, d = table[name].to_numpy(float), table["delta"].to_numpy(float)
    ax.plot(x, d, color="tab:blue", marker="o", ms=3, lw=1.5, label="profile log L")
    ax.axhline(-1.92, color="grey", lw=1, ls=":", label=r"$-\chi^2_1(0.95)/2$")
    lo, hi = table.attrs.get("ci95", (x.min(), x.max()))
    ax.axvspan(lo, hi, color="tab:blue", alpha=0.12, label="95 % interval")
    if "estimate" in table.attrs:
        ax.axvline(table.attrs["estimate"], color="tab:red", lw=1.2, ls="--",
                   label="estimate")
    pos = x[x > 0]
    if pos.size == x.size and x.max() / x.min() >= 1e3:
        ax.set_xscale("log")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(max(d.min(), -25.0) - 0.5, 1.0)
    ax.set_xlabel(name)
    ax.set_ylabel(r"$\log L - \max \log L$")
    flat = " (flat: not constrained by the data)" if table.attrs.get("flat") else ""
    ax.set_title(title if title is not None else f"profile of {name}{flat}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


def plot_recovery(result: Any, *, ncols: int = 4, title: str | None = None) -> Any:
    """Parameter recovery (:func:`engramlab.cmr.recover`): truth against estimate, one
    panel per free parameter, with the identity line; estimates at a bound of the fit box
    as open red circles, ``r`` and RMSE in each title. Returns the ``Figure``.

    ``result``: a :class:`~engramlab.cmr.RecoveryResult` (also its ``.plot()``).
    """
    names = list(result.bounds)
    ncols = max(1, min(check_int(ncols, "ncols", min_value=1), len(names)))
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(3.0 * ncols, 2.9 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        g = result.table[result.table["parameter"] == name]
        s = result.summary.loc[name]
        inside = ~g["at_bound"].to_numpy(bool)
        ax.scatter(g["truth"][inside], g["estimate"][inside], s=16, color="tab:blue")
        if (~inside).any():
            ax.scatter(g["truth"][~inside], g["estimate"][~inside], s=22,
                       facecolors="none", edgecolors="tab:red", label="at a bound")
            ax.legend(loc="best", fontsize=7)
        lo = min(g["truth"].min(), g["estimate"].min())
        hi = max(g["truth"].max(), g["estimate"].max())
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls=":")
        r = "n/a" if not np.isfinite(s["r"]) else f"{s['r']:.2f}"
        ax.set_title(f"{name}\nr = {r}, RMSE = {s['rmse']:.3g}", fontsize=9)
        ax.set_xlabel("truth", fontsize=8)
        ax.set_ylabel("estimate", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.remove()
    fig.suptitle(title or f"Parameter recovery: {result.variant} "
                 f"({len(result.subjects)} simulated subjects, {result.method} fit)",
                 fontsize=10)
    return fig


def plot_confusion(result: Any, kind: str = "confusion", *, title: str | None = None) -> Any:
    """Model identification (:func:`engramlab.cmr.identify`): heatmaps by AIC and by BIC
    (two panels), the proportion in every cell. ``kind="confusion"``: ``p(best |
    generating)``, rows generating, columns best (rows sum to 1); ``"inversion"``:
    ``p(generating | best)`` (columns sum to 1; "–" where a model never wins). Returns
    the ``Figure``.

    ``result``: an :class:`~engramlab.cmr.IdentifyResult` (also its ``.plot()``).
    """
    kind = check_choice(kind, "kind", ("confusion", "inversion"))
    variants = list(result.variants)
    n = len(variants)
    fig, axes = new_figure(1, 2, figsize=(2 * (1.4 + 0.85 * n), 1.3 + 0.85 * n))
    for ax, c in zip(axes, ("aic", "bic"), strict=True):
        m = (result.confusion(c) if kind == "confusion" else result.inversion(c)).values
        ax.imshow(np.nan_to_num(m, nan=0.0), vmin=0, vmax=1, cmap="Blues")
        for i in range(n):
            for j in range(n):
                x = m[i, j]
                ax.text(j, i, "–" if not np.isfinite(x) else f"{x:.2f}", ha="center",
                        va="center", fontsize=9,
                        color="white" if np.isfinite(x) and x > 0.6 else "black")
        ax.set_xticks(range(n), variants, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(n), variants, fontsize=8)
        ax.set_xlabel("best-fitting model", fontsize=9)
        ax.set_ylabel("generating model", fontsize=9)
        what = "p(best | generating)" if kind == "confusion" else "p(generating | best)"
        ax.set_title(f"{c.upper()}: {what}", fontsize=9)
    n_sub = int(result.winners.groupby("generating").size().iloc[0])
    fig.suptitle(title or f"Model identification ({n_sub} subjects per model, "
                 f"{result.method} fits)", fontsize=10)
    return fig

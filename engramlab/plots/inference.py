"""Figures for Bayesian CMR fits: posterior predictive bands, per-subject posteriors and
the model-comparison panel.

Inputs are the results of :func:`engramlab.cmr.posterior_predictive`,
:func:`engramlab.cmr.sample` (an ArviZ ``InferenceData``) and
:func:`engramlab.cmr.compare`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._style import get_ax, new_figure

__all__ = ["plot_ppc", "plot_subject_posteriors", "plot_compare"]

_TITLES = {"spc": ("Serial position curve", "Serial position", "Recall probability"),
           "pfr": ("Probability of first recall", "Serial position", "Probability"),
           "lag_crp": ("Lag-CRP", "Lag (study positions)", "Conditional response prob.")}


def plot_ppc(ppc: dict, *, title: str | None = None, max_lag: int = 5,
             color: str = "tab:red") -> Any:
    """SPC, PFR and lag-CRP: data (black) over the posterior predictive median (line) and
    central ``ppc["interval"]`` band (shaded). Returns the Figure."""
    fig, axes = new_figure(1, 3, figsize=(13, 3.8))
    pct = int(round(100 * ppc["interval"]))
    for ax, name in zip(axes, ("spc", "pfr", "lag_crp"), strict=True):
        b = ppc["bands"][name]
        segs = [b]
        if name == "lag_crp":
            b = b[(b["x"].abs() <= max_lag) & (b["x"] != 0)]
            segs = [b[b["x"] < 0], b[b["x"] > 0]]
        for i, s in enumerate(segs):
            ax.fill_between(s["x"], s["lo"], s["hi"], color=color, alpha=0.25, lw=0,
                            label=f"model {pct}% band" if i == 0 else None)
            ax.plot(s["x"], s["median"], color=color, lw=1.5,
                    label="model median" if i == 0 else None)
            ax.plot(s["x"], s["data"], color="black", marker="o", ms=3.5, lw=1.2,
                    label="data" if i == 0 else None)
        t, xl, yl = _TITLES[name]
        ax.set_title(f"{t} (data in band: {100 * ppc['coverage'][name]:.0f}%)", fontsize=10)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.set_ylim(bottom=0)
    axes[0].legend(loc="upper center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_subject_posteriors(idata: Any, names: list[str] | None = None, *,
                            interval: float = 0.9, title: str | None = None) -> Any:
    """One panel per parameter: every subject's posterior median and central ``interval``
    credible interval; hierarchical runs add the group median's interval (grey band).
    Returns the Figure."""
    post = idata.posterior
    names = names or [n for n in post.data_vars
                      if not n.startswith(("mu_", "sigma_"))]
    fig, axes = new_figure(1, len(names), figsize=(3.3 * len(names), 3.4), squeeze=False)
    q = (1 - interval) / 2
    subj = [str(s) for s in post["subject"].values]
    for ax, n in zip(axes[0], names, strict=True):
        v = post[n].stack(_s=("chain", "draw")).transpose("subject", "_s").values
        med = np.median(v, axis=1)
        lo, hi = np.quantile(v, q, axis=1), np.quantile(v, 1 - q, axis=1)
        y = np.arange(len(subj))
        if f"mu_{n}" in post:
            g = post[f"mu_{n}"].values.ravel()
            ax.axvspan(np.quantile(g, q), np.quantile(g, 1 - q), color="grey", alpha=0.25,
                       lw=0, label="group median")
        ax.errorbar(med, y, xerr=[med - lo, hi - med], fmt="o", ms=4, color="tab:blue",
                    lw=1.2, capsize=2)
        ax.set_yticks(y)
        ax.set_yticklabels(subj)
        ax.set_xlabel(n)
        ax.set_ylabel("subject")
    if any(f"mu_{n}" in post for n in names):
        axes[0][0].legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_compare(table: Any, ax: Any = None, *, title: str = "Model comparison") -> Any:
    """ELPD (PSIS-LOO) of each model with ±1 and ±2 standard errors of its difference from
    the best model (higher is better); each model's label gives its number of free
    parameters ``k`` (the table's ``k`` column, when present) and, when present, its AIC/BIC
    differences. The legend sits above the axes, clear of every error bar. Returns the
    Axes."""
    ax = get_ax(ax, figsize=(6.5, 1.4 + 0.7 * len(table)))
    models = list(table.index)
    y = np.arange(len(models))[::-1]
    elpd = table["elpd_loo"].to_numpy()
    dse = table["d_se"].to_numpy()
    ax.errorbar(elpd, y, xerr=2 * dse, fmt="none", ecolor="tab:blue", alpha=0.4, lw=4)
    ax.errorbar(elpd, y, xerr=dse, fmt="o", color="tab:blue", ecolor="tab:blue", capsize=3,
                label="elpd LOO ± 1, 2 SE of difference")
    if "elpd_waic" in table:
        ax.plot(table["elpd_waic"].to_numpy(), y, "x", color="tab:orange", label="elpd WAIC")
    ax.set_yticks(y)
    labels = []
    for m in models:
        lab = str(m)
        if "k" in table and np.isfinite(table.loc[m, "k"]):
            lab += f" (k = {int(table.loc[m, 'k'])})"
        if "aic" in table and np.isfinite(table.loc[m, "aic"]):
            lab += (f"\nΔAIC {table.loc[m, 'aic'] - table['aic'].min():.1f}, "
                    f"ΔBIC {table.loc[m, 'bic'] - table['bic'].min():.1f}")
        labels.append(lab)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("expected log predictive density (lists)")
    ax.set_ylim(-0.7, len(models) - 0.3)
    ax.set_title(title, pad=24)
    # above the axes (under the title): in the data area it could cover an error bar
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8,
              frameon=False, borderaxespad=0.2)
    return ax

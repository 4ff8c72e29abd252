"""Demo section: Bayesian CMR on a few Morton2013 subjects — per-subject posteriors
(hierarchical NUTS), a posterior predictive check, and a model comparison (PSIS-LOO,
WAIC, AIC, BIC) across variants on the same data.

Sized to run in about a minute or two on a laptop CPU (few subjects, lists, free
parameters and draws); its diagnostics are reported honestly and will usually be short of
the R-hat / ESS thresholds at this size: longer runs use ``engramlab cmr sample``.
"""

from __future__ import annotations

import time

from ..experiments.demo import DemoContext
from ..experiments.report import Section, Table

SUBJECTS = (1, 2, 3)
N_LISTS = 8            # first lists of each subject
CHAINS, DRAWS, WARMUP = 2, 60, 60
PPC_DRAWS = 12

#: Variants compared on the same data, each with its free parameters and bounds (the
#: rest stay at the class defaults). Same roles: study drift, choice rule, stop scale.
COMPARE: dict[str, dict[str, tuple[float, float]]] = {
    "jaxcmr": {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 20.0),
               "stop_probability_scale": (0.001, 0.3)},
    # base CMR with the papers' scalar context rule and additive item support: the same
    # parameter names, another model (docs/cmr.md, Variants)
    "paper": {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 20.0),
              "stop_probability_scale": (0.001, 0.3)},
}


def demo_section(ctx: DemoContext) -> Section:
    """Hierarchical NUTS fits of each variant in :data:`COMPARE` to the same Morton2013
    lists; the first variant's posteriors and PPC are drawn; all are compared."""
    import warnings

    import numpy as np
    import xarray as xr

    from ..errors import ConvergenceWarning
    from ..plots.inference import plot_compare, plot_ppc, plot_subject_posteriors
    from . import compare, diagnostics, load_dataset, point_fits, posterior_predictive
    from . import sample as sample_fn
    from .inference import save_inference

    df = load_dataset("Morton2013")
    data = df[df["subject"].isin(SUBJECTS) & (df["list"] <= N_LISTS)]
    results, fits, secs, diag = {}, {}, {}, {}
    for i, (variant, free) in enumerate(COMPARE.items()):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported in the table
            idata = sample_fn(data, key=ctx.key(f"sample-{variant}"), variant=variant,
                              free=free, chains=CHAINS, draws=DRAWS, warmup=WARMUP,
                              checkpoint_dir=ctx.dir / "checkpoints" / variant,
                              quiet=ctx.quiet)
        secs[variant] = time.perf_counter() - t0
        save_inference(idata, ctx.dir / f"posterior_{variant}.nc")
        diag[variant] = diagnostics(idata, warn=False)
        results[variant] = idata
        fits[variant] = point_fits(idata, data, n_starts=1, maxiter=60, seed=i)
    first = next(iter(COMPARE))
    idata = results[first]

    figs = []
    fig = plot_subject_posteriors(idata, list(COMPARE[first]),
                                  title=f"Hierarchical posteriors ({first}), Morton2013")
    figs.append(ctx.figure(fig, "posteriors", title="Per-subject posteriors",
                           caption=f"Posterior median and 90% credible interval of each "
                           f"free parameter for subjects {', '.join(map(str, SUBJECTS))} "
                           f"(first {N_LISTS} lists each; {CHAINS} chains x {DRAWS} draws of "
                           "NUTS after as many warm-up steps); grey: 90% interval of the "
                           "group median (partial pooling)."))
    ppc = posterior_predictive(idata, data, key=ctx.key("ppc"), n_draws=PPC_DRAWS)
    fig = plot_ppc(ppc, title=f"Posterior predictive check ({first})")
    figs.append(ctx.figure(fig, "ppc", title="Posterior predictive check",
                           caption=f"Data (black) against {PPC_DRAWS} simulations of the "
                           "experiment from random posterior draws (median line, 90% band); "
                           "psifr's SPC, PFR and lag-CRP."))
    table = compare(results, point_fits=fits)
    ax = plot_compare(table, title="Model comparison on the same lists")
    figs.append(ctx.figure(ax.figure, "comparison", title="Model comparison",
                           caption="Expected log predictive density (PSIS-LOO over lists; "
                           "error bars: 1 and 2 standard errors of the difference from the "
                           "best model), WAIC (x), and AIC/BIC differences from per-subject "
                           "maximum-likelihood fits."))

    ctx.save_arrays("ppc", xr.Dataset({
        f"{name}_{col}": ("x_" + name, ppc["bands"][name][col].to_numpy())
        for name in ("spc", "pfr", "lag_crp") for col in ("median", "lo", "hi", "data")
    }, coords={f"x_{n}": ppc["bands"][n]["x"].to_numpy() for n in ("spc", "pfr", "lag_crp")}))
    ctx.save_arrays("comparison", xr.Dataset.from_dataframe(table.rename_axis("model")))

    cols = ["elpd_loo", "se_loo", "p_loo", "d_loo", "d_se", "elpd_waic", "aic", "bic"]
    cmp_tab = Table(caption="Model comparison (higher elpd is better; lower AIC/BIC). "
                    "n_bad_k lists with Pareto k > 0.7 per model: " + ", ".join(
                        f"{m} {int(table.loc[m, 'n_bad_k'])}" for m in table.index),
                    columns=["model", *cols],
                    rows=[[m, *[f"{table.loc[m, c]:.1f}" for c in cols]] for m in table.index])
    d = diag[first]
    diag_tab = Table(caption=f"NUTS diagnostics ({first}); thresholds R-hat <= 1.01, bulk and "
                     "tail ESS >= 400 (this small demo run is expected to fall short).",
                     columns=["quantity", "mean", "90% interval", "R-hat", "ESS bulk",
                              "ESS tail"],
                     rows=[[k, f"{r['mean']:.3g}", f"[{r['q5']:.3g}, {r['q95']:.3g}]",
                            f"{r['r_hat']:.3f}", f"{r['ess_bulk']:.0f}",
                            f"{r['ess_tail']:.0f}"] for k, r in d.iterrows()])
    att = {v: results[v].sample_stats.attrs for v in results}
    text = (
        "Bayesian fitting of CMR: NUTS (NumPyro) on the exact, differentiable recall-sequence "
        "likelihood, with per-subject parameters in a bounded (logit) transform and "
        "group-level priors (partial pooling). Every variant is fitted to the same "
        f"{len(SUBJECTS)} x {N_LISTS} Morton (2013) lists and compared by PSIS-LOO and WAIC "
        "over lists, and by AIC/BIC of per-subject maximum-likelihood fits.\n\n"
        + " ".join(f"{v}: {secs[v]:.0f} s, max R-hat {att[v]['max_r_hat']:.3f}, min bulk ESS "
                   f"{att[v]['min_ess_bulk']:.0f}, {att[v]['n_divergent']} divergences."
                   for v in results))
    return Section(key=ctx.section, title="CMR: Bayesian fits, PPC and model comparison",
                   text=text, figures=figs, tables=[cmp_tab, diag_tab],
                   metrics={"seconds": secs,
                            "elpd_loo": {m: float(table.loc[m, "elpd_loo"])
                                         for m in table.index},
                            "ppc_coverage": ppc["coverage"],
                            "max_r_hat": {v: float(a["max_r_hat"]) for v, a in att.items()},
                            "min_ess_bulk": {v: float(a["min_ess_bulk"])
                                             for v, a in att.items()},
                            "n_divergent": {v: int(a["n_divergent"]) for v, a in att.items()},
                            "posterior_mean": {n: float(np.mean(idata.posterior[n].values))
                                               for n in COMPARE[first]}})

"""Does semantic / category information improve CMR's account of Morton2013? (issue 29,
item 5.) A study, not a timing against a baseline (as bench_cmr_recovery).

Item features: ``cmr.ItemFeatures.from_data(Morton2013, "category")`` (similarity 1
within a category, 0 between; one-hot category patterns for cymr-category).

Models, each fitted per subject by ``cmr.fit_subjects(df, method="gradient",
n_starts=N_STARTS, seed=0, items=items)`` with the variant's default free set and boxes:

- temporal-only ``jaxcmr`` (k = 11), and ``jaxcmr-semantic-mult`` /
  ``jaxcmr-semantic-add`` (k = 12: + ``semantic_scale``), compared with ``jaxcmr``;
- temporal-only ``cymr`` (k = 12) and ``cymr-category`` (k = 15: a category context
  sublayer with its own three drift rates), compared with ``cymr`` (both on cymr's
  768-unit localist pool). A one-subject gradient fit of cymr-category took 20 s cold /
  3.5 s warm on 2 shared cores, under the brief's 60 s, so it is in the study.

Per subject and model: ``AIC = 2 k - 2 logL`` and ``BIC = k ln(n) - 2 logL`` with ``k``
from the fit table and ``n`` the subject's number of recall events **including the stop
events**: the recalls kept after cleaning (intrusions and repeats removed, as the
likelihood does) plus one stop event per list (a list recalled in full has a certain
stop, log p = 0; it is still counted). ``delta_aic`` / ``delta_bic`` = model - its
temporal-only base (negative: the model is preferred), per subject and summed.

Nesting check: both semantic variants reduce to base jaxcmr as ``semantic_scale`` goes to
its lower bound (the additive cue's ``scale * lb`` term vanishes; the multiplicative
factor ``x ** scale`` goes to 1). ``logl_nested`` is the semantic model at the base fit
with ``semantic_scale`` at that bound -- every semantic fit also starts there
(``fit(start=...)``), so it can only end above it; ``below_nested`` flags a fit that ended more than
``NESTED_TOL`` (0.5) below it (a failed fit: a local optimum), and
``delta_*_best_known`` use ``max(fit, nested)`` instead of the fit. Both are reported;
neither replaces the other.

Model vs data: every fitted subject is simulated ``N_REP`` times on its own 48 study lists
(``cmr.simulate(fit, subject's frame, n_rep=N_REP)``, ``category`` and ``list_type``
carried). For each replication ``r``, the group within-category transition rate is
``cmr.category_transitions``' group ``within`` (mean over subjects of the fraction of
scored transitions that stay within the category); its 5th-95th percentiles over the
``N_REP`` replications are the model's 90 % band, and ``in_band`` says whether the data's
group rate lies inside. The same for ``within_crp`` (per available item), and both again
on the mixed lists only (``"mixed"``: in Morton2013's pure lists every transition is
within-category, so the rate over all lists is bounded below by their share).
``lag_crp_rmse``: RMSE between the data's and the pooled simulations' group lag-CRP.
The figure (``<results>/cmr_semantic_fits/organisation.png``): top row, the category CRP
of the data (bars, +- 1 SEM) with each model's mean and 90 % band over replications;
bottom row, the lag-CRP of the data and of each model (all replications pooled).

Sizes: full = all 40 subjects, ``N_STARTS`` = 4, ``N_REP`` = 20 (hours on 2 cores);
quick = the first ``N_QUICK`` = 4 subjects, ``n_starts`` = 2, ``N_REP`` = 20.
``ENGRAMLAB_BENCH_SUBJECTS`` overrides the subject count, ``ENGRAMLAB_BENCH_WORKERS`` the
fit_subjects workers (default: min(2, CPUs)).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

#: model -> its temporal-only base (None: a base)
MODELS = {"jaxcmr": None, "jaxcmr-semantic-mult": "jaxcmr", "jaxcmr-semantic-add": "jaxcmr",
          "cymr": None, "cymr-category": "cymr"}
POOL = 768  # cymr's localist pool on Morton2013 (cymr parity)
N_STARTS, N_STARTS_QUICK = 4, 2
N_REP = 20
N_QUICK = 4
BAND = (0.05, 0.95)
#: models that nest their base (semantic_scale -> its lower bound); cymr-category does not
#: reduce to cymr exactly (its category sublayer still takes part in the normalisation)
NESTED = ("jaxcmr-semantic-mult", "jaxcmr-semantic-add")
NESTED_TOL = 0.5


def _out_dir() -> Path:
    root = Path(__file__).resolve().parent / "results"
    return Path(os.environ.get("ENGRAMLAB_BENCH_RESULTS", root)) / "cmr_semantic_fits"


def _workers() -> int:
    n = int(os.environ.get("ENGRAMLAB_BENCH_WORKERS", "0"))
    if n <= 0:
        try:
            n = min(2, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            n = min(2, os.cpu_count() or 1)
    return n


def _kw(model: str) -> dict:
    return {"pool_size": POOL} if model.startswith("cymr") else {}


def _n_events(df) -> dict:
    """Recall events per subject, stops included (module docstring)."""
    import engramlab.cmr as cmr

    out = {}
    for s, sub in df.groupby("subject", sort=False):
        rec = cmr.prepare(sub).recalls
        out[s] = int((rec > 0).sum()) + int(rec.shape[0])
    return out


def _sim_reps(fit_row, sub, model: str, items, seed: int):
    """``N_REP`` simulations of one fitted subject's lists, with a ``rep`` column (the
    replication of every list)."""
    import engramlab.cmr as cmr
    from engramlab.cmr._variants import get_variant

    v = get_variant(model)
    params = {n: fit_row[n] for n in v.names()}
    n_lists = sub["list"].nunique()
    sim = cmr.simulate(params, sub, key=seed, variant=model, n_rep=N_REP, items=items,
                       carry=("category", "list_type"), **_kw(model))
    # simulate numbers each subject's lists 1..N_REP * n_lists, replication-major
    return sim.assign(rep=(sim["list"].to_numpy() - 1) // n_lists)


def _nested_logl(base_row, sub, model: str, items) -> float:
    """The semantic model's log-likelihood at the base fit's parameters with
    ``semantic_scale`` at its box's lower bound: (to rounding) the base model, so a fit of
    the semantic model should never end below it."""
    import engramlab.cmr as cmr
    from engramlab.cmr._variants import get_variant

    p = {n: base_row[n] for n in get_variant(MODELS[model]).names()}
    lo = cmr.SemanticParams.BOUNDS["semantic_scale"][0]
    return float(cmr.log_likelihood(sub, cmr.SemanticParams(**p, semantic_scale=lo),
                                    variant=model, items=items))


def _quantiles(x) -> dict:
    x = np.asarray(x, float)
    lo, hi = np.nanquantile(x, BAND)
    return {"mean": float(np.nanmean(x)), "lo": float(lo), "hi": float(hi)}


def _model_vs_data(fit_tab, df, subjects, model, items, seed, data_curves, data):
    """Simulate every fitted subject ``N_REP`` times; the group within-category rates'
    band over replications (and whether the data's lie inside), each replication's
    category CRP (group), and the lag-CRP of all replications pooled."""
    import pandas as pd

    import engramlab.cmr as cmr

    sims = [_sim_reps(fit_tab.loc[s], df[df["subject"] == s], model, items,
                      seed=seed + j) for j, s in enumerate(subjects)]
    sim = pd.concat(sims, ignore_index=True)
    key = sim["subject"].astype(str) + "/" + sim["rep"].astype(str)
    relabelled = sim.assign(subject=pd.factorize(key)[0] + 1)
    rep_of = (relabelled.drop_duplicates("subject").set_index("subject")["rep"])
    band = {}
    for part, frame in (("all", relabelled),
                        ("mixed", relabelled[relabelled["list_type"] == "mixed"])):
        per = cmr.category_transitions(frame, per_subject=True)
        per["rep"] = per["subject"].map(rep_of)
        by_rep = per.groupby("rep")[["within", "within_crp"]].mean()
        band[part] = {}
        for stat in ("within", "within_crp"):
            q = _quantiles(by_rep[stat])
            band[part][stat] = {**q, "data": data[part][stat],
                                "in_band": q["lo"] <= data[part][stat] <= q["hi"]}
    crp = cmr.category_crp(relabelled, per_subject=True)
    crp["rep"] = crp["subject"].map(rep_of)
    sims_crp = [g.groupby("category", sort=False)["prob"].mean().reset_index()
                for _, g in crp.groupby("rep")]
    curves = cmr.recall_curves(sim.drop(columns="rep"), category=False)
    band["lag_crp_rmse"] = float(np.sqrt(np.nanmean(
        (data_curves["lag_crp"].set_index("lag")["prob"]
         - curves["lag_crp"].set_index("lag")["prob"]).dropna() ** 2)))
    return band, sims_crp, curves


def run(quick: bool = False) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    import engramlab.cmr as cmr
    from benchmarks._harness import machine_info
    from engramlab._io import save_figure
    from engramlab.errors import ConvergenceWarning
    from engramlab.plots.cmr import plot_category_crp, plot_lag_crp

    full = cmr.load_dataset("Morton2013")
    items = cmr.ItemFeatures.from_data(full, "category")
    subjects = list(dict.fromkeys(full["subject"]))
    n_sub = int(os.environ.get("ENGRAMLAB_BENCH_SUBJECTS",
                               str(N_QUICK if quick else len(subjects))))
    subjects = subjects[:n_sub]
    df = full[full["subject"].isin(subjects)]
    n_starts = N_STARTS_QUICK if quick else N_STARTS
    workers = _workers()
    n_events = _n_events(df)
    t_all = time.perf_counter()

    # ---- fits
    fits, fit_s, n_unconverged = {}, {}, {}
    for model in MODELS:
        t0 = time.perf_counter()
        start = None
        if model in NESTED:  # also start from the nested point: the base fit, scale at lo
            start = fits[MODELS[model]].reset_index().assign(
                semantic_scale=cmr.SemanticParams.BOUNDS["semantic_scale"][0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            tab = cmr.fit_subjects(df, workers=workers, quiet=True, variant=model,
                                   method="gradient", n_starts=n_starts, seed=0,
                                   items=items, start=start, **_kw(model))
        fit_s[model] = time.perf_counter() - t0
        print(f"  fitted {model}: {fit_s[model]:.0f} s", file=sys.stderr, flush=True)
        fits[model] = tab.set_index("subject").loc[subjects]
        n_unconverged[model] = int((~fits[model]["converged"].astype(bool)).sum())
        assert np.isfinite(fits[model]["logl"]).all(), model

    # ---- information criteria
    per_subject = []
    for s in subjects:
        row = {"subject": s.item() if hasattr(s, "item") else s, "n_events": n_events[s]}
        for model in MODELS:
            f = fits[model].loc[s]
            k, ll = int(f["k"]), float(f["logl"])
            row[f"{model}.logl"] = ll
            row[f"{model}.k"] = k
            row[f"{model}.converged"] = bool(f["converged"])
            row[f"{model}.aic"] = 2 * k - 2 * ll
            row[f"{model}.bic"] = k * math.log(n_events[s]) - 2 * ll
        for model, base in MODELS.items():
            if base is not None:
                for c in ("aic", "bic"):
                    row[f"{model}.delta_{c}"] = row[f"{model}.{c}"] - row[f"{base}.{c}"]
            if model in NESTED:
                nested = _nested_logl(fits[base].loc[s], df[df["subject"] == s], model,
                                      items)
                row[f"{model}.logl_nested"] = nested
                row[f"{model}.below_nested"] = row[f"{model}.logl"] < nested - NESTED_TOL
                # the best log-likelihood known for the model: its fit, or the nested point
                best = max(row[f"{model}.logl"], nested)
                k = row[f"{model}.k"]
                for c, pen in (("aic", 2 * k), ("bic", k * math.log(n_events[s]))):
                    row[f"{model}.delta_{c}_best_known"] = (pen - 2 * best
                                                            - row[f"{base}.{c}"])
        per_subject.append(row)
    table = pd.DataFrame(per_subject)
    comparison = {}
    for model, base in MODELS.items():
        if base is None:
            continue
        d_aic, d_bic = table[f"{model}.delta_aic"], table[f"{model}.delta_bic"]
        comparison[model] = {
            "base": base, "delta_aic_total": float(d_aic.sum()),
            "delta_bic_total": float(d_bic.sum()),
            "delta_logl_total": float((table[f"{model}.logl"] - table[f"{base}.logl"]).sum()),
            "n_better_aic": int((d_aic < 0).sum()), "n_better_bic": int((d_bic < 0).sum()),
            "n_subjects": len(subjects)}
        if model in NESTED:
            below = table[f"{model}.below_nested"]
            comparison[model].update(
                n_fit_below_nested=int(below.sum()),
                subjects_fit_below_nested=[str(x) for x in table["subject"][below]],
                delta_aic_total_best_known=float(table[f"{model}.delta_aic_best_known"].sum()),
                delta_bic_total_best_known=float(table[f"{model}.delta_bic_best_known"].sum()))

    # ---- model vs data: within-category transitions and curves
    data_curves = cmr.recall_curves(df)
    data = {}
    for part, frame in (("all", df), ("mixed", df[df["list_type"] == "mixed"])):
        tr = cmr.category_transitions(frame)
        data[part] = {c: float(tr[c].iloc[0]) for c in ("within", "within_crp", "chance",
                                                         "between_crp")}
    band, sims_crp, model_curves = {}, {}, {}
    t_sim = time.perf_counter()
    for m_i, model in enumerate(MODELS):
        band[model], sims_crp[model], model_curves[model] = _model_vs_data(
            fits[model], df, subjects, model, items, 1000 * m_i, data_curves, data)
        print(f"  simulated {model}: {time.perf_counter() - t_sim:.0f} s", file=sys.stderr,
              flush=True)
    sim_s = time.perf_counter() - t_sim

    # ---- figure
    out = _out_dir()
    names = list(MODELS)
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.4))
    for j, model in enumerate(names):
        plot_category_crp(data_curves, axes[0, j], model=sims_crp[model], model_label="model",
                          interval=BAND[1] - BAND[0])
        if j:  # one legend (the first panel's) says what bars, points and bands are
            axes[0, j].get_legend().remove()
        b, bm = band[model]["all"]["within"], band[model]["mixed"]["within"]
        axes[0, j].set_title(f"{model}\nwithin, all lists: 90% {b['lo']:.3f}-{b['hi']:.3f} "
                             f"(data {b['data']:.3f})\nmixed lists: {bm['lo']:.3f}-"
                             f"{bm['hi']:.3f} (data {bm['data']:.3f})", fontsize=8)
        plot_lag_crp(data_curves, axes[1, j], label="data")
        plot_lag_crp(model_curves[model], axes[1, j], label=model, color="tab:red",
                     marker="D", ls="--")
        axes[1, j].legend(fontsize=7, frameon=False)
        axes[1, j].tick_params(axis="x", labelsize=7)
        axes[1, j].set_title(f"Lag-CRP, {model}", fontsize=9)
    fig.suptitle(f"Morton2013, {len(subjects)} subjects: data vs fitted models "
                 f"({N_REP} simulations per subject"
                 + (", quick: preliminary" if quick else "") + ")", fontsize=10)
    fig.tight_layout()
    figures = save_figure(fig, out / "organisation")
    plt.close(fig)

    total = time.perf_counter() - t_all
    return {"name": "cmr_semantic_fits", "ours_s": total,
            "baseline": "none (a study: model comparison and model-vs-data checks)",
            "n_subjects": len(subjects), "subjects": [str(s) for s in subjects],
            "models": MODELS, "items": "cmr.ItemFeatures.from_data(Morton2013, 'category')",
            "fit_kw": {"method": "gradient", "n_starts": n_starts, "seed": 0,
                       "cymr_pool_size": POOL},
            "workers": workers, "fit_s": fit_s, "sim_s": sim_s,
            "n_unconverged": n_unconverged,
            "n_definition": ("recall events per subject: recalls kept after cleaning "
                             "(intrusions, repeats removed) + one stop event per list"),
            "comparison": comparison,
            "per_subject": table.to_dict(orient="records"),
            "n_rep": N_REP, "band": list(BAND),
            "data_transitions": data,
            "model_vs_data": band,
            "figures": [str(p.relative_to(out.parent)) for p in figures],
            "machine": machine_info()}

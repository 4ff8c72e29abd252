"""Demo section: seed 000's EEG protocol on synthetic data with a known PLV, and on a
real 14-channel recording (spkit's Emotiv sample)."""

from __future__ import annotations

from ..experiments.demo import DemoContext
from ..experiments.report import Section, Table

N_CHANNELS = 8
N_TRIALS = 60          # per condition
SFREQ = 250.0
BAND = (30.0, 80.0)
WINDOW = (0.3, 0.7)    # s, inside the 0.2-0.8 s burst, away from the epoch edges
N_PERM = 2000
NOISE = 0.2            # white-noise SD (burst amplitude 1)
REAL_BAND = (30.0, 45.0)
REAL_EPOCH = 2.0       # s


def demo_section(ctx: DemoContext) -> Section:
    """Synthetic emotional vs neutral comparison; the real recording at 30-45 Hz."""
    import matplotlib.pyplot as plt
    import numpy as np
    import xarray as xr

    from ..errors import EngramlabError
    from ..plots.eeg import plot_phase_locking_summary, plot_plv_matrix
    from . import (
        SEED_PLV,
        SEED_SEM,
        load_spkit_sample,
        phase_locking,
        synthetic_eeg,
        trials_for_sem,
        zero_locking_bias,
    )

    rng = ctx.rng("synthetic")
    figs, tables = [], []
    # --- synthetic: every channel pair has the seed's PLV in each condition ----------
    sim = synthetic_eeg(seed=rng, plv=SEED_PLV, n_trials=N_TRIALS, n_channels=N_CHANNELS,
                        sfreq=SFREQ, noise=NOISE)
    res = phase_locking(sim.epochs, band=BAND, window=WINDOW)
    full = phase_locking(sim.epochs, band=BAND)
    cmp = res.compare(("emotional", "neutral"), n_permutations=N_PERM, seed=ctx.rng("perm"))
    ref = {c: (SEED_PLV[c], SEED_SEM[c]) for c in SEED_PLV}
    tcl = full.compare_timecourse(("emotional", "neutral"), n_permutations=1000,
                                  seed=ctx.rng("cluster"))
    fig = plot_phase_locking_summary(res, cmp, condition="emotional", reference=ref,
                                     timecourse_result=full, clusters=tcl.significant())
    figs.append(ctx.figure(fig, "synthetic_summary", title="Synthetic emotional vs neutral "
                           "gamma phase locking",
                           caption=f"{N_CHANNELS} channels x {N_TRIALS} trials per condition, "
                           f"40 Hz bursts (0.2-0.8 s) in white noise (SD {NOISE:g}, burst "
                           f"amplitude 1), sfreq {SFREQ:g} Hz, band {BAND[0]:g}-{BAND[1]:g} Hz "
                           "(MNE zero-phase FIR + Hilbert). Ground truth: von Mises phase offsets "
                           "give every channel pair PLV 0.78 (emotional) / 0.62 (neutral). "
                           "Left: across-trial PLV matrix (emotional, time-averaged over "
                           f"{WINDOW[0]:g}-{WINDOW[1]:g} s). Middle: PLV over the epoch per "
                           "condition (mean over pairs, whole epoch; grey: analysis window); "
                           "outside the burst it falls to the no-locking bias sqrt(pi/4N) "
                           "(dashed); black bar: time cluster where emotional > neutral "
                           "(cluster-mass permutation test, p < 0.05). Right: mean ± "
                           "jackknife SEM over trials, with the seed's table (hollow "
                           "markers). Noise scatters the measured phases, so the recovered "
                           "PLVs sit slightly below the truth."))
    tab = cmp.table.copy()
    tab["true_plv"] = [SEED_PLV[c] for c in tab["condition"]]
    tab["seed_sem"] = [SEED_SEM[c] for c in tab["condition"]]
    tables.append(Table.from_frame(
        tab[["condition", "n_trials", "true_plv", "value", "sem", "seed_sem"]],
        caption=f"Synthetic data: true vs recovered across-trial PLV (mean over the "
        f"{N_CHANNELS * (N_CHANNELS - 1) // 2} channel pairs), jackknife SEM over trials; "
        f"permutation p = {cmp.p_value:.3g}, Cohen's d = {cmp.effect_size:.2f}."))

    # --- the trial count the seed's SEMs imply (one channel pair) ---------------------
    n_imp = {c: trials_for_sem(SEED_PLV[c], SEED_SEM[c]) for c in SEED_PLV}
    sim2 = synthetic_eeg(seed=ctx.rng("implied"), plv=SEED_PLV, n_trials=n_imp,
                         n_channels=2, reference=True, sfreq=SFREQ, noise=NOISE)
    cmp2 = phase_locking(sim2.epochs, band=BAND, window=WINDOW).compare(
        ("emotional", "neutral"), n_permutations=N_PERM, seed=ctx.rng("perm2"))
    t2 = cmp2.table.copy()
    t2["seed_mean"] = [SEED_PLV[c] for c in t2["condition"]]
    t2["seed_sem"] = [SEED_SEM[c] for c in t2["condition"]]
    tables.append(Table.from_frame(
        t2[["condition", "n_trials", "seed_mean", "value", "seed_sem", "sem"]],
        caption="The seed's table reproduced: one channel pair with von Mises phase "
        "differences, at the trial counts its SEMs imply (N = ((1 + A2)/2 - A^2)/SEM^2); "
        f"permutation p = {cmp2.p_value:.3g}, d = {cmp2.effect_size:.2f}."))

    # --- cross-check with mne-connectivity (narrow band around 40 Hz) -----------------
    from mne_connectivity import spectral_connectivity_epochs

    nb = phase_locking(sim.epochs, band=(35.0, 45.0), window=WINDOW)
    con = spectral_connectivity_epochs(sim.epochs.data[sim.epochs.labels == "emotional"],
                                       method="plv", sfreq=SFREQ, fmin=38.0, fmax=42.0,
                                       faverage=True, mode="multitaper", verbose=False)
    il = np.tril_indices(N_CHANNELS, -1)
    mne_m = con.get_data(output="dense")[:, :, 0][il]
    ours_m = np.asarray(nb.matrix("emotional"))[il]
    xdiff = float(np.max(np.abs(ours_m - mne_m)))

    # --- real recording ---------------------------------------------------------------
    raw = load_spkit_sample()
    try:
        phase_locking(raw, band=BAND, epoch_length=REAL_EPOCH)
        refused = "(not refused)"
    except EngramlabError as exc:
        refused = str(exc)
    real = phase_locking(raw, band=REAL_BAND, epoch_length=REAL_EPOCH)
    n_ep = real.phasors.shape[0]
    wt = real.matrix(sense="within_trial")
    ax = plot_plv_matrix(wt, title=f"Within-epoch PLV, {REAL_BAND[0]:g}-{REAL_BAND[1]:g} Hz "
                         f"(mean of {n_ep} x {REAL_EPOCH:g} s)")
    figs.append(ctx.figure(ax.figure, "real_within_trial",
                           title="Real EEG (spkit Emotiv sample): within-epoch PLV",
                           caption="14-channel Emotiv EPOC recording shipped in the spkit "
                           f"wheel (128 Hz, 16 s), cut in {n_ep} consecutive {REAL_EPOCH:g}-s "
                           f"epochs after band-passing the continuous signal at "
                           f"{REAL_BAND[0]:g}-{REAL_BAND[1]:g} Hz (a 30-80 Hz band is "
                           "impossible at 128 Hz). PLV across time within each epoch, averaged "
                           "over epochs; high values between neighbouring electrodes largely "
                           "reflect volume conduction and the common reference."))
    at = real.matrix(sense="across_trials")
    iu = np.triu_indices(len(real.ch_names), 1)
    bias = float(zero_locking_bias(n_ep))
    plt.close("all")

    ctx.save_arrays("eeg", xr.Dataset({
        "synthetic_plv_across_trials": res.across_trials.mean("time"),
        "synthetic_timecourse": res.timecourse(),
        "real_plv_within_trial": wt.rename({"channel_i": "real_i", "channel_j": "real_j"}),
        "real_plv_across_trials": at.rename({"channel_i": "real_i", "channel_j": "real_j"}),
    }))
    s = cmp.summary()
    return Section(
        key="eeg",
        title="EEG gamma-band phase locking (seed 000's protocol)",
        text=(
            "Seed 000 claims emotional memories show higher gamma-band phase locking than "
            "neutral ones (PLV 0.78 ± 0.02 vs 0.62 ± 0.03) from a 30-80 Hz band-pass and a "
            "phase-locking value. Here the pipeline (MNE zero-phase FIR, Hilbert phase, PLV "
            "across trials per channel pair and time point) runs on synthetic EEG with a "
            "known PLV: von Mises phase offsets with concentration kappa give PLV = "
            "I1(kappa)/I0(kappa). The conditions differ only in kappa; a label-permutation "
            "test over trials compares them."
            "\n\nAt the trial counts the seed's SEMs imply for one channel pair "
            f"({n_imp['emotional']} emotional, {n_imp['neutral']} neutral trials), our "
            "jackknife SEMs reproduce the seed's ± values (second table)."
            f"\n\nCross-check: on the same trials, mne-connectivity's multitaper PLV (38-42 "
            f"Hz) and ours (35-45 Hz Hilbert) differ by at most {xdiff:.3f} over all pairs."
            "\n\nReal recording: the 30-80 Hz band is refused at 128 Hz with: "
            f"\"{refused}\". We use {REAL_BAND[0]:g}-{REAL_BAND[1]:g} Hz instead (low gamma). "
            "Mean PLV over channel pairs: within epochs "
            f"{float(np.asarray(wt)[iu].mean()):.2f}; across the {n_ep} epochs (consistency "
            f"of each pair's phase difference) {float(np.asarray(at)[iu].mean()):.2f}, above "
            f"the no-locking bias sqrt(pi/4N) = {bias:.2f}. Both are dominated by zero-lag "
            "coupling from volume conduction and the common reference, not by memory: the "
            "recording shows the pipeline on real data, it does not test the seed's claim."
        ),
        figures=figs,
        tables=tables,
        metrics={
            "synthetic": {c: s[c] for c in ("emotional", "neutral")},
            "synthetic_p_value": cmp.p_value,
            "synthetic_effect_size_d": cmp.effect_size,
            "synthetic_time_clusters": [list(c) for c in tcl.significant()],
            "implied_trials": n_imp,
            "implied_sem": {r["condition"]: float(r["sem"]) for r in
                            cmp2.table.to_dict("records")},
            "mne_connectivity_max_abs_diff": xdiff,
            "real_within_trial_mean_plv": float(np.asarray(wt)[iu].mean()),
            "real_across_epochs_mean_plv": float(np.asarray(at)[iu].mean()),
            "real_no_locking_bias": bias,
        },
    )

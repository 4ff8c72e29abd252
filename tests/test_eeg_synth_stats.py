"""Synthetic EEG with known PLV through the full pipeline; condition statistics."""

from __future__ import annotations

import numpy as np
import pytest

from engramlab import eeg
from engramlab.errors import ValidationError


def test_pipeline_recovers_von_mises_plv_on_reference_pairs():
    """reference=True: pairs (0, c) have exactly vM(kappa) phase differences."""
    n = 80
    sim = eeg.synthetic_eeg(seed=1, plv={"emotional": 0.78, "neutral": 0.62}, n_trials=n,
                            n_channels=6, noise=0.05, reference=True)
    res = eeg.phase_locking(sim.epochs, band=(30, 80), window=(0.3, 0.7))
    for cond, a in (("emotional", 0.78), ("neutral", 0.62)):
        m = np.asarray(res.matrix(cond))
        ref_pairs = m[0, 1:]                       # 5 independent vM pairs
        sd = eeg.plv_sampling_sd(a, n)
        # finite-N bias (1 - A^2)/(2 N A) plus sampling error of the mean of 5 pairs;
        # the small white-noise attenuation (noise 0.05, in-band SNR > 100) is < 0.005
        tol = (1 - a**2) / (2 * n * a) + 3.5 * sd / np.sqrt(ref_pairs.size) + 0.005
        assert ref_pairs.mean() == pytest.approx(a, abs=tol)
        # the noise-free truth of the offsets actually drawn: |mean exp(i Delta)|
        lab = sim.epochs.labels == cond
        drawn = np.abs(np.exp(1j * (sim.offsets[lab, 1:] - sim.offsets[lab, :1])).mean(0))
        np.testing.assert_allclose(ref_pairs, drawn, atol=0.02)
        # other pairs: A(kappa_i) A(kappa_j) = a^2
        iu = np.triu_indices(5, 1)
        assert m[1:, 1:][iu].mean() == pytest.approx(a**2, abs=0.05)
        np.testing.assert_allclose(sim.true_plv[cond][0, 1:], a)


def test_common_mode_gives_target_plv_for_every_pair():
    sim = eeg.synthetic_eeg(seed=2, plv=0.7, n_trials=150, n_channels=5, noise=0.05)
    res = eeg.phase_locking(sim.epochs, window=(0.3, 0.7))
    m = np.asarray(res.matrix())
    iu = np.triu_indices(5, 1)
    assert m[iu].mean() == pytest.approx(0.7, abs=0.04)
    assert res.conditions == ["all"]
    np.testing.assert_allclose(sim.true_plv["all"][iu], 0.7)


def test_permutation_test_detects_seed_effect_with_implied_trials():
    """0.78 +- 0.02 vs 0.62 +- 0.03: ~243 / 254 trials per condition (one channel pair)."""
    n_e = eeg.trials_for_sem(0.78, 0.02)
    n_n = eeg.trials_for_sem(0.62, 0.03)
    sim = eeg.synthetic_eeg(seed=3, plv=eeg.SEED_PLV, n_trials={"emotional": n_e,
                                                                "neutral": n_n},
                            n_channels=2, noise=0.05, reference=True, duration=0.8,
                            burst=(0.1, 0.7))
    res = eeg.phase_locking(sim.epochs, window=(0.2, 0.6))
    cmp = res.compare(n_permutations=999, seed=0)
    assert cmp.conditions == ("emotional", "neutral")
    assert cmp.p_value <= 0.002          # the smallest attainable with 999 permutations
    tab = cmp.table.set_index("condition")
    # the jackknife SEMs reproduce the seed's table SEMs at its implied trial counts
    assert tab.loc["emotional", "sem"] == pytest.approx(0.02, rel=0.2)
    assert tab.loc["neutral", "sem"] == pytest.approx(0.03, rel=0.2)
    assert tab.loc["emotional", "value"] == pytest.approx(0.78, abs=0.06)
    assert tab.loc["neutral", "value"] == pytest.approx(0.62, abs=0.09)
    assert cmp.difference > 0 and cmp.effect_size > 0


def test_permutation_false_positive_rate_is_calibrated():
    """Zero effect: both groups vM(kappa) with PLV 0.7; P(p <= alpha) ~= alpha."""
    rng = np.random.default_rng(7)
    kappa = eeg.kappa_from_plv(0.7)
    n_sets, n_per = 1000, 15
    labels = np.array(["a"] * n_per + ["b"] * n_per)
    pvals = np.empty(n_sets)
    for s in range(n_sets):
        u = np.exp(1j * rng.vonmises(0.0, kappa, size=(2 * n_per, 1)))
        pvals[s] = eeg.compare_groups(u, labels, n_permutations=199, seed=rng).p_value
    for alpha in (0.05, 0.2):
        rate = np.mean(pvals <= alpha)
        se = np.sqrt(alpha * (1 - alpha) / n_sets)
        assert abs(rate - alpha) < 3.5 * se, (alpha, rate)


def test_jackknife_sem_and_effect_size_for_per_trial_values(rng):
    a = rng.normal(1.0, 1.0, size=30)
    b = rng.normal(0.4, 1.5, size=40)
    vals = np.concatenate([a, b])
    labels = np.array(["x"] * 30 + ["y"] * 40)
    cmp = eeg.compare_groups(vals, labels, kind="values", n_permutations=200, seed=0)
    tab = cmp.table.set_index("condition")
    assert tab.loc["x", "sem"] == pytest.approx(a.std(ddof=1) / np.sqrt(30), rel=1e-10)
    assert tab.loc["y", "value"] == pytest.approx(b.mean(), rel=1e-12)
    pooled = np.sqrt((29 * a.var(ddof=1) + 39 * b.var(ddof=1)) / 68)
    assert cmp.effect_size == pytest.approx((a.mean() - b.mean()) / pooled, rel=1e-10)
    assert cmp.difference == pytest.approx(a.mean() - b.mean(), rel=1e-12)


def test_jackknife_sem_of_across_trial_plv_matches_theory():
    rng = np.random.default_rng(11)
    n, a = 400, 0.62
    u = np.exp(1j * rng.vonmises(0.0, eeg.kappa_from_plv(a), size=(n, 1)))
    from engramlab.eeg._stats import _finisher

    theta, sem, _ = eeg.jackknife(u, _finisher("phasors", "plv"))
    assert sem == pytest.approx(eeg.plv_sampling_sd(a, n), rel=0.15)


def test_within_trial_sense_and_tidy_outputs():
    sim = eeg.synthetic_eeg(seed=4, n_trials=10, n_channels=3, noise=0.05)
    res = eeg.phase_locking(sim.epochs, window=(0.3, 0.7))
    # offsets are constant within a trial: within-trial locking is ~1 in both conditions
    wt = res.per_trial()
    assert wt.shape == (20,) and np.all(wt > 0.95)
    cmp = res.compare(sense="within_trial", n_permutations=100)
    assert cmp.sense == "within_trial" and 0 < cmp.p_value <= 1
    df = res.to_frame()
    assert set(df.columns) == {"sense", "condition", "epoch", "channel_i", "channel_j", "plv"}
    assert len(df) == 2 * 3 + 20 * 3
    assert set(df["channel_i"]) <= {"E1", "E2"}
    ds = res.to_dataset()
    assert ds["plv_across_trials"].dims == ("condition", "channel_i", "channel_j", "time")
    assert list(ds["plv_within_trial"].coords["label"].values) == list(sim.epochs.labels)
    tc = res.timecourse(pairs=[("E1", "E2")])
    assert tc.dims == ("condition", "time")
    with pytest.raises(ValidationError, match="pairs"):
        res.timecourse(pairs=[("E1", "E1")])
    with pytest.raises(ValidationError, match="condition"):
        res.matrix("happy")


def test_compare_errors():
    u = np.ones((6, 1), dtype=complex)
    with pytest.raises(ValidationError, match="name the two"):
        eeg.compare_groups(u, np.array(list("aabbcc")))
    with pytest.raises(ValidationError, match="1 condition"):
        eeg.compare_groups(u, np.array(list("aaaaaa")))
    with pytest.raises(ValidationError, match="expected 6 labels"):
        eeg.compare_groups(u, np.array(list("aab")))
    with pytest.raises(ValidationError, match="'z' is not among"):
        eeg.compare_groups(u, np.array(list("aabbcc")), conditions=("a", "z"))
    with pytest.raises(ValidationError, match="n_trials"):
        eeg.synthetic_eeg(seed=0, n_trials=0)
    with pytest.raises(ValidationError, match="plv"):
        eeg.synthetic_eeg(seed=0, plv=1.5)


def test_time_cluster_test_localises_the_burst():
    sim = eeg.synthetic_eeg(seed=8, n_trials=40, n_channels=4, noise=0.2, burst=(0.3, 0.7))
    res = eeg.phase_locking(sim.epochs)
    tc = res.compare_timecourse(("emotional", "neutral"), n_permutations=300, seed=1)
    sig = tc.significant(0.05)
    assert len(sig) == 1
    t0, t1 = sig[0]
    # the difference exists only during the burst (0.3-0.7 s; filter/taper blur ~30 ms)
    assert 0.25 <= t0 <= 0.4 and 0.6 <= t1 <= 0.75
    assert tc.clusters.loc[tc.clusters["p_value"] <= 0.05, "sign"].item() == 1


def test_time_cluster_family_wise_error_is_calibrated():
    """No effect anywhere: P(any cluster with p <= 0.05) ~= 0.05 over 30 time points."""
    rng = np.random.default_rng(21)
    kappa = eeg.kappa_from_plv(0.6)
    n_sets, n_per, n_t = 300, 12, 30
    labels = np.array(["a"] * n_per + ["b"] * n_per)
    times = np.arange(n_t) / 100.0
    hits = 0
    for _ in range(n_sets):
        u = np.exp(1j * rng.vonmises(0.0, kappa, size=(2 * n_per, 1, n_t)))
        tc = eeg.cluster_permutation_time(u, labels, times, n_permutations=99, seed=rng)
        hits += bool(len(tc.significant(0.05)))
    rate = hits / n_sets
    se = np.sqrt(0.05 * 0.95 / n_sets)
    assert abs(rate - 0.05) < 3.5 * se, rate


def test_unequal_groups_plv_bias_ppc_unbiased_and_test_still_calibrated():
    """Zero effect, 10 vs 40 trials: raw PLV differs by the finite-N bias, PPC does not,
    and the permutation test (which keeps the group sizes) stays calibrated."""
    rng = np.random.default_rng(17)
    a, reps = 0.6, 40000
    kappa = eeg.kappa_from_plv(a)
    est = {}
    for n in (10, 40):
        d = rng.vonmises(0.0, kappa, size=(n, reps))
        z = np.stack([np.ones((n, reps)), np.exp(1j * d)], axis=1)
        est[n] = {e: eeg.plv_across_trials(z, estimator=e)[0, 1] for e in ("plv", "ppc")}
    diff = est[10]["plv"] - est[40]["plv"]
    theory = eeg.expected_plv(a, 10) - eeg.expected_plv(a, 40)
    assert theory > 0.02
    assert diff.mean() == pytest.approx(theory, abs=4 * diff.std() / np.sqrt(reps) + 0.003)
    dppc = est[10]["ppc"] - est[40]["ppc"]
    assert abs(dppc.mean()) < 4 * dppc.std() / np.sqrt(reps)
    labels = np.array(["a"] * 10 + ["b"] * 40)
    pvals = np.array([eeg.compare_groups(np.exp(1j * rng.vonmises(0.0, kappa, size=(50, 1))),
                                         labels, n_permutations=199, seed=rng).p_value
                      for _ in range(600)])
    se = np.sqrt(0.05 * 0.95 / 600)
    assert abs(np.mean(pvals <= 0.05) - 0.05) < 3.5 * se

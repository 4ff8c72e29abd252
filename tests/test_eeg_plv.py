"""PLV estimators against independent transcriptions and circular-statistics theory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import i0

from engramlab import eeg
from engramlab.errors import DataError, EngramlabError, ShapeError, ValidationError


def _phasors(rng, n, c, t):
    return np.exp(1j * rng.uniform(-np.pi, np.pi, size=(n, c, t)))


def test_across_trials_matches_loop_transcription(rng):
    z = _phasors(rng, 7, 4, 5)
    got = eeg.plv_across_trials(z)
    ppc = eeg.plv_across_trials(z, estimator="ppc")
    phase = np.angle(z)
    for i in range(4):
        for j in range(4):
            for t in range(5):
                d = phase[:, i, t] - phase[:, j, t]
                ref = abs(np.mean(np.exp(1j * d)))
                assert got[i, j, t] == pytest.approx(ref, abs=1e-5)
                # Vinck et al. (2010) definition: mean cosine over distinct trial pairs
                pairs = [np.cos(d[a] - d[b]) for a in range(7) for b in range(a + 1, 7)]
                assert ppc[i, j, t] == pytest.approx(np.mean(pairs), abs=1e-5)
    np.testing.assert_allclose(np.diagonal(got, axis1=0, axis2=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(got, np.swapaxes(got, 0, 1), atol=1e-7)
    deb = eeg.plv_across_trials(z, estimator="plv_debiased")
    np.testing.assert_allclose(deb, np.sqrt(np.clip(ppc, 0, None)), atol=1e-7)
    np.testing.assert_allclose(eeg.plv_across_trials(z, average_time=True), got.mean(2))


def test_across_time_matches_loop_transcription(rng):
    z = _phasors(rng, 3, 4, 9)
    got = eeg.plv_across_time(z)
    phase = np.angle(z)
    for n in range(3):
        for i in range(4):
            for j in range(4):
                ref = abs(np.mean(np.exp(1j * (phase[n, i] - phase[n, j]))))
                assert got[n, i, j] == pytest.approx(ref, abs=1e-5)


def test_zero_locking_bias_and_unbiased_ppc(rng):
    n = 20
    z = _phasors(rng, n, 2, 20000)  # 20000 independent replicates of one pair
    plv = eeg.plv_across_trials(z)[0, 1]
    ppc = eeg.plv_across_trials(z, estimator="ppc")[0, 1]
    # Rayleigh: E|R| ~= sqrt(pi/(4N)) (within 1 % at N = 20); MC SE ~ 0.26/sqrt(20000)
    assert plv.mean() == pytest.approx(float(eeg.zero_locking_bias(n)), rel=0.02)
    # PPC is unbiased for PLV^2 = 0: mean within 4 SE of 0
    assert abs(ppc.mean()) < 4 * ppc.std() / np.sqrt(ppc.size)


def test_plv_from_kappa_matches_numerical_integral():
    for kappa in (0.3, 1.0, 2.646, 8.0):
        num, _ = integrate.quad(lambda x, k=kappa: np.cos(x) * np.exp(k * np.cos(x)),
                                -np.pi, np.pi)
        assert float(eeg.plv_from_kappa(kappa)) == pytest.approx(
            num / (2 * np.pi * i0(kappa)), rel=1e-9)
        assert eeg.kappa_from_plv(float(eeg.plv_from_kappa(kappa))) == pytest.approx(kappa,
                                                                                     rel=1e-8)
    assert float(eeg.plv_from_kappa(np.inf)) == 1.0
    assert eeg.kappa_from_plv(1.0) == np.inf


def test_von_mises_phase_differences_recover_i1_over_i0(rng):
    """Across-trial PLV of vM(kappa) differences: mean -> A(kappa), SD -> delta-method SD."""
    n, reps = 60, 4000
    for target in (0.78, 0.62):
        kappa = eeg.kappa_from_plv(target)
        d = rng.vonmises(0.0, kappa, size=(n, reps))
        z = np.stack([np.ones((n, reps)), np.exp(1j * d)], axis=1)  # (n, 2, reps)
        est = eeg.plv_across_trials(z)[0, 1]
        sd = eeg.plv_sampling_sd(target, n)
        # bias of |R| is O(1/N): (1 - A^2) / (2 N A) ~ 0.003 here
        assert est.mean() == pytest.approx(target, abs=(1 - target**2) / (n * target) + 4 * sd
                                           / np.sqrt(reps))
        assert est.std() == pytest.approx(sd, rel=0.08)
        ppc = eeg.plv_across_trials(z, estimator="ppc")[0, 1]
        assert ppc.mean() == pytest.approx(target**2, abs=4 * ppc.std() / np.sqrt(reps))


def test_trials_implied_by_seed_table():
    # N = ((1 + A2)/2 - A^2) / SEM^2, with E[cos^2] computed by quadrature
    for a, sem in ((0.78, 0.02), (0.62, 0.03)):
        k = eeg.kappa_from_plv(a)
        ec2, _ = integrate.quad(lambda x, k=k: np.cos(x) ** 2 * np.exp(k * np.cos(x)),
                                -np.pi, np.pi)
        var = ec2 / (2 * np.pi * i0(k)) - a**2
        assert eeg.trials_for_sem(a, sem) == int(np.ceil(var / sem**2))
    assert 230 < eeg.trials_for_sem(0.78, 0.02) < 260
    assert 240 < eeg.trials_for_sem(0.62, 0.03) < 270


def test_bandpass_is_zero_phase_and_passes_gamma():
    sf, f, phi = 250.0, 40.0, 0.7
    t = np.arange(500) / sf
    x = np.cos(2 * np.pi * f * t + phi)[None]
    z = eeg.analytic_phasors(eeg.bandpass(x, sf, (30, 80)), dtype=np.complex128)
    mid = slice(100, 400)
    err = np.angle(z[0, mid] * np.exp(-1j * (2 * np.pi * f * t[mid] + phi)))
    assert np.max(np.abs(err)) < 0.01
    y = eeg.bandpass(np.cos(2 * np.pi * 5.0 * t)[None], sf, (30, 80))
    assert np.max(np.abs(y[0, mid])) < 0.01  # 5 Hz is in the stop band


def test_band_errors_name_sfreq_and_usable_band():
    with pytest.raises(ValidationError, match=r"sfreq=128 Hz.*Nyquist.*64.*\(30, 62\) Hz"):
        eeg.check_band((30, 80), 128.0)
    with pytest.raises(ValidationError, match="inverted"):
        eeg.check_band((80, 30), 500.0)
    with pytest.raises(ValidationError, match="l_freq must be > 0"):
        eeg.check_band((0, 30), 500.0)
    with pytest.raises(ValidationError, match="two numbers"):
        eeg.check_band(40, 500.0)
    assert eeg.check_band((30, 62), 128.0) == (30.0, 62.0)


def test_short_epochs_rejected_before_filtering():
    n_filt = eeg.filter_length(250.0, (30, 80))
    x = np.random.default_rng(0).standard_normal((3, 2, n_filt - 1))
    with pytest.raises(DataError, match=f"shorter than the {n_filt}-sample"):
        eeg.bandpass(x, 250.0, (30, 80))
    with pytest.raises(DataError, match="shorter than"):
        eeg.phase_locking(x, sfreq=250.0)


def test_bad_signals_and_labels(rng):
    x = rng.standard_normal((4, 3, 250))
    x[2, 1, 10] = np.nan
    with pytest.raises(DataError, match=r"channel 'B' in epoch 2 contains 1 NaN"):
        eeg.phase_locking(x, sfreq=250.0, ch_names=["A", "B", "C"])
    x = rng.standard_normal((4, 3, 250))
    x[1, 2] = 3.0
    with pytest.raises(DataError, match="channel 'ch2' in epoch 1 is flat"):
        eeg.phase_locking(x, sfreq=250.0)
    x = rng.standard_normal((4, 3, 250))
    with pytest.raises(ShapeError, match="expected 4 labels"):
        eeg.phase_locking(x, sfreq=250.0, labels=["a", "b", "a"])
    with pytest.raises(ValidationError, match="single trial"):
        eeg.phase_locking(x, sfreq=250.0, labels=["a", "a", "a", "b"])
    with pytest.raises(ValidationError, match="at least 2 trials"):
        eeg.plv_across_trials(np.ones((1, 2, 5), dtype=complex))
    with pytest.raises(ValidationError, match="complex unit phasors"):
        eeg.plv_across_trials(np.ones((3, 2, 5)))
    with pytest.raises(ValidationError, match="sfreq: required"):
        eeg.phase_locking(x)
    with pytest.raises(ValidationError, match="estimator"):
        eeg.phase_locking(x, sfreq=250.0, estimator="coherence")
    with pytest.raises(EngramlabError, match="window"):
        eeg.phase_locking(x, sfreq=250.0, window=(0.8, 0.2))


def test_batched_filter_equals_mne_filter_data(rng):
    import mne

    x = rng.standard_normal((3, 4, 300))
    for sf, band in ((250.0, (30, 80)), (128.0, (30, 45)), (500.0, (35, 45))):
        ref = mne.filter.filter_data(x, sf, band[0], band[1], verbose=False)
        got = eeg.bandpass(x, sf, band)
        assert np.max(np.abs(got - ref)) < 1e-12 * np.max(np.abs(ref))
        np.testing.assert_allclose(eeg.bandpass(x, sf, band, engine="mne"), ref)


def test_band_phasors_match_hilbert_of_filtered_signal(rng):
    import mne

    x = rng.standard_normal((2, 8, 500))
    ref = np.angle(np.asarray(eeg.analytic_phasors(
        mne.filter.filter_data(x, 500.0, 30, 80, verbose=False), dtype=np.complex128)))
    z = eeg.band_phasors(x, 500.0, (30, 80), dtype=np.complex128)
    np.testing.assert_allclose(np.abs(z), 1.0, atol=1e-12)
    d = np.abs(np.angle(z * np.exp(-1j * ref)))[..., 100:400]
    # the two analytic signals differ only by the Hilbert transform's edge handling
    # (ours sees the padded signal): tiny away from the edges, except at the rare
    # near-zero-amplitude samples where any phase is ill-conditioned
    assert np.median(d) < 5e-3 and np.percentile(d, 95) < 0.05
    # a pure in-band sinusoid: the phase is exact (zero-phase filter) away from the edges
    # (the residual is the Hilbert transform's truncation error, smaller than scipy's on
    # the cropped epoch)
    t = np.arange(500) / 500.0
    for f in (40.0, 47.3):
        x = np.cos(2 * np.pi * f * t + 1.1)[None]
        theory = np.exp(-1j * (2 * np.pi * f * t + 1.1))[100:400]
        ours = np.abs(np.angle(eeg.band_phasors(x, 500.0, (30, 80))[0, 100:400] * theory))
        cropped = np.abs(np.angle(eeg.analytic_phasors(eeg.bandpass(x, 500.0, (30, 80)))[
            0, 100:400] * theory))
        assert ours.max() < 5e-3 and ours.max() <= cropped.max() + 1e-4


def test_time_stride_subsamples_time(rng):
    z = _phasors(rng, 5, 3, 12)
    full = eeg.plv_across_trials(z)
    np.testing.assert_allclose(eeg.plv_across_trials(z, time_stride=4), full[:, :, ::4])


def test_seed_compute_coherence_matches_independent_transcription(rng):
    """The seed's call chain vs mne.filter.filter_data + scipy.signal.hilbert + loops."""
    import mne
    from scipy.signal import hilbert

    x = rng.standard_normal((6, 3, 300))
    labels = np.array([1, 0, 1, 1, 0, 0])
    got = eeg.compute_coherence(x, labels, sfreq=250.0)
    phase = np.angle(hilbert(mne.filter.filter_data(x, 250.0, 30, 80, verbose=False)))
    per_trial = []
    for n in range(6):
        vals = [abs(np.mean(np.exp(1j * (phase[n, i] - phase[n, j]))))
                for i in range(3) for j in range(i + 1, 3)]
        per_trial.append(np.mean(vals))
    assert got == pytest.approx(np.mean(np.array(per_trial)[labels == 1]), abs=1e-5)
    gamma = eeg.bandpass_filter(x, 30, 80, sfreq=250.0)
    np.testing.assert_allclose(eeg.phase_locking_value(gamma), per_trial, atol=1e-5)
    with pytest.raises(ShapeError, match="one label per trial"):
        eeg.compute_coherence(x, labels[:4], sfreq=250.0)
    with pytest.raises(ValidationError, match="sfreq=128"):
        eeg.compute_coherence(x, labels, sfreq=128.0)

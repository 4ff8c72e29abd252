"""Inputs (MNE objects, files, arrays, the spkit recording) and the ``engramlab eeg`` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from engramlab import eeg
from engramlab.errors import DataError, ShapeError, ValidationError


@pytest.fixture(scope="module")
def sim():
    return eeg.synthetic_eeg(seed=0, n_trials=12, n_channels=3, noise=0.1)


def _info(names, sfreq):
    import mne

    return mne.create_info(list(names), sfreq, ch_types="eeg")


def test_mne_epochs_labels_from_events(sim):
    import mne

    ep = sim.epochs
    codes = np.where(ep.labels == "emotional", 1, 2)
    events = np.column_stack([np.arange(codes.size) * 1000, np.zeros_like(codes), codes])
    epochs = mne.EpochsArray(ep.data, _info(ep.ch_names, ep.sfreq), events=events,
                             event_id={"emotional": 1, "neutral": 2}, verbose=False)
    loaded = eeg.load_eeg(epochs)
    assert isinstance(loaded, eeg.EEGEpochs)
    assert list(loaded.labels) == list(ep.labels)
    np.testing.assert_allclose(loaded.data, ep.data)
    a = eeg.phase_locking(epochs, window=(0.3, 0.7))
    b = eeg.phase_locking(ep.data, sfreq=ep.sfreq, labels=ep.labels, window=(0.3, 0.7))
    np.testing.assert_allclose(np.asarray(a.across_trials), np.asarray(b.across_trials))
    assert a.ch_names == ep.ch_names


def test_raw_with_events_filters_before_epoching(rng):
    import mne

    sf, n = 200.0, 4000
    data = rng.standard_normal((3, n))
    raw = mne.io.RawArray(data, _info(["Fz", "Cz", "Pz"], sf), verbose=False)
    events = np.array([[500, 0, 1], [1500, 0, 2], [2500, 0, 1], [3300, 0, 2]])
    res = eeg.phase_locking(raw, events=events, event_id={"a": 1, "b": 2}, tmin=-0.2,
                            tmax=0.5, band=(30, 45))
    assert list(res.labels) == ["a", "b", "a", "b"]
    assert res.phasors.shape == (4, 3, 141)
    np.testing.assert_allclose(res.times[[0, -1]], [-0.2, 0.5])
    z = eeg.band_phasors(data, sf, (30, 45))
    np.testing.assert_allclose(res.phasors[1], z[:, 1460:1601], atol=1e-6)
    with pytest.raises(DataError, match="beyond the recording"):
        eeg.phase_locking(raw, events=np.array([[3950, 0, 1]]), tmax=0.5, band=(30, 45))
    # a cropped Raw keeps MNE's absolute sample numbers (first_samp): same epochs
    cropped = raw.copy().crop(tmin=1.0)                      # first_samp = 200
    assert cropped.first_samp == 200
    res2 = eeg.phase_locking(cropped, events=events, event_id={"a": 1, "b": 2},
                             tmin=-0.2, tmax=0.5, band=(30, 45))
    zc = eeg.band_phasors(data[:, 200:], sf, (30, 45))
    np.testing.assert_allclose(res2.phasors[1], zc[:, 1260:1401], atol=1e-6)
    with pytest.raises(ValidationError, match="tmax: required"):
        eeg.load_eeg(raw, events=events)


def test_files_fif_npy_npz(tmp_path, sim):
    import mne

    ep = sim.epochs
    cont = np.concatenate(list(ep.data), axis=1)                # (3, 24 * 250)
    raw = mne.io.RawArray(cont, _info(ep.ch_names, ep.sfreq), verbose=False)
    raw.save(tmp_path / "rec_raw.fif", verbose=False)
    got = eeg.load_eeg(tmp_path / "rec_raw.fif", epoch_length=1.0)
    assert isinstance(got, eeg.EEGContinuous) and got.onsets.size == 24
    assert got.ch_names == ep.ch_names and got.sfreq == ep.sfreq
    epochs = mne.EpochsArray(ep.data, _info(ep.ch_names, ep.sfreq), verbose=False)
    epochs.save(tmp_path / "rec-epo.fif", verbose=False)
    assert isinstance(eeg.load_eeg(tmp_path / "rec-epo.fif"), eeg.EEGEpochs)
    np.save(tmp_path / "x.npy", ep.data)
    with pytest.raises(ValidationError, match="sfreq: required"):
        eeg.load_eeg(tmp_path / "x.npy")
    assert eeg.load_eeg(tmp_path / "x.npy", sfreq=250.0).data.shape == ep.data.shape
    np.savez(tmp_path / "x.npz", data=ep.data, sfreq=250.0, labels=ep.labels)
    got = eeg.load_eeg(tmp_path / "x.npz")
    assert got.sfreq == 250.0 and list(got.labels) == list(ep.labels)
    with pytest.raises(DataError, match="not found"):
        eeg.load_eeg(tmp_path / "missing.edf")
    (tmp_path / "junk.edf").write_text("not an edf")
    with pytest.raises(DataError, match="MNE could not read"):
        eeg.load_eeg(tmp_path / "junk.edf")
    with pytest.raises(ShapeError, match="expected 3 names"):
        eeg.load_eeg(ep.data, sfreq=250.0, ch_names=["a", "b"])


def test_spkit_recording_loaded_without_importing_spkit():
    code = ("import sys; from engramlab.eeg import load_spkit_sample as f; "
            "d, sf, names = f(as_raw=False); "
            "print(d.shape, sf, names[0], names[-1], 'spkit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "(14, 2048) 128.0 AF3 AF4 False"


def test_spkit_recording_through_the_pipeline():
    raw = eeg.load_spkit_sample()
    with pytest.raises(ValidationError, match=r"sfreq=128 Hz.*highest usable band here is "
                                              r"\(30, 62\) Hz"):
        eeg.phase_locking(raw)  # default 30-80 Hz
    res = eeg.phase_locking(raw, band=(30, 45), epoch_length=2.0)
    assert res.phasors.shape == (8, 14, 256)
    for sense in ("across_trials", "within_trial"):
        m = np.asarray(res.matrix(sense=sense))
        np.testing.assert_allclose(m, m.T, atol=1e-6)
        np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-5)
        assert np.all((m >= 0) & (m <= 1 + 1e-6))
    # PPC is the unbiased PLV^2: its mean over pairs sits below the squared raw PLV
    ppc = np.asarray(eeg.phase_locking(raw, band=(30, 45), estimator="ppc").matrix())
    iu = np.triu_indices(14, 1)
    assert ppc[iu].mean() < (np.asarray(res.matrix())[iu] ** 2).mean()


def test_cli_npz_with_labels(tmp_path, sim):
    from typer.testing import CliRunner

    from engramlab.cli import app

    ep = sim.epochs
    np.savez(tmp_path / "x.npz", data=ep.data, sfreq=250.0)
    (tmp_path / "labels.txt").write_text("\n".join(ep.labels))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["eeg", "plv", str(tmp_path / "x.npz"), "--band", "30", "80",
                                 "--labels", str(tmp_path / "labels.txt"), "--window", "0.3",
                                 "0.7", "--n-permutations", "99", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("plv_pairs.csv", "plv.nc", "condition_summary.csv", "summary.json",
                 "plv_matrix_emotional.png", "plv_matrix_neutral.svg", "plv_timecourse.png",
                 "condition_bars.png", "plv_matrix_within_trial.png"):
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text())
    assert s["n_trials"] == {"emotional": 12, "neutral": 12}
    assert s["comparison"]["conditions"] == ["emotional", "neutral"]
    r = CliRunner().invoke(app, ["eeg", "plv", str(tmp_path / "x.npz"), "--labels",
                                 str(tmp_path / "labels.txt"), "--conditions", "neutral",
                                 "emotional", "--n-permutations", "99", "--estimator", "ppc",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["comparison"]["conditions"] == ["neutral", "emotional"]
    assert s["estimator"] == "ppc"
    r = CliRunner().invoke(app, ["eeg", "plv", str(tmp_path / "x.npz"), "--labels", "a,b",
                                 "--out", str(out)])
    assert isinstance(r.exception, ShapeError)


def test_cli_refuses_impossible_band_with_clear_message(tmp_path):
    r = subprocess.run([sys.executable, "-c", "from engramlab.cli import main; main()", "eeg",
                        "plv", "spkit-sample", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "sfreq=128 Hz" in r.stderr and "(30, 62) Hz" in r.stderr

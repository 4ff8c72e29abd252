"""Per-item encoding measures, their merge into a psifr frame, the subsequent-memory test.

Checked against closed forms (A^2/2 band power of a sinusoid, PLV 1 for a constant lag,
the Dirichlet kernel for two frequencies, the Rayleigh mean for independent noise),
against MNE's filter_data + scipy's Hilbert transform, and against direct NumPy means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engramlab.eeg import EEGEpochs, encoding_measures, merge_measures, subsequent_memory
from engramlab.errors import DataError, EngramlabError, ShapeError, ValidationError

SF = 500.0
TMIN = -1.0
TIMES = TMIN + np.arange(1501) / SF            # -1 .. 2 s; window (0, 1) is far from edges
WIN = (TIMES >= -0.5 / SF) & (TIMES <= 1.0 + 0.5 / SF)


def _events(n, subject=1, list_=1):
    return pd.DataFrame({"subject": subject, "list": list_, "position": np.arange(1, n + 1)})


def _epochs(data, names=None):
    names = names or tuple(f"c{i}" for i in range(data.shape[1]))
    return EEGEpochs(data=data, sfreq=SF, ch_names=tuple(names), tmin=TMIN)


def test_band_power_of_a_sinusoid_is_a_squared_over_two():
    amps = np.array([1.0, 2.0, 0.5, 3.0])
    rng = np.random.default_rng(0)
    ph = rng.uniform(0, 2 * np.pi, (4, 2))
    data = amps[:, None, None] * np.sin(2 * np.pi * 47.0 * TIMES + ph[..., None])
    data += 2.0 * np.sin(2 * np.pi * 8.0 * TIMES)          # out of band: filtered away
    out = encoding_measures(_epochs(data), _events(4), measures=["band_power"])
    np.testing.assert_allclose(out["band_power"], amps ** 2 / 2, rtol=0.01)
    assert list(out.columns) == ["subject", "list", "position", "band_power"]
    # another band: the 8 Hz component (amplitude 2) in theta
    theta = encoding_measures(_epochs(data), _events(4), measures="band_power", band=(4, 12))
    np.testing.assert_allclose(theta["band_power"], 2.0, rtol=0.01)


def test_band_power_and_plv_match_mne_filter_and_scipy_hilbert():
    import mne
    from scipy.signal import hilbert

    rng = np.random.default_rng(1)
    data = rng.standard_normal((5, 3, TIMES.size))
    out = encoding_measures(_epochs(data), _events(5))
    x = mne.filter.filter_data(data, SF, 30.0, 80.0, method="fir", phase="zero",
                               fir_design="firwin", pad="reflect_limited", verbose=False)
    power = np.mean(x[..., WIN] ** 2, axis=(1, 2))
    np.testing.assert_allclose(out["band_power"], power, rtol=1e-8)
    phi = np.angle(hilbert(x, axis=-1))[..., WIN]
    plv = np.mean([np.abs(np.mean(np.exp(1j * (phi[:, a] - phi[:, b])), axis=-1))
                   for a, b in [(0, 1), (0, 2), (1, 2)]], axis=0)
    np.testing.assert_allclose(out["plv"], plv, atol=0.01)   # Hilbert edge handling differs
    one = encoding_measures(_epochs(data), _events(5), measures=["plv"], pairs=[("c2", "c0")])
    np.testing.assert_allclose(one["plv"], np.abs(np.mean(np.exp(1j * (phi[:, 2] - phi[:, 0])),
                                                          axis=-1)), atol=0.01)


def test_plv_closed_forms():
    # constant phase lag: 1
    lag = np.sin(2 * np.pi * 50 * TIMES)[None, None] * np.ones((3, 1, 1))
    data = np.concatenate([lag, np.sin(2 * np.pi * 50 * TIMES - 0.9)[None, None]
                           * np.ones((3, 1, 1)) * 0.3], axis=1)
    out = encoding_measures(_epochs(data), _events(3), measures=["plv"])
    np.testing.assert_allclose(out["plv"], 1.0, atol=1e-3)
    # 40 Hz vs 57.3 Hz: the phase difference rotates at df, PLV = Dirichlet kernel
    df = 17.3
    data = np.stack([np.sin(2 * np.pi * 40 * TIMES), np.sin(2 * np.pi * (40 + df) * TIMES)])
    out = encoding_measures(_epochs(data[None]), _events(1), measures=["plv"])
    n = int(WIN.sum())
    dirichlet = abs(np.sin(np.pi * df * n / SF) / (n * np.sin(np.pi * df / SF)))
    np.testing.assert_allclose(out["plv"], dirichlet, atol=2e-3)


def test_plv_of_independent_noise_follows_the_rayleigh_mean():
    # independent noise: E|PLV| = sqrt(pi / (4 n_eff)) (Rayleigh), where the n = 501
    # window samples are correlated: n_eff = n^2 / sum_{s,t} |rho(s - t)|^2, rho the
    # autocorrelation of one channel's unit phasor, estimated here independently from a
    # long MNE-filtered recording and scipy's Hilbert transform
    import mne
    from scipy.signal import hilbert

    rng = np.random.default_rng(2)
    x = mne.filter.filter_data(rng.standard_normal((2, 30000)), SF, 30.0, 80.0,
                               verbose=False)
    z = np.exp(1j * np.angle(hilbert(x, axis=-1)))[:, 1000:-1000]
    n = int(WIN.sum())
    rho = np.array([np.mean(z[:, t:] * z[:, :z.shape[1] - t].conj()) for t in range(n)])
    n_eff = n * n / (n + 2 * np.sum((n - np.arange(1, n)) * np.abs(rho[1:]) ** 2))
    theory = np.sqrt(np.pi) / (2 * np.sqrt(n_eff))
    data = rng.standard_normal((100, 2, TIMES.size))
    plv = encoding_measures(_epochs(data), _events(100), measures=["plv"])["plv"].to_numpy()
    assert abs(plv.mean() - theory) < 0.12 * theory
    # the Rayleigh shape: var / mean^2 = (4 - pi) / pi
    assert abs(plv.var() / plv.mean() ** 2 - (4 - np.pi) / np.pi) < 0.1


def test_erp_window_mean_equals_numpy_mean():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((4, 3, TIMES.size))
    out = encoding_measures(_epochs(data), _events(4), measures=["erp"],
                            erp_channels=["c2", "c0"], erp_window=(0.4, 0.8))
    sel = (TIMES >= 0.4 - 1e-9) & (TIMES <= 0.8 + 1e-9)
    np.testing.assert_allclose(out["erp"], data[:, [2, 0]][..., sel].mean(axis=(1, 2)))
    default = encoding_measures(_epochs(data), _events(4), measures=["erp"], channels=["c1"])
    np.testing.assert_allclose(default["erp"], data[:, 1][..., sel].mean(axis=-1))


def test_events_from_a_psifr_frame_take_its_study_rows():
    frame = pd.DataFrame({"subject": 1, "list": 1, "trial_type": ["study"] * 3 + ["recall"],
                          "position": [1, 2, 3, 1], "item": ["a", "b", "c", "b"]})
    data = np.random.default_rng(4).standard_normal((3, 2, TIMES.size))
    out = encoding_measures(_epochs(data), frame, measures=["erp"])
    assert out["position"].tolist() == [1, 2, 3]


def _recall_frame():
    study = [("study", p, it) for p, it in enumerate("abc", 1)]
    recall = [("recall", 1, "c"), ("recall", 2, "a")]
    rows = [dict(subject=1, list=1, trial_type=t, position=p, item=i) for t, p, i in
            study + recall]
    rows += [dict(subject=1, list=2, trial_type="study", position=p, item=i)
             for p, i in enumerate("de", 1)]
    return pd.DataFrame(rows)


def test_merge_measures_fills_study_rows():
    frame = _recall_frame()
    meas = pd.DataFrame({"subject": [1, 1, 1, 1], "list": [1, 1, 1, 2],
                         "position": [3, 1, 2, 2], "erp": [30.0, 10.0, 20.0, 50.0]})
    out = merge_measures(frame, meas)
    assert out.index.equals(frame.index)
    assert out.drop(columns="erp").equals(frame)
    np.testing.assert_array_equal(out["erp"].to_numpy(),
                                  [10.0, 20.0, 30.0, np.nan, np.nan, np.nan, 50.0])
    with pytest.raises(DataError, match="match no study event"):
        merge_measures(frame, pd.concat([meas, pd.DataFrame(
            {"subject": [1], "list": [3], "position": [1], "erp": [0.0]})]))
    with pytest.raises(DataError, match="share a"):
        merge_measures(frame, pd.concat([meas, meas.iloc[:1]]))
    with pytest.raises(DataError, match="already in recall_df"):
        merge_measures(out, meas)
    with pytest.raises(DataError, match="missing column"):
        merge_measures(frame, meas.drop(columns="list"))


def _memory_frame(shift, seed, n_subjects=2, n_lists=10, n_items=12):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        for lst in range(n_lists):
            rec = rng.random(n_items) < 0.4
            vals = rng.standard_normal(n_items) + shift * rec
            cond = "emotional" if lst % 2 else "neutral"
            for p in range(n_items):
                rows.append(dict(subject=s, list=lst, trial_type="study", position=p + 1,
                                 item=f"w{p}", cond=cond, gamma=vals[p]))
            for o, p in enumerate(rng.permutation(np.flatnonzero(rec))):
                rows.append(dict(subject=s, list=lst, trial_type="recall", position=o + 1,
                                 item=f"w{p}", cond=cond, gamma=np.nan))
    return pd.DataFrame(rows)


def test_subsequent_memory_recovers_a_shift():
    frame = _memory_frame(shift=1.0, seed=5)
    res = subsequent_memory(frame, "gamma", n_permutations=499, seed=0)
    study = frame[frame.trial_type == "study"]
    rec = set(zip(*(frame.loc[frame.trial_type == "recall", c] for c in
                    ("subject", "list", "item")), strict=True))
    is_r = np.array([k in rec for k in zip(study.subject, study.list, study.item,
                                           strict=True)])
    a, b = study.gamma[is_r].to_numpy(), study.gamma[~is_r].to_numpy()
    pooled = np.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1))
                     / (a.size + b.size - 2))
    row = res.iloc[0]
    assert (row.n_recalled, row.n_forgotten) == (a.size, b.size)
    np.testing.assert_allclose(row.difference, a.mean() - b.mean())
    np.testing.assert_allclose(row.sem_recalled, a.std(ddof=1) / np.sqrt(a.size))
    np.testing.assert_allclose(row.cohens_d, (a.mean() - b.mean()) / pooled)
    n = a.size + b.size
    np.testing.assert_allclose(row.hedges_g, row.cohens_d * (1 - 3 / (4 * n - 9)))
    assert abs(row.difference - 1.0) < 0.35 and row.p_value <= 0.01
    by = subsequent_memory(frame, "gamma", by="cond", n_permutations=199, seed=0)
    assert sorted(by["cond"]) == ["emotional", "neutral"]
    assert (by["p_value"] <= 0.02).all() and (by["difference"] > 0.4).all()


def test_subsequent_memory_null_and_merged_frame():
    frame = _memory_frame(shift=0.0, seed=6)
    res = subsequent_memory(frame, "gamma", n_permutations=499, seed=1).iloc[0]
    assert res.p_value > 0.1 and abs(res.cohens_d) < 0.3
    # psifr merged layout (one row per study item, boolean recall column): same answer
    study = frame[frame.trial_type == "study"].drop(columns="trial_type")
    rec = set(zip(*(frame.loc[frame.trial_type == "recall", c] for c in
                    ("subject", "list", "item")), strict=True))
    study = study.assign(recall=[k in rec for k in zip(study.subject, study.list, study.item,
                                                       strict=True)])
    merged = subsequent_memory(study, "gamma", n_permutations=499, seed=1).iloc[0]
    np.testing.assert_allclose(merged.difference, res.difference)
    assert merged.p_value == res.p_value


def test_end_to_end_gamma_subsequent_memory():
    rng = np.random.default_rng(7)
    n = 30
    frame = _memory_frame(shift=0.0, seed=7, n_subjects=1, n_lists=3, n_items=10)
    study = frame[frame.trial_type == "study"]
    rec = set(frame.loc[frame.trial_type == "recall", ["list", "item"]].itertuples(
        index=False, name=None))
    is_r = np.array([(lst, it) in rec for lst, it in zip(study.list, study.item, strict=True)])
    amp = np.where(is_r, 2.0, 1.0)
    data = (amp[:, None, None] * np.sin(2 * np.pi * 45 * TIMES
                                        + rng.uniform(0, 6, (n, 2, 1)))
            + 0.05 * rng.standard_normal((n, 2, TIMES.size)))
    meas = encoding_measures(_epochs(data), frame, measures=["band_power"])
    out = merge_measures(frame.drop(columns="gamma"), meas)
    res = subsequent_memory(out, "band_power", n_permutations=199).iloc[0]
    np.testing.assert_allclose(res.difference, 2.0 - 0.5, rtol=0.02)
    assert res.p_value <= 0.01


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(window=(0.0, 2.5)), ValidationError, "window: expected a window inside"),
    (dict(erp_window=(-1.5, 0.0)), ValidationError, "erp_window"),
    (dict(band=(30, 260)), ValidationError, "band.*Nyquist"),
    (dict(channels=["c0", "Cz"]), ValidationError, "channels: unknown.*Cz"),
    (dict(pairs=[("c0", "c0")]), ValidationError, "pairs"),
    (dict(pairs=[("c0", "Pz")]), ValidationError, "pairs: unknown"),
    (dict(measures=["gamma"]), ValidationError, "measures"),
    (dict(channels=["c0"], measures=["plv"]), ValidationError, "at least 2 channels"),
])
def test_bad_arguments(kwargs, exc, match):
    data = np.random.default_rng(8).standard_normal((2, 2, TIMES.size))
    with pytest.raises(exc, match=match):
        encoding_measures(_epochs(data), _events(2), **kwargs)


def test_bad_data_and_events():
    data = np.random.default_rng(9).standard_normal((3, 2, TIMES.size))
    with pytest.raises(ShapeError, match="events: expected 3 rows"):
        encoding_measures(_epochs(data), _events(4))
    with pytest.raises(DataError, match="events: missing"):
        encoding_measures(_epochs(data), _events(3).drop(columns="list"))
    dup = _events(3).assign(position=[1, 1, 2])
    with pytest.raises(DataError, match="share a"):
        encoding_measures(_epochs(data), dup)
    with pytest.raises(DataError, match="events: row 1 has a missing"):
        encoding_measures(_epochs(data), _events(3).assign(position=[1.0, np.nan, 3.0]))
    bad = data.copy()
    bad[1, 0, 5] = np.nan
    with pytest.raises(ValidationError, match="data: expected finite values, got 1 NaN"):
        encoding_measures(EEGEpochs(data=bad, sfreq=SF, ch_names=("a", "b"), tmin=TMIN),
                          _events(3))         # the container refuses it
    flat = data.copy()
    flat[2, 1] = 0.5
    with pytest.raises(DataError, match="channel 'b' in epoch 2 is flat"):
        encoding_measures(_epochs(flat, ("a", "b")), _events(3))
    with pytest.raises(ValidationError, match="epochs: expected"):
        encoding_measures(data, _events(3))
    short = EEGEpochs(data=data[..., :100], sfreq=SF, ch_names=("a", "b"), tmin=0.0)
    with pytest.raises(DataError, match="shorter than"):
        encoding_measures(short, _events(3), window=(0.0, 0.1), erp_window=(0.0, 0.1))
    frame = _memory_frame(0.0, 0, n_subjects=1, n_lists=1, n_items=3)
    with pytest.raises(DataError, match="measure: expected a column"):
        subsequent_memory(frame, "theta")
    with pytest.raises(EngramlabError, match="at least 2 recalled"):
        subsequent_memory(frame, "gamma")

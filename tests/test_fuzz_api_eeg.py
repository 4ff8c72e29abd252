"""Fuzz the public Python API of engramlab.eeg (issue 14): an EngramlabError or a finite
(and, where cheap, correct) result for generated hostile input, on tiny recordings
(2 conditions x 3 trials, 2-3 channels, 0.5 s at 250 Hz)."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_strategies import (
    float_arrays,
    fuzz_call,
    fuzz_settings,
    hostile_arrays,
    hostile_scalars,
    is_close,
    limited_resources,
    size,
    small_floats,
    v,
)
from hypothesis import given
from hypothesis import strategies as st

import engramlab.eeg as eeg

SF = 250.0
SYN = eeg.synthetic_eeg(seed=0, n_trials=3, n_channels=3, duration=0.5, sfreq=SF,
                        burst=(0.1, 0.4))
DATA = SYN.epochs.data                       # (6, 3, 125)
LABELS = list(SYN.epochs.labels)
PL = eeg.phase_locking(SYN.epochs, band=(40.0, 80.0))
BANDS = st.sampled_from([(40.0, 80.0), (50.0, 90.0)])
HOSTILE_BANDS = st.sampled_from([(80.0, 40.0), (0.0, 50.0), (40.0, 200.0), (np.nan, 80.0),
                                 (1e-9, 80.0), "gamma", (40.0,), None, (40.0, 1e300)])
SEEDS = st.one_of(st.integers(0, 2**31), st.just(np.random.default_rng(0)))
HOSTILE_SEEDS = st.sampled_from([-1, 1.5, None, "0", True, 2**70])


@pytest.fixture(autouse=True)
def _limits():
    with limited_resources():
        yield






def signal(shape=(6, 3, 125)):
    """Valid: the synthetic recording plus noise; hostile: see hostile_arrays."""
    base = DATA[tuple(slice(0, s) for s in shape)]

    def make(args):
        seed, scale, dtype = args
        z = np.random.default_rng(seed).standard_normal(shape)
        return (base + scale * z).astype(dtype)

    valid = st.tuples(st.integers(0, 1000), small_floats(0, 0.1),
                      st.sampled_from([np.float64, np.float32])).map(make)
    return valid, hostile_arrays(shape)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_load_eeg_arrays(data):
    fuzz_call(data, eeg.load_eeg, {
        "source": signal(), "sfreq": v(st.just(SF)),
        "labels": (st.sampled_from([None, LABELS]), st.sampled_from([["a"], "ab", 3,
                                                                     [[1] * 6]])),
        "ch_names": (st.sampled_from([None, ["a", "b", "c"]]),
                     st.sampled_from([["a", "a", "b"], ["a"], 3]))})
    cont = np.concatenate(list(DATA), axis=-1)   # (3, 750)
    fuzz_call(data, eeg.load_eeg, {
        "source": (st.just(cont), hostile_arrays((3, 750))), "sfreq": v(st.just(SF)),
        "epoch_length": v(st.sampled_from([None, 0.5, 1.0])),
        "events": (st.sampled_from([None, [0, 200, 400]]),
                   st.sampled_from([[0.5], [-300], [10**12], "e", [[0, 0]]])),
        "tmin": v(st.just(0.0)), "tmax": v(st.sampled_from([None, 0.4]))})


@fuzz_settings(6)
@given(st.data(), st.sampled_from(["empty", "zero", "text", "npz-empty", "object"]))
def test_fuzz_load_eeg_bad_files(tmp_path_factory, data, kind):
    path = tmp_path_factory.mktemp("f") / ("x.npz" if kind.startswith("npz") else "x.npy")
    if kind == "empty":
        np.save(path, np.zeros(0))
    elif kind == "zero":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_bytes(b"\x89PNG\r\n not numpy")
    elif kind == "npz-empty":
        path.write_bytes(b"PK\x03\x04 truncated")
    else:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    fuzz_call(data, eeg.load_eeg, {"sfreq": v(st.just(SF))}, source=path)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_filters(data):
    fuzz_call(data, eeg.check_band, {"band": (BANDS, HOSTILE_BANDS),
                                     "sfreq": v(st.just(SF))})
    fuzz_call(data, eeg.filter_length, {"sfreq": v(st.just(SF)),
                                        "band": (BANDS, HOSTILE_BANDS)})
    fuzz_call(data, eeg.bandpass, {"data": signal((2, 3, 125)), "sfreq": v(st.just(SF)),
                                   "band": (BANDS, HOSTILE_BANDS)})
    ok, out, which = fuzz_call(data, eeg.band_phasors, {
        "data": signal((2, 3, 125)), "sfreq": v(st.just(SF)), "band": (BANDS, HOSTILE_BANDS),
        "dtype": (st.sampled_from([np.complex64, np.complex128]),
                  st.sampled_from([np.float32, "x", None]))})
    if ok:
        assert is_close(np.abs(out), 1.0, rtol=1e-3)
    fuzz_call(data, eeg.analytic_phasors, {"filtered": signal((2, 3, 125))})


def _phasors(shape):
    return float_arrays(shape, -3.0, 3.0).map(lambda p: np.exp(1j * p))


@fuzz_settings(15)
@given(st.data())
def test_fuzz_plv_estimators(data):
    spec = {"phasors": (_phasors((4, 2, 5)), hostile_arrays((4, 2, 5))),
            "estimator": (st.sampled_from(eeg.ESTIMATORS), st.sampled_from(["coh", None]))}

    def check(kw, out):
        z = np.asarray(kw["phasors"])
        if kw["estimator"] == "plv":
            z = z[:, :, ::kw.get("time_stride", 1)]
            ref = np.abs(np.mean(z[:, 0] * z[:, 1].conj(), axis=0))
            assert is_close(out[0, 1], ref)

    fuzz_call(data, eeg.plv_across_trials, {**spec, "time_stride": size([1, 2])}, check)
    fuzz_call(data, eeg.plv_across_time, spec)
    fuzz_call(data, eeg.zero_locking_bias, {"n": (st.sampled_from([1, 10, [2, 3]]),
                                                  st.sampled_from([0, -1, np.nan, "n"]))})


@fuzz_settings(15)
@given(st.data())
def test_fuzz_von_mises_theory(data):
    def check(kw, out):
        assert np.all((out >= 0) & (out <= 1))

    fuzz_call(data, eeg.plv_from_kappa, {"kappa": (st.one_of(small_floats(0, 50),
                                                             st.just(np.inf)),
                                                   hostile_scalars())}, check)
    ok, out, which = fuzz_call(data, eeg.kappa_from_plv, {"plv": v(small_floats(0, 0.999))},
                               allow_nan=False)
    fuzz_call(data, eeg.plv_sampling_sd, {"plv": v(small_floats(0.1, 0.9)),
                                          "n_trials": size([10])})
    fuzz_call(data, eeg.trials_for_sem, {"plv": v(small_floats(0.1, 0.9)),
                                         "sem": v(small_floats(1e-3, 0.5))})
    fuzz_call(data, eeg.expected_plv, {"plv": v(small_floats(0.1, 0.9)),
                                       "n_trials": size([10])})


@fuzz_settings(12)
@given(st.data())
def test_fuzz_synthetic_eeg(data):
    ok, out, which = fuzz_call(data, eeg.synthetic_eeg, {
        "seed": (SEEDS, HOSTILE_SEEDS),
        "plv": (st.sampled_from([0.5, {"a": 0.7, "b": 0.3}]),
                st.sampled_from([1.5, {}, {"a": np.nan}, "p"])),
        "n_trials": (st.sampled_from([3]), st.sampled_from([0, {"zzz": 3}, 1e9, None])),
        "n_channels": size([2]), "sfreq": v(st.just(SF)),
        "duration": v(st.sampled_from([0.5])), "freq": v(st.just(40.0)),
        "burst": (st.just((0.1, 0.4)), st.sampled_from([(0.4, 0.1), (0.1,), None, "b",
                                                        (0.1, 9.0)])),
        "noise": v(st.just(0.1))})
    if ok and which is None:
        assert out.epochs.data.shape[1:] == (2, 125)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_phase_locking_and_compare(data):
    ok, out, which = fuzz_call(data, eeg.phase_locking, {
        "source": signal(), "band": (BANDS, HOSTILE_BANDS), "sfreq": v(st.just(SF)),
        "labels": (st.just(LABELS), st.sampled_from([["a"] * 6, ["a", "b"] * 2, None])),
        "window": (st.sampled_from([None, (0.1, 0.4)]),
                   st.sampled_from([(0.4, 0.1), (0.0, 0.001), "w", (np.nan, 1.0), (1,)])),
        "estimator": (st.sampled_from(eeg.ESTIMATORS), st.sampled_from(["x"]))})
    pairs = (st.sampled_from([None, [("E1", "E2")], [(0, 2)]]),
             st.sampled_from([[], [("E1", "E1")], [("E1", "nope")], [(0, 9)], ["E1"], 3]))
    fuzz_call(data, PL.compare, {
        "conditions": (st.sampled_from([None, ("emotional", "neutral")]),
                       st.sampled_from([("a", "b"), "emotional", ("emotional",), 3])),
        "sense": (st.sampled_from(["across_trials", "within_trial"]),
                  st.sampled_from(["x", None])),
        "pairs": pairs, "n_permutations": size([20]), "seed": (SEEDS, HOSTILE_SEEDS),
        "max_times": size([8])})
    fuzz_call(data, PL.compare_timecourse, {
        "pairs": pairs, "n_permutations": size([19]), "seed": (SEEDS, HOSTILE_SEEDS),
        "threshold": v(st.just(1.96)), "max_times": size([10])})
    fuzz_call(data, PL.matrix, {
        "condition": (st.sampled_from([None, "emotional"]), st.sampled_from(["x", 3])),
        "sense": (st.sampled_from(["across_trials", "within_trial"]),
                  st.sampled_from(["x"]))})
    fuzz_call(data, PL.timecourse, {"pairs": pairs})
    fuzz_call(data, PL.per_trial, {"pairs": pairs})


@fuzz_settings(12)
@given(st.data())
def test_fuzz_statistics(data):
    u = np.exp(1j * np.linspace(0, 1, 6 * 4)).reshape(6, 4)
    labels = (st.just(LABELS), st.sampled_from([["a"] * 5, "abcdef", [["a"]] * 6, None, 3]))
    fuzz_call(data, eeg.compare_groups, {
        "u": (st.just(u), hostile_arrays((6, 4))), "labels": labels,
        "kind": (st.sampled_from(["phasors"]), st.sampled_from(["x"])),
        "estimator": (st.sampled_from(eeg.ESTIMATORS), st.sampled_from(["x"])),
        "n_permutations": size([10]), "seed": (SEEDS, HOSTILE_SEEDS)})
    fuzz_call(data, eeg.cluster_permutation_time, {
        "u": (st.just(u.reshape(6, 2, 2)), hostile_arrays((6, 2, 2))), "labels": labels,
        "times": (st.just(np.arange(2.0)), hostile_arrays((2,))),
        "n_permutations": size([19]), "threshold": v(st.just(1.96)),
        "seed": (SEEDS, HOSTILE_SEEDS)})
    from engramlab.eeg._stats import _finisher

    fuzz_call(data, eeg.jackknife, {"u": (st.just(u), hostile_arrays((6, 4))),
                                    "finish": (st.just(_finisher("phasors", "plv")),
                                               st.sampled_from([None, 3]))})


@fuzz_settings(10)
@given(st.data())
def test_fuzz_seed_eeg_api(data):
    fuzz_call(data, eeg.bandpass_filter, {"eeg": signal((2, 3, 125)),
                                          "low": v(st.just(40.0)), "high": v(st.just(80.0)),
                                          "sfreq": v(st.just(SF))})
    gamma = eeg.bandpass_filter(DATA, 40.0, 80.0, sfreq=SF)
    fuzz_call(data, eeg.phase_locking_value, {"gamma": (st.just(gamma),
                                                        hostile_arrays((6, 3, 125)))})
    fuzz_call(data, eeg.compute_coherence, {
        "eeg": signal(), "emotion_labels": (st.just(np.array([1, 0] * 3)),
                                            st.sampled_from([[0] * 6, [1], "1", None])),
        "sfreq": v(st.just(SF)), "band": (BANDS, HOSTILE_BANDS)})


@fuzz_settings(12)
@given(st.data())
def test_fuzz_data_containers(data):
    fuzz_call(data, eeg.EEGEpochs, {
        "data": signal(), "sfreq": v(st.just(SF)),
        "ch_names": (st.just(("a", "b", "c")), st.sampled_from([("a",), 3, None])),
        "labels": (st.sampled_from([None, LABELS]), st.sampled_from([["a"], 3])),
        "tmin": v(st.just(0.0))})
    fuzz_call(data, eeg.EEGContinuous, {
        "data": (st.just(np.ones((3, 300))), hostile_arrays((3, 300))),
        "sfreq": v(st.just(SF)), "ch_names": (st.just(("a", "b", "c")), st.sampled_from([3])),
        "onsets": (st.just(np.array([0, 100])), st.sampled_from([[-5], [290], "o", [0.5]])),
        "n_times": size([100])})

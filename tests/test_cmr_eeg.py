"""jaxcmr's EEG-informed models (eeg_ecmr, eeg_cmr, eeg_strength, eeg_simple_ecmr) as
engramlab compositions, against the independent NumPy transcription in
``seed_reference/jaxcmr_reference.py``; the ``condition`` / ``EarlyLPP`` fields in
jaxcmr's HDF5 layout; study-event covariate validation and centring."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from seed_reference import jaxcmr_reference as ref

import engramlab.cmr as cmr
from engramlab.errors import ConfigError, DataError

VARIANTS = ("eeg-ecmr", "eeg-cmr", "eeg-strength", "eeg-simple-ecmr")


def _with_eeg(df, seed=0):
    """Mixed lists: condition 1 (emotional) or 2 (neutral) at random per study event,
    and a random early LPP (µV) per study event; recall rows get NaN."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    study = (out["trial_type"] == "study").to_numpy()
    out["condition"] = np.where(study, rng.integers(1, 3, len(out)), np.nan)
    out["EarlyLPP"] = np.where(study, rng.normal(1.0, 3.0, len(out)), np.nan)
    return out


@pytest.fixture(scope="module")
def eeg_data():
    df = cmr.load_dataset("Morton2013")
    return _with_eeg(df[df["subject"].isin([1, 2])].copy())


def _reference_data(df):
    """The jaxcmr dataset dict of ``df``, with the two EEG fields read straight from the
    frame (study rows in subject, list, position order)."""
    data = ref.psifr_to_jaxcmr(df, valence_column=None)
    study = df[df["trial_type"] == "study"].sort_values(["subject", "list", "position"])
    n, L = data["pres_itemnos"].shape
    data["condition"] = study["condition"].to_numpy().reshape(n, L).astype(np.int32)
    data["EarlyLPP"] = study["EarlyLPP"].to_numpy(dtype=float).reshape(n, L).copy()
    return data


def _random_params(variant, rng, flags):
    """Uniform over the class's BOUNDS (wide ones log-uniform, capped at 20), the stop
    parameters where lists end by stopping."""
    cls = cmr.get_variant(variant).params
    vals = {}
    for k, (lo, hi) in cls.BOUNDS.items():
        if hi > 1.0 and lo > 0:
            vals[k] = float(np.exp(rng.uniform(np.log(max(lo, 1e-3)), np.log(min(hi, 20)))))
        else:
            vals[k] = float(rng.uniform(lo, hi))
    vals["stop_probability_scale"] = float(rng.uniform(1e-3, 0.3))
    vals["stop_probability_growth"] = float(rng.uniform(0.0, 1.0))
    return cls(**vals, **flags)


def _combos(variant):
    flags = cmr.get_variant(variant).params.FLAGS
    return [dict(zip(flags, bits, strict=True))
            for bits in itertools.product((False, True), repeat=len(flags))]


def _ref_params(p):
    return {**p.to_dict(), **{f: bool(getattr(p, f)) for f in type(p).FLAGS},
            "allow_repeated_recalls": False}


@pytest.mark.parametrize("variant", VARIANTS)
def test_eeg_variants_match_jaxcmr_reference(variant, eeg_data):
    """Every switch setting, each at random parameters over the bounds (and once at
    tau = 1, jaxcmr's power_scale shortcut), per-list log-likelihoods to 1e-12."""
    data = _reference_data(eeg_data)
    combos = _combos(variant)
    assert len(combos) == 2 ** len(cmr.get_variant(variant).params.FLAGS) >= 2
    worst = 0.0
    for i, flags in enumerate(combos):
        for tau1 in (False, True):
            p = _random_params(variant, np.random.default_rng(10 * i + tau1), flags)
            if tau1:
                p = p.replace(choice_sensitivity=1.0)
            theirs = ref.eeg_dataset_log_likelihood(variant, _ref_params(p), data)
            ours = cmr.trial_logliks(eeg_data, p, variant=variant)
            assert np.isfinite(theirs).all()
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=f"{flags}")
            worst = max(worst, float(np.max(np.abs(ours - theirs) / np.abs(theirs))))
    print(f"{variant}: max relative difference {worst:.2e}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_eeg_sequence_probabilities_sum_to_one(variant):
    L = 4
    seqs = [list(s) + [0] * (L - n) for n in range(L + 1)
            for s in itertools.permutations(range(1, L + 1), n)]
    m = len(seqs)
    arr = cmr.RecallArrays(np.ones(m, int), np.arange(m), np.tile(np.arange(L), (m, 1)),
                           np.array(seqs), features={
                               "condition": np.tile([1.0, 2.0, 1.0, 2.0], (m, 1)),
                               "EarlyLPP": np.tile([2.0, -1.0, 0.5, 3.0], (m, 1))})
    for flags in _combos(variant):
        p = _random_params(variant, np.random.default_rng(3), flags)
        ll = cmr.trial_logliks(arr, p, variant=variant)
        assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)


def test_eeg_ecmr_emotional_support_is_unmasked_before_scaling():
    """The quirk that needs PowerChoice(scale_unrecallable=True): a recalled emotional
    item's support still sets power_scale's max. With it off, the likelihood moves by
    O(lb) and the 1e-12 agreement is lost."""
    import dataclasses

    L = 5
    rec = np.array([[1, 3, 0, 0, 0], [3, 1, 5, 0, 0]])
    arr = cmr.RecallArrays(np.ones(2, int), np.arange(2), np.tile(np.arange(L), (2, 1)),
                           rec, features={"condition": np.tile([1.0, 2, 1, 1, 2], (2, 1)),
                                          "EarlyLPP": np.tile([10.0, -1, -3, -3, 1], (2, 1))})
    # item 1's emotional support (~50) dwarfs every other item's after it is recalled
    p = cmr.EegEcmrParams(emotion_scale=8.0, lpp_main_scale=5.0, choice_sensitivity=2.0,
                          stop_probability_scale=0.1)
    v = cmr.get_variant("eeg-ecmr")
    masked = dataclasses.replace(v, name="eeg-ecmr-masked", choice=cmr.PowerChoice())
    data = {"pres_itemnos": np.tile(np.arange(1, L + 1), (2, 1)), "recalls": rec,
            "listLength": np.full((2, 1), L), **arr.features}
    theirs = ref.eeg_dataset_log_likelihood("eeg-ecmr", _ref_params(p), data)
    np.testing.assert_allclose(cmr.trial_logliks(arr, p, variant=v), theirs, rtol=1e-12)
    off = cmr.trial_logliks(arr, p, variant=masked)
    assert np.max(np.abs(off - theirs) / np.abs(theirs)) > 1e-10


def test_condition_and_lpp_in_jaxcmr_h5_layout(eeg_data, tmp_path):
    """A file laid out exactly as jaxcmr's ``save_dict_to_hdf5`` writes (group ``data``,
    every field transposed, condition int32 as jaxcmr's TalmiEEG builders), read by our
    reader; and our writer's file read by jaxcmr's ``load_data`` transcription."""
    data = _reference_data(eeg_data)
    data["list"] = np.arange(1, len(data["subject"]) + 1, dtype=np.int32)[:, None]
    path = tmp_path / "talmi_like.h5"
    ref.save_like_jaxcmr(data, path)
    back = cmr.read_jaxcmr_h5(path)
    np.testing.assert_array_equal(back.features["condition"], data["condition"])
    np.testing.assert_array_equal(back.features["EarlyLPP"], data["EarlyLPP"])
    np.testing.assert_array_equal(back.list, data["list"][:, 0])
    p = cmr.EegCmrParams(lpp_main_scale=0.7, lpp_inter_scale=1.3, emotion_scale=2.0)
    theirs = ref.eeg_dataset_log_likelihood("eeg-cmr", _ref_params(p), data)
    np.testing.assert_allclose(cmr.trial_logliks(back, p, variant="eeg-cmr"), theirs,
                               rtol=1e-12)
    out = cmr.write_jaxcmr_h5(back, tmp_path / "ours.h5")
    loaded = ref.load_like_jaxcmr(out)  # what jaxcmr's load_data gives (float32, int32)
    np.testing.assert_allclose(loaded["EarlyLPP"], data["EarlyLPP"].astype(np.float32))
    np.testing.assert_array_equal((2 - loaded["condition"]).astype(bool),
                                  data["condition"] != 2)
    np.testing.assert_array_equal(loaded["list"], data["list"])
    import h5py

    with h5py.File(out) as f:
        n, L = data["EarlyLPP"].shape
        assert f["data"]["EarlyLPP"].shape == (L, n)  # stored transposed
        assert f["data"]["condition"].shape == (L, n)


def test_nonfinite_or_missing_covariate_names_column_and_rows(eeg_data, tmp_path):
    df = eeg_data.copy()
    study = df.index[df["trial_type"] == "study"]
    df.loc[study[[3, 30]], "EarlyLPP"] = [np.nan, np.inf]
    with pytest.raises(DataError, match=r"'EarlyLPP'.*2 study event.*position 4 \(row"):
        cmr.log_likelihood(df, cmr.EegCmrParams(), variant="eeg-cmr")
    with pytest.raises(DataError, match=r"missing column 'condition'"):
        cmr.log_likelihood(eeg_data.drop(columns="condition"), cmr.EegCmrParams(),
                           variant="eeg-cmr")
    # the same check on arrays (e.g. from a jaxcmr HDF5 file whose LPP has gaps)
    data = _reference_data(eeg_data)
    data["EarlyLPP"][2, 5] = np.nan
    ref.save_like_jaxcmr(data, tmp_path / "gap.h5")
    arr = cmr.read_jaxcmr_h5(tmp_path / "gap.h5")
    with pytest.raises(DataError, match=r"'EarlyLPP'.*1 value.*list 3 position 6"):
        cmr.trial_logliks(arr, cmr.EegStrengthParams(), variant="eeg-strength")
    with pytest.raises(DataError, match="'condition'"):
        cmr.simulate(cmr.EegCmrParams(), {"list_length": 4, "features": {
            "EarlyLPP": [1.0, 2.0, 3.0, 4.0]}}, key=0, variant="eeg-cmr")


def test_centring_conventions():
    cond = np.array([[1.0, 2, 1, 3], [2, 2, 1, 1], [1, 1, 1, 2]])
    x = np.array([[1.0, 5, 3, 8], [0, 1, 4, 6], [2, 2, 5, 9]])
    subject = np.array([1, 1, 2])
    cols = {"condition": cond, "EarlyLPP": x}
    emo = (cond != 2).astype(float)

    def derive(**kw):
        c = cmr.Covariate("EarlyLPP", **kw)
        return c.derive(cols, subject)[c.key] if c.derived_columns() else x

    np.testing.assert_array_equal(derive(centre="none"), x)
    np.testing.assert_allclose(derive(centre="list"), x - x.mean(axis=1, keepdims=True))
    s1, s2 = x[:2].mean(), x[2].mean()
    np.testing.assert_allclose(derive(centre="subject"),
                               x - np.array([[s1], [s1], [s2]]))
    got = derive(centre="list", among=cmr.EMOTIONAL)
    for r in range(3):
        m = (x[r] * emo[r]).sum() / emo[r].sum()
        np.testing.assert_allclose(got[r], np.where(emo[r] > 0, x[r] - m, 0.0))
    got = derive(centre="subject", among=cmr.EMOTIONAL)
    m1 = (x[:2] * emo[:2]).sum() / emo[:2].sum()
    np.testing.assert_allclose(got[0], np.where(emo[0] > 0, x[0] - m1, 0.0))
    with pytest.raises(ConfigError, match="centre"):
        cmr.Covariate("EarlyLPP", centre="session")


def test_variant_checks_covariate_columns_and_parameters():
    link = cmr.CovariateLink((cmr.Term("lpp_gain", cmr.Covariate("EarlyLPP")),))
    with pytest.raises(ConfigError, match=r"lpp_gain"):
        cmr.Variant("bad", cmr.JaxcmrParams,
                    (cmr.Layer(cmr.LocalistPreexp(), cmr.CovariateSchedule(link)),),
                    cmr.UnitRho(), cmr.PowerChoice(), cmr.PositionalStop(),
                    features=("EarlyLPP",))
    link = cmr.CovariateLink((cmr.Term("emotion_scale", cmr.Covariate("EarlyLPP")),))
    with pytest.raises(ConfigError, match=r"data column\(s\) \['EarlyLPP'\]"):
        cmr.Variant("bad", cmr.EegCmrParams,
                    (cmr.Layer(cmr.LocalistPreexp(), cmr.CovariateSchedule(link)),),
                    cmr.UnitRho(), cmr.PowerChoice(), cmr.PositionalStop())
    with pytest.raises(ConfigError, match="link"):
        cmr.CovariateLink((cmr.Term(1.0),), link="tanh")


def test_eeg_variants_reduce_to_their_bases(eeg_data):
    """With the LPP and emotion terms off, eeg-cmr (sum rule) is base jaxcmr CMR with
    primacy-only MCF learning, and eeg-ecmr's emotional vector learns nothing."""
    base = cmr.JaxcmrParams(choice_sensitivity=1.7)
    off = dict(emotion_scale=0.0, lpp_main_scale=0.0, lpp_inter_scale=0.0)
    want = cmr.trial_logliks(eeg_data, base, variant="jaxcmr")
    for v in ("eeg-cmr", "eeg-ecmr"):
        p = cmr.get_variant(v).params(**base.to_dict(), **off)
        np.testing.assert_allclose(cmr.trial_logliks(eeg_data, p, variant=v), want,
                                   rtol=1e-12)


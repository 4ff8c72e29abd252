"""Emotional CMR: eCMR and CMR3 against an independent transcription of jaxcmr's code,
the shared salience function, valence data handling, the list-composition effect and
parameter recovery."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.errors import DataError

CLASSES = {"ecmr": cmr.EcmrParams, "cmr3": cmr.Cmr3Params}


def _with_valence(df, seed=0):
    """Give every pool item a valence in {-1, 0, +1} (study events only)."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(-1, 2, size=int(df["item_index"].max()) + 2)
    out = df.copy()
    out["valence"] = np.where(out["trial_type"] == "study",
                              pool[out["item_index"].clip(lower=0)], np.nan)
    return out


@pytest.fixture(scope="module")
def emo_morton():
    df = cmr.load_dataset("Morton2013")
    return _with_valence(df[df["subject"].isin([1, 2])])


@pytest.fixture(scope="module")
def emo_peers():
    df = cmr.load_dataset("PEERS")
    return _with_valence(df[df["subject"].isin(df["subject"].unique()[:3])], seed=1)


def _random_params(model, rng, flags=None):
    """Uniform within the class's BOUNDS (wide ones on a log scale); the emotional
    parameters where they matter (``emotion_scale`` in [0.5, 20], so the emotional
    pathway moves the likelihood; ``emotion_drift_rate`` in [0.05, 0.95]); ``flags`` the
    switch settings (default: drawn)."""
    cls = CLASSES[model]
    vals = {}
    for k, (lo, hi) in cls.BOUNDS.items():
        if hi > 1.0:
            vals[k] = float(np.exp(rng.uniform(np.log(max(lo, 1e-3)), np.log(min(hi, 20)))))
        else:
            vals[k] = float(rng.uniform(lo, hi))
    vals["stop_probability_scale"] = float(rng.uniform(1e-3, 0.3))
    vals["stop_probability_growth"] = float(rng.uniform(0.0, 1.0))
    vals["emotion_scale"] = float(np.exp(rng.uniform(np.log(0.5), np.log(20.0))))
    vals["emotion_drift_rate"] = float(rng.uniform(0.05, 0.95))
    if flags is None:
        flags = {f: bool(rng.integers(2)) for f in cls.FLAGS}
    return cls(**vals, **flags)


def _reference(model, df, p):
    from seed_reference import jaxcmr_reference as ref

    data = ref.psifr_to_jaxcmr(df)
    pr = {**p.to_dict(), **{f: bool(getattr(p, f)) for f in type(p).FLAGS},
          "allow_repeated_recalls": False}
    per_list = ref.dataset_log_likelihood(model, pr, data)
    return pd.Series(per_list, index=data["subject"][:, 0]).groupby(level=0).sum()


def _combos(model):
    """Every setting of the class's switches (eCMR / CMR3: learning after the context
    update, emotion modulated by primacy or added to it, phi_emot on the temporal MCF)."""
    flags = CLASSES[model].FLAGS
    return [dict(zip(flags, bits, strict=True))
            for bits in itertools.product((False, True), repeat=len(flags))]


@pytest.mark.parametrize("model", ["ecmr", "cmr3"])
@pytest.mark.parametrize("dataset", ["emo_morton", "emo_peers"])
def test_emotional_variants_match_jaxcmr_reference(model, dataset, request):
    """Every switch combination, each at its own random parameters, float64 against the
    float64 transcription of jaxcmr's code."""
    df = request.getfixturevalue(dataset)
    combos = _combos(model)
    assert len(combos) == 2 ** len(CLASSES[model].FLAGS) >= 8
    for i, flags in enumerate(combos):
        p = _random_params(model, np.random.default_rng(100 + i), flags)
        ref = _reference(model, df, p)
        ours = cmr.log_likelihood(df, p, variant=model, per_subject=True)
        np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12,
                                   err_msg=f"switches {flags}")


@pytest.mark.parametrize("model", ["ecmr", "cmr3"])
def test_emotional_sequence_probabilities_sum_to_one(model):
    L = 4
    seqs = [list(s) + [0] * (L - n) for n in range(L + 1)
            for s in itertools.permutations(range(1, L + 1), n)]
    m = len(seqs)
    arr = cmr.RecallArrays(np.ones(m, int), np.arange(m), np.tile(np.arange(L), (m, 1)),
                           np.array(seqs),
                           features={"valence": np.tile([-1.0, 0.0, 1.0, -1.0], (m, 1))})
    p = CLASSES[model](emotion_scale=2.0, emotion_drift_rate=0.5, stop_probability_scale=0.1)
    ll = cmr.trial_logliks(arr, p, variant=model)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)


def test_without_emotional_items_ecmr_is_base_cmr(emo_morton):
    """With every valence 0 and multiplicative modulation, the emotional MCF never
    learns (phi = 0), so eCMR reduces to the jaxcmr base model."""
    df = emo_morton.assign(valence=np.where(emo_morton["trial_type"] == "study", 0.0,
                                            np.nan))
    base = cmr.JaxcmrParams(choice_sensitivity=1.3)
    e = cmr.EcmrParams(**base.to_dict(), emotion_scale=4.0)
    np.testing.assert_allclose(
        cmr.log_likelihood(df, e, variant="ecmr", per_subject=True).to_numpy(),
        cmr.log_likelihood(df, base, variant="jaxcmr", per_subject=True).to_numpy(),
        rtol=1e-12)


def test_graded_salience_is_the_attractor_salience(emo_morton):
    """phi_emot = emotion_scale * s(E) with the attractor family's salience function;
    at salience_beta = 0 the graded variant equals eCMR."""
    import jax.numpy as jnp

    import engramlab.attractor as at

    df = emo_morton.assign(arousal=np.abs(emo_morton["valence"]) * 0.7)
    p = cmr.EcmrParams(emotion_scale=2.0)
    g0 = cmr.EcmrSalienceParams(**p.to_dict(), salience_beta=0.0)
    assert cmr.log_likelihood(df, g0, variant="ecmr-salience") == pytest.approx(
        cmr.log_likelihood(df, p, variant="ecmr"), rel=1e-12)
    sched = cmr.get_variant("ecmr-salience").layers[1].schedule
    val = jnp.asarray([-1.0, 0.0, 1.0, -1.0])
    aro = jnp.asarray([0.5, 2.0, 1.0, 0.0])
    with jax.enable_x64(True):
        phi = np.asarray(sched.phi({"emotion_scale": jnp.asarray(2.0),
                                    "salience_beta": jnp.asarray(0.8)}, 4,
                                   {"valence": val, "arousal": aro}))
    s = np.asarray(at.salience(np.array([0.5, 1.0, 0.0]), 0.8, "exp"))
    np.testing.assert_allclose(phi, [2 * s[0], 0.0, 2 * s[1], 2 * s[2]], rtol=1e-6)
    g1 = g0.replace(salience_beta=1.0)
    assert cmr.log_likelihood(df, g1, variant="ecmr-salience") != pytest.approx(
        cmr.log_likelihood(df, p, variant="ecmr"), rel=1e-6)


def test_valence_is_required_and_checked(emo_morton):
    p = cmr.EcmrParams()
    with pytest.raises(DataError, match="valence"):
        cmr.log_likelihood(emo_morton.drop(columns="valence"), p, variant="ecmr")
    bad = emo_morton.copy()
    bad.loc[bad.index[bad["trial_type"] == "study"][5], "valence"] = np.nan
    with pytest.raises(DataError, match="valence"):
        cmr.log_likelihood(bad, p, variant="ecmr")
    with pytest.raises(DataError, match="valence"):
        cmr.simulate(p, {"list_length": 6, "n_lists": 3}, key=0, variant="ecmr")


def test_recall_by_valence_analyses(emo_morton):
    rbv = cmr.recall_by_valence(emo_morton)
    assert set(rbv["valence_class"]) == {"emotional", "neutral"}
    assert rbv["recall"].between(0, 1).all()
    signed = cmr.recall_by_valence(emo_morton, scheme="signed")
    assert set(signed["valence_class"]) == {"negative", "neutral", "positive"}
    # the per-class recall rates average (weighted by item count) to the overall rate
    overall = cmr.to_arrays(emo_morton).n_recalls.sum() / (96 * 24)
    assert (rbv["recall"] * rbv["n_items"]).sum() / rbv["n_items"].sum() == pytest.approx(
        overall, rel=1e-9)
    spc = cmr.spc_by_valence(emo_morton)
    assert set(spc["input"]) == set(range(1, 25))
    crp = cmr.lag_crp_by_valence(emo_morton)
    assert {"lag", "prob", "valence_class"} <= set(crp.columns)
    clu = cmr.emotional_clustering(emo_morton)
    assert clu["prob"].between(0, 1).all()


def test_list_composition_effect():
    """eCMR's headline result: emotional items beat neutral ones in mixed lists, and the
    advantage shrinks in pure lists, by more than its simulation SE; base CMR (which
    ignores valence) shows neither."""
    base = dict(choice_sensitivity=2.0, stop_probability_scale=0.05,
                stop_probability_growth=0.25)
    tab = cmr.list_composition(
        {"ecmr": cmr.EcmrParams(**base, emotion_scale=3.0),
         "cmr3": cmr.Cmr3Params(**base, emotion_scale=3.0),
         "jaxcmr": cmr.JaxcmrParams(**base)}, list_length=12, n_lists=300, key=3)
    eff = cmr.composition_effect(tab).set_index("variant")
    for v in ("ecmr", "cmr3"):
        assert eff.loc[v, "mixed_advantage"] > 0
        assert eff.loc[v, "difference"] > 2 * eff.loc[v, "difference_se"]
    b = eff.loc["jaxcmr"]
    assert abs(b["mixed_advantage"]) < 3 * b["mixed_se"]
    assert abs(b["pure_advantage"]) < 3 * b["pure_se"]


@pytest.mark.parametrize("method", ["de", "gradient"])
def test_emotion_scale_recovery(method):
    truth = cmr.EcmrParams(emotion_scale=2.0, choice_sensitivity=2.0,
                           stop_probability_scale=0.05, stop_probability_growth=0.25)
    rng = np.random.default_rng(5)
    half = np.r_[-np.ones(4), np.zeros(4)]
    val = np.stack([rng.permutation(half) for _ in range(240)])
    sim = cmr.simulate(truth, {"list_length": 8, "n_lists": 240,
                               "features": {"valence": val}}, key=jax.random.key(9),
                       variant="ecmr")
    res = cmr.fit(sim, variant="ecmr", method=method,
                  free={"emotion_scale": (0.05, 10.0), "stop_probability_scale": (0.005, 0.3)},
                  fixed={k: getattr(truth, k) for k in cmr.EcmrParams.names()
                         if k not in ("emotion_scale", "stop_probability_scale")},
                  popsize=6, maxiter=25, n_starts=1, seed=1)
    assert res.loc[0, "emotion_scale"] == pytest.approx(2.0, rel=0.35)
    assert res.loc[0, "logl"] >= cmr.log_likelihood(sim, truth, variant="ecmr") - 1e-6

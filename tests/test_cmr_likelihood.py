"""CMR likelihood: against cymr itself, against a NumPy transcription, and invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.errors import ConfigError, EngramlabError

CYMR_SETS = [
    dict(B_enc=0.6, B_start=0.3, B_rec=0.8, Lfc=0.4, Lcf=0.5, Afc=0.1, Dfc=0.6, Acf=0.05,
         Dcf=0.7, P1=2.0, P2=1.0, T=0.2, X1=0.02, X2=0.2),
    dict(B_enc=0.9, B_start=0.0, B_rec=0.5, Lfc=0.2, Lcf=0.1, Afc=0.0, Dfc=0.8, Acf=0.0,
         Dcf=0.9, P1=5.0, P2=0.3, T=0.05, X1=0.001, X2=0.35),
    # small T, large stop growth: P(stop) saturates at 1 - 1e-6, so the 1e-5 event clip acts
    dict(B_enc=0.3, B_start=0.7, B_rec=0.95, Lfc=0.9, Lcf=0.8, Afc=0.3, Dfc=0.2, Acf=0.01,
         Dcf=0.1, P1=0.0, P2=2.0, T=0.02, X1=0.3, X2=1.5),
]


@pytest.fixture(scope="module")
def morton():
    df = cmr.load_dataset("Morton2013")
    return df[df["subject"].isin([1, 2])]


@pytest.fixture(scope="module")
def peers():
    df = cmr.load_dataset("PEERS")
    return df[df["subject"].isin(df["subject"].unique()[:2])]


def _cymr_logl(data, par, pool):
    from cymr import cmr as ccmr

    param_def, patterns = ccmr.config_loc_cmr(pool)
    return ccmr.CMR().likelihood(data, par, param_def=param_def, patterns=patterns)["logl"]


@pytest.mark.parametrize("k", range(len(CYMR_SETS)))
@pytest.mark.parametrize("dataset", ["morton", "peers"])
def test_cymr_variant_matches_cymr(k, dataset, request):
    data = request.getfixturevalue(dataset)
    par = CYMR_SETS[k]
    pool = 768 if dataset == "morton" else int(data["item_index"].max()) + 1
    ref = _cymr_logl(data, par, pool)
    ours = cmr.log_likelihood(data, par, variant="cymr", per_subject=True, pool_size=pool)
    assert list(ours.index) == list(ref.index)
    # float64 against float64 (cymr's Cython): as close as the arithmetic allows
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12)
    total = cmr.log_likelihood(data, cmr.CymrParams(**par), variant="cymr", pool_size=pool)
    assert total == pytest.approx(ref.sum(), rel=1e-12)


# ---------------------------------------------------------------------------------------
# The jaxcmr variant against an independent NumPy transcription of jaxcmr's code
# (tests/seed_reference/jaxcmr_reference.py, written from jaxcmr's source, not from ours)
# ---------------------------------------------------------------------------------------
def _random_jaxcmr_params(rng, learn_after):
    """Uniform within JaxcmrParams.BOUNDS (supports, primacy and choice on a log scale)."""
    vals = {}
    for k, (lo, hi) in cmr.JaxcmrParams.BOUNDS.items():
        if hi > 1.0:
            vals[k] = float(np.exp(rng.uniform(np.log(max(lo, 1e-3)), np.log(hi))))
        else:
            vals[k] = float(rng.uniform(lo, hi))
    vals["stop_probability_scale"] = float(rng.uniform(1e-3, 0.3))
    vals["stop_probability_growth"] = float(rng.uniform(0.0, 1.0))
    return cmr.JaxcmrParams(**vals, learn_after_context_update=learn_after)


def _reference_loglik(df, p):
    from seed_reference import jaxcmr_reference as ref

    data = ref.psifr_to_jaxcmr(df)
    pr = {**p.to_dict(), "learn_after_context_update": p.learn_after_context_update,
          "allow_repeated_recalls": False}
    per_list = ref.dataset_log_likelihood("cmr", pr, data)
    return pd.Series(per_list, index=data["subject"][:, 0]).groupby(level=0).sum()


def _assert_matches_reference(df, p):
    ref = _reference_loglik(df, p)
    ours = cmr.log_likelihood(df, p, variant="jaxcmr", per_subject=True)
    assert list(ours.index) == list(ref.index)
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12)
    assert ours.sum() == pytest.approx(ref.sum(), rel=1e-12)
    return ours, ref


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dataset", ["morton", "peers"])
def test_jaxcmr_variant_matches_jaxcmr_reference(seed, dataset, request):
    """Random parameters in the bounds, both learning orders, per subject and in total."""
    p = _random_jaxcmr_params(np.random.default_rng(seed), learn_after=seed % 2 == 0)
    _assert_matches_reference(request.getfixturevalue(dataset), p)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_jaxcmr_variant_unit_and_small_choice_sensitivity(tau, morton):
    """tau == 1 takes jaxcmr's power_scale shortcut (a + lb, no max-normalisation)."""
    _assert_matches_reference(morton, cmr.JaxcmrParams(choice_sensitivity=tau))


@pytest.mark.slow
@pytest.mark.parametrize("name,learn_after", [("Morton2013", False), ("PEERS", True)])
def test_jaxcmr_variant_matches_reference_on_whole_datasets(name, learn_after):
    df = cmr.load_dataset(name)
    p = _random_jaxcmr_params(np.random.default_rng(11), learn_after=learn_after)
    ours, ref = _assert_matches_reference(df, p)
    assert len(ours) == df["subject"].nunique()


def test_paper_variant_differs_from_jaxcmr_by_the_context_rule(morton):
    """The paper's scalar rho and additive item support vs jaxcmr's code: not the same
    number (this is why the jaxcmr variant is not the paper's equations)."""
    p = cmr.JaxcmrParams()
    a = cmr.log_likelihood(morton, p, variant="jaxcmr")
    b = cmr.log_likelihood(morton, p, variant="paper")
    assert abs(a - b) / abs(a) > 1e-3


def test_initial_memories():
    """jaxcmr sets the own-item MCF entry to item_support; the paper variant (and the seed
    notebook's LinearMemory.init_mcf) adds it to shared_support."""
    import jax.numpy as jnp

    from engramlab.cmr import LocalistPreexp
    from engramlab.memory import LinearMemory, init_mcf, init_mfc

    p = {"learning_rate": jnp.asarray(0.3), "shared_support": jnp.asarray(0.05),
         "item_support": jnp.asarray(0.2)}
    mfc, mcf = LocalistPreexp(own="add").init(p, 6, {})
    np.testing.assert_allclose(mfc, init_mfc(6, 7, 0.3).state, atol=1e-7)
    np.testing.assert_allclose(mcf, LinearMemory.init_mcf(6, 7, 0.2, 0.05).state, atol=1e-7)
    np.testing.assert_allclose(mcf, init_mcf(6, 7, 0.2, 0.05).state, atol=1e-7)
    _, mcf_j = LocalistPreexp(own="set").init(p, 6, {})
    expected = np.full((7, 6), 0.05)
    expected[0] = 0.0
    expected[np.arange(1, 7), np.arange(6)] = 0.2
    np.testing.assert_allclose(mcf_j, expected, atol=1e-7)


def _all_sequences(L):
    for n in range(L + 1):
        for seq in itertools.permutations(range(1, L + 1), n):
            yield list(seq) + [0] * (L - n)


@pytest.mark.parametrize("variant,params", [
    ("jaxcmr", cmr.JaxcmrParams(stop_probability_scale=0.1, stop_probability_growth=0.4)),
    ("jaxcmr", cmr.JaxcmrParams(choice_sensitivity=1.0, learn_after_context_update=False)),
    ("paper", cmr.JaxcmrParams(stop_probability_scale=0.1, stop_probability_growth=0.4)),
    ("cymr", cmr.CymrParams(T=0.5, X1=0.1, X2=0.3, Afc=0.1, Acf=0.1)),
])
def test_sequence_probabilities_sum_to_one(variant, params):
    """Sum over every possible recall sequence (incl. stopping) of P(sequence) = 1."""
    L = 4
    recalls = np.array(list(_all_sequences(L)))
    n = len(recalls)
    arr = cmr.RecallArrays(np.ones(n, int), np.arange(n), np.tile(np.arange(L), (n, 1)),
                           recalls)
    ll = cmr.trial_logliks(arr, params, variant=variant, pool_size=10)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)


def test_context_rules():
    """ScalarRho: unit norm and rho = sqrt(1 + B^2 (d^2 - 1)) - B d exactly; UnitRho:
    jaxcmr's elementwise rho, renormalised with its epsilon."""
    import jax
    import jax.numpy as jnp

    from engramlab.cmr import LB, ScalarRho, UnitRho

    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for _ in range(20):
            c = rng.random(9)
            c /= np.linalg.norm(c)
            cin = rng.random(9)
            cin /= np.linalg.norm(cin)
            B = rng.random()
            out = np.asarray(ScalarRho().integrate(jnp.asarray(c), jnp.asarray(cin),
                                                   jnp.asarray(B)))
            assert np.linalg.norm(out) == pytest.approx(1.0, abs=1e-12)
            d = c @ cin
            rho = np.sqrt(1 + B**2 * (d**2 - 1)) - B * d
            np.testing.assert_allclose(out, rho * c + B * cin, rtol=0, atol=1e-14)
            out = np.asarray(UnitRho().integrate(jnp.asarray(c), jnp.asarray(3 * cin),
                                                 jnp.asarray(B)))
            x = c * (3 * cin) / np.sqrt(9 + LB)
            rho = np.sqrt(1 + B**2 * (x**2 - 1)) - B * x
            raw = rho * c + B * 3 * cin / np.sqrt(9 + LB)
            np.testing.assert_allclose(out, raw / np.sqrt(raw @ raw + LB), rtol=0, atol=1e-14)


def test_per_subject_sums_to_total(morton):
    p = cmr.JaxcmrParams()
    per = cmr.log_likelihood(morton, p, per_subject=True)
    assert isinstance(per, pd.Series) and list(per.index) == [1, 2]
    assert per.sum() == pytest.approx(cmr.log_likelihood(morton, p), rel=1e-12)


def test_cleaning_intrusions_and_repeats_equals_clean_data():
    """Intrusions and repeats are dropped before scoring (cymr's clean=True)."""
    study = [dict(subject=1, list=1, trial_type="study", position=i + 1, item=w)
             for i, w in enumerate("ABCDE")]
    clean = ["C", "A", "D"]
    dirty = ["C", "Z", "A", "C", "D", "A"]

    def frame(seq):
        rec = [dict(subject=1, list=1, trial_type="recall", position=i + 1, item=w)
               for i, w in enumerate(seq)]
        return pd.DataFrame(study + rec)

    for variant in ("jaxcmr", "paper", "cymr"):
        p = cmr.CymrParams() if variant == "cymr" else cmr.JaxcmrParams()
        a = cmr.log_likelihood(frame(clean), p, variant=variant)
        b = cmr.log_likelihood(frame(dirty), p, variant=variant)
        assert a == b


def test_bad_parameters_and_variant_raise(morton):
    with pytest.raises(ConfigError, match="B_encc"):
        cmr.log_likelihood(morton, {**CYMR_SETS[0], "B_encc": 0.1}, variant="cymr")
    with pytest.raises(ConfigError, match="missing"):
        cmr.log_likelihood(morton, {"B_enc": 0.1}, variant="cymr")
    with pytest.raises(ConfigError, match="encoding_drift_rate"):
        cmr.JaxcmrParams(encoding_drift_rate=1.5)
    with pytest.raises(ConfigError, match="variant"):
        cmr.log_likelihood(morton, cmr.CymrParams(), variant="jaxcmr")
    with pytest.raises(EngramlabError, match="variant"):
        cmr.log_likelihood(morton, cmr.CymrParams(), variant="hopfield")
    with pytest.raises(EngramlabError, match="pool_size"):
        cmr.log_likelihood(morton, cmr.CymrParams(), variant="cymr", pool_size=30)

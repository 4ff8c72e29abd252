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
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-6)
    total = cmr.log_likelihood(data, cmr.CymrParams(**par), variant="cymr", pool_size=pool)
    assert total == pytest.approx(ref.sum(), rel=1e-6)


# ---------------------------------------------------------------------------------------
# Independent NumPy transcription of the jaxcmr-variant equations (docs/cmr.md)
# ---------------------------------------------------------------------------------------
def _np_jaxcmr_loglik(p, recalls, L):
    K = L + 1
    mfc = np.eye(L, K, k=1) * (1 - p["learning_rate"])
    mcf = np.zeros((K, L))
    mcf[1:] = p["shared_support"]
    mcf[1:] += np.eye(L) * p["item_support"]

    def integ(c, cin, B):
        cin = cin / np.linalg.norm(cin)
        d = c @ cin
        rho = np.sqrt(1 + B**2 * (d**2 - 1)) - B * d
        c = rho * c + B * cin
        return c / np.linalg.norm(c)

    c = np.zeros(K)
    c[0] = 1
    for i in range(L):
        f = np.eye(L)[i]
        c = integ(c, f @ mfc, p["encoding_drift_rate"])
        mfc = mfc + p["learning_rate"] * np.outer(f, c)
        mcf = mcf + (p["primacy_scale"] * np.exp(-p["primacy_decay"] * i) + 1) * np.outer(c, f)
    start = np.eye(K)[0]
    c = integ(c, start, p["start_drift_rate"])
    recallable = np.ones(L, bool)
    ll = 0.0
    seq = [r - 1 for r in recalls if r > 0]
    for j in range(len(seq) + 1):
        lb = np.finfo(np.float32).eps
        ps = min(p["stop_probability_scale"] * np.exp(p["stop_probability_growth"] * j),
                 1.0 - lb * (L - j))
        if j == len(seq):
            ll += np.log(ps)
            break
        a = c @ mcf
        a = ((a / a[recallable].max()) ** p["choice_sensitivity"] + lb) * recallable
        ll += np.log((1 - ps) * a[seq[j]] / a.sum())
        recallable[seq[j]] = False
        c = integ(c, np.eye(L)[seq[j]] @ mfc, p["recall_drift_rate"])
    return ll


def test_jaxcmr_variant_matches_numpy_transcription(morton):
    p = cmr.JaxcmrParams(encoding_drift_rate=0.75, start_drift_rate=0.2, recall_drift_rate=0.9,
                         learning_rate=0.35, shared_support=0.03, item_support=0.4,
                         primacy_scale=3.0, primacy_decay=0.7, choice_sensitivity=1.7,
                         stop_probability_scale=0.01, stop_probability_growth=0.25)
    arr = cmr.to_arrays(morton)
    sel = arr.select(np.arange(len(arr.subject)) < 12)
    ours = cmr.trial_logliks(sel, p, variant="jaxcmr")
    ref = [_np_jaxcmr_loglik(p.to_dict(), r, sel.list_length) for r in sel.recalls]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_initial_memories_match_foundation_init():
    import jax.numpy as jnp

    from engramlab.cmr._model import initial_memories
    from engramlab.memory import init_mcf, init_mfc

    p = {"learning_rate": jnp.asarray(0.3), "shared_support": jnp.asarray(0.05),
         "item_support": jnp.asarray(0.2)}
    mfc, mcf = initial_memories(p, "jaxcmr", 6, jnp.asarray(0.0))
    np.testing.assert_allclose(mfc.state, init_mfc(6, 7, 0.3).state, atol=1e-7)
    np.testing.assert_allclose(mcf.state, init_mcf(6, 7, 0.2, 0.05).state, atol=1e-7)


def _all_sequences(L):
    for n in range(L + 1):
        for seq in itertools.permutations(range(1, L + 1), n):
            yield list(seq) + [0] * (L - n)


@pytest.mark.parametrize("variant,params", [
    ("jaxcmr", cmr.JaxcmrParams(stop_probability_scale=0.1, stop_probability_growth=0.4)),
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


def test_context_stays_unit_norm():
    import jax
    import jax.numpy as jnp

    from engramlab.cmr._model import integrate

    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for _ in range(20):
            c = rng.random(9)
            c /= np.linalg.norm(c)
            cin = rng.random(9)
            cin /= np.linalg.norm(cin)
            B = rng.random()
            out = np.asarray(integrate(jnp.asarray(c), jnp.asarray(cin), jnp.asarray(B)))
            assert np.linalg.norm(out) == pytest.approx(1.0, abs=1e-12)
            # rho = sqrt(1 + B^2 (d^2 - 1)) - B d exactly
            d = c @ cin
            rho = np.sqrt(1 + B**2 * (d**2 - 1)) - B * d
            np.testing.assert_allclose(out, rho * c + B * cin, atol=1e-12)


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

    for variant in ("jaxcmr", "cymr"):
        p = cmr.JaxcmrParams() if variant == "jaxcmr" else cmr.CymrParams()
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

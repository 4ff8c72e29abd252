"""Self-checks of the NumPy jaxcmr transcription (tests/seed_reference/jaxcmr_reference.py).

Nothing here touches engramlab's CMR code: these tests only check that the reference is a
proper likelihood (sums to one over every possible recall sequence), that it keeps jaxcmr's
context invariants and quirks, and that its data helpers write/read jaxcmr's HDF5 layout.
"""

from __future__ import annotations

import itertools

import h5py
import numpy as np
import pytest
from seed_reference import jaxcmr_reference as ref

BASE = dict(
    encoding_drift_rate=0.7,
    start_drift_rate=0.3,
    recall_drift_rate=0.8,
    learning_rate=0.3,
    shared_support=0.05,
    item_support=0.6,
    primacy_scale=2.0,
    primacy_decay=0.5,
    choice_sensitivity=1.0,
    stop_probability_scale=0.1,
    stop_probability_growth=0.4,
    learn_after_context_update=True,
    allow_repeated_recalls=False,
)
EMOT = dict(
    emotion_scale=1.5,
    emotion_drift_rate=0.4,
    modulate_emotion_by_primacy=True,
    phi_emot_modulates_temporal=False,
)

PARAM_SETS = {
    "after-tau1": {},
    "before-tau3": dict(learn_after_context_update=False, choice_sensitivity=3.0),
    "after-tau0.5-additive": dict(
        choice_sensitivity=0.5, modulate_emotion_by_primacy=False, phi_emot_modulates_temporal=True
    ),
    "repeats-before-tau2": dict(
        allow_repeated_recalls=True, learn_after_context_update=False, choice_sensitivity=2.0
    ),
    # stop table exceeds 1 from the second recall on: exercises the 1 - lb * n_recallable cap
    "capped-stop": dict(
        stop_probability_scale=0.4, stop_probability_growth=1.5, emotion_drift_rate=1.0
    ),
}
MIXED_VALENCE = {3: np.array([-1, 0, 1]), 4: np.array([1, 0, -1, 0])}


def params_for(model, name):
    p = {**BASE, **PARAM_SETS[name]}
    if model in ("ecmr", "cmr3"):
        p = {**BASE, **EMOT, **PARAM_SETS[name]}
    if model.startswith("semantic"):
        p = {**p, "semantic_scale": 1.7}
    return p


def connections_for(model, L):
    """A trial's semantic connections (clipped cosines of random 5-d patterns)."""
    if not model.startswith("semantic"):
        return None
    x = np.random.default_rng(L).normal(size=(L, 5))
    return ref.build_trial_connections(np.arange(1, L + 1)[None], features=x)[0]


def all_rows(L, R):
    """Every recall row of width R: k items (any of L, repeats allowed) then zeros."""
    for k in range(R + 1):
        for seq in itertools.product(range(1, L + 1), repeat=k):
            yield np.array(list(seq) + [0] * (R - k), dtype=int)


@pytest.mark.parametrize("model", ref.MODELS)
@pytest.mark.parametrize("name", list(PARAM_SETS))
@pytest.mark.parametrize("L", [3, 4])
def test_probabilities_of_all_sequences_sum_to_one(model, name, L):
    # Width R = L + 1 so repeated-recall runs can outlast the list; rows of full width score a
    # prefix (no stop), which is exactly the mass of all longer continuations.
    R = L + 1 if L == 3 else L
    params = params_for(model, name)
    pres = np.arange(1, L + 1)
    valence = MIXED_VALENCE[L] if model in ("ecmr", "cmr3") else None
    conn = connections_for(model, L)
    total = 0.0
    for row in all_rows(L, R):
        probs = ref.trial_event_probabilities(model, params, pres, row, valence,
                                              connections=conn)
        assert np.all(probs >= 0) and np.all(probs <= 1)
        total += float(np.prod(probs))
    assert total == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("model", ref.MODELS)
@pytest.mark.parametrize("name", list(PARAM_SETS))
def test_context_stays_unit_length_up_to_lb(model, name):
    params = params_for(model, name)
    if model == "cmr3":
        params = {**params, "emotion_drift_rate": 0.4}  # see the collapse test below
    L = 4
    _, trace = ref.run_trial(model, params, np.arange(1, L + 1), [2, 4, 1, 0], MIXED_VALENCE[L],
                             connections=connections_for(model, L))
    for snap in trace:
        assert abs(np.linalg.norm(snap["context"]) - 1.0) < 1e-6
        assert np.all(snap["context"] >= 0)
        if "emotion_context" in snap:
            assert abs(np.linalg.norm(snap["emotion_context"]) - 1.0) < 1e-6


def test_first_study_event_matches_orthogonal_closed_form():
    # From e_0 with an orthogonal input, per-unit rho reduces to sqrt(1 - B^2) on unit 0.
    B = BASE["encoding_drift_rate"]
    _, trace = ref.run_trial("cmr", BASE, [1, 2, 3], [0, 0, 0])
    expected = np.array([np.sqrt(1 - B**2), B, 0.0, 0.0])
    np.testing.assert_allclose(trace[0]["context"], expected, atol=1e-6)


def test_normalize_magnitude_keeps_lb_inside_sqrt():
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(ref.normalize_magnitude(v), v / np.sqrt(25 + ref.LB), rtol=0)
    assert np.all(ref.normalize_magnitude(np.zeros(3)) == 0)  # zero input stays zero
    assert ref.LB == float(np.finfo(np.float32).eps)


def test_power_scale_skips_tau_one_and_all_zero():
    v = np.array([0.2, 0.0, 0.5])
    np.testing.assert_array_equal(ref.power_scale(v, 1.0), v)
    np.testing.assert_array_equal(ref.power_scale(np.zeros(3), 2.0), np.zeros(3))
    np.testing.assert_allclose(ref.power_scale(v, 2.0), (v / 0.5) ** 2)


def test_cmr3_neutral_item_collapses_emotional_context_at_unit_drift():
    # jaxcmr quirk: a CMR3 neutral item has an all-zero emotional M^FC row, so with
    # emotion_drift_rate == 1 (the .get default) rho = 0 and the emotional context becomes 0.
    params = {**BASE, **EMOT, "emotion_drift_rate": 1.0}
    _, trace = ref.run_trial("cmr3", params, [1, 2, 3], [0, 0, 0], np.array([-1, 0, 1]))
    assert np.linalg.norm(trace[0]["emotion_context"]) == pytest.approx(1.0, abs=1e-6)
    assert np.all(trace[1]["emotion_context"] == 0)
    assert np.linalg.norm(trace[2]["emotion_context"]) == pytest.approx(1.0, abs=1e-6)


def test_stop_scored_only_with_trailing_zero_and_recalls_after_stop_have_zero_probability():
    pres = np.arange(1, 4)
    full = ref.trial_event_probabilities("cmr", BASE, pres, [1, 2, 3])
    assert full.shape == (3,) and np.all(full > 0) and np.all(full < 1)
    padded = ref.trial_event_probabilities("cmr", BASE, pres, [1, 2, 3, 0, 0])
    np.testing.assert_allclose(padded[:3], full, rtol=1e-15)
    assert padded[3] == 1.0 and padded[4] == 1.0  # nothing recallable: stop is certain
    early = ref.trial_event_probabilities("cmr", BASE, pres, [2, 0, 0])
    assert 0 < early[1] < 1 and early[2] == 1.0
    after_stop = ref.trial_event_probabilities("cmr", BASE, pres, [2, 0, 1])
    assert after_stop[2] == 0.0
    repeat = ref.trial_event_probabilities("cmr", BASE, pres, [2, 2, 0])
    assert repeat[1] == 0.0


def test_recalls_are_reindexed_through_pres_itemnos():
    # A repeated item (pres_itemnos [1, 2, 1]): recalling study position 3 is recalling item 1.
    pres = np.array([1, 2, 1])
    a = ref.trial_event_probabilities("cmr", BASE, pres, [3, 0, 0])
    b = ref.trial_event_probabilities("cmr", BASE, pres, [1, 0, 0])
    np.testing.assert_array_equal(a, b)


def test_dataset_log_likelihood_matches_trial_sums():
    data = {
        "subject": np.array([[1], [1]], dtype=np.int32),
        "listLength": np.array([[3], [3]], dtype=np.int32),
        "pres_itemnos": np.array([[1, 2, 3], [1, 2, 3]], dtype=np.int32),
        "recalls": np.array([[3, 1, 0], [2, 0, 0]], dtype=np.int32),
        "valence": np.array([[1, 0, -1], [0, 0, 1]], dtype=np.int32),
    }
    data["pres_itemids"] = np.array([[4, 1, 2], [3, 1, 5]], dtype=np.int32)
    x = np.random.default_rng(0).normal(size=(5, 4))
    conns = ref.build_trial_connections(data["pres_itemids"], features=x)
    for model in ref.MODELS:
        p = params_for(model, "before-tau3")
        ll = ref.dataset_log_likelihood(model, p, data, features=x)
        for t in range(2):
            v = data["valence"][t] if model in ("ecmr", "cmr3") else None
            probs = ref.trial_event_probabilities(
                model, p, data["pres_itemnos"][t], data["recalls"][t], v,
                connections=conns[t] if model.startswith("semantic") else None
            )
            assert ll[t] == pytest.approx(np.sum(np.log(probs)), rel=1e-14)


def _toy_dataset():
    return {
        "subject": np.array([[1], [1], [2]], dtype=np.int32),
        "listLength": np.array([[4], [4], [4]], dtype=np.int32),
        "pres_itemnos": np.tile(np.arange(1, 5, dtype=np.int32), (3, 1)),
        "pres_itemids": np.array([[5, 9, 2, 7], [1, 3, 4, 8], [6, 10, 11, 12]], dtype=np.int32),
        "recalls": np.array([[4, 1, 0, 0], [2, 3, 1, 4], [0, 0, 0, 0]], dtype=np.int32),
        "valence": np.array([[-1, 0, 1, 0], [0, 0, 0, 0], [1, 1, -1, 0]], dtype=np.int32),
        "response_time": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    }


def test_save_like_jaxcmr_exact_layout(tmp_path):
    data = _toy_dataset()
    path = tmp_path / "toy.h5"
    ref.save_like_jaxcmr(data, path)
    with h5py.File(path, "r") as f:
        assert list(f.keys()) == ["data"]
        assert len(f.attrs) == 0 and len(f["data"].attrs) == 0
        group = f["data"]
        assert isinstance(group, h5py.Group)
        assert set(group.keys()) == set(data)
        for key, value in data.items():
            ds = group[key]
            assert isinstance(ds, h5py.Dataset)
            assert ds.shape == value.T.shape  # stored transposed
            assert ds.dtype == value.dtype
            assert ds.chunks is None and ds.compression is None and len(ds.attrs) == 0
            np.testing.assert_array_equal(ds[()], value.T)
        assert group["subject"].shape == (1, 3) and group["listLength"].shape == (1, 3)
        assert group["recalls"].shape == (4, 3) and group["pres_itemnos"].shape == (4, 3)
    loaded = ref.load_like_jaxcmr(path)
    assert set(loaded) == set(data)
    for key, value in data.items():
        np.testing.assert_array_equal(loaded[key], value.astype(loaded[key].dtype))
        assert loaded[key].shape == value.shape
    assert loaded["response_time"].dtype == np.float32  # jnp.array, x64 off
    assert loaded["recalls"].dtype == np.int32
    kept = ref.load_like_jaxcmr(path, jax_dtypes=False)
    assert kept["response_time"].dtype == np.float64


def test_load_like_jaxcmr_matches_jnp_array_conversion(tmp_path):
    jnp = pytest.importorskip("jax.numpy")
    data = {**_toy_dataset(), "wide": np.arange(6, dtype=np.int64).reshape(3, 2)}
    path = tmp_path / "toy.h5"
    ref.save_like_jaxcmr(data, path)
    with h5py.File(path, "r") as f:
        via_jax = {k: np.asarray(jnp.array(f["/data"][k][()].T)) for k in f["/data"].keys()}
    mine = ref.load_like_jaxcmr(path)
    for key in data:
        assert mine[key].dtype == via_jax[key].dtype
        np.testing.assert_array_equal(mine[key], via_jax[key])


@pytest.fixture(scope="module")
def morton_subject1():
    fr = pytest.importorskip("psifr.fr")
    df = fr.sample_data("Morton2013")
    pool = sorted(df.loc[df["trial_type"] == "study", "item"].unique())
    s = df[df["subject"] == 1].copy()
    s["item_index"] = fr.pool_index(s["item"], pool)
    return s, pool


def test_psifr_conversion_of_morton2013_subject1(morton_subject1, tmp_path):
    s, pool = morton_subject1
    d = ref.psifr_to_jaxcmr(s)
    assert set(d) == {"subject", "listLength", "pres_itemnos", "pres_itemids", "recalls"}
    assert d["pres_itemnos"].shape == (48, 24) and d["recalls"].shape == (48, 24)
    assert d["pres_itemids"].shape == (48, 24)
    assert d["subject"].shape == (48, 1) and d["listLength"].shape == (48, 1)
    assert all(v.dtype == np.int32 for v in d.values())
    assert np.all(d["subject"] == 1) and np.all(d["listLength"] == 24)
    assert np.all(d["pres_itemnos"] == np.arange(1, 25))
    # list 1 by hand: study positions of the recalled words in output order, first
    # occurrences only, words not on the list dropped.
    lst = s[s["list"] == 1]
    study = lst[lst["trial_type"] == "study"].sort_values("position")
    pos = {w: i + 1 for i, w in enumerate(study["item"])}
    expected, seen = [], set()
    for w in lst[lst["trial_type"] == "recall"].sort_values("position")["item"]:
        if w in pos and w not in seen:
            expected.append(pos[w])
            seen.add(w)
    row = d["recalls"][0]
    assert list(row[: len(expected)]) == expected and np.all(row[len(expected) :] == 0)
    np.testing.assert_array_equal(d["pres_itemids"][0], [pool.index(w) + 1 for w in study["item"]])
    for r in d["recalls"]:
        nz = r[r > 0]
        assert len(set(nz)) == len(nz) and np.all(nz <= 24)
        assert np.all(r[len(nz) :] == 0)
    ll = ref.dataset_log_likelihood("cmr", BASE, d)
    assert ll.shape == (48,) and np.all(np.isfinite(ll)) and np.all(ll < 0)


def test_psifr_conversion_passes_valence_through(morton_subject1):
    s, _ = morton_subject1
    s = s.copy()
    s["valence"] = np.where(s["category"] == "obj", -1, np.where(s["category"] == "cel", 1, 0))
    d = ref.psifr_to_jaxcmr(s)
    assert d["valence"].shape == (48, 24) and d["valence"].dtype == np.int32
    study = s[(s["list"] == 1) & (s["trial_type"] == "study")].sort_values("position")
    np.testing.assert_array_equal(d["valence"][0], study["valence"].to_numpy())
    for model in ("ecmr", "cmr3"):
        ll = ref.dataset_log_likelihood(model, params_for(model, "after-tau1"), d)
        assert ll.shape == (48,) and np.all(np.isfinite(ll))


def test_integrate_uses_per_unit_rho_not_the_papers_scalar_rho():
    # Overlapping input (start-context reinstatement): jaxcmr's elementwise rho differs from
    # PNK09's scalar rho = sqrt(1 + B^2((c.c_in)^2 - 1)) - B c.c_in, which is unit length exactly.
    ctx = ref.TemporalContext(3)
    ctx.state = np.array([0.6, 0.8, 0.0])
    c_in = np.array([1.0, 0.0, 0.0])
    B = 0.5
    dot = ctx.state @ c_in
    rho = np.sqrt(1 + B**2 * (dot**2 - 1)) - B * dot
    paper = rho * ctx.state + B * c_in
    assert np.linalg.norm(paper) == pytest.approx(1.0, abs=1e-12)
    ctx.integrate(c_in, B)
    assert np.linalg.norm(ctx.state) == pytest.approx(1.0, abs=1e-6)
    assert np.max(np.abs(ctx.state - paper)) > 1e-2


# --------------------------------------------------------------- EEG-informed models
EEG_BASE = dict(BASE, emotion_scale=1.5, lpp_main_scale=0.8, lpp_main_threshold=0.3,
                lpp_inter_scale=1.7, lpp_inter_threshold=-0.4, lpp_scale=0.9,
                lpp_slope=2.5, lpp_threshold=0.2, modulate_emotion_by_primacy=True)
EEG_CONDITION = {3: np.array([1, 2, 1]), 4: np.array([2, 1, 1, 2])}
EEG_LPP = {3: np.array([2.0, -1.0, 0.5]), 4: np.array([0.3, 1.9, -2.2, 0.7])}


@pytest.mark.parametrize("model", ref.EEG_MODELS)
@pytest.mark.parametrize("by_primacy", [True, False])
@pytest.mark.parametrize("after", [True, False])
@pytest.mark.parametrize("tau", [1.0, 2.5])
@pytest.mark.parametrize("L", [3, 4])
def test_eeg_probabilities_of_all_sequences_sum_to_one(model, by_primacy, after, tau, L):
    params = dict(EEG_BASE, modulate_emotion_by_primacy=by_primacy,
                  learn_after_context_update=after, choice_sensitivity=tau)
    pres = np.arange(1, L + 1)
    total = 0.0
    for row in all_rows(L, L):
        if len(set(row[row > 0])) < (row > 0).sum():
            continue  # repeats have probability 0 without allow_repeated_recalls
        total += np.prod(ref.eeg_trial_event_probabilities(
            model, params, pres, row, EEG_CONDITION[L], EEG_LPP[L]))
    assert total == pytest.approx(1.0, abs=1e-12)


def test_eeg_centring_conventions():
    cond, lpp = np.array([1, 2, 1, 3]), np.array([1.0, 5.0, 3.0, 8.0])
    # condition 3 counts as emotional: (2 - 3) is truthy
    np.testing.assert_array_equal(ref.eeg_is_emotional(cond), [1, 0, 1, 1])
    np.testing.assert_allclose(ref.eeg_centred_lpp("eeg-ecmr", cond, lpp),
                               lpp - lpp.mean())
    m = (1 + 3 + 8) / 3
    for model in ("eeg-cmr", "eeg-strength", "eeg-simple-ecmr"):
        np.testing.assert_allclose(ref.eeg_centred_lpp(model, cond, lpp),
                                   [1 - m, 0.0, 3 - m, 8 - m])
    # a list without emotional items: mean over max(count, 1) = 1 item, every value 0
    np.testing.assert_array_equal(ref.eeg_centred_lpp("eeg-cmr", [2, 2], [4.0, 1.0]), [0, 0])


def test_eeg_emotional_support_follows_an_emotional_recall_only():
    """eeg_ecmr: the emotional vector adds support only right after an emotional recall,
    and the neutral item's LPP main effect never reaches it (emotional_mcf starts at 0)."""
    params = dict(EEG_BASE, choice_sensitivity=1.0)
    L = 3
    m = ref._EegModel("eeg-ecmr", params, L, EEG_CONDITION[L], EEG_LPP[L])
    for c in range(1, L + 1):
        m.experience(c)
    assert m.emotional_mcf[1] == 0.0 and m.emotional_mcf[0] > 0 and m.emotional_mcf[2] > 0
    m.start_retrieving()
    before = m.activations()
    np.testing.assert_allclose(before, (ref.power_scale(ref.probe(m.mcf, m.context.state),
                                                        1.0) + ref.LB))  # no recall yet
    m.retrieve(2)  # neutral recall: no emotional support
    base = (ref.power_scale(ref.probe(m.mcf, m.context.state) * m.recallable, 1.0) + ref.LB) \
        * m.recallable
    np.testing.assert_allclose(m.activations(), base)
    m.retrieve(1)  # emotional recall: item 3 gets its emotional_mcf on top
    base = ref.probe(m.mcf, m.context.state) * m.recallable
    np.testing.assert_allclose(m.activations()[2], base[2] + m.emotional_mcf[2] + ref.LB)

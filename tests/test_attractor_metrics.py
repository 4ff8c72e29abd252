"""Attractor metrics: similarity measures, strength/basins/beta scans vs theory, capacity
vs the Hopfield limit, end-state classification."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from engramlab.attractor import (
    AttractorNetwork,
    attractor_strength,
    basin_curve,
    beta_scan,
    capacity_curve,
    capacity_transition,
    classify_states,
    convergence_curves,
    corrupt,
    cosine_similarity,
    emotion_basin_grid,
    mse,
    overlap,
    pca_project,
    random_patterns,
    recall,
    state_fractions,
)
from engramlab.errors import ShapeError, ValidationError


def test_similarity_measures_match_numpy(rng):
    s = rng.standard_normal((4, 7, 20))
    p = rng.standard_normal((3, 20))
    np.testing.assert_allclose(np.asarray(overlap(s, p)), s @ p.T / 20, rtol=1e-5, atol=1e-6)
    cos = (s @ p.T) / np.linalg.norm(s, axis=-1)[..., None] / np.linalg.norm(p, axis=-1)
    np.testing.assert_allclose(np.asarray(cosine_similarity(s, p)), cos, rtol=1e-5, atol=1e-6)
    want = ((s[..., None, :] - p) ** 2).mean(-1)
    np.testing.assert_allclose(np.asarray(mse(s, p)), want, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(mse(s[0], p[0])), ((s[0] - p[0]) ** 2).mean(-1),
                               rtol=1e-5)
    with pytest.raises(ShapeError, match="patterns"):
        overlap(s, p[:, :5])


def test_corrupt_models():
    key = jax.random.key(0)
    xi = np.asarray(random_patterns(50, 400, key=key))
    assert set(np.unique(xi)) == {-1.0, 1.0}
    flipped = np.asarray(corrupt(xi, 0.2, key=key, model="flip"))
    frac = np.mean(flipped != xi)
    assert abs(frac - 0.2) < 4 * np.sqrt(0.2 * 0.8 / xi.size)
    z = np.asarray(jax.random.normal(key, xi.shape))
    np.testing.assert_allclose(np.asarray(corrupt(xi, 0.3, key=key, model="mix")),
                               xi * 0.7 + 0.3 * z, atol=1e-6)
    np.testing.assert_allclose(np.asarray(corrupt(xi, 0.3, key=key)), xi + 0.3 * z, atol=1e-6)
    with pytest.raises(ValidationError, match="noise"):
        corrupt(xi, 1.5, key=key, model="flip")


def test_strength_zero_without_memory_and_one_for_strong_memory(rng):
    n = 60
    xi = np.sign(rng.standard_normal(n))
    empty = AttractorNetwork.zeros(n)
    # no weights: r decays as (1 - dt/tau)^k -> MSE ~ 1 > 0.1 for every trial
    assert attractor_strength(empty, xi, key=0, trials=50) == 0.0
    strong = empty.imprint(xi, 2.0, gamma=1.0 / n)
    assert attractor_strength(strong, xi, key=0, trials=50) == 1.0
    rates = attractor_strength(strong, np.stack([xi, -xi]), key=1, trials=20)
    np.testing.assert_array_equal(rates, [1.0, 1.0])  # -xi is an attractor too
    with pytest.raises(ValidationError, match="trials"):
        attractor_strength(strong, xi, key=0, trials=-3)
    with pytest.raises(ValidationError, match="key"):
        attractor_strength(strong, xi, key="seed", trials=3)


def test_beta_scan_follows_single_pattern_theory(rng):
    # one pattern alone: W = s xi xi^T (zero diagonal, gamma 1) has the retrieval fixed
    # point r = m xi with m = tanh(c m), c = s (N-1). It exists iff c > 1, and it is
    # within the MSE threshold 0.1 iff (1 - m)^2 < 0.1, i.e. c > c* below.
    n, emotion = 100, 2.0
    xi = np.sign(rng.standard_normal(n)).astype(np.float32)
    betas = np.linspace(0.1, 5, 40)
    m_thr = 1 - np.sqrt(0.1)
    c_star = np.arctanh(m_thr) / m_thr
    for kind, s in (("seed", np.exp(-betas * emotion)), ("linear", 1 + betas * emotion)):
        rate = beta_scan(xi, betas, key=3, emotion=emotion, salience_fn=kind, gamma=1.0 / n,
                         trials=40, n_steps=300)
        c = s * (n - 1) / n
        assert np.all(rate[c > 1.3 * c_star] == 1.0), kind
        assert np.all(rate[c < 1.0] == 0.0), kind
    # the seed's exp(-beta E) weakens memories as beta grows; exp(+beta E) strengthens
    seed_rate = beta_scan(xi, betas, key=4, salience_fn="seed", trials=40)
    enh_rate = beta_scan(xi, betas, key=4, salience_fn="exp", gamma=1.0 / n / 20, trials=40)
    assert seed_rate[0] == 1.0 and seed_rate[-1] == 0.0
    assert enh_rate[0] == 0.0 and enh_rate[-1] == 1.0
    assert np.all(np.diff(seed_rate) <= 0.1) and np.all(np.diff(enh_rate) >= -0.1)


def test_basin_curve_shrinks_with_noise_and_with_weaker_emotion(rng):
    n = 100
    pats = np.sign(rng.standard_normal((3, n)))
    emotions = np.array([0.0, 0.5, 1.5])
    levels = np.linspace(0.0, 1.0, 6)
    grid = emotion_basin_grid(pats, emotions, levels, key=5, beta=1.0, gain=3.0, trials=40)
    assert grid.shape == (3, 6)
    # gain 3: every pattern is a stable fixed point (tanh saturated), recalled from itself
    np.testing.assert_array_equal(grid[:, 0], 1.0)
    # stronger emotion (enhancing salience) -> larger basin (area under success curve)
    area = grid.sum(axis=1)
    assert area[2] > area[1] > area[0]
    # success falls with noise (up to sampling noise)
    assert np.all(np.diff(grid, axis=1) <= 0.15)
    net = AttractorNetwork.zeros(n).imprint(pats[0], 1.0, gamma=1.0 / n)
    single = basin_curve(net, pats[0], levels, key=1, trials=10)
    assert single.shape == (6,)


def test_capacity_transition_near_hopfield_limit():
    # high-gain rate network ~ Hopfield network: the 50% retrieval point of P/N lies
    # near alpha_c = 0.138 (Amit, Gutfreund & Sompolinsky 1985)
    for n in (200, 300):
        counts = np.unique(np.round(np.linspace(0.08, 0.22, 15) * n).astype(int))
        res = capacity_curve(n, counts, key=n, n_networks=4)
        a = capacity_transition(res["load"], res["success"])
        assert 0.11 <= a <= 0.17, (n, a, res["success"])
        assert res["success"][0] > 0.9 and res["success"][-1] < 0.3


def test_capacity_transition_interpolation():
    load = np.array([0.1, 0.12, 0.14, 0.16])
    assert capacity_transition(load, np.array([1.0, 0.8, 0.4, 0.1])) == pytest.approx(0.135)
    assert np.isnan(capacity_transition(load, np.ones(4)))


def test_mixture_states_are_classified(rng):
    # symmetric 3-mixture sign(xi1 + xi2 + xi3): overlap 1/2 with each of the three
    # (exactly: it agrees with xi_p unless the two others both disagree)
    n = 400
    key = jax.random.key(9)
    xi = np.asarray(random_patterns(5, n, key=key))
    mix = np.sign(xi[0] + xi[1] + xi[2])
    m = np.asarray(overlap(mix, xi[:3]))
    assert np.all(np.abs(m - 0.5) < 0.1)
    net = AttractorNetwork.zeros(n, tau=1.0, dt=0.5, gain=20.0).imprint(xi, gamma=1.0 / n)
    finals = np.asarray(recall(net, np.stack([xi[0], mix, -xi[3]]), n_steps=60))
    np.testing.assert_array_equal(classify_states(finals, xi), [0, 1, 0])
    random_states = np.sign(rng.standard_normal((50, n)))
    fr = state_fractions(random_states, xi)
    assert fr["spurious"] == 1.0 and fr["away"] == 1.0 and fr["retrieved"] == 0.0


def test_convergence_curves_start_at_cue_error(rng):
    n = 50
    xi = np.sign(rng.standard_normal(n))
    net = AttractorNetwork.zeros(n).imprint(xi, 1.0, gamma=1.0 / n, beta=1.0)
    key = jax.random.key(1)
    curves = convergence_curves(net, xi, (0.1, 0.5), key=key)
    z = np.asarray(jax.random.normal(key, (2, n)))
    start = [np.mean((xi * 0.9 + 0.1 * z[0] - xi) ** 2), np.mean((xi * 0.5 + 0.5 * z[1] - xi) ** 2)]
    np.testing.assert_allclose(curves[:, 0], start, rtol=1e-5)
    assert curves.shape == (2, 30)


def test_pca_project_properties(rng):
    x = rng.standard_normal((30, 8)) * np.arange(1, 9)
    proj, ratio = pca_project(x, 3)
    assert proj.shape == (30, 3)
    assert np.all(np.diff(ratio) <= 0) and ratio.sum() <= 1
    np.testing.assert_allclose(proj.mean(0), 0, atol=1e-10)
    cov = np.cov(proj.T)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-8)

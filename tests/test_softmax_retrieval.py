"""The learned memories as a dense associative memory vs a Hebbian Hopfield network."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import engramlab.softmax as sm
from engramlab.errors import ShapeError, ValidationError


def _np_dam(xi, v, beta, n_iter):
    for _ in range(n_iter):
        s = beta * (v @ xi.T)
        w = np.exp(s - s.max(-1, keepdims=True))
        v = (w / w.sum(-1, keepdims=True)) @ xi
    return v


def _np_hebb(p, v, n_iter):
    w = p.T @ p / p.shape[1]
    np.fill_diagonal(w, 0.0)
    for _ in range(n_iter):
        v = np.where(v @ w >= 0, 1.0, -1.0)
    return v


def test_dam_matches_numpy_and_limits(rng):
    xi = rng.standard_normal((5, 16))
    cues = rng.standard_normal((7, 16))
    out = np.asarray(sm.dam_retrieve(xi, cues, beta=0.3, n_iter=3))
    np.testing.assert_allclose(out, _np_dam(xi, cues, 0.3, 3), rtol=1e-4, atol=1e-5)
    # beta = 0: the mean of the memories, whatever the cue
    out0 = np.asarray(sm.dam_retrieve(xi, cues, beta=0.0))
    np.testing.assert_allclose(out0, np.broadcast_to(xi.mean(0), out0.shape), atol=1e-5)
    # large beta from a pattern: that pattern (one-step retrieval)
    pats = np.asarray(sm.binary_patterns(jax.random.key(0), 6, 64))
    np.testing.assert_allclose(np.asarray(sm.dam_retrieve(pats, pats, beta=1.0)), pats,
                               atol=1e-5)


def test_hebbian_matches_numpy_and_stores_few_patterns(rng):
    pats = np.asarray(sm.binary_patterns(jax.random.key(1), 3, 100))
    cues = np.asarray(sm.flip_cues(jax.random.key(2), pats, 0.1))
    out = np.asarray(sm.hebbian_retrieve(pats, cues, n_iter=5))
    np.testing.assert_array_equal(out, _np_hebb(pats, cues, 5))
    np.testing.assert_array_equal(out, pats)  # load 0.03: perfect recall
    assert np.all(np.asarray(sm.retrieval_overlap(out, pats)) == 1.0)


def test_learned_memories_approach_patterns():
    pats = sm.binary_patterns(jax.random.key(3), 8, 64)
    xi0, xi = sm.learn_memories(jax.random.key(4), pats, n_presentations=80, tau=10.0,
                                noise=0.5, init_noise=1.0)
    a = 0.1
    rms0 = float(np.sqrt(np.mean((np.asarray(xi0) - np.asarray(pats)) ** 2)))
    rms = float(np.sqrt(np.mean((np.asarray(xi) - np.asarray(pats)) ** 2)))
    assert rms0 == pytest.approx(1.0, rel=0.1)
    assert rms == pytest.approx(0.5 * np.sqrt(a / (2 - a)), rel=0.15)


def test_capacity_sweep_dam_beats_hebbian_beyond_hopfield_capacity():
    res = sm.capacity_sweep(jax.random.key(0), n_v=64, n_memories=(2, 24), betas=(0.01, 1.0),
                            flips=(0.0, 0.1), n_cues=48)
    assert res["dam_learned"].shape == (2, 2, 2)
    assert res["hebbian"].shape == (2, 2)
    # uncorrupted cues are always "retrieved" by doing nothing
    np.testing.assert_array_equal(res["no_retrieval"][:, 0], 1.0)
    # K = 24 > 0.138 * 64: Hebbian memory fails, the learned DAM at beta = 1 succeeds
    assert res["hebbian"][1, 1] < 0.2
    assert res["dam_learned"][1, 1, 1] > 0.95
    assert res["dam_ideal"][1, 1, 1] > 0.95
    # the noisy initial traces (16 % wrong signs) do not pass the 0.95 overlap criterion
    assert res["dam_initial"][1, 1, 1] < 0.05
    # beta -> 0: the retrieval averages all memories and fails for K > 1
    assert res["dam_learned"][1, 0, 1] == 0.0


def test_retrieval_bad_input():
    with pytest.raises(ShapeError, match="cues"):
        sm.dam_retrieve(np.ones((2, 3)), np.ones((4,)), beta=1.0)
    with pytest.raises(ValidationError, match="beta"):
        sm.dam_retrieve(np.ones((2, 3)), np.ones((3,)), beta=-1.0)
    with pytest.raises(ValidationError, match="flips"):
        sm.capacity_sweep(jax.random.key(0), flips=(1.5,))
    with pytest.raises(ValidationError, match="patterns"):
        sm.hebbian_retrieve(np.full((2, 3), np.nan), np.ones(3))

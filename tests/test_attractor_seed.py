"""Seed-API parity: our classes/functions vs a NumPy transcription of seed 000's code."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from seed_reference import attractor_seed as seed

from engramlab.attractor import (
    EmotionalAttractorNetwork,
    NeuralResonanceSimulator,
    convergence_curves,
    emotion_impact_scan,
    measure_attractor_strength,
    plot_convergence,
    plot_phase_space,
)

TOL = 1e-5


def _pm1(rng, n):
    return np.sign(rng.standard_normal(n)).astype(np.float32)


def _feeder(rows):
    """A ``randn(shape)`` that hands out the given noise rows in order (like torch.randn)."""
    it = iter(np.asarray(rows, dtype=np.float32).reshape(-1, np.shape(rows)[-1]))
    return lambda shape: next(it).reshape(shape)


def _seed_demo_sims(rng):
    n = 200
    mems = [_pm1(rng, n) for _ in range(3)]
    ours = NeuralResonanceSimulator(n_neurons=n, tau=15.0)
    ref = seed.NeuralResonanceSimulator(n_neurons=n, tau=15.0)
    for m, (e, b) in zip(mems, [(3.0, 1.5), (1.0, 0.8), (0.5, 0.3)], strict=True):
        ours.imprint_memory(m, emotion=e, β=b)
        ref.imprint_memory(m, emotion=e, β=b)
    return ours, ref, mems


def test_defaults_match_seed():
    net = EmotionalAttractorNetwork()
    sim = NeuralResonanceSimulator()
    assert net.W.shape == (100, 100) and net.tau == 0.1
    assert sim.W.shape == (100, 100) and sim.tau == 10.0 and sim.n_neurons == 100
    assert float(np.abs(np.asarray(net.W)).max()) == 0.0


def test_emotional_attractor_network_matches_seed(rng):
    ours, ref = EmotionalAttractorNetwork(), seed.EmotionalAttractorNetwork()
    mems = [_pm1(rng, 100) for _ in range(2)]
    for m, e in zip(mems, (2.0, 0.5), strict=True):
        ours.imprint(m, emotion=e)
        ref.imprint(m, emotion=e, β=1.0)
    np.testing.assert_allclose(np.asarray(ours.W), ref.W, rtol=0, atol=TOL)
    # the seed keeps the diagonal in this class
    assert np.allclose(np.diag(np.asarray(ours.W)), np.exp(-2.0) + np.exp(-0.5), atol=1e-6)
    cues = np.stack([m * 0.6 + rng.standard_normal(100).astype(np.float32) * 0.4
                     for m in mems + mems])
    got = np.asarray(ours.recall(cues))  # one batched call
    want = np.stack([ref.recall(c) for c in cues])
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    np.testing.assert_allclose(np.asarray(ours.recall(cues[0], steps=7)),
                               ref.recall(cues[0], steps=7), rtol=0, atol=TOL)


def test_neural_resonance_simulator_matches_seed(rng):
    ours, ref, mems = _seed_demo_sims(rng)
    np.testing.assert_allclose(np.asarray(ours.W), ref.W, rtol=0, atol=TOL)
    assert np.all(np.diag(np.asarray(ours.W)) == 0)
    cues = np.stack([m * 0.7 + rng.standard_normal(200).astype(np.float32) * 0.3
                     for m in mems])
    got = np.asarray(ours.recall(cues))
    want = np.stack([ref.recall(c) for c in cues])
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_measure_attractor_strength_matches_seed(rng):
    ours, ref, mems = _seed_demo_sims(rng)
    key = jax.random.key(7)
    z = jax.random.normal(key, (100, 200))
    for m in mems:
        got = measure_attractor_strength(ours, m, key=key)
        want = seed.measure_attractor_strength(ref, m, _feeder(z))
        assert got == pytest.approx(want, abs=TOL)


def test_measure_attractor_strength_intermediate_value_matches_seed(rng):
    # a weak memory whose strength is strictly between 0 and 1, so trial-by-trial
    # agreement is actually exercised
    n = 100
    m = _pm1(rng, n)
    ours, ref = NeuralResonanceSimulator(n), seed.NeuralResonanceSimulator(n)
    ours.imprint_memory(m, emotion=2.0, β=2.215)
    ref.imprint_memory(m, emotion=2.0, β=2.215)
    key = jax.random.key(3)
    got = measure_attractor_strength(ours, m, trials=200, key=key)
    want = seed.measure_attractor_strength(ref, m, _feeder(jax.random.normal(key, (200, n))),
                                           trials=200)
    assert 0.05 < want < 0.95
    assert got == pytest.approx(want, abs=TOL)


def test_emotion_impact_scan_matches_seed(rng):
    m = _pm1(rng, 100)
    key = jax.random.key(11)
    betas = np.linspace(0.1, 5, 20)
    got = emotion_impact_scan(NeuralResonanceSimulator(), m, key=key, plot=False)
    keys = jax.random.split(key, betas.size)
    z = np.concatenate([np.asarray(jax.random.normal(k, (100, 100))) for k in keys])
    want = seed.emotion_impact_scan(None, m, _feeder(z), betas)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    # the seed's formula makes emotion *weaken* the memory: strength falls with beta
    assert want[0] == 1.0 and want[-1] == 0.0


def test_convergence_curves_match_seed(rng):
    ours, ref, mems = _seed_demo_sims(rng)
    key = jax.random.key(5)
    got = convergence_curves(ours.network, mems[1], (0.1, 0.3, 0.5), key=key)
    want = seed.plot_convergence_curves(ref, mems[1], _feeder(jax.random.normal(key, (3, 200))))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=TOL)


def test_visualize_attractor_states_and_plots(rng):
    import matplotlib.pyplot as plt

    ours, ref, mems = _seed_demo_sims(rng)
    key = jax.random.key(2)
    z = jax.random.normal(key, (20, 200))
    want = ref.visualize_attractor_states(mems[0], _feeder(z))
    levels = np.linspace(0, 0.5, 20, dtype=np.float32)[:, None]
    got = np.asarray(ours.recall(mems[0] * (1 - levels) + np.asarray(z) * levels))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    emb = ours.visualize_attractor(mems[0], key=key)
    assert emb.shape == (20, 2) and np.all(np.isfinite(emb))
    fig = plot_phase_space(ours, mems)
    states = seed.plot_phase_space_states(ref, mems)
    np.testing.assert_allclose(np.asarray(ours.recall(np.stack(mems))), states, atol=TOL)
    fig2 = plot_convergence(ours, mems[0], key=key)
    assert fig2.axes[0].get_yscale() == "log"
    plt.close("all")
    del fig


def test_float64_agreement_is_to_rounding(rng):
    # with x64 enabled our core runs in float64; the transcription then agrees to ~1e-12
    n = 200
    mems = [np.sign(rng.standard_normal(n)) for _ in range(3)]
    cues = np.stack([m * 0.7 + rng.standard_normal(n) * 0.3 for m in mems])
    ref = seed.NeuralResonanceSimulator(n_neurons=n, tau=15.0, dtype=np.float64)
    with jax.enable_x64(True):
        ours = NeuralResonanceSimulator(n_neurons=n, tau=15.0)
        for m, (e, b) in zip(mems, [(3.0, 1.5), (1.0, 0.8), (0.5, 0.3)], strict=True):
            ours.imprint_memory(m, emotion=e, β=b)
            ref.imprint_memory(m, emotion=e, β=b)
        got = np.asarray(ours.recall(cues))
        assert got.dtype == np.float64
    want = np.stack([ref.recall(c) for c in cues])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)

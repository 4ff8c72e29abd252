"""Softmax synaptic dynamics: NumPy transcription of the paper's loop, the closed-form
theory of App. B, limiting cases, the Hebbian fixed point, vmap, bad input."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import engramlab.softmax as sm
from engramlab.errors import EngramlabError, ShapeError, ValidationError


def _numpy_loop(xi0, v, beta, tau, dt=1.0, bias=None):
    """Independent transcription of memory-dynamics-theoretical.py's update (float64)."""
    xi = np.array(xi0, dtype=np.float64)
    lam = np.zeros_like(xi) if bias is None else np.broadcast_to(bias, xi.shape)
    out = [xi.copy()]
    for vt in np.asarray(v, dtype=np.float64):
        s = xi @ vt
        w = np.exp(beta * (s - s.max()))
        w /= w.sum()
        xi = xi + dt / tau * (-xi + lam + vt) * w[:, None]
        out.append(xi.copy())
    return np.array(out)


def _appendix_inputs(seed, n_h=4, n_v=50, noise=0.4, n_steps=2000):
    rng = np.random.default_rng(seed)
    xi = np.zeros((n_h, n_v))
    for i in range(n_h):  # Gram-Schmidt as in the paper's script
        xi[i] = rng.standard_normal(n_v)
        for j in range(i):
            xi[i] -= xi[i] @ xi[j] / (xi[j] @ xi[j]) * xi[j]
        xi[i] *= np.sqrt(n_v) / np.linalg.norm(xi[i])
    eta = xi + noise * rng.standard_normal((n_h, n_v))
    labels = np.arange(n_steps) % n_h
    return xi, eta, labels


def test_simulate_matches_numpy_transcription(rng):
    xi0 = rng.standard_normal((3, 7))
    v = rng.standard_normal((60, 7))
    bias = 0.3 * rng.standard_normal((3, 7))
    traj = np.asarray(sm.simulate(xi0, v, beta=0.7, tau=5.0, dt=0.5, bias=bias))
    ref = _numpy_loop(xi0, v, 0.7, 5.0, 0.5, bias)
    assert traj.shape == (61, 3, 7)
    np.testing.assert_allclose(traj, ref, rtol=2e-5, atol=2e-5)


def test_similarity_is_cosine(rng):
    traj = rng.standard_normal((5, 3, 4))
    tg = rng.standard_normal((3, 4))
    ref = np.einsum("tij,ij->ti", traj, tg) / (
        np.linalg.norm(traj, axis=2) * np.linalg.norm(tg, axis=1))
    np.testing.assert_allclose(np.asarray(sm.similarity(traj, tg)), ref, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(sm.similarity(traj[2], tg)), ref[2], rtol=1e-5)


def test_orthogonal_memories_gram_schmidt():
    xi = np.asarray(sm.orthogonal_memories(jax.random.key(3), 4, 50), dtype=np.float64)
    np.testing.assert_allclose(xi @ xi.T, 50 * np.eye(4), atol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_theory_matches_numerics_appendix_numpy_draws(seed):
    """App. B configuration, NumPy-drawn memories: |sim - theory| < 2e-3 for all t."""
    xi, eta, labels = _appendix_inputs(seed)
    sim = np.asarray(sm.similarity(sm.simulate(xi, eta[labels], beta=2.0, tau=250.0), eta))
    th = np.asarray(sm.theory_similarity(xi, eta, n_steps=2000, tau=250.0))
    assert sim.shape == th.shape == (2001, 4)
    assert np.abs(sim - th).max() < 2e-3
    # the discrete (presentation-count) form is exact under winner-take-all
    th_d = np.asarray(sm.theory_similarity(xi, eta, n_steps=2000, tau=250.0, labels=labels))
    assert np.abs(sim - th_d).max() < 2e-5


def test_theory_matches_numerics_batched_run_appendix():
    res = sm.run_appendix(jax.random.key(7), n_seeds=6)
    sim, th = np.asarray(res["similarity"]), np.asarray(res["theory"])
    assert sim.shape == (6, 2001, 4)
    err = np.abs(sim - th).max(axis=(1, 2))
    assert np.all(err < 2e-3), err
    # and the batch equals single runs through the public simulate()
    xi0, eta = np.asarray(res["xi0"][2]), np.asarray(res["targets"][2])
    single = sm.similarity(sm.simulate(xi0, eta[np.arange(2000) % 4], beta=2, tau=250), eta)
    np.testing.assert_allclose(np.asarray(single), sim[2], atol=1e-5)


def test_papers_equal_norm_formula_holds_when_norms_are_equal():
    """The script's formula assumes |eta| = |xi(0)|; with targets rescaled to norm
    sqrt(N_v) it agrees with the measured-norm form and meets 2e-3."""
    for seed in range(3):
        xi, eta, labels = _appendix_inputs(seed)
        eta = eta / np.linalg.norm(eta, axis=1, keepdims=True) * np.sqrt(50)
        kw = dict(n_steps=2000, tau=250.0)
        th_eq = np.asarray(sm.theory_similarity(xi, eta, norms="equal", **kw))
        th_me = np.asarray(sm.theory_similarity(xi, eta, **kw))
        np.testing.assert_allclose(th_eq, th_me, atol=1e-6)
        sim = np.asarray(sm.similarity(sm.simulate(xi, eta[labels], beta=2, tau=250), eta))
        assert np.abs(sim - th_eq).max() < 2e-3


def test_theory_initial_value_and_limit(rng):
    xi = rng.standard_normal((3, 10))
    eta = rng.standard_normal((3, 10))
    th = np.asarray(sm.theory_similarity(xi, eta, n_steps=100_000, tau=10.0))
    cos0 = np.sum(xi * eta, 1) / np.linalg.norm(xi, axis=1) / np.linalg.norm(eta, axis=1)
    np.testing.assert_allclose(th[0], cos0, rtol=1e-5)
    np.testing.assert_allclose(th[-1], 1.0, atol=1e-6)


@pytest.mark.parametrize("order", ["random", "blocks"])
def test_discrete_theory_for_other_orders_and_bias(order):
    """Random order / blocks with a synaptic bias: exact presentation-count theory."""
    xi, eta, _ = _appendix_inputs(11, n_steps=1500)
    v, labels = sm.make_stream(jax.random.key(5), eta, 1500, order=order, block_length=25)
    bias = 0.2 * np.random.default_rng(2).standard_normal(xi.shape)
    sim = np.asarray(sm.similarity(sm.simulate(xi, v, beta=2, tau=100, bias=bias), eta))
    th = np.asarray(sm.theory_similarity(xi, eta, n_steps=1500, tau=100, labels=labels,
                                         bias=bias))
    assert np.abs(sim - th).max() < 1e-4
    # continuous form with the measured win fractions p_mu
    p = np.asarray(sm.win_fractions(labels, 4))
    th_c = np.asarray(sm.theory_similarity(xi, eta, n_steps=1500, tau=100, p=p, bias=bias))
    assert np.abs(sim[-1] - th_c[-1]).max() < 5e-3


def test_beta_zero_rows_move_together_to_mean_input(rng):
    """beta = 0: w = 1/N_h, so Xi_k = (1-a)^k Xi_0 + sum_j a (1-a)^(k-1-j) v_j with
    a = dt / (N_h tau) for every row; rows converge to the (running) mean input."""
    n_h, n_v, n_steps, tau = 4, 6, 3000, 20.0
    xi0 = rng.standard_normal((n_h, n_v))
    pats = rng.standard_normal((3, n_v))
    v = pats[np.arange(n_steps) % 3]
    for beta in (0.0, 1e-5):
        traj = np.asarray(sm.simulate(xi0, v, beta=beta, tau=tau), dtype=np.float64)
        a = 1.0 / (n_h * tau)
        diff = traj[:, 1] - traj[:, 0]
        decay = (1 - a) ** np.arange(n_steps + 1)
        np.testing.assert_allclose(diff, decay[:, None] * (xi0[1] - xi0[0]), atol=2e-4)
        # long run: every row near the mean input, within the round-robin ripple
        ripple = a * np.abs(pats - pats.mean(0)).max() * 3
        assert np.abs(traj[-1] - pats.mean(0)).max() < ripple + 1e-3


def test_large_beta_winner_take_all_each_memory_to_own_target():
    xi, eta, labels = _appendix_inputs(3, n_steps=3000)
    traj = sm.simulate(xi, eta[labels], beta=50.0, tau=20.0)
    sim = np.asarray(sm.similarity(traj, eta))
    assert np.all(sim[-1] > 1 - 1e-5)
    w = np.asarray(jax.vmap(sm.softmax_weights, (None, 0, None))(traj[-1], eta, 50.0))
    np.testing.assert_allclose(w, np.eye(4), atol=1e-6)
    np.testing.assert_allclose(np.asarray(traj[-1]), eta, atol=1e-3)


def test_converges_to_hebbian_prescription():
    """Fresh noise on each presentation: Xi -> the clean patterns, so the couplings
    J = Xi^T Xi / N_h -> sum_mu eta_mu eta_mu^T / N_h (Hebb); the residual fluctuation
    matches the AR(1) stationary std sigma * sqrt(a / (2 - a)), a = dt / tau."""
    key = jax.random.key(0)
    n_h, n_v, tau, sigma = 4, 40, 100.0, 0.5
    pats = np.asarray(sm.orthogonal_memories(key, n_h, n_v))
    xi0 = pats + 0.8 * np.random.default_rng(1).standard_normal(pats.shape)
    v, _ = sm.make_stream(jax.random.key(1), pats, 8000, noise=sigma)
    xi = np.asarray(sm.simulate(xi0, v, beta=1.0, tau=tau)[-1], dtype=np.float64)
    a = 1.0 / tau
    rms = np.sqrt(np.mean((xi - pats) ** 2))
    assert rms == pytest.approx(sigma * np.sqrt(a / (2 - a)), rel=0.2)
    j_learned = xi.T @ xi / n_h
    j_hebb = pats.T @ pats / n_h
    rel = np.linalg.norm(j_learned - j_hebb) / np.linalg.norm(j_hebb)
    assert rel < 0.1


def test_run_appendix_vmaps_parameters():
    betas = np.array([0.0, 2.0, 2.0])
    taus = np.array([250.0, 250.0, 100.0])
    noises = np.array([0.4, 0.4, 0.1])
    res = sm.run_appendix(jax.random.key(2), n_seeds=3, beta=betas, tau=taus, noise=noises,
                          n_steps=400)
    keys = jax.random.split(jax.random.key(2), 3)
    for i in range(3):
        one = sm.run_appendix(keys[i], beta=betas[i], tau=taus[i], noise=noises[i],
                              n_steps=400)
        np.testing.assert_allclose(np.asarray(one["similarity"]),
                                   np.asarray(res["similarity"][i]), atol=1e-6)
        xi0, eta = np.asarray(one["xi0"]), np.asarray(one["targets"])
        ref = _numpy_loop(xi0, eta[np.arange(400) % 4], betas[i], taus[i])
        cos = np.einsum("tij,ij->ti", ref, eta) / (
            np.linalg.norm(ref, axis=2) * np.linalg.norm(eta, axis=1))
        np.testing.assert_allclose(np.asarray(one["similarity"]), cos, atol=2e-5)


def test_stream_orders():
    pats = np.arange(12.0).reshape(3, 4)
    v, lab = sm.make_stream(jax.random.key(0), pats, 7)
    np.testing.assert_array_equal(np.asarray(lab), [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(np.asarray(v), pats[[0, 1, 2, 0, 1, 2, 0]])
    _, lab = sm.make_stream(jax.random.key(0), pats, 7, order="blocks", block_length=2)
    np.testing.assert_array_equal(np.asarray(lab), [0, 0, 1, 1, 2, 2, 0])
    _, lab = sm.make_stream(jax.random.key(0), pats, 3000, order="random")
    assert np.allclose(np.asarray(sm.win_fractions(lab, 3)), 1 / 3, atol=0.04)


@pytest.mark.parametrize(
    "kwargs, err, words",
    [
        (dict(xi0=np.full((2, 3), np.nan)), ValidationError, "xi0"),
        (dict(xi0=np.ones(3)), ShapeError, "xi0"),
        (dict(v=np.ones((5, 4))), ShapeError, "v"),
        (dict(v=np.ones((0, 3))), ShapeError, "T >= 1"),
        (dict(v=np.array([[1.0, np.inf, 0.0]])), ValidationError, "v"),
        (dict(bias=np.ones((3, 3))), ShapeError, "bias"),
        (dict(bias=np.array([np.nan, 0.0, 0.0])), ValidationError, "bias"),
        (dict(beta=-1.0), ValidationError, "beta"),
        (dict(dt=2.0, tau=2.0), ValidationError, "dt"),
        (dict(tau=0.0), ValidationError, "tau"),
    ],
)
def test_simulate_bad_input(kwargs, err, words):
    args = dict(xi0=np.ones((2, 3)), v=np.ones((5, 3)), beta=1.0, tau=5.0, dt=1.0,
                bias=None)
    args.update(kwargs)
    xi0, v = args.pop("xi0"), args.pop("v")
    with pytest.raises(err, match=words) as info:
        sm.simulate(xi0, v, **args)
    assert isinstance(info.value, EngramlabError)


def test_theory_and_appendix_bad_input():
    with pytest.raises(ShapeError, match="targets"):
        sm.theory_similarity(np.ones((2, 3)), np.ones((3, 3)), n_steps=5, tau=5)
    with pytest.raises(ValidationError, match="n_steps"):
        sm.theory_similarity(np.ones((2, 3)), np.ones((2, 3)), n_steps=0, tau=5)
    with pytest.raises(ValidationError, match="labels"):
        sm.theory_similarity(np.ones((2, 3)), np.ones((2, 3)), n_steps=2, tau=5,
                             labels=[0, 2])
    with pytest.raises(ValidationError, match="dt"):
        sm.run_appendix(jax.random.key(0), tau=0.5)
    with pytest.raises(ShapeError, match="beta"):
        sm.run_appendix(jax.random.key(0), n_seeds=2, beta=[1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="n_h"):
        sm.orthogonal_memories(jax.random.key(0), 5, 3)

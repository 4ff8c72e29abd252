"""Factored (low-rank + diagonal) weights: the same network as the dense matrix.

References are independent NumPy transcriptions: the imprint formula
``W = sum_p gamma s(E_p) xi_p xi_p^T`` (diagonal zeroed or kept) and the Euler loop
``r <- r + dt/tau (-r + tanh(g (W r + I)))``, in float64.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engramlab.attractor import AttractorNetwork, LowRankWeights, recall, simulate
from engramlab.errors import ShapeError, ValidationError

SAL = {
    "exp": lambda e, b: np.exp(b * e),
    "linear": lambda e, b: 1.0 + b * e,
    "seed": lambda e, b: np.exp(-b * e),
}


def _np_weights(n, imprints):
    """NumPy imprint formula, applied imprint by imprint."""
    w = np.zeros((n, n))
    for xi, s, gamma, zero_diag in imprints:
        w = w + gamma * np.einsum("p,pi,pj->ij", s, xi, xi)
        if zero_diag:
            np.fill_diagonal(w, 0.0)
    return w


def _np_euler(w, r0, tau, dt, gain, steps, drive=0.0):
    r = np.array(r0, dtype=np.float64)
    for _ in range(steps):
        r = r + dt / tau * (-r + np.tanh(gain * (r @ w.T + drive)))
    return r


def _patterns(rng, p, n):
    return np.sign(rng.standard_normal((p, n)))


@pytest.mark.parametrize("p", [1, 4, 12, 30])
@pytest.mark.parametrize("kind", ["exp", "linear", "seed"])
@pytest.mark.parametrize("zero_diag", [True, False])
def test_factored_recall_matches_dense_and_numpy(rng, p, kind, zero_diag):
    n, b, beta, gamma = 48, 6, 0.7, 1.0 / 48
    xi = _patterns(rng, p, n)
    emo = rng.uniform(0, 1.5, p)
    net = AttractorNetwork.zeros(n, tau=10.0, dt=1.0, gain=1.5).imprint(
        xi, emo, gamma=gamma, beta=beta, salience_fn=kind, zero_diagonal=zero_diag)
    assert net.is_factored and net.factors.n_patterns == p
    # the factored product is used when 2 P <= N, the dense matrix otherwise
    assert isinstance(net._operator(), LowRankWeights) == (2 * p <= n)
    w_np = _np_weights(n, [(xi, SAL[kind](emo, beta), gamma, zero_diag)])
    np.testing.assert_allclose(np.asarray(net.weights), w_np, atol=1e-6)
    if zero_diag:
        assert np.all(np.diag(np.asarray(net.weights)) == 0.0)
    dense = net.to_dense()
    assert not dense.is_factored
    cues = xi[rng.integers(0, p, b)] * 0.6 + 0.4 * rng.standard_normal((b, n))
    u = rng.standard_normal(n) * 0.3
    for kw, drv in [(dict(), 0.0), (dict(drive=u, alpha=0.5), 0.5 * u)]:
        got = np.asarray(recall(net, cues, n_steps=40, **kw))
        np.testing.assert_allclose(got, np.asarray(recall(dense, cues, n_steps=40, **kw)),
                                   atol=1e-5)
        np.testing.assert_allclose(got, _np_euler(w_np, cues, 10.0, 1.0, 1.5, 40, drv),
                                   atol=2e-5)


def test_factored_simulate_energy_and_adaptive_solver(rng):
    n, p = 60, 5
    xi = _patterns(rng, p, n)
    net = AttractorNetwork.zeros(n, tau=8.0, dt=0.5, gain=2.0).imprint(
        xi, np.linspace(0, 1, p), gamma=1.0 / n, salience_fn=lambda e, b: 1.0 + e * e)
    dense = net.to_dense()
    cues = 0.5 * xi[:3] + 0.5 * rng.standard_normal((3, n))
    u = rng.standard_normal((3, n))
    tf = simulate(net, cues, n_steps=30, save_every=5, drive=u,
                  alpha=lambda t: jnp.sin(t / 4.0))
    td = simulate(dense, cues, n_steps=30, save_every=5, drive=u,
                  alpha=lambda t: jnp.sin(t / 4.0))
    np.testing.assert_allclose(np.asarray(tf.times), np.asarray(td.times))
    np.testing.assert_allclose(np.asarray(tf.states), np.asarray(td.states), atol=1e-5)
    a = recall(net, cues, n_steps=20, solver="tsit5")
    np.testing.assert_allclose(np.asarray(a), np.asarray(recall(dense, cues, n_steps=20,
                                                                solver="tsit5")), atol=1e-5)
    # energy -1/2 r^T W r against NumPy with the dense formula
    w_np = _np_weights(n, [(xi, 1.0 + np.linspace(0, 1, p) ** 2, 1.0 / n, True)])
    states = rng.standard_normal((4, 7, n))
    want = -0.5 * np.einsum("...i,ij,...j->...", states, w_np, states)
    np.testing.assert_allclose(np.asarray(net.energy(states)), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dense.energy(states)), want, rtol=1e-5, atol=1e-5)


def test_repeated_imprints_concatenate_and_match_formula(rng):
    n = 30
    x1, x2, x3 = _patterns(rng, 2, n), _patterns(rng, 3, n), _patterns(rng, 1, n)
    net = (AttractorNetwork.zeros(n)
           .imprint(x1, [0.5, 1.0], gamma=0.1, beta=1.0)
           .imprint(x2, 0.2, gamma=0.05, beta=2.0, salience_fn="linear", zero_diagonal=False)
           .imprint(x3[0], 1.0, gamma=0.2, beta=0.5, salience_fn="seed", zero_diagonal=False))
    assert net.factors.n_patterns == 6
    np.testing.assert_array_equal(np.asarray(net.factors.patterns),
                                  np.concatenate([x1, x2, x3]))
    want = _np_weights(n, [(x1, np.exp([0.5, 1.0]), 0.1, True),
                           (x2, np.full(3, 1.4), 0.05, False),
                           (x3, np.exp([-0.5]), 0.2, False)])
    np.testing.assert_allclose(np.asarray(net.weights), want, atol=1e-6)
    # zeroing again after a diagonal-keeping imprint gives W_ii = 0 exactly
    net2 = net.imprint(x1[0], gamma=0.1)
    assert np.all(np.diag(np.asarray(net2.weights)) == 0.0)


def test_dense_networks_stay_dense_and_zero_dense_becomes_factored(rng):
    n = 20
    xi = _patterns(rng, 2, n)
    w0 = rng.standard_normal((n, n)) * 0.1
    net = AttractorNetwork(w0).imprint(xi, gamma=0.1)
    assert not net.is_factored
    want = w0 + 0.1 * xi.T @ xi
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(np.asarray(net.weights), want, atol=1e-6)
    z = AttractorNetwork(np.zeros((n, n))).imprint(xi, gamma=0.1)
    assert z.is_factored
    np.testing.assert_allclose(np.asarray(z.weights), np.asarray(net.weights - w0
                                                                 + np.diag(np.diag(w0))),
                               atol=1e-6)
    # an empty factored network is W = 0: pure exponential decay
    e = AttractorNetwork.zeros(n, tau=5.0)
    np.testing.assert_array_equal(np.asarray(e.weights), np.zeros((n, n)))
    r0 = rng.standard_normal(n)
    np.testing.assert_allclose(np.asarray(recall(e, r0, n_steps=10)), r0 * 0.8 ** 10,
                               rtol=1e-5)


def test_jit_and_vmap_over_factored_networks(rng):
    n, p = 40, 3
    xi = _patterns(rng, p, n)
    net = AttractorNetwork.zeros(n, tau=10.0).imprint(xi, gamma=1.0 / n)
    cues = 0.5 * xi + 0.5 * rng.standard_normal((p, n))
    ref = np.asarray(recall(net.to_dense(), cues, n_steps=30))
    got = eqx.filter_jit(lambda m, c: recall(m, c, n_steps=30))(net, jnp.asarray(cues))
    np.testing.assert_allclose(np.asarray(got), ref, atol=1e-5)
    # vmap over per-network strengths (one network per scale), and over single cues
    scales = jnp.asarray([0.5, 1.0, 2.0])
    f = net.factors

    def run(scale):
        m = net.replace_weights(LowRankWeights(f.patterns, f.strengths * scale,
                                               f.diagonal * scale))
        return recall(m, cues, n_steps=30)

    out = np.asarray(jax.vmap(run)(scales))
    for k, sc in enumerate([0.5, 1.0, 2.0]):
        w = _np_weights(n, [(xi, np.full(p, sc), 1.0 / n, True)])
        np.testing.assert_allclose(out[k], _np_euler(w, cues, 10.0, 1.0, 1.0, 30), atol=2e-5)
    per_cue = jax.vmap(lambda c: recall(net, c, n_steps=30))(jnp.asarray(cues))
    np.testing.assert_allclose(np.asarray(per_cue), ref, atol=1e-5)


def test_bad_factors_are_rejected(rng):
    n = 10
    u = jnp.ones((2, n))
    with pytest.raises(ShapeError, match="strengths"):
        AttractorNetwork(LowRankWeights(u, jnp.ones(3), jnp.zeros(n)))
    with pytest.raises(ShapeError, match="diagonal"):
        AttractorNetwork(LowRankWeights(u, jnp.ones(2), jnp.zeros(n + 1)))
    with pytest.raises(ValidationError, match="patterns"):
        AttractorNetwork(LowRankWeights(u.at[0, 0].set(jnp.nan), jnp.ones(2), jnp.zeros(n)))
    net = AttractorNetwork.zeros(n)
    with pytest.raises(ShapeError, match="patterns"):
        net.imprint(np.ones(n + 1))
    with pytest.raises(ShapeError, match="emotions"):
        net.imprint(np.ones((2, n)), [1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="beta"):
        net.imprint(np.ones(n), 1000.0, beta=10.0)
    with pytest.raises(ShapeError, match="cues"):
        recall(net.imprint(np.ones(n)), np.ones(n + 2))

"""Attractor-network core: dynamics vs closed forms / NumPy loops, imprinting, bad input."""

from __future__ import annotations

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

from engramlab.attractor import AttractorNetwork, imprint, recall, salience, simulate
from engramlab.errors import (
    DivergenceError,
    ShapeError,
    StabilityWarning,
    ValidationError,
)


def _numpy_euler(w, r0, tau, dt, gain, steps, drive=lambda t: 0.0):
    r = np.array(r0, dtype=np.float64)
    for k in range(steps):
        t = k * dt
        r = r + dt / tau * (-r + np.tanh(gain * (r @ w.T + drive(t))))
    return r


def test_euler_matches_numpy_loop_with_drives(rng):
    n, b = 30, 5
    w = rng.standard_normal((n, n)) / np.sqrt(n)
    r0 = rng.standard_normal((b, n))
    u = rng.standard_normal(n)
    net = AttractorNetwork(w, tau=12.0, dt=0.7, gain=1.3)
    cases = [
        (dict(), lambda t: 0.0),
        (dict(drive=u), lambda t: u),
        (dict(drive=u, alpha=0.5), lambda t: 0.5 * u),
        (dict(drive=u, alpha=lambda t: jnp.sin(t / 5.0)), lambda t: np.sin(t / 5.0) * u),
        (dict(drive=lambda t, a: a * jnp.cos(t) * jnp.asarray(u), alpha=2.0),
         lambda t: 2.0 * np.cos(t) * u),
    ]
    for kwargs, ref_drive in cases:
        got = np.asarray(recall(net, r0, n_steps=40, **kwargs))
        want = _numpy_euler(w, r0, 12.0, 0.7, 1.3, 40, ref_drive)
        np.testing.assert_allclose(got, want, atol=2e-5)


def test_linear_dynamics_match_matrix_exponential(rng):
    # f = identity: tau dr/dt = (W - 1) r, so r(t) = expm((W - 1) t / tau) r0 exactly
    n = 12
    a = rng.standard_normal((n, n)) / np.sqrt(n) * 0.5
    w = (a + a.T) / 2
    r0 = rng.standard_normal(n)
    tau, dt, steps = 10.0, 0.5, 40
    net = AttractorNetwork(w, tau=tau, dt=dt, activation=lambda x: x)
    exact = scipy.linalg.expm((w - np.eye(n)) * steps * dt / tau) @ r0
    got = np.asarray(recall(net, r0, n_steps=steps, solver="tsit5"))
    np.testing.assert_allclose(got, exact, atol=1e-5)
    # Euler's own closed form: r_k = (1 + dt/tau (W - 1))^k r0
    euler = np.linalg.matrix_power(np.eye(n) + dt / tau * (w - np.eye(n)), steps) @ r0
    np.testing.assert_allclose(np.asarray(recall(net, r0, n_steps=steps)), euler, atol=1e-5)
    # and Euler's global error is O(dt): it differs from the exact solution
    assert np.abs(euler - exact).max() > 1e-4


def test_decay_without_weights_is_exponential():
    net = AttractorNetwork.zeros(5, tau=20.0, dt=1.0)
    r0 = np.linspace(-1, 1, 5)
    tr = simulate(net, r0, n_steps=60, save_every=20, solver="dopri5")
    np.testing.assert_allclose(np.asarray(tr.times), [0, 20, 40, 60])
    want = np.exp(-np.asarray(tr.times) / 20.0)[:, None] * r0
    np.testing.assert_allclose(np.asarray(tr.states), want, atol=1e-6)


def test_single_pattern_fixed_point_matches_mean_field(rng):
    # W = gamma s xi xi^T (zero diagonal): r = m xi with m = tanh(g gamma s (N-1) m)
    n, gamma, beta, e = 80, 1.0 / 80, 0.5, 1.0
    xi = np.sign(rng.standard_normal(n))
    net = AttractorNetwork.zeros(n, tau=5.0, dt=0.5, gain=1.5).imprint(
        xi, e, gamma=gamma, beta=beta)
    c = 1.5 * gamma * np.exp(beta * e) * (n - 1)
    m_star = scipy.optimize.brentq(lambda m: m - np.tanh(c * m), 1e-3, 1.0)
    final = np.asarray(recall(net, 0.3 * xi, n_steps=400))
    np.testing.assert_allclose(final, m_star * xi, atol=1e-5)


def test_trajectory_consistent_with_recall(rng):
    n = 20
    net = AttractorNetwork(rng.standard_normal((n, n)) / n, tau=10.0, dt=1.0)
    cues = rng.standard_normal((3, n))
    tr = simulate(net, cues, n_steps=30, save_every=10)
    assert tr.states.shape == (4, 3, n)
    np.testing.assert_allclose(np.asarray(tr.states[0]), cues, atol=1e-7)
    np.testing.assert_allclose(np.asarray(tr.states[-1]),
                               np.asarray(recall(net, cues, n_steps=30)), atol=1e-6)
    # batch == one cue at a time
    single = np.stack([np.asarray(recall(net, c, n_steps=30)) for c in cues])
    np.testing.assert_allclose(np.asarray(recall(net, cues, n_steps=30)), single, atol=1e-6)


def test_imprint_closed_form_and_salience_forms(rng):
    n, p = 15, 4
    pats = rng.standard_normal((p, n))
    emo = np.array([0.0, 0.5, 1.0, 2.0])
    w0 = rng.standard_normal((n, n)) * 0.1
    forms = {
        "seed": np.exp(-1.3 * emo),
        "exp": np.exp(1.3 * emo),
        "linear": 1 + 1.3 * emo,
    }
    for kind, s in forms.items():
        np.testing.assert_allclose(np.asarray(salience(emo, 1.3, kind)), s, rtol=1e-6)
        got = np.asarray(imprint(w0, pats, emo, gamma=0.05, beta=1.3, salience_fn=kind))
        want = w0 + 0.05 * np.einsum("p,pi,pj->ij", s, pats, pats)
        np.fill_diagonal(want, 0.0)
        np.testing.assert_allclose(got, want, atol=1e-5)
    custom = np.asarray(imprint(np.zeros((n, n)), pats[0], 2.0, beta=0.5,
                                salience_fn=lambda e, b: 1 / (1 + b * e)))
    np.testing.assert_allclose(custom, (np.outer(pats[0], pats[0]) * 0.5)
                               * (1 - np.eye(n)), atol=1e-6)
    keep = np.asarray(imprint(np.zeros((n, n)), pats[0], zero_diagonal=False))
    np.testing.assert_allclose(np.diag(keep), pats[0] ** 2, rtol=1e-6)
    # default salience is emotion-enhancing
    assert float(salience(2.0)) > float(salience(0.0))
    w = AttractorNetwork.zeros(n).imprint(pats, emo).weights
    assert np.allclose(np.asarray(w), np.asarray(w).T)


def test_bad_input_errors(rng):
    net = AttractorNetwork.zeros(10)
    with pytest.raises(ShapeError, match="cues"):
        recall(net, np.ones(9))
    with pytest.raises(ValidationError, match="cues"):
        recall(net, np.array([np.nan] + [0.0] * 9))
    with pytest.raises(ValidationError, match="weights"):
        AttractorNetwork(np.full((3, 3), np.inf))
    with pytest.raises(ShapeError, match="weights"):
        AttractorNetwork(np.zeros((3, 4)))
    with pytest.raises(ValidationError, match="tau"):
        AttractorNetwork.zeros(3, tau=0.0)
    with pytest.raises(ValidationError, match="tau"):
        AttractorNetwork.zeros(3, tau=-1.0)
    with pytest.warns(StabilityWarning, match="dt"):
        AttractorNetwork.zeros(3, tau=1.0, dt=1.0)
    with pytest.raises(ShapeError, match="emotions"):
        imprint(np.zeros((10, 10)), rng.standard_normal((3, 10)), [1.0, 2.0])
    with pytest.raises(ShapeError, match="patterns"):
        imprint(np.zeros((10, 10)), rng.standard_normal((3, 9)), 1.0)
    with pytest.raises(ValidationError, match="patterns"):
        imprint(np.zeros((10, 10)), np.full(10, np.nan), 1.0)
    with pytest.raises(ValidationError, match="salience"):
        imprint(np.zeros((10, 10)), np.ones(10), 1.0, salience_fn="fear")
    with pytest.raises(ValidationError, match="n_steps"):
        recall(net, np.ones(10), n_steps=-1)
    with pytest.raises(ValidationError, match="solver"):
        recall(net, np.ones(10), solver="rk4")
    with pytest.raises(ShapeError, match="drive"):
        recall(net, np.ones(10), drive=np.ones(3))
    with pytest.raises(ValidationError, match="alpha"):
        recall(net, np.ones(10), alpha=1.0)


def test_divergence_is_reported():
    net = AttractorNetwork(100.0 * np.eye(4), tau=10.0, dt=1.0, activation=lambda x: x)
    with pytest.raises(DivergenceError, match="diverged"):
        recall(net, np.ones(4), n_steps=200)


def test_package_import_does_not_import_jax():
    code = ("import sys, engramlab.attractor, engramlab.attractor.cli; "
            "assert 'jax' not in sys.modules, 'jax imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_recall_under_jit_and_vmap_over_networks(rng):
    import jax

    n = 16
    ws = rng.standard_normal((3, n, n)) / n
    cues = rng.standard_normal((4, n))
    f = jax.jit(jax.vmap(lambda w: recall(AttractorNetwork(w, tau=5.0), cues, n_steps=20)))
    got = np.asarray(f(jnp.asarray(ws, jnp.float32)))
    want = np.stack([_numpy_euler(w, cues, 5.0, 1.0, 1.0, 20) for w in ws])
    np.testing.assert_allclose(got, want, atol=2e-5)

"""The ``attractor.capacity`` sweep model (built on engramlab.attractor's public
``AttractorNetwork``, ``recall`` and ``salience``): a closed form for one pattern, a
NumPy transcription of the Euler dynamics, and the shipped example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from typer.testing import CliRunner

from engramlab.cli import app
from engramlab.errors import ConfigError
from engramlab.experiments.config import get_model, parse_config, resolve
from engramlab.experiments.store import open_results

SPEC = get_model("attractor.capacity")
EXAMPLE = Path(__file__).parents[1] / "examples" / "attractor_capacity.toml"


def _batch(seeds, **over):
    seeds = np.asarray(seeds, np.int64)
    base = SPEC.params().model_dump()
    base.update(over)
    return {k: np.broadcast_to(np.asarray(v), seeds.shape).copy() for k, v in base.items()}


def test_single_pattern_converges_to_the_mean_field_fixed_point():
    """P = 1: r* = m xi with m = tanh(g s m (N-1)/N), s = exp(beta E) (exact)."""
    n, gain = 40, 1.5
    emotions = np.array([0.0, 0.3, -0.2])
    params = _batch(np.arange(3), n_neurons=n, n_patterns=1, gain=gain, flip=0.2,
                    n_steps=400, beta=1.0)
    params["emotion"] = emotions
    out = SPEC.evaluate(params, np.arange(3, dtype=np.int64))
    for e, m in zip(emotions, out["overlap_emotional"], strict=True):
        k = gain * np.exp(e) * (n - 1) / n
        m_star = brentq(lambda x, k=k: x - np.tanh(k * x), 1e-6, 1.0)
        np.testing.assert_allclose(m, m_star, rtol=1e-4)
    assert np.all(np.isnan(out["overlap_neutral"]))


def _numpy_reference(seed, n, p, flip, emotion, beta, gain, threshold, n_steps, tau, dt):
    import jax

    from engramlab.experiments._random import rademacher_bank as _rademacher_bank
    from engramlab.experiments._random import uniform_bank as _uniform_bank

    kx, kf = jax.random.split(jax.random.key(seed))
    xi = np.asarray(_rademacher_bank(kx, p, n), np.float64)
    flips = np.asarray(_uniform_bank(kf, p, n, np.float32)) < flip
    s = np.ones(p)
    s[0] = np.exp(beta * emotion)
    w = sum(s[k] * np.outer(xi[k], xi[k]) for k in range(p)) / n
    np.fill_diagonal(w, 0.0)
    r = np.where(flips, -xi, xi)
    for _ in range(n_steps):
        r = r + dt / tau * (-r + np.tanh(gain * r @ w.T))
    m = np.sum(r * xi, axis=1) / n
    return {"success": np.mean(m > threshold), "overlap_emotional": m[0],
            "overlap_neutral": m[1:].mean(), "mean_overlap": m.mean()}


def test_matches_numpy_euler_transcription():
    pts = [dict(n_neurons=24, n_patterns=3, flip=0.15, emotion=0.5, gain=3.0),
           dict(n_neurons=32, n_patterns=6, flip=0.25, emotion=-0.5, gain=3.0),
           dict(n_neurons=20, n_patterns=5, flip=0.1, emotion=0.0, gain=8.0)]
    seeds = np.array([3, 4, 5])
    params = {k: np.array([p.get(k, v) for p in pts]) for k, v in
              SPEC.params().model_dump().items()}
    params["n_steps"] = np.full(3, 30)
    out = SPEC.evaluate(params, seeds)  # two static groups (gain 3 and 8)
    for i, p in enumerate(pts):
        full = {**SPEC.params().model_dump(), **p, "n_steps": 30}
        ref = _numpy_reference(int(seeds[i]), full["n_neurons"], full["n_patterns"],
                               full["flip"], full["emotion"], full["beta"], full["gain"],
                               full["threshold"], full["n_steps"], full["tau"], full["dt"])
        for k, v in ref.items():
            np.testing.assert_allclose(out[k][i], v, atol=2e-4, err_msg=f"{k} point {i}")


def test_unstable_euler_step_is_a_config_error():
    cfg = parse_config({"name": "x", "model": "attractor.capacity",
                        "params": {"tau": 1.0}, "grid": {"dt": [0.5, 2.0]}})
    with pytest.raises(ConfigError, match=r"grid.dt\[1\].*dt must be < tau"):
        resolve(cfg)


def test_example_runs_and_salience_protects_the_emotional_pattern(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(EXAMPLE), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    ds = open_results(out)
    assert ds["success"].dims == ("n_patterns", "emotion", "seed")
    m = ds.mean("seed")
    # below the Hopfield capacity (P/N = 0.04) everything is retrieved ...
    assert float(m["success"].sel(n_patterns=4, emotion=0.0)) == 1.0
    # ... far above it (P/N = 0.3) neutral retrieval has collapsed, while the salient
    # pattern (s = e) is still retrieved better than a neutral one
    assert float(m["overlap_neutral"].sel(n_patterns=30, emotion=1.0)) < 0.9
    assert float(m["overlap_emotional"].sel(n_patterns=30, emotion=1.0)) > float(
        m["overlap_emotional"].sel(n_patterns=30, emotion=0.0))
    assert (out / "report.html").exists()

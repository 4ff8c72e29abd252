"""The ``softmax.appendix`` sweep model: equals engramlab.softmax.run_appendix for the
same key, and the shipped example's simulations follow the closed form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engramlab.cli import app
from engramlab.errors import ConfigError
from engramlab.experiments.config import get_model, parse_config, resolve
from engramlab.experiments.store import open_results

SPEC = get_model("softmax.appendix")
EXAMPLE = Path(__file__).parents[1] / "examples" / "softmax_appendix.toml"


def test_points_equal_run_appendix_with_the_same_key():
    import jax

    from engramlab.softmax import run_appendix

    base = SPEC.params().model_dump() | {"n_steps": 300, "n_v": 20, "n_h": 3}
    pts = [dict(beta=2.0, tau=60.0, noise=0.4), dict(beta=0.5, tau=30.0, noise=0.8),
           dict(beta=2.0, tau=60.0, noise=0.4, dt=0.5)]  # two dt groups
    params = {k: np.array([p.get(k, v) for p in pts]) for k, v in base.items()}
    seeds = np.array([7, 8, 9])
    out = SPEC.evaluate(params, seeds)
    for i, p in enumerate(pts):
        full = base | p
        ref = run_appendix(jax.random.key(int(seeds[i])), beta=full["beta"], tau=full["tau"],
                           noise=full["noise"], dt=full["dt"], n_v=20, n_h=3, n_steps=300)
        np.testing.assert_allclose(out["similarity_final"][i],
                                   ref["similarity"][-1].mean(), rtol=1e-6)
        np.testing.assert_allclose(out["theory_final"][i], ref["theory"][-1].mean(),
                                   rtol=1e-6)
        np.testing.assert_allclose(out["max_abs_error"][i],
                                   np.abs(ref["similarity"] - ref["theory"]).max(),
                                   rtol=1e-5, atol=1e-7)


def test_invalid_combinations_are_config_errors():
    cfg = parse_config({"name": "x", "model": "softmax.appendix",
                        "params": {"n_v": 3}, "grid": {"n_h": [2, 4]}})
    with pytest.raises(ConfigError, match=r"grid.n_h\[1\].*n_h must be <= n_v"):
        resolve(cfg)


def test_example_follows_the_closed_form(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(EXAMPLE), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    ds = open_results(out)
    assert ds["similarity_final"].dims == ("tau", "noise", "seed")
    # the closed form is the continuous-time limit of the Euler dynamics: the largest
    # deviation over time is first order in dt / tau (err * tau constant within 10 %)
    err_tau = (ds["max_abs_error"].max("seed") * ds["tau"]).transpose("noise", "tau").values
    spread = err_tau.max(axis=1) / err_tau.min(axis=1)
    assert np.all(spread < 1.1), err_tau
    assert float(ds["max_abs_error"].sel(tau=500.0).max()) < 2e-3
    # slower synapses (larger tau) have relaxed less by T: similarity decreases with tau
    m = ds["similarity_final"].mean("seed").sel(noise=0.8).values
    assert np.all(np.diff(m) < 0)

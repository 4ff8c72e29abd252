"""Shared mechanisms: validation, the Euler integrator, atomic writes, reports."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from engramlab._integrate import ensure_finite, euler_scan
from engramlab._io import atomic_path, write_json
from engramlab._validation import (
    as_array,
    check_choice,
    check_int,
    check_positive,
    check_range,
)
from engramlab.errors import DivergenceError, EngramlabError, ShapeError, ValidationError


# --- validation ----------------------------------------------------------------------
def test_as_array_accepts_lists_and_checks_shape():
    a = as_array([[1, 2], [3, 4]], "W", shape=(2, None))
    assert a.dtype == np.float32 and a.shape == (2, 2)
    with pytest.raises(ShapeError, match=r"W: expected shape \(3, any\), got array of shape"):
        as_array(np.zeros((2, 2)), "W", shape=(3, None))
    with pytest.raises(ShapeError, match="cue: expected 1-D array"):
        as_array(np.zeros((2, 2)), "cue", ndim=1)


def test_as_array_reports_nan_and_inf_positions():
    x = np.array([0.0, np.nan, 1.0, np.inf])
    with pytest.raises(ValidationError) as info:
        as_array(x, "pattern")
    msg = str(info.value)
    assert "pattern" in msg and "1 NaN and 1 inf" in msg and "(1,)" in msg


def test_as_array_rejects_ragged_strings_complex_empty():
    with pytest.raises(ValidationError, match="x: expected numbers"):
        as_array(np.array(["a", "b"]), "x")
    with pytest.raises(ValidationError, match="complex"):
        as_array(np.array([1j]), "x")
    with pytest.raises(ShapeError, match="non-empty"):
        as_array(np.zeros((0,)), "x")
    with pytest.raises(ValidationError):
        as_array([[1, 2], [3]], "x")


def test_scalar_checks():
    assert check_positive(2, "tau") == 2.0
    for bad in (0, -1, float("nan"), float("inf"), "3", True):
        with pytest.raises(ValidationError, match="tau"):
            check_positive(bad, "tau")
    assert check_range(0.5, "p", 0, 1) == 0.5
    with pytest.raises(ValidationError, match=r"p: expected a value in \[0, 1\), got 1"):
        check_range(1.0, "p", 0, 1, hi_inclusive=False)
    assert check_int(np.int64(3), "n", min_value=1) == 3
    with pytest.raises(ValidationError, match="n: expected an integer >= 1, got 0"):
        check_int(0, "n", min_value=1)
    with pytest.raises(ValidationError, match="n: expected an integer"):
        check_int(2.5, "n")
    with pytest.raises(ValidationError, match="'seed', 'exp'"):
        check_choice("nope", "salience", ["seed", "exp"])


def test_all_errors_are_engramlab_errors():
    for exc in (ValidationError, ShapeError, DivergenceError):
        assert issubclass(exc, EngramlabError)


# --- integrator -----------------------------------------------------------------------
def test_euler_matches_closed_form_discrete_decay():
    # tau dy/dt = -y  ->  Euler: y_k = y0 (1 - dt/tau)^k exactly
    tau, dt, n = 10.0, 0.5, 40
    y_final, traj = euler_scan(lambda t, y, args, x: -y / args, jnp.array([1.0, -2.0]),
                               dt=dt, n_steps=n, args=tau)
    k = np.arange(n + 1)[:, None]
    expected = np.array([1.0, -2.0]) * (1 - dt / tau) ** k
    np.testing.assert_allclose(traj, expected, rtol=1e-5)
    np.testing.assert_allclose(y_final, expected[-1], rtol=1e-5)
    # and converges to the ODE solution exp(-t/tau) as dt -> 0
    _, fine = euler_scan(lambda t, y, a, x: -y / tau, jnp.array(1.0), dt=0.01, n_steps=2000,
                         save_every=None)
    assert fine is None
    y_fine, _ = euler_scan(lambda t, y, a, x: -y / tau, jnp.array(1.0), dt=0.01,
                           n_steps=2000, save_every=None)
    assert abs(float(y_fine) - math.exp(-2.0)) < 1e-3


def test_euler_inputs_time_and_subsampling():
    # dy/dt = x_t + t  with inputs x_t = k  -> y_n = dt * sum_k (k + k*dt)
    n, dt = 12, 0.25
    inputs = jnp.arange(n, dtype=jnp.float32)
    _, traj = euler_scan(lambda t, y, a, x: x + t, jnp.array(0.0), dt=dt, n_steps=n,
                         inputs=inputs, save_every=3)
    full = np.concatenate([[0.0], np.cumsum(dt * (np.arange(n) + np.arange(n) * dt))])
    np.testing.assert_allclose(traj, full[::3], rtol=1e-5)
    with pytest.raises(ValueError, match="save_every"):
        euler_scan(lambda t, y, a, x: y, jnp.array(0.0), dt=1.0, n_steps=10, save_every=3)


def test_ensure_finite_raises_divergence():
    ensure_finite({"a": jnp.ones(3)}, "run")
    with pytest.raises(DivergenceError, match="recall diverged: 1 of 3"):
        ensure_finite(jnp.array([1.0, jnp.inf, 2.0]), "recall")


# --- atomic IO ------------------------------------------------------------------------
def test_atomic_write_leaves_old_file_on_error(tmp_path):
    target = tmp_path / "r.json"
    write_json(target, {"a": np.float32(1.5), "b": np.arange(3)})
    assert target.read_text().count("1.5") == 1
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("interrupted")
    assert "partial" not in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp left behind

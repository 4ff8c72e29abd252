"""The built-in sweep model ``memory.capacity`` against a NumPy transcription and theory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from engramlab.errors import ValidationError
from engramlab.experiments.config import get_model
from engramlab.memory.sweeps import MEMORY_CAPACITY, memory_capacity_patterns

SPEC = MEMORY_CAPACITY


def _evaluate(n, p, lr, seeds):
    seeds = np.asarray(seeds, np.int64)
    b = seeds.size
    params = {"n_units": np.broadcast_to(np.asarray(n, np.int64), (b,)),
              "n_patterns": np.broadcast_to(np.asarray(p, np.int64), (b,)),
              "learning_rate": np.broadcast_to(np.asarray(lr, np.float64), (b,))}
    return SPEC.evaluate(params, seeds)


def _numpy_reference(seed, n, p, lr):
    """Independent transcription: M = lr sum_p outer(x_p, y_p); probe every x_q."""
    x, y = memory_capacity_patterns(seed, 16, 64)  # one compiled shape; prefixes (tested)
    x, y = x[:p, :n], y[:p, :n]
    x, y = x.astype(np.float64), y.astype(np.float64)
    m = lr * sum(np.outer(x[k], y[k]) for k in range(p))
    h = x @ m
    hn = h / (lr * n)
    agree = np.where(np.abs(hn) < 0.5 / n, 0.0, np.sign(hn)) * y  # exact ties: hn = +-1 + k/n
    return {"crosstalk_var": np.mean((hn - y) ** 2),
            "bit_error": np.mean((1 - agree) / 2),
            "perfect_recall": np.mean(np.all(agree > 0, axis=1)),
            "signal": np.mean(h * y)}


def test_registered_and_patterns_are_pm1():
    assert get_model("memory.capacity") is SPEC
    x, y = memory_capacity_patterns(3, 5, 40)
    assert x.shape == y.shape == (5, 40)
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert not np.array_equal(x, y)
    # common random numbers: a larger P or N extends the same patterns
    xb, yb = memory_capacity_patterns(3, 9, 70)
    np.testing.assert_array_equal(xb[:5, :40], x)
    np.testing.assert_array_equal(yb[:5, :40], y)


def test_matches_numpy_transcription():
    # points with different N, P, lr and seeds in one batch (padding to N=64, P=16)
    n = np.array([16, 37, 64, 20])
    p = np.array([5, 16, 9, 1])
    lr = np.array([0.3, 1.0, 2.5, 0.7])
    seeds = np.array([0, 1, 2, 3])
    out = _evaluate(n, p, lr, seeds)
    for i in range(4):
        ref = _numpy_reference(seeds[i], n[i], p[i], lr[i])
        for k, v in ref.items():
            np.testing.assert_allclose(out[k][i], v, rtol=2e-5, atol=1e-6, err_msg=k)


def test_single_pattern_is_recalled_perfectly():
    out = _evaluate(32, 1, 0.4, [0, 1, 2])
    np.testing.assert_allclose(out["crosstalk_var"], 0.0, atol=1e-12)
    np.testing.assert_array_equal(out["bit_error"], 0.0)
    np.testing.assert_array_equal(out["perfect_recall"], 1.0)
    np.testing.assert_allclose(out["signal"], 0.4 * 32, rtol=1e-6)


def test_crosstalk_variance_and_signal_match_theory():
    """E[c^2] = (P - 1)/N and E[signal] = gamma N exactly, for random +-1 patterns."""
    n, p, lr = 64, 17, 0.5
    seeds = np.arange(48)
    out = _evaluate(n, p, lr, seeds)
    th = SPEC.theory({"n_units": n, "n_patterns": p, "learning_rate": lr})
    for k in ("crosstalk_var", "signal"):
        v = out[k]
        se = v.std(ddof=1) / np.sqrt(v.size)
        assert abs(v.mean() - th[k]) < 4 * se, (k, v.mean(), th[k], se)
    assert th["crosstalk_var"] == pytest.approx(16 / 64)


def test_bit_error_matches_gaussian_theory():
    """Bit error -> Phi(-sqrt(N/(P-1))) (signal-to-noise analysis; Gaussian crosstalk).

    N=128, P=33: Phi(-2) = 0.02275. The Gaussian approximation is good to a few % here;
    we allow 4 standard errors of the seed mean plus 10 % of the value for it.
    """
    n, p, lr = 128, 33, 1.0
    out = _evaluate(n, p, lr, np.arange(24))
    v = out["bit_error"]
    th = float(ndtr(-2.0))
    se = v.std(ddof=1) / np.sqrt(v.size)
    assert abs(v.mean() - th) < 4 * se + 0.1 * th, (v.mean(), th, se)
    # and more load means more errors (monotone in P at fixed N, same patterns)
    pp = np.repeat([4, 16, 32], 8)
    errs = _evaluate(64, pp, 1.0, np.tile(np.arange(8), 3))["bit_error"].reshape(3, 8)
    assert errs.mean(1)[0] < errs.mean(1)[1] < errs.mean(1)[2]


def test_learning_rate_only_scales_the_signal():
    a = _evaluate(48, 12, 0.1, np.arange(4))
    b = _evaluate(48, 12, 3.0, np.arange(4))
    for k in ("crosstalk_var", "bit_error", "perfect_recall"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b["signal"] / a["signal"], 30.0, rtol=1e-5)


def test_result_of_a_point_does_not_depend_on_its_batch():
    alone = _evaluate(20, 6, 0.5, [7])
    mixed = SPEC.evaluate({"n_units": np.array([20, 500, 2]),
                           "n_patterns": np.array([6, 300, 1]),
                           "learning_rate": np.array([0.5, 0.5, 0.5])},
                          np.array([7, 7, 7]))
    for k in alone:
        np.testing.assert_allclose(mixed[k][0], alone[k][0], rtol=1e-5, atol=1e-7)


def test_bad_batch_values_raise():
    with pytest.raises(ValidationError, match="n_units"):
        _evaluate(5000, 3, 1.0, [0])
    with pytest.raises(ValidationError, match="learning_rate"):
        _evaluate(16, 3, -1.0, [0])

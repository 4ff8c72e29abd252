"""The default fit reaches the optimum (at least the true parameters' log-likelihood,
which a maximum-likelihood estimate can only exceed), for every registered variant and
both methods, or says why not.

Before: on 40 lists of 12 items simulated from the jaxcmr defaults the gradient fit
ended 3.96 log-likelihood units *below* the truth (seed 1) and eCMR's gradient fit
stopped at a screening point (a NaN gradient turned into a constant objective).
The full matrix (every variant x both methods x 3 seeds x 2 designs) is marked slow."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import pytest

import engramlab.cmr as cmr
from engramlab.errors import ConvergenceWarning, DivergenceError

VARIANTS = ["jaxcmr", "paper", "cymr", "ecmr", "cmr3", "ecmr-salience"]


def _truth(name: str, seed: int):
    """The class defaults (eCMR: emotion_scale 2) scaled by U(0.7, 1.3) for seed > 0
    (rates stay below 1)."""
    v = cmr.get_variant(name)
    p = v.params()
    if "emotion_scale" in v.names():
        p = p.replace(emotion_scale=2.0)
    if seed == 0:
        return p
    rng = np.random.default_rng(100 + seed)
    vals = {}
    for k in v.default_free():
        x = float(getattr(p, k)) * rng.uniform(0.7, 1.3)
        vals[k] = min(x, 0.95) if v.params.VALID[k][1] == 1.0 else x
    return p.replace(**vals)


def _data(name: str, seed: int, L: int, n: int, perturb: bool = True):
    v = cmr.get_variant(name)
    rng = np.random.default_rng(seed)
    feats = {}
    if "valence" in v.features:
        feats["valence"] = rng.choice([-1.0, 0.0, 1.0], size=(n, L))
    if "arousal" in v.features:
        feats["arousal"] = rng.uniform(0.0, 1.0, size=(n, L))
    truth = _truth(name, seed if perturb else 0)
    sim = cmr.simulate(truth, {"list_length": L, "n_lists": n, "features": feats},
                       key=seed, variant=v)
    return sim, truth


def _check(name: str, method: str, seed: int, L: int, n: int, perturb: bool = True) -> None:
    sim, truth = _data(name, seed, L, n, perturb)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        row = cmr.fit(sim, variant=name, method=method, seed=seed).iloc[0]
    ll_truth = cmr.log_likelihood(sim, truth, variant=name)
    assert row["converged"] and row["n_agree"] >= 2
    assert row["logl"] >= ll_truth - 1e-6, (
        f"{name}/{method}/seed {seed}/{n}x{L}: fit {row['logl']:.3f} below the truth "
        f"{ll_truth:.3f}")
    assert row["k"] == len(cmr.get_variant(name).default_free())


# in `make test`: the cases of the bug report where the previous fit missed (jaxcmr's
# gradient fit on 40 x 12 lists from the defaults, seed 1: 3.96 below the truth; eCMR's
# NaN gradient at emotion_drift_rate = 1: 2.9 below) and DE on a seed whose population
# settled on a uniform-choice plateau in a trial version; every other variant, seed and
# design is in the full matrix below (`pytest -m calibration`; results in the note)
FAST = [("jaxcmr", "gradient", 1, 12, 40, False), ("jaxcmr", "de", 1, 10, 24, True),
        ("ecmr", "gradient", 0, 10, 24, True)]


@pytest.mark.parametrize(("name", "method", "seed", "L", "n", "perturb"), FAST)
def test_default_fit_reaches_the_truths_log_likelihood(name, method, seed, L, n, perturb):
    _check(name, method, seed, L, n, perturb)


@pytest.mark.calibration
@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("method", ["gradient", "de"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("L", "n"), [(10, 24), (16, 24)])
def test_default_fit_reaches_the_truth_full_matrix(name, method, seed, L, n):
    _check(name, method, seed, L, n)


FREE2 = ["encoding_drift_rate", "recall_drift_rate"]


def test_flags_at_bound_and_flat():
    """A box that excludes the truth puts the estimate on its bound; a parameter with no
    effect (eCMR's emotion_scale when every item is neutral) is flat."""
    sim = cmr.simulate(cmr.JaxcmrParams(), {"list_length": 10, "n_lists": 24}, key=0)
    row = cmr.fit(sim, method="gradient", free={"encoding_drift_rate": (0.1, 0.3)}).iloc[0]
    assert row["at_bound"] == "encoding_drift_rate"
    assert row["encoding_drift_rate"] == pytest.approx(0.3, abs=3e-4)
    assert row["flat"] == ""
    row = cmr.fit(sim, method="gradient", free={"encoding_drift_rate": (0.1, 0.99)}).iloc[0]
    assert row["at_bound"] == "" and 0.3 < row["encoding_drift_rate"] < 0.99
    neutral = {"valence": np.zeros((24, 10))}
    sim = cmr.simulate(cmr.EcmrParams(), {"list_length": 10, "n_lists": 24,
                                          "features": neutral}, key=0, variant="ecmr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a flat direction may warn
        row = cmr.fit(sim, variant="ecmr", method="gradient").iloc[0]
    assert "emotion_scale" in row["flat"].split(",")


def test_profile_of_a_constrained_and_of_a_flat_parameter():
    sim = cmr.simulate(cmr.JaxcmrParams(), {"list_length": 10, "n_lists": 24}, key=0)
    free = FREE2
    est = cmr.fit(sim, method="gradient", free=free)
    prof = cmr.profile(sim, est, "encoding_drift_rate", free=free, n_points=7)
    x_hat = est.loc[0, "encoding_drift_rate"]
    assert prof.attrs["estimate"] == pytest.approx(x_hat)
    # the profile's maximum is the fit's log L (no grid point is better), and each
    # point maximises over the other parameter: never below the slice through the MLE
    assert prof["logl"].max() == pytest.approx(est.loc[0, "logl"], abs=1e-6)
    base = est.iloc[0][list(cmr.JaxcmrParams.names())].to_dict()
    for x, ll in zip(prof["encoding_drift_rate"], prof["logl"], strict=True):
        sl = cmr.log_likelihood(sim, {**base, "encoding_drift_rate": x})
        assert ll >= sl - 1e-6
    lo, hi = prof.attrs["ci95"]
    assert lo < x_hat < hi and not prof.attrs["flat"]
    from engramlab.plots.cmr import plot_profile

    ax = plot_profile(prof)
    assert ax.get_xlabel() == "encoding_drift_rate"


@dataclass(frozen=True)
class _NanGradStop(cmr.StopRule):
    """jaxcmr's stop plus ``sqrt(scale - scale) = 0``: the same values, a NaN gradient."""

    scale: str = "stop_probability_scale"
    growth: str = "stop_probability_growth"
    PARAMS = ("scale", "growth")

    def __call__(self, p, s):
        ps = p[self.scale] * jnp.exp(p[self.growth] * s.j) + jnp.sqrt(p[self.scale]
                                                                       - p[self.scale])
        ps = jnp.minimum(ps, 1.0 - cmr.LB * s.n_recallable)
        return jnp.where(s.n_recallable == 0, 1.0, ps)


def test_a_non_finite_gradient_is_a_divergence_error_not_a_silent_stop():
    v = cmr.register_variant(dataclasses.replace(cmr.get_variant("jaxcmr"),
                                                 name="nan-grad", stop=_NanGradStop(),
                                                 free=()), overwrite=True)
    sim = cmr.simulate(cmr.JaxcmrParams(), {"list_length": 6, "n_lists": 10}, key=0)
    with pytest.raises(DivergenceError, match=r"gradient with respect to "
                                              r"\['stop_probability_scale'\]"):
        cmr.fit(sim, variant=v, method="gradient",
                free=["stop_probability_scale", "encoding_drift_rate"], n_starts=2,
                max_rounds=1)

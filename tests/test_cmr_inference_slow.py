"""Slow calibration checks of ``engramlab.cmr.sample`` against theory.

- Coverage (simulation-based calibration): true parameters drawn from the sampler's own
  prior, data simulated from them, 90 % central credible intervals; by Bayes' theorem they
  contain the truth with probability exactly 0.9, so the count is Binomial(n, 0.9) and
  must fall inside its central 99 % range. All replications are sampled in one run of the
  no-pooling model (``subject_runs="joint"``), whose posterior factorises over
  replications.
- Concentration: with many lists the posterior median sits on the maximum-likelihood
  point (``fit(method="gradient")``), within a fraction of the posterior sd.

Run with ``pytest -m calibration`` (about 2 minutes on 2 cores, not part of ``make test``;
results quoted in docs/inference.md).
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import engramlab.cmr as cmr
from engramlab.errors import ConvergenceWarning

pytestmark = [pytest.mark.slow, pytest.mark.calibration]

BASE = cmr.JaxcmrParams(encoding_drift_rate=0.7, start_drift_rate=0.3,
                        recall_drift_rate=0.85, learning_rate=0.3, shared_support=0.05,
                        item_support=0.3, primacy_scale=2.0, primacy_decay=0.5,
                        choice_sensitivity=3.0, stop_probability_scale=0.05,
                        stop_probability_growth=0.3)
FREE = {"encoding_drift_rate": (0.3, 0.95), "choice_sensitivity": (0.5, 6.0),
        "stop_probability_scale": (0.01, 0.3)}
FIXED = {k: v for k, v in BASE.to_dict().items() if k not in FREE}


def coverage_study(n_rep: int = 30, n_lists: int = 12, list_length: int = 6,
                   draws: int = 250, seed: int = 0, interval: float = 0.9) -> dict:
    """Run the SBC coverage study; returns counts, rates and binomial bounds."""
    rng = np.random.default_rng(seed)
    names = list(FREE)
    lo = np.array([FREE[n][0] for n in names])
    hi = np.array([FREE[n][1] for n in names])
    z = rng.normal(0.0, 1.5, size=(n_rep, len(names)))       # the default prior
    truth = lo + (hi - lo) / (1 + np.exp(-z))
    frames = []
    for r in range(n_rep):
        p = BASE.replace(**dict(zip(names, truth[r].tolist(), strict=True)))
        sim = cmr.simulate(p, {"list_length": list_length, "n_lists": n_lists},
                           key=jax.random.key(10_000 + r))
        frames.append(sim.assign(subject=r + 1))
    data = pd.concat(frames, ignore_index=True)
    import warnings

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        idata = cmr.sample(data, key=jax.random.key(seed), hierarchical=False,
                           subject_runs="joint", free=FREE, fixed=FIXED, chains=2,
                           draws=draws, warmup=draws, quiet=True)
    q = (1 - interval) / 2
    inside = np.zeros((n_rep, len(names)), bool)
    for j, n in enumerate(names):
        v = idata.posterior[n].stack(s=("chain", "draw")).transpose("subject", "s").values
        a, b = np.quantile(v, q, axis=1), np.quantile(v, 1 - q, axis=1)
        inside[:, j] = (truth[:, j] >= a) & (truth[:, j] <= b)
    n = inside.size
    lo_b, hi_b = stats.binom.ppf([0.005, 0.995], n, interval) / n
    per = {nm: float(inside[:, j].mean()) for j, nm in enumerate(names)}
    lo_p, hi_p = stats.binom.ppf([0.005, 0.995], n_rep, interval) / n_rep
    return {"n": n, "rate": float(inside.mean()), "bounds99": (float(lo_b), float(hi_b)),
            "per_parameter": per, "per_parameter_bounds99": (float(lo_p), float(hi_p)),
            "max_r_hat": idata.sample_stats.attrs["max_r_hat"],
            "min_ess_bulk": idata.sample_stats.attrs["min_ess_bulk"],
            "n_divergent": idata.sample_stats.attrs["n_divergent"],
            "warnings": [str(x.message)[:200] for x in w]}


def concentration_study(n_lists: int = 300, list_length: int = 10, draws: int = 300) -> dict:
    """Posterior median vs the gradient MLE on a large simulated data set."""
    data = cmr.simulate(BASE, {"list_length": list_length, "n_lists": n_lists},
                        key=jax.random.key(7))
    mle = cmr.fit(data, method="gradient", free=FREE, fixed=FIXED, n_starts=2,
                  maxiter=100).iloc[0]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        idata = cmr.sample(data, key=jax.random.key(1), hierarchical=False, free=FREE,
                           fixed=FIXED, chains=2, draws=draws, warmup=draws, quiet=True)
    out = {}
    for n in FREE:
        v = idata.posterior[n].values.ravel()
        out[n] = {"mle": float(mle[n]), "median": float(np.median(v)),
                  "sd": float(v.std()), "truth": float(getattr(BASE, n)),
                  "z": float((np.median(v) - mle[n]) / v.std())}
    return out


def test_coverage_of_90_percent_intervals():
    res = coverage_study()
    print(res)
    lo, hi = res["bounds99"]
    assert lo <= res["rate"] <= hi, res
    plo, phi = res["per_parameter_bounds99"]
    for n, r in res["per_parameter"].items():
        assert plo <= r <= phi, (n, res)


def test_posterior_concentrates_on_mle():
    res = concentration_study()
    print(res)
    for n, r in res.items():
        assert abs(r["z"]) < 0.5, (n, r)            # within half a posterior sd
        assert r["sd"] < 0.15 * r["median"], (n, r)  # and the posterior is concentrated

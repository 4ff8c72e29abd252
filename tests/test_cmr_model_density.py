"""The sampler's model is the documented one: NumPyro's log density of the hierarchical
and per-subject CMR models equals a hand-written density from ``scipy.stats`` (the priors
of ``docs/inference.md`` and the bounded logit transform) plus the public
``cmr.log_likelihood`` of every subject's lists, at random points, in every
parameterisation, for the default and for non-default priors.

A 5x wider ``sigma`` prior, a prior on the wrong scale, a missing Jacobian or a likelihood
of the wrong subject all move the density by far more than the float64 tolerance."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

import engramlab.cmr as cmr
from engramlab.cmr.inference.model import make_model
from engramlab.cmr.inference.spec import as_priors, resolve_spec

L = 5
FREE = {"choice_sensitivity": (0.5, 8.0), "encoding_drift_rate": (0.2, 0.95),
        "primacy_scale": (0.5, 5.0)}
TRUE = cmr.JaxcmrParams(choice_sensitivity=3.0, encoding_drift_rate=0.7, primacy_scale=2.0)
FIXED = {k: v for k, v in TRUE.to_dict().items() if k not in FREE}
N_SUBJ = 3


@pytest.fixture(scope="module")
def setup():
    frames = [cmr.simulate(TRUE, {"list_length": L, "n_lists": 2 + s},
                           key=jax.random.key(7 + s)).assign(subject=s + 1)
              for s in range(N_SUBJ)]
    data = pd.concat(frames, ignore_index=True)
    spec = resolve_spec("jaxcmr", FREE, FIXED)
    ll = cmr.make_loglik(data)
    subjects = sorted(set(ll.subject.tolist()))
    subj_idx = np.array([subjects.index(s) for s in ll.subject], dtype=np.int32)
    return data, spec, ll, subj_idx


def _subject_loglik(data, names, z_s):
    """``sum_lists log L`` of one subject's lists at ``theta = lo + (hi - lo) sigmoid(z)``
    (``z_s`` in the order of ``names``), through the public API (not the sampler's
    vectorised path)."""
    params = dict(FIXED)
    for name, z in zip(names, z_s, strict=True):
        lo, hi = FREE[name]
        params[name] = lo + (hi - lo) * expit(z)
    return cmr.log_likelihood(data, cmr.JaxcmrParams(**params), variant="jaxcmr")


def _reference(data, names, pri, site, *, hierarchical, parameterization, w=None):
    """The documented density of ``site`` (constrained values), written with scipy."""
    loc, scale, s_scale = pri["mu_loc"], pri["mu_scale"], pri["sigma_scale"]
    if not hierarchical:
        z = site["z"]
        lp = stats.norm.logpdf(z, loc, scale).sum()
    else:
        mu, sigma = site["mu"], site["sigma"]
        lp = stats.norm.logpdf(mu, loc, scale).sum() + stats.halfnorm.logpdf(
            sigma, scale=s_scale).sum()
        if parameterization == "centered":
            z = site["z"]
            lp += stats.norm.logpdf(z, mu, sigma).sum()
        elif parameterization == "non-centered":
            eta = site["eta"]
            lp += stats.norm.logpdf(eta).sum()
            z = mu + sigma * eta
        else:  # partial: zt ~ Normal(w mu, sigma^w), z = mu + sigma^(1-w) (zt - w mu)
            zt = site["zt"]
            lp += stats.norm.logpdf(zt, w * mu, sigma ** w).sum()
            z = mu + sigma ** (1 - w) * (zt - w * mu)
    for s in range(N_SUBJ):
        lp += _subject_loglik(data[data.subject == s + 1], names, z[s])
    return lp


def _random_site(rng, hierarchical, parameterization, k):
    if not hierarchical:
        return {"z": rng.normal(0, 1.2, (N_SUBJ, k))}
    site = {"mu": rng.normal(0, 1, k), "sigma": rng.uniform(0.2, 1.5, k)}
    name = {"centered": "z", "non-centered": "eta", "partial": "zt"}[parameterization]
    site[name] = rng.normal(0, 1, (N_SUBJ, k))
    return site


CASES = [(False, "centered"), (True, "centered"), (True, "non-centered"), (True, "partial")]


@pytest.mark.parametrize("priors", [None, {"mu_loc": 0.5, "mu_scale": 0.8,
                                           "sigma_scale": 0.3}])
@pytest.mark.parametrize("hierarchical, parameterization", CASES)
def test_log_density_is_the_documented_model(setup, priors, hierarchical, parameterization):
    from numpyro.infer.util import log_density

    data, spec, ll, subj_idx = setup
    pri = as_priors(priors).resolve(spec.free)
    k = len(spec.free)
    rng = np.random.default_rng(hash((hierarchical, parameterization, priors is None)) % 2**32)
    w = rng.uniform(0, 1, (N_SUBJ, k))
    with jax.enable_x64(True):
        model = make_model(ll, spec, subj_idx, N_SUBJ, pri, hierarchical,
                                parameterization, weights=w)
        for _ in range(3):
            site = _random_site(rng, hierarchical, parameterization, k)
            got, _ = log_density(model, (), {}, {n: jax.numpy.asarray(v)
                                                 for n, v in site.items()})
            ref = _reference(data, spec.free, pri, site, hierarchical=hierarchical,
                             parameterization=parameterization, w=w)
            assert float(got) == pytest.approx(ref, rel=1e-12, abs=1e-9)


def test_the_default_priors_are_the_documented_ones(setup):
    """``Normal(0, 1.5)`` on ``mu`` (and on ``z`` without pooling), ``HalfNormal(1)`` on
    ``sigma`` (docs/inference.md)."""
    _, spec, _, _ = setup
    pri = as_priors(None).resolve(spec.free)
    assert np.array_equal(pri["mu_loc"], np.zeros(3))
    assert np.array_equal(pri["mu_scale"], np.full(3, 1.5))
    assert np.array_equal(pri["sigma_scale"], np.ones(3))

"""Finite gradients wherever the likelihood is finite, for every registered variant.

The fit (``method="gradient"``) and the samplers follow ``jax.grad`` of the
log-likelihood; a NaN there used to be turned into a constant objective with a zero
gradient and the fit stopped at its starting point (eCMR's and CMR3's fixed
``emotion_drift_rate = 1`` made ``sqrt(0)`` in the context rule's ``rho``)."""

from __future__ import annotations

import itertools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engramlab.cmr as cmr
from engramlab.cmr._variants import get_variant

L, N_LISTS = 5, 6


def _design(v, rng):
    feats = {}
    if "valence" in v.features:
        feats["valence"] = rng.choice([-1.0, 0.0, 1.0], size=(N_LISTS, L))
    if "arousal" in v.features:
        feats["arousal"] = rng.uniform(0.0, 1.0, size=(N_LISTS, L))
    if "condition" in v.features:  # jaxcmr's EEG fields: 1 emotional / 2 neutral, LPP µV
        feats["condition"] = rng.choice([1.0, 2.0], size=(N_LISTS, L))
    if "EarlyLPP" in v.features:
        feats["EarlyLPP"] = rng.normal(0.0, 3.0, size=(N_LISTS, L))
    return {"list_length": L, "n_lists": N_LISTS, "n_subjects": 1, "features": feats}


def _items(v, rng):
    """Item features for the design's pool of ``L`` items, for variants that read them:
    cosines of random patterns (some negative: clipped at jaxcmr's floor) and random
    categories (one category absent from some lists)."""
    if not v.item_keys():
        return None
    if "category_onehot" in v.item_keys():
        return cmr.ItemFeatures.from_categories(rng.choice(["a", "b", "c"], size=L))
    return cmr.ItemFeatures.from_vectors(rng.normal(size=(L, 3)))


def _points(v, rng, n):
    """``n`` parameter vectors: free parameters uniform in their fit bounds, a third of
    the coordinates at a bound exactly; every drift rate also at 0 and 1 (its valid
    range's ends), every switch combination."""
    cls = v.params
    names = list(v.names())
    flags = [f for f in cls.FLAGS if f in names]
    base = np.array([float(getattr(cls(), k)) for k in names])
    out = []
    combos = list(itertools.product([0.0, 1.0], repeat=len(flags)))
    for i in range(n):
        th = base.copy()
        for j, k in enumerate(names):
            if k in cls.FLAGS:
                continue
            lo, hi = cls.BOUNDS.get(k, cls.VALID[k])
            r = rng.uniform()
            th[j] = lo if r < 1 / 6 else hi if r < 1 / 3 else rng.uniform(lo, hi)
            if "drift" in k and rng.uniform() < 0.3:
                th[j] = rng.choice([0.0, 1.0])
        for f, val in zip(flags, combos[i % len(combos)], strict=True):
            th[names.index(f)] = val
        out.append(th)
    return np.array(out)


# jaxcmr, cymr and ecmr hold every component (UnitRho / ScalarRho, localist / pool /
# emotional pre-experimental memories, primacy / emotion schedules, power / exponential
# choice, positional / exponential stop); paper (additive own-item support), cmr3
# (other poles) and ecmr-salience (graded salience) run with `pytest -m calibration`
# eeg-ecmr (gate layer, covariate schedule, unmasked scaling) and eeg-strength (static
# context) hold the covariate components; eeg-cmr and eeg-simple-ecmr reuse them
_FULL = ["paper", "cmr3", "ecmr-salience", "eeg-cmr", "eeg-simple-ecmr"]


@pytest.mark.parametrize("name", [
    *("jaxcmr", "cymr", "ecmr", "eeg-ecmr", "eeg-strength", "jaxcmr-semantic-add",
      "jaxcmr-semantic-mult", "cymr-category"),
    *(pytest.param(n, marks=pytest.mark.calibration) for n in _FULL)])
def test_gradient_is_finite_wherever_the_likelihood_is(name):
    v = get_variant(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    items = _items(v, rng)
    sim = cmr.simulate(v.params(), _design(v, rng), key=3, variant=v, items=items)
    f = cmr.make_loglik(sim, variant=v, items=items)
    thetas = _points(v, rng, 16)
    # the defaults with each drift rate exactly 1 (eCMR's emotion_drift_rate default)
    with jax.enable_x64(True):
        vg = jax.jit(jax.vmap(jax.value_and_grad(lambda t: f.per_list(t).sum())))
        val, g = vg(jnp.asarray(thetas))
    val, g = np.asarray(val), np.asarray(g)
    finite = np.isfinite(val)
    assert finite.mean() > 0.5, "too few points with a finite likelihood to test"
    bad = np.where(finite[:, None] & ~np.isfinite(g))
    names = np.array(v.names())
    assert bad[0].size == 0, (
        f"{name}: non-finite gradient at {np.unique(bad[0]).size} of {finite.sum()} points, "
        f"with respect to {sorted(set(names[bad[1]]))}")

"""The documented way to add a study-event covariate effect to a variant from public
API only (docs/cmr.md, "Study-event covariates"): build, register, evaluate, fit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest

import engramlab.cmr as cmr


@dataclass(frozen=True)
class ArousalParams(cmr.JaxcmrParams):
    arousal_gain: float = 0.0
    VALID = {**cmr.JaxcmrParams.VALID, "arousal_gain": (-10.0, 10.0)}
    BOUNDS = {**cmr.JaxcmrParams.BOUNDS, "arousal_gain": (-2.0, 2.0)}


def _variant():
    arousal = cmr.Covariate("arousal", centre="subject")
    schedule = cmr.CovariateSchedule(
        cmr.CovariateLink((cmr.Term("arousal_gain", arousal),), link="exp"),
        on="product", off="product")
    return cmr.register_variant(dataclasses.replace(
        cmr.get_variant("jaxcmr"), name="jaxcmr-arousal", params=ArousalParams,
        layers=(cmr.Layer(cmr.LocalistPreexp(own="set"), schedule),),
        features=("arousal",), free=()), overwrite=True)


@pytest.fixture(scope="module")
def data():
    df = cmr.load_dataset("Morton2013")
    df = df[(df["subject"] == 1) & (df["list"] <= 10)].copy()
    rng = np.random.default_rng(0)
    pool = rng.uniform(1.0, 9.0, int(df["item_index"].max()) + 2)  # arousal ratings 1-9
    df["arousal"] = np.where(df["trial_type"] == "study",
                             pool[df["item_index"].clip(lower=0)], np.nan)
    return df


def test_custom_covariate_variant_from_public_api(data):
    v = _variant()
    assert "arousal_gain" in v.default_free()
    base = cmr.JaxcmrParams(choice_sensitivity=1.5)
    zero = ArousalParams(**base.to_dict())
    assert cmr.log_likelihood(data, zero, variant="jaxcmr-arousal") == pytest.approx(
        cmr.log_likelihood(data, base, variant="jaxcmr"), rel=1e-12)
    # the schedule is P_i exp(g (a_i - subject mean)): check it on the derived column
    prep = cmr.prepare(data, variant=v)
    a = prep.features["arousal"]
    np.testing.assert_allclose(prep.features["arousal[centre=subject]"], a - a.mean())
    moved = cmr.log_likelihood(data, zero.replace(arousal_gain=0.8), variant=v)
    assert np.isfinite(moved) and moved != pytest.approx(
        cmr.log_likelihood(data, zero, variant=v), rel=1e-6)
    # simulate, then fit the simulation
    sim = cmr.simulate(zero.replace(arousal_gain=0.8), data, key=1, variant=v, n_rep=2)
    assert "arousal" in sim.columns
    res = cmr.fit(sim, variant="jaxcmr-arousal", method="gradient",
                  free=["arousal_gain", "primacy_scale"], n_starts=2, max_rounds=1,
                  warn=False)
    assert res["k"].iloc[0] == 2 and np.isfinite(res["logl"].iloc[0])
    assert res["logl"].iloc[0] >= cmr.log_likelihood(sim, zero, variant=v) - 1e-6
    assert -2.0 <= res["arousal_gain"].iloc[0] <= 2.0

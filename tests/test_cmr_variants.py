"""Variants are compositions: the registry, a researcher's own variant (the example in
docs/cmr.md, "Adding a variant"), and every entry point taking it."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engramlab.cmr as cmr
from engramlab.errors import ConfigError


# --- the docs example, verbatim in spirit: a stop rule with a floor -------------------
@dataclass(frozen=True)
class FloorStop(cmr.StopRule):
    """P_stop(j) = min(floor + scale exp(growth j), 1 - lb n_recallable)."""
    floor: str = "stop_floor"
    scale: str = "stop_probability_scale"
    growth: str = "stop_probability_growth"
    PARAMS = ("floor", "scale", "growth")  # the fields that name parameters it reads

    def __call__(self, p, s):
        ps = p[self.floor] + p[self.scale] * jnp.exp(p[self.growth] * s.j)
        ps = jnp.minimum(ps, 1.0 - cmr.LB * s.n_recallable)
        return jnp.where(s.n_recallable == 0, 1.0, ps)


@dataclass(frozen=True)
class FloorParams(cmr.JaxcmrParams):
    stop_floor: float = 0.0
    VALID = {**cmr.JaxcmrParams.VALID, "stop_floor": (0.0, 1.0)}
    BOUNDS = {**cmr.JaxcmrParams.BOUNDS, "stop_floor": (0.0, 0.5)}


FLOOR = dataclasses.replace(cmr.get_variant("jaxcmr"), name="jaxcmr-floor",
                            params=FloorParams, stop=FloorStop(), free=())
cmr.register_variant(FLOOR, overwrite=True)


@pytest.fixture(scope="module")
def small():
    df = cmr.load_dataset("Morton2013")
    return df[df["subject"].isin([1, 2])]


def test_registry_lists_the_builtins_and_refuses_unknown_names():
    assert {"jaxcmr", "paper", "cymr", "jaxcmr-floor"} <= set(cmr.available_variants())
    assert cmr.get_variant("jaxcmr").params is cmr.JaxcmrParams
    with pytest.raises(ConfigError, match="variant"):
        cmr.get_variant("hopfield")
    with pytest.raises(ConfigError, match="already registered"):
        cmr.register_variant(dataclasses.replace(FLOOR, stop=cmr.PositionalStop()))
    with pytest.raises(ConfigError, match="learn_after"):
        dataclasses.replace(FLOOR, learn_after="no_such_switch")


def test_user_variant_reduces_to_jaxcmr_at_zero_floor(small):
    base = cmr.JaxcmrParams(choice_sensitivity=1.7)
    mine = FloorParams(**base.to_dict(), stop_floor=0.0)
    a = cmr.log_likelihood(small, base, variant="jaxcmr", per_subject=True)
    b = cmr.log_likelihood(small, mine, variant="jaxcmr-floor", per_subject=True)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-13)
    # by name or by object, the same
    assert cmr.log_likelihood(small, mine, variant=FLOOR) == pytest.approx(b.sum(), rel=1e-13)


def test_user_variant_is_a_probability_model():
    """Sum over every recall sequence of a 4-item list of P(sequence) = 1."""
    L = 4
    seqs = [list(s) + [0] * (L - n) for n in range(L + 1)
            for s in itertools.permutations(range(1, L + 1), n)]
    m = len(seqs)
    arr = cmr.RecallArrays(np.ones(m, int), np.arange(m), np.tile(np.arange(L), (m, 1)),
                           np.array(seqs))
    ll = cmr.trial_logliks(arr, FloorParams(stop_floor=0.2), variant="jaxcmr-floor")
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)


def test_every_entry_point_takes_the_user_variant(small):
    """simulate, fit (gradient), make_loglik (differentiable) and a sweep model."""
    truth = FloorParams(stop_floor=0.15)
    sim = cmr.simulate(truth, {"list_length": 8, "n_lists": 150}, key=0,
                       variant="jaxcmr-floor")
    fit = cmr.fit(sim, variant="jaxcmr-floor", method="gradient",
                  free=["stop_floor", "stop_probability_scale"], n_starts=2, maxiter=60)
    assert fit.loc[0, "variant"] == "jaxcmr-floor"
    assert abs(fit.loc[0, "stop_floor"] - 0.15) < 0.1
    assert fit.loc[0, "logl"] >= cmr.log_likelihood(sim, truth, variant=FLOOR) - 1e-6
    f = cmr.make_loglik(sim, variant="jaxcmr-floor")
    with jax.enable_x64(True):
        g = jax.grad(lambda t: f.per_list(t).sum())(jnp.asarray(f.theta(truth)))
    assert np.isfinite(np.asarray(g)).all() and abs(float(g[-1])) > 0

    from engramlab.cmr.sweeps import loglik_model

    spec = loglik_model("jaxcmr-floor")
    assert spec.name == "cmr.loglik.jaxcmr-floor"
    assert tuple(spec.params.model_fields) == FloorParams.names()
    assert spec.params.model_fields["stop_floor"].default == 0.0


def test_switches_are_not_fitted_and_fixed_must_be_a_mapping(small):
    with pytest.raises(ConfigError, match="switch"):
        cmr.fit(small, free=["learn_after_context_update"])
    with pytest.raises(ConfigError, match="fixed"):
        cmr.fit(small, fixed=[1, 2])
    with pytest.raises(ConfigError, match="learn_after_context_update"):
        cmr.JaxcmrParams(learn_after_context_update=0.5)
    assert cmr.JaxcmrParams.from_mapping(
        {k: v for k, v in cmr.JaxcmrParams().to_dict().items()
         if k != "learn_after_context_update"}).learn_after_context_update is True
    assert not math.isnan(cmr.log_likelihood(
        small, cmr.JaxcmrParams(learn_after_context_update=False)))


@pytest.mark.parametrize("name", ["jaxcmr", "cymr", "ecmr", "eeg-ecmr", "eeg-strength"])
def test_study_equals_step_by_step_hebbian_learning(name):
    """The engine assembles MFC/MCF from the learning contexts in one step; this equals
    the Hebbian updates applied item by item with LinearMemory.associate (to rounding:
    the engine runs jitted, the loop eagerly, and XLA may fuse differently)."""
    from engramlab.cmr._model import study, unpack
    from engramlab.memory import LinearMemory

    v = cmr.get_variant(name)
    L = 7
    raw = {"valence": [-1.0, 0, 1, 0, -1, 0, 1], "condition": [1.0, 2, 1, 2, 2, 1, 1],
           "EarlyLPP": [2.0, -1, 0.5, 3, 1, -2, 0]}
    feats = v.derive({f: np.asarray([raw[f]]) for f in v.features}, np.ones(1))
    aux = {"sqrt_m": jnp.asarray(3.0), **{k: jnp.asarray(x[0]) for k, x in feats.items()}}
    extra = {"Afc": 0.1, "Acf": 0.07, "lpp_main_scale": 0.8, "lpp_slope": 0.6}
    par = v.params(**{k: x for k, x in extra.items() if k in v.names()})
    with jax.enable_x64(True):
        p = unpack(jnp.asarray([float(getattr(par, n)) for n in v.names()]), v)
        cs, mfcs, mcfs = study(p, v, L, aux)
        for k, ly in enumerate(v.layers):
            after = (ly.learn_after if ly.learn_after is not None
                     else bool(getattr(par, "learn_after_context_update", True)))
            rule = ly.context or v.context
            B = ly.drift.encoding_rates(p, L, aux)
            mfc0, mcf0 = ly.preexp.init(p, L, aux)
            mfc, mcf = LinearMemory(mfc0), LinearMemory(mcf0)
            c = jnp.zeros(ly.preexp.size(L)).at[0].set(1.0)
            lcf = ly.schedule.mcf_rates(p, L, aux)
            for i in range(L):
                f = jnp.eye(L)[i]
                c_new = rule.integrate(c, mfc.probe(f), B[i])
                c_learn = c_new if after else c
                mfc = mfc.associate(f, c_learn, ly.schedule.mfc_rate(p))
                mcf = mcf.associate(c_learn, f, lcf[i])
                c = c_new
            np.testing.assert_allclose(np.asarray(mfcs[k].state), np.asarray(mfc.state),
                                       rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(np.asarray(mcfs[k].state), np.asarray(mcf.state),
                                       rtol=1e-14, atol=1e-15)

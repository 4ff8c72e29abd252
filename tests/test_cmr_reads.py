"""Components declare the parameters and data columns they read; a Variant checks them
at construction (names against its parameter class) and at registration (against a
trace of the model), and counts only parameters some component reads as free."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax.numpy as jnp
import pytest

import engramlab.cmr as cmr
from engramlab.cmr._components import (
    Drift,
    EmotionalPreexp,
    ExponentialChoice,
    ExponentialStop,
    Layer,
    LocalistPreexp,
    PositionalStop,
    PowerChoice,
    PrimacySchedule,
    UnitRho,
)
from engramlab.cmr._variants import traced_reads
from engramlab.errors import ConfigError

JAXCMR = cmr.get_variant("jaxcmr")


@pytest.mark.parametrize("name", ["jaxcmr", "paper", "cymr", "ecmr", "cmr3", "ecmr-salience"])
def test_builtins_declare_exactly_what_the_model_reads(name):
    v = cmr.get_variant(name)
    assert traced_reads(v) == v.reads()
    non_flags = set(v.names()) - set(v.params.FLAGS)
    assert set(v.default_free()) <= v.reads() and set(v.default_free()) <= non_flags


def test_a_misspelled_parameter_name_is_a_config_error_at_construction():
    lay = Layer(LocalistPreexp(), PrimacySchedule(scale="primacy_scal"))
    with pytest.raises(ConfigError,
                       match=r"PrimacySchedule reads parameter\(s\) \['primacy_scal'\]"):
        dataclasses.replace(JAXCMR, name="typo", layers=(lay,))
    with pytest.raises(ConfigError, match=r"ExponentialChoice reads parameter\(s\) \['T'\]"):
        dataclasses.replace(JAXCMR, name="typo", choice=ExponentialChoice())


def test_a_feature_read_must_be_declared_by_the_variant():
    emo = Layer(EmotionalPreexp(), PrimacySchedule())
    with pytest.raises(ConfigError, match=r"data column\(s\) \['valence'\]"):
        dataclasses.replace(JAXCMR, name="emo", layers=(JAXCMR.layers[0], emo))


def test_bad_component_settings_and_layer_containers():
    with pytest.raises(ConfigError, match="own"):
        LocalistPreexp(own="bogus")
    with pytest.raises(ConfigError, match="layers"):
        dataclasses.replace(JAXCMR, name="x", layers=JAXCMR.layers[0])
    v = dataclasses.replace(JAXCMR, name="x", layers=list(JAXCMR.layers))
    assert isinstance(v.layers, tuple) and hash(v)
    with pytest.raises(ConfigError, match="more than once"):
        dataclasses.replace(JAXCMR, name="x", free=("learning_rate", "learning_rate"))
    with pytest.raises(ConfigError, match="learn_after"):
        dataclasses.replace(JAXCMR, name="x", learn_after=5)


ECMR = cmr.get_variant("ecmr")
_EMO = ECMR.layers[1]


def _emo_schedule(**kw):
    return (ECMR.layers[0], dataclasses.replace(
        _EMO, schedule=dataclasses.replace(_EMO.schedule, **kw)))


@pytest.mark.parametrize("base, change, match", [
    (JAXCMR, {"event_floor": "a"}, r"event_floor: expected None .* got 'a'"),
    (JAXCMR, {"event_floor": 2.0}, r"event_floor: .*probability in \(0, 1\)"),
    (JAXCMR, {"event_floor": float("nan")}, "event_floor"),
    (JAXCMR, {"event_floor": True}, "event_floor"),
    (JAXCMR, {"context": UnitRho(eps=-1.0)}, r"context\.eps: expected a finite number"),
    (JAXCMR, {"choice": PowerChoice(floor="x")}, r"choice\.floor"),
    (JAXCMR, {"choice": PowerChoice(skip_unit_exponent=1)},
     r"choice\.skip_unit_exponent: expected True or False"),
    (JAXCMR, {"stop": PositionalStop(cap=0.5)}, r"stop\.cap"),
    (JAXCMR, {"layers": (Layer(LocalistPreexp(), PrimacySchedule(scale=[1])),)},
     r"layers\[0\]\.schedule\.scale: expected a parameter name or a finite number"),
    (JAXCMR, {"layers": (Layer(LocalistPreexp(), PrimacySchedule(), Drift(encoding=None)),)},
     r"layers\[0\]\.drift\.encoding"),
    (JAXCMR, {"choice": PowerChoice(sensitivity=float("nan"))}, r"choice\.sensitivity"),
    (cmr.get_variant("cymr"), {"stop": ExponentialStop(lo=0.5, hi=0.1)}, "lo < hi"),
    (ECMR, {"layers": _emo_schedule(primacy=PrimacySchedule(decay=""))},
     r"layers\[1\]\.schedule\.primacy\.decay"),
    (ECMR, {"layers": _emo_schedule(intensity=3)}, r"layers\[1\]\.schedule\.intensity"),
])
def test_component_settings_are_checked_where_the_variant_is_built(base, change, match):
    with pytest.raises(ConfigError, match=match):
        dataclasses.replace(base, name="bad", **change)


def test_every_builtin_passes_its_own_checks():
    for n in cmr.available_variants():
        v = cmr.get_variant(n)
        copy = dataclasses.replace(v, name=f"{n}-copy")  # runs every component's check
        assert copy.reads() == v.reads() and copy.default_free() == v.default_free()


@dataclass(frozen=True)
class _Undeclared(cmr.StopRule):
    def __call__(self, p, s):
        ps = p["stop_probability_scale"] * jnp.exp(p["stop_probability_growth"] * s.j)
        return jnp.where(s.n_recallable == 0, 1.0, jnp.minimum(ps, 0.5))


@dataclass(frozen=True)
class _ConstantStop(cmr.StopRule):
    """P_stop = 0.3 (reads no parameter)."""

    def __call__(self, p, s):
        return jnp.where(s.n_recallable == 0, 1.0, 0.3)


def test_a_component_reading_undeclared_parameters_is_refused_at_registration():
    v = dataclasses.replace(JAXCMR, name="undeclared", stop=_Undeclared(), free=())
    with pytest.raises(ConfigError, match=r"\['stop_probability_growth', "
                                          r"'stop_probability_scale'\] that none declares"):
        cmr.register_variant(v)
    assert "undeclared" not in cmr.available_variants()


def test_parameters_no_component_reads_are_not_free_and_not_counted(small_subject):
    v = cmr.register_variant(dataclasses.replace(JAXCMR, name="const-stop",
                                                 stop=_ConstantStop(), free=()),
                             overwrite=True)
    free = v.default_free()
    assert "stop_probability_scale" not in free and "stop_probability_growth" not in free
    assert len(free) == 9
    with pytest.raises(ConfigError, match="read by no component"):
        cmr.fit(small_subject, variant=v, free=["stop_probability_scale"])
    with pytest.raises(ConfigError, match="read by no component"):
        dataclasses.replace(v, name="const-stop-2", free=("stop_probability_scale",))


@pytest.fixture(scope="module")
def small_subject():
    df = cmr.load_dataset("Morton2013")
    return df[df["subject"] == 1]

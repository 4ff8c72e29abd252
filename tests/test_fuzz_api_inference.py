"""Fuzz the newer CMR surfaces (issue 28): the variant registry, ``cmr.sample``'s
arguments, and the inference files and objects. Every generated hostile input is refused
with an ``EngramlabError`` naming the argument (or the component field) — before any
sampling starts — or, for a variant, gives a finite log-likelihood that is a
log-probability (<= 0)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fuzz_strategies import check_contract, fuzz_settings, limited_resources
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_api_cmr import DATA

import engramlab.cmr as cmr
from engramlab.cmr._variants import _REGISTRY
from engramlab.errors import EngramlabError


@pytest.fixture(autouse=True)
def _limits():
    with limited_resources():
        yield


BASE = cmr.get_variant("jaxcmr")
NAME = "fuzz-registry-variant"
BAD_NAMES = st.sampled_from(["primacy_scal", "", "learning rate", "T", "x" * 200])
BAD_OBJECTS = st.sampled_from([3, None, 1.5, ("a",), b"bytes"])


def _component_fields():
    """(path, field) of every string-valued field of the jaxcmr composition: the
    parameter names each component reads."""
    out = []
    comps = {"context": BASE.context, "choice": BASE.choice, "stop": BASE.stop,
             "layer.preexp": BASE.layers[0].preexp, "layer.schedule": BASE.layers[0].schedule,
             "layer.drift": BASE.layers[0].drift}
    for where, comp in comps.items():
        for f in dataclasses.fields(comp):
            if isinstance(getattr(comp, f.name), str | float | bool):
                out.append((where, f.name))
    return out


FIELDS = _component_fields()


def _with_component(where: str, field: str, value):
    """``BASE`` with one component field replaced (raising as the component does)."""
    if where.startswith("layer."):
        part = where.split(".")[1]
        layer = BASE.layers[0]
        comp = dataclasses.replace(getattr(layer, part), **{field: value})
        return dataclasses.replace(BASE, name=NAME,
                                   layers=(dataclasses.replace(layer, **{part: comp}),))
    comp = dataclasses.replace(getattr(BASE, where), **{field: value})
    return dataclasses.replace(BASE, name=NAME, **{where: comp})


def _register_and_score(build):
    variant = build()
    cmr.register_variant(variant, overwrite=True)
    try:
        return cmr.log_likelihood(DATA, variant.params(), variant=NAME)
    finally:
        _REGISTRY.pop(NAME, None)


@fuzz_settings(25)
@given(st.data())
def test_fuzz_component_settings(data):
    where, field = data.draw(st.sampled_from(FIELDS), label="field")
    value = data.draw(st.one_of(BAD_NAMES, BAD_OBJECTS,
                                st.sampled_from([-1.0, 0.5, float("nan"), 1e9, True])),
                      label="value")
    ok, out = check_contract(_register_and_score, lambda: _with_component(where, field, value),
                             names=(field, where.split(".")[0], "layers", "free", "variant"))
    if ok:
        assert float(out) <= 1e-12


VARIANT_FIELDS = {
    "layers": st.sampled_from([[], (), BASE.layers[0], "layers", (BASE.layers[0], 3)]),
    "event_floor": st.sampled_from(["a", -1.0, 0.0, 0.6, float("nan"), float("inf"), 1]),
    "learn_after": st.sampled_from([5, "bogus", None, 0.5, "learning_rate"]),
    "free": st.sampled_from([("learning_rate", "learning_rate"), ("bogus",), "learning_rate",
                             3, ("learn_after_context_update",)]),
    "features": st.sampled_from([3, "valence", ("",), (3,)]),
    "params": st.sampled_from([dict, 3, None, object, cmr.EcmrParams]),
    "name": st.sampled_from(["", 3, None]),
}


@fuzz_settings(25)
@given(st.data())
def test_fuzz_variant_fields(data):
    field = data.draw(st.sampled_from(sorted(VARIANT_FIELDS)), label="field")
    value = data.draw(VARIANT_FIELDS[field], label="value")
    kw = {"name": NAME, field: value}
    ok, out = check_contract(_register_and_score,
                             lambda: dataclasses.replace(BASE, **kw),
                             names=(field, "variant"))
    if ok:
        assert float(out) <= 1e-12


SAMPLE_ARGS = {
    "chains": [0, -1, 1.5, "4", 10**9],
    "draws": [0, -5, 10**13, "x"],
    "warmup": [-1, 10**13, 2.5],
    "target_accept": [0.0, 1.0, 1.5, float("nan"), "x"],
    "max_tree_depth": [0, 100, -1, 2.5],
    "parameterization": ["bogus", 3],
    "precondition": ["bogus", 3],
    "precision": ["float16", 3],
    "subject_runs": ["bogus", 3],
    "chain_method": ["bogus", 3],
    "scheduler": ["bogus", "tcp://", 3],
    "workers": [0, 10**9, -1, 1.5],
    "priors": [{"mu_scale": 0.0}, {"bogus": 1.0}, "x", {"sigma_scale": -1.0},
               {"mu_loc": {"zzz": 1.0}}, {"mu_scale": {"choice_sensitivity": float("nan")}}],
    "free": [{"bogus": (0.0, 1.0)}, {"choice_sensitivity": (2.0, 1.0)}, ["x"], 3,
             ("choice_sensitivity", "choice_sensitivity")],
    "fixed": [{"bogus": 1.0}, {"learning_rate": float("nan")}, {"learning_rate": 5.0}, 3],
    "variant": ["bogus", 3],
    "pool_size": [0, -1, 10**12],
    "key": ["x", 3.5],
    "data": [None, 3, DATA.iloc[:0], DATA.drop(columns="position")],
    "hierarchical": ["yes", 3],
}


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_sample_arguments_are_refused_before_sampling(tmp_path_factory, data):
    import jax

    kw = {"data": DATA, "key": jax.random.key(0), "free": ["choice_sensitivity"],
          "chains": 1, "draws": 5, "warmup": 5, "quiet": True, "hierarchical": False}
    name = data.draw(st.sampled_from(sorted(SAMPLE_ARGS) + ["checkpoint_dir"]), label="arg")
    if name == "checkpoint_dir":
        base = tmp_path_factory.mktemp("ck")
        (base / "file").write_text("x")
        kw[name] = data.draw(st.sampled_from([base / "file", base / "file" / "sub", 3]))
    else:
        kw[name] = data.draw(st.sampled_from(SAMPLE_ARGS[name]), label="value")
    if name in ("scheduler", "workers"):   # the per-subject (Dask) path reads these
        kw["hierarchical"] = False
    ok, out = check_contract(cmr.sample, **kw)
    assert not ok, f"{name}={kw[name]!r} was accepted"


def _foreign_posterior():
    import arviz as az

    return az.from_dict(posterior={"x": np.zeros((2, 5))},
                        log_likelihood={"recall": np.zeros((2, 5, 3))})


FILE_KINDS = ["empty", "bytes", "truncated", "foreign", "folder", "text"]


@fuzz_settings(12)
@given(kind=st.sampled_from(FILE_KINDS), junk=st.binary(min_size=1, max_size=200))
def test_fuzz_load_inference_files(tmp_path_factory, kind, junk):
    folder = tmp_path_factory.mktemp("nc")
    path = folder / "post.nc"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "bytes":
        path.write_bytes(junk)
    elif kind == "text":
        path.write_text("chain,draw\n0,0\n")
    elif kind in ("truncated", "foreign"):
        _foreign_posterior().to_netcdf(str(path))
        if kind == "truncated":
            raw = path.read_bytes()
            path.write_bytes(raw[: max(1, len(raw) * len(junk) // 256)])
    else:
        path = folder
    ok, _ = check_contract(cmr.load_inference, path)
    assert not ok


OBJECTS = [None, 3, "idata", {"posterior": 1}]


@fuzz_settings(16)
@given(data=st.data())
def test_fuzz_inference_objects(data):
    fn = data.draw(st.sampled_from([cmr.diagnostics, cmr.compare, cmr.posterior_predictive,
                                    cmr.point_fits]), label="fn")
    obj = data.draw(st.sampled_from([*OBJECTS, _foreign_posterior()]), label="idata")
    if fn is cmr.compare:
        ok, _ = check_contract(fn, {"a": obj, "b": obj})
    elif fn is cmr.diagnostics:
        ok, _ = check_contract(fn, obj)
    else:
        import jax

        kw = {"key": jax.random.key(0)} if fn is cmr.posterior_predictive else {}
        ok, _ = check_contract(fn, obj, DATA, **kw)
    assert not ok


def test_the_strategies_reach_every_component_field():
    assert {f for _, f in FIELDS} >= {"scale", "decay", "sensitivity", "mfc_rate", "own",
                                      "encoding", "start", "recall"}
    with pytest.raises(EngramlabError, match="primacy_scal"):
        _register_and_score(lambda: _with_component("layer.schedule", "scale",
                                                    "primacy_scal"))

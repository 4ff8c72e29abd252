"""Fuzz the public Python API of engramlab.softmax (issue 14): an EngramlabError or a
finite (and, where cheap, correct) result for generated hostile input. Tiny fixed shapes
(N_h = 2, N_v = 4) so each jitted path compiles once."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from fuzz_strategies import (
    arr,
    float_arrays,
    fuzz_call,
    fuzz_settings,
    hostile_arrays,
    hostile_sizes,
    is_close,
    key,
    limited_resources,
    size,
    small_floats,
    v,
)
from hypothesis import given
from hypothesis import strategies as st

import engramlab.softmax as sm

NH, NV = 2, 4
XI0 = np.array([[1.0, 0.5, -0.5, 0.2], [-0.3, 1.0, 0.4, -1.0]])


@pytest.fixture(autouse=True)
def _limits():
    with limited_resources():
        yield










def _np_simulate(xi, v, beta, tau, dt, bias):
    xi = np.asarray(xi, np.float64)
    out = [xi]
    for vk in np.asarray(v, np.float64):
        a = beta * xi @ vk
        w = np.exp(a - a.max())
        w /= w.sum()
        xi = xi + dt / tau * w[:, None] * (-xi + bias + vk)
        out.append(xi)
    return np.stack(out)


@fuzz_settings(20)
@given(st.data())
def test_fuzz_simulate(data):
    def check(kw, out):
        bias = 0.0 if kw["bias"] is None else np.asarray(kw["bias"], np.float64)
        ref = _np_simulate(kw["xi0"], kw["v"], kw["beta"], kw["tau"], kw["dt"], bias)
        assert is_close(out, ref, rtol=1e-3, atol=1e-3)

    fuzz_call(data, sm.simulate, {
        "xi0": arr((NH, NV)), "v": arr((3, NV)), "beta": v(small_floats(0, 5)),
        "tau": v(st.sampled_from([10.0, 250.0])), "dt": v(st.sampled_from([1.0, 0.5])),
        "bias": (st.one_of(st.none(), float_arrays((NV,))), hostile_arrays((NH, NV)))},
        check)


@fuzz_settings(12)
@given(st.data())
def test_fuzz_synapses_and_weights(data):
    fuzz_call(data, sm.SoftmaxSynapses, {
        "beta": v(small_floats(0, 5)), "tau": v(st.just(10.0)), "dt": v(st.just(1.0)),
        "bias": arr((NH, NV))})

    def check(kw, out):
        a = kw["beta"] * np.asarray(kw["xi"], np.float64) @ np.asarray(kw["v"], np.float64)
        w = np.exp(a - a.max())
        assert is_close(out, w / w.sum(), rtol=1e-3, atol=1e-5)

    fuzz_call(data, sm.softmax_weights, {"xi": arr((NH, NV)), "v": arr((NV,)),
                                         "beta": v(small_floats(0, 5))}, check)


@fuzz_settings(12)
@given(st.data())
def test_fuzz_similarity_and_theory(data):
    fuzz_call(data, sm.similarity, {"xi_traj": arr((3, NH, NV), -1e20, 1e20),
                                    "targets": arr((NH, NV))})
    ok, out, which = fuzz_call(data, sm.theory_similarity, {
        "xi0": arr((NH, NV)), "targets": arr((NH, NV)), "n_steps": size([3]),
        "tau": v(st.just(10.0)), "dt": v(st.just(1.0)),
        "p": (st.sampled_from([None, [0.5, 0.5]]), st.sampled_from([[-1.0, 2.0], [np.nan, 1],
                                                                    "p", [1.0]])),
        "norms": (st.sampled_from(["measured", "equal"]), st.sampled_from(["x", None]))})
    if ok:
        assert np.all(np.abs(np.asarray(out)) <= 1 + 1e-4)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_streams_and_memories(data):
    ok, out, which = fuzz_call(data, sm.orthogonal_memories, {
        "key": key(), "n_h": size([NH]), "n_v": size([NV])})
    if ok and which is None:
        g = np.asarray(out, np.float64) @ np.asarray(out, np.float64).T
        assert is_close(g, NV * np.eye(NH), rtol=1e-3, atol=1e-3)
    fuzz_call(data, sm.random_memories, {"key": key(), "n_h": size([NH]), "n_v": size([NV]),
                                         "scale": v(small_floats(-1e30, 1e30))})
    fuzz_call(data, sm.noisy_targets, {"key": key(), "patterns": arr((NH, NV)),
                                       "noise": v(small_floats(0, 1e30))})
    fuzz_call(data, sm.make_stream, {
        "key": key(), "patterns": arr((NH, NV)), "n_steps": size([4]),
        "order": (st.sampled_from(sm.ORDERS if hasattr(sm, "ORDERS") else ["round_robin"]),
                  st.sampled_from(["shuffled", None])),
        "noise": v(st.sampled_from([0.0, 0.5])), "block_length": size([1, 2])})

    def check(kw, out):
        lab = np.asarray(kw["labels"])
        assert is_close(out, [np.mean(lab == m) for m in range(NH)])

    fuzz_call(data, sm.win_fractions, {
        "labels": (st.sampled_from([[0, 1, 1, 0], [1, 1, 1]]),
                   st.sampled_from([[0.5], [np.nan], "ab", [[0]], []])),
        "n_h": size([NH])}, check)


@fuzz_settings(8)
@given(st.data())
def test_fuzz_run_appendix(data):
    ok, out, which = fuzz_call(data, sm.run_appendix, {
        "key": key(), "n_seeds": (st.sampled_from([None, 2]), hostile_sizes()),
        "beta": v(st.sampled_from([2.0, 1e30])), "tau": v(st.just(50.0)),
        "noise": v(st.just(0.4)), "n_v": size([NV]), "n_h": size([NH]),
        "n_steps": size([4]), "chunk": size([2])})
    if ok:
        assert np.all(np.abs(out["similarity"]) <= 1 + 1e-4)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_retrieval(data):
    fuzz_call(data, sm.binary_patterns, {"key": key(), "n_patterns": size([NH]),
                                         "n_v": size([NV])})
    fuzz_call(data, sm.flip_cues, {"key": key(), "patterns": arr((NH, NV)),
                                   "flip": v(st.sampled_from([0.0, 0.2, 1.0]))})

    def check_dam(kw, out):
        xi, c = (np.asarray(kw[k], np.float64) for k in ("xi", "cues"))
        for _ in range(kw["n_iter"]):
            a = kw["beta"] * c @ xi.T
            w = np.exp(a - a.max(axis=-1, keepdims=True))
            c = (w / w.sum(axis=-1, keepdims=True)) @ xi
        assert is_close(out, c, rtol=1e-3, atol=1e-3)

    fuzz_call(data, sm.dam_retrieve, {"xi": arr((NH, NV), -1e10, 1e10), "cues": arr((3, NV)),
                                      "beta": v(st.sampled_from([0.0, 1.0, 1e30])),
                                      "n_iter": size([1, 2])}, check_dam)
    fuzz_call(data, sm.hebbian_retrieve, {"patterns": arr((NH, NV)), "cues": arr((3, NV)),
                                          "n_iter": size([2])})
    fuzz_call(data, sm.retrieval_overlap, {"states": arr((3, NV)), "targets": arr((3, NV))})


@fuzz_settings(8)
@given(st.data())
def test_fuzz_learning(data):
    fuzz_call(data, sm.learn_memories, {
        "key": key(), "patterns": arr((NH, NV)), "n_presentations": size([2]),
        "tau": v(st.just(10.0)), "beta": v(st.sampled_from([1.0, 1e30])),
        "noise": v(st.just(0.5)), "init_noise": v(st.just(1.0))})
    fuzz_call(data, sm.capacity_sweep, {
        "key": key(), "n_v": size([NV]),
        "n_memories": (st.just((1, 2)), st.sampled_from([[], [0], "2", None, [1.5], 3])),
        "betas": v(st.just((0.1, 1.0))), "flips": v(st.just((0.0, 0.2))),
        "n_cues": size([4]), "n_iter": size([1]), "n_presentations": size([2])})


def test_int_seed_equals_key():
    """An int seed and jax.random.key(seed) give the same numbers everywhere."""
    k = jax.random.key(3)
    for fn, args in ((sm.orthogonal_memories, (NH, NV)), (sm.random_memories, (NH, NV)),
                     (sm.binary_patterns, (NH, NV))):
        np.testing.assert_array_equal(np.asarray(fn(3, *args)), np.asarray(fn(k, *args)))
    np.testing.assert_array_equal(np.asarray(sm.noisy_targets(3, XI0, 0.1)),
                                  np.asarray(sm.noisy_targets(k, XI0, 0.1)))

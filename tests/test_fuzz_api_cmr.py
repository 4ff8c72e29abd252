"""Fuzz the public Python API of engramlab.cmr (issue 14): an EngramlabError naming the
argument, or a finite (and, where cheap, correct) result, for generated hostile
parameters, data frames, designs, keys and files. One tiny data set (one subject, three
6-item lists) so each jitted path compiles once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fuzz_strategies import (
    check_contract,
    fuzz_call,
    fuzz_settings,
    hostile_keys,
    hostile_numbers,
    hostile_scalars,
    hostile_sizes,
    keys,
    limited_resources,
)
from hypothesis import given
from hypothesis import strategies as st

import engramlab.cmr as cmr

L = 6


def _frame(valence: bool = False) -> pd.DataFrame:
    rows = []
    for lst, rec in enumerate([[3, 1, 2], [6, 5], []], start=1):
        for i in range(L):
            row = dict(subject=1, list=lst, trial_type="study", position=i + 1,
                       item=f"w{lst}{i}", item_index=10 * lst + i)
            if valence:
                row["valence"] = float((i % 3) - 1)
            rows.append(row)
        for j, r in enumerate(rec):
            rows.append(dict(subject=1, list=lst, trial_type="recall", position=j + 1,
                             item=f"w{lst}{r - 1}", item_index=10 * lst + r - 1))
    return pd.DataFrame(rows)


DATA = _frame()
EMO = _frame(valence=True)


@pytest.fixture(autouse=True)
def _limits():
    with limited_resources():
        yield


def _params_strategy(cls):
    """A dict of the class's parameters: valid (within BOUNDS, switches 0/1) with at most
    one entry replaced by a hostile value, a misspelt name or removed."""
    @st.composite
    def strategy(draw):
        vals = {}
        for n in cls.names():
            if n in cls.FLAGS:
                vals[n] = draw(st.booleans())
            else:
                lo, hi = cls.BOUNDS[n]
                vals[n] = draw(st.floats(max(lo, 1e-3), min(hi, 10.0)))
        how = draw(st.sampled_from(["valid", "hostile", "typo", "missing"]))
        name = draw(st.sampled_from([n for n in cls.names() if n not in cls.FLAGS]))
        if how == "hostile":
            vals[name] = draw(hostile_scalars())
        elif how == "typo":
            vals[name + "x"] = vals.pop(name)
        elif how == "missing":
            vals.pop(name)
        return vals
    return strategy()


def _hostile_frames():
    base = DATA
    cands = [
        base.assign(position=base["position"].astype(str)),
        base.assign(position=base["position"].where(base.index != 4)),
        base.assign(position=base["position"] * 1.5),
        base.assign(position=-base["position"]),
        base.assign(trial_type="studied"),
        base.drop(columns="item"),
        base.iloc[:0],
        base[base["trial_type"] == "recall"],
        base.assign(item_index=base["item_index"].astype(float).where(base.index != 2)),
        base.assign(subject=base["subject"].where(base.index != 7)),
        "not a frame", None, np.zeros((3, 3)),
    ]
    return st.sampled_from(cands)


def _check_loglik(kw, out):
    # a finite log-likelihood is a log-probability: <= 0
    assert np.all(np.asarray(out) <= 1e-12)


@fuzz_settings(25)
@given(st.data())
def test_fuzz_log_likelihood(data):
    variant = data.draw(st.sampled_from(["jaxcmr", "paper", "cymr"]))
    cls = cmr.get_variant(variant).params
    fuzz_call(data, cmr.log_likelihood, {
        "data": (st.just(DATA), _hostile_frames()),
        "params": (_params_strategy(cls), hostile_scalars()),
        "variant": (st.just(variant), st.one_of(hostile_scalars(),
                                                st.sampled_from(["CMR", "", "cymr "]))),
        "pool_size": (st.sampled_from([None, 40, 100]),
                      st.one_of(hostile_sizes(), st.just(3))),
        "per_subject": (st.booleans(), st.booleans()),
    }, _check_loglik)


@fuzz_settings(15)
@given(st.data())
def test_fuzz_emotional_log_likelihood(data):
    variant = data.draw(st.sampled_from(["ecmr", "cmr3"]))
    cls = cmr.get_variant(variant).params
    bad_valence = st.sampled_from([
        EMO.drop(columns="valence"),
        EMO.assign(valence=EMO["valence"].where(EMO.index != 1)),
        EMO.assign(valence=np.where(EMO.index == 2, np.inf, EMO["valence"])),
        EMO.assign(valence="sad"),
    ])
    fuzz_call(data, cmr.log_likelihood, {
        "data": (st.just(EMO), bad_valence),
        "params": (_params_strategy(cls), hostile_scalars()),
        "variant": (st.just(variant), st.just("ecmr3")),
    }, _check_loglik)


@fuzz_settings(20)
@given(st.data())
def test_fuzz_simulate(data):
    def check(kw, out):
        arr = cmr.to_arrays(out)
        assert arr.list_length == kw["design"]["list_length"]
        # no repeats: each recalled position at most once per list
        for row in arr.recalls:
            r = row[row > 0]
            assert len(np.unique(r)) == len(r)

    design = st.fixed_dictionaries({"list_length": st.just(5), "n_lists": st.just(4)})
    bad_design = st.one_of(
        st.fixed_dictionaries({"list_length": hostile_sizes(), "n_lists": st.just(2)}),
        st.fixed_dictionaries({"list_length": st.just(5), "n_lists": hostile_sizes()}),
        st.just({"list_length": 5, "n_lists": 2, "n_subject": 3}),
        st.just({"list_length": 5, "features": {"valence": [1.0, 2.0]}}),
        st.just({"list_length": 5, "features": {"valence": [np.nan] * 5}}),
        hostile_scalars())
    fuzz_call(data, cmr.simulate, {
        "params": (_params_strategy(cmr.JaxcmrParams), hostile_scalars()),
        "design": (design, bad_design),
        "key": (keys(), hostile_keys()),
        "n_rep": (st.sampled_from([1, 2]), hostile_sizes()),
    }, check)


@fuzz_settings(12)
@given(st.data())
def test_fuzz_fit_arguments(data):
    """Hostile fit settings are refused before fitting (valid ones fit 2 DE generations)."""
    def check(kw, out):
        assert out.loc[0, "logl"] <= 0 and out.loc[0, "k"] >= 1

    def fit(**kw):
        return cmr.fit(DATA, **kw)

    fuzz_call(data, fit, {
        "free": (st.just(["choice_sensitivity"]), st.one_of(
            hostile_scalars(), st.just(["nope"]), st.just({"choice_sensitivity": (2, 1)}),
            st.just({"choice_sensitivity": (0, np.inf)}), st.just([]),
            st.just(["learn_after_context_update"]), st.just({"choice_sensitivity": "ab"}))),
        "fixed": (st.just(None), st.one_of(st.just([1, 2]), st.just({"T": 1.0}),
                                           st.just({"learning_rate": 2.0}), hostile_scalars())),
        "method": (st.just("de"), st.one_of(hostile_scalars(), st.just("nuts"))),
        "popsize": (st.just(2), hostile_sizes()),
        "maxiter": (st.just(2), st.one_of(hostile_sizes(), hostile_numbers())),
        "seed": (st.just(0), st.one_of(st.just(-1), hostile_scalars())),
    }, check)


@fuzz_settings(12)
@given(st.binary(max_size=400), st.sampled_from(["prefix", "raw"]))
def test_fuzz_read_jaxcmr_h5(tmp_path_factory, content, how):
    path = tmp_path_factory.mktemp("h5") / "x.h5"
    if how == "prefix":
        content = b"\x89HDF\r\n\x1a\n" + content
    path.write_bytes(content)
    ok, _ = check_contract(cmr.read_jaxcmr_h5, path)
    assert not ok


@fuzz_settings(10)
@given(st.data())
def test_fuzz_parameter_classes(data):
    cls = data.draw(st.sampled_from([cmr.JaxcmrParams, cmr.CymrParams, cmr.EcmrParams]))
    name = data.draw(st.sampled_from(cls.names()))
    value = data.draw(st.one_of(hostile_scalars(), st.floats(-1e3, 1e3)))
    ok, out = check_contract(lambda: cls(**{name: value}), names=(name,))
    if ok:  # accepted values are finite and within VALID
        lo, hi = cls.VALID[name]
        assert lo <= float(getattr(out, name)) <= hi


@fuzz_settings(8)
@given(st.data())
def test_fuzz_emotion_analyses(data):
    fn = data.draw(st.sampled_from([cmr.recall_by_valence, cmr.spc_by_valence,
                                    cmr.emotional_clustering]))
    fuzz_call(data, fn, {
        "data": (st.just(EMO), st.sampled_from([EMO.drop(columns="valence"), DATA, "x"])),
        "scheme": (st.sampled_from(["emotional", "signed"]),
                   st.one_of(hostile_scalars(), st.just("valence"))),
    }, allow_nan=True)   # psifr's CRPs are NaN where a transition was never possible

"""Parameter recovery and model identification (cmr.recover, cmr.identify).

Every fit here uses one design shape (24 lists x 10 items) and two free parameters, so
the jitted likelihood and gradient compile once per variant (jaxcmr, cymr).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.cmr._recovery import _design, _draw_truth, _free_bounds, _warn_unconverged
from engramlab.errors import (
    ConfigError,
    ConvergenceWarning,
    DataError,
    EngramlabError,
    ValidationError,
)

DESIGN = {"n_lists": 24, "list_length": 10}
FREE = ["encoding_drift_rate", "recall_drift_rate"]
# P(stop) before the first recall 0.05 (default 0.02): recall lengths vary more
FIXED = {"stop_probability_scale": 0.05}
TRUE = {"encoding_drift_rate": 0.6, "recall_drift_rate": 0.85}


def _quiet(fn, *args, **kwargs):
    """Run ``fn`` with the one summary ConvergenceWarning of recover/identify ignored
    (whether every small fit converges is the fit's business; ``converged`` keeps it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def rec_fixed():
    return _quiet(cmr.recover, "jaxcmr", n_subjects=3, design=DESIGN, free=FREE,
                  fixed=FIXED, truth=TRUE, seed=1, quiet=True)


@pytest.fixture(scope="module")
def rec_varied():
    return _quiet(cmr.recover, "jaxcmr", n_subjects=8, design=DESIGN, free=FREE,
                  fixed=FIXED, truth={"encoding_drift_rate": (0.2, 0.9),
                                      "recall_drift_rate": (0.5, 0.95)}, seed=0, quiet=True)


@pytest.fixture(scope="module")
def ident():
    return _quiet(
        cmr.identify, ["jaxcmr", "cymr"], n_subjects=4, design=DESIGN, seed=3, quiet=True,
        free={"jaxcmr": ["encoding_drift_rate", "choice_sensitivity"], "cymr": ["B_enc", "T"]},
        fixed={"jaxcmr": FIXED, "cymr": {"X1": 0.05}},
        truth={"jaxcmr": {"choice_sensitivity": (1.0, 3.0)}, "cymr": {"T": (0.05, 0.5)}})


def _standard_errors(data: pd.DataFrame, subject: int, at: dict) -> np.ndarray:
    """Asymptotic standard errors of the two free parameters at the truth: the square
    roots of the diagonal of the inverse observed information (central finite
    differences of the log-likelihood, step 1e-3)."""
    sub = data[data["subject"] == subject]
    base = cmr.JaxcmrParams(**FIXED).to_dict()
    h = 1e-3

    def ll(d0: float, d1: float) -> float:
        p = {**base, **at, FREE[0]: at[FREE[0]] + d0, FREE[1]: at[FREE[1]] + d1}
        return cmr.log_likelihood(sub, p, variant="jaxcmr")

    f0 = ll(0, 0)
    H = np.empty((2, 2))
    H[0, 0] = (ll(h, 0) - 2 * f0 + ll(-h, 0)) / h**2
    H[1, 1] = (ll(0, h) - 2 * f0 + ll(0, -h)) / h**2
    H[0, 1] = H[1, 0] = (ll(h, h) - ll(h, -h) - ll(-h, h) + ll(-h, -h)) / (4 * h**2)
    return np.sqrt(np.diag(np.linalg.inv(-H)))


def test_fixed_truth_estimates_within_four_standard_errors(rec_fixed):
    """24 lists of 10 items per subject: each estimate lies within 4 asymptotic SEs of the truth
    (SEs from the observed information of that subject's data), and the fit's log L is
    at least the truth's (an MLE cannot be below it)."""
    t = rec_fixed.table
    assert set(t["truth"][t["parameter"] == FREE[0]]) == {TRUE[FREE[0]]}
    for s in rec_fixed.subjects["subject"]:
        se = _standard_errors(rec_fixed.data, s, TRUE)
        assert np.all(se < 0.15), se  # the design is informative
        est = t[t["subject"] == s].set_index("parameter")["estimate"]
        err = np.abs(est[FREE].to_numpy() - np.array([TRUE[k] for k in FREE]))
        assert np.all(err < 4 * se), (s, err, se)
    assert (rec_fixed.subjects["delta_logl"] > -1e-2).all(), rec_fixed.subjects
    # constant truth: no correlation to report
    assert np.isnan(rec_fixed.summary["r"]).all()


def test_summary_matches_table_and_encoding_drift_is_recovered(rec_varied):
    s, t = rec_varied.summary, rec_varied.table
    assert list(s.index) == FREE and (s["n"] == 8).all()
    for k in FREE:
        g = t[t["parameter"] == k]
        e, tr = g["estimate"].to_numpy(), g["truth"].to_numpy()
        assert s.loc[k, "bias"] == pytest.approx(np.mean(e - tr))
        assert s.loc[k, "rmse"] == pytest.approx(np.sqrt(np.mean((e - tr) ** 2)))
        assert s.loc[k, "r"] == pytest.approx(np.corrcoef(tr, e)[0, 1])
        lo, hi = cmr.JaxcmrParams.BOUNDS[k]
        assert ((tr >= lo) & (tr <= hi)).all()
    # truths drawn inside the requested ranges, one per subject, all different
    enc = t[t["parameter"] == FREE[0]]["truth"]
    assert enc.between(0.2, 0.9).all() and enc.nunique() == 8
    # seeds 0-4 of this design gave r 0.82-0.997 and RMSE 0.05-0.10; labels shuffled
    # across subjects give r ~ 0 +- 0.35
    assert s.loc["encoding_drift_rate", "r"] > 0.75, s
    assert s.loc["encoding_drift_rate", "rmse"] < 0.12, s
    assert s.loc["encoding_drift_rate", "at_bound"] == 0.0


def test_identify_jaxcmr_vs_cymr(ident):
    for c in ("aic", "bic"):
        conf = ident.confusion(c)
        assert list(conf.index) == list(conf.columns) == ["jaxcmr", "cymr"]
        np.testing.assert_allclose(conf.sum(axis=1), 1.0)
        # each model wins on at least 3 of its own 4 subjects
        assert (np.diag(conf.values) >= 0.75).all(), conf
        inv = ident.inversion(c)
        np.testing.assert_allclose(inv.sum(axis=0), 1.0)
    f = ident.fits
    assert len(f) == 2 * 4 * 2 and (f["k"] == 2).all()
    np.testing.assert_allclose(f["aic"], 4 - 2 * f["logl"])
    np.testing.assert_allclose(f["bic"], 2 * np.log(24) - 2 * f["logl"])
    # the i-th subject of both generating models studied the same lists
    assert set(ident.truth) == {"jaxcmr", "cymr"}


def test_confusion_splits_ties_and_inversion_is_bayes():
    fits = pd.DataFrame({"generating": ["a"] * 4 + ["b"] * 4,
                         "subject": [1, 1, 2, 2, 3, 3, 4, 4],
                         "fitted": ["a", "b"] * 4,
                         "aic": [1.0, 1.0, 1.0, 3.0, 5.0, 2.0, 5.0, 2.0]})
    fits["bic"] = fits["aic"]
    res = cmr.IdentifyResult(["a", "b"], "gradient", fits, pd.DataFrame(
        {"generating": list("aabb"), "subject": [1, 2, 3, 4]}), {}, {}, {})
    conf = res.confusion("aic")
    np.testing.assert_allclose(conf.values, [[0.75, 0.25], [0.0, 1.0]])
    np.testing.assert_allclose(res.inversion("bic").values, [[1.0, 0.2], [0.0, 0.8]])


def test_plots_and_json(rec_varied, ident):
    import matplotlib.pyplot as plt

    fig = rec_varied.plot()
    assert len(fig.axes) == 2
    assert "r = " in fig.axes[0].get_title() and "RMSE" in fig.axes[0].get_title()
    for kind in ("confusion", "inversion"):
        fig2 = ident.plot(kind=kind)
        assert len(fig2.axes) == 2
        assert len(fig2.axes[0].texts) == 4  # a number in every cell
    plt.close("all")
    d = json.loads(rec_varied.to_json())
    assert set(d["summary"]) == set(FREE) and d["n_subjects"] == 8
    assert len(d["pairs"]["encoding_drift_rate"]["truth"]) == 8
    j = json.loads(ident.to_json())
    assert j["variants"] == ["jaxcmr", "cymr"]
    assert j["confusion"]["bic"]["cymr"]["cymr"] == ident.confusion("bic").loc["cymr", "cymr"]


def test_default_truth_draws_avoid_the_bounds():
    v = cmr.get_variant("jaxcmr")
    b, fixed = _free_bounds(v, ["encoding_drift_rate", "primacy_scale"], None)
    assert fixed == {}
    assert b == {k: v.params.BOUNDS[k] for k in ("encoding_drift_rate", "primacy_scale")}
    t = _draw_truth(v, None, b, 2000, np.random.default_rng(0))
    for k, (lo, hi) in b.items():
        w = hi - lo
        assert t[k].min() >= lo + 0.1 * w and t[k].max() <= hi - 0.1 * w
        assert t[k].min() < lo + 0.12 * w and t[k].max() > hi - 0.12 * w
    frame = pd.DataFrame({"subject": [1, 2], "encoding_drift_rate": [0.3, 0.4],
                          "primacy_scale": [1.0, 2.0]})
    t2 = _draw_truth(v, frame, b, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(t2["primacy_scale"], [1.0, 2.0])
    # a mapping: a number repeats, (a, b) draws inside [a, b], names left out are drawn
    t3 = _draw_truth(v, {"encoding_drift_rate": 0.5, "primacy_scale": (2.0, 3.0)}, b, 500,
                     np.random.default_rng(1))
    np.testing.assert_array_equal(t3["encoding_drift_rate"], np.full(500, 0.5))
    assert t3["primacy_scale"].between(2.0, 3.0).all() and t3["primacy_scale"].std() > 0.2
    for bad, msg in [({"primacy_scale": "x"}, "expected a number or"),
                     ({"primacy_scale": (3.0, 2.0)}, "lo <= hi"),
                     ({"recall_drift_rate": 0.5}, "not free"),
                     ({"nope": 0.5}, "unknown parameter")]:
        with pytest.raises(ConfigError, match=msg):
            _draw_truth(v, bad, b, 3, np.random.default_rng(0))


def test_design_generates_valence_and_copies_data_lists():
    rng = np.random.default_rng(0)
    bases, desc = _design({"n_lists": 200, "list_length": 10, "valence_p": (0.2, 0.6, 0.2)},
                          2, ("valence",), rng)
    val = np.concatenate([b.features["valence"].ravel() for b in bases])
    assert desc["generated"] == ["valence"] and set(np.unique(val)) == {-1.0, 0.0, 1.0}
    assert abs(np.mean(val == 0) - 0.6) < 0.03 and abs(np.mean(val < 0) - 0.2) < 0.03
    pres = np.vstack([np.tile(np.arange(4), (3, 1)), np.tile(np.arange(10, 14), (3, 1))])
    rec = np.zeros((6, 4), int)
    rec[:, :2] = [2, 1]
    data = cmr.from_arrays(cmr.RecallArrays(np.repeat([1, 2], 3), np.tile([1, 2, 3], 2),
                                            pres, rec))
    bases, desc = _design(data, 3, (), rng)
    assert desc["n_data_subjects"] == 2
    # subject i copies the data's subject i mod 2
    np.testing.assert_array_equal(bases[2].pres_itemnos, bases[0].pres_itemnos)
    assert bases[1].pres_itemnos.min() == 10 and (bases[0].recalls == 0).all()
    with_val = data.assign(valence=np.where(data["trial_type"] == "study", 1.0, np.nan))
    bases, desc = _design(with_val, 2, ("valence",), rng)
    assert "generated" not in desc and (bases[0].features["valence"] == 1).all()


@pytest.mark.parametrize("kwargs,err,match", [
    ({"n_subjects": 1}, ValidationError, "n_subjects"),
    ({"variant": "nope"}, ConfigError, "variant"),
    ({"truth": {"B_enc": 0.5}}, ConfigError, "unknown parameter"),
    ({"truth": {"learning_rate": 0.5}}, ConfigError, "not free"),
    ({"truth": {"encoding_drift_rate": 1.5}}, ConfigError, "inside the fit bounds"),
    ({"truth": pd.DataFrame({"encoding_drift_rate": [0.5]})}, ConfigError, "one row"),
    ({"truth": [0.5]}, ConfigError, "truth"),
    ({"free": ["T"]}, ConfigError, "unknown parameter"),
    ({"free": ["learn_after_context_update"]}, ConfigError, "switches"),
    ({"fixed": {"encoding_drift_rate": 0.5}}, ConfigError, "also free"),
    ({"design": {"n_lists": 3}}, ValidationError, "list_length"),
    ({"design": {"n_lists": 3, "list_length": 4, "lists": 2}}, ValidationError, "unknown"),
    ({"design": "big"}, ValidationError, "design"),
    ({"method": "newton"}, ValidationError, "method"),
    ({"fit_kwargs": {"free": []}}, ConfigError, "fit_kwargs"),
])
def test_recover_bad_input(kwargs, err, match):
    args = {"variant": "jaxcmr", "n_subjects": 2, "design": {"n_lists": 2, "list_length": 4},
            "free": ["encoding_drift_rate"], **kwargs}
    with pytest.raises(err, match=match):
        cmr.recover(args.pop("variant"), **args)


@pytest.mark.parametrize("kwargs,match", [
    ({"variants": ["jaxcmr"]}, "at least 2"),
    ({"variants": ["jaxcmr", "jaxcmr"]}, "distinct"),
    ({"variants": "jaxcmr"}, "sequence"),
    ({"free": {"ecmr": ["emotion_scale"]}}, "not among the variants"),
    ({"free": {"cymr": ["encoding_drift_rate"]}}, "unknown parameter"),
    ({"n_subjects": 0}, "n_subjects"),
])
def test_identify_bad_input(kwargs, match):
    args = {"variants": ["jaxcmr", "cymr"], "n_subjects": 2,
            "design": {"n_lists": 2, "list_length": 4}, **kwargs}
    with pytest.raises(EngramlabError, match=match):
        cmr.identify(args.pop("variants"), **args)


def test_unconverged_fits_give_one_warning():
    with pytest.warns(ConvergenceWarning, match=r"recover \(x\): 2 of 3 fits did not"):
        _warn_unconverged("recover (x)", [1, 2, 3], np.array([True, False, False]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_unconverged("recover (x)", [1, 2], np.array([True, True]))


def test_design_feature_without_rule():
    with pytest.raises(DataError, match="no rule to generate"):
        _design({"n_lists": 2, "list_length": 4}, 2, ("odour",), np.random.default_rng(0))

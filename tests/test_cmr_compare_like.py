"""Like-for-like model comparison (issue 26, part 5): ``compare`` refuses models fitted to
other data (recalls, list subjects, list order), the table and figure show ``k``, the
CLI's ``--free`` / ``--set`` apply per variant, and a hierarchical run of one subject is
refused.

Cheap by construction: the InferenceData objects are built by the same converter
``sample`` ends with (``_to_inference_data``) from made-up draws, so nothing is sampled;
the CLI and ``sample`` tests exercise refusals that come before any sampling.
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import engramlab.cmr as cmr
from engramlab._cli import contract
from engramlab.cli import app
from engramlab.cmr.cli import VariantOptions, per_variant_options
from engramlab.cmr.inference import load_inference, save_inference
from engramlab.cmr.inference.convert import DATA_ATTR, to_inference_data
from engramlab.cmr.inference.fingerprint import data_fingerprint, frame_fingerprint
from engramlab.cmr.inference.spec import Priors, resolve_spec
from engramlab.errors import ConfigError, ValidationError

CS = {"choice_sensitivity": (0.5, 8.0)}
CS_DRIFT = {**CS, "encoding_drift_rate": (0.1, 0.99)}


def _recalls(seed: int = 0, n: int = 8, L: int = 6) -> np.ndarray:
    """``(n, L)`` made-up recalls: distinct 1-based positions, then 0-padding."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, L), dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(1, L + 1))
        out[i, :k] = rng.permutation(L)[:k] + 1
    return out


SUBJ = np.array([1] * 4 + [2] * 4)


def _idata(recalls: np.ndarray, list_subject: np.ndarray, free: dict = CS, seed: int = 0):
    """An InferenceData as ``sample`` returns it (per-subject layout), from random draws."""
    spec = resolve_spec("jaxcmr", free, None)
    subjects = list(pd.unique(list_subject))
    subj_idx = np.array([subjects.index(s) for s in list_subject], dtype=np.int32)
    rng = np.random.default_rng(seed)
    C, D, n = 2, 25, len(list_subject)
    raw = {"s:z": rng.normal(size=(C, D, len(subjects), len(spec.free))),
           "s:log_lik": -6.0 + 0.3 * rng.normal(size=(C, D, n)),
           "x:diverging": np.zeros((C, D), bool), "x:num_steps": np.full((C, D), 3),
           "x:accept_prob": np.full((C, D), 0.8),
           "x:adapt_state.step_size": np.full((C, D), 0.5),
           "x:potential_energy": rng.normal(size=(C, D))}
    return to_inference_data(raw, None, spec, Priors(), False, subjects, subj_idx,
                                  np.asarray(recalls), {})


# --------------------------------------------------------------------------- compare

def _other_recalls() -> tuple[np.ndarray, np.ndarray]:
    other = _recalls()
    other[2] = _recalls(seed=5)[2]          # one list's recalls differ
    assert not np.array_equal(other, _recalls())
    return other, SUBJ


@pytest.mark.parametrize("what, data", [
    ("recalls", _other_recalls()),
    ("list subjects", (_recalls(), np.array([1] * 3 + [2] * 5))),
    ("list order", (_recalls()[::-1], SUBJ[::-1])),
])
def test_compare_refuses_models_fitted_to_other_data(what, data):
    """Same number of lists (the old check passed all three), other data: refused, naming
    both models and what differs."""
    a = _idata(_recalls(), SUBJ)
    b = _idata(*data, seed=1)
    with pytest.raises(ValidationError, match=rf"'a' and 'b'.*what differs: {what}\)"):
        cmr.compare({"a": a, "b": b})


def test_compare_accepts_other_free_sets_and_shows_k():
    """Other free sets on the same data are a legitimate comparison; ``k`` per model."""
    tab = cmr.compare({"one": _idata(_recalls(), SUBJ),
                       "two": _idata(_recalls(), SUBJ, free=CS_DRIFT, seed=2)})
    assert tab.loc["one", "k"] == 1 and tab.loc["two", "k"] == 2
    # the same lists given as another dtype of subject label are the same data
    tab = cmr.compare({"int": _idata(_recalls(), SUBJ),
                       "str": _idata(_recalls(), SUBJ.astype(str), seed=3)})
    assert len(tab) == 2


def test_fingerprint_survives_save_and_load_and_old_results_are_checked(tmp_path):
    a = _idata(_recalls(), SUBJ)
    path = save_inference(a, tmp_path / "a.nc")
    back = load_inference(path)
    assert back.posterior.attrs[DATA_ATTR] == a.posterior.attrs[DATA_ATTR]
    # a result saved before the fingerprint existed: rebuilt from its observed data
    old = load_inference(path)
    del old.posterior.attrs[DATA_ATTR]
    with pytest.raises(ValidationError, match="what differs: list order"):
        cmr.compare({"old": old, "b": _idata(_recalls()[::-1], SUBJ[::-1])})
    # ... and without observed data only the list count can be checked: said so
    del old.observed_data
    with pytest.warns(UserWarning, match=r"\['old'\].*only their number of lists"):
        tab = cmr.compare({"old": old, "b": _idata(_recalls()[::-1], SUBJ[::-1])})
    assert len(tab) == 2


def test_compare_refuses_point_fits_of_other_data():
    a = _idata(_recalls(), SUBJ)
    pf = pd.DataFrame({"subject": [1, 2], "logl": [-10.0, -9.0], "k": [1, 1],
                       "n_lists": [4, 4]})
    pf.attrs[DATA_ATTR] = json.dumps(data_fingerprint(_recalls(), SUBJ))
    tab = cmr.compare({"a": a}, point_fits={"a": pf})
    assert tab.loc["a", "k"] == 1 and tab.loc["a", "k_total"] == 2
    pf.attrs[DATA_ATTR] = json.dumps(data_fingerprint(*_other_recalls()))
    with pytest.raises(ValidationError, match=r"point_fits\['a'\].*what differs: recalls"):
        cmr.compare({"a": a}, point_fits={"a": pf})


def _frame(recalls: np.ndarray, list_subject: np.ndarray) -> pd.DataFrame:
    """A psifr long-format frame with these recalls (study positions) per list."""
    rows = []
    n, L = recalls.shape
    for i in range(n):
        s, lst = list_subject[i], i + 1
        rows += [dict(subject=s, list=lst, trial_type="study", position=p, item=f"w{i}_{p}")
                 for p in range(1, L + 1)]
        rows += [dict(subject=s, list=lst, trial_type="recall", position=o + 1,
                      item=f"w{i}_{r}") for o, r in enumerate(recalls[i][recalls[i] > 0])]
    return pd.DataFrame(rows)


def test_frame_fingerprint_is_the_sampled_datas():
    """What ``point_fits`` stores is what ``sample`` stores for the same frame."""
    df = _frame(_recalls(), SUBJ)
    got = frame_fingerprint(df.sample(frac=1.0, random_state=0))   # row order: no
    assert got == data_fingerprint(_recalls(), SUBJ)
    assert got != frame_fingerprint(_frame(*_other_recalls()))


# --------------------------------------------------------------------------- figure

def test_comparison_figure_shows_k_and_keeps_the_legend_off_the_data():
    import matplotlib.pyplot as plt

    from engramlab.plots.inference import plot_compare

    tab = cmr.compare({"one": _idata(_recalls(), SUBJ),
                       "two": _idata(_recalls(), SUBJ, free=CS_DRIFT, seed=2)})
    ax = plot_compare(tab)
    try:
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert any("one (k = 1)" in t for t in labels)
        assert any("two (k = 2)" in t for t in labels)
        ax.figure.canvas.draw()
        leg = ax.get_legend().get_window_extent()
        box = ax.get_window_extent()
        assert leg.y0 >= box.y1 - 1e-6      # wholly above the data area
    finally:
        plt.close(ax.figure)


# --------------------------------------------------------------------------- CLI

def test_free_and_set_apply_per_variant():
    opts = per_variant_options(
        ["encoding_drift_rate=0.3:0.9", "T", "cymr:B_enc=0.1:0.9", "B_enc=0.2:0.8"],
        ["learning_rate=0.2", "cymr:T=0.3", "T=0.5"], ["jaxcmr", "cymr"])
    assert opts["jaxcmr"] == VariantOptions(free={"encoding_drift_rate": (0.3, 0.9)},
                                            sets={"learning_rate": 0.2})
    # VARIANT:NAME wins over NAME for that variant, whatever the order
    assert opts["cymr"] == VariantOptions(free={"T": None, "B_enc": (0.1, 0.9)},
                                          sets={"T": 0.3})
    # a variant that none of the names fits gets nothing (its default free set)
    opts = per_variant_options(["cymr:T=0.01:1"], None, ["jaxcmr", "cymr"])
    assert opts["jaxcmr"].free == {} and opts["cymr"].free == {"T": (0.01, 1.0)}


@pytest.mark.parametrize("free, sets, match", [
    (["bogus_rate"], None, r"^--free: 'bogus_rate' is not a parameter of any requested "
     r"variant; parameters: jaxcmr: encoding_drift_rate.*; cymr: B_enc"),
    (None, ["bogus_rate=1"], r"^--set: 'bogus_rate'.*jaxcmr: .*cymr: "),
    (["cymr:choice_sensitivity"], None, r"^--free: 'choice_sensitivity'.*variant cymr"),
    (["ecmr:T"], None, r"^--free: .*'ecmr', which is not requested"),
    (["T=1"], None, r"^--free: expected NAME=LO:HI"),
])
def test_per_variant_names_are_checked(free, sets, match):
    with pytest.raises(ConfigError, match=match):
        per_variant_options(free, sets, ["jaxcmr", "cymr"])


def _run(args: list[str]) -> tuple[int, str, str]:
    with contract():
        r = CliRunner().invoke(app, args)
    return r.exit_code, r.stdout, r.stderr


def test_cli_unknown_free_name_is_exit_2_naming_the_variants_parameters():
    code, _, err = _run(["cmr", "sample", "--variant", "jaxcmr", "--variant", "cymr",
                         "--free", "bogus_rate", "-q"])
    assert code == 2
    [line] = [ln for ln in err.splitlines() if ln.strip()]
    assert line.startswith("error: --free: 'bogus_rate'")
    assert "jaxcmr: encoding_drift_rate" in line and "cymr: B_enc" in line


def test_cli_hierarchical_one_subject_is_refused_and_default_free_set_is_said():
    """Two variants, --free only for cymr: jaxcmr keeps its default free set and says so;
    then the one-subject hierarchical run is refused before sampling (exit 2)."""
    code, out, err = _run(["cmr", "sample", "--subject", "1", "--variant", "jaxcmr",
                           "--variant", "cymr", "--free", "cymr:T=0.01:1", "--chains", "1",
                           "--draws", "1", "--warmup", "0", "--ppc-draws", "0", "-q"])
    assert "[jaxcmr] no --free name applies to jaxcmr: sampling its default free set" in out
    assert code == 2
    assert "at least 2 subjects" in err and "--no-hierarchical" in err


def test_sample_refuses_hierarchical_with_one_subject():
    df = _frame(_recalls()[:4], SUBJ[:4])
    with pytest.raises(ConfigError, match=r"^hierarchical: .*at least 2 subjects.*"
                                          r"hierarchical=False"):
        cmr.sample(df, key=jax.random.key(0), free=CS, chains=1, draws=1, warmup=0,
                   precondition=None, quiet=True, check=False)

"""The ``cmr.loglik`` sweep model: a family model plugged into the sweep machinery.

Every grid point must equal :func:`engramlab.cmr.log_likelihood` called directly on the
same data with the same parameters (the CMR family validates the likelihood itself
against cymr and the reference equations)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engramlab.cli import app
from engramlab.errors import ConfigError, DataError
from engramlab.experiments.config import available_models, get_model, load_config
from engramlab.experiments.store import open_results

EXAMPLE = Path(__file__).parents[1] / "examples" / "cmr_loglik.toml"


def test_schema_matches_the_cmr_parameter_class():
    from engramlab.cmr import JaxcmrParams

    spec = get_model("cmr.loglik")
    assert "cmr.loglik" in available_models()
    fields = spec.params.model_fields
    assert tuple(fields) == JaxcmrParams.names()
    defaults = JaxcmrParams()
    for name, (lo, hi) in JaxcmrParams.VALID.items():
        f = fields[name]
        if name in JaxcmrParams.FLAGS:  # switches are booleans
            assert f.annotation is bool and f.default is getattr(defaults, name)
            continue
        assert f.default == getattr(defaults, name)
        ge = [m.ge for m in f.metadata if getattr(m, "ge", None) is not None]
        le = [m.le for m in f.metadata if getattr(m, "le", None) is not None]
        assert ge == [lo]
        assert le == ([] if math.isinf(hi) else [hi])


def test_example_sweep_equals_direct_log_likelihood(tmp_path):
    from engramlab.cmr import load_dataset, log_likelihood

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(EXAMPLE), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    ds = open_results(out)
    assert ds["loglik"].dims == ("choice_sensitivity", "learning_rate", "seed")
    df = load_dataset("Morton2013")
    df = df[df["subject"] == 1]
    cfg = load_config(EXAMPLE)
    n_lists = df.loc[df["trial_type"] == "study", "list"].nunique()
    for cs in ds["choice_sensitivity"].values[[0, -1]]:
        for lr in ds["learning_rate"].values[[0, -1]]:
            direct = log_likelihood(df, {**get_model("cmr.loglik").params().model_dump(),
                                         **cfg.fixed, "choice_sensitivity": float(cs),
                                         "learning_rate": float(lr)})
            got = ds["loglik"].sel(choice_sensitivity=cs, learning_rate=lr).item()
            np.testing.assert_allclose(got, direct, rtol=1e-10)
            per = ds["loglik_per_list"].sel(choice_sensitivity=cs, learning_rate=lr).item()
            np.testing.assert_allclose(per, direct / n_lists, rtol=1e-10)
    assert (out / "report.html").exists()


def test_dataset_errors(tmp_path):
    base = EXAMPLE.read_text()
    p = tmp_path / "c.toml"
    p.write_text(base.replace('name = "Morton2013"', 'name = "Morton2013"\npath = "x.csv"'))
    with pytest.raises(ConfigError, match="exactly one of 'path'"):
        load_config(p)
    p.write_text(base.replace('name = "Morton2013"\n', 'path = "nowhere.csv"\n'))
    with pytest.raises(ConfigError, match="dataset.path: file not found"):
        load_config(p)
    p.write_text(base[: base.index("[dataset]")] + base[base.index("[sweep]"):])
    with pytest.raises(ConfigError, match="needs a \\[dataset\\] table"):
        load_config(p, out_dir=tmp_path / "o")
    p.write_text(base.replace("subjects = [1]", "subjects = [99999]"))
    res = load_config(p, out_dir=tmp_path / "o")
    from engramlab.experiments.runner import execute

    with pytest.raises(DataError, match="99999"):
        execute(res, quiet=True)


@pytest.mark.parametrize("variant", ["ecmr", "cmr3"])
def test_emotional_example_sweep_equals_direct_log_likelihood(tmp_path, variant):
    """The cmr.loglik.<variant> sweep models read the valence column of the data set."""
    import pandas as pd

    from engramlab.cmr import log_likelihood

    example = EXAMPLE.parent / f"cmr_loglik_{variant}.toml"
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(example), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    ds = open_results(out)
    df = pd.read_csv(EXAMPLE.parent / "data" / "emotional_lists.csv")
    cfg = load_config(example)
    spec = get_model(f"cmr.loglik.{variant}")
    for es in ds["emotion_scale"].values[[0, -1]]:
        direct = log_likelihood(df, {**spec.params().model_dump(), **cfg.fixed,
                                     "emotion_scale": float(es), "learning_rate": 0.1},
                                variant=variant)
        got = ds["loglik"].sel(emotion_scale=es, learning_rate=0.1).item()
        np.testing.assert_allclose(got, direct, rtol=1e-10)

"""``engramlab cmr``: thin commands agree with the library; clean errors."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import engramlab.cmr as cmr
from engramlab.cli import app
from engramlab.errors import ConfigError

runner = CliRunner()


def test_loglik_matches_library():
    res = runner.invoke(app, ["cmr", "loglik", "--subject", "1", "--variant", "cymr",
                              "--set", "T=0.2", "--pool-size", "768"])
    assert res.exit_code == 0, res.output
    df = cmr.load_dataset("Morton2013")
    ref = cmr.log_likelihood(df[df["subject"] == 1], cmr.CymrParams(T=0.2), variant="cymr",
                             pool_size=768)
    assert float(res.output.strip()) == pytest.approx(ref, rel=1e-9)


def test_simulate_writes_psifr_csv_and_scores(tmp_path):
    out = tmp_path / "sim.csv"
    res = runner.invoke(app, ["cmr", "simulate", "--list-length", "6", "--n-lists", "5",
                              "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert set(df["trial_type"]) == {"study", "recall"}
    res = runner.invoke(app, ["cmr", "loglik", "--data", str(out)])
    assert float(res.output.strip()) == pytest.approx(
        cmr.log_likelihood(df, cmr.JaxcmrParams()), rel=1e-9)


def test_unknown_parameter_is_a_clean_error():
    res = runner.invoke(app, ["cmr", "loglik", "--set", "B_enc=0.5"])
    assert isinstance(res.exception, ConfigError)
    assert "B_enc" in str(res.exception)

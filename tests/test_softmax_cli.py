"""``engramlab softmax run|theory|capacity``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from engramlab.cli import app
from engramlab.errors import ValidationError

runner = CliRunner()


def test_run_writes_similarity_and_theory(tmp_path):
    out = tmp_path / "run.json"
    res = runner.invoke(app, ["softmax", "run", "--n-steps", "200", "--out", str(out),
                              "--plot", str(tmp_path / "fig.png")])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert len(data["similarity"]) == 201 and len(data["similarity"][0]) == 4
    err = max(abs(a - b) for ra, rb in zip(data["similarity"], data["theory"], strict=True)
              for a, b in zip(ra, rb, strict=True))
    assert err < 2e-3
    assert (tmp_path / "fig.png").exists()


def test_theory_and_capacity(tmp_path):
    out = tmp_path / "theory.json"
    res = runner.invoke(app, ["softmax", "theory", "--seeds", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["measured_norms"]["max"] < 2e-3
    out = tmp_path / "cap.json"
    res = runner.invoke(app, ["softmax", "capacity", "--k", "2", "--k", "4", "--beta", "1.0",
                              "--n-cues", "8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    cap = json.loads(out.read_text())
    assert cap["dam_learned"] == [[[1.0]], [[1.0]]]


def test_bad_parameter_raises_validation_error():
    res = runner.invoke(app, ["softmax", "run", "--tau", "0.5"])
    assert isinstance(res.exception, ValidationError)
    assert "dt" in str(res.exception)

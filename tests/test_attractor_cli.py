"""``engramlab attractor demo|scan|capacity`` write their results; bad input is reported."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from engramlab.attractor.cli import app
from engramlab.errors import ShapeError, ValidationError

runner = CliRunner()


def test_demo_scan_capacity_write_outputs(tmp_path):
    r = runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "-n", "60", "-p", "2",
                            "-e", "0", "-e", "2", "--trials", "5", "--steps", "20",
                            "--noise", "0", "--noise", "0.5", "-q"])
    assert r.exit_code == 0, r.output
    for f in ("retrieval_weights.png", "basin_vs_emotion.png", "pca_trajectories.png",
              "attractor_demo.nc", "summary.json"):
        assert (tmp_path / "d" / f).exists()
    r = runner.invoke(app, ["scan", "--out", str(tmp_path / "s"), "-n", "40", "--trials", "5",
                            "--beta-num", "4", "--salience", "seed", "-q"])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "s" / "beta_scan.json").read_text())
    assert len(res["strength"]["seed"]) == 4
    # the printed table pairs every success rate with its beta (0.1, 1.73, 3.37, 5)
    rows = [line for line in r.output.splitlines() if line.count("│") >= 3]
    assert [row.split("│")[1].strip() for row in rows] == ["0.1", "1.73", "3.37", "5"]
    assert [float(row.split("│")[2]) for row in rows] == pytest.approx(
        res["strength"]["seed"], abs=0.005)
    r = runner.invoke(app, ["capacity", "--out", str(tmp_path / "c"), "-n", "50",
                            "--load-num", "3", "--networks", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c" / "capacity.png").exists()


def test_bad_input_is_an_engramlab_error(tmp_path):
    r = runner.invoke(app, ["demo", "--out", str(tmp_path), "-p", "2", "-e", "1", "-q"])
    assert isinstance(r.exception, ShapeError) and "emotions" in str(r.exception)
    r = runner.invoke(app, ["scan", "--out", str(tmp_path), "--salience", "fear", "-q"])
    assert isinstance(r.exception, ValidationError) and "salience" in str(r.exception)
    r = runner.invoke(app, ["scan", "--out", str(tmp_path), "--trials", "-1", "-q"])
    assert isinstance(r.exception, ValidationError) and "trials" in str(r.exception)

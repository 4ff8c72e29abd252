"""`engramlab validate / run / sweep / rerun / report` on the shipped example configs."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engramlab.cli import app
from engramlab.errors import ConfigError
from engramlab.experiments.config import available_models, load_config
from engramlab.experiments.store import open_results

runner = CliRunner()
EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.toml"))


def test_commands_are_registered():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("run", "sweep", "validate", "rerun", "report"):
        assert cmd in res.output
    res = runner.invoke(app, ["sweep", "--help"])
    assert "--scheduler" in res.output and "--workers" in res.output


def test_every_example_validates_and_every_model_has_an_example():
    assert EXAMPLES
    models = set()
    for path in EXAMPLES:
        res = runner.invoke(app, ["validate", str(path)])
        assert res.exit_code == 0, (path, res.output)
        assert "ok" in res.output
        models.add(load_config(path).config.model)
    # every family model that exists now ships an example
    assert set(available_models()) <= models, set(available_models()) - models


def test_bad_config_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nmodel = "memory.capacity"\n[grid]\nn_units = [1, 2]\n')
    res = runner.invoke(app, ["validate", str(bad)])
    assert isinstance(res.exception, ConfigError)
    out = subprocess.run([sys.executable, "-c", "from engramlab.cli import main; main()",
                          "validate", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "grid.n_units[0]" in out.stderr and "[2, 1024]" in out.stderr


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "run"
    path = next(p for p in EXAMPLES if p.stem == "memory_capacity")
    res = runner.invoke(app, ["run", str(path), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return path, out


def test_run_writes_a_reproducible_run_directory(example_run):
    path, out = example_run
    for name in ("config.toml", "environment.json", "run.json", "results.nc", "report.html"):
        assert (out / name).exists(), name
    cfg = tomllib.loads((out / "config.toml").read_text())
    assert cfg["model"] == "memory.capacity" and cfg["seeds"] == {"base": 0, "count": 6}
    assert cfg["grid"]["n_patterns"] == [2, 4, 8, 16, 32, 64]
    env = json.loads((out / "environment.json").read_text())
    import jax
    import numpy

    assert env["packages"]["numpy"] == numpy.__version__ and env["jax"] == jax.__version__
    run = json.loads((out / "run.json").read_text())
    assert run["seeds"] == [0, 1, 2, 3, 4, 5] and run["sessions"][0]["scheduler"] == "inline"
    # the example's science: crosstalk variance follows (P - 1)/N
    ds = open_results(out)
    mean = ds["crosstalk_var"].mean("seed")
    sem = ds["crosstalk_var"].std("seed", ddof=1) / np.sqrt(ds.sizes["seed"])
    theory = (ds["n_patterns"] - 1) / ds["n_units"]
    assert float(np.abs((mean - theory) / np.maximum(sem, 1e-3)).max()) < 5


def test_rerun_reproduces_bitwise_and_report_rewrites(example_run):
    _, out = example_run
    res = runner.invoke(app, ["rerun", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert "identical" in res.output
    cmp = json.loads((out / "rerun" / "rerun.json").read_text())
    assert cmp["identical"] is True
    assert all(v == 0.0 for v in cmp["max_abs_diff"].values())
    (out / "report.html").unlink()
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    for var in ("crosstalk_var", "bit_error", "perfect_recall", "signal"):
        assert f"figures/{var}.png" in html
    assert "Simulation vs closed-form theory" in html and "Timings" in html


def test_sweep_command_on_local_dask_cluster(example_run, tmp_path):
    path, out = example_run
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "s"), "-q",
                              "--workers", "2", "--no-report"])
    assert res.exit_code == 0, res.output
    assert "local:2" in res.output
    a, b = open_results(out), open_results(tmp_path / "s")
    for v in ("crosstalk_var", "bit_error", "perfect_recall", "signal"):
        np.testing.assert_array_equal(a[v].values, b[v].values)
    assert not (tmp_path / "s" / "report.html").exists()


def test_report_and_rerun_of_a_non_run_directory(tmp_path):
    res = runner.invoke(app, ["rerun", str(tmp_path)])
    assert isinstance(res.exception, ConfigError)
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exception is not None and "no results.nc" in str(res.exception)


@pytest.mark.parametrize("grid, note", [
    ("", "One seed"),
    ("[grid]\nn_patterns = [3, 4]\nn_units = [12, 16]\nlearning_rate = [0.5, 1.0]\n",
     "Other axes at their first value: learning_rate = 0.5"),
])
def test_report_of_grids_with_zero_and_three_axes(tmp_path, grid, note):
    cfg = tmp_path / "c.toml"
    cfg.write_text('name = "g"\nmodel = "memory.capacity"\n[params]\n'
                   + ("n_units = 16\nn_patterns = 3\n" if not grid else "") + grid
                   + "[seeds]\ncount = 1\n[sweep]\nchunk_size = 8\n")
    res = runner.invoke(app, ["run", str(cfg), "--out", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r" / "report.html").read_text()
    assert note in html
    for var in ("crosstalk_var", "bit_error", "perfect_recall", "signal"):
        assert (tmp_path / "r" / "figures" / f"{var}.png").stat().st_size > 5000

"""The command line: help, version, lazy imports, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from engramlab import __version__
from engramlab.cli import app

runner = CliRunner()


def test_help_lists_demo_and_families():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "demo" in res.output


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert __version__ in res.output


def test_python_dash_m_runs_the_same_command_line():
    out = subprocess.run([sys.executable, "-m", "engramlab", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert __version__ in out.stdout


def test_help_does_not_import_jax():
    code = (
        "import sys\n"
        "from engramlab.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('jax', 'numpy', 'matplotlib', 'mne', 'pandas', 'dask') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_demo_rejects_unknown_family(tmp_path):
    res = runner.invoke(app, ["demo", "--only", "nonsense", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert "unknown family" in res.output


def test_demo_memory_section_and_resume(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--only", "memory", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    mem = metrics["sections"]["memory"]
    # closed form: initial shared+item support, plus one association of the learning rate
    assert abs(mem["mcf_initial_1_0"] - 0.25) < 1e-6
    assert abs(mem["mcf_final_1_0"] - 0.55) < 1e-6
    assert mem["probe_argmax"] == 0
    for name in ("mcf_initial", "mcf_evolution", "association_growth", "mfc_initial"):
        for ext in ("png", "svg"):
            assert (out / "memory" / f"{name}.{ext}").stat().st_size > 1000
    assert (out / "memory" / "memory.nc").exists()
    stamp = (out / "memory" / "mcf_evolution.png").stat().st_mtime_ns
    res = runner.invoke(app, ["demo", "--only", "memory", "--out", str(out), "-q", "--resume"])
    assert res.exit_code == 0, res.output
    assert (out / "memory" / "mcf_evolution.png").stat().st_mtime_ns == stamp  # reused

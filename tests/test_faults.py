"""Faults: killed, truncated, emptied, corrupted and edited files of a sweep and of a demo.

After each fault the run is resumed and must give a result identical (bit for bit) to an
uninterrupted run, say on the console what it recomputed, and leave no temporary file.
Cheap checks (every kind of damage against the verifier) run without recomputing;
a few full resumes (in-process, reusing the JIT cache) and one SIGKILLed subprocess sweep
check the whole path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from sweep_checks import assert_same_results
from typer.testing import CliRunner

from engramlab._cli import contract
from engramlab.cli import app
from engramlab.errors import DivergenceError
from engramlab.experiments.config import ModelSpec, load_config, register_model
from engramlab.experiments.demo import _reusable, run_demo
from engramlab.experiments.runner import execute
from engramlab.experiments.store import open_results
from engramlab.experiments.sweep import make_store

SWEEP = """
name = "faults"
model = "memory.capacity"
[params]
learning_rate = 0.7
[grid]
n_patterns = [3, 4]
n_units = [12, 16]
[seeds]
base = 5
count = 2
[sweep]
chunk_size = 2
[outputs]
report = false
"""


def run_cli(args: list[str]) -> tuple[int, str, str]:
    with contract(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr



# --------------------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sweep_ref(tmp_path_factory):
    """An uninterrupted run: (config path, run dir, results)."""
    d = tmp_path_factory.mktemp("sweep")
    cfg = d / "sweep.toml"
    cfg.write_text(SWEEP)
    out = d / "ref"
    res = execute(load_config(cfg, out_dir=out), scheduler="inline", quiet=True,
                  report=False)
    return cfg, out, res.results


def _edit_chunk(path: Path) -> None:
    """Change one value inside a chunk file (a valid NetCDF file with another number)."""
    import h5netcdf

    with h5netcdf.File(path, "a") as f:
        f.variables["bit_error"][0] = 0.123


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "zero-length": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
    "edited": _edit_chunk,
    "deleted": lambda p: p.unlink(),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_verify_finds_every_kind_of_damaged_chunk(sweep_ref, tmp_path, kind, capfd):
    cfg, ref_dir, _ = sweep_ref
    run = tmp_path / "run"
    shutil.copytree(ref_dir, run)
    store = make_store(load_config(cfg, out_dir=run))
    store.open()
    DAMAGE[kind](store.chunk_path(1))
    assert store.n_chunks == 4 and store.verify() == {0, 2, 3}
    err = capfd.readouterr().err
    assert "chunk 1" in err and "recomputing" in err
    assert not store.chunk_path(1).exists()  # removed, so it is computed again


def test_damaged_sweep_resumes_to_identical_results(sweep_ref, tmp_path):
    """Truncated, zero-length, edited chunks, a corrupt store.json and run.json, an
    orphaned temporary file: one resume recomputes what is damaged, bit for bit."""
    cfg, ref_dir, ref = sweep_ref
    run = tmp_path / "run"
    shutil.copytree(ref_dir, run)
    chunks = sorted((run / "chunks").glob("chunk-*.nc"))
    assert len(chunks) == 4
    DAMAGE["truncated"](chunks[0])
    DAMAGE["zero-length"](chunks[1])
    DAMAGE["edited"](chunks[2])
    (run / "store.json").write_text('{"key": ')
    (run / "run.json").write_bytes(b"\x00\xff")
    (run / "results.nc").write_bytes(b"")
    orphan = run / "chunks" / ".chunk-000003.nc.abc123.tmp"
    orphan.write_bytes(b"half a chunk")
    code, out, err = run_cli(["run", cfg, "--out", run, "-q", "--no-report"])
    assert code == 0, err
    for i in range(3):
        assert f"chunk {i}" in err, err
    assert "store.json is corrupt" in err and "run.json is corrupt" in err
    assert "3 computed, 1 reused" in out
    assert not list(run.rglob("*.tmp"))
    assert_same_results(open_results(run), ref)
    # and a second resume has nothing left to repair
    code, out, err = run_cli(["run", cfg, "--out", run, "-q", "--no-report"])
    assert code == 0 and "0 computed, 4 reused" in out and not err.strip(), err


def test_sweep_sigkilled_mid_run_then_damaged_resumes_identically(sweep_ref, tmp_path):
    """`engramlab sweep` SIGKILLed in a subprocess; then the last chunk is truncated as a
    dying disk might leave it; the resumed sweep equals the uninterrupted run."""
    cfg, _, _ = sweep_ref
    text = SWEEP.replace("n_patterns = [3, 4]", "n_patterns = [2, 3, 5, 9, 17, 33]").replace(
        "n_units = [12, 16]", "n_units = [16]").replace("count = 2", "count = 1").replace(
        "chunk_size = 2", "chunk_size = 1")
    kcfg = tmp_path / "kill.toml"
    kcfg.write_text(text)
    ref = execute(load_config(kcfg, out_dir=tmp_path / "ref"), scheduler="inline",
                  quiet=True, report=False).results
    out = tmp_path / "killed"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ENGRAMLAB_QUIET": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from engramlab.cli import main; main()",
                             "sweep", str(kcfg), "--out", str(out), "-q", "--no-report"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def n_done() -> int:
        return len(list((out / "chunks").glob("chunk-*.nc"))) if (out / "chunks").exists() \
            else 0

    deadline = time.time() + 180
    while n_done() < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    done = sorted((out / "chunks").glob("chunk-*.nc"))
    assert 2 <= len(done) < 6 and not (out / "results.nc").exists()
    DAMAGE["truncated"](done[-1])
    code, stdout, err = run_cli(["run", kcfg, "--out", out, "-q", "--no-report"])
    assert code == 0, err
    assert f"chunk {done[-1].name[6:12].lstrip('0') or '0'}" in err, err
    assert not list(out.rglob("*.tmp"))
    assert_same_results(open_results(out), ref)
    sessions = json.loads((out / "run.json").read_text())["sessions"]
    assert sessions[-1]["chunks_reused"] == len(done) - 1


def test_non_finite_output_stops_the_sweep_naming_the_grid_point(tmp_path):
    """A model that overflows at one grid point: DivergenceError naming the point's
    parameters (never NaN/inf written into results.nc); the CLI says it in one line."""
    from pydantic import BaseModel, Field

    class ToyParams(BaseModel):
        x: float = Field(1.0, ge=-10, le=10)

    def evaluate(params, seeds):
        x = np.asarray(params["x"])
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"y": 1.0 / (x - 2.0), "z": np.where(x > 0, x, np.nan)}

    register_model("faults.toy", ModelSpec(name="faults.toy", params=ToyParams,
                                           evaluate=evaluate, outputs={"y": "1/(x-2)",
                                                                       "z": "x or NaN"},
                                           nan_outputs=("z",)), overwrite=True)
    cfg = tmp_path / "toy.toml"
    cfg.write_text('name = "toy"\nmodel = "faults.toy"\n[grid]\nx = [-1.0, 1.0, 2.0, 3.0]\n'
                   "[sweep]\nchunk_size = 2\n[outputs]\nreport = false\n")
    with pytest.raises(DivergenceError, match=r"'y' is inf at the grid point x=2\.0, seed=0"):
        execute(load_config(cfg, out_dir=tmp_path / "a"), scheduler="inline", quiet=True)
    assert not (tmp_path / "a" / "results.nc").exists()
    code, out, err = run_cli(["run", cfg, "--out", tmp_path / "b", "-q"])
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "x=2.0" in lines[0], err
    # NaN where the model declares "undefined" is kept
    cfg.write_text(cfg.read_text().replace("2.0, 3.0", "3.0"))
    res = execute(load_config(cfg, out_dir=tmp_path / "c"), scheduler="inline", quiet=True)
    assert np.isnan(res.results["z"].values[0, 0]) and np.isfinite(res.results["y"]).all()


# --------------------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_ref(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "ref"
    _, sections = run_demo(out, seed=0, quiet=True, only=["memory"])
    assert sections[0].error is None
    return out


def _section_files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((d / "memory").iterdir())
            if p.name != "section.json"}


def _section_json(d: Path) -> dict:
    s = json.loads((d / "memory" / "section.json").read_text())
    return {k: v for k, v in s.items() if k not in ("seconds", "sha256")}


def _edit_section(p: Path) -> None:
    s = json.loads(p.read_text())
    s["metrics"]["probe_argmax"] = 7  # valid JSON, wrong content
    p.write_text(json.dumps(s))


DEMO_DAMAGE = {
    "png-truncated": ("mcf_initial.png", DAMAGE["truncated"]),
    "svg-zero-length": ("mcf_evolution.svg", DAMAGE["zero-length"]),
    "nc-edited": ("memory.nc", lambda p: p.write_bytes(p.read_bytes()[:-8] + b"\x00" * 8)),
    "png-deleted": ("association_growth.png", DAMAGE["deleted"]),
    "section-corrupt": ("section.json", lambda p: p.write_text('{"key": "memory",')),
    "section-empty": ("section.json", DAMAGE["zero-length"]),
    "section-edited": ("section.json", _edit_section),
}


@pytest.mark.parametrize("kind", sorted(DEMO_DAMAGE))
def test_demo_resume_rejects_every_kind_of_damaged_section(demo_ref, tmp_path, kind, capfd):
    out = tmp_path / "demo"
    shutil.copytree(demo_ref, out)
    assert _reusable(out / "memory" / "section.json", out, 0) is not None
    name, damage = DEMO_DAMAGE[kind]
    damage(out / "memory" / name)
    assert _reusable(out / "memory" / "section.json", out, 0) is None
    assert "recomputing" in capfd.readouterr().err


@pytest.mark.parametrize("kinds", [("png-truncated", "nc-edited"), ("section-corrupt",)])
def test_damaged_demo_resumes_to_identical_files(demo_ref, tmp_path, kinds):
    out = tmp_path / "demo"
    shutil.copytree(demo_ref, out)
    for kind in kinds:
        name, damage = DEMO_DAMAGE[kind]
        damage(out / "memory" / name)
    orphan = out / "memory" / ".mcf_initial.png.xyz.tmp"
    orphan.write_bytes(b"half a figure")
    code, stdout, err = run_cli(["demo", "--only", "memory", "--out", out, "-q", "--resume"])
    assert code == 0, err
    assert "demo section memory" in err and "recomputing" in err
    assert not list(out.rglob("*.tmp"))
    assert _section_files(out) == _section_files(demo_ref)  # bit for bit
    assert _section_json(out) == _section_json(demo_ref)
    m_out = json.loads((out / "metrics.json").read_text())["sections"]
    m_ref = json.loads((demo_ref / "metrics.json").read_text())["sections"]
    assert m_out == m_ref
    # an intact section is reused (not recomputed) on the next resume
    stamp = (out / "memory" / "mcf_initial.png").stat().st_mtime_ns
    code, stdout, err = run_cli(["demo", "--only", "memory", "--out", out, "-q", "--resume"])
    assert code == 0 and not err.strip(), err
    assert (out / "memory" / "mcf_initial.png").stat().st_mtime_ns == stamp

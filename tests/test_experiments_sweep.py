"""Sweeps: grid layout, the chunk store, resume after a kill, and Dask (threads and
two worker processes on loopback) giving exactly the single-process results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sweep_checks import assert_same_results

from engramlab.errors import ConfigError, DataError
from engramlab.experiments import config as C
from engramlab.experiments.config import ModelSpec, load_config, register_model
from engramlab.experiments.runner import execute, run_config
from engramlab.experiments.store import open_results
from engramlab.experiments.sweep import (
    Grid,
    evaluate_chunk,
    make_store,
    run_sweep,
    software_versions,
)
from engramlab.memory.sweeps import MemoryCapacityParams

# every chunk has the same compiled shape (P padded to 4, N to 16): cheap to run anywhere
SWEEP = """
name = "sweep-test"
model = "memory.capacity"
[params]
learning_rate = 0.7
[grid]
n_patterns = [3, 4]
n_units = [12, 16]
[seeds]
base = 11
count = 3
[sweep]
chunk_size = 4
[outputs]
report = false
"""
# six chunks, each needing its own compiled shape (P padded to 2, 4, ..., 64), so a kill
# after two chunks always leaves work to resume
KILL_SWEEP = SWEEP.replace("n_patterns = [3, 4]", "n_patterns = [2, 3, 5, 9, 17, 33]").replace(
    "n_units = [12, 16]", "n_units = [16, 48]").replace("chunk_size = 4", "chunk_size = 6")


def _config(tmp_path: Path, text: str = SWEEP) -> Path:
    p = tmp_path / "sweep.toml"
    p.write_text(text)
    return p



@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted single-process (no Dask) run."""
    tmp = tmp_path_factory.mktemp("ref")
    res = load_config(_config(tmp), out_dir=tmp / "run")
    out = execute(res, scheduler="inline", quiet=True, report=False)
    return tmp / "sweep.toml", out.results


def test_grid_batch_matches_meshgrid():
    g = Grid(axes={"a": (1.0, 2.0, 3.0), "n": (4, 5), "seed": (7, 8)}, fixed={"lr": 0.5},
             int_params=frozenset({"n"}))
    params, seeds = g.batch(0, g.size)
    a, n, s = np.meshgrid([1.0, 2.0, 3.0], [4, 5], [7, 8], indexing="ij")
    np.testing.assert_array_equal(params["a"], a.ravel())
    np.testing.assert_array_equal(params["n"], n.ravel())
    np.testing.assert_array_equal(seeds, s.ravel())
    assert params["n"].dtype == np.int64 and seeds.dtype == np.int64
    np.testing.assert_array_equal(params["lr"], 0.5)
    p2, s2 = g.batch(10, 12, pad_to=5)  # padded with the last point
    np.testing.assert_array_equal(s2, [7, 8, 8, 8, 8])
    np.testing.assert_array_equal(p2["a"], 3.0)


def _toy(params, seeds):
    """y = 100 n_patterns + n_units + seed / 1000: checks where every value lands."""
    return {"y": params["n_patterns"] * 100.0 + params["n_units"] + seeds / 1000.0,
            "bad": np.zeros(3)}


def test_store_layout_with_a_closed_form_model(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "KNOWN_MODELS", dict(C.KNOWN_MODELS))
    register_model("toy.layout", ModelSpec(name="toy.layout", params=MemoryCapacityParams,
                                           evaluate=_toy, outputs={"y": "y", "bad": "bad"}))
    text = KILL_SWEEP.replace('"memory.capacity"', '"toy.layout"').replace(
        "chunk_size = 6", "chunk_size = 5") + 'variables = ["y"]\n'
    res = load_config(_config(tmp_path, text), out_dir=tmp_path / "run")
    ds = execute(res, scheduler="inline", quiet=True, report=False).results
    assert ds["y"].dims == ("n_patterns", "n_units", "seed")
    p, n, s = np.meshgrid([2, 3, 5, 9, 17, 33], [16, 48], [11, 12, 13], indexing="ij")
    np.testing.assert_allclose(ds["y"].values, p * 100.0 + n + s / 1000.0)
    assert ds.sizes["chunk"] == 8  # ceil(36 / 5)
    again = open_results(tmp_path / "run")
    np.testing.assert_array_equal(again["y"].values, ds["y"].values)
    # a model returning the wrong shape is caught with its name
    bad = load_config(_config(tmp_path, text.replace('variables = ["y"]',
                                                     'variables = ["bad"]')),
                      out_dir=tmp_path / "bad")
    with pytest.raises(DataError, match="output 'bad' has shape"):
        evaluate_chunk(bad.spec, Grid.from_resolved(bad), ["bad"], 5, 0)


def test_inline_results_follow_theory(reference):
    cfg, ref = reference
    assert ref["bit_error"].dims == ("n_patterns", "n_units", "seed")
    assert ref.attrs["model"] == "memory.capacity"
    # crosstalk variance (P - 1)/N in expectation: > 0 for every point with P >= 2
    assert np.all(ref["crosstalk_var"].values > 0)
    assert ref.sizes["chunk"] == 3 and np.all(ref["chunk_seconds"].values > 0)


def test_dask_local_cluster_threads_equals_inline(reference, tmp_path):
    cfg, ref = reference
    res = load_config(cfg, out_dir=tmp_path / "dask")
    out = execute(res, scheduler=None, workers=2, quiet=True, report=False)
    assert out.stats.scheduler == "local:2" and out.stats.computed == 3
    assert_same_results(out.results, ref)


@pytest.mark.slow
def test_dask_two_worker_processes_on_loopback_equals_inline(reference, tmp_path):
    from distributed import Client, LocalCluster

    cfg, ref = reference
    res = load_config(cfg, out_dir=tmp_path / "dist")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        out = execute(res, scheduler=cluster.scheduler_address, quiet=True, report=False)
        with Client(cluster.scheduler_address) as client:
            ran_on = client.run(os.getpid)
    assert len(ran_on) == 2 and os.getpid() not in ran_on.values()
    assert_same_results(out.results, ref)
    # each worker's software versions are checked and recorded with the run
    sessions = json.loads((tmp_path / "dist" / "run.json").read_text())["sessions"]
    recorded = sessions[-1]["worker_versions"]
    assert set(recorded) == set(ran_on)
    assert all(v == software_versions() for v in recorded.values())


def test_resume_after_losing_chunks_and_partial_runs(reference, tmp_path):
    cfg, ref = reference
    res = load_config(cfg, out_dir=tmp_path / "partial")
    st = run_sweep(res, scheduler="inline", quiet=True, max_chunks=1)
    assert (st.computed, st.reused) == (1, 0)
    store = make_store(res)
    with pytest.raises(DataError, match="2 chunks are missing"):
        store.merge()
    out = execute(res, scheduler="inline", quiet=True, report=False)
    assert (out.stats.computed, out.stats.reused) == (2, 1)
    assert_same_results(out.results, ref)
    # a stale temporary file (a write killed mid-way) is ignored and recomputed over
    (store.chunk_dir / ".chunk-000002.nc.abc.tmp").write_bytes(b"partial")
    store.chunk_path(2).unlink()
    out = execute(res, scheduler="inline", quiet=True, report=False)
    assert (out.stats.computed, out.stats.reused) == (1, 2)
    assert_same_results(out.results, ref)


def test_directory_of_a_different_sweep_is_refused(reference, tmp_path):
    cfg, _ = reference
    res = load_config(cfg, out_dir=tmp_path / "d")
    run_sweep(res, scheduler="inline", quiet=True, max_chunks=1)
    other = load_config(_config(tmp_path, SWEEP.replace("learning_rate = 0.7",
                                                        "learning_rate = 0.8")),
                        out_dir=tmp_path / "d")
    with pytest.raises(ConfigError, match="different sweep"):
        execute(other, scheduler="inline", quiet=True)


@pytest.mark.slow
def test_sweep_killed_by_sigkill_resumes_to_identical_results(tmp_path):
    """`engramlab sweep` in a subprocess, SIGKILLed after two of six chunks, then
    started again: the result equals an uninterrupted single-process run."""
    cfg = _config(tmp_path, KILL_SWEEP)
    ref = execute(load_config(cfg, out_dir=tmp_path / "ref"), scheduler="inline",
                  quiet=True, report=False).results
    out_dir = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from engramlab.cli import main; main()", "sweep", str(cfg),
           "--out", str(out_dir), "--quiet", "--no-report"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ENGRAMLAB_QUIET": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    chunk_dir = out_dir / "chunks"

    def n_done():
        return len(list(chunk_dir.glob("chunk-*.nc"))) if chunk_dir.exists() else 0

    while n_done() < 2 and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    done_at_kill = n_done()
    assert 2 <= done_at_kill < 6 and not (out_dir / "results.nc").exists()
    # start again (what `engramlab sweep` runs, here in-process to reuse the JIT cache of
    # the reference run): finished chunks are reused, the rest computed
    run_config(cfg, out_dir=out_dir, scheduler=None, quiet=True, report=False)
    assert_same_results(open_results(out_dir), ref)
    sessions = json.loads((out_dir / "run.json").read_text())["sessions"]
    assert sessions[-1]["chunks_reused"] == done_at_kill
    assert sessions[-1]["chunks_computed"] == 6 - done_at_kill

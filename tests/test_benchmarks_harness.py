"""The benchmark harness writes JSON with a same-run ratio (sizes kept tiny here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_harness_writes_json_with_ratio(tmp_path):
    subprocess.run([sys.executable, "-m", "benchmarks", "memory_associate", "--quick",
                    "--out", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    res = json.loads((tmp_path / "memory_associate.json").read_text())
    assert res["ratio"] == res["baseline_s"] / res["ours_s"]
    assert res["ours_s"] > 0 and res["baseline_s"] > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "memory_associate" in summary


def test_harness_rejects_unknown_name(tmp_path):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "no_such_bench", "--out",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert "unknown benchmark" in out.stderr

"""The reference run: dated benchmark and demo results kept in the repository.

``python -m benchmarks.reference`` (``make reference``) copies the newest local results —
``benchmarks/results/NAME.json`` with the figures beside them (``NAME/*.png``) and
``results/demo/metrics.json`` — into ``benchmarks/reference/`` (replacing it as a whole,
atomically) with ``RUN.json`` (date, commit, machine, and which benchmarks were quick
runs), and appends the run to the history ``benchmarks/history/<machine>/``. With
``--run`` it first runs the benchmarks (``--quick`` for their quick sizes; ``NAME ...``
for some of them) and the demo. The documentation renders the reference run wherever no
newer local run exists (``docs/_ext/engram_measured.py``), so a fresh clone's site shows
real, dated numbers and says which run each figure is from.

**History layout** (airspeed velocity's, which NumPy, SciPy, pandas and cymr use, without
its runner): one folder per machine, ``machine.json`` describing it, and one file per run,
``<date>_<commit>.json``, mapping each benchmark to its ratio, times and quick flag. We
keep our own runner rather than ASV's ``time_*`` suites because every benchmark here first
asserts that ours and the baseline compute the same thing and then times both in the same
process; ASV times one function per environment it builds. The history files are plain
JSON, so ASV-style plots or a regression check can read them.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DEMO = ROOT / "results" / "demo"
REFERENCE = HERE / "reference"
HISTORY = HERE / "history"
#: images larger than this are not kept in the repository
MAX_IMAGE_BYTES = 2_000_000


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _machine_key(machine: dict) -> str:
    """A stable folder name for a machine: its architecture, CPU count and a short hash of
    what describes it (so two different 2-core machines do not share a history)."""
    text = json.dumps({k: machine.get(k) for k in ("machine", "cpus", "processor",
                                                   "system", "node")}, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{machine.get('machine', 'unknown')}-{machine.get('cpus', '?')}cpu-{digest}"


def adopt(results: Path = RESULTS, demo: Path = DEMO, reference: Path = REFERENCE,
          history: Path = HISTORY, *, date: str | None = None,
          commit: str | None = None) -> dict:
    """Make the results in ``results`` and ``demo`` the reference run; returns ``RUN.json``.

    Raises ``FileNotFoundError`` when there is nothing to adopt (no benchmark JSON and no
    demo metrics), so an empty run never replaces a real one.
    """
    sys.path.insert(0, str(ROOT))
    from benchmarks._harness import machine_info

    files = sorted(p for p in results.glob("*.json") if p.name != "summary.json")
    metrics = demo / "metrics.json"
    if not files and not metrics.is_file():
        raise FileNotFoundError(f"nothing to adopt: no benchmark JSON in {results} and no "
                                f"{metrics} (run `make bench` / `make demo` first)")
    date = date or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    commit = commit if commit is not None else _commit()
    machine = machine_info()
    benches: dict[str, dict] = {}
    reference.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".reference-", dir=reference.parent))
    try:
        (tmp / "bench").mkdir()
        for p in files:
            data = json.loads(p.read_text())
            shutil.copyfile(p, tmp / "bench" / p.name)
            images = results / p.stem
            if images.is_dir():
                for img in sorted(images.glob("*.png")):
                    if img.stat().st_size <= MAX_IMAGE_BYTES:
                        (tmp / "bench" / p.stem).mkdir(exist_ok=True)
                        shutil.copyfile(img, tmp / "bench" / p.stem / img.name)
            benches[p.stem] = {k: data.get(k) for k in ("ratio", "ours_s", "baseline_s",
                                                        "quick", "date")}
        if metrics.is_file():
            (tmp / "demo").mkdir()
            shutil.copyfile(metrics, tmp / "demo" / "metrics.json")
        run = {"date": date, "commit": commit, "machine": machine,
               "benchmarks": benches, "demo": metrics.is_file(),
               "refresh": "make reference (python -m benchmarks.reference)"}
        (tmp / "RUN.json").write_text(json.dumps(run, indent=1) + "\n")
        old = reference.with_name(reference.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if reference.exists():
            reference.rename(old)
        tmp.rename(reference)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    folder = history / _machine_key(machine)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "machine.json").write_text(json.dumps(machine, indent=1) + "\n")
    stamp = date.replace(":", "").replace("+0000", "Z")
    name = f"{stamp}_{(commit or 'nocommit')[:10]}.json"
    (folder / name).write_text(json.dumps({"date": date, "commit": commit,
                                           "results": benches}, indent=1) + "\n")
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.reference",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="with --run: benchmarks to run (default all)")
    ap.add_argument("--run", action="store_true",
                    help="run the benchmarks and the demo first (else adopt existing results)")
    ap.add_argument("--quick", action="store_true", help="with --run: quick sizes")
    args = ap.parse_args(argv)
    if args.run:
        cmd = [sys.executable, "-m", "benchmarks", *args.names]
        if args.quick:
            cmd.append("--quick")
        subprocess.run(cmd, cwd=ROOT, check=True)
        subprocess.run([sys.executable, "-m", "engramlab", "demo", "--out", str(DEMO),
                        "--quiet"], cwd=ROOT, check=True)
    run = adopt()
    print(f"reference run of {run['date']} (commit {str(run['commit'])[:10]}): "
          f"{len(run['benchmarks'])} benchmarks, demo {'yes' if run['demo'] else 'no'} "
          f"-> {REFERENCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run benchmarks: ``python -m benchmarks [NAME ...] [--quick] [--out DIR]``."""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("names", nargs="*", help="benchmark names (default: all)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args(argv)
    available = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    names = args.names or available
    unknown = [n for n in names if n not in available]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; available: {available}")
    sys.path.insert(0, str(HERE.parent))
    from engramlab._io import write_json

    summary = {}
    for name in names:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        res = mod.run(quick=args.quick)
        res["wall_s"] = time.perf_counter() - t0
        # when and how it ran: the documentation quotes these next to each figure
        res["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        res["quick"] = bool(args.quick)
        write_json(args.out / f"{name}.json", res)
        summary[name] = {k: res[k] for k in ("ratio", "ours_s", "baseline_s", "baseline")
                         if k in res}
        print(f"{name:<24} ratio {res.get('ratio', float('nan')):8.2f}x   "
              f"ours {res.get('ours_s', 0):.4g} s   baseline {res.get('baseline_s', 0):.4g} s"
              f"  ({res.get('baseline', '')})")
    write_json(args.out / "summary.json", summary)
    print(json.dumps(summary, indent=1)[:2000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

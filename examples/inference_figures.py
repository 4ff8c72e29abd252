"""Write the figures of docs/inference.md (the worked example) by running the demo section
``engramlab.cmr.demo_inference`` into ``docs/figures/inference/``.

    python examples/inference_figures.py [--seed 0]

Resumable: finished NUTS chains are kept in ``docs/figures/inference/checkpoints``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engramlab._io import write_json
from engramlab.cmr.demo_inference import demo_section
from engramlab.experiments.demo import DemoContext

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ctx = DemoContext(out_dir=ROOT / "docs" / "figures", section="inference", seed=args.seed)
    sec = demo_section(ctx)
    write_json(ctx.dir / "metrics.json", sec.metrics)
    for t in sec.tables:
        print(t.caption)
        print(" | ".join(t.columns))
        for r in t.rows:
            print(" | ".join(map(str, r)))
    print(sec.text)


if __name__ == "__main__":
    main()

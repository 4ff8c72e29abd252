"""Bayesian comparison of base CMR and eCMR on emotional free-recall data (docs/inference.md):
hierarchical NUTS of both variants on ``examples/data/emotional_lists.csv`` (2 subjects x
24 mixed 12-item lists with a valence column, simulated from eCMR), then PSIS-LOO / WAIC /
AIC / BIC, written to ``docs/figures/inference/emotional_comparison.csv``.

    python examples/inference_emotional.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

import engramlab.cmr as cmr
from engramlab._io import write_text
from engramlab.errors import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
FREE = {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 20.0),
        "stop_probability_scale": (0.001, 0.3)}


def main() -> None:
    data = pd.read_csv(ROOT / "examples" / "data" / "emotional_lists.csv")
    runs, fits = {}, {}
    for i, (variant, free) in enumerate({"jaxcmr": FREE,
                                          "ecmr": {**FREE, "emotion_scale": (0.05, 10.0)}
                                          }.items()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs[variant] = cmr.sample(data, key=i, variant=variant, free=free, chains=2,
                                       draws=100, warmup=100)
        fits[variant] = cmr.point_fits(runs[variant], data, n_starts=1, maxiter=60, seed=i)
    table = cmr.compare(runs, point_fits=fits)
    out = ROOT / "docs" / "figures" / "inference" / "emotional_comparison.csv"
    write_text(out, table.to_csv())
    print(table.to_string())


if __name__ == "__main__":
    main()

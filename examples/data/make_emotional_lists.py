"""Make ``emotional_lists.csv``: a small free-recall data set with a ``valence`` column,
simulated with eCMR (2 subjects x 24 mixed 12-item lists, half the items emotional with
valence -1 or +1), for the ``cmr.loglik.ecmr`` / ``cmr.loglik.cmr3`` example sweeps.

    python examples/data/make_emotional_lists.py
"""

from pathlib import Path

import numpy as np

import engramlab.cmr as cmr

HERE = Path(__file__).parent


def main() -> None:
    rng = np.random.default_rng(2019)
    n, L = 48, 12
    val = np.stack([rng.permutation(np.r_[rng.choice([-1.0, 1.0], L // 2), np.zeros(L // 2)])
                    for _ in range(n)])
    truth = cmr.EcmrParams(emotion_scale=2.0, choice_sensitivity=2.0,
                           stop_probability_scale=0.05, stop_probability_growth=0.25)
    sim = cmr.simulate(truth, {"list_length": L, "n_lists": n // 2, "n_subjects": 2,
                               "features": {"valence": val}}, key=7, variant="ecmr")
    sim.to_csv(HERE / "emotional_lists.csv", index=False)


if __name__ == "__main__":
    main()

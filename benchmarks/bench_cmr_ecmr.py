"""eCMR log-likelihood on a Morton2013-sized emotional data set (40 subjects x 48 lists x
24 items, every pool item given a valence in {-1, 0, +1}) vs base CMR (the jaxcmr
variant) on the same data in the same run: the cost of the emotional context layer.

Agreement check before timing: with every valence 0 (no emotional item) eCMR reduces to
base CMR exactly (the emotional MCF never learns), so both must give the same total
(relative difference < 1e-10). The reported ``ratio`` is base time / eCMR time (so a
value of 0.5 means eCMR costs 2x); ``cost_factor`` = eCMR time / base time (target <= 2).
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import result, timeit


def run(quick: bool = False) -> dict:
    import engramlab.cmr as cmr

    df = cmr.load_dataset("Morton2013")
    if quick:
        df = df[df["subject"].isin(df["subject"].unique()[:8])]
    rng = np.random.default_rng(0)
    pool = rng.integers(-1, 2, size=int(df["item_index"].max()) + 2)
    study = df["trial_type"] == "study"
    df = df.assign(valence=np.where(study, pool[df["item_index"].clip(lower=0)], np.nan))
    base = cmr.JaxcmrParams(choice_sensitivity=1.7)
    emo = cmr.EcmrParams(**base.to_dict(), emotion_scale=2.0)

    neutral = df.assign(valence=np.where(study, 0.0, np.nan))
    a = cmr.log_likelihood(neutral, emo, variant="ecmr")
    b = cmr.log_likelihood(neutral, base, variant="jaxcmr")
    rel = abs(a - b) / abs(b)
    assert rel < 1e-10, rel

    prep_e = cmr.prepare(df, variant="ecmr")
    prep_b = cmr.prepare(df, variant="jaxcmr")

    def ours():
        return cmr.log_likelihood(prep_e, emo, variant="ecmr")

    def baseline():
        return cmr.log_likelihood(prep_b, base, variant="jaxcmr")

    t_e = timeit(ours, repeat=5 if not quick else 2)
    t_b = timeit(baseline, repeat=5 if not quick else 2)
    return result("cmr_ecmr", t_e["median_s"], t_b["median_s"],
                  "base CMR (jaxcmr variant), same data, same run",
                  cost_factor=t_e["median_s"] / t_b["median_s"],
                  n_lists=int(prep_e.recalls.shape[0]), neutral_rel_diff=rel,
                  logl_ecmr=float(ours()), logl_base=float(baseline()))

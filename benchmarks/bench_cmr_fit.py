"""Time to fit CMR to one Morton2013 subject (48 lists x 24 items), cymr variant with
8 free parameters: differential evolution (vectorised population) vs multi-start
gradient (L-BFGS on exact jax.grad). Both timings include JIT compilation (a first
call), as a user experiences a single fit; ``*_warm_s`` repeats the fit compiled.
``ratio`` = DE time / gradient time (warm)."""

from __future__ import annotations

import time

FREE = ["B_enc", "B_start", "B_rec", "Lcf", "P1", "T", "X1", "X2"]


def run(quick: bool = False) -> dict:
    import engramlab.cmr as cmr
    from benchmarks._harness import result

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"] == 1]
    fixed = {"Afc": 0.0, "Acf": 0.05}
    de_kw = dict(popsize=8, maxiter=30 if quick else 100)
    gr_kw = dict(n_starts=2 if quick else 4, maxiter=100)
    out = {}
    for method, kw in (("de", de_kw), ("gradient", gr_kw)):
        times, res = [], None
        for _ in range(2):
            t0 = time.perf_counter()
            res = cmr.fit(sub, variant="cymr", method=method, free=FREE, fixed=fixed, seed=0,
                          **kw)
            times.append(time.perf_counter() - t0)
        out[method] = (times, res.iloc[0])
    de_t, de_r = out["de"]
    gr_t, gr_r = out["gradient"]
    return result("cmr_fit_one_subject", gr_t[1], de_t[1],
                  "differential evolution (ours, vectorised population)",
                  de_first_s=de_t[0], de_warm_s=de_t[1], de_logl=float(de_r["logl"]),
                  de_evals=int(de_r["n_evals"]), gradient_first_s=gr_t[0],
                  gradient_warm_s=gr_t[1], gradient_logl=float(gr_r["logl"]),
                  gradient_evals=int(gr_r["n_evals"]), free=FREE)

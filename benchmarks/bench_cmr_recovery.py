"""Parameter recovery and model identification of the jaxcmr, paper, ecmr and cmr3
variants on a Morton2013-sized design (24 lists x 16 items per subject).

Sizes: ``ENGRAMLAB_BENCH_RECOVER_SUBJECTS`` / ``ENGRAMLAB_BENCH_IDENTIFY_SUBJECTS``
override the subject counts below (the JSON's ``n_recover`` / ``n_identify`` say which).

- ``recover``: for each variant, ``N_RECOVER`` subjects (40; quick: 3) are simulated
  from true parameters drawn uniformly from :data:`PRIOR` (plausible ranges, below) and
  fitted by the default gradient fit with the variant's default free set and default
  (wide) boxes. Per free parameter: Pearson r, bias, RMSE, share at a bound; per
  subject ``logl - logl_truth`` (an optimiser that reached the maximum has it >= 0).
- ``identify``: ``N_IDENTIFY`` subjects (20; quick: 2) simulated from each variant, all
  four variants fitted to every subject; confusion ``p(best | generating)`` and inversion
  ``p(generating | best)`` matrices by AIC and BIC (per-subject winner proportions).
  ecmr and cmr3 read a ``valence`` column: it is generated for every subject (i.i.d.
  ``-1 / 0 / +1`` with probabilities 0.25 / 0.5 / 0.25), so that all four variants see
  the same lists.

Truths come from :data:`PRIOR`, not from the middle 80 % of the fit boxes (the
``recover`` default): boxes such as ``choice_sensitivity`` in ``(0, 100]`` would mostly
give near-deterministic recall, which is not what recovery on realistic data is about.

Figures (PNG + SVG) go to ``<results>/cmr_recovery/`` (``benchmarks/results`` or
``ENGRAMLAB_BENCH_RESULTS``): ``recovery_<variant>``, ``identify_confusion``,
``identify_inversion``. This is an accuracy check, not a timing against a baseline:
``ours_s`` is the wall time of the whole run, there is no ``baseline_s`` / ``ratio``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

VARIANTS = ("jaxcmr", "paper", "ecmr", "cmr3")
DESIGN = {"n_lists": 24, "list_length": 16}
N_RECOVER, N_RECOVER_QUICK = 40, 3
N_IDENTIFY, N_IDENTIFY_QUICK = 20, 2

#: Ranges the true parameters are drawn from (uniform), around published CMR fits to
#: Morton2013-like free recall (jaxcmr's names); the fit boxes stay the defaults.
PRIOR: dict[str, tuple[float, float]] = {
    "encoding_drift_rate": (0.5, 0.9), "start_drift_rate": (0.1, 0.6),
    "recall_drift_rate": (0.7, 0.95), "learning_rate": (0.1, 0.5),
    "shared_support": (0.01, 0.1), "item_support": (0.1, 1.0),
    "primacy_scale": (1.0, 10.0), "primacy_decay": (0.1, 2.0),
    "choice_sensitivity": (1.0, 5.0), "stop_probability_scale": (0.005, 0.05),
    "stop_probability_growth": (0.1, 0.4), "emotion_scale": (0.5, 3.0),
}


def _prior(variant: str) -> dict[str, tuple[float, float]]:
    import engramlab.cmr as cmr

    free = cmr.default_free(variant)
    return {k: b for k, b in PRIOR.items() if k in free}


def _out_dir() -> Path:
    root = Path(__file__).resolve().parent / "results"
    return Path(os.environ.get("ENGRAMLAB_BENCH_RESULTS", root)) / "cmr_recovery"


def _sizes(quick: bool) -> tuple[int, int]:
    """Subjects per variant for recovery and for identification: the defaults, the quick
    sizes, or ``ENGRAMLAB_BENCH_RECOVER_SUBJECTS`` / ``ENGRAMLAB_BENCH_IDENTIFY_SUBJECTS``
    (a shorter run on a busy machine; the JSON records the sizes used)."""
    sizes = []
    for var, full, small in (("ENGRAMLAB_BENCH_RECOVER_SUBJECTS", N_RECOVER, N_RECOVER_QUICK),
                             ("ENGRAMLAB_BENCH_IDENTIFY_SUBJECTS", N_IDENTIFY,
                              N_IDENTIFY_QUICK)):
        n = int(os.environ.get(var, str(small if quick else full)))
        if n < 2:
            raise ValueError(f"{var} must be >= 2, got {n}")
        sizes.append(n)
    return sizes[0], sizes[1]


def _workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


def run(quick: bool = False) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import engramlab.cmr as cmr
    from benchmarks._harness import machine_info
    from engramlab._io import save_figure

    n_rec, n_id = _sizes(quick)
    out = _out_dir()
    workers = _workers()
    figures = []
    t0 = time.perf_counter()
    recover = {}
    for i, v in enumerate(VARIANTS):
        r = cmr.recover(v, n_subjects=n_rec, design=DESIGN, truth=_prior(v), seed=i,
                        workers=workers, quiet=True)
        recover[v] = r.to_dict()
        fig = r.plot()
        figures += save_figure(fig, out / f"recovery_{v}")
        plt.close(fig)
    t_rec = time.perf_counter() - t0
    ide = cmr.identify(list(VARIANTS), n_subjects=n_id, design=DESIGN,
                       truth={v: _prior(v) for v in VARIANTS}, seed=len(VARIANTS),
                       workers=workers, quiet=True)
    for kind in ("confusion", "inversion"):
        fig = ide.plot(kind=kind)
        figures += save_figure(fig, out / f"identify_{kind}")
        plt.close(fig)
    total = time.perf_counter() - t0
    n_fits = n_rec * len(VARIANTS) + n_id * len(VARIANTS) ** 2
    return {"name": "cmr_recovery", "ours_s": total,
            "baseline": "none (accuracy check: recovery and identification)",
            "design": DESIGN, "prior": PRIOR, "workers": workers,
            "n_recover": n_rec, "n_identify": n_id, "n_fits": n_fits,
            "recover_s": t_rec, "identify_s": total - t_rec,
            "seconds_per_fit": total / n_fits * workers,
            "recover": recover, "identify": ide.to_dict(),
            "figures": [str(p.relative_to(out.parent)) for p in figures],
            "machine": machine_info()}

"""NUTS within Gibbs (``sampler="gibbs"``) against the default joint NUTS
(``"partial"``) on the hierarchical Morton2013 fit.

All 40 subjects, the 7 free parameters of ``bench_cmr_sample``, float32, Laplace
preconditioning, one chain of ``WARMUP + DRAWS`` iterations each (``QUICK_WARMUP +
QUICK_DRAWS`` with ``quick``; sequential, same key), each run including its own set-up
and compilation.

Before any figure is reported, the Gibbs sampler is asserted to target the same density
as the default: its stored energy must equal NumPyro's potential of the centred model,
recomputed at ``N_CHECK`` of its draws, up to one constant (max deviation relative to the
potential below ``RTOL``; the default's energy is NumPyro's own).

``ratio`` = default wall time / Gibbs wall time for the same iterations (> 1: Gibbs is
faster; the harness's convention); also leapfrog
steps per draw, step sizes, min and median bulk ESS, min bulk ESS per second, and the
4-chain x (500 + 500) wall time each projects (wall time per iteration x 4000).
"""

from __future__ import annotations

import time
import warnings

WARMUP, DRAWS = 150, 100
QUICK_WARMUP, QUICK_DRAWS = 100, 50
N_CHECK = 10
RTOL = 2e-5
N_FULL = 4 * (500 + 500)


def _run(df, par, warmup, draws):
    """``par``: ``"gibbs"`` (``sampler="gibbs"``) or a NUTS parameterization."""
    import jax

    import engramlab.cmr as cmr
    from benchmarks.bench_cmr_sample import FREE7
    from engramlab.errors import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        idata = cmr.sample(df, key=jax.random.key(0), free=FREE7, chains=1, draws=draws,
                           warmup=warmup, chain_method="sequential", precision="float32",
                           sampler="gibbs" if par == "gibbs" else "nuts",
                           parameterization="partial" if par == "gibbs" else par,
                           quiet=True, check=False)
        wall = time.perf_counter() - t0
    return idata, wall


def _ess(idata) -> tuple[float, float]:
    import arviz as az
    import numpy as np

    e = az.ess(idata.posterior, method="bulk")
    vals = np.concatenate([np.ravel(e[v].values) for v in e.data_vars])
    return float(np.min(vals)), float(np.median(vals))


def _energy_offsets(df, idata) -> tuple[float, float]:
    """``max |potential + lp - c|`` over ``N_CHECK`` draws, and ``max |potential|``."""
    import jax
    import numpy as np
    from numpyro.infer.util import potential_energy

    import engramlab.cmr as cmr
    from benchmarks.bench_cmr_sample import FREE7
    from engramlab.cmr.inference.model import make_model
    from engramlab.cmr.inference.spec import Priors, resolve_spec

    spec = resolve_spec("jaxcmr", FREE7, None)
    ll = cmr.make_loglik(df)
    n = len(ll.subjects)
    model = make_model(ll, spec, ll.subject_index, n, Priors().resolve(spec.free),
                       True, "centered")
    post = idata.posterior
    lo, hi = np.asarray(spec.lo), np.asarray(spec.hi)

    def logit(v):
        return np.log((v - lo) / (hi - v))

    names = list(FREE7)
    pes = []
    with jax.enable_x64(False):
        for d in range(N_CHECK):
            mu = logit(np.array([float(post[f"mu_{k}"].values[0, d]) for k in names]))
            sig = np.array([float(post[f"sigma_{k}"].values[0, d]) for k in names])
            z = logit(np.stack([post[k].values[0, d] for k in names], axis=-1))
            pes.append(float(potential_energy(model, (), {}, {
                "mu": mu.astype(np.float32), "sigma": np.log(sig).astype(np.float32),
                "z": z.astype(np.float32)})))
    pes = np.asarray(pes)
    off = pes + idata.sample_stats["lp"].values[0, :N_CHECK]
    return float(np.max(np.abs(off - np.median(off)))), float(np.max(np.abs(pes)))


def run(quick: bool = False) -> dict:
    import engramlab.cmr as cmr
    from benchmarks._harness import result

    df = cmr.load_dataset("Morton2013")
    warmup, draws = (QUICK_WARMUP, QUICK_DRAWS) if quick else (WARMUP, DRAWS)
    n_subjects = int(df["subject"].nunique())
    out: dict = {}
    for par in ("gibbs", "partial"):
        idata, wall = _run(df, par, warmup, draws)
        ss = idata.sample_stats
        mn, med = _ess(idata)
        out[par] = dict(s=wall, steps_per_draw=float(ss["n_steps"].mean()),
                        step_size=float(ss["step_size"].mean()),
                        divergent=int(ss["diverging"].sum()), min_ess_bulk=mn,
                        median_ess_bulk=med, min_ess_per_s=mn / wall,
                        projected_4chain_s=wall / (warmup + draws) * N_FULL)
        if par == "gibbs":
            dev, scale = _energy_offsets(df, idata)
            assert dev <= RTOL * scale, (f"gibbs energy is not the centred model's "
                                         f"potential: deviation {dev:.3g} of {scale:.3g}")
            out["gibbs"]["energy_max_dev"] = dev / scale
    g, p = out["gibbs"], out["partial"]
    return result("cmr_gibbs", g["s"], p["s"],
                  "the default joint NUTS (parameterization='partial'), same chain "
                  "length, wall time including set-up and compilation",
                  n_subjects=n_subjects, warmup=warmup, draws=draws, energy_rtol=RTOL,
                  gibbs_energy_max_dev=g["energy_max_dev"],
                  gibbs_s=g["s"], partial_s=p["s"],
                  gibbs_steps_per_draw=g["steps_per_draw"],
                  partial_steps_per_draw=p["steps_per_draw"],
                  gibbs_step_size=g["step_size"], partial_step_size=p["step_size"],
                  gibbs_divergent=g["divergent"], partial_divergent=p["divergent"],
                  gibbs_min_ess_bulk=g["min_ess_bulk"], partial_min_ess_bulk=p["min_ess_bulk"],
                  gibbs_median_ess_bulk=g["median_ess_bulk"],
                  partial_median_ess_bulk=p["median_ess_bulk"],
                  gibbs_min_ess_per_s=g["min_ess_per_s"],
                  partial_min_ess_per_s=p["min_ess_per_s"],
                  gibbs_projected_4chain_s=g["projected_4chain_s"],
                  partial_projected_4chain_s=p["projected_4chain_s"],
                  gibbs_step_reduction=p["steps_per_draw"] / g["steps_per_draw"],
                  gibbs_ess_per_s_gain=g["min_ess_per_s"] / max(p["min_ess_per_s"], 1e-12))

"""Bayesian CMR (NUTS) speed: gradient evaluations per second and effective samples per
second, for one Morton2013 subject and for the hierarchical model of all 40 subjects.

``ratio`` = time of a central finite-difference gradient / time of ``jax.grad`` of the
same log-density (one subject, 11 free jaxcmr parameters); the two gradients are asserted
to agree (rtol 1e-4) before the ratio is reported.

- ``one_subject``: NUTS on subject 1 (48 lists, 7 free parameters, demo bounds),
  2 chains x (``draws`` warm-up + ``draws`` kept), run twice (each ``sample`` call builds
  a new model closure, so both include compilation): wall times, min bulk ESS, min bulk
  ESS per second of the second run's wall time, mean leapfrog steps per draw.
  The same with ``precondition=None`` (``one_subject_plain_*``): the preconditioner's
  reduction of leapfrog steps per draw.
- ``hierarchical``: gradient time of the 40-subject hierarchical log-density (1920
  lists, 40 x 7 + 14 dimensions) in float64 and float32, and of the list-gathering
  kernel (asserted equal to 1e-9 first); one short chain of the hierarchical fit
  (``SHORT_WARMUP + SHORT_DRAWS``, partial centring, Laplace preconditioner, float32)
  measures steps per draw, from which the wall time of a 4-chain, 500 + 500 draw fit is
  projected (``projected_4chain_s``). ``full=True`` runs that fit instead.
"""

from __future__ import annotations

import time
import warnings

FREE7 = {"encoding_drift_rate": (0.3, 0.99), "start_drift_rate": (0.01, 0.99),
         "recall_drift_rate": (0.3, 0.99), "primacy_scale": (0.01, 20.0),
         "choice_sensitivity": (0.5, 20.0), "stop_probability_scale": (0.001, 0.3),
         "stop_probability_growth": (0.01, 1.0)}
#: the full 4-chain hierarchical fit (``full=True``) and the projection's settings
FULL_WARMUP, FULL_DRAWS = 500, 500
FULL_PARAMETERIZATION, FULL_PRECISION = "partial", "float32"
#: the short one-chain hierarchical run that measures steps per draw (every mode)
SHORT_WARMUP, SHORT_DRAWS = 150, 100


class _Gathered:
    """The likelihood with the subject index traced: lists gathered per list
    (``grouped_loglik``, the kernel before lists were laid out by subject)."""

    def __init__(self, ll):
        self.ll = ll

    def per_subject(self, thetas, index):
        import jax.numpy as jnp

        return self.ll.per_subject(thetas, jnp.asarray(index))


def _grad_rate(ll, spec, subj_idx, n_subj, hierarchical, repeat=3, x64=True,
               gathered=False):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from numpyro.infer.util import initialize_model

    from benchmarks._harness import timeit
    from engramlab.cmr.inference.model import make_model
    from engramlab.cmr.inference.spec import Priors

    pri = Priors().resolve(spec.free)
    with jax.enable_x64(x64):
        model = make_model(_Gathered(ll) if gathered else ll, spec, subj_idx, n_subj,
                           pri, hierarchical)
        info = initialize_model(jax.random.key(0), model)
        pe = jax.jit(jax.value_and_grad(info.potential_fn))
        x = info.param_info.z
        t = timeit(lambda: pe(x), repeat=repeat, warmup=1)
        # finite differences of the same function, for the agreement check
        flat, unravel = jax.flatten_util.ravel_pytree(x)
        f = jax.jit(lambda v: info.potential_fn(unravel(v)))
        h = 1e-5
        g = np.asarray(jax.flatten_util.ravel_pytree(pe(x)[1])[0])
        eye = np.eye(flat.size)

        def fd():
            return np.array([(float(f(flat + h * e)) - float(f(flat - h * e))) / (2 * h)
                             for e in eye])

        small = flat.size <= 32 and x64
        fd_t = timeit(fd, repeat=1, warmup=1) if small else None
        gfd = fd() if small else None
    return t, fd_t, g, gfd, int(flat.size), jnp


def run(quick: bool = False, full: bool = False) -> dict:
    import jax
    import numpy as np

    import engramlab.cmr as cmr
    from benchmarks._harness import result
    from engramlab.cmr.inference.spec import resolve_spec
    from engramlab.errors import ConvergenceWarning

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"] == 1]
    out: dict = {}

    # 1) one subject, all 11 jaxcmr parameters free: jax.grad vs finite differences
    ll1 = cmr.make_loglik(sub)
    spec11 = resolve_spec("jaxcmr", None, None)
    t, fd_t, g, gfd, dim, _ = _grad_rate(ll1, spec11, np.zeros(ll1.n_lists, np.int32), 1,
                                         False)
    np.testing.assert_allclose(g, gfd, rtol=1e-4, atol=1e-4 * np.abs(g).max())
    out["one_subject_grad_s"] = t["median_s"]
    out["one_subject_grads_per_s"] = 1 / t["median_s"]
    out["one_subject_fd_grad_s"] = fd_t["median_s"]

    # 2) NUTS on one subject (7 free)
    draws = 100 if quick else 300
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        idata = cmr.sample(sub, key=jax.random.key(0), hierarchical=False, free=FREE7,
                           chains=2, draws=draws, warmup=draws, quiet=True)
        wall1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        idata = cmr.sample(sub, key=jax.random.key(1), hierarchical=False, free=FREE7,
                           chains=2, draws=draws, warmup=draws, quiet=True)
        warm1 = time.perf_counter() - t0
        # the same without the Laplace preconditioner (NumPyro's diagonal adaptation only)
        t0 = time.perf_counter()
        plain = cmr.sample(sub, key=jax.random.key(1), hierarchical=False, free=FREE7,
                           chains=2, draws=draws, warmup=draws, quiet=True,
                           precondition=None)
        wall_plain = time.perf_counter() - t0
    out.update(one_subject_plain_steps_per_draw=float(plain.sample_stats["n_steps"].mean()),
               one_subject_plain_min_ess_bulk=plain.sample_stats.attrs["min_ess_bulk"],
               one_subject_plain_s=wall_plain)
    att = idata.sample_stats.attrs
    steps1 = float(idata.sample_stats["n_steps"].mean())
    out["one_subject_step_reduction"] = out["one_subject_plain_steps_per_draw"] / steps1
    out.update(one_subject_nuts_first_s=wall1, one_subject_nuts_second_s=warm1,
               one_subject_min_ess_bulk=att["min_ess_bulk"],
               one_subject_ess_per_s=att["min_ess_bulk"] / warm1,
               one_subject_steps_per_draw=steps1, one_subject_max_r_hat=att["max_r_hat"],
               one_subject_divergent=att["n_divergent"], one_subject_draws=att["n_draws"])

    # 3) hierarchical Morton2013, 40 subjects, 7 free: gradient of the log density in
    #    both precisions, and of the list-gathering likelihood (traced subject index) in
    #    the same run, asserted equal first
    llh = cmr.make_loglik(df)
    subjects = list(dict.fromkeys(llh.subject.tolist()))
    sidx = np.array([subjects.index(s) for s in llh.subject], np.int32)
    spec7 = resolve_spec("jaxcmr", FREE7, None)
    t64, _, _, _, dimh, _ = _grad_rate(llh, spec7, sidx, len(subjects), True, repeat=3)
    t32, _, _, _, _, _ = _grad_rate(llh, spec7, sidx, len(subjects), True, repeat=3,
                                    x64=False)
    out.update(hier_grad_float64_s=t64["median_s"], hier_grad_float32_s=t32["median_s"])
    tg, _, g_gathered, _, _, _ = _grad_rate(llh, spec7, sidx, len(subjects), True, repeat=2,
                                            x64=True, gathered=True)
    _, _, g64, _, _, _ = _grad_rate(llh, spec7, sidx, len(subjects), True, repeat=1,
                                    x64=True)
    np.testing.assert_allclose(g64, g_gathered, rtol=1e-9, atol=1e-9 * np.abs(g64).max())
    out.update(hier_dim=dimh, hier_grad_s=out["hier_grad_float64_s"],
               hier_grads_per_s=1 / out["hier_grad_float64_s"],
               hier_grad_gathered_s=tg["median_s"],
               hier_kernel_speedup=tg["median_s"] / out["hier_grad_float64_s"])
    if full:
        cfg = dict(free=FREE7, chains=4, draws=FULL_DRAWS, warmup=FULL_WARMUP,
                   parameterization=FULL_PARAMETERIZATION, precision=FULL_PRECISION)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            idh = cmr.sample(df, key=jax.random.key(0), quiet=False, **cfg)
            out["hier_4chain_s"] = time.perf_counter() - t0
        att = idh.sample_stats.attrs
        out.update(hier_min_ess_bulk=att["min_ess_bulk"], hier_min_ess_tail=att["min_ess_tail"],
                   hier_max_r_hat=att["max_r_hat"], hier_divergent=att["n_divergent"],
                   hier_steps_per_draw=float(idh.sample_stats["n_steps"].mean()),
                   hier_ess_per_s=att["min_ess_bulk"] / out["hier_4chain_s"],
                   hier_config={k: v for k, v in cfg.items() if k != "free"})
    else:
        # one short chain of the same hierarchical fit: its steps per draw and wall time
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            ids = cmr.sample(df, key=jax.random.key(0), free=FREE7, chains=1,
                             draws=SHORT_DRAWS, warmup=SHORT_WARMUP, quiet=True,
                             parameterization=FULL_PARAMETERIZATION,
                             precision=FULL_PRECISION)
            short_s = time.perf_counter() - t0
        st = ids.sample_stats
        hsteps = float(st["n_steps"].mean())
        n_full = 4 * (FULL_WARMUP + FULL_DRAWS)
        out.update(hier_short_s=short_s, hier_short_steps_per_draw=hsteps,
                   hier_short_step_size=float(st["step_size"].mean()),
                   hier_short_divergent=int(st["diverging"].sum()),
                   hier_short_min_ess_bulk=st.attrs["min_ess_bulk"],
                   hier_short_iterations=SHORT_WARMUP + SHORT_DRAWS,
                   projected_4chain_s=n_full * hsteps * out[f"hier_grad_{FULL_PRECISION}_s"],
                   projected_4chain_from_wall_s=short_s * n_full
                   / (SHORT_WARMUP + SHORT_DRAWS),
                   projection=(f"4 chains x ({FULL_WARMUP} warm-up + {FULL_DRAWS} draws) x "
                               "the short chain's leapfrog steps per kept draw x the "
                               f"hierarchical gradient time ({FULL_PRECISION}); "
                               "projected_4chain_from_wall_s scales the short chain's "
                               "whole wall time (set-up and warm-up included)"))
    return result("cmr_sample_grad", out["one_subject_grad_s"],
                  out["one_subject_fd_grad_s"],
                  f"central finite differences ({dim} parameters, same log-density)", **out)

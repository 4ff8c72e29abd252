"""Bayesian CMR (NUTS) speed: gradient evaluations per second and effective samples per
second, for one Morton2013 subject and for the hierarchical model of all 40 subjects.

``ratio`` = time of a central finite-difference gradient / time of ``jax.grad`` of the
same log-density (one subject, 11 free jaxcmr parameters); the two gradients are asserted
to agree (rtol 1e-4) before the ratio is reported.

- ``one_subject``: NUTS on subject 1 (48 lists, 7 free parameters, demo bounds),
  2 chains x (``draws`` warm-up + ``draws`` kept), run twice (each ``sample`` call builds
  a new model closure, so both include compilation): wall times, min bulk ESS, min bulk
  ESS per second of the second run's wall time, mean leapfrog steps per draw.
- ``hierarchical``: gradient time of the 40-subject hierarchical log-density (1920
  lists, 40 x 7 + 14 dimensions); the wall time of a 4-chain, 500 + 500 draw fit is
  projected from it and the one-subject steps per draw (``projected_4chain_s``).
  ``full=True`` runs that fit instead (hours on 2 cores).
"""

from __future__ import annotations

import time
import warnings

FREE7 = {"encoding_drift_rate": (0.3, 0.99), "start_drift_rate": (0.01, 0.99),
         "recall_drift_rate": (0.3, 0.99), "primacy_scale": (0.01, 20.0),
         "choice_sensitivity": (0.5, 20.0), "stop_probability_scale": (0.001, 0.3),
         "stop_probability_growth": (0.01, 1.0)}


def _grad_rate(ll, spec, subj_idx, n_subj, hierarchical, repeat=3):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from numpyro.infer.util import initialize_model

    from benchmarks._harness import timeit
    from engramlab.cmr import _inference as inf

    pri = inf.Priors().resolve(spec.free)
    with jax.enable_x64(True):
        model = inf._make_model(ll, spec, subj_idx, n_subj, pri, hierarchical)
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

        fd_t = timeit(fd, repeat=1, warmup=1) if flat.size <= 32 else None
        gfd = fd() if flat.size <= 32 else None
    return t, fd_t, g, gfd, int(flat.size), jnp


def run(quick: bool = False, full: bool = False) -> dict:
    import jax
    import numpy as np

    import engramlab.cmr as cmr
    from benchmarks._harness import result
    from engramlab.cmr import _inference as inf
    from engramlab.errors import ConvergenceWarning

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"] == 1]
    out: dict = {}

    # 1) one subject, all 11 jaxcmr parameters free: jax.grad vs finite differences
    ll1 = cmr.make_loglik(sub)
    spec11 = inf._resolve_spec("jaxcmr", None, None)
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
    att = idata.sample_stats.attrs
    steps1 = float(idata.sample_stats["n_steps"].mean())
    out.update(one_subject_nuts_first_s=wall1, one_subject_nuts_second_s=warm1,
               one_subject_min_ess_bulk=att["min_ess_bulk"],
               one_subject_ess_per_s=att["min_ess_bulk"] / warm1,
               one_subject_steps_per_draw=steps1, one_subject_max_r_hat=att["max_r_hat"],
               one_subject_divergent=att["n_divergent"], one_subject_draws=att["n_draws"])

    # 3) hierarchical Morton2013, 40 subjects, 7 free
    llh = cmr.make_loglik(df)
    subjects = list(dict.fromkeys(llh.subject.tolist()))
    sidx = np.array([subjects.index(s) for s in llh.subject], np.int32)
    spec7 = inf._resolve_spec("jaxcmr", FREE7, None)
    th, _, _, _, dimh, _ = _grad_rate(llh, spec7, sidx, len(subjects), True, repeat=2)
    out.update(hier_dim=dimh, hier_grad_s=th["median_s"], hier_grads_per_s=1 / th["median_s"])
    if full:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            idh = cmr.sample(df, key=jax.random.key(0), free=FREE7, chains=4, draws=500,
                             warmup=500, quiet=False)
            out["hier_4chain_s"] = time.perf_counter() - t0
        out["hier_min_ess_bulk"] = idh.sample_stats.attrs["min_ess_bulk"]
        out["hier_max_r_hat"] = idh.sample_stats.attrs["max_r_hat"]
    else:
        # projection: leapfrog steps per draw measured on one subject (same 7 parameters)
        out["projected_4chain_s"] = 4 * 1000 * steps1 * th["median_s"]
        out["projection"] = ("4 chains x (500 warm-up + 500 draws) x one-subject mean "
                             "leapfrog steps per draw x hierarchical gradient time")
    return result("cmr_sample_grad", out["one_subject_grad_s"],
                  out["one_subject_fd_grad_s"],
                  f"central finite differences ({dim} parameters, same log-density)", **out)

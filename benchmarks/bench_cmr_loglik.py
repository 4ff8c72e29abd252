"""CMR log-likelihood of the full Morton2013 dataset (40 subjects x 48 lists x 24 items)
at fixed parameters: ours (cymr variant, jitted, vmapped over lists) vs cymr's
``CMR().likelihood`` on the same DataFrame, parameters and 768-item localist pool.

``ours_s`` is end to end (DataFrame validation and cleaning included, as cymr's time
includes its ``prepare_lists``); ``kernel_s`` is the jitted likelihood on prepared arrays.
``jaxcmr_s`` / ``paper_s``: the same data end to end under the jaxcmr and paper variants
(other models, so no agreement check with cymr here; the jaxcmr variant's parity with
jaxcmr's code is tested in tests/test_cmr_likelihood.py), with their ratios to cymr.
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import result, timeit

PARAMS = dict(B_enc=0.6, B_start=0.3, B_rec=0.8, Lfc=0.4, Lcf=0.5, Afc=0.1, Dfc=0.6,
              Acf=0.05, Dcf=0.7, P1=2.0, P2=1.0, T=0.2, X1=0.02, X2=0.2)


def run(quick: bool = False) -> dict:
    import jax
    import jax.numpy as jnp
    from cymr import cmr as ccmr

    import engramlab.cmr as cmr
    from engramlab.cmr._api import prepare
    from engramlab.cmr._model import trials_loglik
    from engramlab.cmr._variants import get_variant

    df = cmr.load_dataset("Morton2013")
    if quick:
        df = df[df["subject"].isin(df["subject"].unique()[:8])]
    param_def, patterns = ccmr.config_loc_cmr(768)
    model = ccmr.CMR()

    def baseline():
        return model.likelihood(df, PARAMS, param_def=param_def, patterns=patterns)["logl"]

    def ours():
        return cmr.log_likelihood(df, PARAMS, variant="cymr", per_subject=True, pool_size=768)

    ref, got = baseline(), ours()
    max_rel = float(np.max(np.abs(got.to_numpy() - ref.to_numpy())
                           / np.abs(ref.to_numpy())))
    assert max_rel < 1e-12, max_rel  # float64 against cymr's float64

    prep = prepare(df, pool_size=768)
    theta = np.array([PARAMS[n] for n in cmr.CymrParams.names()])
    v = get_variant("cymr")
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        args = (jnp.asarray(theta), rec, feats, sqrt_m)
        t_kernel = timeit(lambda: trials_loglik(*args, variant=v, L=prep.L),
                          repeat=10 if not quick else 3)
    t_ours = timeit(ours, repeat=5 if not quick else 2)
    # how much the papers' equations differ from jaxcmr's code on these data (docs/cmr.md)
    import dataclasses

    J = get_variant("jaxcmr")
    rho_only = dataclasses.replace(J, name="jaxcmr-scalar-rho", context=cmr.ScalarRho())
    sharp = cmr.JaxcmrParams(encoding_drift_rate=0.8, start_drift_rate=0.2,
                             recall_drift_rate=0.9, choice_sensitivity=5.0, learning_rate=0.5,
                             item_support=0.5, shared_support=0.02)
    def rel_to_jaxcmr(p, variant="jaxcmr", q=None):
        ref_ll = cmr.log_likelihood(df, p, variant="jaxcmr")
        return abs(cmr.log_likelihood(df, q or p, variant=variant) - ref_ll) / abs(ref_ll)

    default = cmr.JaxcmrParams()
    readings = dict(
        paper_rel_default=rel_to_jaxcmr(default, "paper"),
        scalar_rho_rel_default=rel_to_jaxcmr(default, rho_only),
        learn_before_rel_default=rel_to_jaxcmr(default, q=default.replace(
            learn_after_context_update=False)),
        paper_rel_sharp=rel_to_jaxcmr(sharp, "paper"),
        scalar_rho_rel_sharp=rel_to_jaxcmr(sharp, rho_only),
        learn_before_rel_sharp=rel_to_jaxcmr(
            sharp, q=sharp.replace(learn_after_context_update=False)),
    )
    others = {}
    for name in ("jaxcmr", "paper"):
        def run_variant(name=name):
            return cmr.log_likelihood(df, cmr.JaxcmrParams(), variant=name)
        others[name] = timeit(run_variant, repeat=5 if not quick else 2)["median_s"]
    t_base = timeit(baseline, repeat=3 if not quick else 1, warmup=0)
    return result("cmr_loglik", t_ours["median_s"], t_base["median_s"],
                  "cymr CMR().likelihood (Cython), same data/parameters/pool",
                  kernel_s=t_kernel["median_s"],
                  kernel_ratio=t_base["median_s"] / t_kernel["median_s"],
                  n_lists=int(prep.recalls.shape[0]), max_rel_diff=max_rel,
                  logl=float(got.sum()), jaxcmr_s=others["jaxcmr"], paper_s=others["paper"],
                  jaxcmr_ratio=t_base["median_s"] / others["jaxcmr"],
                  paper_ratio=t_base["median_s"] / others["paper"], **readings)

"""The cost of modelling organisation by meaning: full-data log-likelihoods of the
semantic and category CMR variants vs their temporal-only bases on Morton2013 (40
subjects x 48 lists x 24 items, float64; quick: the first 8 subjects), and cymr-category
vs cymr's own likelihood of the same category model (issue 29, item 6).

Item features come from Morton2013's study-event ``category`` column
(``cmr.ItemFeatures.from_data(df, "category")``: similarity 1 within a category, 0
between; one-hot category patterns for cymr-category).

Agreement checks, made **before** any time is taken or ratio computed:

- ``cymr-category`` vs cymr's ``CMR().likelihood`` with a ``loc`` + ``cat`` context
  sublayer pair (``set_sublayers(f=['task'], c=['loc', 'cat'])``, weights
  ``'Afc + Dfc * loc'`` etc., per-sublayer drift; the construction of
  tests/test_cmr_semantic.py) on the same data, parameters and 768-unit pool: every
  per-subject log-likelihood equal to ``<= PARITY_RTOL`` (1e-10) relative;
- ``jaxcmr-semantic-add`` / ``jaxcmr-semantic-mult``: no package computes them on a
  DataFrame (their transcription test is tests/test_cmr_semantic.py), so only: finite,
  and different from base ``jaxcmr`` at the same shared parameters (by more than 1 log
  unit in total: the semantic cue is not inert).

Timings (median over rounds that call every variant once in turn, after a warm-up call
of each that compiles; interleaved so that load changes on a shared machine hit base and
variant alike):

- ``kernel_s``: the jitted likelihood (``trials_loglik``) on prepared JAX arrays, for
  ``jaxcmr``, ``jaxcmr-semantic-add``, ``jaxcmr-semantic-mult``, ``cymr``,
  ``cymr-category``; ``cost_factor`` = variant kernel time / its base's kernel time
  (goal ``<= COST_GOAL`` = 1.5);
- ``prepared_s``: ``cmr.log_likelihood(prepared, params)`` (the public call on data
  prepared once, as a fit makes it), same ratios in ``cost_factor_prepared``;
- ``ours_s``: ``cmr.log_likelihood(df, ..., variant="cymr-category", items=items,
  pool_size=768, per_subject=True)`` end to end (validation and cleaning included, as
  cymr's time includes its ``prepare_lists``); ``baseline_s``: cymr's likelihood of the
  same model; ``ratio`` = baseline / ours (goal ``>= SPEEDUP_GOAL`` = 20);
  ``kernel_ratio`` = cymr / our kernel.
"""

from __future__ import annotations

import numpy as np

from benchmarks._harness import result, timeit

POOL = 768
PARITY_RTOL = 1e-10
COST_GOAL = 1.5
SPEEDUP_GOAL = 20.0
N_QUICK = 8

#: shared jaxcmr parameters (tests/test_cmr_semantic.py's BASE) and the semantic scale
JAXCMR = dict(encoding_drift_rate=0.7, start_drift_rate=0.3, recall_drift_rate=0.8,
              learning_rate=0.3, shared_support=0.05, item_support=0.6, primacy_scale=2.0,
              primacy_decay=0.5, choice_sensitivity=2.0, stop_probability_scale=0.05,
              stop_probability_growth=0.3)
SEMANTIC_SCALE = 1.5
#: cymr's category model (tests/test_cmr_semantic.py's CAT_SETS[0]); base cymr takes the
#: loc sublayer's drift rates and the shared rest
CYMR_CAT = dict(B_enc_loc=0.7, B_start_loc=0.3, B_rec_loc=0.8, B_enc_cat=0.5,
                B_start_cat=0.2, B_rec_cat=0.6, Lfc=0.3, Lcf=0.3, Afc=0.0, Dfc=0.7,
                Acf=0.05, Dcf=0.7, P1=2.0, P2=1.0, T=0.1, X1=0.02, X2=0.2)
CYMR = {**{k: v for k, v in CYMR_CAT.items() if not k.startswith("B_")},
        "B_enc": 0.7, "B_start": 0.3, "B_rec": 0.8}


def cymr_category_setup(df, pool: int):
    """cymr's ``(model, data, param_def, patterns)`` for its CMR with a loc + cat
    context sublayer pair over ``df``'s categories (also what tests/test_cmr_semantic.py
    scores the cymr-category variant against)."""
    from cymr import cmr as ccmr

    cats = sorted(df.category.dropna().unique())
    st = df[df.trial_type == "study"].drop_duplicates("item_index")
    onehot = np.zeros((pool, len(cats)))
    onehot[st.item_index.to_numpy().astype(int), [cats.index(c) for c in st.category]] = 1.0
    patterns = {"items": np.array([f"w{i}" for i in range(pool)]),
                "vector": {"loc": np.eye(pool), "cat": onehot}}
    pdef = ccmr.CMRParameters()
    pdef.set_sublayers(f=["task"], c=["loc", "cat"])
    w = {(("task", "item"), (s, "item")): f"Afc + Dfc * {s}" for s in ("loc", "cat")}
    pdef.set_weights("fc", w)
    pdef.set_weights("cf", {k: v.replace("fc", "cf") for k, v in w.items()})
    for s in ("loc", "cat"):
        pdef.set_sublayer_param("c", s, {"B_enc": f"B_enc_{s}", "B_start": f"B_start_{s}",
                                         "B_rec": f"B_rec_{s}"})
    data = df[["subject", "list", "trial_type", "position", "item", "item_index"]].copy()
    data["item"] = [f"w{i}" for i in data.item_index.astype(int)]
    return ccmr.CMR(), data, pdef, patterns


def _interleaved(fns: dict, rounds: int) -> dict[str, float]:
    """Median seconds of each ``fns[name]()`` over ``rounds`` rounds, each round calling
    every function once (in turn), after one warm-up call of each (compilation)."""
    import statistics
    import time

    from benchmarks._harness import _block

    for fn in fns.values():
        _block(fn())
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            _block(fn())
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def run(quick: bool = False) -> dict:
    import jax
    import jax.numpy as jnp

    import engramlab.cmr as cmr
    from engramlab.cmr._api import _theta
    from engramlab.cmr._model import trials_loglik
    from engramlab.cmr._variants import get_variant

    full = cmr.load_dataset("Morton2013")
    items = cmr.ItemFeatures.from_data(full, "category")  # the whole pool's categories
    df = full
    if quick:
        df = full[full["subject"].isin(full["subject"].unique()[:N_QUICK])]
    rounds = 15 if quick else 41

    params = {
        "jaxcmr": cmr.JaxcmrParams(**JAXCMR),
        "jaxcmr-semantic-add": cmr.SemanticParams(**JAXCMR, semantic_scale=SEMANTIC_SCALE),
        "jaxcmr-semantic-mult": cmr.SemanticParams(**JAXCMR, semantic_scale=SEMANTIC_SCALE),
        "cymr": CYMR,
        "cymr-category": cmr.CymrCategoryParams(**CYMR_CAT),
    }
    base_of = {"jaxcmr-semantic-add": "jaxcmr", "jaxcmr-semantic-mult": "jaxcmr",
               "cymr-category": "cymr"}

    # ---- agreement, before any timing
    model, cdata, pdef, patterns = cymr_category_setup(df, POOL)

    def baseline():
        return model.likelihood(cdata, CYMR_CAT, param_def=pdef, patterns=patterns)["logl"]

    def ours():
        return cmr.log_likelihood(df, params["cymr-category"], variant="cymr-category",
                                  per_subject=True, items=items, pool_size=POOL)

    ref, got = baseline(), ours()
    got = got.loc[ref.index]
    rel = np.abs(got.to_numpy() - ref.to_numpy()) / np.abs(ref.to_numpy())
    parity_max_rel = float(rel.max())
    assert parity_max_rel <= PARITY_RTOL, \
        f"cymr-category vs cymr: max relative difference {parity_max_rel:.3g}"

    preps = {name: cmr.prepare(df, variant=name, items=items,
                               pool_size=POOL if name.startswith("cymr") else None)
             for name in params}
    logl = {name: cmr.log_likelihood(preps[name], params[name], variant=name)
            for name in params}
    assert all(np.isfinite(x) for x in logl.values()), logl
    sem_vs_base = {}
    for name in ("jaxcmr-semantic-add", "jaxcmr-semantic-mult"):
        sem_vs_base[name] = logl[name] - logl["jaxcmr"]
        assert abs(sem_vs_base[name]) > 1.0, (name, sem_vs_base[name])

    # ---- timings: interleaved (one call of each variant per round), so that a load
    # change on a shared machine hits base and variant alike
    with jax.enable_x64(True):
        kernels = {}
        for name in params:
            v = get_variant(name)
            rec, feats, sqrt_m = preps[name].jax_inputs()
            th = jnp.asarray(_theta(params[name], v))
            kernels[name] = (lambda th=th, rec=rec, feats=feats, sqrt_m=sqrt_m, v=v,
                             L=preps[name].L:
                             trials_loglik(th, rec, feats, sqrt_m, variant=v, L=L))
        kernel_s = _interleaved(kernels, rounds)
    prepared_s = _interleaved(
        {name: (lambda name=name: cmr.log_likelihood(preps[name], params[name],
                                                     variant=name)) for name in params},
        rounds)
    cost = {n: kernel_s[n] / kernel_s[b] for n, b in base_of.items()}
    cost_prepared = {n: prepared_s[n] / prepared_s[b] for n, b in base_of.items()}
    t_ours = timeit(ours, repeat=2 if quick else 5)["median_s"]
    t_base = timeit(baseline, repeat=1 if quick else 3, warmup=0)["median_s"]
    speedup = t_base / t_ours
    return result(
        "cmr_organisation", t_ours, t_base,
        "cymr CMR().likelihood with loc + cat context sublayers (Cython), same "
        "data/parameters/768-unit pool",
        n_subjects=int(df["subject"].nunique()), n_lists=int(len(preps["jaxcmr"].recalls)),
        items="cmr.ItemFeatures.from_data(Morton2013, 'category')",
        parity_rtol=PARITY_RTOL, parity_max_rel=parity_max_rel,
        logl=logl, semantic_minus_base=sem_vs_base,
        kernel_s=kernel_s, prepared_s=prepared_s,
        cost_factor=cost, cost_factor_prepared=cost_prepared, cost_goal=COST_GOAL,
        cost_goal_met={n: c <= COST_GOAL for n, c in cost.items()},
        kernel_ratio=t_base / kernel_s["cymr-category"],
        speedup_goal=SPEEDUP_GOAL, speedup_goal_met=speedup >= SPEEDUP_GOAL,
        checked=("cymr-category per-subject logl == cymr's to <= parity_rtol; semantic "
                 "variants finite and > 1 log unit from base jaxcmr"))

"""CMR (Context Maintenance and Retrieval) free-recall model.

Built on :class:`engramlab.memory.LinearMemory` (MFC, MCF). Exact recall-sequence
likelihood (vmap over lists, ``lax.scan`` over recall events, jit), simulation,
differential-evolution and gradient fitting, psifr analyses. A model variant is a
composition of components (context rule, pre-experimental memories, learning schedule,
choice and stop rules, extra context layers) kept in a registry: ``"jaxcmr"``
reproduces jaxcmr's code, ``"cymr"`` cymr's ``CMR().likelihood``, ``"paper"`` the
papers' equations; :func:`register_variant` adds your own. See ``docs/cmr.md``.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "load_dataset": "._data", "to_arrays": "._data", "from_arrays": "._data",
        "RecallArrays": "._data", "read_jaxcmr_h5": "._data", "write_jaxcmr_h5": "._data",
        "JaxcmrParams": "._params", "CymrParams": "._params", "ParamsBase": "._params",
        "EcmrParams": "._params", "Cmr3Params": "._params", "EcmrSalienceParams": "._params",
        **dict.fromkeys(("EegCmrParams", "EegEcmrParams", "EegSimpleEcmrParams",
                         "EegStrengthParams", "SemanticParams", "CymrCategoryParams"),
                        "._params"),
        **dict.fromkeys(("Indicator", "Covariate", "Term", "CovariateLink",
                         "CovariateSchedule", "CovariateDrift", "GatePreexp", "StaticPreexp",
                         "StaticContext", "EMOTIONAL"), "._components"),
        "check_study_columns": "._data",
        "ItemFeatures": "._items",
        **dict.fromkeys(("RecallCue", "SemanticCue", "CategoryPreexp", "power_scale",
                         "log_power_scale"), "._components"),
        "EmotionalPreexp": "._components", "EmotionSchedule": "._components",
        "Variant": "._variants", "register_variant": "._variants",
        "get_variant": "._variants", "available_variants": "._variants",
        "LB": "._components", "ContextRule": "._components", "ScalarRho": "._components",
        "UnitRho": "._components", "PreExperimental": "._components",
        "LocalistPreexp": "._components", "PoolPreexp": "._components",
        "Schedule": "._components", "PrimacySchedule": "._components",
        "Drift": "._components", "Layer": "._components", "Component": "._components",
        "ChoiceRule": "._components",
        "PowerChoice": "._components", "ExponentialChoice": "._components",
        "StopRule": "._components", "StopState": "._components",
        "PositionalStop": "._components", "ExponentialStop": "._components",
        "log_likelihood": "._api", "simulate": "._api", "trial_logliks": "._api",
        "prepare": "._api", "make_loglik": "._api", "LoglikFunction": "._api",
        "fit": "._fit", "fit_subjects": "._fit", "save_fits": "._fit",
        "default_free": "._fit", "profile": "._fit",
        "recover": "._recovery", "identify": "._recovery", "RecoveryResult": "._recovery",
        "IdentifyResult": "._recovery",
        "recall_curves": "._analysis", "compare_curves": "._analysis",
        "category_crp": "._analysis", "category_transitions": "._analysis",
        "distance_crp": "._analysis",
        "valence_class": "._emotion", "recall_by_valence": "._emotion",
        "spc_by_valence": "._emotion", "lag_crp_by_valence": "._emotion",
        "emotional_clustering": "._emotion", "list_composition": "._emotion",
        "composition_effect": "._emotion",
        **dict.fromkeys(("sample", "Priors", "diagnostics", "posterior_predictive",
                         "point_fits", "compare", "save_inference", "load_inference"),
                        ".inference"),
    },
)

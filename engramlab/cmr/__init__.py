"""CMR (Context Maintenance and Retrieval) free-recall model.

Built on :class:`engramlab.memory.LinearMemory` (MFC, MCF). Exact recall-sequence
likelihood (vmap over lists, ``lax.scan`` over recall events, jit), simulation,
differential-evolution and gradient fitting, psifr analyses. Two parameterisations:
jaxcmr's names (power choice rule) and cymr's (exponential rule), both validated against
the reference equations; the cymr variant matches cymr's ``CMR().likelihood``.
See ``docs/cmr.md``.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "load_dataset": "._data", "to_arrays": "._data", "from_arrays": "._data",
        "RecallArrays": "._data", "read_jaxcmr_h5": "._data", "write_jaxcmr_h5": "._data",
        "JaxcmrParams": "._params", "CymrParams": "._params",
        "log_likelihood": "._api", "simulate": "._api", "trial_logliks": "._api",
        "prepare": "._api", "make_loglik": "._api", "LoglikFunction": "._api",
        "fit": "._fit", "fit_subjects": "._fit", "save_fits": "._fit",
        "recall_curves": "._analysis", "compare_curves": "._analysis",
        **dict.fromkeys(("sample", "Priors", "diagnostics", "posterior_predictive",
                         "point_fits", "compare", "save_inference", "load_inference"),
                        "._inference"),
    },
)

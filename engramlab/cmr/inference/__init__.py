"""Bayesian inference for CMR: NUTS on the exact likelihood, PPCs, model comparison.

Organised by concern, as NumPyro's ``infer`` and ArviZ are:

- :mod:`.spec`: what is fitted: :class:`FitSpec` (free parameters, bounds, fixed values)
  and :class:`Priors`;
- :mod:`.model`: the NumPyro model and the bounded transform ``theta = lo + (hi - lo)
  sigmoid(z)`` (the model's equations are in its docstring);
- :mod:`.laplace`: subject modes, likelihood blocks, the Laplace preconditioner;
- :mod:`.kernels`: the samplers as functional kernels (``init`` / ``step`` over typed
  states): NUTS and NUTS within Gibbs;
- :mod:`.sampler`: one model's compiled chains; :mod:`.run`: :func:`sample`, its units,
  checkpoints and Dask runs;
- :mod:`.convert`: the one conversion to ArviZ ``InferenceData``;
- :mod:`.diagnostics`, :mod:`.predictive` (posterior predictive checks), :mod:`.compare`
  (PSIS-LOO, WAIC, AIC / BIC, same-data checks; :mod:`.fingerprint`), :mod:`.io` (NetCDF);
- :mod:`.workflow`: sample -> diagnostics -> PPC -> point fits -> comparison, as
  ``engramlab cmr sample`` runs it.

The result of :func:`sample` is an ArviZ ``InferenceData`` with groups ``posterior``
(every free parameter in natural units, dims ``(chain, draw, subject)``; hierarchical runs
add ``mu_<name>`` (group median, natural units) and ``sigma_<name>`` (z scale), dims
``(chain, draw)``), ``sample_stats`` (``diverging``, ``lp``, ``n_steps``, ``tree_depth``,
``acceptance_rate``, ``step_size``), ``log_likelihood`` (``recall``: log-likelihood of
every list in nats, dims ``(chain, draw, list)``, for PSIS-LOO / WAIC) and
``observed_data`` (``recalls`` ``(list, output)``: 1-based study positions, 0-padded;
``list_subject``).
"""

from .compare import compare, point_fits
from .diagnostics import ESS_MIN, RHAT_MAX, diagnostics
from .io import load_inference, save_inference
from .predictive import posterior_predictive
from .run import sample
from .spec import MAX_TREE_DEPTH, PARAMETERIZATIONS, SAMPLERS, FitSpec, Priors
from .workflow import ModelResult, WorkflowResult, workflow

__all__ = ["ESS_MIN", "MAX_TREE_DEPTH", "PARAMETERIZATIONS", "RHAT_MAX", "SAMPLERS",
           "FitSpec", "ModelResult", "Priors", "WorkflowResult", "compare", "diagnostics",
           "load_inference", "point_fits", "posterior_predictive", "sample",
           "save_inference", "workflow"]

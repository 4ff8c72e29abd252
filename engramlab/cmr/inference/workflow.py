"""The Bayesian workflow of ``engramlab cmr sample`` as a library function: sample every
model, check it (diagnostics, posterior predictive check), fit it by maximum likelihood
for AIC / BIC and compare the models (PSIS-LOO, WAIC)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .compare import compare, point_fits
from .diagnostics import diagnostics
from .predictive import posterior_predictive
from .run import sample

__all__ = ["ModelResult", "WorkflowResult", "workflow"]

#: the diagnostics summary :func:`~engramlab.cmr.diagnostics` stores in
#: ``sample_stats.attrs``
SUMMARY_KEYS = ("max_r_hat", "min_ess_bulk", "min_ess_tail", "n_divergent", "n_draws",
                "n_chains")


@dataclass(frozen=True)
class ModelResult:
    """One model of :func:`workflow`: ``idata`` (the posterior of
    :func:`~engramlab.cmr.sample`), ``diagnostics`` (its table), ``ppc`` (the
    posterior predictive check, or ``None`` with ``ppc_draws=0``) and ``point_fit`` (the
    per-subject maximum-likelihood fits, or ``None`` when not made)."""

    variant: str
    idata: Any
    diagnostics: pd.DataFrame
    ppc: dict[str, Any] | None = None
    point_fit: pd.DataFrame | None = None

    @property
    def summary(self) -> dict[str, Any]:
        """``max_r_hat`` (NaN with one chain), ``min_ess_bulk``, ``min_ess_tail``,
        ``n_divergent``, ``n_draws``, ``n_chains``."""
        att = self.idata.sample_stats.attrs
        return {k: att[k] for k in SUMMARY_KEYS if k in att}


@dataclass(frozen=True)
class WorkflowResult:
    """``models``: variant -> :class:`ModelResult`, in the order sampled; ``comparison``:
    the table of :func:`~engramlab.cmr.compare` (``None`` for one model)."""

    models: dict[str, ModelResult]
    comparison: pd.DataFrame | None = None


def workflow(data: pd.DataFrame, *, key: Any, variants: Sequence[str] = ("jaxcmr",),
             free: Mapping[str, Any] | None = None,
             fixed: Mapping[str, Mapping[str, float] | None] | None = None,
             ppc_draws: int = 20, ppc_key: Any = None, point_fit: bool = True,
             point_fit_options: Mapping[str, Any] | None = None,
             checkpoint_dir: str | Path | Mapping[str, str | Path] | None = None,
             pool_size: int | None = None,
             on_event: Callable[[str, ModelResult], None] | None = None,
             **sample_options: Any) -> WorkflowResult:
    """Sample, check and compare the models ``variants`` on ``data``.

    For every variant in turn: :func:`~engramlab.cmr.sample` (``key``; the
    variant's ``free[variant]`` and ``fixed[variant]``, default its free set and class
    defaults; ``checkpoint_dir``: a folder per variant, either a mapping variant ->
    folder or a root folder holding ``<root>/<variant>``; ``sample_options`` passed on),
    its :func:`~engramlab.cmr.diagnostics` table (no warning: ``sample`` warns
    itself unless ``check=False``), with ``ppc_draws > 0`` a
    :func:`~engramlab.cmr.posterior_predictive` check of ``ppc_draws`` draws
    (``ppc_key``; default ``fold_in(key, 1)``), and with several variants and
    ``point_fit`` the per-subject maximum-likelihood fits
    (:func:`~engramlab.cmr.point_fits`, ``point_fit_options`` passed on,
    default ``n_starts=2``). With several variants the models are then compared
    (:func:`~engramlab.cmr.compare`, AIC / BIC from the point fits).

    ``on_event(stage, result)`` is called as the work goes: ``"start"`` before a variant
    is sampled (``result.idata`` is ``None``), ``"posterior"`` once it is sampled and
    diagnosed, ``"ppc"`` once its posterior predictive check is made. The command line
    writes its files there, so that a posterior is on disk before the slower checks run.

    **Returns:** :class:`WorkflowResult`.
    """
    import jax

    from ..._validation import as_key

    variants = list(dict.fromkeys(variants))
    free = dict(free or {})
    fixed = dict(fixed or {})
    key = as_key(key, "key")
    if ppc_draws > 0 and ppc_key is None:
        ppc_key = jax.random.fold_in(key, 1)
    pf_options = {"n_starts": 2} if point_fit_options is None else dict(point_fit_options)

    def emit(stage: str, result: ModelResult) -> None:
        if on_event is not None:
            on_event(stage, result)

    def folder(v: str) -> Path | None:
        if checkpoint_dir is None:
            return None
        if isinstance(checkpoint_dir, Mapping):
            return checkpoint_dir.get(v)
        return Path(checkpoint_dir) / v

    models: dict[str, ModelResult] = {}
    for v in variants:
        emit("start", ModelResult(v, None, pd.DataFrame()))
        idata = sample(data, key=key, variant=v, free=free.get(v), fixed=fixed.get(v),
                       pool_size=pool_size, checkpoint_dir=folder(v), **sample_options)
        res = ModelResult(v, idata, diagnostics(idata, warn=False))
        emit("posterior", res)
        if ppc_draws > 0:
            res = replace(res, ppc=posterior_predictive(idata, data, key=ppc_key,
                                                        n_draws=ppc_draws,
                                                        pool_size=pool_size))
            emit("ppc", res)
        if len(variants) > 1 and point_fit:
            res = replace(res, point_fit=point_fits(idata, data, pool_size=pool_size,
                                                    **pf_options))
        models[v] = res
    table = None
    if len(variants) > 1:
        fits = {v: r.point_fit for v, r in models.items() if r.point_fit is not None}
        table = compare({v: r.idata for v, r in models.items()}, point_fits=fits or None)
    return WorkflowResult(models, table)

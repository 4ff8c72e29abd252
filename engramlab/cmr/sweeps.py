"""Sweepable model of the CMR family: ``cmr.loglik`` (:data:`CMR_LOGLIK`).

The exact CMR (jaxcmr variant) log-likelihood of a free-recall data set at every point of
a parameter grid. Registered in :data:`engramlab.experiments.config.KNOWN_MODELS`; JAX
and pandas are imported inside the functions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataError
from ..experiments.config import ModelSpec

__all__ = ["CMR_LOGLIK", "CmrLoglikParams"]


class CmrLoglikParams(BaseModel):
    """CMR parameters with jaxcmr's names (see :class:`engramlab.cmr.JaxcmrParams`; the
    bounds here are its ``VALID`` ranges, checked equal by the tests)."""

    model_config = ConfigDict(extra="forbid")

    encoding_drift_rate: float = Field(0.7, ge=0.0, le=1.0)
    start_drift_rate: float = Field(0.3, ge=0.0, le=1.0)
    recall_drift_rate: float = Field(0.8, ge=0.0, le=1.0)
    learning_rate: float = Field(0.3, ge=0.0, le=1.0)
    shared_support: float = Field(0.05, ge=0.0)
    item_support: float = Field(0.3, ge=0.0)
    primacy_scale: float = Field(2.0, ge=0.0)
    primacy_decay: float = Field(0.5, ge=0.0)
    choice_sensitivity: float = Field(2.0, ge=0.0)
    stop_probability_scale: float = Field(0.02, ge=0.0, le=1.0)
    stop_probability_growth: float = Field(0.2, ge=0.0)


@functools.lru_cache(maxsize=4)
def _cmr_prepared(key: str) -> Any:
    import json

    import pandas as pd

    from . import from_arrays, load_dataset, prepare, read_jaxcmr_h5

    ds = json.loads(key)
    if ds.get("name") is not None:
        df = load_dataset(ds["name"])
    else:
        path = Path(ds["path"])
        if path.suffix in (".h5", ".hdf5"):
            df = from_arrays(read_jaxcmr_h5(path))
        elif path.suffix == ".csv":
            df = pd.read_csv(path)
        else:
            raise DataError(f"dataset.path: expected a psifr long-format .csv or a jaxcmr "
                            f".h5 file, got {path.name}")
    if ds.get("subjects") is not None:
        missing = sorted(set(ds["subjects"]) - set(df["subject"].unique()))
        if missing:
            raise DataError(f"dataset.subjects: subjects {missing} are not in the data set")
        df = df[df["subject"].isin(ds["subjects"])]
    return prepare(df)


def _cmr_loglik_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray, *,
                         dataset: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Log-likelihood of the whole data set for each parameter vector of the batch, in
    float64: :func:`engramlab.cmr._model.population_loglik` (vmapped over parameter
    vectors and lists) through the fitter's chunked scorer
    (:func:`engramlab.cmr._fit._population`), which scores at most
    :data:`engramlab.cmr._fit.MAX_PAIRS` (parameter vector, list) pairs per call, so the
    memory of one call stays bounded however large the chunk or the data set."""
    import json

    import jax
    import jax.numpy as jnp

    from ._fit import _population
    from ._params import JaxcmrParams

    prep = _cmr_prepared(json.dumps(dict(dataset), sort_keys=True))
    thetas = np.stack([np.asarray(params[n], np.float64) for n in JaxcmrParams.names()],
                      axis=1)
    with jax.enable_x64(True):
        ll = _population(jnp.asarray(thetas), jnp.asarray(prep.recalls),
                         jnp.asarray(prep.sqrt_m), variant="jaxcmr", L=prep.L)
        ll = np.asarray(ll, np.float64)
    return {"loglik": ll, "loglik_per_list": ll / prep.recalls.shape[0]}


#: ``cmr.loglik``: the exact CMR (jaxcmr variant) log-likelihood of a free-recall data
#: set over a parameter grid; seeds are not used (use ``[seeds] count = 1``).
CMR_LOGLIK = ModelSpec(
    name="cmr.loglik",
    params=CmrLoglikParams,
    evaluate=_cmr_loglik_evaluate,
    outputs={"loglik": "log-likelihood of every list of the data set (nats)",
             "loglik_per_list": "log-likelihood per list (nats)"},
    description="Likelihood surface of CMR (retrieved-context model of free recall, "
                "jaxcmr parameterisation) for a free-recall data set: the exact "
                "log-likelihood of the recorded recall sequences at every grid point.",
    uses_dataset=True,
)

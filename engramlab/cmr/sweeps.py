"""Sweepable models of the CMR family: ``cmr.loglik`` (:data:`CMR_LOGLIK`, the jaxcmr
variant), ``cmr.loglik.paper`` and ``cmr.loglik.cymr``; :func:`loglik_model` builds one
for any variant (register it with :func:`engramlab.experiments.register_model`).

The exact CMR log-likelihood of a free-recall data set at every point of a parameter
grid. The params schema is generated from the variant's typed parameter class (its
defaults and ``VALID`` ranges). Registered in
:data:`engramlab.experiments.config.KNOWN_MODELS`; JAX and pandas are imported inside
the functions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from ..errors import DataError
from ..experiments.config import ModelSpec

__all__ = ["CMR_LOGLIK", "CMR_LOGLIK_PAPER", "CMR_LOGLIK_CYMR", "CMR_LOGLIK_ECMR",
           "CMR_LOGLIK_CMR3", "CmrLoglikParams",
           "loglik_model", "params_schema"]


def params_schema(variant: Any) -> type[BaseModel]:
    """A pydantic model of ``variant``'s parameters: the typed class's defaults as
    defaults, its ``VALID`` ranges as bounds, switches as ``bool``; unknown keys refused."""
    from ._variants import get_variant

    v = get_variant(variant)
    cls = v.params
    defaults = cls()
    fields: dict[str, Any] = {}
    for n in cls.names():
        if n in cls.FLAGS:
            fields[n] = (bool, Field(bool(getattr(defaults, n))))
            continue
        lo, hi = cls.VALID[n]
        kw = {}
        if np.isfinite(lo):
            kw["ge"] = float(lo)
        if np.isfinite(hi):
            kw["le"] = float(hi)
        fields[n] = (float, Field(float(getattr(defaults, n)), allow_inf_nan=False, **kw))
    return create_model(f"{cls.__name__}Sweep", __config__=ConfigDict(extra="forbid"),
                        **fields)


@functools.lru_cache(maxsize=4)
def _cmr_prepared(key: str, variant: str) -> Any:
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
    return prepare(df, variant=variant)


def _cmr_loglik_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray, *,
                         dataset: Mapping[str, Any], variant: str) -> dict[str, np.ndarray]:
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
    from ._variants import get_variant

    v = get_variant(variant)
    prep = _cmr_prepared(json.dumps(dict(dataset), sort_keys=True), v.name)
    thetas = np.stack([np.asarray(params[n], np.float64) for n in v.names()], axis=1)
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        ll = _population(jnp.asarray(thetas), rec, feats, sqrt_m, variant=v, L=prep.L)
        ll = np.asarray(ll, np.float64)
    return {"loglik": ll, "loglik_per_list": ll / prep.recalls.shape[0]}


def loglik_model(variant: Any, *, name: str | None = None) -> ModelSpec:
    """The sweepable ``cmr.loglik`` model of any registered variant (name or Variant)."""
    from ._variants import get_variant

    v = get_variant(variant)
    return ModelSpec(
        name=name or ("cmr.loglik" if v.name == "jaxcmr" else f"cmr.loglik.{v.name}"),
        params=params_schema(v),
        evaluate=functools.partial(_cmr_loglik_evaluate, variant=v.name),
        outputs={"loglik": "log-likelihood of every list of the data set (nats)",
                 "loglik_per_list": "log-likelihood per list (nats)"},
        description="Likelihood surface of CMR (retrieved-context model of free recall, "
                    f"{v.name} variant: {v.description}) for a free-recall data set: the "
                    "exact log-likelihood of the recorded recall sequences at every grid "
                    "point.",
        uses_dataset=True,
    )


#: ``cmr.loglik``: the exact CMR (jaxcmr variant) log-likelihood of a free-recall data
#: set over a parameter grid; seeds are not used (use ``[seeds] count = 1``).
CMR_LOGLIK = loglik_model("jaxcmr")
#: ``cmr.loglik.paper``: the same with the papers' equations (``variant="paper"``).
CMR_LOGLIK_PAPER = loglik_model("paper")
#: ``cmr.loglik.cymr``: cymr's parameterisation and equations (``variant="cymr"``).
CMR_LOGLIK_CYMR = loglik_model("cymr")
#: ``cmr.loglik.ecmr`` / ``cmr.loglik.cmr3``: the emotional variants (the data set needs a
#: ``valence`` column on study events).
CMR_LOGLIK_ECMR = loglik_model("ecmr")
CMR_LOGLIK_CMR3 = loglik_model("cmr3")
#: The params schema of ``cmr.loglik`` (jaxcmr's names).
CmrLoglikParams = CMR_LOGLIK.params

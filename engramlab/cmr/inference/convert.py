"""The one conversion of a run's arrays to ArviZ ``InferenceData``, and reading back the
run description it carries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ValidationError
from .fingerprint import data_fingerprint

if TYPE_CHECKING:
    from .spec import FitSpec, Priors

__all__ = ["DATA_ATTR", "SPEC_ATTR", "read_meta", "to_inference_data"]

#: posterior attribute (JSON): the run description (spec, priors, settings)
SPEC_ATTR = "engramlab_spec"
#: posterior attribute (JSON) identifying the data a posterior was sampled on; see
#: :func:`~engramlab.cmr.inference.fingerprint.data_fingerprint`
DATA_ATTR = "engramlab_data"


def to_inference_data(raw: Mapping[str, np.ndarray] | None,
                      per_subject: Sequence[Mapping[str, np.ndarray]] | None, spec: FitSpec,
                      pri_obj: Priors, hierarchical: bool, subjects: Sequence[Any],
                      subj_idx: np.ndarray, recalls: np.ndarray,
                      settings: Mapping[str, Any]) -> Any:
    """The ArviZ ``InferenceData`` of a run (the one converter; ArviZ's group and
    sample-stat names).

    ``raw``: one unit's arrays over all subjects (``s:`` constrained sites ``(C, D, ...)``
    and ``log_lik`` ``(C, D, n_lists)``, ``x:`` sample stats ``(C, D)``), or ``None`` and
    ``per_subject``: one such unit per subject (no pooling, run separately). ``subj_idx``
    ``(n_lists,)`` each list's subject in ``subjects``; ``recalls`` ``(n_lists, L)``.

    Groups: ``posterior`` (every free parameter in natural units, dims ``(chain, draw,
    subject)``; hierarchical runs add ``mu_<name>``, the group median ``lo + (hi - lo)
    sigmoid(mu)`` in natural units, and ``sigma_<name>`` on the z scale, dims ``(chain,
    draw)``), ``sample_stats`` (``diverging``, ``lp`` = minus the potential energy,
    ``n_steps``, ``tree_depth`` = ``floor(log2 n_steps) + 1``, ``acceptance_rate``,
    ``step_size``; a ``subject`` dim for separate per-subject runs), ``log_likelihood``
    (``recall``: every list's log-likelihood in nats, dims ``(chain, draw, list)``) and
    ``observed_data`` (``recalls`` ``(list, output)``: 1-based study positions, 0-padded;
    ``list_subject`` ``(list,)``). The posterior's attributes hold the run description
    (:func:`read_meta`) and the data fingerprint
    (:func:`~engramlab.cmr.inference.fingerprint.data_fingerprint`)."""
    import arviz as az

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    if raw is not None:
        z = (raw["s:mu"][:, :, None, :] + raw["s:sigma"][:, :, None, :] * raw["s:eta"]
             if "s:eta" in raw else raw["s:z"])
        log_lik = raw["s:log_lik"]
        x = {k[2:]: v for k, v in raw.items() if k.startswith("x:")}
    else:
        z = np.concatenate([p["s:z"] for p in per_subject], axis=2)     # (C, D, S, k)
        log_lik = np.zeros(z.shape[:2] + (len(subj_idx),))
        for s, p in enumerate(per_subject):
            log_lik[:, :, subj_idx == s] = p["s:log_lik"]
        # per-subject sample stats get a subject dim
        x = {k[2:]: np.stack([p[k] for p in per_subject], axis=2)
             for k in per_subject[0] if k.startswith("x:")}
    theta = spec.lo + (spec.hi - spec.lo) * sig(z)                          # (C, D, S, k)
    post = {n: theta[..., j] for j, n in enumerate(spec.free)}
    dims = {n: ["subject"] for n in spec.free}
    if hierarchical:
        for j, n in enumerate(spec.free):
            post[f"mu_{n}"] = spec.lo[j] + (spec.hi[j] - spec.lo[j]) * sig(raw["s:mu"][..., j])
            post[f"sigma_{n}"] = raw["s:sigma"][..., j]
    sdims = [] if raw is not None else ["subject"]
    n_steps = x["num_steps"].astype(np.int64)
    stats = {"diverging": x["diverging"].astype(bool), "lp": -x["potential_energy"],
             "n_steps": n_steps, "tree_depth": np.floor(np.log2(np.maximum(n_steps, 1)))
             .astype(np.int64) + 1, "acceptance_rate": x["accept_prob"],
             "step_size": x["adapt_state.step_size"]}
    stat_dims = {k: sdims for k in stats}
    subj_coord = np.asarray(subjects)
    if subj_coord.dtype == object:
        subj_coord = subj_coord.astype(str)
    coords = {"subject": subj_coord, "list": np.arange(len(subj_idx)),
              "output": np.arange(recalls.shape[1])}
    idata = az.from_dict(
        posterior=post, sample_stats=stats, log_likelihood={"recall": log_lik},
        observed_data={"recalls": recalls.astype(np.int64),
                       "list_subject": subj_coord[subj_idx]},
        coords=coords,
        dims={**dims, **stat_dims, "recall": ["list"], "recalls": ["list", "output"],
              "list_subject": ["list"]},
    )
    meta = {"spec": spec.to_json(), "priors": pri_obj.to_dict(),
            "settings": {k: v for k, v in settings.items() if k != "key"}}
    idata.posterior.attrs[SPEC_ATTR] = json.dumps(meta)
    idata.posterior.attrs["variant"] = spec.variant
    idata.posterior.attrs["hierarchical"] = int(hierarchical)
    idata.posterior.attrs[DATA_ATTR] = json.dumps(
        data_fingerprint(recalls, subj_coord[subj_idx]))
    return idata


def read_meta(idata: Any, name: str = "idata", groups: Sequence[str] = ()) -> dict[str, Any]:
    """The run description :func:`sample` stores in ``idata``, after checking that
    ``idata`` is an ArviZ InferenceData made by :func:`sample` and has every group in
    ``groups`` (a :class:`ValidationError` naming ``name`` otherwise)."""
    have = idata.groups() if callable(getattr(idata, "groups", None)) else None
    if have is None or "posterior" not in have:
        raise ValidationError(f"{name}: expected an ArviZ InferenceData made by "
                              f"engramlab.cmr.sample (with a posterior group), got "
                              f"{type(idata).__name__}")
    try:
        meta = json.loads(idata.posterior.attrs[SPEC_ATTR])
        meta["spec"]["free"], meta["spec"]["names"]  # noqa: B018 - the keys used downstream
    except (KeyError, TypeError, ValueError):
        raise ValidationError(f"{name}: expected an InferenceData made by "
                              "engramlab.cmr.sample (no valid engramlab_spec attribute on "
                              "its posterior)") from None
    missing = [g for g in groups if g not in have]
    if missing:
        raise ValidationError(f"{name}: the InferenceData has no {missing} group(s) "
                              f"(it has {list(have)}); use the result of cmr.sample or "
                              "cmr.load_inference as written by cmr.save_inference")
    return meta

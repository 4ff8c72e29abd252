"""What identifies the data a model was fitted to: fingerprints of the recalls and list
subjects, in the model's list order, for :func:`~engramlab.cmr.compare` and the
posterior checks (:func:`~engramlab.cmr.posterior_predictive`,
:func:`~engramlab.cmr.point_fits`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ValidationError

__all__ = ["data_differences", "data_fingerprint", "digest", "frame_fingerprint"]


def digest(*parts: bytes) -> str:
    """SHA-256 (hex) over ``parts``, each prefixed by its length."""
    h = hashlib.sha256()
    for b in parts:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def data_fingerprint(recalls: np.ndarray, list_subject: np.ndarray) -> dict[str, Any]:
    """What identifies the data a model was fitted to, for :func:`compare`.

    **Arguments:** ``recalls`` ``(n_lists, L)`` (1-based study positions, 0-padded, in the
    model's list order) and ``list_subject`` ``(n_lists,)`` (each list's subject).

    **Returns:** a JSON-able dict: ``n_lists``; ``recalls`` (sha256 of the recalls matrix,
    in order); ``subjects`` (sha256 of the subject labels, in order, compared as text so
    ``1`` and ``"1"`` agree); ``lists`` (sha256 of the sorted per-list digests of
    ``(subject, recalls row)``: the same lists in another order share it, which is how
    :func:`compare` tells a reordering from other data).
    """
    rec = np.ascontiguousarray(np.asarray(recalls), dtype=np.int64)
    subj = [str(x) for x in np.asarray(list_subject).tolist()]
    if rec.ndim != 2 or rec.shape[0] != len(subj):
        raise ValidationError(f"recalls: expected (n_lists, L) with one subject per list, "
                              f"got shape {rec.shape} and {len(subj)} subject labels")
    rows = sorted(digest(s.encode(), r.tobytes()) for s, r in zip(subj, rec, strict=True))
    return {"n_lists": int(rec.shape[0]),
            "recalls": digest(np.asarray(rec.shape, np.int64).tobytes(), rec.tobytes()),
            "subjects": digest("\x1f".join(subj).encode()),
            "lists": digest("".join(rows).encode())}


def data_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """What differs between two :func:`data_fingerprint` s (empty: the same data)."""
    if a["n_lists"] != b["n_lists"]:
        return [f"number of lists ({a['n_lists']} vs {b['n_lists']})"]
    same_recalls, same_subjects = a["recalls"] == b["recalls"], a["subjects"] == b["subjects"]
    if same_recalls and same_subjects:
        return []
    if a.get("lists") is not None and a.get("lists") == b.get("lists"):
        return ["list order"]
    return ([] if same_recalls else ["recalls"]) + ([] if same_subjects else
                                                    ["list subjects"])


def frame_fingerprint(data: pd.DataFrame) -> dict[str, Any]:
    """:func:`data_fingerprint` of a psifr frame, cleaned and ordered as ``sample`` does."""
    from .._data import to_arrays

    arr = to_arrays(data)
    return data_fingerprint(arr.recalls, arr.subject)

"""Seed 000's EEG analysis, call for call.

The seed writes::

    def compute_coherence(eeg, emotion_labels):
        gamma = bandpass_filter(eeg, 30, 80)
        return phase_locking_value(gamma)[emotion_labels == 1].mean()

It never defines the two helpers nor a sampling rate. Here they are, with ``sfreq`` as a
required keyword: :func:`bandpass_filter` is MNE's zero-phase FIR (:func:`bandpass`);
:func:`phase_locking_value` returns one value per trial -- indexing it with
``emotion_labels == 1`` selects trials -- namely the within-trial PLV (across time)
averaged over all channel pairs. For the across-trial sense and condition statistics use
:func:`~engramlab.eeg.phase_locking` and :meth:`~engramlab.eeg.PhaseLocking.compare`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array, renamed_arguments
from ..errors import ShapeError
from ._data import _check_signal
from ._plv import analytic_phasors, bandpass, plv_across_time

__all__ = ["bandpass_filter", "phase_locking_value", "compute_coherence"]


def _epochs(eeg: Any, name: str) -> np.ndarray:
    x = as_array(eeg, name, ndim=(2, 3), finite=False, dtype=np.float64)
    x = x[None] if x.ndim == 2 else x
    _check_signal(x, tuple(f"ch{i}" for i in range(x.shape[1])), name)
    return x


def bandpass_filter(eeg: Any, low: float = 30.0, high: float = 80.0, *,
                    sfreq: float) -> np.ndarray:
    """Zero-phase FIR band-pass ``[low, high]`` Hz of ``eeg`` ``(n_trials, n_channels,
    n_times)`` (or one trial ``(n_channels, n_times)``); same shape back."""
    with renamed_arguments(**{"band[0] (l_freq)": "low", "band[1] (h_freq)": "high",
                              "band": "low/high"}):
        return _bandpassed(eeg, sfreq, (low, high))


def _bandpassed(eeg: Any, sfreq: Any, band: Any) -> np.ndarray:
    """``eeg`` checked (2-D or 3-D, finite channels) and band-passed to ``band``."""
    x = as_array(eeg, "eeg", ndim=(2, 3), finite=False, dtype=np.float64)
    _check_signal(x, tuple(f"ch{i}" for i in range(x.shape[-2])), "eeg")
    return bandpass(x, sfreq, band)


def phase_locking_value(gamma: Any) -> np.ndarray:
    """Per-trial PLV of band-passed ``gamma`` ``(n_trials, n_channels, n_times)``.

    ``PLV^(n) = mean_{i<j} |mean_t exp(i (phi_i(t) - phi_j(t)))|`` with Hilbert phases;
    shape ``(n_trials,)``. Needs at least two channels.
    """
    x = _epochs(gamma, "gamma")
    if x.shape[1] < 2:
        raise ShapeError(f"gamma: phase locking needs at least 2 channels, got {x.shape[1]}")
    w = plv_across_time(analytic_phasors(x))
    iu = np.triu_indices(x.shape[1], 1)
    return w[:, iu[0], iu[1]].mean(axis=1)


def compute_coherence(eeg: Any, emotion_labels: Any, *, sfreq: float,
                      band: tuple[float, float] = (30.0, 80.0)) -> float:
    """The seed's ``compute_coherence``: mean per-trial gamma PLV of trials labelled 1."""
    gamma = _bandpassed(eeg, sfreq, band)
    plv = phase_locking_value(gamma)
    labels = np.asarray(emotion_labels)
    if labels.shape != plv.shape:
        raise ShapeError(f"emotion_labels: expected one label per trial, shape {plv.shape}, "
                         f"got {labels.shape}")
    sel = labels == 1
    if not sel.any():
        raise ShapeError("emotion_labels: no trial is labelled 1 (emotional)")
    return float(plv[sel].mean())

"""One-call pipeline: load -> band-pass (MNE FIR) -> Hilbert phase -> PLV -> statistics.

:func:`phase_locking` returns a :class:`PhaseLocking` holding the unit phasors of the
analysis window and both senses of PLV as labelled xarray objects; ``.to_frame()`` gives
a tidy DataFrame and ``.compare()`` the condition statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_interval, check_sequence
from ..errors import ShapeError, ValidationError
from ._data import EEGContinuous, EEGEpochs, load_eeg
from ._plv import (
    ESTIMATORS,
    band_phasors,
    check_band,
    plv_across_time,
    plv_across_trials,
)
from ._stats import ConditionComparison, TimeClusters, cluster_permutation_time, compare_groups

__all__ = ["PhaseLocking", "phase_locking", "SENSES"]

SENSES: tuple[str, ...] = ("across_trials", "within_trial")


@dataclass
class PhaseLocking:
    """Phase locking of every channel pair, both senses, per condition.

    **Fields:**

    - ``phasors``: ``(n_epochs, n_channels, n_times)`` complex64 unit phasors of the
      band-passed analytic signal in the analysis window.
    - ``across_trials``: xarray ``(condition, channel_i, channel_j, time)``, the
      inter-trial PLV of each condition's trials at each time point.
    - ``within_trial``: xarray ``(epoch, channel_i, channel_j)``, the PLV across time
      within each epoch (coordinate ``label`` on ``epoch``: its condition).
    - ``labels`` ``(n_epochs,)``, ``ch_names``, ``sfreq`` (Hz), ``times`` (s), ``band``
      (Hz), ``estimator``.
    """

    phasors: np.ndarray
    across_trials: Any
    within_trial: Any
    labels: np.ndarray
    ch_names: tuple[str, ...]
    sfreq: float
    times: np.ndarray
    band: tuple[float, float]
    estimator: str

    @property
    def conditions(self) -> list[str]:
        return [str(c) for c in self.across_trials.coords["condition"].values]

    def matrix(self, condition: str | None = None, sense: str = "across_trials") -> Any:
        """Channel-pair PLV matrix (xarray ``(channel_i, channel_j)``).

        ``across_trials``: time average of the condition's inter-trial PLV;
        ``within_trial``: mean over the condition's epochs of the within-trial PLV.
        ``condition=None`` means the first condition (or "all" without labels).
        """
        check_choice(sense, "sense", SENSES)
        cond = self._cond(condition)
        if sense == "across_trials":
            return self.across_trials.sel(condition=cond).mean("time")
        wt = self.within_trial
        return wt.isel(epoch=np.flatnonzero(self.labels == cond)).mean("epoch")

    def _cond(self, condition: str | None) -> str:
        conds = self.conditions
        if condition is None:
            return conds[0]
        if str(condition) not in conds:
            raise ValidationError(f"condition: expected one of {conds}, got {condition!r}")
        return str(condition)

    def _pairs(self, pairs: Any) -> list[tuple[int, int]]:
        n = len(self.ch_names)
        if pairs is None:
            out = [(i, j) for i in range(n) for j in range(i + 1, n)]
            if not out:
                raise ShapeError(f"pairs: phase locking needs at least 2 channels, got "
                                 f"{list(self.ch_names)}")
            return out
        idx = {c: k for k, c in enumerate(self.ch_names)}
        out = []
        for p in check_sequence(pairs, "pairs", what="(channel, channel) pairs"):
            try:
                a, b = p
            except (TypeError, ValueError):
                raise ValidationError(f"pairs: expected (channel, channel) tuples, got {p!r}"
                                      ) from None
            ia = idx[a] if isinstance(a, str) and a in idx else a
            ib = idx[b] if isinstance(b, str) and b in idx else b
            if not (isinstance(ia, int | np.integer) and isinstance(ib, int | np.integer)
                    and 0 <= ia < n and 0 <= ib < n and ia != ib):
                raise ValidationError(f"pairs: {p!r} is not a pair of two different channels "
                                      f"among {list(self.ch_names)}")
            out.append((int(ia), int(ib)))
        if not out:
            raise ValidationError(f"pairs: expected at least one channel pair, got none "
                                  f"(channels: {list(self.ch_names)})")
        return out

    def timecourse(self, pairs: Any = None) -> Any:
        """Across-trial PLV averaged over ``pairs`` (default all), xarray ``(condition, time)``."""
        import xarray as xr

        pp = self._pairs(pairs)
        ii = xr.DataArray([p[0] for p in pp], dims="pair")
        jj = xr.DataArray([p[1] for p in pp], dims="pair")
        return self.across_trials.isel(channel_i=ii, channel_j=jj).mean("pair")

    def per_trial(self, pairs: Any = None) -> np.ndarray:
        """Within-trial PLV of each epoch averaged over ``pairs``, shape ``(n_epochs,)``."""
        pp = self._pairs(pairs)
        wt = np.asarray(self.within_trial)
        return np.mean([wt[:, i, j] for i, j in pp], axis=0)

    def to_frame(self) -> Any:
        """Tidy DataFrame: sense, condition, epoch, channel_i, channel_j, plv (i < j).

        Across-trial rows are time-averaged per condition (``epoch = -1``); within-trial
        rows are per epoch.
        """
        import pandas as pd

        n = len(self.ch_names)
        iu, ju = np.triu_indices(n, 1)
        names = np.asarray(self.ch_names)
        frames = []
        at = np.asarray(self.across_trials.mean("time"))
        for k, c in enumerate(self.conditions):
            frames.append(pd.DataFrame({"sense": "across_trials", "condition": c, "epoch": -1,
                                        "channel_i": names[iu], "channel_j": names[ju],
                                        "plv": at[k, iu, ju]}))
        wt = np.asarray(self.within_trial)
        ne = wt.shape[0]
        frames.append(pd.DataFrame({
            "sense": "within_trial", "condition": np.repeat(self.labels, iu.size),
            "epoch": np.repeat(np.arange(ne), iu.size),
            "channel_i": np.tile(names[iu], ne), "channel_j": np.tile(names[ju], ne),
            "plv": wt[:, iu, ju].ravel()}))
        out = pd.concat(frames, ignore_index=True)
        out.attrs.update({"estimator": self.estimator, "band_hz": list(self.band)})
        return out

    def to_dataset(self) -> Any:
        """Both PLV arrays in one :class:`xarray.Dataset` (NetCDF-ready)."""
        import xarray as xr

        return xr.Dataset({"plv_across_trials": self.across_trials,
                           "plv_within_trial": self.within_trial},
                          attrs={"band_hz": list(self.band), "sfreq_hz": self.sfreq,
                                 "estimator": self.estimator})

    def compare(self, conditions: tuple[str, str] | None = None, *,
                sense: str = "across_trials", pairs: Any = None, n_permutations: int = 1000,
                seed: int | np.random.Generator = 0, max_times: int = 64
                ) -> ConditionComparison:
        """Compare two conditions (mean +- jackknife SEM, permutation p, Cohen's d).

        ``across_trials``: each condition's across-trial PLV averaged over ``pairs`` and
        the time points (sub-sampled evenly to at most ``max_times``: neighbouring samples
        of a band-limited phase are nearly redundant); labels are shuffled over trials.
        ``within_trial``: each epoch's within-trial PLV averaged over ``pairs``; a
        two-sample permutation test on the per-epoch values.
        """
        check_choice(sense, "sense", SENSES)
        mt = check_int(max_times, "max_times", min_value=1)
        pp = self._pairs(pairs)
        if sense == "within_trial":
            return compare_groups(self.per_trial(pp), self.labels, kind="values",
                                  conditions=conditions, n_permutations=n_permutations,
                                  seed=seed, sense=sense, estimator=self.estimator)
        z = self.phasors
        stride = int(np.ceil(z.shape[2] / mt))
        zs = z[:, :, ::stride]
        ii = np.array([p[0] for p in pp])
        jj = np.array([p[1] for p in pp])
        u = (zs[:, ii, :] * zs[:, jj, :].conj()).reshape(z.shape[0], -1)
        res = compare_groups(u, self.labels, kind="phasors", estimator=self.estimator,
                             conditions=conditions, n_permutations=n_permutations, seed=seed,
                             sense=sense)
        res.info.update({"time_stride": stride, "n_pairs": len(pp),
                         "n_time_points": int(zs.shape[2])})
        return res


    def compare_timecourse(self, conditions: tuple[str, str] | None = None, *,
                           pairs: Any = None, n_permutations: int = 1000,
                           seed: int | np.random.Generator = 0, threshold: float = 1.96,
                           max_times: int = 200) -> TimeClusters:
        """Cluster-mass permutation test over time of the across-trial PLV difference.

        Pairs averaged as in :meth:`timecourse`; time points sub-sampled evenly to at most
        ``max_times``. See :func:`~engramlab.eeg.cluster_permutation_time`.
        """
        mt = check_int(max_times, "max_times", min_value=2)
        pp = self._pairs(pairs)
        stride = int(np.ceil(self.phasors.shape[2] / mt))
        zs = self.phasors[:, :, ::stride]
        ii = np.array([p[0] for p in pp])
        jj = np.array([p[1] for p in pp])
        u = zs[:, ii, :] * zs[:, jj, :].conj()
        return cluster_permutation_time(u, self.labels, self.times[::stride],
                                        estimator=self.estimator, conditions=conditions,
                                        n_permutations=n_permutations, seed=seed,
                                        threshold=threshold)


def _phasors_of(source: EEGEpochs | EEGContinuous, band: tuple[float, float]) -> np.ndarray:
    if isinstance(source, EEGContinuous):
        z = band_phasors(source.data, source.sfreq, band)                 # (C, S)
        idx = source.onsets[:, None] + np.arange(source.n_times)[None, :]
        return np.ascontiguousarray(np.moveaxis(z[:, idx], 1, 0))          # (N, C, T)
    return band_phasors(source.data, source.sfreq, band)


def phase_locking(source: Any, *, band: tuple[float, float] = (30.0, 80.0),
                  sfreq: float | None = None, labels: Any = None, ch_names: Any = None,
                  events: Any = None, event_id: dict | None = None, tmin: float = 0.0,
                  tmax: float | None = None, epoch_length: float | None = None,
                  window: tuple[float, float] | None = None, estimator: str = "plv",
                  ) -> PhaseLocking:
    """Gamma-band phase locking of every channel pair, in both senses, per condition.

    Steps: :func:`~engramlab.eeg.load_eeg` (MNE Raw/Epochs, a file, or an array with
    ``sfreq``); MNE's zero-phase FIR band-pass ``band`` (Hz, default 30-80; identical to
    :func:`mne.filter.filter_data`, batched) and analytic signal (Hilbert) -> unit
    phasors (:func:`~engramlab.eeg.band_phasors`; continuous data are filtered before
    epoching); crop to ``window`` (s, epoch time); then
    :func:`~engramlab.eeg.plv_across_trials` per condition and
    :func:`~engramlab.eeg.plv_across_time` per epoch.

    **Arguments:** see :func:`~engramlab.eeg.load_eeg` for the input ones; ``estimator``
    is ``"plv"``, ``"ppc"`` (unbiased PLV^2) or ``"plv_debiased"``.

    **Returns:** :class:`PhaseLocking`.

    **Raises:** :class:`~engramlab.errors.ValidationError` for a band above Nyquist or
    inverted, labels not matching the epochs, a condition with a single trial;
    :class:`~engramlab.errors.DataError` for epochs shorter than the filter, NaN or flat
    channels.
    """
    import xarray as xr

    check_choice(estimator, "estimator", ESTIMATORS)
    data = source if isinstance(source, EEGEpochs | EEGContinuous) else load_eeg(
        source, sfreq=sfreq, labels=labels, ch_names=ch_names, events=events,
        event_id=event_id, tmin=tmin, tmax=tmax, epoch_length=epoch_length)
    if isinstance(source, EEGEpochs | EEGContinuous) and labels is not None:
        from ._data import as_labels

        n_ep = (source.data.shape[0] if isinstance(source, EEGEpochs)
                else source.onsets.size)
        data = type(source)(**{**source.__dict__, "labels": as_labels(labels, n_ep)})
    band = check_band(band, data.sfreq)
    if len(data.ch_names) < 2:
        raise ShapeError(f"data: phase locking is between channel pairs and needs at least "
                         f"2 channels, got {len(data.ch_names)} ({list(data.ch_names)})")
    z = _phasors_of(data, band)
    n_ep, n_ch, n_t = z.shape
    times = data.tmin + np.arange(n_t) / data.sfreq
    if window is not None:
        w0, w1 = check_interval(window, "window", dtype=np.float64)
        keep = (times >= w0 - 1e-9) & (times <= w1 + 1e-9)
        if w1 <= w0 or keep.sum() < 2:
            raise ValidationError(f"window: expected (t0, t1) with t0 < t1 covering >= 2 "
                                  f"samples of the epoch times [{times[0]:g}, {times[-1]:g}] s,"
                                  f" got {window}")
        z, times = z[:, :, keep], times[keep]
    labels_arr = data.labels if data.labels is not None else np.array(["all"] * n_ep)
    conds = [str(c) for c in np.unique(labels_arr)]
    at = []
    for c in conds:
        sel = labels_arr == c
        if sel.sum() < 2:
            raise ValidationError(f"labels: condition {c!r} has a single trial; across-trial "
                                  "PLV needs at least 2 trials per condition")
        at.append(plv_across_trials(z[sel], estimator=estimator))
    names = list(data.ch_names)
    across = xr.DataArray(np.stack(at), dims=("condition", "channel_i", "channel_j", "time"),
                          coords={"condition": conds, "channel_i": names, "channel_j": names,
                                  "time": times}, name="plv_across_trials",
                          attrs={"units": "1", "band_hz": list(band), "estimator": estimator})
    within = xr.DataArray(plv_across_time(z, estimator=estimator),
                          dims=("epoch", "channel_i", "channel_j"),
                          coords={"epoch": np.arange(n_ep), "label": ("epoch", labels_arr),
                                  "channel_i": names, "channel_j": names},
                          name="plv_within_trial",
                          attrs={"units": "1", "band_hz": list(band), "estimator": estimator})
    return PhaseLocking(phasors=z, across_trials=across, within_trial=within,
                        labels=labels_arr, ch_names=tuple(names), sfreq=data.sfreq,
                        times=times, band=band, estimator=estimator)

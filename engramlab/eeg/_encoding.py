"""Per-item encoding measures from study-locked epochs, and the subsequent-memory effect.

Each epoch is one studied item (``events`` gives its ``subject``, ``list``,
``position``). With ``x[n, c, t]`` the signal of epoch ``n``, channel ``c``, ``x_b`` its
zero-phase FIR band-pass (:func:`~engramlab.eeg.bandpass`, run on the whole epoch and
then cropped, so the window should stay a filter half-length away from the epoch
edges) and ``phi`` the Hilbert phase of ``x_b`` (:func:`~engramlab.eeg.band_phasors`):

- ``band_power``: ``mean_{c in channels} mean_{t in window} x_b[n, c, t]^2`` (a
  sinusoid of amplitude ``A`` inside the band gives ``A^2 / 2``);
- ``plv``: single-trial phase synchrony, ``mean_{(a, b) in pairs}
  |mean_{t in window} exp(i (phi_a - phi_b))|`` (1 for a constant phase lag; about
  ``sqrt(pi / (4 T))`` for independent phases over ``T`` samples);
- ``erp``: the mean raw voltage in ``erp_window`` over ``erp_channels`` (e.g. the late
  positive potential, 400-800 ms, at parietal sites).

:func:`merge_measures` adds them to the study rows of a psifr recall frame;
:func:`subsequent_memory` compares later-recalled with later-forgotten items with the
permutation engine of :func:`~engramlab.eeg.compare_groups`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array, check_interval, check_sequence
from ..errors import DataError, ShapeError, ValidationError

__all__ = ["MEASURES", "encoding_measures", "merge_measures", "subsequent_memory"]

#: The measures :func:`encoding_measures` computes.
MEASURES = ("band_power", "plv", "erp")
#: The columns that key one study event.
KEYS = ("subject", "list", "position")


def _as_epochs(epochs: Any):
    from ._data import EEGEpochs, load_eeg

    if isinstance(epochs, EEGEpochs):
        return epochs
    if isinstance(epochs, np.ndarray | list | tuple):
        raise ValidationError("epochs: expected EEGEpochs or mne.Epochs, got an array; wrap "
                              "it with load_eeg(data, sfreq=...)")
    out = load_eeg(epochs)
    if not isinstance(out, EEGEpochs):
        raise ValidationError(f"epochs: expected epoched data (EEGEpochs or mne.Epochs), got "
                              f"{type(epochs).__name__} (continuous data)")
    return out


def _window_index(times: np.ndarray, window: Any, name: str, sfreq: float) -> slice:
    lo, hi = check_interval(window, name)
    eps = 0.5 / sfreq
    if lo < times[0] - eps or hi > times[-1] + eps:
        raise ValidationError(f"{name}: expected a window inside the epoch "
                              f"[{times[0]:g}, {times[-1]:g}] s, got ({lo:g}, {hi:g}) s")
    idx = np.flatnonzero((times >= lo - eps) & (times <= hi + eps))
    if idx.size < 2:
        raise ValidationError(f"{name}: expected at least 2 samples in the window, got "
                              f"{idx.size} in ({lo:g}, {hi:g}) s at sfreq={sfreq:g} Hz")
    return slice(int(idx[0]), int(idx[-1]) + 1)


def _channel_index(names: tuple[str, ...], channels: Any, name: str) -> list[int]:
    if channels is None:
        return list(range(len(names)))
    chans = [str(c) for c in check_sequence(channels, name, what="channel names")]
    if not chans:
        raise ValidationError(f"{name}: expected at least one channel name, got none")
    unknown = [c for c in chans if c not in names]
    if unknown:
        raise ValidationError(f"{name}: unknown channel(s) {unknown}; the epochs have "
                              f"{list(names)}"[:400])
    return [names.index(c) for c in chans]


def _pair_index(names: tuple[str, ...], chans: list[int], pairs: Any) -> list[tuple[int, int]]:
    if pairs is None:
        out = [(a, b) for i, a in enumerate(chans) for b in chans[i + 1:]]
        if not out:
            raise ValidationError(f"channels: the plv measure needs at least 2 channels, got "
                                  f"{[names[c] for c in chans]}")
        return out
    out = []
    for p in check_sequence(pairs, "pairs", what="(channel, channel) pairs"):
        if isinstance(p, str) or not hasattr(p, "__len__") or len(p) != 2:
            raise ValidationError(f"pairs: expected (channel, channel) pairs, got {p!r}"[:200])
        a, b = _channel_index(names, list(p), "pairs")
        if a == b:
            raise ValidationError(f"pairs: expected two different channels, got {p!r}")
        out.append((a, b))
    if not out:
        raise ValidationError("pairs: expected at least one (channel, channel) pair, got none")
    return out


def _events_frame(events: Any, n_epochs: int):
    import pandas as pd

    if not isinstance(events, pd.DataFrame):
        try:
            events = pd.DataFrame(events)
        except (TypeError, ValueError):
            raise ValidationError(f"events: expected a DataFrame with columns {list(KEYS)} "
                                  f"(one row per epoch), got {type(events).__name__}") from None
    if "trial_type" in events.columns:   # a psifr frame: its study rows, in order
        events = events.loc[events["trial_type"] == "study"]
    missing = [k for k in KEYS if k not in events.columns]
    if missing:
        raise DataError(f"events: missing column(s) {missing}; expected {list(KEYS)}, got "
                        f"{list(events.columns)}"[:400])
    ev = events.loc[:, list(KEYS)].reset_index(drop=True)
    if len(ev) != n_epochs:
        raise ShapeError(f"events: expected {n_epochs} rows (one per epoch), got {len(ev)}")
    if ev.isna().to_numpy().any():
        row = int(np.flatnonzero(ev.isna().to_numpy().any(axis=1))[0])
        raise DataError(f"events: row {row} has a missing subject/list/position")
    dup = ev.duplicated(keep=False)
    if dup.any():
        first = ev.loc[dup].iloc[0].to_dict()
        raise DataError(f"events: {int(dup.sum())} rows share a (subject, list, position) key, "
                        f"e.g. {first}; each epoch must be one study event")
    return ev


def encoding_measures(epochs: Any, events: Any, *, measures: Any = MEASURES,
                      band: tuple[float, float] = (30.0, 80.0),
                      window: tuple[float, float] = (0.0, 1.0),
                      erp_window: tuple[float, float] = (0.4, 0.8),
                      channels: Any = None, pairs: Any = None, erp_channels: Any = None):
    """Per-item encoding measures (band power, single-trial PLV, ERP window mean).

    **Arguments:**

    - ``epochs``: :class:`EEGEpochs` (or :class:`mne.Epochs`), one epoch per studied item,
      time 0 at item onset.
    - ``events``: one row per epoch with columns ``subject``, ``list``, ``position`` (a
      DataFrame or anything ``pandas.DataFrame`` takes); a psifr frame with a
      ``trial_type`` column contributes its study rows, in order.
    - ``measures``: any of ``"band_power"``, ``"plv"``, ``"erp"``.
    - ``band``: pass band (Hz) of ``band_power`` and ``plv``; ``window`` (s, epoch time)
      they are averaged over.
    - ``erp_window`` (s): window of the ``erp`` mean.
    - ``channels``: channel names for ``band_power`` (and the default ``pairs``); default
      all. ``pairs``: ``(a, b)`` channel pairs for ``plv``; default all pairs of
      ``channels``. ``erp_channels``: channels of the ERP mean; default ``channels``.

    **Returns:** a DataFrame, one row per epoch: ``subject, list, position`` and one
    column per measure (see the module docstring for the definitions).

    **Raises:** :class:`ShapeError` for events not matching the epochs;
    :class:`ValidationError` for unknown measures or channels, windows outside the epoch,
    a band above Nyquist; :class:`DataError` for duplicated event keys, non-finite or
    flat data, epochs shorter than the filter.
    """
    from ._data import _check_signal
    from ._plv import band_phasors, bandpass, check_band

    ep = _as_epochs(epochs)
    data = as_array(ep.data, "epochs.data", ndim=3, finite=False, dtype=np.float64)
    _check_signal(data, ep.ch_names, what="epochs")
    if isinstance(measures, str):
        measures = [measures]
    meas = [str(m) for m in check_sequence(measures, "measures", what="measure names")]
    unknown = [m for m in meas if m not in MEASURES]
    if unknown or not meas or len(set(meas)) != len(meas):
        raise ValidationError(f"measures: expected distinct names among {list(MEASURES)}, got "
                              f"{meas}"[:300])
    ev = _events_frame(events, data.shape[0])
    times = ep.times
    chans = _channel_index(ep.ch_names, channels, "channels")
    out = ev.copy()
    if "band_power" in meas or "plv" in meas:
        check_band(band, ep.sfreq)
        win = _window_index(times, window, "window", ep.sfreq)
    if "band_power" in meas:
        x = bandpass(data[:, chans], ep.sfreq, band)[..., win]
        out["band_power"] = np.mean(x ** 2, axis=(1, 2))
    if "plv" in meas:
        pr = _pair_index(ep.ch_names, chans, pairs)
        used = sorted({c for p in pr for c in p})
        z = band_phasors(data[:, used], ep.sfreq, band, dtype=np.complex128)[..., win]
        a = z[:, [used.index(p[0]) for p in pr]]
        b = z[:, [used.index(p[1]) for p in pr]]
        out["plv"] = np.abs(np.mean(a * b.conj(), axis=-1)).mean(axis=1)
    if "erp" in meas:
        ec = chans if erp_channels is None else _channel_index(ep.ch_names, erp_channels,
                                                                "erp_channels")
        ew = _window_index(times, erp_window, "erp_window", ep.sfreq)
        out["erp"] = data[:, ec, ew].mean(axis=(1, 2))
    return out


def _key_frame(df: Any, name: str, extra: tuple[str, ...] = ()):
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [k for k in KEYS + extra if k not in df.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; got {list(df.columns)}"[:400])
    return df


def merge_measures(recall_df: Any, measures_df: Any):
    """Add per-item measures to the study rows of a psifr long-format recall frame.

    **Arguments:** ``recall_df`` with ``subject, list, trial_type, position`` (psifr);
    ``measures_df`` keyed by ``subject, list, position`` (as :func:`encoding_measures`
    returns), its other columns being the measures.

    **Returns:** a copy of ``recall_df`` (same rows, order and index) with one column per
    measure, filled on the study rows (NaN on recall rows and on study items without an
    epoch).

    **Raises:** :class:`DataError` for duplicated keys, a measures row that matches no
    study event, or a measure column the recall frame already has.
    """
    rec = _key_frame(recall_df, "recall_df", ("trial_type",))
    mea = _key_frame(measures_df, "measures_df")
    cols = [c for c in mea.columns if c not in KEYS]
    if not cols:
        raise DataError("measures_df: no measure columns besides subject, list, position")
    clash = [c for c in cols if c in rec.columns]
    if clash:
        raise DataError(f"measures_df: column(s) {clash} already in recall_df; drop or "
                        "rename them first")
    for df, name in ((mea, "measures_df"),
                     (rec.loc[rec["trial_type"] == "study"], "recall_df (study rows)")):
        dup = df.duplicated(list(KEYS), keep=False)
        if dup.any():
            first = df.loc[dup, list(KEYS)].iloc[0].to_dict()
            raise DataError(f"{name}: {int(dup.sum())} rows share a (subject, list, "
                            f"position) key, e.g. {first}")
    is_study = (rec["trial_type"] == "study").to_numpy()
    study = rec.loc[is_study, list(KEYS)].reset_index(drop=True)
    try:
        merged = study.merge(mea, on=list(KEYS), how="outer", indicator=True,
                             validate="one_to_one", sort=False)
    except (ValueError, TypeError) as exc:
        raise DataError(f"measures_df: its subject/list/position do not match recall_df's "
                        f"column types ({exc})") from None
    orphan = merged["_merge"] == "right_only"
    if orphan.any():
        first = merged.loc[orphan, list(KEYS)].iloc[0].to_dict()
        raise DataError(f"measures_df: {int(orphan.sum())} row(s) match no study event of "
                        f"recall_df, e.g. {first}")
    left = study.merge(mea, on=list(KEYS), how="left", sort=False)
    out = rec.copy()
    for c in cols:
        vals = np.full(len(rec), np.nan, dtype=np.float64)
        vals[is_study] = left[c].to_numpy(dtype=np.float64)
        out[c] = vals
    return out


def _recalled(frame) -> np.ndarray:
    """Whether each study row's item is among that list's recalls."""
    study = frame.loc[frame["trial_type"] == "study"]
    rec = frame.loc[frame["trial_type"] == "recall", ["subject", "list", "item"]]
    keys = set(map(tuple, rec.drop_duplicates().itertuples(index=False, name=None)))
    return np.array([k in keys for k in study[["subject", "list", "item"]]
                     .itertuples(index=False, name=None)], dtype=bool)


def subsequent_memory(frame: Any, measure: str, *, by: str | None = None,
                      n_permutations: int = 1000, seed: int | np.random.Generator = 0):
    """Subsequent-memory effect: ``measure`` for later-recalled vs later-forgotten items.

    **Arguments:**

    - ``frame``: a psifr long-format frame (``subject, list, trial_type, position,
      item``) whose study rows carry ``measure`` (see :func:`merge_measures`); an item
      counts as *recalled* when it appears among that list's recall events. A psifr
      merged frame (one row per study item, boolean ``recall`` column) works too.
      Study items with a missing (NaN) measure are left out.
    - ``measure``: the column to compare; ``by``: optional condition column (one test per
      value).
    - ``n_permutations``, ``seed``: the label-shuffle test (items exchangeable within
      each level of ``by``; subjects are pooled).

    **Returns:** a DataFrame, one row per level of ``by`` (or one row): ``[by,]
    n_recalled, n_forgotten, mean_recalled, mean_forgotten, sem_recalled, sem_forgotten,
    difference`` (recalled - forgotten), ``p_value`` (two-sided permutation, from
    :func:`compare_groups`), ``cohens_d`` (pooled SD) and ``hedges_g`` (``d (1 - 3 / (4
    (n_r + n_f) - 9))``).

    **Raises:** :class:`DataError` for a missing column, infinite values, or a level
    with fewer than 2 recalled or forgotten items.
    """
    import pandas as pd

    from ._stats import compare_groups

    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
    if not isinstance(measure, str) or measure not in frame.columns:
        raise DataError(f"measure: expected a column of frame, got {measure!r}; columns: "
                        f"{list(frame.columns)}"[:400])
    if by is not None and by not in frame.columns:
        raise DataError(f"by: expected a column of frame, got {by!r}")
    if "trial_type" in frame.columns:
        _key_frame(frame, "frame", ("trial_type", "item"))
        study = frame.loc[frame["trial_type"] == "study"]
        recalled = _recalled(frame)
    elif "recall" in frame.columns:
        study = frame
        recalled = frame["recall"].to_numpy().astype(bool)
    else:
        raise DataError("frame: expected a psifr long frame (trial_type column) or a merged "
                        f"frame (recall column), got columns {list(frame.columns)}"[:400])
    values = pd.to_numeric(study[measure], errors="coerce").to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        raise DataError(f"measure: column {measure!r} has {int(np.isinf(values).sum())} "
                        "infinite value(s) on study rows")
    keep = ~np.isnan(values)
    levels = [None] if by is None else list(pd.unique(study.loc[keep, by]))
    rows = []
    for level in levels:
        sel = keep if level is None else keep & (study[by] == level).to_numpy()
        v, r = values[sel], recalled[sel]
        n_r, n_f = int(r.sum()), int((~r).sum())
        where = "" if level is None else f" at {by}={level!r}"
        if min(n_r, n_f) < 2:
            raise DataError(f"frame: the subsequent-memory test needs at least 2 recalled and "
                            f"2 forgotten items with a {measure!r} value{where}, got {n_r} "
                            f"recalled and {n_f} forgotten")
        labels = np.where(r, "recalled", "forgotten")
        res = compare_groups(v, labels, kind="values", conditions=("recalled", "forgotten"),
                             n_permutations=n_permutations, seed=seed, sense="subsequent")
        tab = res.table.set_index("condition")
        d = res.effect_size
        row = {} if level is None else {by: level}
        row.update(n_recalled=n_r, n_forgotten=n_f,
                   mean_recalled=float(tab.loc["recalled", "value"]),
                   mean_forgotten=float(tab.loc["forgotten", "value"]),
                   sem_recalled=float(tab.loc["recalled", "sem"]),
                   sem_forgotten=float(tab.loc["forgotten", "sem"]),
                   difference=res.difference, p_value=res.p_value, cohens_d=d,
                   hedges_g=d * (1.0 - 3.0 / (4.0 * (n_r + n_f) - 9.0)))
        rows.append(row)
    return pd.DataFrame(rows)

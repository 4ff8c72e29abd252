"""EEG input: MNE Raw/Epochs, files MNE reads, NumPy arrays; the bundled spkit recording.

Everything is converted to :class:`EEGEpochs` (epoched, labelled data) or
:class:`EEGContinuous` (a continuous recording plus epoch onsets, so band-pass and
Hilbert transform run on the continuous signal before epoching, free of edge effects).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import (
    as_array,
    check_finite_scalar,
    check_int,
    check_positive,
    check_resources,
    check_sequence,
    nbytes,
    renamed_arguments,
)
from ..errors import DataError, ShapeError, ValidationError

__all__ = ["EEGEpochs", "EEGContinuous", "load_eeg", "as_labels", "spkit_sample_path",
           "load_spkit_sample"]


@dataclass(frozen=True)
class EEGEpochs:
    """Epoched EEG.

    **Fields:** ``data`` ``(n_epochs, n_channels, n_times)`` float64 (any unit, usually
    V); ``sfreq`` Hz; ``ch_names`` (n_channels); ``labels`` condition of each epoch
    (strings) or ``None``; ``tmin`` time of the first sample in s.
    """

    data: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    labels: np.ndarray | None = None
    tmin: float = 0.0

    def __post_init__(self):
        _check_fields(self, ndim=3)
        if self.labels is not None:
            as_labels(self.labels, self.data.shape[0])

    @property
    def times(self) -> np.ndarray:
        """Sample times (s), shape ``(n_times,)``."""
        return self.tmin + np.arange(self.data.shape[-1]) / self.sfreq


@dataclass(frozen=True)
class EEGContinuous:
    """A continuous recording ``data`` ``(n_channels, n_samples)`` and epochs to cut.

    ``onsets`` are the first samples of the epochs, ``n_times`` their length, ``tmin``
    the epoch time of that first sample (s).
    """

    data: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    onsets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_times: int = 0
    labels: np.ndarray | None = None
    tmin: float = 0.0

    def __post_init__(self):
        _check_fields(self, ndim=2)
        onsets = as_array(self.onsets, "onsets", ndim=1, kind="int", allow_empty=True)
        n = check_int(self.n_times, "n_times", min_value=0)
        if onsets.size and (int(onsets.min()) < 0
                            or int(onsets.max()) + n > self.data.shape[1]):
            raise DataError(f"onsets: epochs of {n} samples from onsets in "
                            f"[{onsets.min()}, {onsets.max()}] extend beyond the recording "
                            f"({self.data.shape[1]} samples)")
        if self.labels is not None:
            as_labels(self.labels, onsets.size)


def _check_fields(obj: Any, ndim: int) -> None:
    """The invariants of :class:`EEGEpochs` / :class:`EEGContinuous` (built by hand)."""
    data = as_array(obj.data, "data", ndim=ndim, dtype=np.float64)
    check_positive(obj.sfreq, "sfreq", dtype=np.float64)
    check_finite_scalar(obj.tmin, "tmin", dtype=np.float64)
    names = check_sequence(obj.ch_names, "ch_names", what="names")
    if len(names) != data.shape[-2]:
        raise ShapeError(f"ch_names: expected {data.shape[-2]} names (one per channel), got "
                         f"{len(names)}")


def as_labels(labels: Any, n_epochs: int, name: str = "labels") -> np.ndarray | None:
    """Condition labels as a string array of length ``n_epochs`` (``None`` passes)."""
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ShapeError(f"{name}: expected one label per epoch (1-D), got shape {arr.shape}")
    if arr.shape[0] != n_epochs:
        raise ShapeError(f"{name}: expected {n_epochs} labels (one per epoch), got "
                         f"{arr.shape[0]}")
    return np.array([str(v) for v in arr.tolist()], dtype=object).astype(str)


def _check_signal(data: np.ndarray, ch_names: tuple[str, ...], what: str = "data") -> None:
    """NaN/inf and flat channels, named by channel (and epoch)."""
    bad = ~np.isfinite(data)
    if bad.any():
        idx = np.argwhere(bad)[0]
        ch = ch_names[idx[-2]]
        ep = f" in epoch {idx[0]}" if data.ndim == 3 else ""
        raise DataError(f"{what}: channel {ch!r}{ep} contains {int(bad.sum())} NaN/inf "
                        f"value(s) (first at sample {idx[-1]}); interpolate or drop it")
    ptp = np.ptp(data, axis=-1)
    flat = ptp <= 1e-12 * max(float(np.max(np.abs(data))), 1e-300)
    if flat.any():
        idx = np.argwhere(flat)[0]
        ch = ch_names[idx[-1]]
        ep = f" in epoch {idx[0]}" if data.ndim == 3 else ""
        raise DataError(f"{what}: channel {ch!r}{ep} is flat (constant signal): its phase is "
                        "undefined; drop it (e.g. mark it bad in MNE) before computing PLV")


def _ch_names(ch_names: Any, n: int) -> tuple[str, ...]:
    if ch_names is None:
        return tuple(f"ch{i}" for i in range(n))
    names = tuple(str(c) for c in check_sequence(ch_names, "ch_names", what="names"))
    if len(names) != n:
        raise ShapeError(f"ch_names: expected {n} names (one per channel), got {len(names)}")
    if len(set(names)) != n:
        raise ValidationError(f"ch_names: expected unique names, got {names}")
    return names


def _onsets(n_samples: int, sfreq: float, epoch_length: float | None,
            events: Any, tmin: float, tmax: float | None) -> tuple[np.ndarray, int, float]:
    if events is not None:
        ev = as_array(events, "events", ndim=(1, 2), kind="int")
        samples = ev[:, 0] if ev.ndim == 2 else ev
        if tmax is None:
            raise ValidationError("tmax: required (epoch end in s after each event) when "
                                  "events are given")
        tmax = check_finite_scalar(tmax, "tmax")
        if tmax <= tmin:
            raise ValidationError(f"tmax: expected tmax > tmin = {tmin:g} s, got {tmax:g}")
        check_resources("the epochs", n_bytes=nbytes(samples.size, (tmax - tmin) * sfreq,
                                                     itemsize=8),
                        args={"events": samples.size, "tmin": tmin, "tmax": tmax})
        first = int(round(tmin * sfreq))
        n_times = int(round((tmax - tmin) * sfreq)) + 1
        onsets = samples.astype(np.int64) + first
        tmin_out = first / sfreq
    else:
        length = check_positive(2.0 if epoch_length is None else epoch_length, "epoch_length")
        if length * sfreq > n_samples:
            raise DataError(f"epoch_length: the recording ({n_samples / sfreq:.3g} s) is "
                            f"shorter than one epoch ({length:.3g} s)")
        n_times = int(round(length * sfreq))
        onsets = np.arange(0, n_samples - n_times + 1, n_times, dtype=np.int64)
        tmin_out = 0.0
    if n_times < 2:
        raise ValidationError(f"epoch_length/tmin/tmax: epochs need >= 2 samples, got {n_times}")
    bad = (onsets < 0) | (onsets + n_times > n_samples)
    if bad.any():
        raise DataError(f"events: {int(bad.sum())} epoch(s) extend beyond the recording "
                        f"({n_samples} samples), first at onset sample {int(onsets[bad][0])}")
    if onsets.size == 0:
        raise DataError(f"epoch_length: the recording ({n_samples / sfreq:.3g} s) is shorter "
                        f"than one epoch ({n_times / sfreq:.3g} s)")
    return onsets, n_times, tmin_out


def load_eeg(source: Any, *, sfreq: float | None = None, labels: Any = None,
             ch_names: Any = None, events: Any = None, event_id: dict | None = None,
             tmin: float = 0.0, tmax: float | None = None,
             epoch_length: float | None = None) -> EEGEpochs | EEGContinuous:
    """Turn any supported input into :class:`EEGEpochs` or :class:`EEGContinuous`.

    **Arguments:**

    - ``source``: an :class:`mne.Epochs` / :class:`mne.io.Raw` object; a path to a file
      MNE reads (``*-epo.fif`` as epochs, anything else via :func:`mne.io.read_raw`), or
      a ``.npy`` / ``.npz`` array file; or an array: 3-D ``(n_epochs, n_channels,
      n_times)`` epochs or 2-D ``(n_channels, n_samples)`` continuous data.
    - ``sfreq``: sampling rate (Hz), required for arrays (or stored as ``sfreq`` in a
      ``.npz`` with keys ``data``, optional ``labels``, ``ch_names``).
    - ``labels``: one condition per epoch (array); for Epochs the default is the event
      name of each epoch.
    - ``events`` (``(n, 3)`` MNE events or onset samples; for Raw, MNE's convention:
      samples counted from the acquisition start, ``first_samp`` included),
      ``event_id`` (name -> code),
      ``tmin``/``tmax`` (s): epoch continuous data around events; otherwise it is cut in
      consecutive ``epoch_length`` (s, default 2) epochs.

    **Returns:** :class:`EEGEpochs` (epoched input) or :class:`EEGContinuous`.
    """
    import mne

    from_npz = False
    if isinstance(source, str | os.PathLike):
        source = _read_file(Path(source), sfreq=sfreq)
        if isinstance(source, dict):
            from_npz = source.get("kind") != "npy"
            sfreq = source["sfreq"]
            if labels is None:
                labels = source.get("labels")
            if ch_names is None:
                ch_names = source.get("ch_names")
            source = source["data"]
    if isinstance(source, mne.BaseEpochs):
        picks = _data_picks(source.info)
        data = source.get_data(picks=picks)
        names = tuple(source.ch_names[i] for i in picks)
        if labels is None:
            inv = {v: k for k, v in source.event_id.items()}
            labels = [inv.get(c, str(c)) for c in source.events[:, 2]]
        _check_signal(data, names)
        return EEGEpochs(data=data.astype(np.float64), sfreq=float(source.info["sfreq"]),
                         ch_names=names, labels=as_labels(labels, data.shape[0]),
                         tmin=float(source.tmin))
    if isinstance(source, mne.io.BaseRaw):
        picks = _data_picks(source.info)
        data = source.get_data(picks=picks)
        names = tuple(source.ch_names[i] for i in picks)
        sf = float(source.info["sfreq"])
        if events is not None and np.ndim(events) >= 1 and int(source.first_samp) != 0:
            # MNE event samples count from the acquisition start (include first_samp)
            ev = np.array(events, dtype=np.int64, copy=True)
            if ev.ndim == 2:
                ev[:, 0] -= int(source.first_samp)
            else:
                ev -= int(source.first_samp)
            events = ev
        return _continuous(data, sf, names, labels, events, event_id, tmin, tmax, epoch_length)
    # arrays
    if sfreq is None:
        raise ValidationError("sfreq: required (Hz) when the data are a NumPy array")
    sf = check_positive(sfreq, "sfreq")
    # the array is the argument ``source`` (or a .npy file's content); an .npz's ``data``
    with renamed_arguments(data="data" if from_npz else "source"):
        arr = as_array(source, "data", ndim=(2, 3), finite=False, dtype=np.float64)
        names = _ch_names(ch_names, arr.shape[-2])
        if arr.ndim == 3:
            _check_signal(arr, names)
            return EEGEpochs(data=arr, sfreq=sf, ch_names=names,
                             labels=as_labels(labels, arr.shape[0]), tmin=float(tmin))
        return _continuous(arr, sf, names, labels, events, event_id, tmin, tmax,
                           epoch_length)


def _data_picks(info: Any) -> np.ndarray:
    import mne

    picks = mne.pick_types(info, meg=True, eeg=True, seeg=True, ecog=True, dbs=True,
                           exclude="bads")
    if len(picks) == 0:
        raise DataError("source: no good EEG/MEG/sEEG/ECoG channels")
    return picks


def _continuous(data, sf, names, labels, events, event_id, tmin, tmax, epoch_length):
    _check_signal(data, names)
    tmin = check_finite_scalar(tmin, "tmin")
    onsets, n_times, tmin_out = _onsets(data.shape[1], sf, epoch_length, events, tmin, tmax)
    if labels is None and events is not None and np.ndim(events) == 2:
        codes = np.asarray(events)[:, 2]
        inv = {v: k for k, v in (event_id or {}).items()}
        labels = [inv.get(int(c), str(int(c))) for c in codes]
    return EEGContinuous(data=np.asarray(data, dtype=np.float64), sfreq=sf, ch_names=names,
                         onsets=onsets, n_times=n_times,
                         labels=as_labels(labels, onsets.size), tmin=tmin_out)


def _read_file(path: Path, sfreq: float | None) -> Any:
    import mne

    if not path.exists():
        raise DataError(f"source: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if sfreq is None:
            raise ValidationError(f"sfreq: required (Hz) for the array file {path.name}")
        return {"data": _np_load(path), "sfreq": sfreq, "kind": "npy"}
    if suffix == ".npz":
        with _np_load(path) as z:
            if "data" not in z:
                raise DataError(f"source: {path.name} has no 'data' array (keys: "
                                f"{sorted(z.files)})")
            out = {"data": z["data"]}
            if "sfreq" in z:
                out["sfreq"] = float(z["sfreq"])
            elif sfreq is not None:
                out["sfreq"] = sfreq
            else:
                raise ValidationError(f"sfreq: required (Hz): {path.name} stores no 'sfreq'")
            for k in ("labels", "ch_names"):
                if k in z:
                    out[k] = z[k]
        return out
    name = path.name.lower()
    try:
        if name.endswith(("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz")):
            return mne.read_epochs(path, preload=True, verbose=False)
        return mne.io.read_raw(path, preload=True, verbose=False)
    except Exception as exc:  # MNE raises many types for unreadable files
        raise DataError(f"source: MNE could not read {path}: {exc}") from exc


def _np_load(path: Path) -> Any:
    """``np.load`` with unreadable files (empty, truncated, not NumPy, pickled) as
    :class:`DataError`."""
    import zipfile

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"source: {path} is not a readable NumPy file "
                        f"({type(exc).__name__}: {exc})"[:300]) from exc


def spkit_sample_path() -> Path:
    """Path of ``EEG16SecData.pkl`` inside the installed ``spkit`` wheel (not imported).

    14-channel Emotiv EPOC recording, 128 Hz, 16 s (2048 samples), from the PhyAAt data
    set (Bajaj et al.). Located with :func:`importlib.util.find_spec`, which finds the
    package without executing it (spkit's import pulls in a large dependency tree).
    """
    import importlib.util

    spec = importlib.util.find_spec("spkit")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("spkit is not installed: the bundled 14-channel EEG sample "
                        "(spkit/data/files/EEG16SecData.pkl) is unavailable")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "files" / "EEG16SecData.pkl"
    if not path.exists():
        raise DataError(f"spkit sample recording not found at {path}")
    return path


#: Sampling rate of the spkit/PhyAAt Emotiv sample (spkit.data.eeg_sample_14ch returns 128).
SPKIT_SFREQ = 128.0


def load_spkit_sample(*, as_raw: bool = True) -> Any:
    """Load spkit's 16-s, 14-channel, 128-Hz Emotiv recording without importing spkit.

    The pickle holds ``(X, ch_names)`` with ``X`` of shape ``(2048, 14)`` in microvolts
    (10-20 names AF3 ... AF4). **Returns:** an :class:`mne.io.RawArray` (volts, channel
    type ``eeg``) or, with ``as_raw=False``, a tuple
    ``(data (14, 2048) in uV, sfreq, ch_names)``.
    """
    import pickle

    with open(spkit_sample_path(), "rb") as f:
        obj = pickle.load(f)  # noqa: S301 - a data file shipped inside an installed wheel
    try:
        x, names = obj
        x = np.asarray(x, dtype=np.float64)
        names = [str(c) for c in names]
    except (TypeError, ValueError) as exc:
        raise DataError(f"unexpected content in {spkit_sample_path()}: {type(obj)}") from exc
    if x.ndim != 2 or x.shape[1] != len(names):
        raise DataError(f"unexpected sample shape {x.shape} for {len(names)} channels")
    data = x.T
    if not as_raw:
        return data, SPKIT_SFREQ, tuple(names)
    import mne

    info = mne.create_info(names, SPKIT_SFREQ, ch_types="eeg")
    raw = mne.io.RawArray(data * 1e-6, info, verbose=False)
    return raw

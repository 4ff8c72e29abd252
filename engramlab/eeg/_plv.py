"""Band-pass, analytic phase and phase-locking estimators (NumPy, vectorised).

Notation: ``x[n, c, t]`` is the signal of epoch (trial) ``n``, channel ``c`` at sample
``t``; after a zero-phase FIR band-pass (:func:`mne.filter.filter_data`) the analytic
signal is ``a = x + i H[x]`` (Hilbert transform ``H``), the phase ``phi = angle(a)`` and
the unit phasor ``z = exp(i phi)``. For a channel pair ``(i, j)`` the relative phasor is
``u = z_i conj(z_j) = exp(i (phi_i - phi_j))``.

Two standard senses of the phase-locking value (PLV):

- **across trials** (inter-trial, Lachaux et al. 1999; the ERP-style PLV that
  mne-connectivity computes per frequency)::

      PLV_ij(t) = | (1/N) sum_n u_n,ij(t) |               shape (n_ch, n_ch, n_times)

- **across time within a trial** (one value per trial)::

      PLV_ij^(n) = | (1/T) sum_t u_n,ij(t) |              shape (n_epochs, n_ch, n_ch)

Both are biased upward for a finite number ``K`` of samples: with no locking at all,
``E[PLV] ~= sqrt(pi / (4 K))`` (Rayleigh). The pairwise phase consistency (Vinck et al.
2010)::

      PPC = (|sum_k u_k|^2 - K) / (K (K - 1))

is an unbiased estimator of ``PLV^2`` when the ``K`` samples are independent (trials
are; time samples within a trial are not, so within-trial PPC is only approximately
unbiased). ``estimator="plv_debiased"`` returns ``sqrt(max(PPC, 0))``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._validation import check_choice, check_finite_scalar
from ..errors import DataError, ShapeError, ValidationError

__all__ = [
    "ESTIMATORS",
    "check_band",
    "filter_length",
    "bandpass",
    "analytic_phasors",
    "plv_across_trials",
    "plv_across_time",
    "zero_locking_bias",
]

Estimator = Literal["plv", "ppc", "plv_debiased"]
ESTIMATORS: tuple[str, ...] = ("plv", "ppc", "plv_debiased")

#: Narrowest transition band (Hz) we accept between the upper band edge and Nyquist
#: (MNE's automatic transition never goes below 2 Hz except when squeezed by Nyquist).
MIN_TRANSITION_HZ = 2.0


def check_band(band: tuple[float, float] | list[float], sfreq: float,
               name: str = "band") -> tuple[float, float]:
    """Check a pass band ``(l_freq, h_freq)`` in Hz against the sampling rate ``sfreq``.

    Requires ``0 < l_freq < h_freq <= sfreq/2 - 2 Hz`` (a transition band of at least
    2 Hz below Nyquist). The error for a too-high band names ``sfreq`` and the highest
    usable band.
    """
    try:
        lo, hi = band
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: expected two numbers (l_freq, h_freq) in Hz, "
                              f"got {band!r}") from None
    lo = check_finite_scalar(lo, f"{name}[0] (l_freq)")
    hi = check_finite_scalar(hi, f"{name}[1] (h_freq)")
    sfreq = check_finite_scalar(sfreq, "sfreq")
    if sfreq <= 0:
        raise ValidationError(f"sfreq: expected a positive sampling rate in Hz, got {sfreq:g}")
    if lo <= 0:
        raise ValidationError(f"{name}: l_freq must be > 0 Hz, got {lo:g} Hz")
    if hi <= lo:
        raise ValidationError(f"{name}: expected l_freq < h_freq, got an inverted or empty "
                              f"band ({lo:g}, {hi:g}) Hz")
    nyq = sfreq / 2.0
    top = nyq - MIN_TRANSITION_HZ
    if hi > top:
        usable = (f"({lo:g}, {top:g}) Hz" if lo < top
                  else f"any band with upper edge <= {top:g} Hz")
        raise ValidationError(
            f"{name}: ({lo:g}, {hi:g}) Hz is impossible at sfreq={sfreq:g} Hz: the Nyquist "
            f"frequency is {nyq:g} Hz and the upper edge must leave a {MIN_TRANSITION_HZ:g} Hz "
            f"transition band below it (h_freq <= {top:g} Hz); the highest usable band here "
            f"is {usable}")
    return lo, hi


def filter_length(sfreq: float, band: tuple[float, float]) -> int:
    """Length (samples) of MNE's default zero-phase FIR filter for ``band`` at ``sfreq``."""
    import mne

    lo, hi = check_band(band, sfreq)
    h = mne.filter.create_filter(None, sfreq, lo, hi, method="fir", phase="zero",
                                 fir_design="firwin", verbose=False)
    return int(len(h))


def bandpass(data: np.ndarray, sfreq: float, band: tuple[float, float] = (30.0, 80.0),
             ) -> np.ndarray:
    """Zero-phase FIR band-pass along the last axis with :func:`mne.filter.filter_data`.

    **Arguments:** ``data`` of shape ``(..., n_times)`` (float), ``sfreq`` in Hz, ``band``
    ``(l_freq, h_freq)`` in Hz (MNE's automatic transition bandwidths, Hamming window,
    ``firwin`` design). **Returns:** the filtered float64 array, same shape.

    **Raises:** :class:`ValidationError` for a bad band, :class:`DataError` when the
    signal is shorter than the filter (MNE would only warn and return edge artefacts).
    """
    import mne

    lo, hi = check_band(band, sfreq)
    n_times = data.shape[-1]
    n_filt = filter_length(sfreq, (lo, hi))
    if n_times < n_filt:
        raise DataError(
            f"data: epochs of {n_times} samples ({n_times / sfreq:.3g} s) are shorter than the "
            f"{n_filt}-sample ({n_filt / sfreq:.3g} s) FIR filter for band ({lo:g}, {hi:g}) Hz at "
            f"sfreq={sfreq:g} Hz; use longer epochs, filter the continuous recording before "
            "epoching, or a higher l_freq (wider transition, shorter filter)")
    x = np.ascontiguousarray(data, dtype=np.float64)
    return mne.filter.filter_data(x, sfreq, lo, hi, method="fir", phase="zero",
                                  fir_design="firwin", pad="reflect_limited", verbose=False)


def analytic_phasors(filtered: np.ndarray, *, dtype=np.complex64) -> np.ndarray:
    """Unit phasors ``exp(i angle(hilbert(x)))`` along the last axis.

    **Arguments:** ``filtered`` band-passed signal ``(..., n_times)``; ``dtype`` complex64
    (default, float32 convention) or complex128. **Returns:** complex array, same shape,
    ``|z| = 1``. A sample with zero analytic amplitude (undefined phase) raises
    :class:`DataError`.
    """
    from scipy.fft import next_fast_len
    from scipy.signal import hilbert

    n = filtered.shape[-1]
    a = hilbert(filtered, N=next_fast_len(n), axis=-1)[..., :n]
    amp = np.abs(a)
    if np.any(amp == 0):
        idx = tuple(int(i) for i in np.argwhere(amp == 0)[0])
        raise DataError(f"data: the analytic signal has zero amplitude at index {idx} (flat "
                        "or all-zero segment); its phase is undefined")
    return (a / amp).astype(dtype)


def _check_phasors(z: np.ndarray, name: str = "phasors") -> np.ndarray:
    z = np.asarray(z)
    if z.ndim != 3:
        raise ShapeError(f"{name}: expected a 3-D array (n_epochs, n_channels, n_times), "
                         f"got shape {z.shape}")
    if not np.iscomplexobj(z):
        raise ValidationError(f"{name}: expected complex unit phasors exp(i*phase) (use "
                              f"np.exp(1j * phase)), got dtype {z.dtype}")
    if not np.all(np.isfinite(z)):
        raise ValidationError(f"{name}: expected finite values, got NaN/inf")
    return z


def _finish(sums: np.ndarray, k: int, estimator: str) -> np.ndarray:
    if estimator == "plv":
        return np.abs(sums) / k
    ppc = (np.abs(sums) ** 2 - k) / (k * (k - 1.0))
    if estimator == "ppc":
        return ppc
    return np.sqrt(np.clip(ppc, 0.0, None))


def plv_across_trials(phasors: np.ndarray, *, estimator: Estimator = "plv",
                      average_time: bool = False) -> np.ndarray:
    """Inter-trial phase locking of every channel pair at every time point.

    ``PLV_ij(t) = |(1/N) sum_n z_n,i(t) conj(z_n,j(t))|`` (or PPC / debiased PLV, see the
    module docstring), computed as one batched complex matrix product per time point.

    **Arguments:** ``phasors`` unit phasors of shape ``(n_epochs, n_channels, n_times)``
    with ``n_epochs >= 2``; ``estimator`` one of ``"plv"``, ``"ppc"``, ``"plv_debiased"``;
    ``average_time`` average the result over time.

    **Returns:** float array ``(n_channels, n_channels, n_times)`` (or ``(n_channels,
    n_channels)`` when averaged), symmetric, diagonal 1.
    """
    z = _check_phasors(phasors)
    check_choice(estimator, "estimator", ESTIMATORS)
    n = z.shape[0]
    if n < 2:
        raise ValidationError(f"phasors: across-trial PLV needs at least 2 trials (epochs), "
                              f"got {n}; use plv_across_time for a single trial")
    zt = np.ascontiguousarray(np.moveaxis(z, 2, 0))          # (T, N, C)
    sums = np.matmul(np.swapaxes(zt, 1, 2), zt.conj())       # (T, C, C)
    out = _finish(sums, n, estimator).astype(np.float64)
    out = np.moveaxis(out, 0, 2)                             # (C, C, T)
    return out.mean(axis=2) if average_time else out


def plv_across_time(phasors: np.ndarray, *, estimator: Estimator = "plv") -> np.ndarray:
    """Phase locking across time within each trial, for every channel pair.

    ``PLV_ij^(n) = |(1/T) sum_t z_n,i(t) conj(z_n,j(t))|`` (or PPC / debiased PLV).

    **Arguments:** ``phasors`` ``(n_epochs, n_channels, n_times)`` with ``n_times >= 2``.
    **Returns:** float array ``(n_epochs, n_channels, n_channels)``.
    """
    z = _check_phasors(phasors)
    check_choice(estimator, "estimator", ESTIMATORS)
    t = z.shape[2]
    if t < 2:
        raise ValidationError(f"phasors: within-trial PLV needs at least 2 time samples, got {t}")
    sums = np.matmul(z, np.swapaxes(z, 1, 2).conj())         # (N, C, C)
    return _finish(sums, t, estimator).astype(np.float64)


def zero_locking_bias(n: int | np.ndarray) -> np.ndarray:
    """Expected PLV of ``n`` independent uniformly distributed phases, ``sqrt(pi/(4n))``.

    (Large-``n`` Rayleigh approximation; exact mean is within 1 % for ``n >= 10``.)
    """
    return np.sqrt(np.pi / (4.0 * np.asarray(n, dtype=np.float64)))

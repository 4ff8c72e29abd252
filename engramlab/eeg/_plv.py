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

import contextlib
import functools
from typing import Literal

import numpy as np

from .._validation import (
    as_array,
    check_choice,
    check_finite_scalar,
    check_int,
    check_resources,
    nbytes,
)
from ..errors import DataError, ShapeError, ValidationError

__all__ = [
    "ESTIMATORS",
    "check_band",
    "filter_length",
    "bandpass",
    "analytic_phasors",
    "band_phasors",
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
    return int(len(_design(sfreq, band, 10**12)))


def _design(sfreq: float, band: tuple[float, float], n_times: int) -> np.ndarray:
    """MNE's zero-phase FIR for ``band`` (checked against the epoch length)."""
    import mne

    lo, hi = check_band(band, sfreq)
    # MNE's automatic length (Hamming: 3.3 / narrowest transition band), before building it
    trans = min(min(max(0.25 * lo, 2.0), lo), min(max(0.25 * hi, 2.0), sfreq / 2.0 - hi))
    est = 3.3 * sfreq / max(trans, 1e-300)
    check_resources("the FIR band-pass filter", n_bytes=8 * nbytes(est, itemsize=8),
                    n_ops=100.0 * est, args={"band": (lo, hi), "sfreq": sfreq})
    if n_times < 0.99 * est - 2:
        raise DataError(
            f"data: epochs of {n_times} samples ({n_times / sfreq:.3g} s) are shorter than the "
            f"~{est:.0f}-sample ({est / sfreq:.3g} s) FIR filter for band ({lo:g}, {hi:g}) Hz "
            f"at sfreq={sfreq:g} Hz; use longer epochs, filter the continuous recording before "
            "epoching, or a higher l_freq (wider transition, shorter filter)")
    h = mne.filter.create_filter(None, sfreq, lo, hi, method="fir", phase="zero",
                                 fir_design="firwin", verbose=False)
    if n_times < len(h):
        raise DataError(
            f"data: epochs of {n_times} samples ({n_times / sfreq:.3g} s) are shorter than the "
            f"{len(h)}-sample ({len(h) / sfreq:.3g} s) FIR filter for band ({lo:g}, {hi:g}) Hz "
            f"at sfreq={sfreq:g} Hz; use longer epochs, filter the continuous recording before "
            "epoching, or a higher l_freq (wider transition, shorter filter)")
    return np.asarray(h, dtype=np.float64)


def _padded_spectrum(data: np.ndarray, h: np.ndarray, dtype) -> tuple[np.ndarray, int, int]:
    """rFFT of the MNE-padded signal times the filter's rFFT; returns (Y, L, shift).

    Padding is MNE's ``"reflect_limited"`` (odd reflection of ``len(h) - 1`` samples on
    each side, valid because the epoch is at least as long as the filter); the FFT length
    ``L >= n_ext + len(h) - 1`` makes the circular product a linear convolution, so
    ``y[shift + k]`` (``shift = n_edge + (len(h) - 1) // 2``) is exactly what
    :func:`mne.filter.filter_data` returns for sample ``k``.
    """
    from scipy import fft

    n_h = len(h)
    n_edge = n_h - 1
    x = np.asarray(data, dtype=dtype)
    x_ext = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_edge, n_edge)], mode="reflect",
                   reflect_type="odd")
    n_fft = fft.next_fast_len(x_ext.shape[-1] + n_h - 1, real=True)
    y = fft.rfft(x_ext, n_fft, axis=-1)
    y *= fft.rfft(h.astype(dtype), n_fft)
    return y, n_fft, n_edge + (n_h - 1) // 2


def bandpass(data: np.ndarray, sfreq: float, band: tuple[float, float] = (30.0, 80.0),
             *, engine: str = "fft") -> np.ndarray:
    """Zero-phase FIR band-pass along the last axis: MNE's filter, batched.

    The filter is MNE's default (``mne.filter.create_filter``: ``firwin`` design, Hamming
    window, automatic transition bandwidths, zero phase) and the padding is MNE's
    ``"reflect_limited"``; ``engine="fft"`` (default) applies it to all rows with one
    batched FFT, which equals :func:`mne.filter.filter_data` to rounding error (tested)
    but avoids its per-row Python loop; ``engine="mne"`` calls ``filter_data`` itself.

    **Arguments:** ``data`` of shape ``(..., n_times)`` (float), ``sfreq`` in Hz, ``band``
    ``(l_freq, h_freq)`` in Hz. **Returns:** the filtered float64 array, same shape.

    **Raises:** :class:`ValidationError` for a bad band, :class:`DataError` when the
    signal is shorter than the filter (MNE would only warn and return edge artefacts).
    """
    check_choice(engine, "engine", ("fft", "mne"))
    data = _check_data(data, "data")
    n_times = np.shape(data)[-1]
    h = _design(sfreq, band, n_times)
    if engine == "mne":
        import mne

        lo, hi = check_band(band, sfreq)
        x = np.ascontiguousarray(data, dtype=np.float64)
        return mne.filter.filter_data(x, sfreq, lo, hi, method="fir", phase="zero",
                                      fir_design="firwin", pad="reflect_limited",
                                      verbose=False)
    from scipy import fft

    y, n_fft, shift = _padded_spectrum(data, h, np.float64)
    return fft.irfft(y, n_fft, axis=-1)[..., shift:shift + n_times]


def band_phasors(data: np.ndarray, sfreq: float, band: tuple[float, float] = (30.0, 80.0),
                 *, dtype=np.complex64) -> np.ndarray:
    """Band-pass (as :func:`bandpass`) and analytic-signal unit phasors in one FFT pass.

    The analytic signal is computed on the padded, filtered signal (one-sided spectrum of
    the same FFT, ``A_k = 2 Y_k`` for ``0 < k < L/2``) and then cropped, so its real part
    is exactly the :func:`bandpass` output and the Hilbert transform has fewer edge
    artefacts than one computed on the cropped epoch.

    **Returns:** complex unit phasors ``exp(i phi)``, shape ``data.shape``; ``dtype``
    complex64 (default) or complex128 (sets the FFT precision too).
    """
    from scipy import fft

    check_choice(np.dtype(dtype).name if _is_dtype(dtype) else repr(dtype), "dtype",
                 ("complex64", "complex128"))
    real = np.float32 if np.dtype(dtype) == np.complex64 else np.float64
    data = _check_data(data, "data")
    n_times = np.shape(data)[-1]
    h = _design(sfreq, band, n_times)
    y, n_fft, shift = _padded_spectrum(data, h, real)
    n_pos = n_fft // 2 + 1
    if n_fft % 2 == 0:
        y[..., 1:n_pos - 1] *= 2
    else:
        y[..., 1:] *= 2
    a = fft.ifft(y, n_fft, axis=-1)[..., shift:shift + n_times]
    return _unit(a, dtype)


def _is_dtype(x) -> bool:
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


def _check_data(data, name: str) -> np.ndarray:
    """A finite real signal ``(..., n_times)`` whose FFT fits in memory."""
    x = as_array(data, name, dtype=np.float64)
    if x.ndim < 1:
        raise ShapeError(f"{name}: expected an array (..., n_times), got a scalar")
    check_resources("the band-pass FFT", n_bytes=12 * nbytes(x.size, itemsize=16),
                    n_ops=50.0 * x.size * np.log2(max(x.shape[-1], 2)) * 3,
                    args={name: x.shape})
    return x


def _unit(a: np.ndarray, dtype) -> np.ndarray:
    amp = np.abs(a)
    if np.any(amp == 0):
        idx = tuple(int(i) for i in np.argwhere(amp == 0)[0])
        raise DataError(f"data: the analytic signal has zero amplitude at index {idx} (flat "
                        "or all-zero segment); its phase is undefined")
    return (a / amp).astype(dtype)


def analytic_phasors(filtered: np.ndarray, *, dtype=np.complex64) -> np.ndarray:
    """Unit phasors ``exp(i angle(hilbert(x)))`` along the last axis (scipy's Hilbert).

    **Arguments:** ``filtered`` band-passed signal ``(..., n_times)``; ``dtype`` complex64
    (default, float32 convention) or complex128. **Returns:** complex array, same shape,
    ``|z| = 1``. A sample with zero analytic amplitude (undefined phase) raises
    :class:`DataError`.
    """
    from scipy.fft import next_fast_len
    from scipy.signal import hilbert

    check_choice(np.dtype(dtype).name if _is_dtype(dtype) else repr(dtype), "dtype",
                 ("complex64", "complex128"))
    filtered = _check_data(filtered, "filtered")
    n = filtered.shape[-1]
    a = hilbert(filtered, N=next_fast_len(n), axis=-1)[..., :n]
    return _unit(a, dtype)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return None
    return ThreadpoolController()  # scanning the loaded libraries is the slow part: once


def blas_single_thread():
    """Context limiting BLAS to one thread (``threadpoolctl``; a no-op if unavailable).

    The PLV products are many small matrix products (one per time point or trial):
    threading inside each gains little, and on a shared machine BLAS worker threads that
    spin-wait for a busy core made them 3-10x slower in our measurements.
    """
    ctrl = _blas_controller()
    if ctrl is None:  # pragma: no cover
        return contextlib.nullcontext()
    return ctrl.limit(limits=1, user_api="blas")


def _check_phasors(z: np.ndarray, name: str = "phasors") -> np.ndarray:
    z = as_array(z, name, kind="complex", finite=False, allow_empty=True)
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
                      average_time: bool = False, time_stride: int = 1) -> np.ndarray:
    """Inter-trial phase locking of every channel pair at every time point.

    ``PLV_ij(t) = |(1/N) sum_n z_n,i(t) conj(z_n,j(t))|`` (or PPC / debiased PLV, see the
    module docstring), computed as one batched complex matrix product per time point.

    **Arguments:** ``phasors`` unit phasors of shape ``(n_epochs, n_channels, n_times)``
    with ``n_epochs >= 2``; ``estimator`` one of ``"plv"``, ``"ppc"``, ``"plv_debiased"``;
    ``average_time`` average the result over time; ``time_stride`` use every
    ``time_stride``-th time point only (the across-trial PLV of a band-limited signal
    varies on the band's time scale, so a stride up to ``sfreq / (2 (h_freq - l_freq))``
    barely changes the time average and divides the cost).

    **Returns:** float array ``(n_channels, n_channels, n_times // time_stride)`` (or
    ``(n_channels, n_channels)`` when averaged), symmetric, diagonal 1.
    """
    z = _check_phasors(phasors)
    check_choice(estimator, "estimator", ESTIMATORS)
    stride = check_int(time_stride, "time_stride", min_value=1)
    check_resources("plv_across_trials", n_bytes=4 * nbytes(z.shape[1], z.shape[1],
                                                            -(-z.shape[2] // stride),
                                                            itemsize=16),
                    n_ops=8.0 * z.shape[0] * z.shape[1] ** 2 * (z.shape[2] // stride),
                    args={"phasors": z.shape})
    if stride > 1:
        z = z[:, :, ::stride]
    n = z.shape[0]
    if n < 2:
        raise ValidationError(f"phasors: across-trial PLV needs at least 2 trials (epochs), "
                              f"got {n}; use plv_across_time for a single trial")
    a = np.ascontiguousarray(np.transpose(z, (2, 1, 0)))      # (T, C, N)
    with blas_single_thread():
        sums = np.matmul(a, np.swapaxes(a, 1, 2).conj())     # (T, C, C)
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
    check_resources("plv_across_time", n_bytes=4 * nbytes(z.shape[0], z.shape[1], z.shape[1],
                                                          itemsize=16),
                    n_ops=8.0 * z.shape[0] * z.shape[1] ** 2 * t, args={"phasors": z.shape})
    if t < 2:
        raise ValidationError(f"phasors: within-trial PLV needs at least 2 time samples, got {t}")
    with blas_single_thread():
        sums = np.matmul(z, np.swapaxes(z, 1, 2).conj())     # (N, C, C)
    return _finish(sums, t, estimator).astype(np.float64)


def zero_locking_bias(n: int | np.ndarray) -> np.ndarray:
    """Expected PLV of ``n`` independent uniformly distributed phases, ``sqrt(pi/(4n))``.

    (Large-``n`` Rayleigh approximation; exact mean is within 1 % for ``n >= 10``.)
    """
    n = as_array(n, "n", dtype=np.float64)
    if np.any(n < 1):
        raise ValidationError(f"n: expected sample counts >= 1, got {n}"[:200])
    return np.sqrt(np.pi / (4.0 * n))

"""Synthetic multi-channel, multi-trial gamma bursts with a known phase-locking value.

Model (trial ``n``, channel ``c``, time ``t`` in s)::

    x_n,c(t) = w(t) cos(2 pi f t + theta_n + mu_c + Delta_n,c) + sigma * eps_n,c(t)

- ``theta_n ~ U(0, 2 pi)``: the common gamma rhythm's phase in trial ``n`` (random, so
  single channels are not phase-locked to the trial onset);
- ``Delta_n,c ~ vonMises(0, kappa_c)``, independent over trials and channels, constant
  within a trial: channel ``c``'s phase jitter relative to the common rhythm;
- ``mu_c``: a fixed phase lag per channel (does not change |PLV|);
- ``w(t)``: a Tukey-tapered burst envelope (amplitude 1) on ``burst = (t0, t1)``;
- ``eps``: white Gaussian noise.

Ground truth (across trials, noise-free limit): ``E[exp(i Delta)] = A(kappa) =
I1(kappa) / I0(kappa)``, so the across-trial PLV of a channel pair is ``A(kappa_i)
A(kappa_j)``. A reference channel with ``kappa = inf`` (``A = 1``) makes the pairwise phase
difference exactly von Mises, with PLV ``A(kappa)``. With ``N`` trials, the estimate's
sampling SD is ``sqrt(((1 + A2) / 2 - A^2) / N)`` with ``A2 = I2(kappa)/I0(kappa)`` (delta
method on the resultant length of von Mises samples).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._validation import (
    as_array,
    as_rng,
    check_int,
    check_interval,
    check_positive,
    check_range,
    check_resources,
    nbytes,
)
from ..errors import ValidationError
from ._data import EEGEpochs

__all__ = ["plv_from_kappa", "kappa_from_plv", "plv_sampling_sd", "trials_for_sem",
           "expected_plv",
           "SyntheticEEG", "synthetic_eeg", "SEED_PLV", "SEED_SEM"]

#: The seed's table (gamma PLV, mean and SEM per condition).
SEED_PLV: dict[str, float] = {"emotional": 0.78, "neutral": 0.62}
SEED_SEM: dict[str, float] = {"emotional": 0.02, "neutral": 0.03}


def plv_from_kappa(kappa: float | np.ndarray) -> np.ndarray:
    """Mean resultant length of a von Mises(kappa) variable: ``I1(kappa)/I0(kappa)``.

    ``kappa = inf`` gives 1, ``kappa = 0`` gives 0. Uses exponentially scaled Bessel
    functions (no overflow).
    """
    from scipy.special import i0e, i1e

    k = as_array(kappa, "kappa", finite=False, dtype=np.float64, allow_empty=True)
    if np.any(np.isnan(k)) or np.any(k < 0):
        raise ValidationError(f"kappa: expected concentrations >= 0 (inf allowed), got "
                              f"{k}"[:200])
    with np.errstate(invalid="ignore"):
        out = np.where(np.isinf(k), 1.0, i1e(np.where(np.isinf(k), 1.0, k)) /
                       i0e(np.where(np.isinf(k), 1.0, k)))
    return out


def kappa_from_plv(plv: float) -> float:
    """Inverse of :func:`plv_from_kappa` (``plv`` in [0, 1]; 1 gives ``inf``)."""
    from scipy.optimize import brentq

    a = check_range(plv, "plv", 0.0, 1.0)
    if a == 1.0:
        return float("inf")
    if a == 0.0:
        return 0.0
    return float(brentq(lambda k: float(plv_from_kappa(k)) - a, 1e-12, 1e6, xtol=1e-12))


def _per_trial_var(plv: float) -> float:
    from scipy.special import i0e, ive

    k = kappa_from_plv(plv)
    if np.isinf(k):
        return 0.0
    a2 = float(ive(2, k) / i0e(k)) if k > 0 else 0.0
    return (1.0 + a2) / 2.0 - plv**2


def plv_sampling_sd(plv: float, n_trials: int) -> float:
    """Sampling SD of the across-trial PLV of ``n_trials`` von Mises phase differences.

    ``sqrt(((1 + A2)/2 - A^2) / N)``, ``A = plv``, ``A2 = I2(kappa)/I0(kappa)`` (large-N
    delta method; not valid near ``plv = 0`` where the Rayleigh bias dominates).
    """
    n = check_int(n_trials, "n_trials", min_value=2)
    return float(np.sqrt(_per_trial_var(plv) / n))


def expected_plv(plv: float, n_trials: int) -> float:
    """Expected across-trial PLV estimate from ``n_trials`` von Mises phase differences.

    Second-order delta method: ``E[PLV_hat] ~= A + ((1 - A^2) - v) / (2 N A)`` with
    ``v = (1 + A2)/2 - A^2`` (from ``E|R|^2 = A^2 + (1 - A^2)/N`` exactly). The estimate is
    biased upward by ``O(1/N)``; PPC is the unbiased alternative for ``A^2``.
    """
    n = check_int(n_trials, "n_trials", min_value=2)
    a = check_range(plv, "plv", 0.0, 1.0, lo_inclusive=False)
    return float(a + ((1 - a**2) - _per_trial_var(a)) / (2 * n * a))


def trials_for_sem(plv: float, sem: float) -> int:
    """Trials needed for an across-trial PLV with standard error ``sem`` (von Mises).

    ``N = ((1 + A2)/2 - A^2) / sem^2``. The seed's 0.78 +- 0.02 and 0.62 +- 0.03 imply
    about 242 and 254 trials per condition for one channel pair.
    """
    s = check_positive(sem, "sem")
    with np.errstate(divide="ignore", over="ignore"):
        n = np.ceil(np.float64(_per_trial_var(plv)) / np.float64(s) ** 2)
    if not np.isfinite(n) or n > 2**62:
        raise ValidationError(f"sem: {s:g} is too small: it would need {n:.3g} trials")
    return int(n)


@dataclass(frozen=True)
class SyntheticEEG:
    """Output of :func:`synthetic_eeg`.

    **Fields:** ``epochs`` (:class:`EEGEpochs`, labels = condition names);
    ``true_plv`` condition -> ``(n_channels, n_channels)`` across-trial PLV (noise-free);
    ``kappa`` condition -> per-channel concentration ``(n_channels,)``; ``offsets``
    ``(n_trials, n_channels)`` the drawn ``Delta``; ``burst`` (s); ``freq`` (Hz).
    """

    epochs: EEGEpochs
    true_plv: dict[str, np.ndarray]
    kappa: dict[str, np.ndarray]
    offsets: np.ndarray
    burst: tuple[float, float]
    freq: float


def synthetic_eeg(*, seed: int | np.random.Generator,
                  plv: float | Mapping[str, float] = SEED_PLV,
                  n_trials: int | Mapping[str, int] = 60, n_channels: int = 8,
                  sfreq: float = 250.0, duration: float = 1.0, freq: float = 40.0,
                  burst: tuple[float, float] = (0.2, 0.8), noise: float = 0.1,
                  reference: bool = False, shuffle: bool = True) -> SyntheticEEG:
    """Simulate gamma bursts in noise whose pairwise across-trial PLV is ``plv``.

    **Arguments:**

    - ``seed``: int or NumPy Generator (required).
    - ``plv``: target pairwise PLV, one number or a mapping condition -> PLV (default the
      seed's ``{"emotional": 0.78, "neutral": 0.62}``).
    - ``n_trials``: trials per condition (int or mapping).
    - ``n_channels`` (>= 2), ``sfreq`` (Hz), ``duration`` (s per epoch), ``freq`` (Hz,
      the gamma frequency), ``burst`` (s, burst interval), ``noise`` (SD of the white
      noise; the burst amplitude is 1).
    - ``reference``: if False (default) every channel has ``A(kappa) = sqrt(plv)`` so every
      pair has PLV ``plv``; if True channel 0 is a perfect reference (``kappa = inf``) and
      the others have ``A(kappa) = plv``: pairs ``(0, c)`` then have exactly von Mises phase
      differences with PLV ``plv`` and pairs ``(c, c')`` have ``plv**2``.
    - ``shuffle``: interleave the conditions' trials in random order.

    **Returns:** :class:`SyntheticEEG`.
    """
    rng = as_rng(seed)
    plvs = {"all": plv} if not isinstance(plv, Mapping) else dict(plv)
    if not plvs:
        raise ValidationError("plv: expected at least one condition")
    if isinstance(n_trials, Mapping):
        missing = [c for c in plvs if c not in n_trials]
        if missing:
            raise ValidationError(f"n_trials: no trial count for condition(s) {missing} "
                                  f"(conditions: {list(plvs)})")
    ns = ({c: n_trials for c in plvs} if not isinstance(n_trials, Mapping)
          else {c: n_trials[c] for c in plvs})
    n_ch = check_int(n_channels, "n_channels", min_value=2)
    sf = check_positive(sfreq, "sfreq")
    dur = check_positive(duration, "duration")
    f = check_range(freq, "freq", 0.0, sf / 2.0, lo_inclusive=False, hi_inclusive=False)
    sigma = check_range(noise, "noise", 0.0)
    b0, b1 = check_interval(burst, "burst", dtype=np.float64)
    t0, t1 = check_range(b0, "burst[0]", 0.0, dur), check_range(b1, "burst[1]", 0.0, dur)
    counts = {c: check_int(ns[c], f"n_trials[{c!r}]", min_value=1) for c in plvs}
    check_resources("synthetic_eeg", n_bytes=4 * nbytes(sum(counts.values()), n_ch, dur * sf,
                                                         itemsize=8),
                    n_ops=30.0 * sum(counts.values()) * n_ch * dur * sf,
                    args={"n_trials": sum(counts.values()), "n_channels": n_ch,
                          "duration": dur, "sfreq": sf})
    n_times = int(round(dur * sf))
    if n_times < 2:
        raise ValidationError(f"duration: expected at least 2 samples per epoch, got "
                              f"duration * sfreq = {dur * sf:g}")
    if int(((np.arange(n_times) / sf >= t0) & (np.arange(n_times) / sf < t1)).sum()) < 2:
        raise ValidationError(f"burst: ({t0:g}, {t1:g}) s covers fewer than 2 samples at "
                              f"sfreq = {sf:g} Hz")
    t = np.arange(n_times) / sf
    # Tukey-tapered burst envelope
    from scipy.signal.windows import tukey

    w = np.zeros(n_times)
    inside = (t >= t0) & (t < t1)
    w[inside] = tukey(int(inside.sum()), alpha=0.25)
    mu = np.linspace(0.0, np.pi / 2, n_ch)

    datas, labels, offs, true, kappas = [], [], [], {}, {}
    for cond, target in plvs.items():
        a = check_range(target, f"plv[{cond!r}]", 0.0, 1.0)
        n = check_int(ns[cond], f"n_trials[{cond!r}]", min_value=1)
        if reference:
            amps = np.full(n_ch, a)
            amps[0] = 1.0
        else:
            amps = np.full(n_ch, np.sqrt(a))
        kap = np.array([kappa_from_plv(x) for x in amps])
        delta = np.zeros((n, n_ch))
        for c in range(n_ch):
            if np.isfinite(kap[c]):
                delta[:, c] = rng.vonmises(0.0, kap[c], size=n)
        theta = rng.uniform(0.0, 2 * np.pi, size=(n, 1, 1))
        phase = 2 * np.pi * f * t[None, None, :] + theta + (mu + delta)[:, :, None]
        x = w * np.cos(phase) + sigma * rng.standard_normal((n, n_ch, n_times))
        tp = np.outer(amps, amps)
        np.fill_diagonal(tp, 1.0)
        true[cond], kappas[cond] = tp, kap
        datas.append(x)
        offs.append(delta)
        labels += [cond] * n
    data = np.concatenate(datas)
    offsets = np.concatenate(offs)
    lab = np.array(labels)
    if shuffle:
        order = rng.permutation(data.shape[0])
        data, offsets, lab = data[order], offsets[order], lab[order]
    ep = EEGEpochs(data=data, sfreq=sf, ch_names=tuple(f"E{i + 1}" for i in range(n_ch)),
                   labels=lab, tmin=0.0)
    return SyntheticEEG(epochs=ep, true_plv=true, kappa=kappas, offsets=offsets,
                        burst=(t0, t1), freq=f)

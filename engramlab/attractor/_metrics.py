"""Metrics and analyses of attractor networks, vectorised over trials, cues and parameters.

- similarity to stored patterns: :func:`overlap` ``m = r . xi / N``, :func:`cosine_similarity`,
  :func:`mse` ``mean_i (r_i - xi_i)^2``;
- :func:`attractor_strength`: fraction of recalls from ``pattern + noise`` that end within
  an MSE threshold of the pattern (seed: noise s.d. 0.4, threshold 0.1);
- :func:`basin_curve`: that success rate against the cue noise level;
- :func:`beta_scan`: strength against beta (the seed's ``emotion_impact_scan``) for any
  salience form; :func:`emotion_basin_grid`: basin curves against emotion;
- :func:`capacity_curve` / :func:`capacity_transition`: retrieval against the load
  ``P / N`` (classical limit ``alpha_c ~ 0.138``, Amit, Gutfreund & Sompolinsky 1985);
- :func:`classify_states` / :func:`state_fractions`: retrieved, mixture and spurious
  end states;
- :func:`convergence_curves`, :func:`pca_project`, :func:`tsne_embed` for the figures.

Every function takes an explicit PRNG ``key`` for its noise; all trials, noise levels and
parameter values run as one batch (``vmap`` / matrix form).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._integrate import ensure_finite
from .._validation import (
    as_array,
    as_key,
    check_choice,
    check_finite_scalar,
    check_int,
    check_nonnegative,
    check_positive,
    check_range,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import DataError, ShapeError, ValidationError
from ._network import (
    AttractorNetwork,
    _check_salience,
    _imprint_core,
    _run_euler,
    _salience,
    default_float,
    simulate,
)

__all__ = [
    "overlap", "cosine_similarity", "mse", "corrupt", "random_patterns",
    "attractor_strength", "basin_curve", "beta_scan", "emotion_basin_grid",
    "capacity_curve", "capacity_transition", "classify_states", "state_fractions",
    "convergence_curves", "pca_project", "tsne_embed", "NOISE_MODELS",
]

NOISE_MODELS = ("additive", "mix", "flip")
_BIG = "the inputs are too large for the working dtype (the result overflows): rescale them"


def _patterns2(patterns: Any, name: str = "patterns") -> tuple[np.ndarray, bool]:
    p = as_array(patterns, name, ndim=(1, 2))
    return (p[None], True) if p.ndim == 1 else (p, False)


# --------------------------------------------------------------------------- similarity


def overlap(states: Any, patterns: Any) -> jax.Array:
    """Overlaps ``m_{b,p} = sum_i r_{b,i} xi_{p,i} / N``.

    **Arguments:** ``states`` ``(..., N)``, ``patterns`` ``(P, N)`` or ``(N,)``.
    **Returns:** ``(..., P)`` (or ``(...)`` for a single pattern). For ``+-1`` patterns
    ``m = 1`` means the state is the pattern.
    """
    r = jnp.asarray(as_array(states, "states", ndim=(1, 2, 3)))
    p = jnp.asarray(as_array(patterns, "patterns", ndim=(1, 2)))
    if r.shape[-1] != p.shape[-1]:
        raise ShapeError(f"patterns: expected last dimension {r.shape[-1]} to match states, "
                         f"got shape {p.shape}")
    return ensure_finite((r @ p.T) / r.shape[-1], "overlap", hint=_BIG)


def cosine_similarity(states: Any, patterns: Any) -> jax.Array:
    """Cosine similarity ``r . xi / (|r| |xi|)``, shapes as :func:`overlap` (0 for a zero
    vector)."""
    r = jnp.asarray(as_array(states, "states", ndim=(1, 2, 3)))
    p = jnp.asarray(as_array(patterns, "patterns", ndim=(1, 2)))
    if r.shape[-1] != p.shape[-1]:
        raise ShapeError(f"patterns: expected last dimension {r.shape[-1]} to match states, "
                         f"got shape {p.shape}")
    nr = jnp.linalg.norm(r, axis=-1, keepdims=True)
    np_ = jnp.linalg.norm(p, axis=-1, keepdims=True)
    num = r @ p.T
    den = nr * np_.T if p.ndim == 2 else nr[..., 0] * np_[0]
    out = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)
    return ensure_finite(out, "cosine_similarity", hint=_BIG)


def mse(states: Any, patterns: Any) -> jax.Array:
    """Mean squared error ``mean_i (r_i - xi_i)^2`` between every state and every pattern.

    **Returns:** ``(..., P)``, or ``(...)`` for a single pattern ``(N,)``.
    """
    r = jnp.asarray(as_array(states, "states", ndim=(1, 2, 3)))
    p = jnp.asarray(as_array(patterns, "patterns", ndim=(1, 2)))
    if r.shape[-1] != p.shape[-1]:
        raise ShapeError(f"patterns: expected last dimension {r.shape[-1]} to match states, "
                         f"got shape {p.shape}")
    if p.ndim == 1:
        out = jnp.mean((r - p) ** 2, axis=-1)
    else:
        out = jnp.mean((r[..., None, :] - p) ** 2, axis=-1)
    return ensure_finite(out, "mse", hint=_BIG)


# --------------------------------------------------------------------------- noise


def random_patterns(n_patterns: int, n_neurons: int, *, key: Any) -> jax.Array:
    """``n_patterns`` random ``+-1`` patterns (each entry +1 with probability 1/2),
    shape ``(P, N)``."""
    p = check_size(n_patterns, "n_patterns")
    n = check_size(n_neurons, "n_neurons")
    check_resources("random_patterns", n_bytes=2 * nbytes(p, n),
                    args={"n_patterns": p, "n_neurons": n})
    bits = jax.random.bernoulli(as_key(key), 0.5, (p, n))
    return jnp.where(bits, 1.0, -1.0).astype(default_float())


def _corrupt(patterns, noise, key, model):
    if model == "flip":
        flips = jax.random.bernoulli(key, noise, patterns.shape)
        return jnp.where(flips, -patterns, patterns)
    z = jax.random.normal(key, patterns.shape, patterns.dtype)
    if model == "mix":
        return patterns * (1.0 - noise) + z * noise
    return patterns + z * noise


def corrupt(patterns: Any, noise: float, *, key: Any, model: str = "additive") -> jax.Array:
    """Noisy cues from patterns ``(..., N)``.

    - ``"additive"``: ``xi + noise * z`` with ``z ~ N(0, 1)`` (seed's
      ``measure_attractor_strength``, noise 0.4);
    - ``"mix"``: ``xi (1 - noise) + noise * z`` (seed's ``visualize_attractor`` and
      ``plot_convergence``);
    - ``"flip"``: each entry's sign flipped with probability ``noise`` (for ``+-1``).

    ``z`` is ``jax.random.normal(key, patterns.shape)``.
    """
    p = jnp.asarray(as_array(patterns, "patterns", ndim=(1, 2, 3)), default_float())
    check_choice(model, "model", NOISE_MODELS)
    noise = check_nonnegative(noise, "noise")
    if model == "flip":
        check_range(noise, "noise", 0.0, 1.0)
    out = _corrupt(p, noise, as_key(key), model)
    return ensure_finite(out, "corrupt", {"noise": noise}, hint=_BIG)


# --------------------------------------------------------------------------- strength, basins


def _check_trials(trials: Any) -> int:
    return check_int(trials, "trials", min_value=1)


def _success(final, target, threshold):
    return jnp.mean((final - target) ** 2, axis=-1) < threshold


@functools.partial(jax.jit, static_argnames=("trials", "noise_model", "tau", "dt", "gain",
                                             "activation", "n_steps"))
def _basin_core(w, p, levels, key, threshold, *, trials, noise_model, tau, dt, gain,
                activation, n_steps):
    P, N = p.shape
    L = levels.shape[0]
    base = jnp.broadcast_to(p[:, None, None, :], (P, L, trials, N))
    lv = levels[None, :, None, None]
    if noise_model == "flip":
        cues = jnp.where(jax.random.uniform(key, base.shape, p.dtype) < lv, -base, base)
    else:
        z = jax.random.normal(key, base.shape, p.dtype)
        cues = base * (1.0 - lv) + z * lv if noise_model == "mix" else base + z * lv
    final, _ = _run_euler(w, cues.reshape(-1, N), None, tau=tau, dt=dt, gain=gain,
                          activation=activation, drive_fn=None, n_steps=n_steps,
                          save_every=None)
    final = final.reshape(P, L, trials, N)
    # a NaN state fails the MSE test; make it visible to ensure_finite instead
    ok = _success(final, base, threshold).astype(p.dtype)
    bad = jnp.any(~jnp.isfinite(final), axis=(-2, -1))
    return jnp.where(bad, jnp.nan, jnp.mean(ok, axis=-1))


def basin_curve(network: AttractorNetwork, patterns: Any, noise_levels: Any, *, key: Any,
                trials: int = 100, threshold: float = 0.1, n_steps: int = 50,
                noise_model: str = "additive") -> np.ndarray:
    """Recall success rate against cue noise: the size of each pattern's basin.

    For every pattern ``xi_p`` and noise level ``sigma_l``, ``trials`` cues are drawn with
    :func:`corrupt` and recalled for ``n_steps``; a recall succeeds when
    ``mean_i (r_i - xi_i)^2 < threshold``. All ``P * L * trials`` recalls run as one batch.
    Noise: one ``jax.random.normal(key, (P, L, trials, N))`` draw (``"flip"``: Bernoulli).

    **Returns:** success rates, shape ``(P, L)`` (``(L,)`` for a single pattern ``(N,)``).
    """
    if not isinstance(network, AttractorNetwork):
        raise ValidationError(f"network: expected an AttractorNetwork, got "
                              f"{type(network).__name__}")
    p, single = _patterns2(patterns)
    if p.shape[-1] != network.n_neurons:
        raise ShapeError(f"patterns: expected last dimension N = {network.n_neurons}, got "
                         f"shape {p.shape}")
    levels = as_array(noise_levels, "noise_levels", ndim=(0, 1))
    levels = levels.reshape(-1)
    if np.any(levels < 0):
        raise ValidationError(f"noise_levels: expected values >= 0, got {levels}")
    trials = _check_trials(trials)
    threshold = check_positive(threshold, "threshold")
    n_steps = check_size(n_steps, "n_steps", min_value=0, max_value=2**31 - 1)
    check_choice(noise_model, "noise_model", NOISE_MODELS)
    if noise_model == "flip" and np.any(levels > 1):
        raise ValidationError(f"noise_levels: flip probabilities must be in [0, 1], got "
                              f"{levels}")
    n = network.n_neurons
    n_cues = p.shape[0] * levels.size * trials
    check_resources("basin_curve", n_bytes=4 * nbytes(n_cues, n) + 2 * nbytes(n, n),
                    n_ops=float(n_steps + 1) * n_cues * (2 * n * n + 10 * n),
                    args={"patterns": p.shape, "noise_levels": levels.size,
                          "trials": trials, "n_steps": n_steps})
    key = as_key(key)
    if not bool(jnp.all(jnp.isfinite(network.weights))):
        raise ValidationError("weights: expected finite values, got NaN or inf in the "
                              "network's weight matrix")
    dtype = network.weights.dtype
    rate = _basin_core(network.weights, jnp.asarray(p, dtype), jnp.asarray(levels, dtype),
                       as_key(key), threshold, trials=trials, noise_model=noise_model,
                       tau=network.tau, dt=network.dt, gain=network.gain,
                       activation=network.activation, n_steps=n_steps)
    rate = np.asarray(ensure_finite(rate, "basin curve", {
        "tau": network.tau, "dt": network.dt, "gain": network.gain, "n_steps": n_steps,
        "noise_levels": levels}))
    return rate[0] if single else rate


def attractor_strength(network: AttractorNetwork, patterns: Any, *, key: Any,
                       trials: int = 100, noise: float = 0.4, threshold: float = 0.1,
                       n_steps: int = 50, noise_model: str = "additive") -> np.ndarray | float:
    """Attractor strength: recall success rate from ``pattern + noise * z`` (seed metric).

    Defaults follow the seed's ``measure_attractor_strength``: noise s.d. 0.4, success
    when ``MSE < 0.1``. Noise: ``jax.random.normal(key, (P, 1, trials, N))``.

    **Returns:** a float for one pattern ``(N,)``, else shape ``(P,)``.
    """
    noise = check_nonnegative(noise, "noise")
    out = basin_curve(network, patterns, [noise], key=key, trials=trials,
                      threshold=threshold, n_steps=n_steps, noise_model=noise_model)
    return float(out[0]) if out.ndim == 1 else out[:, 0]


@functools.partial(jax.jit, static_argnames=("tau", "dt", "gain", "activation", "n_steps",
                                             "zero_diagonal"))
def _scan_core(pattern, sal, noise, gamma, threshold, *, tau, dt, gain, activation, n_steps,
               zero_diagonal):
    n = pattern.shape[-1]

    def one(s, z):
        w = _imprint_core(jnp.zeros((n, n), pattern.dtype), pattern[None], s[None], gamma,
                          zero_diagonal)
        cues = pattern + z
        final, _ = _run_euler(w, cues, None, tau=tau, dt=dt, gain=gain,
                              activation=activation, drive_fn=None, n_steps=n_steps,
                              save_every=None)
        return final

    finals = jax.vmap(one)(sal, noise)
    return finals, jnp.mean(_success(finals, pattern, threshold), axis=-1)


def beta_scan(pattern: Any, betas: Any = None, *, key: Any, emotion: float = 2.0,
              salience_fn: str | Callable[[Any, Any], Any] = "seed", gamma: float = 1.0,
              trials: int = 100, noise: float = 0.4, threshold: float = 0.1,
              tau: float = 10.0, dt: float = 1.0, gain: float = 1.0, n_steps: int = 50,
              zero_diagonal: bool = True, activation: Callable = jnp.tanh) -> np.ndarray:
    """Attractor strength against beta for one pattern imprinted alone into an empty
    network (the seed's ``emotion_impact_scan``), vectorised over beta and trials.

    For each ``beta_k``: ``W = gamma s(emotion; beta_k) xi xi^T`` (zero diagonal), then
    :func:`attractor_strength`. ``salience_fn="seed"`` reproduces the seed
    (``exp(-beta E)``); ``"exp"`` / ``"linear"`` give the emotion-enhancing counterpart.
    Noise: for ``k_b`` in ``jax.random.split(key, len(betas))``,
    ``noise * jax.random.normal(k_b, (trials, N))`` (the seed draws fresh noise per beta).

    **Arguments:** ``betas`` defaults to the seed's ``np.linspace(0.1, 5, 20)``; the
    network parameters (``tau``, ``dt`` in ms, ``gain``) default to the seed's
    ``NeuralResonanceSimulator()``.

    **Returns:** success rates, shape ``(len(betas),)``.
    """
    p = as_array(pattern, "pattern", ndim=1)
    b = np.linspace(0.1, 5, 20) if betas is None else as_array(betas, "betas", ndim=1)
    emotion = check_finite_scalar(emotion, "emotion")
    _check_salience(salience_fn)
    trials = _check_trials(trials)
    noise = check_nonnegative(noise, "noise")
    threshold = check_positive(threshold, "threshold")
    n_steps = check_size(n_steps, "n_steps", min_value=0, max_value=2**31 - 1)
    gamma = check_finite_scalar(gamma, "gamma")
    net = AttractorNetwork.zeros(p.shape[0], tau=tau, dt=dt, gain=gain, activation=activation)
    n = p.shape[0]
    check_resources("beta_scan", n_bytes=b.size * (4 * nbytes(trials, n) + 2 * nbytes(n, n)),
                    n_ops=float(n_steps + 1) * b.size * trials * (2 * n * n + 10 * n),
                    args={"betas": b.size, "trials": trials, "n_steps": n_steps,
                          "pattern": p.shape})
    key = as_key(key)
    dtype = default_float()
    sal = jnp.stack([_salience(emotion, float(bb), salience_fn, "salience_fn")
                     for bb in b]).astype(dtype)
    if not bool(jnp.all(jnp.isfinite(sal))):
        raise ValidationError("betas: salience overflowed for some beta; use smaller values")
    keys = jax.random.split(as_key(key), b.size)
    z = noise * jax.vmap(lambda k: jax.random.normal(k, (trials, p.shape[0]), dtype))(keys)
    finals, rate = _scan_core(jnp.asarray(p, dtype), sal, z, gamma, threshold, tau=net.tau,
                              dt=net.dt, gain=net.gain, activation=net.activation,
                              n_steps=n_steps,
                              zero_diagonal=bool(zero_diagonal))
    ensure_finite(finals, "beta scan", {"gamma": gamma, "emotion": emotion, "betas": b,
                                        "tau": net.tau, "dt": net.dt, "gain": net.gain})
    return np.asarray(rate)


def emotion_basin_grid(patterns: Any, emotions: Any, noise_levels: Any, *, key: Any,
                       beta: float = 1.0, salience_fn: str | Callable = "exp",
                       gamma: float | None = None, tau: float = 10.0, dt: float = 1.0,
                       gain: float = 1.0, trials: int = 50, threshold: float = 0.1,
                       n_steps: int = 100, noise_model: str = "mix") -> np.ndarray:
    """Basin size against emotion: imprint all ``patterns`` with their ``emotions`` into
    one network (``gamma`` defaults to ``1/N``) and measure each pattern's
    :func:`basin_curve`.

    **Returns:** success rates, shape ``(P, L)``: pattern ``p`` (emotion ``E_p``) at noise
    level ``l``.
    """
    p, _ = _patterns2(patterns)
    e = as_array(emotions, "emotions", ndim=1)
    if e.shape[0] != p.shape[0]:
        raise ShapeError(f"emotions: expected one emotion per pattern ({p.shape[0]}), got "
                         f"shape {e.shape}")
    n = p.shape[1]
    g = 1.0 / n if gamma is None else check_finite_scalar(gamma, "gamma")
    net = AttractorNetwork.zeros(n, tau=tau, dt=dt, gain=gain).imprint(
        p, e, gamma=g, beta=beta, salience_fn=salience_fn)
    return basin_curve(net, p, noise_levels, key=key, trials=trials, threshold=threshold,
                       n_steps=n_steps, noise_model=noise_model)


# --------------------------------------------------------------------------- capacity


@functools.partial(jax.jit, static_argnames=("n_neurons", "p_max", "n_steps", "tau", "dt",
                                             "gain"))
def _capacity_core(keys, counts, flip, threshold, *, n_neurons, p_max, n_steps, tau, dt,
                   gain):
    dtype = default_float()

    def one(k, count):
        k1, k2 = jax.random.split(k)
        xi = jnp.where(jax.random.bernoulli(k1, 0.5, (p_max, n_neurons)), 1.0, -1.0)
        xi = xi.astype(dtype)
        mask = (jnp.arange(p_max) < count).astype(dtype)
        w = _imprint_core(jnp.zeros((n_neurons, n_neurons), dtype), xi, mask,
                          1.0 / n_neurons, True)
        cues = jnp.where(jax.random.uniform(k2, xi.shape, dtype) < flip, -xi, xi)
        final, _ = _run_euler(w, cues, None, tau=tau, dt=dt, gain=gain, activation=jnp.tanh,
                              drive_fn=None, n_steps=n_steps, save_every=None)
        m = jnp.sum(final * xi, axis=-1) / n_neurons
        ok = (m > threshold).astype(dtype)
        n_ok = jnp.sum(ok * mask)
        return n_ok / count, jnp.sum(m * mask) / count

    return jax.vmap(one)(keys, counts)


def capacity_curve(n_neurons: int, n_patterns: Sequence[int], *, key: Any,
                   n_networks: int = 4, gain: float = 20.0, flip: float = 0.05,
                   threshold: float = 0.99, n_steps: int = 100, tau: float = 1.0,
                   dt: float = 0.5) -> dict[str, np.ndarray]:
    """Retrieval success against the number of stored random patterns (the load P/N).

    For each ``P`` in ``n_patterns`` and each of ``n_networks`` independent networks:
    ``P`` random ``+-1`` patterns are imprinted Hebbian-style (``W = (1/N) sum_p xi_p
    xi_p^T``, zero diagonal, no emotion), every stored pattern is used as a cue with a
    fraction ``flip`` of its signs flipped, the dynamics (``tanh`` with ``gain``) run
    ``n_steps`` Euler steps of ``dt`` (ms; ``tau`` ms), and a pattern counts as retrieved
    when its final overlap ``m = r . xi / N`` exceeds ``threshold``. All loads and
    networks run as one batch (patterns padded to ``max(n_patterns)`` and masked).

    With high gain this is the Hopfield network; its retrieval breaks down near
    ``P / N = 0.138`` (Amit, Gutfreund & Sompolinsky 1985).

    **Returns:** dict with ``n_patterns`` ``(L,)``, ``load`` ``P/N`` ``(L,)``, ``success``
    (mean fraction retrieved, ``(L,)``), ``success_per_network`` ``(L, n_networks)``,
    ``mean_overlap`` ``(L,)``.
    """
    n = check_size(n_neurons, "n_neurons", min_value=2)
    counts = as_array(n_patterns, "n_patterns", ndim=1, kind="int")
    if np.any(counts < 1):
        raise ValidationError(f"n_patterns: expected positive counts, got {counts}")
    nets = check_size(n_networks, "n_networks")
    flip = check_range(flip, "flip", 0.0, 1.0)
    threshold = check_range(threshold, "threshold", -1.0, 1.0)
    n_steps = check_size(n_steps, "n_steps", max_value=2**31 - 1)
    net = AttractorNetwork.zeros(1, tau=tau, dt=dt, gain=gain)  # validates tau, dt, gain
    p_max = int(counts.max())
    runs = counts.size * nets
    check_resources("capacity_curve", n_bytes=runs * (4 * nbytes(p_max, n) + 2 * nbytes(n, n)),
                    n_ops=float(n_steps + 1) * runs * p_max * (2 * n * n + 10 * n)
                    + float(runs) * p_max * n * n,
                    args={"n_neurons": n, "n_patterns": p_max, "n_networks": nets,
                          "n_steps": n_steps})
    keys = jax.random.split(as_key(key), counts.size * nets)
    cnt = jnp.asarray(np.repeat(counts, nets), default_float())
    succ, mbar = _capacity_core(keys, cnt, flip, threshold, n_neurons=n,
                                p_max=int(counts.max()), n_steps=n_steps, tau=net.tau,
                                dt=net.dt, gain=net.gain)
    ensure_finite(mbar, "capacity curve", {"gain": net.gain, "tau": net.tau, "dt": net.dt})
    succ = np.asarray(succ).reshape(counts.size, nets)
    mbar = np.asarray(mbar).reshape(counts.size, nets)
    return {"n_patterns": counts, "load": counts / n, "success": succ.mean(axis=1),
            "success_per_network": succ, "mean_overlap": mbar.mean(axis=1)}


def capacity_transition(load: Any, success: Any, level: float = 0.5) -> float:
    """The load where ``success`` first falls below ``level`` (linear interpolation
    between the grid points around the crossing); ``nan`` if it never does."""
    x = as_array(load, "load", ndim=1)
    y = as_array(success, "success", ndim=1)
    if x.shape != y.shape:
        raise ShapeError(f"success: expected shape {x.shape} like load, got {y.shape}")
    level = check_finite_scalar(level, "level")
    below = np.nonzero(y < level)[0]
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))


# --------------------------------------------------------------------------- end states

RETRIEVED, MIXTURE, SPURIOUS = 0, 1, 2


def classify_states(states: Any, patterns: Any, *, retrieved: float = 0.95,
                    mixture: float = 0.3) -> np.ndarray:
    """Classify end states by their overlaps ``m_p`` with the stored patterns.

    - ``0`` retrieved: ``max_p |m_p| >= retrieved`` (a pattern or its mirror image);
    - ``1`` mixture: not retrieved, and at least two ``|m_p| >= mixture`` (e.g. the
      symmetric 3-mixture ``sign(xi_1 + xi_2 + xi_3)`` has ``m = 1/2`` with each);
    - ``2`` spurious: every other state (away from every stored pattern).

    **Returns:** integer codes, shape ``states.shape[:-1]``.
    """
    retrieved = check_finite_scalar(retrieved, "retrieved")
    mixture = check_finite_scalar(mixture, "mixture")
    m = np.abs(np.asarray(overlap(states, np.atleast_2d(as_array(patterns, "patterns",
                                                                  ndim=(1, 2))))))
    ret = m.max(axis=-1) >= retrieved
    mix = (~ret) & ((m >= mixture).sum(axis=-1) >= 2)
    return np.where(ret, RETRIEVED, np.where(mix, MIXTURE, SPURIOUS))


def state_fractions(states: Any, patterns: Any, **kwargs: Any) -> dict[str, float]:
    """Fractions of ``retrieved``, ``mixture`` and ``spurious`` end states (see
    :func:`classify_states`); ``away`` = mixture + spurious (away from every pattern)."""
    codes = classify_states(states, patterns, **kwargs).reshape(-1)
    f = {name: float(np.mean(codes == c)) for name, c in
         (("retrieved", RETRIEVED), ("mixture", MIXTURE), ("spurious", SPURIOUS))}
    f["away"] = f["mixture"] + f["spurious"]
    return f


# --------------------------------------------------------------------------- figures' data


def convergence_curves(network: AttractorNetwork, pattern: Any,
                       noise_levels: Sequence[float] = (0.1, 0.3, 0.5), *, key: Any,
                       n_steps: int = 29) -> np.ndarray:
    """MSE from ``pattern`` after ``k = 0..n_steps`` steps, from the cue
    ``pattern (1 - n) + n z`` for each noise level ``n`` (seed's ``plot_convergence``).

    Noise: ``z = jax.random.normal(key, (L, N))``. One batched run saves every step.

    **Returns:** shape ``(L, n_steps + 1)``.
    """
    if not isinstance(network, AttractorNetwork):
        raise ValidationError(f"network: expected an AttractorNetwork, got "
                              f"{type(network).__name__}")
    p = as_array(pattern, "pattern", ndim=1)
    levels = as_array(noise_levels, "noise_levels", ndim=1)
    if p.shape[0] != network.n_neurons:
        raise ShapeError(f"pattern: expected shape ({network.n_neurons},), got {p.shape}")
    n_steps = check_size(n_steps, "n_steps", min_value=0, max_value=2**31 - 1)
    dtype = network.dtype
    pj = jnp.asarray(p, dtype)
    z = jax.random.normal(as_key(key), (levels.size, p.shape[0]), dtype)
    lv = jnp.asarray(levels, dtype)[:, None]
    cues = pj * (1.0 - lv) + z * lv
    traj = simulate(network, cues, n_steps=n_steps, save_every=1)
    out = jnp.mean((traj.states - pj) ** 2, axis=-1).T
    return np.asarray(ensure_finite(out, "convergence_curves", {"noise_levels": levels},
                                    hint=_BIG))


def pca_project(states: Any, n_components: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Project states ``(M, N)`` onto their first principal components.

    **Returns:** ``(projection (M, k), explained_variance_ratio (k,))`` (centred data,
    SVD; ``k = min(n_components, M, N)``).
    """
    x = np.asarray(as_array(states, "states", ndim=2), dtype=np.float64)
    k = check_size(n_components, "n_components")
    check_resources("pca_project", n_bytes=4 * nbytes(*x.shape, itemsize=8),
                    n_ops=4.0 * x.shape[0] * x.shape[1] * min(x.shape),
                    args={"states": x.shape})
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    k = min(k, vt.shape[0])
    var = s**2
    ratio = var[:k] / var.sum() if var.sum() > 0 else np.zeros(k)
    return xc @ vt[:k].T, ratio


def tsne_embed(states: Any, *, perplexity: float = 5.0, seed: int = 0) -> np.ndarray:
    """2-D t-SNE embedding of states ``(M, N)`` (scikit-learn; seed: perplexity 5; exact
    method up to 500 states, Barnes-Hut above)."""
    from sklearn.manifold import TSNE

    x = np.asarray(as_array(states, "states", ndim=2), dtype=np.float64)
    perplexity = check_positive(perplexity, "perplexity")
    seed = check_int(seed, "seed", min_value=0, max_value=2**32 - 1)
    check_resources("tsne_embed", n_bytes=8 * nbytes(x.shape[0], x.shape[0], itemsize=8),
                    n_ops=1000.0 * x.shape[0] ** 2 * (x.shape[1] + 10),
                    args={"states": x.shape})
    if perplexity >= x.shape[0]:
        raise ValidationError(f"perplexity: expected a value below the number of states "
                              f"({x.shape[0]}), got {perplexity:g}")
    if x.shape[0] < 2 or not np.any(np.ptp(x, axis=0) > 0):
        raise DataError(f"states: t-SNE needs at least 2 distinct states, got {x.shape[0]} "
                        "state(s), all identical")
    # exact gradients for small sets: as accurate, and much faster than Barnes-Hut there
    method = "exact" if x.shape[0] <= 500 else "barnes_hut"
    out = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca",
               method=method).fit_transform(x)
    return ensure_finite(out, "tsne_embed", {"perplexity": perplexity}, hint=_BIG)

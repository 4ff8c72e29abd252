"""Emotional attractor network (seed 000, "Form is Frozen Resonance"): the core.

Rate dynamics (time in ms, ``tau`` and ``dt`` separate)::

    tau dr/dt = -r + f(g * (W r + I(alpha(t))))                         (seed eq. 1)

``f = tanh`` by default (any elementwise JAX function), ``g`` a gain (1 in the seed).
Explicit Euler with step ``dt`` gives ``r <- r + (dt / tau) (-r + f(g (W r + I)))``; the
seed's ``r += (-r + tanh(W r)) / tau`` is this with ``dt = 1``.

Emotional imprinting of patterns ``r^mem`` (rows of ``patterns``) with emotions ``E``::

    Delta W = gamma * sum_p s(E_p; beta) r_p r_p^T,      W_ii = 0              (seed eq. 2)

Salience ``s``: ``"seed"`` = ``exp(-beta E)`` exactly as the seed writes it (strong emotion
gives a *weaker* attractor), or the emotion-enhancing forms ``"exp"`` = ``exp(+beta E)``
(the default) and ``"linear"`` = ``1 + beta E``, or a callable ``s(E, beta)``.

Drive ``I(alpha(t))``: ``None`` (zero), a constant vector ``u`` (shape ``(N,)`` or
``(B, N)``), ``u`` scaled by an emotional state ``alpha`` (``I = alpha(t) * u``, the
default form: the emotional state gates a fixed input direction), or a callable
``drive(t, alpha_t)`` returning an array broadcastable to the state.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._integrate import ensure_finite, euler_scan
from .._validation import (
    as_array,
    check_choice,
    check_finite_scalar,
    check_int,
    check_positive,
)
from ..errors import ShapeError, StabilityWarning, ValidationError

__all__ = [
    "AttractorNetwork",
    "Trajectory",
    "salience",
    "imprint",
    "recall",
    "simulate",
    "SALIENCE_KINDS",
]

SALIENCE_KINDS = ("exp", "linear", "seed")
SOLVERS = ("euler", "tsit5", "dopri5")


def default_float():
    """float64 when x64 is enabled, float32 otherwise."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


# --------------------------------------------------------------------------- salience


def salience(emotion: Any, beta: float = 1.0,
             kind: str | Callable[[Any, Any], Any] = "exp") -> jax.Array:
    """Emotional salience ``s(E; beta)`` that scales an imprint.

    **Arguments:**

    - ``emotion``: emotion ``E`` (scalar or array, any shape).
    - ``beta``: emotional intensity ``beta`` (seed's range 0.5-5).
    - ``kind``: ``"exp"`` -> ``exp(+beta E)`` (default, emotion-enhancing);
      ``"linear"`` -> ``1 + beta E`` (enhancing); ``"seed"`` -> ``exp(-beta E)``, the
      seed's formula as written (emotion-*weakening*); or a callable ``s(E, beta)``.

    **Returns:** ``s`` with the shape of ``emotion``.
    """
    e = jnp.asarray(emotion, dtype=default_float())
    if callable(kind):
        return jnp.asarray(kind(e, beta), dtype=e.dtype)
    check_choice(kind, "salience", SALIENCE_KINDS)
    if kind == "seed":
        return jnp.exp(-beta * e)
    if kind == "exp":
        return jnp.exp(beta * e)
    return 1.0 + beta * e


def _check_salience(kind: Any) -> None:
    if not callable(kind):
        check_choice(kind, "salience", SALIENCE_KINDS)


def _imprint_core(weights, patterns, sal, gamma, zero_diagonal: bool):
    dw = gamma * jnp.einsum("p,pi,pj->ij", sal, patterns, patterns)
    w = weights + dw
    if zero_diagonal:
        w = w * (1.0 - jnp.eye(w.shape[-1], dtype=w.dtype))
    return w


def imprint(weights: Any, patterns: Any, emotions: Any = 0.0, *, gamma: float = 1.0,
            beta: float = 1.0, salience_fn: str | Callable[[Any, Any], Any] = "exp",
            zero_diagonal: bool = True) -> jax.Array:
    """Imprint patterns into a weight matrix: ``W + gamma sum_p s(E_p) r_p r_p^T``.

    **Arguments:**

    - ``weights``: current weights ``W``, shape ``(N, N)``.
    - ``patterns``: one pattern ``(N,)`` or a batch ``(P, N)`` (firing rates ``r^mem``).
    - ``emotions``: emotion ``E`` per pattern: a scalar (shared) or shape ``(P,)``.
    - ``gamma``: learning rate ``gamma`` (seed: 0.01-0.1 recommended, 1 in its code;
      ``1/N`` gives the classical Hopfield normalisation).
    - ``beta``: emotional intensity ``beta``.
    - ``salience_fn``: see :func:`salience` (default ``"exp"``, emotion-enhancing).
    - ``zero_diagonal``: set ``W_ii = 0`` after the update (no self-connections).

    **Returns:** the new weights, shape ``(N, N)``.
    """
    w = as_array(weights, "weights", ndim=2)
    if w.shape[0] != w.shape[1]:
        raise ShapeError(f"weights: expected a square (N, N) matrix, got shape {w.shape}")
    n = w.shape[0]
    p = as_array(patterns, "patterns", ndim=(1, 2))
    if p.shape[-1] != n:
        raise ShapeError(f"patterns: expected last dimension N = {n} (the network size), "
                         f"got shape {p.shape}")
    p2 = p[None] if p.ndim == 1 else p
    e = as_array(emotions, "emotions", ndim=(0, 1))
    if e.ndim == 1 and e.shape[0] != p2.shape[0]:
        raise ShapeError(f"emotions: expected one emotion per pattern ({p2.shape[0]}) or a "
                         f"scalar, got shape {e.shape}")
    gamma = check_finite_scalar(gamma, "gamma")
    beta = check_finite_scalar(beta, "beta")
    _check_salience(salience_fn)
    dtype = default_float()
    e = np.broadcast_to(e, (p2.shape[0],))
    sal = salience(e, beta, salience_fn)
    if not bool(jnp.all(jnp.isfinite(sal))):
        raise ValidationError(f"salience: s(E; beta) is not finite for emotions {e} and "
                              f"beta {beta:g} (overflow); use smaller beta or emotions")
    out = _imprint_core(jnp.asarray(w, dtype), jnp.asarray(p2, dtype), sal.astype(dtype),
                        gamma, bool(zero_diagonal))
    return ensure_finite(out, "imprint")


# --------------------------------------------------------------------------- network


class AttractorNetwork(eqx.Module):
    """A rate network ``tau dr/dt = -r + f(g (W r + I))`` (immutable; a pytree).

    **Arguments:**

    - ``weights``: ``W``, shape ``(N, N)``; ``W[i, j]`` is the weight from ``j`` to ``i``.
    - ``tau``: membrane time constant in ms (seed's recommended range 10-100 ms).
    - ``dt``: Euler step in ms (``dt < tau``; ``dt >= tau`` warns).
    - ``gain``: gain ``g`` of the activation (1 in the seed; large values approach the
      binary Hopfield network).
    - ``activation``: elementwise ``f`` (default ``jnp.tanh``).

    Use :meth:`zeros` for an empty network, :meth:`imprint` to store patterns and
    :meth:`recall` / :meth:`simulate` to run the dynamics on a batch of cues.
    """

    weights: jax.Array
    tau: float = eqx.field(static=True, default=10.0)
    dt: float = eqx.field(static=True, default=1.0)
    gain: float = eqx.field(static=True, default=1.0)
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True, default=jnp.tanh)

    def __init__(self, weights: Any, *, tau: float = 10.0, dt: float = 1.0,
                 gain: float = 1.0, activation: Callable[[jax.Array], jax.Array] = jnp.tanh):
        if isinstance(weights, jax.core.Tracer):
            self.weights = weights
        else:
            w = as_array(weights, "weights", ndim=2)
            if w.shape[0] != w.shape[1]:
                raise ShapeError(f"weights: expected a square (N, N) matrix, got shape "
                                 f"{w.shape}")
            self.weights = jnp.asarray(w, dtype=default_float())
        self.tau = check_positive(tau, "tau")
        self.dt = check_positive(dt, "dt")
        self.gain = check_finite_scalar(gain, "gain")
        if not callable(activation):
            raise ValidationError(f"activation: expected a callable, got {activation!r}")
        self.activation = activation
        if self.dt >= self.tau:
            warnings.warn(
                f"dt = {self.dt:g} ms >= tau = {self.tau:g} ms: explicit Euler is inaccurate "
                "and may be unstable; use dt < tau (e.g. dt <= tau / 5)",
                StabilityWarning, stacklevel=2)

    @classmethod
    def zeros(cls, n_neurons: int, **kwargs: Any) -> AttractorNetwork:
        """A network of ``n_neurons`` with all weights zero (keyword args as ``__init__``)."""
        n = check_int(n_neurons, "n_neurons", min_value=1)
        return cls(np.zeros((n, n), dtype=np.float32), **kwargs)

    @property
    def n_neurons(self) -> int:
        """``N``, the number of neurons."""
        return int(self.weights.shape[-1])

    def replace_weights(self, weights: Any) -> AttractorNetwork:
        """The same network with new weights."""
        return AttractorNetwork(weights, tau=self.tau, dt=self.dt, gain=self.gain,
                                activation=self.activation)

    def imprint(self, patterns: Any, emotions: Any = 0.0, **kwargs: Any) -> AttractorNetwork:
        """Return a network with :func:`imprint`-ed weights (keyword args as there)."""
        return self.replace_weights(imprint(self.weights, patterns, emotions, **kwargs))

    def recall(self, cues: Any, **kwargs: Any) -> jax.Array:
        """Final states after running from ``cues``; see :func:`recall`."""
        return recall(self, cues, **kwargs)

    def simulate(self, cues: Any, **kwargs: Any) -> Trajectory:
        """Trajectory from ``cues``; see :func:`simulate`."""
        return simulate(self, cues, **kwargs)

    def energy(self, states: Any) -> jax.Array:
        """Hopfield energy ``-1/2 r^T W r`` of states ``(..., N)`` (a Lyapunov function of
        the high-gain limit)."""
        r = jnp.asarray(states, dtype=self.weights.dtype)
        return -0.5 * jnp.einsum("...i,ij,...j->...", r, self.weights, r)


class Trajectory(NamedTuple):
    """States saved along a run: ``times`` (ms, shape ``(T,)``), ``states`` ``(T, ..., N)``."""

    times: jax.Array
    states: jax.Array


# --------------------------------------------------------------------------- drive


def _drive_const(t, params):
    return params


@functools.lru_cache(maxsize=64)
def _drive_scaled(alpha: Callable[[Any], Any]):
    def fn(t, params):
        return jnp.asarray(alpha(t)) * params

    return fn


@functools.lru_cache(maxsize=64)
def _drive_call(drive: Callable[[Any, Any], Any], alpha: Callable[[Any], Any] | None):
    if alpha is None:
        def fn(t, params):
            return drive(t, params)
    else:
        def fn(t, params):
            return drive(t, alpha(t))
    return fn


def _resolve_drive(drive: Any, alpha: Any, n: int, batch: int | None):
    """Turn ``(drive, alpha)`` into ``(fn(t, params) -> I, params)`` or ``(None, None)``."""
    dtype = default_float()
    if drive is None:
        if alpha is not None:
            raise ValidationError("alpha: an emotional state needs a drive (an input "
                                  "direction u or a callable drive(t, alpha)); got drive=None")
        return None, None
    if callable(drive):
        if alpha is None or callable(alpha):
            return _drive_call(drive, alpha), jnp.zeros((), dtype)
        a = jnp.asarray(as_array(alpha, "alpha", ndim=(0, 1, 2)), dtype)
        return _drive_call(drive, None), a
    u = as_array(drive, "drive", ndim=(1, 2))
    if u.shape[-1] != n:
        raise ShapeError(f"drive: expected last dimension N = {n}, got shape {u.shape}")
    if u.ndim == 2 and batch is not None and u.shape[0] not in (1, batch):
        raise ShapeError(f"drive: expected {batch} rows (one per cue), got shape {u.shape}")
    if u.ndim == 2 and batch is None:
        raise ShapeError(f"drive: a single cue needs a drive of shape ({n},), got {u.shape}")
    u = jnp.asarray(u, dtype)
    if alpha is None:
        return _drive_const, u
    if callable(alpha):
        return _drive_scaled(alpha), u
    a = check_finite_scalar(alpha, "alpha")
    return _drive_const, a * u


# --------------------------------------------------------------------------- dynamics


def _vector_field(t, r, args, x, *, tau, gain, activation, drive_fn):
    w, params = args
    h = r @ w.T
    if drive_fn is not None:
        h = h + drive_fn(t, params)
    return (-r + activation(gain * h)) / tau


@functools.partial(jax.jit, static_argnames=("tau", "dt", "gain", "activation", "drive_fn",
                                             "n_steps", "save_every"))
def _run_euler(w, r0, params, *, tau, dt, gain, activation, drive_fn, n_steps, save_every):
    vf = functools.partial(_vector_field, tau=tau, gain=gain, activation=activation,
                           drive_fn=drive_fn)
    return euler_scan(vf, r0, dt=dt, n_steps=n_steps, args=(w, params),
                      save_every=save_every)


@functools.partial(jax.jit, static_argnames=("tau", "dt", "gain", "activation", "drive_fn",
                                             "n_steps", "save_every", "solver", "rtol",
                                             "atol", "max_steps"))
def _run_adaptive(w, r0, params, *, tau, dt, gain, activation, drive_fn, n_steps, save_every,
                  solver, rtol, atol, max_steps):
    import diffrax

    vf = functools.partial(_vector_field, tau=tau, gain=gain, activation=activation,
                           drive_fn=drive_fn)
    term = diffrax.ODETerm(lambda t, y, args: vf(t, y, args, None))
    t1 = n_steps * dt
    if save_every is None:
        saveat = diffrax.SaveAt(t1=True)
    else:
        saveat = diffrax.SaveAt(ts=jnp.arange(0, n_steps + 1, save_every) * dt)
    sol = diffrax.diffeqsolve(
        term, diffrax.Tsit5() if solver == "tsit5" else diffrax.Dopri5(), t0=0.0, t1=t1,
        dt0=dt, y0=r0, args=(w, params), saveat=saveat,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps, throw=False)
    final = sol.ys[-1]
    return final, (None if save_every is None else sol.ys), sol.result == diffrax.RESULTS.successful


def _traced(*xs: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _prepare(network: AttractorNetwork, cues: Any):
    if not isinstance(network, AttractorNetwork):
        raise ValidationError(f"network: expected an AttractorNetwork, got "
                              f"{type(network).__name__}")
    n = network.n_neurons
    if _traced(cues, network.weights):
        # inside jit/vmap: only static (shape) checks are possible
        c = jnp.asarray(cues, dtype=network.weights.dtype)
        if c.ndim not in (1, 2) or c.shape[-1] != n:
            raise ShapeError(f"cues: expected shape (N,) or (B, N) with N = {n}, got shape "
                             f"{c.shape}")
        return c
    c = as_array(cues, "cues", ndim=(1, 2))
    if c.shape[-1] != n:
        raise ShapeError(f"cues: expected last dimension N = {n} (the network size), got "
                         f"shape {c.shape}")
    w = np.asarray(network.weights)
    if not np.all(np.isfinite(w)):
        raise ValidationError("weights: expected finite values, got NaN or inf in the "
                              "network's weight matrix")
    return jnp.asarray(c, dtype=network.weights.dtype)


def _integrate(network, cues, *, n_steps, drive, alpha, save_every, solver, rtol, atol,
               max_steps):
    r0 = _prepare(network, cues)
    n_steps = check_int(n_steps, "n_steps", min_value=0)
    check_choice(solver, "solver", SOLVERS)
    if save_every is not None:
        save_every = check_int(save_every, "save_every", min_value=1)
        if n_steps % save_every:
            raise ValidationError(f"save_every: expected a divisor of n_steps = {n_steps}, "
                                  f"got {save_every}")
    batch = r0.shape[0] if r0.ndim == 2 else None
    drive_fn, params = _resolve_drive(drive, alpha, network.n_neurons, batch)
    common = dict(tau=network.tau, dt=network.dt, gain=network.gain,
                  activation=network.activation, drive_fn=drive_fn, n_steps=n_steps,
                  save_every=save_every)
    if solver == "euler":
        final, traj = _run_euler(network.weights, r0, params, **common)
    else:
        final, traj, ok = _run_adaptive(network.weights, r0, params, solver=solver,
                                        rtol=float(rtol), atol=float(atol),
                                        max_steps=int(max_steps), **common)
        if not _traced(ok) and not bool(ok):
            raise ValidationError(
                f"solver: the adaptive solver {solver!r} did not reach t1 = "
                f"{n_steps * network.dt:g} ms within max_steps = {max_steps}; raise max_steps "
                "or loosen rtol/atol")
    if not _traced(final):
        ensure_finite(final if traj is None else traj, "attractor recall")
    return final, traj


def recall(network: AttractorNetwork, cues: Any, *, n_steps: int = 50, drive: Any = None,
           alpha: Any = None, solver: str = "euler", rtol: float = 1e-6, atol: float = 1e-8,
           max_steps: int = 100_000) -> jax.Array:
    """Run the rate dynamics from ``cues`` for ``n_steps * dt`` ms; return the final states.

    All cues run together in matrix form (``R <- R + dt/tau (-R + f(g (R W^T + I)))``),
    never a Python loop over cues.

    **Arguments:**

    - ``network``: an :class:`AttractorNetwork`.
    - ``cues``: initial rates ``r(0)``, shape ``(N,)`` or a batch ``(B, N)``.
    - ``n_steps``: number of Euler steps of ``dt`` (also fixes ``t1 = n_steps dt``).
    - ``drive``, ``alpha``: external input ``I(alpha(t))`` (module docstring): ``None``;
      an array ``u`` (``(N,)`` or ``(B, N)``), scaled by ``alpha`` (scalar or callable
      ``alpha(t)``) when given; or a callable ``drive(t, alpha_t)``.
    - ``solver``: ``"euler"`` (``lax.scan``; the seed's update) or an adaptive diffrax
      solver ``"tsit5"`` / ``"dopri5"`` with tolerances ``rtol``, ``atol``.

    **Returns:** final rates, shape like ``cues``.

    **Raises:** :class:`~engramlab.errors.ShapeError` for a cue of the wrong length,
    :class:`~engramlab.errors.ValidationError` for non-finite cues or weights,
    :class:`~engramlab.errors.DivergenceError` if the run produced NaN/inf.
    """
    final, _ = _integrate(network, cues, n_steps=n_steps, drive=drive, alpha=alpha,
                          save_every=None, solver=solver, rtol=rtol, atol=atol,
                          max_steps=max_steps)
    return final


def simulate(network: AttractorNetwork, cues: Any, *, n_steps: int = 50, save_every: int = 1,
             drive: Any = None, alpha: Any = None, solver: str = "euler", rtol: float = 1e-6,
             atol: float = 1e-8, max_steps: int = 100_000) -> Trajectory:
    """Like :func:`recall`, but return the states every ``save_every`` steps.

    **Returns:** :class:`Trajectory` with ``times`` (ms, ``(T,)``, ``T = n_steps //
    save_every + 1``, starting at 0) and ``states`` (``(T, N)`` or ``(T, B, N)``).
    """
    if save_every is None:
        raise ValidationError("save_every: expected a positive integer, got None "
                              "(use recall() for the final state only)")
    _, traj = _integrate(network, cues, n_steps=n_steps, drive=drive, alpha=alpha,
                         save_every=save_every, solver=solver, rtol=rtol, atol=atol,
                         max_steps=max_steps)
    save_every = int(save_every)
    times = jnp.arange(traj.shape[0], dtype=traj.dtype) * save_every * network.dt
    return Trajectory(times=times, states=traj)

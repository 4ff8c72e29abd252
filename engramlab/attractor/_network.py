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

Weights are held in one of two exact forms: a dense ``(N, N)`` matrix, or, for networks
built by imprinting into :meth:`AttractorNetwork.zeros`, the factored (low-rank plus
diagonal) form :class:`LowRankWeights`::

    W = U^T diag(c) U + diag(d),     c_p = gamma_p s(E_p; beta),
    d_i = -sum_p c_p U_pi^2  (zero diagonal)

so that ``W r`` costs ``O(P N)`` per cue instead of ``O(N^2)``. ``network.weights`` is
always the dense matrix (built on demand for the factored form).
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

from .._dtypes import default_float
from .._integrate import ensure_finite, euler_scan
from .._salience import SALIENCE_KINDS, salience_value
from .._validation import (
    MAX_STEPS,
    as_array,
    check_callable,
    check_choice,
    check_finite_scalar,
    check_nonnegative,
    check_positive,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import EngramlabError, ShapeError, StabilityWarning, ValidationError

__all__ = [
    "AttractorNetwork",
    "LowRankWeights",
    "Trajectory",
    "salience",
    "imprint",
    "recall",
    "simulate",
    "SALIENCE_KINDS",
]

SOLVERS = ("euler", "tsit5", "dopri5")


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
    return _salience(emotion, beta, kind, "kind")


def _salience(emotion: Any, beta: Any, kind: Any, name: str) -> jax.Array:
    """:func:`salience`, with errors about ``kind`` naming the caller's argument ``name``."""
    traced = _traced(emotion, beta)
    if not traced:
        emotion = as_array(emotion, "emotion", allow_empty=True)
        beta = check_finite_scalar(beta, "beta")
    e = jnp.asarray(emotion, dtype=default_float())
    if callable(kind):
        try:
            out = jnp.asarray(kind(e, beta), dtype=e.dtype)
        except Exception as exc:
            if isinstance(exc, EngramlabError):
                raise
            raise ValidationError(f"{name}: the callable s(E, beta) failed on emotions of "
                                  f"shape {e.shape}: {type(exc).__name__}: {exc}"[:300]
                                  ) from exc
        if out.shape != e.shape:
            raise ShapeError(f"{name}: the callable s(E, beta) must return the shape of "
                             f"the emotions {e.shape}, got {out.shape}")
    else:
        check_choice(kind, name, SALIENCE_KINDS)
        out = jnp.asarray(salience_value(e, beta, kind), dtype=e.dtype)
    if traced:
        return out
    if not bool(jnp.all(jnp.isfinite(out))):
        raise ValidationError(f"beta: s(E; beta) is not finite for emotions "
                              f"{np.asarray(emotion)} and beta {beta:g} (overflow); use "
                              f"smaller beta or emotions"[:300])
    return out


def _check_salience(kind: Any, name: str = "salience_fn") -> None:
    if not callable(kind):
        check_choice(kind, name, SALIENCE_KINDS)


def _imprint_core(weights, patterns, sal, gamma, zero_diagonal: bool):
    dw = gamma * jnp.einsum("p,pi,pj->ij", sal, patterns, patterns)
    w = weights + dw
    if zero_diagonal:
        w = w * (1.0 - jnp.eye(w.shape[-1], dtype=w.dtype))
    return w


def _imprint_inputs(n: int, patterns: Any, emotions: Any, gamma: Any, beta: Any,
                    salience_fn: Any) -> tuple[jax.Array, jax.Array, float]:
    """Validate an imprint's inputs: ``(patterns (P, N), salience (P,), gamma)``."""
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
    sal = _salience(e, beta, salience_fn, "salience_fn")
    if not bool(jnp.all(jnp.isfinite(sal))):
        raise ValidationError(f"beta: s(E; beta) is not finite for emotions {e} and "
                              f"beta {beta:g} (overflow); use smaller beta or emotions")
    return jnp.asarray(p2, dtype), sal.astype(dtype), gamma


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
    p2, sal, gamma = _imprint_inputs(w.shape[0], patterns, emotions, gamma, beta, salience_fn)
    out = _imprint_core(jnp.asarray(w, default_float()), p2, sal, gamma, bool(zero_diagonal))
    return ensure_finite(out, "imprint", {"gamma": gamma, "beta": beta},
                         hint="the imprinted weights overflow: use smaller gamma, beta, "
                              "emotions or patterns")


# --------------------------------------------------------------------------- network


class LowRankWeights(eqx.Module):
    """Exact factored weights ``W = U^T diag(c) U + diag(d)`` (a pytree).

    The form Hebbian imprinting (seed eq. 2) produces from an empty network: ``U`` holds
    the imprinted patterns, ``c_p = gamma s(E_p; beta)`` their strengths and ``d`` the
    diagonal correction (``d_i = -sum_p c_p U_pi^2`` when the diagonal is zeroed, so
    ``W_ii = 0``). Applying ``W`` to a batch of states costs ``O(B P N)`` instead of the
    dense ``O(B N^2)``.

    **Fields:**

    - ``patterns``: ``U``, shape ``(P, N)`` (``P`` may be 0: all-zero weights).
    - ``strengths``: ``c``, shape ``(P,)``.
    - ``diagonal``: ``d``, shape ``(N,)``.
    """

    patterns: jax.Array
    strengths: jax.Array
    diagonal: jax.Array

    @classmethod
    def empty(cls, n_neurons: int, dtype: Any = None) -> LowRankWeights:
        """``W = 0`` for ``n_neurons`` neurons (no patterns)."""
        dtype = default_float() if dtype is None else dtype
        return cls(jnp.zeros((0, n_neurons), dtype), jnp.zeros((0,), dtype),
                   jnp.zeros((n_neurons,), dtype))

    @property
    def n_neurons(self) -> int:
        """``N``."""
        return int(self.patterns.shape[-1])

    @property
    def n_patterns(self) -> int:
        """``P``, the number of rank-one terms."""
        return int(self.patterns.shape[-2])

    def _lowrank_diag(self) -> jax.Array:
        return jnp.einsum("p,pi->i", self.strengths, self.patterns * self.patterns)

    def add(self, patterns: jax.Array, strengths: jax.Array,
            zero_diagonal: bool) -> LowRankWeights:
        """``W + sum_p c_p u_p u_p^T`` (then ``W_ii = 0`` if ``zero_diagonal``): the new
        patterns are concatenated to ``U``."""
        u = jnp.concatenate([self.patterns, patterns.astype(self.patterns.dtype)], axis=0)
        c = jnp.concatenate([self.strengths, strengths.astype(self.strengths.dtype)])
        new = LowRankWeights(u, c, self.diagonal)
        if zero_diagonal:
            new = LowRankWeights(u, c, -new._lowrank_diag())
        return new

    def apply(self, r: jax.Array) -> jax.Array:
        """``W r`` for states ``r`` of shape ``(..., N)``: ``((r U^T) * c) U + d * r``."""
        return ((r @ self.patterns.T) * self.strengths) @ self.patterns + r * self.diagonal

    def quadratic(self, r: jax.Array) -> jax.Array:
        """``r^T W r`` for states ``(..., N)``: ``sum_p c_p (u_p . r)^2 + sum_i d_i r_i^2``."""
        proj = r @ self.patterns.T
        return jnp.sum(self.strengths * proj * proj, axis=-1) + jnp.sum(
            self.diagonal * r * r, axis=-1)

    def dense(self) -> jax.Array:
        """The dense matrix ``W``, shape ``(N, N)`` (``O(P N^2)``)."""
        n = self.n_neurons
        check_resources("the dense (N, N) weight matrix", n_bytes=3 * nbytes(n, n),
                        n_ops=2 * (self.n_patterns + 1) * n * n, args={"n_neurons": n})
        full = (self.patterns.T * self.strengths) @ self.patterns
        off = full * (1.0 - jnp.eye(n, dtype=full.dtype))
        # the diagonal from the same expression as the correction, so that a zeroed
        # diagonal comes out exactly 0
        return off + jnp.diag(self._lowrank_diag() + self.diagonal)


def _check_factors(f: Any) -> LowRankWeights:
    if _traced(*jax.tree_util.tree_leaves(f)):
        return f
    u = as_array(f.patterns, "weights.patterns", ndim=2, allow_empty=True)
    n = u.shape[1]
    c = as_array(f.strengths, "weights.strengths", shape=(u.shape[0],), allow_empty=True)
    d = as_array(f.diagonal, "weights.diagonal", shape=(n,))
    dtype = default_float()
    return LowRankWeights(jnp.asarray(u, dtype), jnp.asarray(c, dtype), jnp.asarray(d, dtype))


class AttractorNetwork(eqx.Module):
    """A rate network ``tau dr/dt = -r + f(g (W r + I))`` (immutable; a pytree).

    **Arguments:**

    - ``weights``: ``W``, a dense matrix of shape ``(N, N)`` (``W[i, j]`` is the weight
      from ``j`` to ``i``) or a :class:`LowRankWeights` (exact factored form).
    - ``tau``: membrane time constant in ms (seed's recommended range 10-100 ms).
    - ``dt``: Euler step in ms (``dt < tau``; ``dt >= tau`` warns).
    - ``gain``: gain ``g`` of the activation (1 in the seed; large values approach the
      binary Hopfield network).
    - ``activation``: elementwise ``f`` (default ``jnp.tanh``).

    Use :meth:`zeros` for an empty network, :meth:`imprint` to store patterns and
    :meth:`recall` / :meth:`simulate` to run the dynamics on a batch of cues.

    **Weight representation.** Exactly one of the fields ``dense`` (an ``(N, N)`` array)
    and ``factors`` (a :class:`LowRankWeights`) is set. :meth:`zeros` starts factored
    (``P = 0``) and :meth:`imprint` keeps it factored, concatenating the new patterns;
    imprinting into a network built from a nonzero dense matrix stays dense (an all-zero
    dense matrix is treated like :meth:`zeros`). Recall uses the factored product when
    ``2 P <= N`` (cheaper than the dense one) and the dense matrix otherwise. The property
    :attr:`weights` is always the dense ``(N, N)`` matrix (built on demand when factored).
    """

    dense: jax.Array | None
    factors: LowRankWeights | None
    tau: float = eqx.field(static=True, default=10.0)
    dt: float = eqx.field(static=True, default=1.0)
    gain: float = eqx.field(static=True, default=1.0)
    activation: Callable[[jax.Array], jax.Array] = eqx.field(static=True, default=jnp.tanh)

    def __init__(self, weights: Any, *, tau: float = 10.0, dt: float = 1.0,
                 gain: float = 1.0, activation: Callable[[jax.Array], jax.Array] = jnp.tanh):
        if isinstance(weights, LowRankWeights):
            self.dense = None
            self.factors = _check_factors(weights)
        elif isinstance(weights, jax.core.Tracer):
            self.dense = weights
            self.factors = None
        else:
            w = as_array(weights, "weights", ndim=2)
            if w.shape[0] != w.shape[1]:
                raise ShapeError(f"weights: expected a square (N, N) matrix, got shape "
                                 f"{w.shape}")
            self.dense = jnp.asarray(w, dtype=default_float())
            self.factors = None
        self.tau = check_positive(tau, "tau")
        self.dt = check_positive(dt, "dt")
        self.gain = check_finite_scalar(gain, "gain")
        self.activation = check_callable(activation, "activation")
        if self.dt >= self.tau:
            warnings.warn(
                f"dt = {self.dt:g} ms >= tau = {self.tau:g} ms: explicit Euler is inaccurate "
                "and may be unstable; use dt < tau (e.g. dt <= tau / 5)",
                StabilityWarning, stacklevel=2)

    @classmethod
    def zeros(cls, n_neurons: int, **kwargs: Any) -> AttractorNetwork:
        """A network of ``n_neurons`` with all weights zero, in the factored form with no
        patterns (keyword args as ``__init__``)."""
        n = check_size(n_neurons, "n_neurons")
        check_resources("an empty network", n_bytes=nbytes(n), args={"n_neurons": n})
        return cls(LowRankWeights.empty(n), **kwargs)

    @property
    def weights(self) -> jax.Array:
        """The dense weight matrix ``W``, shape ``(N, N)`` (built from the factors when the
        network is factored)."""
        return self.dense if self.factors is None else self.factors.dense()

    @property
    def is_factored(self) -> bool:
        """Whether the weights are held as :class:`LowRankWeights`."""
        return self.factors is not None

    @property
    def dtype(self) -> Any:
        """The floating dtype of the weights."""
        return (self.dense if self.factors is None else self.factors.patterns).dtype

    @property
    def n_neurons(self) -> int:
        """``N``, the number of neurons."""
        return int((self.dense if self.factors is None else self.factors.patterns).shape[-1])

    def replace_weights(self, weights: Any) -> AttractorNetwork:
        """The same network with new weights (dense ``(N, N)`` or :class:`LowRankWeights`)."""
        return AttractorNetwork(weights, tau=self.tau, dt=self.dt, gain=self.gain,
                                activation=self.activation)

    def to_dense(self) -> AttractorNetwork:
        """The same network with its weights as a dense matrix."""
        return self.replace_weights(self.weights)

    def imprint(self, patterns: Any, emotions: Any = 0.0, **kwargs: Any) -> AttractorNetwork:
        """Return a network with :func:`imprint`-ed weights (keyword args as there).

        A factored network (or one whose dense weights are all zero) stays factored: the
        patterns are appended to ``U`` with strengths ``gamma s(E_p; beta)``; a network
        with nonzero dense weights gets the dense :func:`imprint`.
        """
        factors = self.factors
        if factors is None and not _traced(self.dense) and not np.any(np.asarray(self.dense)):
            factors = LowRankWeights.empty(self.n_neurons, self.dense.dtype)
        if factors is None or _traced(*jax.tree_util.tree_leaves(factors)):
            return self.replace_weights(imprint(self.weights, patterns, emotions, **kwargs))
        allowed = {"gamma", "beta", "salience_fn", "zero_diagonal"}
        extra = set(kwargs) - allowed
        if extra:
            raise TypeError(f"imprint() got unexpected keyword arguments {sorted(extra)}")
        zero_diagonal = bool(kwargs.get("zero_diagonal", True))
        p2, sal, gamma = _imprint_inputs(
            self.n_neurons, patterns, emotions, kwargs.get("gamma", 1.0),
            kwargs.get("beta", 1.0), kwargs.get("salience_fn", "exp"))
        new = factors.add(p2, gamma * sal, zero_diagonal)
        ensure_finite(new, "imprint", {"gamma": gamma, "beta": kwargs.get("beta", 1.0)},
                      hint="the imprinted weights overflow: use smaller gamma, beta, "
                           "emotions or patterns")
        return self.replace_weights(new)

    def recall(self, cues: Any, **kwargs: Any) -> jax.Array:
        """Final states after running from ``cues``; see :func:`recall`."""
        return recall(self, cues, **kwargs)

    def simulate(self, cues: Any, **kwargs: Any) -> Trajectory:
        """Trajectory from ``cues``; see :func:`simulate`."""
        return simulate(self, cues, **kwargs)

    def energy(self, states: Any) -> jax.Array:
        """Hopfield energy ``-1/2 r^T W r`` of states ``(..., N)`` (a Lyapunov function of
        the high-gain limit); ``O(P N)`` per state when factored."""
        traced = _traced(states, *jax.tree_util.tree_leaves((self.dense, self.factors)))
        if not traced:
            states = as_array(states, "states")
            if states.ndim < 1 or states.shape[-1] != self.n_neurons:
                raise ShapeError(f"states: expected shape (..., N) with N = "
                                 f"{self.n_neurons}, got shape {states.shape}")
        r = jnp.asarray(states, dtype=self.dtype)
        if self.factors is not None:
            out = -0.5 * self.factors.quadratic(r)
        else:
            out = -0.5 * jnp.einsum("...i,ij,...j->...", r, self.dense, r)
        return ensure_finite(out, "energy", hint="the states or weights are too large for "
                                                 "the working dtype")

    def _operator(self) -> jax.Array | LowRankWeights:
        """What the dynamics multiply by: the factors when ``2 P <= N``, else dense ``W``."""
        f = self.factors
        if f is not None and 2 * f.n_patterns <= f.n_neurons:
            return f
        return self.weights


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
    h = w.apply(r) if isinstance(w, LowRankWeights) else r @ w.T
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
    dtype = network.dtype
    w_leaves = jax.tree_util.tree_leaves((network.dense, network.factors))
    if _traced(cues, *w_leaves):
        # inside jit/vmap: only static (shape) checks are possible
        c = jnp.asarray(cues, dtype=dtype)
        if c.ndim not in (1, 2) or c.shape[-1] != n:
            raise ShapeError(f"cues: expected shape (N,) or (B, N) with N = {n}, got shape "
                             f"{c.shape}")
        return c
    c = as_array(cues, "cues", ndim=(1, 2))
    if c.shape[-1] != n:
        raise ShapeError(f"cues: expected last dimension N = {n} (the network size), got "
                         f"shape {c.shape}")
    if not all(np.all(np.isfinite(np.asarray(x))) for x in w_leaves):
        raise ValidationError("weights: expected finite values, got NaN or inf in the "
                              "network's weights")
    return jnp.asarray(c, dtype=dtype)


def _check_field(fn: Any, name: str, r0: jax.Array, *args: Any) -> None:
    """Check a user callable ``fn(*args)`` returns an array broadcastable to ``r0``."""
    try:
        out = jax.eval_shape(fn, *args)
    except EngramlabError:
        raise
    except Exception as exc:
        raise ValidationError(f"{name}: calling it failed: {type(exc).__name__}: "
                              f"{exc}"[:300]) from exc
    shape = getattr(out, "shape", None)
    dtype = getattr(out, "dtype", None)
    if shape is None or not (jnp.issubdtype(dtype, jnp.number) or dtype == jnp.bool_):
        raise ValidationError(f"{name}: expected it to return a numeric array, got "
                              f"{type(out).__name__}")
    try:
        ok = jnp.broadcast_shapes(tuple(shape), r0.shape) == r0.shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{name}: expected it to return an array broadcastable to the "
                         f"states' shape {r0.shape}, got shape {tuple(shape)}")


def _integrate(network, cues, *, n_steps, drive, alpha, save_every, solver, rtol, atol,
               max_steps):
    r0 = _prepare(network, cues)
    n_steps = check_size(n_steps, "n_steps", min_value=0, max_value=MAX_STEPS)
    check_choice(solver, "solver", SOLVERS)
    if save_every is not None:
        save_every = check_size(save_every, "save_every")
        if n_steps % save_every:
            raise ValidationError(f"save_every: expected a divisor of n_steps = {n_steps}, "
                                  f"got {save_every}")
    if solver != "euler":
        rtol = check_positive(rtol, "rtol")
        atol = check_nonnegative(atol, "atol")
        max_steps = check_size(max_steps, "max_steps", max_value=MAX_STEPS)
    n = network.n_neurons
    n_cues = 1 if r0.ndim == 1 else r0.shape[0]
    f = network.factors
    factored = f is not None and 2 * f.n_patterns <= f.n_neurons
    per_step = 4 * f.n_patterns * n if factored else 2 * n * n
    n_saves = 1 if save_every is None else n_steps // save_every + 1
    steps = n_steps if solver == "euler" else max(n_steps, 1) * 6
    check_resources("this recall", n_bytes=2 * nbytes(n_saves + 1, n_cues, n)
                    + (0 if factored else nbytes(n, n)),
                    n_ops=float(steps) * n_cues * (per_step + 10 * n),
                    args={"n_steps": n_steps, "cues": tuple(r0.shape), "n_neurons": n})
    batch = r0.shape[0] if r0.ndim == 2 else None
    drive_fn, params = _resolve_drive(drive, alpha, network.n_neurons, batch)
    if not _traced(r0):
        t0 = jnp.zeros((), r0.dtype)
        if drive_fn is not None and drive_fn is not _drive_const:  # arrays: checked above
            _check_field(drive_fn, "drive", r0, t0, params)
        if network.activation is not jnp.tanh:
            _check_field(network.activation, "activation", r0, r0)
    common = dict(tau=network.tau, dt=network.dt, gain=network.gain,
                  activation=network.activation, drive_fn=drive_fn, n_steps=n_steps,
                  save_every=save_every)
    if solver == "euler":
        final, traj = _run_euler(network._operator(), r0, params, **common)
    else:
        final, traj, ok = _run_adaptive(network._operator(), r0, params, solver=solver,
                                        rtol=float(rtol), atol=float(atol),
                                        max_steps=int(max_steps), **common)
        if not _traced(ok) and not bool(ok) and bool(jnp.all(jnp.isfinite(final))):
            raise ValidationError(
                f"solver: the adaptive solver {solver!r} did not reach t1 = "
                f"{n_steps * network.dt:g} ms within max_steps = {max_steps}; raise max_steps "
                "or loosen rtol/atol")
    checked = ensure_finite((final, traj), "attractor recall",
                            {"tau": network.tau, "dt": network.dt, "gain": network.gain,
                             "n_steps": n_steps, "solver": solver})
    return checked


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

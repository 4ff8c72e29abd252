"""The learned memories as a dense associative memory (beyond the paper).

After learning, ``Xi`` (``(N_h, N_v)``) is the memory matrix of a modern Hopfield network
/ dense associative memory (Krotov & Hopfield 2016; Ramsauer et al. 2021). Retrieval
from a cue ``v`` iterates

    v <- Xi^T softmax(beta Xi v)                                 (DAM)

and is compared with a classical Hopfield network storing the same ``K`` binary
patterns ``eta`` (``+-1``) in Hebbian outer-product couplings

    W = (1 / N_v) sum_mu eta_mu eta_mu^T,  W_ii = 0,   v <- sign(W v)  (synchronous).

Success of a retrieval: overlap ``m = (1/N_v) sum_i sign(v_i) eta_i >= threshold`` with
the cued pattern (default 0.95, i.e. at most 2.5 % wrong bits).

The learning protocol of :func:`capacity_sweep`: initial memories are noisy traces
``Xi(0) = eta + init_noise * z``; the softmax dynamics are driven by a round-robin stream
of the patterns with fresh Gaussian noise (std ``noise``) on each presentation;
``Xi`` converges to the noise-free patterns (the Hebbian prescription
``J = Xi^T Xi / N_h -> sum_mu eta_mu eta_mu^T / N_h``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._integrate import ensure_finite
from .._validation import (
    as_array,
    as_key,
    check_nonnegative,
    check_range,
    check_resources,
    check_size,
    nbytes,
)
from ..errors import ShapeError, ValidationError
from ._dynamics import SoftmaxSynapses, _float_dtype, check_params
from ._streams import _stream

__all__ = ["binary_patterns", "flip_cues", "dam_retrieve", "hebbian_retrieve",
           "retrieval_overlap", "learn_memories", "capacity_sweep"]


def binary_patterns(key: jax.Array, n_patterns: int, n_v: int) -> jax.Array:
    """I.i.d. ``+-1`` patterns, shape ``(K, N_v)``."""
    n_patterns = check_size(n_patterns, "n_patterns")
    n_v = check_size(n_v, "n_v")
    check_resources("binary_patterns", n_bytes=2 * nbytes(n_patterns, n_v),
                    args={"n_patterns": n_patterns, "n_v": n_v})
    return jax.random.rademacher(as_key(key), (n_patterns, n_v), _float_dtype())


def flip_cues(key: jax.Array, patterns: jax.Array, flip: Any) -> jax.Array:
    """Cues: each entry of ``patterns`` (``(..., N_v)``) sign-flipped with probability
    ``flip``."""
    if not any(isinstance(x, jax.core.Tracer) for x in (patterns, flip)):
        patterns = jnp.asarray(as_array(patterns, "patterns", ndim=(1, 2, 3, 4)),
                               _float_dtype())
        flip = check_range(flip, "flip", 0.0, 1.0)
    mask = jax.random.bernoulli(as_key(key), flip, patterns.shape)
    return jnp.where(mask, -patterns, patterns)


def _dam(xi: jax.Array, v: jax.Array, beta: Any, n_iter: int) -> jax.Array:
    def body(_, v):
        return jax.nn.softmax(beta * (v @ xi.T), axis=-1) @ xi

    return jax.lax.fori_loop(0, n_iter, body, v)


def _hebbian(patterns: jax.Array, v: jax.Array, n_iter: int) -> jax.Array:
    n_v = patterns.shape[-1]
    w = patterns.T @ patterns / n_v
    w = w - jnp.diag(jnp.diag(w))

    def body(_, v):
        return jnp.where(v @ w >= 0, 1.0, -1.0).astype(v.dtype)

    return jax.lax.fori_loop(0, n_iter, body, v)


def _check_cues(cues: Any, n_v: int) -> np.ndarray:
    cues = as_array(cues, "cues", ndim=(1, 2, 3))
    if cues.shape[-1] != n_v:
        raise ShapeError(f"cues: expected last dimension N_v = {n_v}, got shape {cues.shape}")
    return cues


def dam_retrieve(xi: Any, cues: Any, *, beta: float, n_iter: int = 1) -> jax.Array:
    """Modern-Hopfield retrieval ``v <- Xi^T softmax(beta Xi v)``, ``n_iter`` times.

    **Arguments:** ``xi`` ``(N_h, N_v)`` memories; ``cues`` ``(..., N_v)``; ``beta >= 0``;
    ``n_iter >= 1``. **Returns:** retrieved states, same shape as ``cues``.
    """
    xi = as_array(xi, "xi", ndim=2)
    cues = _check_cues(cues, xi.shape[1])
    beta = check_nonnegative(beta, "beta")
    n_iter = check_size(n_iter, "n_iter", max_value=2**31 - 1)
    n_cues = cues.size // xi.shape[1]
    check_resources("dam_retrieve", n_bytes=3 * nbytes(n_cues, xi.shape[0] + xi.shape[1]),
                    n_ops=6.0 * n_iter * n_cues * xi.size,
                    args={"xi": xi.shape, "cues": cues.shape, "n_iter": n_iter})
    dt = _float_dtype()
    out = _dam_jit(jnp.asarray(xi, dt), jnp.asarray(cues, dt), beta, n_iter)
    return ensure_finite(out, "dam_retrieve", {"beta": beta, "n_iter": n_iter},
                         hint="beta * Xi v overflows the working dtype: use a smaller beta "
                              "or memories of smaller magnitude")


def hebbian_retrieve(patterns: Any, cues: Any, *, n_iter: int = 20) -> jax.Array:
    """Classical Hopfield retrieval with Hebbian couplings ``W = eta^T eta / N_v``
    (zero diagonal), synchronous ``v <- sign(W v)`` (``sign(0) = +1``), ``n_iter`` times.

    **Arguments:** ``patterns`` ``(K, N_v)``; ``cues`` ``(..., N_v)``. **Returns:** the
    ``+-1`` states, same shape as ``cues``.
    """
    patterns = as_array(patterns, "patterns", ndim=2)
    cues = _check_cues(cues, patterns.shape[1])
    n_iter = check_size(n_iter, "n_iter", max_value=2**31 - 1)
    n_v = patterns.shape[1]
    n_cues = cues.size // n_v
    check_resources("hebbian_retrieve", n_bytes=3 * nbytes(n_v, n_v) + 3 * nbytes(n_cues, n_v),
                    n_ops=2.0 * patterns.shape[0] * n_v * n_v
                    + 2.0 * n_iter * n_cues * n_v * n_v,
                    args={"patterns": patterns.shape, "cues": cues.shape, "n_iter": n_iter})
    dt = _float_dtype()
    out = _hebb_jit(jnp.asarray(patterns, dt), jnp.asarray(cues, dt), n_iter)
    return ensure_finite(out, "hebbian_retrieve", hint="the patterns overflow the working "
                                                       "dtype: use +-1 patterns")


_dam_jit = jax.jit(_dam, static_argnums=(3,))
_hebb_jit = jax.jit(_hebbian, static_argnums=(2,))


def retrieval_overlap(states: Any, targets: Any) -> jax.Array:
    """``m = mean_i sign(v_i) eta_i`` over the last axis (``sign(0) = +1``)."""
    if not any(isinstance(x, jax.core.Tracer) for x in (states, targets)):
        states = as_array(states, "states", ndim=(1, 2, 3, 4))
        targets = as_array(targets, "targets", ndim=(1, 2, 3, 4))
        try:
            np.broadcast_shapes(states.shape, targets.shape)
        except ValueError:
            raise ShapeError(f"targets: expected a shape broadcastable to the states' "
                             f"{states.shape}, got {targets.shape}") from None
        if states.shape[-1] != targets.shape[-1]:
            raise ShapeError(f"targets: expected last dimension {states.shape[-1]} like the "
                             f"states, got shape {targets.shape}")
    states = jnp.asarray(states)
    targets = jnp.asarray(targets)
    return jnp.mean(jnp.where(states >= 0, 1.0, -1.0) * targets, axis=-1)


def learn_memories(key: jax.Array, patterns: Any, *, n_presentations: int = 60,
                   tau: float = 10.0, beta: float = 1.0, noise: float = 0.5,
                   init_noise: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """Learn ``Xi`` from noisy presentations of ``patterns`` with the softmax dynamics.

    ``Xi(0) = patterns + init_noise * z``; stream: round robin over the ``K`` patterns,
    ``n_presentations`` rounds, fresh noise of std ``noise`` on every presentation;
    ``dt = 1``. **Returns:** ``(xi0, xi_learned)``, each ``(K, N_v)``.
    """
    patterns = as_array(patterns, "patterns", ndim=2)
    n_presentations = check_size(n_presentations, "n_presentations", max_value=2**31 - 1)
    beta, tau, _ = check_params(beta, tau, 1.0)
    noise = check_nonnegative(noise, "noise")
    init_noise = check_nonnegative(init_noise, "init_noise")
    k, n_v = patterns.shape
    check_resources("learn_memories", n_bytes=4 * nbytes(n_presentations * k, n_v),
                    n_ops=12.0 * n_presentations * k * k * n_v,
                    args={"n_presentations": n_presentations, "patterns": patterns.shape})
    out = _learn(as_key(key), jnp.asarray(patterns, _float_dtype()), n_presentations, tau,
                 beta, noise, init_noise)
    return ensure_finite(out, "learn_memories", {"beta": beta, "tau": tau, "noise": noise,
                                                 "init_noise": init_noise},
                         hint="use a smaller beta or noise, or patterns of smaller magnitude")


@partial(jax.jit, static_argnums=(2,))
def _learn(key, patterns, n_presentations, tau, beta, noise, init_noise):
    k0, ks = jax.random.split(key)
    dt = patterns.dtype
    xi0 = patterns + init_noise * jax.random.normal(k0, patterns.shape, dt)
    v, _ = _stream(ks, patterns, n_presentations * patterns.shape[0], "round_robin", noise)
    model = SoftmaxSynapses(beta=jnp.asarray(beta, dt), tau=jnp.asarray(tau, dt),
                            dt=jnp.asarray(1.0, dt), bias=jnp.zeros_like(patterns))
    return xi0, model.final(xi0, v)


def _dam_masked(xi, v, beta, n_iter, mask):
    def body(_, v):
        logits = jnp.where(mask, beta * (v @ xi.T), -jnp.inf)
        return jax.nn.softmax(logits, axis=-1) @ xi

    return jax.lax.fori_loop(0, n_iter, body, v)


def _sweep_one_k(key, k, betas, flips, learn_args, threshold, n_v, k_max, n_cues, n_iter,
                 n_pres):
    """One number of memories ``k`` (traced), padded to ``k_max`` hidden units."""
    k_pat, k_init, k_stream, k_cue = jax.random.split(key, 4)
    dt = _float_dtype()
    tau, beta_train, noise, init_noise = learn_args
    mask = jnp.arange(k_max) < k
    patterns = jax.random.rademacher(k_pat, (k_max, n_v), dt) * mask[:, None]
    # the K used hidden units start as noisy traces, the others silent (zero rows never
    # win the softmax against a trace, so they do not learn)
    xi0 = (patterns + init_noise * jax.random.normal(k_init, patterns.shape, dt)) * mask[:,
                                                                                         None]
    k_lab, k_noise = jax.random.split(k_stream)
    n_steps = n_pres * k_max
    v = patterns[jnp.arange(n_steps) % k]
    v = v + noise * jax.random.normal(k_noise, v.shape, dt)
    model = SoftmaxSynapses(beta=jnp.asarray(beta_train, dt), tau=jnp.asarray(tau, dt),
                            dt=jnp.asarray(1.0, dt), bias=jnp.zeros_like(patterns))
    xi = model.final(xi0, v)

    idx = jnp.arange(n_cues) % k
    tgt = patterns[idx]

    def per_flip(flip, kc):
        cues = flip_cues(kc, tgt, flip)

        def ok(states):
            return jnp.mean(retrieval_overlap(states, tgt) >= threshold)

        def per_beta(beta):
            return (ok(_dam_masked(xi, cues, beta, n_iter, mask)),
                    ok(_dam_masked(xi0, cues, beta, n_iter, mask)),
                    ok(_dam_masked(patterns, cues, beta, n_iter, mask)))

        learned, initial, ideal = jax.vmap(per_beta)(betas)
        return learned, initial, ideal, ok(_hebbian(patterns, cues, 20)), ok(cues)

    kcs = jax.random.split(k_cue, flips.shape[0])
    learned, initial, ideal, hebb, raw = jax.vmap(per_flip)(flips, kcs)
    err = jnp.sqrt(jnp.sum(((xi - patterns) * mask[:, None]) ** 2) / (k * n_v))
    return learned.T, initial.T, ideal.T, hebb, raw, err


@partial(jax.jit, static_argnums=(6, 7, 8, 9, 10))
def _sweep_all(keys, ks, betas, flips, learn_args, threshold, n_v, k_max, n_cues, n_iter,
               n_pres):
    return jax.vmap(_sweep_one_k, (0, 0) + (None,) * 9)(
        keys, ks, betas, flips, learn_args, threshold, n_v, k_max, n_cues, n_iter, n_pres)


def capacity_sweep(key: jax.Array, *, n_v: int = 64,
                   n_memories: Sequence[int] = (2, 4, 8, 12, 16, 24, 32, 48),
                   betas: Sequence[float] = (0.01, 0.03, 0.1, 1.0),
                   flips: Sequence[float] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35),
                   n_cues: int = 96, n_iter: int = 3, threshold: float = 0.95,
                   n_presentations: int = 60, tau: float = 10.0, beta_train: float = 1.0,
                   noise: float = 0.5, init_noise: float = 1.0) -> dict[str, np.ndarray]:
    """Retrieval success vs cue noise, number of memories ``K`` and ``beta``.

    For each ``K`` in ``n_memories``: draw ``K`` random ``+-1`` patterns of length
    ``n_v``, learn ``Xi`` with :func:`learn_memories`, then retrieve from ``n_cues`` cues
    (cue ``c`` corrupts pattern ``c mod K`` by flipping each bit with probability
    ``flip``) with the DAM update (``n_iter`` iterations, each ``beta``) using the
    learned ``Xi``, the initial (noisy-trace) ``Xi(0)`` and the ideal ``Xi = eta``, and
    with the classical Hebbian network (20 synchronous iterations). Cues, betas and
    flips and the values of ``K`` are all ``vmap``-ed: each ``K`` uses ``max(K)`` hidden
    units of which the first ``K`` start as noisy traces of the patterns and the rest are
    silent zero rows (they never win the softmax, so they stay zero, and are masked out
    of the DAM retrieval); the stream has ``n_presentations * max(K)`` steps, round
    robin over the ``K`` patterns (so at least ``n_presentations`` rounds).

    **Returns:** dict of NumPy arrays: ``dam_learned``, ``dam_initial``, ``dam_ideal``
    ``(len(K), len(betas), len(flips))``; ``hebbian`` and ``no_retrieval`` (the cue
    itself) ``(len(K), len(flips))``; ``learn_rmse`` ``(len(K),)`` (RMS of
    ``Xi - eta``); plus the axes ``n_memories``, ``betas``, ``flips``.
    """
    key = as_key(key)
    n_v = check_size(n_v, "n_v", min_value=2)
    if isinstance(n_memories, str | bytes) or not hasattr(n_memories, "__len__"):
        raise ValidationError(f"n_memories: expected a sequence of positive integers, got "
                              f"{n_memories!r}"[:200])
    if len(n_memories) == 0:
        raise ValidationError("n_memories: expected at least one number of memories, got "
                              "an empty sequence")
    ks = [check_size(k, "n_memories") for k in n_memories]
    betas_a = as_array(betas, "betas", ndim=1)
    flips_a = as_array(flips, "flips", ndim=1)
    for b in betas_a:
        check_nonnegative(b, "betas")
    for f in flips_a:
        check_range(f, "flips", 0.0, 1.0)
    n_cues = check_size(n_cues, "n_cues")
    n_iter = check_size(n_iter, "n_iter", max_value=2**31 - 1)
    threshold = check_range(threshold, "threshold", -1.0, 1.0)
    n_presentations = check_size(n_presentations, "n_presentations", max_value=2**31 - 1)
    beta_train, tau, _ = check_params(beta_train, tau, 1.0)
    noise = check_nonnegative(noise, "noise")
    init_noise = check_nonnegative(init_noise, "init_noise")
    k_max = max(ks)
    nk, nb, nf = len(ks), betas_a.size, flips_a.size
    check_resources("capacity_sweep",
                    n_bytes=4 * nbytes(nk, n_presentations * k_max, n_v)
                    + 4 * nbytes(nk, nf, nb, n_cues, k_max + n_v) + nbytes(nk, n_v, n_v),
                    n_ops=12.0 * nk * n_presentations * k_max * k_max * n_v
                    + 6.0 * nk * nf * (3 * nb + 1) * n_iter * n_cues * k_max * n_v
                    + 40.0 * nk * nf * n_cues * n_v * n_v,
                    args={"n_memories": k_max, "n_v": n_v, "n_cues": n_cues,
                          "n_presentations": n_presentations})
    dt = _float_dtype()
    names = ("dam_learned", "dam_initial", "dam_ideal", "hebbian", "no_retrieval",
             "learn_rmse")
    k_max = max(ks)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(len(ks)))
    res = _sweep_all(keys, jnp.asarray(ks), jnp.asarray(betas_a, dt), jnp.asarray(flips_a, dt),
                     (tau, beta_train, noise, init_noise), threshold, n_v, k_max, n_cues,
                     n_iter, n_presentations)
    result = {n: np.asarray(r) for n, r in zip(names, res, strict=True)}
    ensure_finite(result["learn_rmse"], "capacity_sweep (learning)",
                  {"beta_train": beta_train, "tau": tau, "noise": noise,
                   "init_noise": init_noise},
                  hint="use a smaller beta_train or noise")
    result.update(n_memories=np.asarray(ks), betas=np.asarray(betas_a),
                  flips=np.asarray(flips_a))
    return result

"""CMR core in JAX: study, retrieval, exact recall-sequence likelihood, simulation.

Context ``c`` has ``K`` units: unit 0 is the start-of-list unit, units ``1..L`` the
list items' own context units and, in the cymr variant, unit ``L + 1`` stands for the
``m = pool - L`` context units of the item pool that were not studied on the list (see
*pool unit* below). Items are localist; MFC is a :class:`~engramlab.memory.LinearMemory`
of shape ``(L, K)`` (item -> context) and MCF one of shape ``(K, L)`` (context -> item).

**Context integration** (Howard & Kahana 2002; Polyn et al. 2009, eq. 2):

    c_in  = MFC probe(f_i) / ||MFC probe(f_i)||
    rho   = sqrt(1 + B^2 ((c . c_in)^2 - 1)) - B (c . c_in)
    c_new = rho c + B c_in                       (||c_new|| = 1 when ||c|| = ||c_in|| = 1)

with ``B = B_enc`` at study, ``B_start`` when the start unit is reinstated before recall
and ``B_rec`` after each recall. Context starts at the start unit.

**Study** of item ``i`` (serial position ``i = 0..L-1``): integrate, then learn with the
*new* context: ``MFC[i] += L_fc c``, ``MCF[:, i] += L_cf(i) c`` with the primacy gradient
``L_cf(i) = Lcf + P1 exp(-P2 i)`` (cymr) or ``primacy_scale exp(-primacy_decay i) + 1``
(jaxcmr).

**Pre-experimental weights.** jaxcmr: ``MFC = (1 - learning_rate) [0 | I]`` and
``MCF[1 + j, i] = shared_support + item_support [i == j]`` (``init_mfc`` / ``init_mcf``).
cymr (``config_loc_cmr``): ``MFC[i, u] = Afc + Dfc [u is i's unit]`` and
``MCF[u, i] = Acf + Dcf [u is i's unit]`` over *all pool units* ``u``; start <-> start
weight 1 (only used by the start reinstatement).

**Pool unit.** cymr's localist network has one context unit per item of the pool
(e.g. 768 for Morton2013). The ``m`` units of unstudied items all receive the same input
``Afc``, so they always hold one common value ``v``. We keep them as one unit holding
``sqrt(m) v`` with pre-experimental weights ``sqrt(m) Afc`` and ``sqrt(m) Acf``: every dot
product, norm and Hebbian update is then identical to the full network's.

**Retrieval**, after ``j`` recalls, ``a = MCF probe(c)`` over not-yet-recalled items:

- jaxcmr power rule: ``P(i) ∝ (a_i / max a)^tau + lb`` (``tau = choice_sensitivity``,
  ``lb`` = float32 machine epsilon, as jaxcmr's ``power_scale(a, tau) + lb``);
- cymr exponential rule: ``P(i) ∝ exp(2 max(a_i, 1e-6) / max(T, 1e-6))``.

Stop probability: jaxcmr ``min(scale exp(growth j), 1 - lb (L - j))`` (jaxcmr's
``PositionalTermination``); cymr ``clip(X1 exp(X2 j), 1e-6, 1 - 1e-6)``; both are 1 once
every item was recalled. A
recall event has probability ``(1 - P_stop(j)) P(i)``, the final stop event
``P_stop(n_recalls)``. The cymr variant clips each event probability below at ``1e-5``
before the log, as cymr does (``np.clip(p, 10e-6, 1)``); the jaxcmr variant is exact.
Recalled items are excluded (no repeats). Data intrusions and repeats are removed before
scoring (see :mod:`engramlab.cmr._data`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..memory._linear import LinearMemory
from ._params import CymrParams, JaxcmrParams

_AMIN = 1e-6  # cymr's minimum activation / temperature
_PMIN = 1e-6  # cymr's stop-probability clip
_PCLIP = 1e-5  # cymr's event-probability clip (10e-6)
_TINY = 1e-300
_LB = 1.1920928955078125e-07  # jaxcmr's lower bound: float32 machine epsilon


def names_for(variant: str) -> tuple[str, ...]:
    return (JaxcmrParams if variant == "jaxcmr" else CymrParams).names()


def _unpack(theta: jax.Array, variant: str) -> dict[str, jax.Array]:
    return {n: theta[k] for k, n in enumerate(names_for(variant))}


def context_size(variant: str, L: int) -> int:
    """Number of context units ``K``: ``L + 1`` (jaxcmr) or ``L + 2`` (cymr, pool unit)."""
    return L + 1 if variant == "jaxcmr" else L + 2


def integrate(c: jax.Array, c_in: jax.Array, B: jax.Array) -> jax.Array:
    """``rho c + B c_in`` with ``rho = sqrt(1 + B^2((c.c_in)^2 - 1)) - B (c.c_in)``."""
    cdot = jnp.dot(c, c_in)
    rho = jnp.sqrt(jnp.maximum(1.0 + B * B * (cdot * cdot - 1.0), 0.0)) - B * cdot
    return rho * c + B * c_in


def _normalize(x: jax.Array) -> jax.Array:
    ss = jnp.sum(x * x)
    return jnp.where(ss > 0, x / jnp.sqrt(jnp.where(ss > 0, ss, 1.0)), x)


def initial_memories(p: dict[str, jax.Array], variant: str, L: int,
                     sqrt_m: jax.Array) -> tuple[LinearMemory, LinearMemory]:
    """Pre-experimental MFC ``(L, K)`` and MCF ``(K, L)`` (traceable in the parameters)."""
    K = context_size(variant, L)
    own = jnp.eye(L, K, k=1)  # item i <-> context unit i + 1
    if variant == "jaxcmr":
        mfc = (1.0 - p["learning_rate"]) * own
        listu = jnp.zeros((L, K)).at[:, 1:L + 1].set(1.0)
        mcf = (p["shared_support"] * listu + p["item_support"] * own).T
    else:
        listu = jnp.zeros((L, K)).at[:, 1:L + 1].set(1.0).at[:, L + 1].set(sqrt_m)
        mfc = p["Afc"] * listu + p["Dfc"] * own
        mcf = (p["Acf"] * listu + p["Dcf"] * own).T
    return LinearMemory(mfc), LinearMemory(mcf)


def _rates(p: dict[str, jax.Array], variant: str, L: int):
    pos = jnp.arange(L)
    if variant == "jaxcmr":
        lcf = p["primacy_scale"] * jnp.exp(-p["primacy_decay"] * pos) + 1.0
        return (p["encoding_drift_rate"], p["start_drift_rate"], p["recall_drift_rate"],
                p["learning_rate"], lcf)
    lcf = p["Lcf"] + p["P1"] * jnp.exp(-p["P2"] * pos)
    return p["B_enc"], p["B_start"], p["B_rec"], p["Lfc"], lcf


def stop_probability(p: dict[str, jax.Array], variant: str, L: int) -> jax.Array:
    """``P_stop(j)`` for ``j = 0..L`` recalls made, shape ``(L + 1,)`` (``P_stop(L) = 1``)."""
    j = jnp.arange(L + 1)
    if variant == "jaxcmr":
        # jaxcmr: min(1 - lb * n_recallable, scale exp(growth j)), n_recallable = L - j
        ps = jnp.minimum(p["stop_probability_scale"] * jnp.exp(p["stop_probability_growth"] * j),
                         1.0 - _LB * (L - j))
    else:
        ps = jnp.clip(p["X1"] * jnp.exp(p["X2"] * j), _PMIN, 1.0 - _PMIN)
    return ps.at[L].set(1.0)


def choice_logp(a: jax.Array, recallable: jax.Array, p: dict[str, jax.Array],
                variant: str) -> jax.Array:
    """Log choice probabilities over items, shape ``(L,)`` (``-inf`` where not recallable)."""
    if variant == "jaxcmr":
        # jaxcmr: s_i = (a_i / max a)^tau + lb over recallable items, P(i) = s_i / sum s
        logits = p["choice_sensitivity"] * jnp.log(jnp.maximum(a, _TINY))
        logits = jnp.where(recallable, logits, -jnp.inf)
        s = jnp.where(recallable, jnp.exp(logits - jnp.max(logits)) + _LB, 0.0)
        return jnp.log(s) - jnp.log(jnp.sum(s))
    logits = 2.0 * jnp.maximum(a, _AMIN) / jnp.maximum(p["T"], _AMIN)
    logits = jnp.where(recallable, logits, -jnp.inf)
    return logits - jax.scipy.special.logsumexp(logits)


def study(p: dict[str, jax.Array], variant: str, L: int, sqrt_m: jax.Array):
    """Present items ``0..L-1`` then reinstate the start unit.

    **Returns:** ``(c, mfc, mcf)`` at the start of recall.
    """
    mfc, mcf = initial_memories(p, variant, L, sqrt_m)
    B_enc, B_start, _, lfc, lcf = _rates(p, variant, L)
    K = context_size(variant, L)
    start = jnp.zeros(K).at[0].set(1.0)
    items = jnp.eye(L)

    def step(carry, xs):
        c, mfc, mcf = carry
        item, lr_cf = xs
        c = integrate(c, _normalize(mfc.probe(item)), B_enc)
        if variant == "jaxcmr":
            c = _normalize(c)
        mfc = mfc.associate(item, c, lfc)
        mcf = mcf.associate(c, item, lr_cf)
        return (c, mfc, mcf), None

    (c, mfc, mcf), _ = jax.lax.scan(step, (start, mfc, mcf), (items, lcf))
    c = integrate(c, start, B_start)
    if variant == "jaxcmr":
        c = _normalize(c)
    return c, mfc, mcf


def trial_logp(theta: jax.Array, recalls: jax.Array, sqrt_m: jax.Array, *, variant: str,
               L: int) -> jax.Array:
    """Log-probabilities of every event of one list, shape ``(L + 1,)``.

    ``recalls`` ``(L,)``: 1-based study positions in output order, 0-padded. Entry ``j``
    is the log-probability of recall ``j`` (``j < n``), of stopping (``j == n``), or 0.
    """
    p = _unpack(theta, variant)
    c, mfc, mcf = study(p, variant, L, sqrt_m)
    _, _, B_rec, _, _ = _rates(p, variant, L)
    p_stop = stop_probability(p, variant, L)
    n = jnp.sum(recalls > 0)
    rec = jnp.concatenate([recalls, jnp.zeros(1, recalls.dtype)])
    items = jnp.eye(L)

    def step(carry, j):
        c, recallable = carry
        r = jnp.maximum(rec[j] - 1, 0)
        lp = choice_logp(mcf.probe(c), recallable, p, variant)
        # double-where keeps gradients finite in the branch that is not selected
        log_recall = jnp.log1p(-jnp.where(j < n, p_stop[j], 0.0)) + lp[r]
        log_stop = jnp.log(jnp.where(j == n, p_stop[j], 1.0))
        ev = jnp.where(j < n, log_recall, jnp.where(j == n, log_stop, 0.0))
        if variant == "cymr":
            ev = jnp.where(j <= n, jnp.maximum(ev, jnp.log(_PCLIP)), 0.0)
        c_new = integrate(c, _normalize(mfc.probe(items[r])), B_rec)
        if variant == "jaxcmr":
            c_new = _normalize(c_new)
        active = j < n
        c = jnp.where(active, c_new, c)
        recallable = jnp.where(active, recallable.at[r].set(False), recallable)
        return (c, recallable), ev

    _, ev = jax.lax.scan(step, (c, jnp.ones(L, bool)), jnp.arange(L + 1))
    return ev


@partial(jax.jit, static_argnames=("variant", "L"))
def trials_loglik(theta: jax.Array, recalls: jax.Array, sqrt_m: jax.Array, *, variant: str,
                  L: int) -> jax.Array:
    """Log-likelihood of each list, ``(n,)``; vmap over lists ``recalls`` ``(n, L)``."""
    f = partial(trial_logp, variant=variant, L=L)
    return jax.vmap(lambda r: jnp.sum(f(theta, r, sqrt_m)))(recalls)


@partial(jax.jit, static_argnames=("variant", "L"))
def population_loglik(thetas: jax.Array, recalls: jax.Array, sqrt_m: jax.Array, *,
                      variant: str, L: int) -> jax.Array:
    """Total log-likelihood for each parameter vector of ``thetas`` ``(P, n_par)``."""
    f = partial(trial_logp, variant=variant, L=L)
    per = jax.vmap(lambda th: jax.vmap(lambda r: jnp.sum(f(th, r, sqrt_m)))(recalls))(thetas)
    return jnp.sum(per, axis=1)


def trial_simulate(theta: jax.Array, key: jax.Array, sqrt_m: jax.Array, *, variant: str,
                   L: int) -> jax.Array:
    """Sample one recall sequence: ``(L,)`` 1-based study positions, 0-padded."""
    p = _unpack(theta, variant)
    c, mfc, mcf = study(p, variant, L, sqrt_m)
    _, _, B_rec, _, _ = _rates(p, variant, L)
    p_stop = stop_probability(p, variant, L)
    items = jnp.eye(L)
    keys = jax.random.split(key, L)

    def step(carry, xs):
        c, recallable, active = carry
        j, k = xs
        k_stop, k_item = jax.random.split(k)
        stop = jax.random.uniform(k_stop) < p_stop[j]
        active = active & ~stop
        lp = choice_logp(mcf.probe(c), recallable, p, variant)
        r = jax.random.categorical(k_item, lp)
        c_new = integrate(c, _normalize(mfc.probe(items[r])), B_rec)
        if variant == "jaxcmr":
            c_new = _normalize(c_new)
        c = jnp.where(active, c_new, c)
        recallable = jnp.where(active, recallable.at[r].set(False), recallable)
        return (c, recallable, active), jnp.where(active, r + 1, 0)

    _, out = jax.lax.scan(step, (c, jnp.ones(L, bool), jnp.array(True)),
                          (jnp.arange(L), keys))
    return out


@partial(jax.jit, static_argnames=("variant", "L"))
def trials_simulate(theta: jax.Array, keys: jax.Array, sqrt_m: jax.Array, *, variant: str,
                    L: int) -> jax.Array:
    """Simulate ``len(keys)`` lists; returns ``(n, L)`` recalls (vmap over keys)."""
    f = partial(trial_simulate, variant=variant, L=L)
    return jax.vmap(lambda k: f(theta, k, sqrt_m))(keys)

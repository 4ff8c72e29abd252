"""The CMR engine: study, retrieval, exact recall-sequence likelihood and simulation of
any :class:`~engramlab.cmr.Variant` (a composition of components, see
:mod:`engramlab.cmr._components` and :mod:`engramlab.cmr._variants`).

One list of length ``L``; items are localist by serial position; each context layer
``l`` has context ``c_l`` ``(K_l,)`` (unit 0: start of list), MFC ``(L, K_l)`` and MCF
``(K_l, L)`` (:class:`~engramlab.memory.LinearMemory`).

**Study** of item ``i = 0..L-1``, in every layer::

    c'   = integrate(c, MFC probe(f_i), B_enc)           (the variant's ContextRule)
    c_L  = c' if learn_after else c                       (learning order)
    MFC += L_fc  outer(f_i, c_L)
    MCF += L_cf(i) outer(c_L, f_i)                        (the layer's Schedule)
    c    = c'

then ``c = integrate(c, c_start, B_start)`` (start-of-list reinstatement).

**Retrieval**, after ``j`` recalls: support ``a = sum_l MCF_l probe(c_l)``; the event
"recall item ``i``" has probability ``(1 - P_stop) P(i | a)`` (StopRule, ChoiceRule over
items not yet recalled), the final event "stop" ``P_stop``. After a recall of ``i`` every
layer integrates ``MFC_l probe(f_i)`` with ``B_rec``. The log-likelihood of a list is
the sum of the log event probabilities (each clipped below at ``event_floor`` first when
the variant has one, as cymr does).

Entry points take ``theta`` — the parameters as a vector in the variant's canonical order
— so they vmap over parameter sets; ``variant`` and ``L`` are static.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..memory._linear import LinearMemory
from ._components import StopState

if TYPE_CHECKING:  # annotations only: the registry (_variants) checks variants with us
    from ._variants import Variant


def unpack(theta: jax.Array, variant: Variant) -> dict[str, jax.Array]:
    """``theta`` ``(n_par,)`` -> ``{name: scalar}`` in the variant's canonical order."""
    return {n: theta[k] for k, n in enumerate(variant.names())}


def _learn_after(p: dict, variant: Variant, layer=None) -> jax.Array:
    if layer is not None and layer.learn_after is not None:
        return jnp.asarray(layer.learn_after)
    if isinstance(variant.learn_after, str):
        return p[variant.learn_after] > 0.5
    return jnp.asarray(bool(variant.learn_after))


def _rule(variant: Variant, layer):
    """The layer's context rule (its own, else the variant's)."""
    return variant.context if layer.context is None else layer.context


def study(p: dict, variant: Variant, L: int, aux: dict):
    """Present items ``0..L-1`` then reinstate the start unit, in every layer.

    Every item is studied once and items are localist, so item ``i``'s MFC row and MCF
    column change only at step ``i``: the context input at step ``i`` is the
    pre-experimental row ``MFC_0[i]``, and the learned memories are
    ``MFC = MFC_0 + L_fc C`` and ``MCF = MCF_0 + (L_cf ⊙ C)^T`` with ``C`` ``(L, K)`` the
    learning contexts of the steps — the same arithmetic as the step-by-step Hebbian
    updates (tested equal to rounding), but only the context trajectory is
    sequential (and it is shared by all lists when the layer's inputs do not depend on
    per-list data).

    **Returns:** ``(contexts, mfcs, mcfs)``: tuples over layers at the start of recall.
    """
    layers = variant.layers
    init = [ly.preexp.init(p, L, aux) for ly in layers]
    # the start unit 0 of each layer (its size from its memories: a category layer's
    # number of units is fixed by the data, not by L)
    starts = [jnp.zeros(mfc0.shape[1], mfc0.dtype).at[0].set(1.0) for mfc0, _ in init]
    drifts = [ly.drift.rates(p) for ly in layers]
    cs, mfcs, mcfs = [], [], []
    for k, ly in enumerate(layers):
        mfc0, mcf0 = init[k]
        rule = _rule(variant, ly)
        after = _learn_after(p, variant, ly)

        def step(c, xs, rule=rule, after=after):
            row, B_enc = xs
            c_new = rule.integrate(c, row, B_enc)
            return c_new, jnp.where(after, c_new, c)

        c, learn = jax.lax.scan(step, starts[k],
                                (mfc0, ly.drift.encoding_rates(p, L, aux)))
        lfc = ly.schedule.mfc_rate(p)
        lcf = ly.schedule.mcf_rates(p, L, aux)
        mfcs.append(LinearMemory(mfc0 + lfc * learn))
        mcfs.append(LinearMemory(mcf0 + (lcf[:, None] * learn).T))
        cs.append(rule.integrate(c, starts[k], drifts[k][1]))
    return tuple(cs), tuple(mfcs), tuple(mcfs)


def _support(cs, mcfs, variant: Variant | None = None, mask=None) -> jax.Array:
    """Total support ``a = sum_l MCF_l probe(c_l)`` ``(L,)``. When a layer has
    ``mask_support=False`` (and ``mask`` is given), items outside ``mask`` get only the
    support of such layers."""
    parts = [m.probe(c) for c, m in zip(cs, mcfs, strict=True)]
    a = parts[0]
    for x in parts[1:]:
        a = a + x
    if variant is None or mask is None or all(ly.mask_support for ly in variant.layers):
        return a
    free = sum(x for x, ly in zip(parts, variant.layers, strict=True) if not ly.mask_support)
    return jnp.where(mask, a, free)


def _reinstate(variant: Variant, p: dict, cs, mfcs, r: jax.Array):
    """Recall of item ``r``: every layer integrates ``MFC probe(f_r)`` (a one-hot probe:
    under ``vmap`` a matrix-vector product is faster on CPU than a batched row gather)."""
    item = jax.nn.one_hot(r, mfcs[0].state.shape[0], dtype=cs[0].dtype)
    return tuple(_rule(variant, ly).integrate(c, f.probe(item), ly.drift.rates(p)[2])
                 for c, f, ly in zip(cs, mfcs, variant.layers, strict=True))


def _event_probs(variant: Variant, p: dict, L: int, j, cs, mcfs, recallable, item=None,
                 choice_mask=None, cue=None):
    """``(log P(i | recall), P_stop)`` before recall ``j``: the ``(L,)`` log-probabilities
    of all items, or the scalar one of ``item`` when given. ``choice_mask`` (default
    ``recallable``) is the mask the choice rule sees. ``cue``: ``(row, first)`` for a
    variant with a :class:`~engramlab.cmr._components.RecallCue` (the associations of the
    item recalled last; whether no item has been recalled yet). The stop rule sees the
    context support (before the cue)."""
    mask = recallable if choice_mask is None else choice_mask
    a = _support(cs, mcfs, variant, mask)
    n_rec = jnp.sum(recallable)
    p_stop = variant.stop(p, StopState(j, n_rec, a, recallable, L))
    extra = ()
    if variant.cue is not None:
        a, factor = variant.cue.apply(p, a, mask, *cue)
        extra = () if factor is None else (factor,)
    if item is None:
        return variant.choice.logp(a, mask, p, *extra), p_stop
    return variant.choice.log_prob(a, mask, p, item, *extra), p_stop


def _cue_matrix(variant: Variant, p: dict, L: int, aux: dict | None):
    """The list's cue associations ``(L, L)`` (``None`` without a cue)."""
    if variant.cue is None:
        return None
    if aux is None:
        raise ValueError(f"variant {variant.name!r} has a recall cue: its per-list item data "
                         "(aux) are needed")
    return variant.cue.associations(p, aux, L)


def _recall_events(p: dict, variant: Variant, L: int, state, recalls: jax.Array,
                   n_steps: int | None = None, aux: dict | None = None) -> jax.Array:
    """Log-probabilities of the recall events of one list from the state at the start of
    recall (``state = study(...)``), shape ``(n_steps,)`` (default ``L + 1``; see
    :func:`trial_logp`). ``n_steps`` may be any number ``> `` the list's number of
    recalls: the entries after the stop event are 0, so shorter scans skip only zeros.

    The scan step is rematerialised under reverse-mode differentiation
    (``jax.checkpoint``): the backward pass recomputes each step from its carry instead of
    storing every intermediate, which halves the gradient's cost on CPU (memory traffic,
    not arithmetic, dominates it)."""
    cs, mfcs, mcfs = state
    n = jnp.sum(recalls > 0)
    rec = jnp.concatenate([recalls, jnp.zeros(1, recalls.dtype)])
    floor = variant.event_floor
    assoc = _cue_matrix(variant, p, L, aux)

    def step(carry, j):
        cs, recallable = carry
        r = jnp.maximum(rec[j] - 1, 0)
        cue = None
        if assoc is not None:  # the associations of the item recalled last
            cue = (assoc[jnp.maximum(rec[jnp.maximum(j - 1, 0)] - 1, 0)], j == 0)
        # the choice is scored only while j < n; from then on it sees every item as
        # recallable (when none is, its log normaliser is log 0 and the unused branch's
        # gradient 0 * inf = NaN would poison the sum)
        lp_r, p_stop = _event_probs(variant, p, L, j, cs, mcfs, recallable, r,
                                    choice_mask=jnp.where(j < n, recallable, True), cue=cue)
        # double-where keeps gradients finite in the branch that is not selected
        log_recall = jnp.log1p(-jnp.where(j < n, p_stop, 0.0)) + lp_r
        log_stop = jnp.log(jnp.where(j == n, p_stop, 1.0))
        ev = jnp.where(j < n, log_recall, jnp.where(j == n, log_stop, 0.0))
        if floor is not None:
            ev = jnp.where(j <= n, jnp.maximum(ev, jnp.log(floor)), 0.0)
        active = j < n
        new_cs = _reinstate(variant, p, cs, mfcs, r)
        cs = tuple(jnp.where(active, a, b) for a, b in zip(new_cs, cs, strict=True))
        recallable = jnp.where(active, recallable.at[r].set(False), recallable)
        return (cs, recallable), ev

    T = L + 1 if n_steps is None else n_steps
    _, ev = jax.lax.scan(jax.checkpoint(step), (cs, jnp.ones(L, bool)), jnp.arange(T))
    return ev


def trial_logp(theta: jax.Array, recalls: jax.Array, aux: dict, *, variant: Variant,
               L: int) -> jax.Array:
    """Log-probabilities of every event of one list, shape ``(L + 1,)``.

    ``recalls`` ``(L,)``: 1-based study positions in output order, 0-padded. Entry ``j``
    is the log-probability of recall ``j`` (``j < n``), of stopping (``j == n``), or 0.
    ``aux``: per-list data the components read (``sqrt_m``, the variant's features).
    """
    p = unpack(theta, variant)
    return _recall_events(p, variant, L, study(p, variant, L, aux), recalls, aux=aux)


@partial(jax.jit, static_argnames=("variant", "L"))
def grouped_loglik(thetas: jax.Array, group: jax.Array, recalls: jax.Array,
                   sqrt_m: jax.Array, *, variant: Variant, L: int) -> jax.Array:
    """Log-likelihood of each list when lists share parameter vectors by group (subject).

    ``thetas`` ``(S, n_par)``, ``group`` ``(n,)`` indices into ``thetas``. The study
    phase depends only on the parameters (for a variant without study-event features), so
    it is computed once per group and shared by the group's lists — the hierarchical
    sampler's likelihood, ``S`` study phases instead of ``n``. Returns ``(n,)``.

    Works for traced ``group`` and ``recalls``; with concrete ones
    :func:`blocked_loglik` (on a :class:`SubjectBlocks` layout) computes the same faster.
    """
    _no_features(variant)
    states = _subject_states(thetas, sqrt_m, variant, L)

    def one(g, r):
        state = jax.tree_util.tree_map(lambda x: x[g], states)
        return jnp.sum(_recall_events(unpack(thetas[g], variant), variant, L, state, r))

    return jax.vmap(one)(group, recalls)


def _subject_states(thetas: jax.Array, sqrt_m: jax.Array, variant: Variant, L: int):
    """The study state at the start of recall of every parameter vector of ``thetas``
    ``(S, n_par)`` (stacked along a leading axis)."""
    return jax.vmap(lambda th: study(unpack(th, variant), variant, L,
                                     {"sqrt_m": sqrt_m}))(thetas)


def _no_features(variant: Variant) -> None:
    if variant.per_list_data:
        raise ValueError("grouped_loglik: the study phase of a variant with features "
                         "depends on each list; use trials_loglik with per-list thetas")


class SubjectBlocks(NamedTuple):
    """Lists laid out by subject for :func:`blocked_loglik` (built by :func:`subject_blocks`):
    ``index`` ``(S, M)`` the data rows of every subject's lists (``-1`` pads subjects
    with fewer than ``M`` lists) and ``n_steps`` (static) the largest number of recalls
    plus one (the recall scan's length)."""

    index: np.ndarray
    n_steps: int


def subject_blocks(group: np.ndarray, recalls: np.ndarray, n_subjects: int,
                   L: int) -> SubjectBlocks:
    """The :class:`SubjectBlocks` of concrete ``group`` ``(n,)`` and ``recalls`` ``(n, L)``."""
    group = np.asarray(group)
    per = [np.flatnonzero(group == s) for s in range(n_subjects)]
    index = np.full((n_subjects, max(len(ix) for ix in per)), -1, dtype=np.int32)
    for s, ix in enumerate(per):
        index[s, :len(ix)] = ix
    n_rec = (np.asarray(recalls) > 0).sum(axis=1)
    return SubjectBlocks(index, min(int(n_rec.max(initial=0)) + 1, L + 1))


def blocked_loglik(thetas: jax.Array, blocks: SubjectBlocks, recalls: jax.Array,
                   sqrt_m: jax.Array, *, variant: Variant, L: int) -> jax.Array:
    """:func:`grouped_loglik` on a :class:`SubjectBlocks` layout: ``(n,)``, equal to it.

    The lists of one subject share its study state: no per-list copy of MFC/MCF, and the
    support of all of a subject's lists is one matrix product (Morton2013 hierarchical
    gradient, float32: ~2x faster than :func:`grouped_loglik`; benchmark ``cmr_sample``).
    Splitting the lists by number of recalls into shorter scans was measured slower.
    """
    return _blocked(thetas, jnp.asarray(blocks.index), recalls, sqrt_m,
                    n_steps=blocks.n_steps, variant=variant, L=L)


@partial(jax.jit, static_argnames=("n_steps", "variant", "L"))
def _blocked(thetas, index, recalls, sqrt_m, *, n_steps, variant, L):
    _no_features(variant)
    n = recalls.shape[0]
    states = _subject_states(thetas, sqrt_m, variant, L)
    rec = jnp.where((index >= 0)[..., None], recalls[jnp.maximum(index, 0)], 0)  # (S, M, L)

    def subject(th, st, rs):
        return _shared_study_lists(unpack(th, variant), variant, L, st, rs, n_steps)

    vals = jax.vmap(subject)(thetas, states, rec)                             # (S, M)
    out = jnp.zeros(n, vals.dtype)
    return out.at[jnp.where(index >= 0, index, n).ravel()].set(vals.ravel(), mode="drop")


def subject_loglik(theta: jax.Array, recalls: jax.Array, features: dict, mask: jax.Array,
                   sqrt_m: jax.Array, *, variant: Variant, L: int,
                   n_steps: int | None = None) -> jax.Array:
    """Log-likelihood of one subject's lists (a scalar): ``theta`` ``(n_par,)``,
    ``recalls`` ``(M, L)``, ``features`` a dict of ``(M, L)``, ``mask`` ``(M,)`` (``False``
    rows are padding and count 0). The study phase is shared by the lists when the
    variant has no study-event features. Vmapped over subjects it is the sum over each
    subject's lists of :func:`blocked_loglik`; a sampler that moves each subject on its
    own (:mod:`engramlab.cmr.inference.kernels.gibbs`) needs it one subject at a time."""
    p = unpack(theta, variant)
    if variant.per_list_data:
        def one(r, f):
            aux = _list_aux(sqrt_m, f)
            st = study(p, variant, L, aux)
            return jnp.sum(_recall_events(p, variant, L, st, r, n_steps, aux=aux))
        vals = jax.vmap(one)(recalls, features)
    else:
        vals = _shared_study_lists(p, variant, L, study(p, variant, L, {"sqrt_m": sqrt_m}),
                                   recalls, n_steps)
    return jnp.sum(jnp.where(mask, vals, 0.0))


def _shared_study_lists(p: dict, variant: Variant, L: int, state, recalls: jax.Array,
                        n_steps: int | None) -> jax.Array:
    """Log-likelihood of each list of ``recalls`` ``(M, L)`` from one study ``state``
    shared by all of them: ``(M,)``."""
    return jax.vmap(lambda r: jnp.sum(_recall_events(p, variant, L, state, r, n_steps)))(
        recalls)


def _list_aux(sqrt_m, features, i=None) -> dict:
    aux = {"sqrt_m": sqrt_m}
    aux.update(features if i is None else {k: v[i] for k, v in features.items()})
    return aux


def _per_list(variant: Variant, L: int):
    """``f(theta, recalls_row, features_row, sqrt_m) -> log L`` of one list."""
    def f(theta, r, feats, sqrt_m):
        return jnp.sum(trial_logp(theta, r, _list_aux(sqrt_m, feats), variant=variant, L=L))
    return f


@partial(jax.jit, static_argnames=("variant", "L"))
def trials_loglik(theta: jax.Array, recalls: jax.Array, features: dict, sqrt_m: jax.Array,
                  *, variant: Variant, L: int) -> jax.Array:
    """Log-likelihood of each list, ``(n,)``; ``recalls`` ``(n, L)``, ``features`` a dict
    of ``(n, L)`` arrays; ``theta`` ``(n_par,)`` shared or ``(n, n_par)`` per list."""
    f = _per_list(variant, L)
    th_axis = 0 if theta.ndim == 2 else None
    return jax.vmap(f, in_axes=(th_axis, 0, 0, None))(theta, recalls, features, sqrt_m)


@partial(jax.jit, static_argnames=("variant", "L"))
def population_loglik(thetas: jax.Array, recalls: jax.Array, features: dict,
                      sqrt_m: jax.Array, *, variant: Variant, L: int) -> jax.Array:
    """Total log-likelihood for each parameter vector of ``thetas`` ``(P, n_par)``."""
    f = _per_list(variant, L)
    per = jax.vmap(lambda th: jax.vmap(f, in_axes=(None, 0, 0, None))(
        th, recalls, features, sqrt_m))(thetas)
    return jnp.sum(per, axis=1)


def trial_simulate(theta: jax.Array, key: jax.Array, aux: dict, *, variant: Variant,
                   L: int) -> jax.Array:
    """Sample one recall sequence: ``(L,)`` 1-based study positions, 0-padded (``-1``
    where a choice or stop probability was NaN)."""
    p = unpack(theta, variant)
    cs, mfcs, mcfs = study(p, variant, L, aux)
    keys = jax.random.split(key, L)
    assoc = _cue_matrix(variant, p, L, aux)

    def step(carry, xs):
        cs, recallable, active, last = carry
        j, k = xs
        k_stop, k_item = jax.random.split(k)
        cue = None if assoc is None else (assoc[last], j == 0)
        lp, p_stop = _event_probs(variant, p, L, j, cs, mcfs, recallable, cue=cue)
        bad = active & (jnp.isnan(p_stop) | jnp.any(jnp.isnan(lp)))
        active = active & ~(jax.random.uniform(k_stop) < p_stop)
        r = jax.random.categorical(k_item, lp)
        new_cs = _reinstate(variant, p, cs, mfcs, r)
        cs = tuple(jnp.where(active, a, b) for a, b in zip(new_cs, cs, strict=True))
        recallable = jnp.where(active, recallable.at[r].set(False), recallable)
        last = jnp.where(active, r, last)
        # a NaN probability is reported as -1 (the caller raises DivergenceError)
        return (cs, recallable, active, last), jnp.where(bad, -1, jnp.where(active, r + 1, 0))

    _, out = jax.lax.scan(step, (cs, jnp.ones(L, bool), jnp.array(True), jnp.array(0)),
                          (jnp.arange(L), keys))
    return out


@partial(jax.jit, static_argnames=("variant", "L"))
def trials_simulate(theta: jax.Array, keys: jax.Array, features: dict, sqrt_m: jax.Array,
                    *, variant: Variant, L: int) -> jax.Array:
    """Simulate ``len(keys)`` lists (``features`` rows align with keys): ``(n, L)``."""
    def f(k, feats):
        return trial_simulate(theta, k, _list_aux(sqrt_m, feats), variant=variant, L=L)
    return jax.vmap(f)(keys, features)

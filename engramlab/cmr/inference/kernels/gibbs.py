"""NUTS-within-Gibbs for the hierarchical CMR posterior (``sampler="gibbs"``).

The centred hierarchical model (``engramlab.cmr.inference.model.make_model``)::

    mu_k ~ Normal(mu_loc_k, mu_scale_k),  sigma_k ~ HalfNormal(sigma_scale_k),
    z_sk ~ Normal(mu_k, sigma_k),         data_s | z_s ~ CMR likelihood

is sampled by three kinds of moves in turn, each leaving the posterior invariant:

1. **Hyperparameters given** ``z`` (no likelihood evaluations), for each ``k``:

   - ``mu_k | sigma_k, z ~ Normal(m, 1 / q)`` with ``q = 1 / mu_scale^2 + S / sigma^2``,
     ``m = (mu_loc / mu_scale^2 + sum_s z_sk / sigma^2) / q`` (conjugate);
   - ``tau_k = sigma_k^-2 | mu_k, z`` has density
     ``tau^((S - 3) / 2) exp(-tau SS / 2 - 1 / (2 sigma_scale^2 tau))``,
     ``SS = sum_s (z_sk - mu_k)^2`` (a generalised inverse Gaussian): ``n_mh``
     independence Metropolis-Hastings steps from ``Gamma((S - 1) / 2, rate = SS / 2)``
     (the density without the prior's factor), accepted with the ratio of that factor
     ``exp(-1 / (2 sigma_scale^2 tau))``.

2. **Subjects given** ``(mu, sigma)``, which are then independent: one NUTS transition
   per subject (NumPyro's kernel, vmapped; each subject adapts its own step size and
   dense mass matrix during warm-up) on
   ``U_s(y_s) = -log L_s(z_s) - log Normal(z_s | mu, sigma)``, in coordinates that whiten
   the subject's Laplace approximation under the current ``(mu, sigma)``
   (:class:`GibbsKernel`). No trajectory has to follow the funnel between ``sigma`` and
   ``z``, and no subject's difficult geometry sets the others' step size.

3. **Group moves** of each hyperparameter, for each ``k``: ``sigma_k`` scaled by ``e^e``,
   then ``mu_k`` shifted by ``d``, each carrying every subject along, and each a
   Metropolis-Hastings move with one likelihood evaluation (:func:`group_moves`). Moves 1
   and 2 alone mix slowly where the data barely constrain ``z_sk`` (it is then pinned to
   ``mu_k, sigma_k``, and they to it). Two transports of the subjects:

   - **non-centred**: ``z' = mu' + (z - mu) sigma' / sigma`` — exact where a subject's
     likelihood is flat in ``z_sk``;
   - **whitening frame**: each subject's coordinate ``y_s = L_s^-1 (z_s - c_s)`` under the
     current ``(mu, sigma)`` is held fixed, ``z_s' = c_s' + L_s' y_s`` under the proposed
     one (the frame of move 2, :func:`whitening_frame`), with the Jacobian ``prod_s det
     L_s' / det L_s`` in the ratio. A subject then follows the hyperparameters as much as
     its conditional posterior does: fully where its likelihood is flat, not at all where
     its likelihood dominates — so the move is not held back by the well identified
     subjects' likelihood (where that likelihood is Gaussian, the move is a random walk on
     the marginal posterior of ``(mu, sigma)``). The frame starts from the Laplace
     approximation at each subject's unpooled mode, which can misjudge a weakly
     identified parameter's curvature where the chain is; half-way through warm-up it
     is re-estimated from the moments of the subject's draws in the second quarter of
     warm-up (:func:`moment_frame`: the Gaussian likelihood that, under the population
     distribution of those draws, gives that mean and covariance), and the moves'
     scales are adapted again. The subjects' NUTS coordinates (move 2) keep the Laplace
     frame, their dense mass matrices absorbing the difference.

   Each of the ``2 k`` moves has a proposal scale per transport, adapted during warm-up
   towards an acceptance rate of :data:`GROUP_TARGET` (Robbins-Monro on the log scale,
   gain ``(i + 1)^-0.6``), the two transports on alternate iterations. The kept draws use,
   per move, the transport whose adapted scale is larger (the larger move at the same
   acceptance rate); scales and choice are then fixed, so the kept draws come from one
   fixed kernel.

   Every parameter's two moves are made once per iteration, and those of the weakly
   identified parameters :data:`EXTRA_SWEEPS` more times: a parameter is weakly
   identified when its *pooling factor* at the starting hyperparameters, averaged over
   subjects (:func:`pooling_factors`: the prior's share of a subject's precision), is at
   least :data:`WEAK_POOLING`. In the kept draws ``EXTRA_SWEEPS // 2`` of the extra
   sweeps, made after the rest, use the transport not chosen in warm-up (a few subjects
   whose likelihood is flat on one side follow the non-centred transport better than
   the frame the others prefer). Their hyperparameters mix mainly through these moves
   (move 1 is slow when ``z_sk`` is pinned to ``mu_k, sigma_k``), and a move costs one
   likelihood evaluation of all subjects, no gradient; the others' hyperparameters mix
   through move 1 and the subjects' NUTS.

The chain's state is stored in the centred model's unconstrained layout (``mu``,
``log sigma``, ``z``), so draws are post-processed like every other parameterisation;
``potential_energy`` is that of the whole posterior (NumPyro's convention, up to a
constant).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer.hmc import hmc
from numpyro.infer.mcmc import MCMCKernel

from ..laplace import pooling_factors
from .nuts import Kernel, SampleInfo, from_mcmc_kernel

__all__ = ["EXTRA_SWEEPS", "GROUP_TARGET", "WEAK_POOLING", "Frame", "GaussianLikelihood",
           "GibbsKernel", "GibbsSchedule", "GibbsState", "Moments", "SubjectArgs",
           "gibbs_info", "gibbs_kernel", "group_moves", "hyper_energy", "hyper_step",
           "moment_frame", "pooling_factors", "whitening_frame", "z_energy"]

#: acceptance rate the group moves' proposal scales are adapted to during warm-up (the
#: optimum of a one-dimensional random-walk Metropolis move, Roberts & Rosenthal 2001)
GROUP_TARGET = 0.44

#: pooling factor (the prior's mean share of a subject's precision in a parameter, at the
#: starting hyperparameters) from which a parameter counts as weakly identified: its
#: hyperparameters then mix mainly through the group moves, made ``EXTRA_SWEEPS`` more
#: times per iteration (each one likelihood evaluation, no gradient)
WEAK_POOLING = 0.4
EXTRA_SWEEPS = 3

#: the fewest warm-up draws whose moments re-estimate the group moves' frame
#: (:meth:`GibbsKernel.reframe_window`); with a shorter warm-up the Laplace frame stays
REFRAME_MIN_DRAWS = 25


class Frame(NamedTuple):
    """The subjects' coordinates ``z_s = center_s + chol_s y_s``: ``center`` ``(S, k)``,
    ``chol`` ``(S, k, k)`` upper triangular (:func:`whitening_frame`)."""

    center: Any
    chol: Any


class GaussianLikelihood(NamedTuple):
    """A Gaussian approximation of each subject's likelihood in information form,
    ``exp(-z^T B_s z / 2 + h_s^T z)``: ``precision`` ``B`` ``(S, k, k)`` (may be singular),
    ``shift`` ``h`` ``(S, k)`` (``h_s = B_s zhat_s`` for ``Normal(zhat_s, B_s^-1)``)."""

    precision: Any
    shift: Any


class Moments(NamedTuple):
    """Sums over the warm-up draws that re-estimate the group moves' frame
    (:meth:`GibbsKernel.reframe_window`), with ``d = z - zhat``: ``n`` (draws),
    ``sum_d`` ``(S, k)``, ``sum_dd`` ``(S, k, k)`` (``sum d d^T``), ``sum_mu``,
    ``sum_mu2``, ``sum_sigma2`` ``(k,)``."""

    n: Any
    sum_d: Any
    sum_dd: Any
    sum_mu: Any
    sum_mu2: Any
    sum_sigma2: Any


class GibbsSchedule(NamedTuple):
    """What a chain's iteration ``i`` does, fixed at :meth:`GibbsKernel.init`: warm-up for
    ``i < num_warmup``; when ``reframe``, the draws ``reframe_from <= i < reframe_at`` are
    summed into :class:`Moments` and the frame is re-estimated at ``i = reframe_at``
    (integer / boolean scalars, carried in the state rather than set on the kernel)."""

    num_warmup: Any
    reframe: Any
    reframe_from: Any
    reframe_at: Any


class SubjectArgs(NamedTuple):
    """Per-subject arguments of the subjects' NUTS potentials (leading subject axis, the
    model arguments NumPyro's ``hmc`` passes to :meth:`GibbsKernel._potential_gen`):
    ``mu``, ``sigma`` ``(S, k)`` (broadcast), the Laplace frame's ``center`` ``(S, k)``
    and ``chol`` ``(S, k, k)``, and each subject's ``data`` (a pytree)."""

    mu: Any
    sigma: Any
    center: Any
    chol: Any
    data: Any


class _MoveState(NamedTuple):
    """The carry of :func:`group_moves`: ``z`` ``(S, k)``, ``mu``, ``sigma`` ``(k,)``, the
    current ``nll(z)`` and the current frame (:class:`Frame`)."""

    z: Any
    mu: Any
    sigma: Any
    nll_z: Any
    frame: Any


class GibbsState(NamedTuple):
    """One chain's state: ``x`` (the centred model's flat unconstrained vector), the
    hyperparameters, the NUTS state of the whitened subject block, the Gibbs key and the
    whole posterior's potential energy."""

    x: Any
    z: Any
    mu: Any
    sigma: Any
    hmc: Any
    rng_key: Any
    potential_energy: Any
    group_log_step: Any         # (2, 2, k): log proposal scales, [non-centred, whitening
                                # frame] x [scale, shift] moves
    group_accept: Any           # (2, k): the fraction of each group move's proposals
                                # accepted (this step)
    frame: Any                  # GaussianLikelihood: the subjects' likelihood
                                # approximation the frame is built from
                                # (whitening_frame), re-estimated once in warm-up
    moments: Any                # Moments of the warm-up draws the re-estimate uses
    schedule: Any               # GibbsSchedule: warm-up length and re-estimate window

    # NumPyro's field names of an HMC state, for ``extra_fields`` (over the subjects)
    @property
    def diverging(self):                 # any subject's trajectory
        return jnp.any(self.hmc.diverging, axis=-1)

    @property
    def num_steps(self):                 # the longest tree: what the iteration cost
        return jnp.max(self.hmc.num_steps, axis=-1)

    @property
    def accept_prob(self):
        return jnp.mean(self.hmc.accept_prob, axis=-1)

    @property
    def adapt_state(self):
        return _Adapt(jnp.median(self.hmc.adapt_state.step_size, axis=-1))


def hyper_step(key: jax.Array, z: jax.Array, sigma: jax.Array, mu_loc: jax.Array,
               mu_scale: jax.Array, sigma_scale: jax.Array, n_mh: int = 5):
    """Draw ``mu | sigma, z`` exactly, then ``sigma | mu, z`` by ``n_mh`` independence
    Metropolis-Hastings steps (module docstring). ``z`` ``(S, k)``, the rest ``(k,)``;
    returns ``(mu, sigma)``, each ``(k,)``."""
    S = z.shape[0]
    k_mu, k_sig = jax.random.split(key)
    q = 1.0 / mu_scale ** 2 + S / sigma ** 2
    m = (mu_loc / mu_scale ** 2 + jnp.sum(z, axis=0) / sigma ** 2) / q
    mu = m + jax.random.normal(k_mu, m.shape, m.dtype) / jnp.sqrt(q)
    ss = jnp.maximum(jnp.sum((z - mu) ** 2, axis=0), jnp.finfo(z.dtype).tiny)
    c = 0.5 / sigma_scale ** 2

    def mh(tau, key):
        k_prop, k_acc = jax.random.split(key)
        prop = jax.random.gamma(k_prop, 0.5 * (S - 1), tau.shape, tau.dtype) / (0.5 * ss)
        log_r = c / tau - c / prop
        u = jax.random.uniform(k_acc, tau.shape, tau.dtype)
        return jnp.where(jnp.log(u) < log_r, prop, tau), None

    tau, _ = jax.lax.scan(mh, 1.0 / sigma ** 2, jax.random.split(k_sig, n_mh))
    return mu, 1.0 / jnp.sqrt(tau)


def z_energy(z: jax.Array, mu: jax.Array, sigma: jax.Array) -> jax.Array:
    """``-sum_s log Normal(z_s | mu, sigma)`` (without the constant); ``z`` ``(S, k)``."""
    r = (z - mu) / sigma
    return jnp.sum(0.5 * r * r) + z.shape[0] * jnp.sum(jnp.log(sigma))


def hyper_energy(mu: jax.Array, sigma: jax.Array, mu_loc: jax.Array, mu_scale: jax.Array,
                 sigma_scale: jax.Array) -> jax.Array:
    """``-log p(mu) - log p(sigma) - log sigma`` (the last: ``d sigma / d log sigma``), the
    priors ``Normal(mu_loc, mu_scale)`` and ``HalfNormal(sigma_scale)``; all ``(k,)``."""
    r = (mu - mu_loc) / mu_scale
    return jnp.sum(0.5 * r * r + 0.5 * (sigma / sigma_scale) ** 2 - jnp.log(sigma))


def group_moves(key: jax.Array, z: jax.Array, mu: jax.Array, sigma: jax.Array,
                nll_z: jax.Array, nll, frame, mu_loc: jax.Array, mu_scale: jax.Array,
                sigma_scale: jax.Array, step: jax.Array, use_frame: jax.Array | None = None,
                order: Sequence[int] | None = None):
    """For each ``k`` in turn, two Metropolis-Hastings moves of the hyperparameters that
    carry the subjects along in the frame ``frame(mu, sigma) -> Frame(c (S, k), L (S, k,
    k))``
    (``L_s`` upper triangular, ``z_s = c_s + L_s y_s``), or, where ``use_frame`` ``(2,
    k)`` is false, in the non-centred frame ``c_s = mu``, ``L_s = diag(sigma)``:

    - scale: ``sigma_k' = sigma_k e^e``, ``e ~ Normal(0, step[0, k]^2)``;
    - shift: ``mu_k' = mu_k + d``, ``d ~ Normal(0, (step[1, k] sigma_k)^2)``;

    each with ``z_s' = c_s' + L_s' L_s^-1 (z_s - c_s)`` (``y_s`` held fixed). The map is a
    bijection whose inverse is the reverse proposal, so the ratio is
    ``pi(mu', sigma', z') / pi(mu, sigma, z) prod_s det L_s' / det L_s`` with
    ``-log pi = nll(z) + z_energy + hyper_energy`` in ``(mu, log sigma, z)``. With
    ``L_s = diag(sigma)``, ``c_s = mu`` (no likelihood curvature in the frame) these are
    the non-centred moves ``z' = mu + (z - mu) e^e`` and ``z' = z + d``.

    ``nll_z`` = ``nll(z)`` of the current ``z``; ``step`` ``(2, k)`` the proposal
    scales; ``use_frame`` (default: all true) which transport each move uses. One
    likelihood evaluation and one frame per move (the current state's frame is carried).
    ``order``: the parameters whose two moves are made, in turn (default ``0, ..., k -
    1``; an index may repeat). Returns ``(z, mu, sigma, nll_z, accepted)``, ``accepted``
    ``(2, k)``: the fraction of each move's proposals accepted (0 for a parameter not in
    ``order``)."""
    S, k = z.shape
    if use_frame is None:
        use_frame = jnp.ones((2, k), bool)
    eye = jnp.eye(k, dtype=z.dtype)

    def transport(c, L, mu, sigma, use):
        """The frame ``(c, L)``, or the non-centred one where ``use`` is false."""
        return (jnp.where(use, c, jnp.broadcast_to(mu, (S, k))),
                jnp.where(use, L, jnp.broadcast_to(eye * sigma, (S, k, k))))

    def energy(z, mu, sigma, nll_z):
        return (nll_z + z_energy(z, mu, sigma)
                + hyper_energy(mu, sigma, mu_loc, mu_scale, sigma_scale))

    def propose(key, state, mu2, sigma2, use):
        z, mu, sigma, cur = state.z, state.mu, state.sigma, state.nll_z
        fr2 = Frame(*frame(mu2, sigma2))
        c, L = transport(state.frame.center, state.frame.chol, mu, sigma, use)
        c2, L2 = transport(fr2.center, fr2.chol, mu2, sigma2, use)
        y = jax.scipy.linalg.solve_triangular(L, (z - c)[..., None], lower=False)[..., 0]
        z2 = c2 + jnp.einsum("sij,sj->si", L2, y)
        log_det = jnp.sum(jnp.log(jnp.abs(jnp.diagonal(L2, axis1=-2, axis2=-1)))
                          - jnp.log(jnp.abs(jnp.diagonal(L, axis1=-2, axis2=-1))))
        new = nll(z2)
        log_r = energy(z, mu, sigma, cur) - energy(z2, mu2, sigma2, new) + log_det
        ok = jnp.log(jax.random.uniform(key, (), z.dtype)) < log_r
        keep = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b),
                                      _MoveState(z2, mu2, sigma2, new, fr2), state)
        return keep, ok

    def one(state, xs):
        j, key = xs
        k1, k2, k3, k4 = jax.random.split(key, 4)
        mu, sigma = state.mu, state.sigma
        onehot = jax.nn.one_hot(j, k, dtype=z.dtype)
        e = step[0, j] * jax.random.normal(k1, (), z.dtype)
        state, ok_s = propose(k2, state, mu, sigma * jnp.exp(e * onehot), use_frame[0, j])
        mu, sigma = state.mu, state.sigma
        d = step[1, j] * sigma[j] * jax.random.normal(k3, (), z.dtype)
        state, ok_t = propose(k4, state, mu + d * onehot, sigma, use_frame[1, j])
        return state, jnp.stack([ok_s, ok_t])

    order = np.arange(k) if order is None else np.asarray(order, int)
    end, acc = jax.lax.scan(
        one, _MoveState(z, mu, sigma, nll_z, Frame(*frame(mu, sigma))),
        (jnp.asarray(order), jax.random.split(key, order.size)))
    n = np.maximum(np.bincount(order, minlength=k), 1)
    rate = jax.ops.segment_sum(acc.astype(z.dtype), order, k) / n[:, None]      # (k, 2)
    return end.z, end.mu, end.sigma, end.nll_z, rate.T


def whitening_frame(blocks: jax.Array, h: jax.Array, mu: jax.Array, sigma: jax.Array
                    ) -> Frame:
    """The subjects' frame under ``(mu, sigma)``, from a Gaussian approximation of each
    subject's likelihood in information form, ``exp(-y^T B_s y / 2 + h_s^T y)`` (for
    ``Normal(zhat_s, B_s^-1)``: ``h_s = B_s zhat_s``; ``B_s`` may be singular): with
    ``P_s = B_s + diag(sigma^-2)``, ``c_s = P_s^-1 (h_s + mu / sigma^2)`` and ``L_s =
    C_s^-T`` (``P_s = C_s C_s^T``, so ``L_s L_s^T = P_s^-1``; upper triangular), ``z_s =
    c_s + L_s y_s`` is ``Normal(0, I)`` in ``y_s`` when the likelihood is that Gaussian.
    ``blocks`` ``(S, k, k)``, ``h`` ``(S, k)``, ``mu``, ``sigma`` ``(k,)``; returns
    :class:`Frame` ``(c (S, k), L (S, k, k))``."""
    prec = 1.0 / sigma ** 2
    P = blocks + jnp.diag(prec)
    chol_P = jnp.linalg.cholesky(P)                                   # P = C C^T
    rhs = h + mu * prec
    center = jax.scipy.linalg.cho_solve((chol_P, True), rhs[..., None])[..., 0]
    eye = jnp.broadcast_to(jnp.eye(P.shape[-1], dtype=P.dtype), P.shape)
    chol = jnp.swapaxes(jax.scipy.linalg.solve_triangular(chol_P, eye, lower=True), -1, -2)
    return Frame(center, chol)


def moment_frame(mean: jax.Array, cov: jax.Array, prior_mean: jax.Array,
                 prior_var: jax.Array) -> GaussianLikelihood:
    """The Gaussian likelihood approximation, in :func:`whitening_frame`'s information
    form ``(B_s, h_s)``, under which the prior ``Normal(prior_mean, diag(prior_var))``
    gives the posterior ``Normal(mean_s, cov_s)``: ``B_s = cov_s^-1 - diag(1 /
    prior_var)`` with its negative eigenvalues set to 0 (a likelihood adds no negative
    information; where that happens the posterior is wider than the prior, which the
    approximation then leaves as it is), and ``h_s = B_s mean_s + (mean_s - prior_mean)
    / prior_var`` (the frame's centre under the prior is then ``mean_s``). Exact for a
    Gaussian likelihood: ``cov = (B + V^-1)^-1``, ``mean = cov (B zhat + V^-1 m0)`` give
    back ``B`` and ``h = B zhat``. ``mean`` ``(S, k)``, ``cov`` ``(S, k, k)``,
    ``prior_mean``, ``prior_var`` ``(k,)``; returns :class:`GaussianLikelihood` ``(B (S,
    k, k), h (S, k))``."""
    eye = jnp.eye(mean.shape[-1], dtype=mean.dtype)
    prec = jnp.linalg.solve(cov, jnp.broadcast_to(eye, cov.shape))
    B = prec - jnp.diag(1.0 / prior_var)
    w, v = jnp.linalg.eigh(0.5 * (B + jnp.swapaxes(B, -1, -2)))
    B = jnp.einsum("sij,sj,skj->sik", v, jnp.maximum(w, 0.0), v)
    return GaussianLikelihood(B, jnp.einsum("sij,sj->si", B, mean)
                              + (mean - prior_mean) / prior_var)


def _batched(key) -> bool:
    """Whether ``key`` holds one PRNG key per chain (typed or legacy uint32 keys)."""
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    return key.ndim > (0 if typed else 1)


class _Adapt(NamedTuple):
    step_size: Any              # the subjects' median step size


class GibbsKernel(MCMCKernel):
    """NumPyro ``MCMCKernel`` of the moves above; ``init_params``: the subjects' starting
    ``y`` ``(S k,)`` under the starting hyperparameters.

    ``nll(z)``: ``-sum_s log L_s(z_s)`` for ``z`` ``(S, k)``; ``nll_one(z_s, data_s)``: one
    subject's ``-log L_s`` from its slice of ``data`` (a pytree with a leading subject
    axis); ``zhat`` ``(S, k)`` and ``blocks`` ``(S, k, k)``: each subject's likelihood
    mode and Hessian (a Gaussian approximation ``N(zhat_s, B_s^-1)`` of its likelihood);
    ``mu0``, ``sigma0`` ``(k,)``: the hyperparameters the chain starts from;
    ``pack(mu, sigma, z)``: the centred model's flat unconstrained vector.

    **One NUTS chain per subject.** Given ``(mu, sigma)`` the subjects are independent,
    so each makes its own NUTS transition, vmapped: its own step size and dense mass
    matrix (adapted in warm-up), its own tree and acceptance. A subject whose posterior
    lies against the stop rule's cap (see docs/inference.md) then gets a small step
    without shrinking everybody's, and a bad trajectory of one subject no longer cuts
    all the others' short. The vmapped trees run until the longest is built, so an
    iteration costs the longest tree in gradients of all subjects (``num_steps`` reports
    that maximum).

    **Whitening** under the current hyperparameters: with ``P_s = B_s + diag(1 /
    sigma^2)``, ``z_s = P_s^-1 (B_s zhat_s + mu / sigma^2) + L_s y_s``, ``L_s L_s^T =
    P_s^-1`` — the conditional posterior of ``z_s`` is close to ``y_s ~ Normal(0, I)``
    whatever ``sigma`` is (a fixed whitening would be too wide when ``sigma`` is small).
    The map is fixed during each NUTS move (valid for the conditional), and the chain
    carries ``z``, re-expressed in the new coordinates after every hyper move. The group
    moves carry the subjects along in a frame of the same form (:func:`whitening_frame`),
    from the Laplace approximation until half-way through warm-up and from the warm-up
    draws' moments after (``state.frame``; :meth:`reframe_window`, ``reframe=False``
    keeps the Laplace frame)."""

    sample_field = "x"

    def __init__(self, nll, nll_one, data, zhat, blocks, mu0, sigma0, priors: dict, pack,
                 *, target_accept: float, max_tree_depth: int, n_mh: int = 5,
                 extra_sweeps: int = EXTRA_SWEEPS, dense_mass: bool = True,
                 reframe: bool = True):
        self.nll, self.nll_one, self.data = nll, nll_one, data
        self.zhat = zhat
        #: the subjects' Laplace approximation in information form (:func:`whitening_frame`)
        self.laplace = GaussianLikelihood(blocks, jnp.einsum("sij,sj->si", blocks, zhat))
        self.mu0, self.sigma0, self.pack = mu0, sigma0, pack
        self.mu_loc = jnp.asarray(priors["mu_loc"], zhat.dtype)
        self.mu_scale = jnp.asarray(priors["mu_scale"], zhat.dtype)
        self.sigma_scale = jnp.asarray(priors["sigma_scale"], zhat.dtype)
        self.target_accept, self.max_tree_depth, self.n_mh = (target_accept,
                                                              max_tree_depth, n_mh)
        self.dense_mass, self.reframe = bool(dense_mass), bool(reframe)
        #: each parameter's pooling factor at the starting hyperparameters, averaged
        #: over subjects (:func:`pooling_factors`), ``(k,)``
        self.pooling = np.mean(pooling_factors(blocks, sigma0), axis=0)
        weak = tuple(int(j) for j in np.flatnonzero(self.pooling >= WEAK_POOLING))
        n_other = extra_sweeps // 2
        #: the parameters whose group moves are made each iteration, in turn, ``(chosen
        #: transport, other transport)``: every parameter once and the weakly identified
        #: ones ``extra_sweeps`` times more, ``extra_sweeps // 2`` of them in the
        #: transport not chosen in warm-up
        self.group_orders = (tuple(range(zhat.shape[1])) + weak * (extra_sweeps - n_other),
                             weak * n_other)
        #: starting proposal scale of the group moves (log sigma; mu in units of sigma):
        #: the posterior spread of log sigma and of mu / sigma when the data identify
        #: every subject, adapted in warm-up
        self.group_step = 1.0 / math.sqrt(zhat.shape[0])
        # NumPyro's NUTS on one subject, given its model arguments (SubjectArgs)
        self._init_fn, self._sample_fn = hmc(potential_fn_gen=self._potential_gen,
                                             algo="NUTS")

    @property
    def model(self):            # a potential-only kernel (NumPyro asks)
        return None

    @staticmethod
    def reframe_window(num_warmup: int) -> tuple[int, int] | None:
        """``(a, r)``: the warm-up draws ``a <= i < r`` (the second quarter of warm-up)
        whose moments re-estimate the group moves' frame at iteration ``r`` (half-way,
        leaving the second half to adapt the moves' scales to it); ``None`` when that
        would be fewer than :data:`REFRAME_MIN_DRAWS` draws."""
        a, r = int(num_warmup) // 4, int(num_warmup) // 2
        return (a, r) if r - a >= REFRAME_MIN_DRAWS else None

    def schedule(self, num_warmup: int) -> GibbsSchedule:
        """The :class:`GibbsSchedule` of a chain with ``num_warmup`` warm-up iterations."""
        window = self.reframe_window(num_warmup) if self.reframe else None
        a, r = window if window is not None else (0, 0)
        return GibbsSchedule(jnp.asarray(int(num_warmup)), jnp.asarray(window is not None),
                             jnp.asarray(a), jnp.asarray(r))

    @staticmethod
    def _frame_fn(frame: GaussianLikelihood):
        """``(mu, sigma) -> Frame(center (S, k), chol (S, k, k))``: the whitening from
        ``frame``."""
        return lambda mu, sigma: whitening_frame(frame.precision, frame.shift, mu, sigma)

    def _args(self, mu, sigma) -> SubjectArgs:
        """Per-subject model arguments (leading subject axis) of the NUTS potentials, in
        the subjects' NUTS coordinates (the Laplace frame under ``(mu, sigma)``)."""
        center, chol = whitening_frame(self.laplace.precision, self.laplace.shift, mu, sigma)
        return SubjectArgs(jnp.broadcast_to(mu, center.shape),
                           jnp.broadcast_to(sigma, center.shape), center, chol, self.data)

    def _moments0(self) -> Moments:
        S, k = self.zhat.shape
        dt = self.zhat.dtype
        return Moments(jnp.zeros((), dt), jnp.zeros((S, k), dt), jnp.zeros((S, k, k), dt),
                       jnp.zeros(k, dt), jnp.zeros(k, dt), jnp.zeros(k, dt))

    def _moment_frame(self, moments):
        """The frame matched to the summed draws' moments (:func:`moment_frame`): each
        subject's mean and covariance (shrunk towards its diagonal by ``n / (n + 5)``,
        as NumPyro regularises its mass matrices), under the population's spread over
        those draws, ``mean(mu)`` and ``mean(sigma^2) + var(mu)``."""
        n, sz, szz = moments.n, moments.sum_d, moments.sum_dd
        smu, smu2, ss2 = moments.sum_mu, moments.sum_mu2, moments.sum_sigma2
        n = jnp.maximum(n, 1.0)         # finite where vmap evaluates it unselected
        mean = sz / n
        cov = szz / n - mean[..., :, None] * mean[..., None, :]
        diag = jnp.diagonal(cov, axis1=-2, axis2=-1)
        eye = jnp.eye(diag.shape[-1], dtype=diag.dtype)
        cov = (n * cov + 5.0 * diag[..., None] * eye) / (n + 5.0)
        cov = jnp.where(jnp.all(diag > 0, axis=-1)[:, None, None], cov, eye)
        m_mu = smu / n
        var = jnp.maximum(ss2 / n + jnp.maximum(smu2 / n - m_mu ** 2, 0.0),
                          jnp.finfo(m_mu.dtype).tiny)
        return moment_frame(mean + self.zhat, cov, m_mu, var)

    def _potential_gen(self, mu, sigma, center, chol, data):
        """One subject's ``-log L_s(z_s) - log Normal(z_s | mu, sigma)`` in ``y_s`` ``(k,)``."""
        def potential(y):
            z = center + chol @ y
            return self.nll_one(z, data) + z_energy(z[None], mu, sigma)
        return potential

    def _hyper_energy(self, mu, sigma):
        return hyper_energy(mu, sigma, self.mu_loc, self.mu_scale, self.sigma_scale)

    def init(self, rng_key, num_warmup, init_params, model_args, model_kwargs) -> GibbsState:
        """The chain's first state (NumPyro's ``MCMCKernel.init``; ``model_args`` and
        ``model_kwargs`` are unused). Pure: the warm-up length and the frame's
        re-estimate window go into ``state.schedule``, the kernel is not changed."""
        if _batched(rng_key):
            # several chains at once (chain_method="vectorized"): one key and one
            # start per chain
            return jax.vmap(lambda k, p: self.init(k, num_warmup, p, model_args,
                                                   model_kwargs))(rng_key, init_params)
        k_hmc, k_gibbs = jax.random.split(rng_key)
        S, k = self.zhat.shape
        y = jnp.asarray(init_params, self.zhat.dtype).reshape(S, k)
        mu, sigma = (jnp.asarray(a, self.zhat.dtype) for a in (self.mu0, self.sigma0))
        args = self._args(mu, sigma)

        def one(y_s, a, key):
            return self._init_fn(y_s, num_warmup, target_accept_prob=self.target_accept,
                                 max_tree_depth=self.max_tree_depth,
                                 dense_mass=self.dense_mass, model_args=a,
                                 rng_key=key)

        st = jax.vmap(one)(y, args, jax.random.split(k_hmc, S))
        z = args.center + jnp.einsum("sij,sj->si", args.chol, y)
        dt = self.zhat.dtype
        return GibbsState(self.pack(mu, sigma, z), z, mu, sigma, st, k_gibbs,
                          jnp.sum(st.potential_energy) + self._hyper_energy(mu, sigma),
                          jnp.full((2, 2, k), math.log(self.group_step), dt),
                          jnp.zeros((2, k), dt), self.laplace, self._moments0(),
                          self.schedule(num_warmup))

    def sample(self, state, model_args, model_kwargs) -> GibbsState:
        """One iteration (NumPyro's ``MCMCKernel.sample``): moves 1-3 of the module
        docstring."""
        if _batched(state.rng_key):      # vectorised chains: NumPyro leaves vmap to us
            return jax.vmap(lambda st: self.sample(st, model_args, model_kwargs))(state)
        key, k_h, k_g = jax.random.split(state.rng_key, 3)
        i = state.hmc.i[0]              # iterations done (every subject's NUTS counts them)
        frame, moments, sched = state.frame, state.moments, state.schedule
        # once, in warm-up: the frame of the draws' moments
        frame = jax.lax.cond(sched.reframe & (i == sched.reframe_at), self._moment_frame,
                             lambda _: frame, moments)
        mu, sigma = hyper_step(k_h, state.z, state.sigma, self.mu_loc, self.mu_scale,
                               self.sigma_scale, self.n_mh)
        args = self._args(mu, sigma)
        center, chol = args.center, args.chol
        y = jax.scipy.linalg.solve_triangular(chol, (state.z - center)[..., None],
                                              lower=False)[..., 0]
        pe, grad = jax.vmap(lambda y_s, a: jax.value_and_grad(self._potential_gen(*a))(y_s))(
            y, args)
        st = state.hmc._replace(z=y, potential_energy=pe, z_grad=grad)
        st = jax.vmap(lambda s, a: self._sample_fn(s, model_args=a))(st, args)
        z = center + jnp.einsum("sij,sj->si", chol, st.z)
        warm = i < sched.num_warmup
        log_step = state.group_log_step
        # warm-up adapts both transports on alternate iterations; the kept draws use, per
        # move, the one whose adapted step is larger (the larger move at the same
        # acceptance rate), fixed from then on
        use = jnp.where(warm, jnp.broadcast_to(i % 2 == 1, log_step.shape[1:]),
                        log_step[1] > log_step[0])
        hyp = dict(nll=self.nll, frame=self._frame_fn(frame), mu_loc=self.mu_loc,
                   mu_scale=self.mu_scale, sigma_scale=self.sigma_scale)
        k_g, k_o = jax.random.split(k_g)
        z, mu, sigma, nll_z, acc = group_moves(
            k_g, z, mu, sigma, jnp.sum(st.potential_energy) - z_energy(z, mu, sigma), **hyp,
            step=jnp.exp(jnp.where(use, log_step[1], log_step[0])), use_frame=use,
            order=self.group_orders[0])
        if self.group_orders[1]:        # the other transport (its acceptance not adapted on)
            z, mu, sigma, nll_z, _ = group_moves(
                k_o, z, mu, sigma, nll_z, **hyp,
                step=jnp.exp(jnp.where(use, log_step[0], log_step[1])), use_frame=~use,
                order=self.group_orders[1])
        # Robbins-Monro gain, restarted when the frame is re-estimated
        since = i - jnp.where(sched.reframe & (i >= sched.reframe_at), sched.reframe_at, 0)
        gain = jnp.where(warm, (since + 1.0).astype(log_step.dtype) ** -0.6, 0.0)
        upd = gain * (acc - GROUP_TARGET)
        log_step = jnp.clip(log_step + jnp.stack([jnp.where(use, 0.0, upd),
                                                  jnp.where(use, upd, 0.0)]),
                            math.log(1e-3), math.log(10.0))
        # summed in the re-estimate window only (``on`` is 0 outside it, and always 0
        # when the frame is not re-estimated)
        on = (sched.reframe & (i >= sched.reframe_from)
              & (i < sched.reframe_at)).astype(z.dtype)
        d = z - self.zhat
        moments = jax.tree_util.tree_map(
            lambda m, x: m + on * x, moments,
            Moments(jnp.ones((), z.dtype), d, d[..., :, None] * d[..., None, :], mu, mu * mu,
                    sigma * sigma))
        return GibbsState(self.pack(mu, sigma, z), z, mu, sigma, st, key,
                          nll_z + z_energy(z, mu, sigma) + self._hyper_energy(mu, sigma),
                          log_step, acc, frame, moments, sched)


def gibbs_info(state: GibbsState) -> SampleInfo:
    """The iteration's :class:`~engramlab.cmr.inference.kernels.nuts.SampleInfo` over the
    subjects' NUTS moves: any divergence, the longest tree (what the iteration cost), the
    mean acceptance probability, the median step size; the whole posterior's potential."""
    return SampleInfo(state.diverging, state.num_steps, state.accept_prob,
                      state.adapt_state.step_size, state.potential_energy)


def gibbs_kernel(kernel: GibbsKernel, num_warmup: int) -> Kernel:
    """``kernel`` as a functional :class:`~engramlab.cmr.inference.kernels.nuts.Kernel`
    with ``num_warmup`` warm-up iterations; the position is ``state.x``."""
    return from_mcmc_kernel(kernel, num_warmup, gibbs_info)

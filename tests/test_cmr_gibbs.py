"""NUTS-within-Gibbs (``sampler="gibbs"``): its exact moves against theory.

- ``hyper_step`` (``mu | sigma, z`` conjugate, ``sigma | mu, z`` by independence MH)
  leaves ``p(mu, sigma | z)`` invariant: the marginal moments of many chains equal those
  of the density integrated on a grid;
- ``hyper_step`` + ``group_moves`` + an exact ``z`` draw, on a Gaussian stand-in for the
  likelihood (``z_s`` observed as ``a_s`` with noise ``b``), leave the joint posterior
  invariant: the marginal of ``(mu, sigma)`` equals the closed form
  ``prior(mu, sigma) prod_s Normal(a_s | mu, sigma^2 + b^2)`` integrated on a grid, in
  every frame the moves carry the subjects in (none, exact, wrong);
- in the exact frame a group move's acceptance is the closed-form marginal's ratio;
- the whole kernel (``GibbsKernel``: hyper draws, one NUTS chain per subject in the
  whitened frame, group moves with proposal scales adapted in warm-up) on the stand-in
  with one well and one weakly identified parameter: the same closed-form marginals,
  and larger adapted group moves for the weak parameter;
- on CMR data the kernel's stored ``potential_energy`` is the centred model's NumPyro
  potential at the stored draws (up to one constant).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engramlab.cmr.inference.kernels.gibbs import group_moves, hyper_step

LOC, SCALE, S0 = 0.3, 1.5, 1.0


def _grid_moments(logp, log_sigma=False):
    """Mean and sd of ``mu`` and ``sigma`` (and ``log sigma``) under the density
    ``exp(logp(mu, sigma))`` on a grid."""
    mu = np.linspace(-4, 4, 801)
    sig = np.linspace(1e-3, 4, 800)
    M, G = np.meshgrid(mu, sig, indexing="ij")
    lp = logp(M, G)
    w = np.exp(lp - lp.max())
    w /= w.sum()

    def mean_sd(x):
        m = np.sum(w * x)
        return m, np.sqrt(np.sum(w * x ** 2) - m ** 2)

    out = {"mu": mean_sd(M), "sigma": mean_sd(G)}
    if log_sigma:
        out["log_sigma"] = mean_sd(np.log(G))
    return out


def _prior(M, G):
    return -0.5 * ((M - LOC) / SCALE) ** 2 - 0.5 * (G / S0) ** 2


def _logp_stand_in(M, G, a, b):
    """Closed-form marginal ``log p(mu, sigma | a)`` of the Gaussian stand-in (``z_s``
    observed as ``a_s`` with noise ``b``): prior + ``sum_s log Normal(a_s | mu,
    sigma^2 + b^2)``."""
    v = G ** 2 + b ** 2
    return _prior(M, G) + np.sum(-0.5 * (np.asarray(a)[:, None, None] - M) ** 2 / v
                                 - 0.5 * np.log(v), axis=0)


def _check(draws_mu, draws_sig, ref, n_eff):
    for name, d in (("mu", draws_mu), ("sigma", draws_sig)):
        mean, sd = ref[name]
        se = sd / np.sqrt(n_eff)
        assert abs(d.mean() - mean) < 5 * se, (name, d.mean(), mean, se)
        assert abs(d.std() - sd) < 0.05 * sd + 5 * se, (name, d.std(), sd)


def test_hyper_step_leaves_the_hyper_conditional_invariant():
    z = np.array([0.1, -0.9, 0.4, 1.3, 0.2, -0.3, 0.8])[:, None]          # S = 7, k = 1
    S = z.shape[0]

    def logp(M, G):
        return _prior(M, G) + np.sum(-0.5 * ((z[:, 0, None, None] - M) / G) ** 2
                                     - np.log(G), axis=0)

    ref = _grid_moments(logp)
    a = [jnp.asarray([v]) for v in (LOC, SCALE, S0)]

    def chain(key):
        def step(carry, k):
            mu, sig = hyper_step(k, jnp.asarray(z), carry[1], *a)
            return (mu, sig), (mu[0], sig[0])
        _, out = jax.lax.scan(step, (jnp.zeros(1), jnp.ones(1)), jax.random.split(key, 40))
        return out

    mus, sigs = jax.jit(jax.vmap(chain))(jax.random.split(jax.random.key(0), 3000))
    # keep the last draw of every chain: 3000 independent draws after 39 burn-in steps
    _check(np.asarray(mus[:, -1]), np.asarray(sigs[:, -1]), ref, 3000)
    assert S == 7


#: frames of the group moves (``blocks`` and ``zhat``; ``whitening_frame`` takes ``blocks``
#: and ``h = blocks zhat``), as functions of the stand-in's ``a`` (S, 1) and ``b``: the
#: stand-in's own Gaussian likelihood (exact), a wrong one (curvature and centre off),
#: and the built-in non-centred transport (``use_frame`` false; the blocks are then
#: ignored)
FRAMES = {"exact": lambda a, b: (np.ones_like(a)[:, :, None] / b ** 2, a),
          "wrong": lambda a, b: (np.ones_like(a)[:, :, None] * 7.0 / b ** 2, a + 0.8),
          "non-centred": lambda a, b: (np.ones_like(a)[:, :, None] * 7.0 / b ** 2, a + 0.8)}


@pytest.mark.parametrize("frame", list(FRAMES))
def test_gibbs_moves_leave_the_joint_posterior_invariant(frame):
    """Gaussian stand-in for the likelihood: nll(z) = sum_s (z_s - a_s)^2 / (2 b^2); the
    exact z | mu, sigma draw replaces NUTS; the group moves, in any frame (the Jacobian of
    the transport is in their ratio), must keep the target."""
    from functools import partial

    from engramlab.cmr.inference.kernels.gibbs import whitening_frame

    a_obs = np.array([1.2, 0.4, 1.9, 0.8, 1.1, 1.6])
    b = 0.6
    S = a_obs.size

    ref = _grid_moments(lambda M, G: _logp_stand_in(M, G, a_obs, b))
    A = jnp.asarray(a_obs)[:, None]
    hyp = [jnp.asarray([v]) for v in (LOC, SCALE, S0)]
    blocks, zhat = FRAMES[frame](a_obs[:, None], b)
    fr = partial(whitening_frame, jnp.asarray(blocks),
                 jnp.einsum("sij,sj->si", jnp.asarray(blocks), jnp.asarray(zhat)))
    use = jnp.full((2, 1), frame != "non-centred")

    def nll(z):
        return jnp.sum((z - A) ** 2) / (2 * b ** 2)

    def chain(key):
        def step(carry, k):
            z, mu, sig = carry
            k1, k2, k3 = jax.random.split(k, 3)
            mu, sig = hyper_step(k1, z, sig, *hyp)
            prec = 1 / sig ** 2 + 1 / b ** 2
            mean = (mu / sig ** 2 + A / b ** 2) / prec
            z = mean + jax.random.normal(k2, z.shape) / jnp.sqrt(prec)
            # three rounds, so that a wrong acceptance ratio would dominate the bias
            for kk in jax.random.split(k3, 3):
                z, mu, sig, _, acc = group_moves(kk, z, mu, sig, nll(z), nll, fr, *hyp,
                                                 step=jnp.full((2, 1), 1 / np.sqrt(S)),
                                                 use_frame=use)
            return (z, mu, sig), (mu[0], sig[0], acc)
        init = (A, jnp.zeros(1), jnp.ones(1))
        _, out = jax.lax.scan(step, init, jax.random.split(key, 40))
        return out

    mus, sigs, acc = jax.jit(jax.vmap(chain))(jax.random.split(jax.random.key(1), 3000))
    _check(np.asarray(mus[:, -1]), np.asarray(sigs[:, -1]), ref, 3000)
    rate = np.asarray(acc).mean(axis=(0, 1))                         # (2, 1)
    assert np.all(rate > 0.2) and np.all(rate < 0.99), rate         # the moves do move


def test_group_moves_in_the_exact_frame_are_a_walk_on_the_hyper_marginal():
    """With the frame of an exactly Gaussian likelihood, a group move keeps every
    subject's conditional: its ratio is that of the marginal ``p(mu, sigma | a)`` alone,
    whatever ``z`` is. For a well identified parameter (``b = 0.05``: the likelihood pins
    each ``z_s``) large moves of ``mu`` are then accepted as often as the closed-form
    marginal's ratio says, while the non-centred moves (every ``z_s`` dragged along)
    are mostly rejected."""
    from functools import partial

    from engramlab.cmr.inference.kernels.gibbs import whitening_frame

    a_obs = np.array([1.2, 0.4, 1.9, 0.8, 1.1, 1.6])[:, None]
    b = 0.05
    A = jnp.asarray(a_obs)
    hyp = [jnp.asarray([v]) for v in (LOC, SCALE, S0)]

    def nll(z):
        return jnp.sum((z - A) ** 2) / (2 * b ** 2)

    def log_marginal(mu, sig):
        return _logp_stand_in(np.asarray(mu), np.asarray(sig), a_obs[:, 0], b).item()

    mu, sig = jnp.asarray([1.0]), jnp.asarray([0.6])
    step = jnp.asarray([[1e-9], [0.5]])            # no scale move; shift sd 0.5 sigma
    n = 4000
    keys = jax.random.split(jax.random.key(5), n)
    rates = {}
    for name in ("exact", "non-centred"):
        blocks, zhat = FRAMES[name](a_obs, b)
        fr = partial(whitening_frame, jnp.asarray(blocks),
                 jnp.einsum("sij,sj->si", jnp.asarray(blocks), jnp.asarray(zhat)))
        # z from its exact conditional under (mu, sig)
        prec = 1 / sig ** 2 + 1 / b ** 2
        zs = ((mu / sig ** 2 + A / b ** 2) / prec)[None] + jax.random.normal(
            jax.random.key(6), (n,) + A.shape) / jnp.sqrt(prec)

        def one(key, z, fr=fr, use=jnp.full((2, 1), name == "exact")):
            return group_moves(key, z, mu, sig, nll(z), nll, fr, *hyp, step=step,
                               use_frame=use)

        _, mus, _, _, acc = jax.jit(jax.vmap(one))(keys, zs)
        rates[name] = float(np.mean(np.asarray(acc)[:, 1, 0]))
        if name == "exact":
            # acceptance = E_d min(1, marginal ratio), d ~ Normal(0, (0.5 sigma)^2),
            # by quadrature (binomial sd of the rate ~0.008)
            x = np.linspace(-6, 6, 2001)
            w = np.exp(-0.5 * x ** 2)
            r = [min(1.0, np.exp(log_marginal(1.0 + 0.3 * v, 0.6) - log_marginal(1.0, 0.6)))
                 for v in x]
            expect = float(np.sum(w * np.asarray(r)) / np.sum(w))
            assert abs(rates[name] - expect) < 0.03, (rates[name], expect)
    assert rates["exact"] > 0.5 and rates["exact"] > 4 * rates["non-centred"], rates


def test_gibbs_kernel_targets_the_closed_form_marginals_and_adapts_its_group_moves():
    """``GibbsKernel`` end to end on the Gaussian stand-in ``z_sk`` observed as ``a_sk``
    with noise ``b_k``: parameter 0 well identified (``b = 0.3``), parameter 1 barely
    (``b = 4``: ``z_s1`` is pinned to ``mu_1, sigma_1``; its group moves are made
    ``1 + EXTRA_SWEEPS`` times per iteration). 400 independent chains, 250
    warm-up + 60 fixed-kernel iterations; the last draws' ``(mu_k, sigma_k)`` moments
    must equal the closed form per ``k``; warm-up adapts both transports of the group
    moves, and the kept draws use, for the well identified parameter, the (here exact)
    whitening frame, whose adapted steps are those of a walk on the marginal."""
    from engramlab.cmr.inference.kernels.gibbs import EXTRA_SWEEPS, GROUP_TARGET, GibbsKernel

    a_obs = np.array([[1.2, -0.5], [0.4, 0.9], [1.9, 2.0], [0.8, -1.1], [1.1, 0.3],
                      [1.6, 1.4]])
    b = np.array([0.3, 4.0])
    S, k = a_obs.shape
    A = jnp.asarray(a_obs)

    def nll(z):
        return jnp.sum((z - A) ** 2 / (2 * b ** 2))

    def nll_one(z_s, d):
        return jnp.sum((z_s - d["a"]) ** 2 / (2 * b ** 2))

    blocks = np.broadcast_to(np.diag(1 / b ** 2), (S, k, k))
    pri = {"mu_loc": np.full(k, LOC), "mu_scale": np.full(k, SCALE),
           "sigma_scale": np.full(k, S0)}

    def pack(mu, sigma, z):
        return jnp.concatenate([mu, jnp.log(sigma), z.ravel()])

    kern = GibbsKernel(nll, nll_one, {"a": A}, A, jnp.asarray(blocks), np.zeros(k),
                       np.ones(k), pri, pack, target_accept=0.8, max_tree_depth=3)
    # pooling factor at sigma_0 = 1: the prior's share 1 / (1 / b^2 + 1) of each
    # subject's precision; only the barely identified parameter gets the extra sweeps
    np.testing.assert_allclose(kern.pooling, 1 / (1 / b ** 2 + 1), rtol=1e-6)
    assert kern.group_orders == ((0, 1) + (1,) * (EXTRA_SWEEPS - EXTRA_SWEEPS // 2),
                                 (1,) * (EXTRA_SWEEPS // 2))
    n_chains, warm, keep = 400, 250, 60
    keys = jax.random.split(jax.random.key(3), n_chains)
    y0 = jax.random.normal(jax.random.key(4), (n_chains, S * k))
    state = kern.init(keys, warm, y0, (), {})

    def step(st, _):
        st = kern.sample(st, (), {})
        return st, (st.group_accept, st.group_log_step)

    state, (acc, log_step) = jax.jit(lambda st: jax.lax.scan(step, st, None,
                                                            warm + keep))(state)
    for j in range(k):
        _check(np.asarray(state.mu[:, j]), np.asarray(state.sigma[:, j]),
               _grid_moments(lambda M, G, j=j: _logp_stand_in(M, G, a_obs[:, j], b[j])),
               n_chains)
    # (chains, [non-centred, frame], [scale, shift], k), fixed after warm-up
    step_kept = np.exp(np.asarray(log_step[-1]))
    np.testing.assert_array_equal(np.asarray(log_step[warm]), np.asarray(log_step[-1]))
    # the well identified parameter's z_s are pinned by their likelihood: the non-centred
    # moves drag them along and adapt to small steps, the exact frame leaves each
    # subject's conditional alone and is chosen for the kept draws
    chosen = step_kept[:, 1] > step_kept[:, 0]                     # (chains, 2, k)
    assert chosen[:, :, 0].mean() > 0.9, chosen[:, :, 0].mean(axis=0)
    assert np.median(step_kept[:, 1, 0, 0]) > 1.5 * np.median(step_kept[:, 0, 0, 0])
    # in the exact frame each group move is a random walk on the marginal of (mu_k,
    # log sigma_k), whose scale adapted to 0.44 acceptance is ~2.4 sd of that marginal
    # (Gaussian rule; the log sigma marginal is skewed), for either parameter
    for j in range(k):
        sd_log_sigma = _grid_moments(
            lambda M, G, j=j: _logp_stand_in(M, G, a_obs[:, j], b[j]),
            log_sigma=True)["log_sigma"][1]
        ratio = np.median(step_kept[:, 1, 0, j]) / (2.4 * sd_log_sigma)
        assert 0.6 < ratio < 1.4, (j, ratio, np.median(step_kept[:, 1, 0, j]), sd_log_sigma)
    rate = np.asarray(acc[warm:]).mean(axis=(0, 1))                 # (2, k)
    assert np.all(np.abs(rate - GROUP_TARGET) < 0.15), rate
    # half-way through warm-up the group moves' frame was re-estimated from the draws'
    # moments (moment_frame): it recovers the stand-in's Gaussian likelihood, precision
    # 1 / b^2 and h = a / b^2, up to the approximation's bias (each chain has warm / 4
    # draws; a subject's own data also inform mu, so its marginal is narrower than
    # under a known population: B comes out up to ~30 % high with 6 subjects)
    assert kern.reframe_window(warm) == (warm // 4, warm // 2)
    B, h = (np.asarray(x) for x in state.frame)
    np.testing.assert_allclose(np.median(B[:, :, 0, 0], axis=0), 1 / b[0] ** 2, rtol=0.4)
    np.testing.assert_allclose(np.median(h[:, :, 0] / B[:, :, 0, 0], axis=0), a_obs[:, 0],
                               atol=0.15)
    assert np.all(np.abs(np.median(B[:, :, 1, 1], axis=0) - 1 / b[1] ** 2) < 0.15)
    assert np.all(np.abs(np.median(B[:, :, 0, 1], axis=0)) < 1.0)


def test_gibbs_needs_two_subjects():
    import engramlab.cmr as cmr
    from engramlab.errors import EngramlabError

    df = cmr.load_dataset("Morton2013")
    d = df[df.subject == df.subject.iloc[0]]
    with pytest.raises(EngramlabError, match="gibbs"):
        cmr.sample(d, key=jax.random.key(0), sampler="gibbs", chains=1, draws=2,
                   warmup=2, quiet=True)


def test_pooling_factors_closed_form():
    """``lambda_sk = sigma_k^-2 / (info_sk + sigma_k^-2)`` with ``info_sk`` the Schur
    complement ``(B_s^-1)_kk^-1`` (marginal information, not the diagonal ``B_kk``), and
    ``lambda = 1`` where the likelihood does not depend on the parameter at all."""
    from engramlab.cmr.inference.kernels.gibbs import pooling_factors

    a, c, d = 4.0, 1.5, 2.0
    blocks = np.array([[[a, c], [c, d]], [[a, 0.0], [0.0, 0.0]]])
    sigma = np.array([0.5, 2.0])
    lam = pooling_factors(blocks, sigma)
    info = np.array([[(a * d - c * c) / d, (a * d - c * c) / a], [a, 0.0]])
    prec = 1 / sigma ** 2
    np.testing.assert_allclose(lam, prec / (info + prec), rtol=1e-12)
    assert lam[1, 1] == 1.0


def test_moment_frame_recovers_a_gaussian_likelihood():
    """Closed form: a likelihood ``Normal(zhat_s, B_s^-1)`` under the prior ``Normal(m0,
    diag(v))`` gives the posterior ``cov = (B + V^-1)^-1``, ``mean = cov (B zhat + V^-1
    m0)``; ``moment_frame`` must give back ``B`` and ``h = B zhat``, and then the frame
    under ``(m0, sqrt(v))`` is centred on ``mean`` with ``L L^T = cov``. A posterior wider
    than the prior (negative information) is clipped to ``B = 0``."""
    from engramlab.cmr.inference.kernels.gibbs import moment_frame, whitening_frame

    rng = np.random.default_rng(0)
    S, k = 3, 4
    G = rng.normal(size=(S, k, k))
    B = np.einsum("sij,skj->sik", G, G) + 0.1 * np.eye(k)
    B[2, :, 0] = B[2, 0, :] = 0.0                   # one subject flat in parameter 0
    zhat = rng.normal(size=(S, k))
    m0, v = rng.normal(size=k), rng.uniform(0.5, 2.0, k)
    cov = np.linalg.inv(B + np.diag(1 / v))
    mean = np.einsum("sij,sj->si", cov, np.einsum("sij,sj->si", B, zhat) + m0 / v)
    B_hat, h_hat = moment_frame(jnp.asarray(mean), jnp.asarray(cov), jnp.asarray(m0),
                                jnp.asarray(v))
    np.testing.assert_allclose(np.asarray(B_hat), B, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(h_hat), np.einsum("sij,sj->si", B, zhat),
                               rtol=1e-4, atol=1e-4)
    c, L = whitening_frame(B_hat, h_hat, jnp.asarray(m0), jnp.sqrt(jnp.asarray(v)))
    np.testing.assert_allclose(np.asarray(c), mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.einsum("sij,skj->sik", L, L), cov, rtol=1e-4, atol=1e-4)
    # wider than the prior in every direction: no information at all
    B0, h0 = moment_frame(jnp.asarray(mean[:1]), jnp.asarray(4 * np.diag(v)[None]),
                          jnp.asarray(m0), jnp.asarray(v))
    np.testing.assert_allclose(np.asarray(B0), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(h0), (mean[:1] - m0) / v, atol=1e-5)

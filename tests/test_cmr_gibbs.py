"""NUTS-within-Gibbs (``parameterization="gibbs"``): its exact moves against theory.

- ``hyper_step`` (``mu | sigma, z`` conjugate, ``sigma | mu, z`` by independence MH)
  leaves ``p(mu, sigma | z)`` invariant: the marginal moments of many chains equal those
  of the density integrated on a grid;
- ``hyper_step`` + ``group_moves`` + an exact ``z`` draw, on a Gaussian stand-in for the
  likelihood (``z_s`` observed as ``a_s`` with noise ``b``), leave the joint posterior
  invariant: the marginal of ``(mu, sigma)`` equals the closed form
  ``prior(mu, sigma) prod_s Normal(a_s | mu, sigma^2 + b^2)`` integrated on a grid;
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

from engramlab.cmr._gibbs import group_moves, hyper_step

LOC, SCALE, S0 = 0.3, 1.5, 1.0


def _grid_moments(logp):
    mu = np.linspace(-4, 4, 801)
    sig = np.linspace(1e-3, 4, 800)
    M, G = np.meshgrid(mu, sig, indexing="ij")
    lp = logp(M, G)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    return {"mu": (np.sum(w * M), np.sqrt(np.sum(w * M ** 2) - np.sum(w * M) ** 2)),
            "sigma": (np.sum(w * G), np.sqrt(np.sum(w * G ** 2) - np.sum(w * G) ** 2))}


def _prior(M, G):
    return -0.5 * ((M - LOC) / SCALE) ** 2 - 0.5 * (G / S0) ** 2


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


def test_gibbs_moves_leave_the_joint_posterior_invariant():
    """Gaussian stand-in for the likelihood: nll(z) = sum_s (z_s - a_s)^2 / (2 b^2); the
    exact z | mu, sigma draw replaces NUTS; the group moves must keep the target."""
    a_obs = np.array([1.2, 0.4, 1.9, 0.8, 1.1, 1.6])
    b = 0.6
    S = a_obs.size

    def logp(M, G):
        v = G ** 2 + b ** 2
        return _prior(M, G) + np.sum(-0.5 * (a_obs[:, None, None] - M) ** 2 / v
                                     - 0.5 * np.log(v), axis=0)

    ref = _grid_moments(logp)
    A = jnp.asarray(a_obs)[:, None]
    hyp = [jnp.asarray([v]) for v in (LOC, SCALE, S0)]

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
                z, mu, sig, _, acc = group_moves(kk, z, mu, sig, nll(z), nll, *hyp,
                                                 step=jnp.full((2, 1), 1 / np.sqrt(S)))
            return (z, mu, sig), (mu[0], sig[0], acc)
        init = (A, jnp.zeros(1), jnp.ones(1))
        _, out = jax.lax.scan(step, init, jax.random.split(key, 40))
        return out

    mus, sigs, acc = jax.jit(jax.vmap(chain))(jax.random.split(jax.random.key(1), 3000))
    _check(np.asarray(mus[:, -1]), np.asarray(sigs[:, -1]), ref, 3000)
    rate = np.asarray(acc).mean(axis=(0, 1))                         # (2, 1)
    assert np.all(rate > 0.2) and np.all(rate < 0.99), rate         # the moves do move


def test_gibbs_kernel_targets_the_closed_form_marginals_and_adapts_its_group_moves():
    """``GibbsKernel`` end to end on the Gaussian stand-in ``z_sk`` observed as ``a_sk``
    with noise ``b_k``: parameter 0 well identified (``b = 0.3``), parameter 1 barely
    (``b = 4``: ``z_s1`` is pinned to ``mu_1, sigma_1``). 400 independent chains, 150
    warm-up + 60 fixed-kernel iterations; the last draws' ``(mu_k, sigma_k)`` moments
    must equal the closed form per ``k``, and warm-up must have given the weak
    parameter's scale move a larger proposal than the well identified one's."""
    from engramlab.cmr._gibbs import GROUP_TARGET, GibbsKernel

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
    n_chains, warm, keep = 400, 150, 60
    keys = jax.random.split(jax.random.key(3), n_chains)
    y0 = jax.random.normal(jax.random.key(4), (n_chains, S * k))
    state = kern.init(keys, warm, y0, (), {})

    def step(st, _):
        st = kern.sample(st, (), {})
        return st, (st.group_accept, st.group_log_step)

    state, (acc, log_step) = jax.jit(lambda st: jax.lax.scan(step, st, None,
                                                            warm + keep))(state)
    for j in range(k):
        def logp(M, G, j=j):
            v = G ** 2 + b[j] ** 2
            return _prior(M, G) + np.sum(-0.5 * (a_obs[:, j, None, None] - M) ** 2 / v
                                         - 0.5 * np.log(v), axis=0)

        _check(np.asarray(state.mu[:, j]), np.asarray(state.sigma[:, j]),
               _grid_moments(logp), n_chains)
    step_kept = np.exp(np.asarray(log_step[-1]))                  # (chains, 2, k)
    # fixed after warm-up
    np.testing.assert_array_equal(np.asarray(log_step[warm]), np.asarray(log_step[-1]))
    assert np.median(step_kept[:, 0, 1]) > 2 * np.median(step_kept[:, 0, 0]), step_kept
    rate = np.asarray(acc[warm:]).mean(axis=(0, 1))                 # (2, k)
    assert np.all(np.abs(rate - GROUP_TARGET) < 0.15), rate


def test_gibbs_needs_two_subjects():
    import engramlab.cmr as cmr
    from engramlab.errors import EngramlabError

    df = cmr.load_dataset("Morton2013")
    d = df[df.subject == df.subject.iloc[0]]
    with pytest.raises(EngramlabError, match="gibbs"):
        cmr.sample(d, key=jax.random.key(0), parameterization="gibbs", chains=1, draws=2,
                   warmup=2, quiet=True)


def test_gibbs_vectorized_chains():
    """Two vectorised chains of the Gibbs sampler (NumPyro passes batched keys to init
    and leaves the vmap of sample to the kernel): finite draws inside the bounds with one
    row per chain and subject, finite energies that differ between the chains."""
    import engramlab.cmr as cmr

    df = cmr.load_dataset("Morton2013")
    d = df[df.subject.isin(sorted(df.subject.unique())[:3])]
    d = d[d.list <= d.list.min() + 5]
    free = {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 8.0)}
    idata = cmr.sample(d, key=jax.random.key(1), parameterization="gibbs", free=free,
                       chains=2, draws=6, warmup=6, chain_method="vectorized", quiet=True,
                       check=False)
    v = idata.posterior["choice_sensitivity"].values
    assert v.shape == (2, 6, 3) and np.all(np.isfinite(v))
    assert np.all((v > 0.5) & (v < 8.0))
    lp = idata.sample_stats["lp"].values
    assert np.all(np.isfinite(lp)) and not np.allclose(lp[0], lp[1])
    assert int(idata.sample_stats["n_steps"].min()) >= 1

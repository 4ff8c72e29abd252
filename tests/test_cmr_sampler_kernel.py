"""The sampler's likelihood kernel and preconditioner, against independent computations.

- ``per_subject`` (lists laid out by subject, :func:`engramlab.cmr._model.blocked_loglik`)
  equals ``per_list`` with every list given its subject's vector (the path tested against
  the jaxcmr transcription and cymr), for unequal list counts and scrambled subject order;
- its gradient (rematerialised scan) equals central finite differences;
- float32 scores equal float64 ones to float32 rounding;
- the Laplace preconditioner's Hessian (prior exactly + per-subject likelihood blocks by
  Hessian-vector products) equals ``jax.hessian`` of the whole potential (centred model,
  where the likelihood is linear in the sampled coordinates).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.cmr.inference.sampler import Sampler
from engramlab.cmr.inference.spec import Priors, resolve_spec
from engramlab.errors import ValidationError

FREE3 = {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 8.0),
         "stop_probability_growth": (0.01, 1.0)}


@pytest.fixture(scope="module")
def ragged():
    """Four Morton2013 subjects with 48, 30, 11 and 1 lists, rows shuffled by list."""
    df = cmr.load_dataset("Morton2013")
    subs = sorted(df.subject.unique())[:4]
    keep = []
    for s, n in zip(subs, (48, 30, 11, 1), strict=True):
        d = df[df.subject == s]
        keep.append(d[d.list.isin(sorted(d.list.unique())[:n])])
    return pd.concat(keep[::-1], ignore_index=True)     # subjects not in sorted order


def _random_thetas(ll, n, seed):
    rng = np.random.default_rng(seed)
    base = ll.theta(ll.params_class())
    th = np.tile(base, (n, 1))
    for name, (lo, hi) in ll.params_class.BOUNDS.items():
        if name in ll.names and name not in getattr(ll.params_class, "FLAGS", ()):
            j = ll.names.index(name)
            th[:, j] = rng.uniform(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), n)
    return th


@pytest.mark.parametrize("variant", ["jaxcmr", "paper", "cymr"])
def test_per_subject_equals_per_list(ragged, variant):
    ll = cmr.make_loglik(ragged, variant=variant)
    idx = ll.subject_index
    S = len(ll.subjects)
    with jax.enable_x64(True):
        for seed in range(3):
            th = _random_thetas(ll, S, seed)
            ref = np.asarray(ll.per_list(th[idx]))
            got = np.asarray(ll.per_subject(th))
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-10)
            # a permuted subject numbering scores the same lists the same
            perm = np.array([2, 0, 3, 1])
            inv = np.argsort(perm)
            got_p = np.asarray(ll.per_subject(th[perm], inv[idx]))
            np.testing.assert_allclose(got_p, ref, rtol=1e-12, atol=1e-10)


def test_per_subject_traced_index_falls_back_and_agrees(ragged):
    ll = cmr.make_loglik(ragged)
    idx = ll.subject_index
    with jax.enable_x64(True):
        th = _random_thetas(ll, len(ll.subjects), 7)
        traced = jax.jit(lambda t, i: ll.per_subject(t, i))(jnp.asarray(th), jnp.asarray(idx))
        np.testing.assert_allclose(np.asarray(traced), np.asarray(ll.per_list(th[idx])),
                                   rtol=1e-12)
    with pytest.raises(ValidationError, match="index"):
        ll.per_subject(th, np.full(ll.n_lists, 9))


def test_per_subject_gradient_equals_finite_differences(ragged):
    ll = cmr.make_loglik(ragged)
    S = len(ll.subjects)
    with jax.enable_x64(True):
        th0 = jnp.asarray(_random_thetas(ll, S, 3))
        j = [ll.names.index(n) for n in ("encoding_drift_rate", "choice_sensitivity",
                                         "stop_probability_growth")]

        def f(x):
            return jnp.sum(ll.per_subject(th0.at[:, j].set(x.reshape(S, 3))))

        x0 = th0[:, j].ravel()
        g = np.asarray(jax.grad(f)(x0))
        h = 1e-6
        fd = np.array([(float(f(x0.at[i].add(h))) - float(f(x0.at[i].add(-h)))) / (2 * h)
                       for i in range(x0.size)])
    np.testing.assert_allclose(g, fd, rtol=2e-5, atol=2e-5 * np.abs(fd).max())


def test_float32_scores_equal_float64_to_rounding(ragged):
    ll = cmr.make_loglik(ragged)
    th = _random_thetas(ll, len(ll.subjects), 5)
    with jax.enable_x64(True):
        ref = np.asarray(ll.per_subject(th))
    with jax.enable_x64(False):
        got = np.asarray(ll.per_subject(jnp.asarray(th, jnp.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=2e-5)


def test_laplace_hessian_equals_autodiff_hessian(ragged):
    """Centred model: the potential is the prior plus -sum_s log L_s(z_s), z linear in the
    sampled vector, so the block construction is the exact Hessian."""
    df = ragged[ragged.subject.isin(sorted(ragged.subject.unique())[:3])]
    ll = cmr.make_loglik(df)
    spec = resolve_spec("jaxcmr", FREE3, None)
    pri = Priors().resolve(spec.free)
    idx = ll.subject_index
    with jax.enable_x64(True):
        smp = Sampler(ll, spec, idx, 3, pri, True, parameterization="centered",
                           precondition="laplace", draws=1, warmup=1, target_accept=0.8,
                           max_tree_depth=4)
        full = np.asarray(jax.jit(jax.hessian(lambda f: smp.potential(smp.unravel(f))))(smp.x0))
    np.testing.assert_allclose(smp.hessian, full, rtol=1e-6, atol=1e-6 * np.abs(full).max())
    # the whitening matrix inverts the Hessian with its eigenvalues floored at 0.1:
    # R R^T = V diag(1 / max(w, 0.1)) V^T (always checked: no guard on the data)
    w, v = np.linalg.eigh(0.5 * (smp.hessian + smp.hessian.T))
    assert w.max() > 0.1      # the floor leaves the curved directions alone
    R = np.asarray(smp.root)
    expect = (v / np.maximum(w, 0.1)) @ v.T
    np.testing.assert_allclose(R @ R.T, expect, rtol=0, atol=1e-10 * np.abs(expect).max())
    curved = w > 0.1
    np.testing.assert_allclose(v[:, curved].T @ (R @ R.T) @ smp.hessian @ v[:, curved],
                               np.eye(int(curved.sum())), rtol=0, atol=1e-8)


@pytest.mark.parametrize("variant", ["jaxcmr", "ecmr"])
def test_subject_loglik_equals_the_sum_of_the_subjects_lists(ragged, variant):
    """The per-subject likelihood of the Gibbs sampler (one subject's padded lists) equals
    per_list summed over the subject's lists; a variant with study-event features too."""
    from engramlab.cmr._model import subject_loglik

    d = ragged
    v = cmr.get_variant(variant)
    if v.features:              # a valence in {-1, 0, 1} per pool item, study events
        pool = np.random.default_rng(0).integers(-1, 2, int(ragged.item_index.max()) + 2)
        d = ragged.assign(valence=np.where(ragged.trial_type == "study",
                                           pool[ragged.item_index.clip(lower=0)], np.nan))
    ll = cmr.make_loglik(d, variant=variant)
    idx = ll.subject_index
    S = len(ll.subjects)
    with jax.enable_x64(True):
        th = _random_thetas(ll, S, 11)
        ref = np.bincount(idx, weights=np.asarray(ll.per_list(th[idx])), minlength=S)
        rec, feats, sqrt_m = ll.data
        lay = ll._blocks(np.asarray(idx), np.asarray(rec), S)
        rows = np.maximum(lay.index, 0)
        got = jax.vmap(lambda t, r, f, m: subject_loglik(
            t, r, f, m, sqrt_m, variant=ll.variant, L=ll._prep.L, n_steps=lay.n_steps))(
            jnp.asarray(th), rec[rows], {k: x[rows] for k, x in feats.items()},
            jnp.asarray(lay.index >= 0))
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12)

"""CMR simulation and fitting: sampling matches the likelihood, exact gradients, recovery."""

from __future__ import annotations

from collections import Counter

import jax
import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.errors import ConfigError, EngramlabError

TRUE = cmr.JaxcmrParams(encoding_drift_rate=0.7, start_drift_rate=0.3, recall_drift_rate=0.85,
                        learning_rate=0.3, shared_support=0.05, item_support=0.3,
                        primacy_scale=2.0, primacy_decay=0.5, choice_sensitivity=3.0,
                        stop_probability_scale=0.05, stop_probability_growth=0.3)


@pytest.mark.parametrize("variant,params", [
    ("jaxcmr", TRUE),
    ("cymr", cmr.CymrParams(T=0.3, X1=0.1, X2=0.4, Afc=0.1, Acf=0.1)),
])
def test_simulated_sequence_frequencies_match_likelihood(variant, params):
    """Empirical frequencies of all sequences of a 3-item list vs exp(log-likelihood)."""
    L, n = 3, 20000
    sim = cmr.simulate(params, {"list_length": L, "n_lists": n}, key=jax.random.key(1),
                       variant=variant, pool_size=8)
    arr = cmr.to_arrays(sim)
    counts = Counter(map(tuple, arr.recalls))
    seqs = np.array(sorted(counts))
    m = len(seqs)
    design = cmr.RecallArrays(np.ones(m, int), np.arange(m), np.tile(np.arange(L), (m, 1)),
                              seqs)
    prob = np.exp(cmr.trial_logliks(design, params, variant=variant, pool_size=8))
    freq = np.array([counts[tuple(s)] for s in seqs]) / n
    se = np.sqrt(prob * (1 - prob) / n)
    assert np.all(np.abs(freq - prob) < 5 * se + 1e-4), (freq, prob)


def test_simulation_is_reproducible_and_has_no_repeats():
    a = cmr.simulate(TRUE, {"list_length": 8, "n_lists": 30, "n_subjects": 2},
                     key=jax.random.key(3))
    b = cmr.simulate(TRUE, {"list_length": 8, "n_lists": 30, "n_subjects": 2},
                     key=jax.random.key(3))
    pd.testing.assert_frame_equal(a, b)
    rec = a[a["trial_type"] == "recall"]
    assert not rec.duplicated(["subject", "list", "item"]).any()
    assert set(a["subject"]) == {1, 2}
    with pytest.raises(EngramlabError, match="key"):
        cmr.simulate(TRUE, {"list_length": 8}, key="seed")
    with pytest.raises(EngramlabError, match="list_length"):
        cmr.simulate(TRUE, {"n_lists": 8}, key=jax.random.key(0))


@pytest.mark.parametrize("variant", ["jaxcmr", "paper"])
def test_gradient_matches_finite_differences(variant):
    import jax.numpy as jnp

    sim = cmr.simulate(TRUE, {"list_length": 8, "n_lists": 20}, key=jax.random.key(4))
    loglik = cmr.make_loglik(sim, variant=variant)
    theta = loglik.theta(TRUE)
    with jax.enable_x64(True):
        def f(th):
            return jnp.sum(loglik.per_list(th))

        g = np.asarray(jax.grad(f)(jnp.asarray(theta)))
        h = 1e-6
        fd = [(float(f(jnp.asarray(theta + h * e))) - float(f(jnp.asarray(theta - h * e))))
              / (2 * h) for e in np.eye(len(theta))]
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def recovery_data():
    return cmr.simulate(TRUE, {"list_length": 10, "n_lists": 300}, key=jax.random.key(7))


FREE = {"encoding_drift_rate": (0.3, 0.99), "choice_sensitivity": (0.5, 8.0),
        "stop_probability_scale": (0.005, 0.3)}


@pytest.mark.parametrize("method", ["de", "gradient"])
def test_parameter_recovery(method, recovery_data):
    """Documented tolerance: drift within 0.1, choice sensitivity and stop scale within 35%
    (300 simulated 10-item lists); the fit's log-likelihood is at least the true one's."""
    fixed = {k: v for k, v in TRUE.to_dict().items() if k not in FREE}
    res = cmr.fit(recovery_data, method=method, free=FREE, fixed=fixed, seed=0, popsize=8,
                  maxiter=40, n_starts=2)
    r = res.iloc[0]
    assert abs(r["encoding_drift_rate"] - TRUE.encoding_drift_rate) < 0.1
    assert abs(r["choice_sensitivity"] / TRUE.choice_sensitivity - 1) < 0.35
    assert abs(r["stop_probability_scale"] / TRUE.stop_probability_scale - 1) < 0.35
    true_ll = cmr.log_likelihood(recovery_data, TRUE)
    assert r["logl"] >= true_ll - 1e-6
    assert r["logl"] == pytest.approx(
        cmr.log_likelihood(recovery_data, {k: r[k] for k in TRUE.names()}), rel=1e-10)
    assert r["k"] == 3 and r["method"] == method


def test_fit_subjects_on_dask_and_netcdf(tmp_path):
    import xarray as xr

    sim = cmr.simulate(TRUE, {"list_length": 6, "n_lists": 20, "n_subjects": 2},
                       key=jax.random.key(9))
    fixed = {k: v for k, v in TRUE.to_dict().items() if k != "stop_probability_scale"}
    table = cmr.fit_subjects(sim, method="gradient", free=["stop_probability_scale"],
                             fixed=fixed, n_starts=1, maxiter=30, quiet=True)
    assert list(table["subject"]) == [1, 2]
    for s in (1, 2):
        one = cmr.fit(sim[sim["subject"] == s], method="gradient",
                      free=["stop_probability_scale"], fixed=fixed, n_starts=1, maxiter=30)
        assert table.loc[table["subject"] == s, "logl"].item() == pytest.approx(
            one["logl"].item(), rel=1e-9)
    path = cmr.save_fits(table, tmp_path / "fits.nc")
    ds = xr.open_dataset(path, engine="h5netcdf")
    np.testing.assert_allclose(ds["logl"].values, table["logl"].values)
    ds.close()


def test_fit_spec_errors(recovery_data):
    with pytest.raises(ConfigError, match="B_enc"):
        cmr.fit(recovery_data, free=["B_enc"])
    with pytest.raises(ConfigError, match="also free"):
        cmr.fit(recovery_data, free=["learning_rate"], fixed={"learning_rate": 0.2})
    with pytest.raises(ConfigError, match="bounds"):
        cmr.fit(recovery_data, free={"learning_rate": (0.5, 0.2)})
    with pytest.raises(ConfigError, match="valid range"):
        cmr.fit(recovery_data, free={"learning_rate": (0.0, 2.0)})
    with pytest.raises(EngramlabError, match="method"):
        cmr.fit(recovery_data, method="nelder")


def test_fit_start_is_used_and_fit_subjects_takes_one_start_per_subject():
    """``start=`` is an extra L-BFGS start: with one iteration per run (the runs barely
    move) the fit from a previous estimate ends at that estimate's log L, while the same
    search without it ends far below; a fit table with a ``subject`` column starts each
    subject from its own row."""
    import engramlab.cmr as cmr

    df = cmr.load_dataset("Morton2013")
    df = df[(df.subject <= 2) & (df.list <= 10)]
    free = ["encoding_drift_rate", "recall_drift_rate", "choice_sensitivity"]
    est = cmr.fit_subjects(df, variant="jaxcmr", method="gradient", free=free, quiet=True,
                           warn=False)
    one = df[df.subject == 1]
    quick = dict(variant="jaxcmr", method="gradient", free=free, maxiter=1, n_starts=1,
                 max_rounds=1, warn=False)
    row1 = est[est.subject == 1].drop(columns="subject")
    warm = cmr.fit(one, start=row1, **quick)
    cold = cmr.fit(one, **quick)
    assert warm.logl[0] >= row1.logl.iloc[0] - 1e-6
    assert cold.logl[0] < row1.logl.iloc[0] - 2.0, (cold.logl[0], row1.logl.iloc[0])
    both = cmr.fit_subjects(df, start=est, quiet=True, **quick)
    np.testing.assert_array_less(est.logl.to_numpy() - 1e-6, both.logl.to_numpy())
    with pytest.raises(ConfigError, match="unknown parameter"):
        cmr.fit(one, start={"B_enc": 0.5}, **quick)

"""``engramlab.cmr.inference``: the ``sampler=`` argument (checked apart from
``parameterization=``), the Gibbs kernel's pure ``init`` and typed states, and the
library workflow that ``engramlab cmr sample`` prints."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import engramlab.cmr as cmr
from engramlab.cli import app
from engramlab.cmr.inference import WorkflowResult, load_inference, workflow
from engramlab.cmr.inference.kernels import Kernel, SampleInfo, gibbs_kernel
from engramlab.cmr.inference.kernels.gibbs import (
    GaussianLikelihood,
    GibbsKernel,
    GibbsSchedule,
    Moments,
)
from engramlab.errors import ConfigError, ConvergenceWarning

TRUE = cmr.JaxcmrParams(choice_sensitivity=3.0, stop_probability_scale=0.05,
                        stop_probability_growth=0.3)
FREE = {"choice_sensitivity": (0.5, 8.0)}
FIXED = {k: v for k, v in TRUE.to_dict().items() if k not in FREE}


@pytest.fixture(scope="module")
def data():
    return pd.concat([cmr.simulate(TRUE, {"list_length": 6, "n_lists": n},
                                   key=jax.random.key(s)).assign(subject=s)
                      for s, n in ((1, 4), (2, 6))], ignore_index=True)


def _sample(data, **kw):
    return cmr.sample(data, key=jax.random.key(0), free=FREE, fixed=FIXED, chains=1,
                      draws=2, warmup=1, quiet=True, check=False, **kw)


@pytest.mark.parametrize("bad", ["hmc", "NUTS", "", 3, None])
def test_a_bad_sampler_is_a_config_error_naming_it(data, bad):
    with pytest.raises(ConfigError, match=r"^sampler: expected one of 'nuts', 'gibbs', "
                                          rf"got {bad!r}"):
        _sample(data, sampler=bad)


def test_parameterization_gibbs_points_to_the_sampler_argument(data):
    with pytest.raises(ConfigError, match=r"^parameterization: .*got 'gibbs'.*"
                                          r"sampler='gibbs'.*--sampler gibbs"):
        _sample(data, parameterization="gibbs")
    # sampler and parameterization are independent choices, each checked on its own
    with pytest.raises(ConfigError, match="^sampler: .*hierarchical=False"):
        _sample(data, sampler="gibbs", hierarchical=False)


def test_the_default_sampler_is_nuts_and_is_recorded(data):
    import json

    idata = _sample(data)
    settings = json.loads(idata.posterior.attrs["engramlab_spec"])["settings"]
    assert settings["sampler"] == "nuts" and settings["parameterization"] == "partial"


def test_cli_sampler_option_is_checked(tmp_path, data):
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    res = CliRunner().invoke(app, ["cmr", "sample", "--data", str(path), "--sampler", "x",
                                   "--chains", "1", "--draws", "1", "--warmup", "0",
                                   "--ppc-draws", "0", "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code != 0
    assert "sampler" in (res.stderr + res.stdout + str(res.exception))


def _stand_in_kernel():
    """A Gaussian stand-in likelihood, ``z_s`` observed as ``a_s`` with noise 0.5."""
    a = jnp.asarray([[0.3], [-0.4], [1.1]])
    S, k = a.shape

    def nll(z):
        return jnp.sum((z - a) ** 2 / 0.5)

    def nll_one(z_s, d):
        return jnp.sum((z_s - d["a"]) ** 2 / 0.5)

    pri = {"mu_loc": np.zeros(k), "mu_scale": np.ones(k), "sigma_scale": np.ones(k)}
    return GibbsKernel(nll, nll_one, {"a": a}, a, jnp.broadcast_to(jnp.eye(k) * 2.0,
                                                                   (S, k, k)),
                       np.zeros(k), np.ones(k), pri,
                       lambda mu, sigma, z: jnp.concatenate([mu, jnp.log(sigma), z.ravel()]),
                       target_accept=0.8, max_tree_depth=3)


def test_gibbs_init_is_pure_and_its_state_is_typed():
    kern = _stand_in_kernel()
    before = dict(vars(kern))
    y0 = jnp.zeros(3)
    s1 = kern.init(jax.random.key(1), 200, y0, (), {})
    s2 = kern.init(jax.random.key(1), 40, y0, (), {})
    after = dict(vars(kern))
    assert before.keys() == after.keys() and all(before[k] is after[k] for k in before)
    assert isinstance(s1.frame, GaussianLikelihood) and isinstance(s1.moments, Moments)
    assert isinstance(s1.schedule, GibbsSchedule)
    # each chain carries its own warm-up length and re-estimate window
    assert int(s1.schedule.num_warmup) == 200 and bool(s1.schedule.reframe)
    assert (int(s1.schedule.reframe_from), int(s1.schedule.reframe_at)) == (50, 100)
    assert int(s2.schedule.num_warmup) == 40 and not bool(s2.schedule.reframe)
    # the functional kernel: init / step over the same states, SampleInfo per step
    fk = gibbs_kernel(kern, 40)
    assert isinstance(fk, Kernel)
    st = fk.init(jax.random.key(1), y0)
    st, info = jax.jit(fk.step)(st)
    assert isinstance(info, SampleInfo) and fk.position(st).shape == (5,)
    assert np.isfinite(float(info.potential_energy)) and int(info.num_steps) >= 1


def test_gibbs_kernel_runs_under_numpyro_mcmc():
    from numpyro.infer import MCMC

    kern = _stand_in_kernel()
    mcmc = MCMC(kern, num_warmup=20, num_samples=10, progress_bar=False)
    mcmc.run(jax.random.key(2), init_params=jnp.zeros(3))
    x = np.asarray(mcmc.get_samples())
    assert x.shape == (10, 5) and np.all(np.isfinite(x))


def test_workflow_returns_what_the_cli_prints(tmp_path, data):
    """The command prints and saves what ``workflow`` returns: the same posterior, the
    same diagnostics table and summary line, from the same seed."""
    path = tmp_path / "d.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "run"
    with pytest.warns(ConvergenceWarning):      # 12 draws: the CLI's run warns too
        res = CliRunner().invoke(app, ["cmr", "sample", "--data", str(path), "--free",
                                       "choice_sensitivity=0.5:8", "--chains", "2",
                                       "--draws", "6", "--warmup", "4", "--chain-method",
                                       "sequential", "--ppc-draws", "2", "-q", "--out",
                                       str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(path)
    with pytest.warns(ConvergenceWarning):
        got = workflow(df, key=jax.random.key(0), free={"jaxcmr": FREE},
                       fixed={"jaxcmr": {k: v for k, v in cmr.JaxcmrParams().to_dict().items()
                                         if k not in FREE}},
                       chains=2, draws=6, warmup=4, chain_method="sequential",
                       ppc_draws=2, ppc_key=jax.random.key(1), quiet=True)
    assert isinstance(got, WorkflowResult) and got.comparison is None
    m = got.models["jaxcmr"]
    assert m.ppc is not None and m.point_fit is None
    saved = load_inference(out / "jaxcmr" / "posterior.nc")
    np.testing.assert_array_equal(saved.posterior["choice_sensitivity"].values,
                                  m.idata.posterior["choice_sensitivity"].values)
    att = m.summary
    assert (f"[jaxcmr] max R-hat {att['max_r_hat']:.3f}, min bulk ESS "
            f"{att['min_ess_bulk']:.0f}, min tail ESS {att['min_ess_tail']:.0f}, "
            f"{att['n_divergent']} divergences ({att['n_draws']} draws)") in res.stdout
    assert m.diagnostics.round(4).to_string() in res.stdout
    assert (out / "jaxcmr" / "ppc.png").exists()

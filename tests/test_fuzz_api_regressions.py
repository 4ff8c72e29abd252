"""Issue 14, Python API half: every example of the issue in memory, attractor, softmax and
eeg, and the failures the fuzz suite found, as explicit regression tests."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engramlab.attractor as at
import engramlab.eeg as eeg
import engramlab.softmax as sm
from engramlab._validation import (
    MEMORY_LIMIT_BYTES,
    as_array,
    as_key,
    as_rng,
    check_finite_scalar,
    check_resources,
    memory_limit,
)
from engramlab.errors import (
    ConfigError,
    DataError,
    DivergenceError,
    EngramlabError,
    ResourceError,
    ShapeError,
    ValidationError,
)
from engramlab.memory import LinearMemory, init_mcf

N = 4
XI = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])


@pytest.fixture(autouse=True)
def _limits(monkeypatch):
    # a missing size check must fail fast here, not eat the (shared) machine
    monkeypatch.setenv("ENGRAMLAB_MEMORY_LIMIT", "4GiB")
    monkeypatch.setenv("ENGRAMLAB_WORK_LIMIT", "1e11")


@pytest.fixture(scope="module")
def net():
    return at.AttractorNetwork.zeros(N).imprint(XI, gamma=0.25)


# --------------------------------------------------------------------------- the layer


def test_finiteness_is_checked_after_the_cast_to_the_working_dtype():
    with pytest.raises(ValidationError, match=r"x: .*float32.*overflow"):
        as_array(np.full((2, 2), 1e300), "x")
    with pytest.raises(ValidationError, match=r"beta: .*float32"):
        check_finite_scalar(1e39, "beta")
    with pytest.raises(ValidationError, match="beta"):
        check_finite_scalar(10**400, "beta")
    assert as_array(np.full(2, 1e300), "x", dtype=np.float64).dtype == np.float64
    assert check_finite_scalar(3e38, "beta") == 3e38


def test_resource_limit_default_env_override_and_message(monkeypatch):
    monkeypatch.delenv("ENGRAMLAB_MEMORY_LIMIT")
    monkeypatch.delenv("ENGRAMLAB_WORK_LIMIT")
    import os

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_limit() == MEMORY_LIMIT_BYTES == int(0.8 * ram)   # 80 % of this machine
    with pytest.raises(ResourceError, match=r"n=5: thing would need 1 TiB .*GiB"):
        check_resources("thing", n_bytes=1024 * 2**30, args={"n": 5})
    monkeypatch.setenv("ENGRAMLAB_MEMORY_LIMIT", "1MiB")
    assert memory_limit() == 2**20
    with pytest.raises(ResourceError, match="1 MiB"):
        check_resources("thing", n_bytes=2**21)
    monkeypatch.setenv("ENGRAMLAB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValidationError, match="ENGRAMLAB_MEMORY_LIMIT"):
        memory_limit()
    monkeypatch.setenv("ENGRAMLAB_MEMORY_LIMIT", "1GiB")
    monkeypatch.setenv("ENGRAMLAB_WORK_LIMIT", "1e6")
    with pytest.raises(ResourceError, match="operations"):
        check_resources("thing", n_ops=1e7)


def test_as_key_and_as_rng():
    k = jax.random.key(5)
    assert as_key(k) is k
    assert jnp.array_equal(jax.random.key_data(as_key(5)), jax.random.key_data(k))
    assert jnp.array_equal(jax.random.key_data(as_key(np.int64(5))), jax.random.key_data(k))
    assert as_key(jax.random.PRNGKey(0)).shape == (2,)
    for bad in (None, 1.5, True, "0", 2**64, np.ones(3)):
        with pytest.raises(ValidationError, match="key"):
            as_key(bad)
    with pytest.raises(ShapeError, match="batch"):
        as_key(jax.random.split(k, 3))
    assert isinstance(as_rng(0), np.random.Generator)
    for bad in (-1, 1.5, None, True):
        with pytest.raises(ValidationError, match="seed"):
            as_rng(bad)


def test_divergence_under_jit_is_an_error_if(net):
    from engramlab._integrate import ensure_finite

    f = jax.jit(lambda x: ensure_finite(x * jnp.inf, "thing", {"beta": 2.0}))
    with pytest.raises(Exception, match=r"thing diverged .*beta=2"):
        jax.block_until_ready(f(jnp.ones(2)))


# --------------------------------------------------------------------------- raw exceptions


@pytest.mark.parametrize("fn", [
    lambda k: sm.orthogonal_memories(k, 2, 4), lambda k: sm.random_memories(k, 2, 4),
    lambda k: sm.noisy_targets(k, np.ones((2, 4)), 0.1),
    lambda k: sm.make_stream(k, np.ones((2, 4)), 3), lambda k: sm.binary_patterns(k, 2, 4),
    lambda k: sm.flip_cues(k, np.ones((2, 4)), 0.1),
    lambda k: sm.learn_memories(k, np.ones((2, 4)), n_presentations=1),
    lambda k: sm.run_appendix(k, n_v=4, n_h=2, n_steps=4),
])
def test_softmax_takes_an_int_seed_or_a_key(fn):
    a, b = fn(7), fn(jax.random.key(7))
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    for bad in (None, "0", 1.5):
        with pytest.raises(ValidationError, match="key"):
            fn(bad)


def test_recall_solver_arguments(net):
    with pytest.raises(ValidationError, match="max_steps"):
        net.recall(np.ones(N), solver="tsit5", max_steps=0)
    with pytest.raises(ValidationError, match="rtol"):
        net.recall(np.ones(N), solver="tsit5", rtol=None)
    with pytest.raises(ValidationError, match="atol"):
        net.recall(np.ones(N), solver="dopri5", atol=-1.0)


def test_huge_step_counts(net):
    with pytest.raises(ValidationError, match="n_steps"):
        net.recall(np.ones(N), n_steps=2**63)
    with pytest.raises(ValidationError, match="n_steps"):
        net.simulate(np.ones(N), n_steps=1e9)
    with pytest.raises(ResourceError, match=r"n_steps=2000000000.* GiB"):
        net.simulate(np.ones(N), n_steps=2 * 10**9)


def test_capacity_sweep_empty_memories():
    with pytest.raises(ValidationError, match="n_memories"):
        sm.capacity_sweep(0, n_memories=[])


def test_drive_callable_of_the_wrong_shape(net):
    with pytest.raises(ShapeError, match=r"drive: .*\(4,\).*\(3,\)"):
        net.recall(np.ones(N), drive=lambda t, a: jnp.ones(3))
    with pytest.raises(ShapeError, match="activation"):
        at.AttractorNetwork(np.zeros((N, N)), activation=lambda x: x[:2]).recall(np.ones(N))


def test_load_eeg_empty_or_unreadable_npy(tmp_path):
    p = tmp_path / "e.npy"
    np.save(p, np.zeros(0))
    with pytest.raises(EngramlabError, match="^source: "):  # the file is the argument
        eeg.load_eeg(p, sfreq=100.0)
    p.write_bytes(b"")
    with pytest.raises(DataError, match="not a readable NumPy file"):
        eeg.load_eeg(p, sfreq=100.0)
    q = tmp_path / "e.npz"
    q.write_bytes(b"PK junk")
    with pytest.raises(DataError, match="not a readable NumPy file"):
        eeg.load_eeg(q, sfreq=100.0)


def test_one_channel_eeg_is_refused_before_compare():
    x = np.random.default_rng(0).standard_normal((6, 1, 500))
    with pytest.raises(ShapeError, match="at least 2 channels"):
        eeg.phase_locking(x, sfreq=250.0, labels=["a", "b"] * 3).compare()


# --------------------------------------------------------------------------- silent NaN/inf


def test_float64_values_that_overflow_float32():
    with pytest.raises(ValidationError, match="state"):
        LinearMemory(np.full((3, 3), 1e300))
    with pytest.raises(ValidationError, match="item_support"):
        init_mcf(10, 11, 1e308, 0.05)
    with pytest.raises(ValidationError, match="states"):
        at.overlap(np.full((2, 3), 1e39), np.ones((1, 3)))
    with pytest.raises(DivergenceError, match="overlap"):   # finite inputs, product overflows
        at.overlap(np.full((2, 3), 3e38), np.full((1, 3), 3e38))


def test_unvalidated_functions_now_validate(net):
    with pytest.raises(ValidationError, match="emotion"):
        at.salience(np.nan)
    with pytest.raises(ValidationError, match="noise"):
        sm.noisy_targets(0, np.ones((2, 3)), np.nan)
    with pytest.raises(ValidationError, match="beta"):
        sm.SoftmaxSynapses(beta=-1, tau=0, dt=5, bias=np.nan)
    with pytest.raises(ValidationError, match="tau"):
        sm.SoftmaxSynapses(beta=1.0, tau=0, dt=5, bias=0.0)
    with pytest.raises(ValidationError, match="bias"):
        sm.SoftmaxSynapses(beta=1.0, tau=10.0, dt=1.0, bias=np.nan)
    with pytest.raises(ValidationError, match="states"):
        net.energy(np.full(N, np.nan))


def test_huge_allowed_parameters_raise_divergence_naming_them():
    xi = np.array([[1e8, -1e8, 1e8, 0.0], [1e8, 1e8, -1e8, 0.0]])
    with pytest.raises(DivergenceError, match=r"dam_retrieve .*beta=1e\+30"):
        sm.dam_retrieve(xi, np.array([[1.0, 1.0, -1.0, 0.0], [-1.0, 1.0, 1.0, 0.0]]),
                        beta=1e30)
    with pytest.raises(DivergenceError, match=r"beta"):
        sm.run_appendix(0, beta=1e38, n_v=4, n_h=2, n_steps=8)


def test_jit_recall_that_diverges_raises(net):
    big = at.AttractorNetwork(np.full((N, N), 1e30), tau=1.0, dt=0.5, activation=lambda x: x)
    with pytest.raises(DivergenceError, match=r"attractor recall .*tau=1"):
        big.recall(np.ones(N), n_steps=10)
    with pytest.raises(Exception, match="attractor recall diverged"):
        jax.block_until_ready(jax.jit(lambda c: at.recall(big, c, n_steps=10))(jnp.ones(N)))


# --------------------------------------------------------------------------- sizes


def test_sizes_refused_up_front():
    with pytest.raises(ResourceError, match=r"n_neurons=10000000000000.*TiB"):
        at.AttractorNetwork.zeros(10**13)
    with pytest.raises(ResourceError, match="n_neurons"):
        at.NeuralResonanceSimulator(10**9)          # `attractor demo -n 1000000000`
    with pytest.raises(ResourceError, match="n_neurons"):
        _ = at.AttractorNetwork.zeros(10**6).weights  # a dense view of a huge network
    with pytest.raises(ResourceError, match="n_seeds"):
        sm.run_appendix(0, n_seeds=10**9)           # `softmax theory --seeds 1e9`
    with pytest.raises(ResourceError, match="n_permutations"):
        syn = eeg.synthetic_eeg(seed=0, n_trials=20, n_channels=3)
        eeg.phase_locking(syn.epochs).compare(n_permutations=10**9)  # `eeg plv -n 1e9`


def test_filter_length_of_a_tiny_band_edge_is_refused():
    with pytest.raises(ResourceError, match="FIR"):
        eeg.filter_length(250.0, (1e-9, 40.0))


def test_the_fuzz_findings():
    with pytest.raises(DataError, match="t-SNE"):
        at.tsne_embed(np.zeros((6, N)), perplexity=2.0)
    with pytest.raises(ValidationError, match="ch_names"):
        eeg.load_eeg(np.ones((3, 500)), sfreq=250.0, ch_names=3)
    syn = eeg.synthetic_eeg(seed=0, n_trials=3, n_channels=2, duration=0.5,
                            burst=(0.1, 0.4))
    with pytest.raises(ValidationError, match="pairs"):
        eeg.phase_locking(syn.epochs, band=(40.0, 80.0)).compare(pairs=3)
    with pytest.raises(ValidationError, match="n_trials"):
        eeg.synthetic_eeg(seed=0, plv={"a": 0.5}, n_trials={"b": 3})
    with pytest.raises(ValidationError, match="sem"):
        eeg.trials_for_sem(0.5, 1e-300)
    with pytest.raises(ValidationError, match="kappa"):
        eeg.plv_from_kappa(np.nan)
    with pytest.raises(DataError, match="zeros"):
        sm.similarity(np.zeros((2, 3)), np.ones((2, 3)))


def test_a_huge_simulation_design_is_refused_before_it_is_built():
    """A dict design of 10**9 lists was expanded into its arrays (179 GiB) before any size
    check, so NumPy's MemoryError escaped; it is a ResourceError naming the design's keys."""
    import engramlab.cmr as cmr

    with pytest.raises(ResourceError, match=r"^design\['n_lists'\]=1000000000.*memory"):
        cmr.simulate(cmr.JaxcmrParams(), {"list_length": 24, "n_lists": 10**9}, key=0)


def test_a_misspelled_parameter_name_is_a_config_error_with_the_closest_name():
    """``JaxcmrParams(encoding_drift=0.5)`` was the dataclass's TypeError (the guide says a
    misspelled name is a ConfigError)."""
    import engramlab.cmr as cmr

    with pytest.raises(ConfigError, match=r"^encoding_drift: .*JaxcmrParams.*"
                                          r"'encoding_drift_rate'"):
        cmr.JaxcmrParams(encoding_drift=0.5)
    with pytest.raises(ConfigError, match=r"^JaxcmrParams: expected at most 12 positional"):
        cmr.JaxcmrParams(*([0.5] * 13))
    with pytest.raises(ConfigError, match=r"^encoding_drift_rate: given both"):
        cmr.JaxcmrParams(0.5, encoding_drift_rate=0.5)
    assert cmr.JaxcmrParams(0.4, learning_rate=0.2).encoding_drift_rate == 0.4

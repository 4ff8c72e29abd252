"""LinearMemory, init_mfc, init_mcf: structures, algebra vs NumPy, jit/vmap, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engramlab.errors import EngramlabError, ShapeError, ValidationError
from engramlab.memory import LinearMemory, associate_sequence, init_mcf, init_mfc
from engramlab.typing import Memory


def test_init_mfc_structure():
    n, c, lr = 6, 9, 0.3
    m = np.asarray(init_mfc(n, c, lr).state)
    assert m.shape == (n, c)
    for i in range(n):
        for j in range(c):
            expected = (1 - lr) if j == i + 1 else 0.0
            assert m[i, j] == pytest.approx(expected)
    assert np.all(m[:, 0] == 0)  # start-of-list unit never tied to an item


def test_init_mcf_structure():
    n, c, item_s, shared_s = 5, 8, 0.4, 0.05
    m = np.asarray(init_mcf(n, c, item_s, shared_s).state)
    assert m.shape == (c, n)
    assert np.all(m[0] == 0)  # start-of-list unit has no associations
    for j in range(1, n + 1):
        for i in range(n):
            expected = shared_s + (item_s if i == j - 1 else 0.0)
            assert m[j, i] == pytest.approx(expected)
    assert np.all(m[n + 1 :] == 0)  # extra (e.g. distractor) units start empty


def test_associate_and_probe_match_numpy(rng):
    state = rng.normal(size=(7, 4))
    x_in, x_out, lr = rng.normal(size=7), rng.normal(size=4), 0.37
    mem = LinearMemory(state)
    new = mem.associate(x_in, x_out, lr)
    np.testing.assert_allclose(new.state, state + lr * np.outer(x_in, x_out), rtol=1e-5,
                               atol=1e-6)
    probe_in = rng.normal(size=7)
    np.testing.assert_allclose(new.probe(probe_in), probe_in @ np.asarray(new.state),
                               rtol=1e-5, atol=1e-5)


def test_associate_is_immutable(rng):
    mem = LinearMemory(np.zeros((3, 3)))
    before = np.asarray(mem.state).copy()
    new = mem.associate(np.ones(3), np.ones(3), 1.0)
    np.testing.assert_array_equal(mem.state, before)
    assert new is not mem and float(new.state.sum()) == 9.0
    import dataclasses

    with pytest.raises((AttributeError, dataclasses.FrozenInstanceError)):
        mem.state = jnp.ones((3, 3))


def test_zero_out_row():
    mem = init_mcf(4, 5, 0.3, 0.1).zero_out(2)
    s = np.asarray(mem.state)
    assert np.all(s[2] == 0)
    assert s[1, 0] == pytest.approx(0.4)


def test_memory_protocol():
    assert isinstance(init_mfc(3, 4, 0.5), Memory)
    mem = init_mfc(3, 4, 0.5)
    assert (mem.input_size, mem.output_size) == (3, 4)


def test_notebook_probe_after_one_association():
    item_count, lr = 10, 0.3
    mcf = init_mcf(item_count, item_count + 1, 0.2, 0.05)
    act = np.asarray(mcf.associate(np.eye(11)[1], np.eye(10)[0], lr).probe(np.eye(11)[1]))
    assert int(act.argmax()) == 0
    assert act[0] == pytest.approx(0.2 + 0.05 + lr)
    np.testing.assert_allclose(act[1:], 0.05, rtol=1e-6)


def test_jit_and_vmap_over_1000_memories(rng):
    b, n_in, n_out = 1000, 6, 5
    states = rng.normal(size=(b, n_in, n_out)).astype(np.float32)
    xs_in = rng.normal(size=(b, n_in)).astype(np.float32)
    xs_out = rng.normal(size=(b, n_out)).astype(np.float32)
    lrs = rng.uniform(size=b).astype(np.float32)
    mems = jax.vmap(LinearMemory)(jnp.asarray(states))
    assoc = jax.jit(jax.vmap(lambda m, a, o, lr: m.associate(a, o, lr)))
    out = assoc(mems, xs_in, xs_out, lrs)
    expected = states + lrs[:, None, None] * np.einsum("bi,bj->bij", xs_in, xs_out)
    np.testing.assert_allclose(out.state, expected, rtol=1e-5, atol=1e-5)
    # jit of a single memory equals eager
    m0 = LinearMemory(states[0])
    eager = m0.associate(xs_in[0], xs_out[0], lrs[0]).probe(xs_in[0])
    jitted = jax.jit(lambda m: m.associate(xs_in[0], xs_out[0], lrs[0]).probe(xs_in[0]))(m0)
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-6)


def test_associate_sequence_matches_loop(rng):
    mem = init_mcf(4, 5, 0.2, 0.05)
    xin, xout = rng.normal(size=(4, 5)), rng.normal(size=(4, 4))
    lrs = np.array([0.5, 0.4, 0.3, 0.2])
    final, states = associate_sequence(mem, xin, xout, lrs)
    ref = np.asarray(mem.state, dtype=np.float64)
    np.testing.assert_allclose(states[0], ref, rtol=1e-6)
    for k in range(4):
        ref = ref + lrs[k] * np.outer(xin[k], xout[k])
        np.testing.assert_allclose(states[k + 1], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(final.state, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: LinearMemory(np.zeros((2, 3))).associate(np.ones(3), np.ones(3), 0.1),
         ShapeError, "in_pattern: expected shape (2,)"),
        (lambda: LinearMemory(np.zeros((2, 3))).probe(np.ones(5)), ShapeError, "(2,)"),
        (lambda: LinearMemory(np.zeros((2, 3))).associate(np.array([1.0, np.nan]),
                                                           np.ones(3), 0.1),
         ValidationError, "NaN"),
        (lambda: LinearMemory(np.zeros((2, 3))).associate(np.ones(2), np.ones(3), np.inf),
         ValidationError, "learning_rate"),
        (lambda: LinearMemory(np.full((2, 2), np.inf)), ValidationError, "state"),
        (lambda: LinearMemory(np.zeros(3)), ShapeError, "2-D"),
        (lambda: init_mcf(-3, 5, 0.1, 0.1), ValidationError, "item_count"),
        (lambda: init_mfc(4, 4, 0.1), ValidationError, "context_size"),
        (lambda: init_mfc(4, 5, 1.5), ValidationError, "learning_rate"),
        (lambda: init_mcf(4, 5, "a", 0.1), ValidationError, "item_support"),
        (lambda: LinearMemory(np.zeros((2, 3))).zero_out(7), ValidationError, "index"),
    ],
)
def test_clear_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, EngramlabError)
    assert words in str(info.value)

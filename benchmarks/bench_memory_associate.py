"""LinearMemory: 1000 memories associated in one vmapped+jitted call vs a NumPy loop.

Each of B memories of shape (n_in, n_out) gets ``state + lr * outer(x_in, x_out)`` and
is then probed with ``x_in``; the baseline does the same memory by memory in a Python
loop over NumPy arrays (how the notebook's per-call API would be used).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._harness import result, timeit
from engramlab.memory import LinearMemory


def run(quick: bool = False) -> dict:
    b, n_in, n_out = (1000, 33, 32) if not quick else (200, 33, 32)
    rng = np.random.default_rng(0)
    states = rng.normal(size=(b, n_in, n_out)).astype(np.float32)
    xin = rng.normal(size=(b, n_in)).astype(np.float32)
    xout = rng.normal(size=(b, n_out)).astype(np.float32)
    lrs = rng.uniform(size=b).astype(np.float32)

    @jax.jit
    def ours_fn(states, xin, xout, lrs):
        mems = jax.vmap(LinearMemory)(states)

        def one(m, a, o, lr):
            m = m.associate(a, o, lr)
            return m.state, m.probe(a)

        return jax.vmap(one)(mems, xin, xout, lrs)

    args = tuple(jnp.asarray(a) for a in (states, xin, xout, lrs))

    def baseline():
        out_s, out_p = [], []
        for i in range(b):
            s = states[i] + lrs[i] * np.outer(xin[i], xout[i])
            out_s.append(s)
            out_p.append(xin[i] @ s)
        return np.stack(out_s), np.stack(out_p)

    ref_s, ref_p = baseline()
    got_s, got_p = ours_fn(*args)
    np.testing.assert_allclose(got_s, ref_s, rtol=1e-4, atol=1e-4)
    t_ours = timeit(lambda: ours_fn(*args), repeat=20 if not quick else 5)
    t_base = timeit(baseline, repeat=5 if not quick else 2)
    return result("memory_associate", t_ours["median_s"], t_base["median_s"],
                  "Python loop over NumPy outer/dot, one memory at a time",
                  batch=b, n_in=n_in, n_out=n_out)

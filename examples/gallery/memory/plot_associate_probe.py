"""
Store and recall with a linear associative memory
=================================================

A linear associative memory stores pairs by Hebbian learning,
``M <- M + lr * outer(x_in, x_out)``, and recalls by a dot product, ``y = x_in @ M``.
Here ten random ±1 pairs are stored in a 64 × 64 memory and every stored input is
probed: the recalled output has the sign of the stored one up to crosstalk from the
other pairs.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

from engramlab.memory import LinearMemory, associate_sequence

rng = np.random.default_rng(0)
n, n_pairs = 64, 10
x_in = rng.choice([-1.0, 1.0], size=(n_pairs, n))
x_out = rng.choice([-1.0, 1.0], size=(n_pairs, n))

memory = LinearMemory(np.zeros((n, n)))
memory, states = associate_sequence(memory, x_in, x_out, np.full(n_pairs, 1.0 / n))
recalled = np.asarray(memory.probe(x_in[0]))  # one cue
batch = np.asarray(jax.vmap(memory.probe)(x_in))  # every stored input, one call

bit_errors = np.mean(np.sign(batch) != x_out)
print(f"stored {n_pairs} pairs in a {n}x{n} memory; recall bit error {bit_errors:.3f}")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.5))
ax0.plot(x_out[0], "o", label="stored output", ms=4)
ax0.plot(recalled, ".-", label="recalled (x_in[0] @ M)", lw=0.8)
ax0.set(xlabel="unit", ylabel="value", title="recall of pair 0")
ax0.legend(loc="lower right", fontsize=8)
im = ax1.imshow(batch @ x_out.T / n, cmap="RdBu_r", vmin=-1, vmax=1)
ax1.set(xlabel="stored output", ylabel="probed input", title="overlap of recall with outputs")
fig.colorbar(im, ax=ax1)
fig.tight_layout()
plt.show()

"""
Which memory wins: seed salience vs enhancing salience
======================================================

Three patterns are imprinted into a 200-neuron rate network with emotional weights ``E =
0, 1, 3`` and ``ΔW = gamma * s(E) * xi xi^T`` (``gamma = 1/N``, ``beta = 1``). With the
enhancing salience ``s(E) = exp(+beta E)`` (engramlab's default) the most emotional
memory dominates the weights: it is recalled even from very noisy cues while the others
are not recalled at all. With the seed's literal formula ``exp(-beta E)``
(``salience_fn="seed"``) the *neutral* memory wins, against the seed's own text. Each
point is the fraction of 30 corrupted cues that converge back to the pattern.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import engramlab.attractor as at

n = 200
patterns = at.random_patterns(3, n, key=jax.random.key(0))
emotions = np.array([0.0, 1.0, 3.0])
noise = np.linspace(0.0, 1.0, 6)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for ax, kind in zip(axes, ["exp", "seed"], strict=True):
    success = at.emotion_basin_grid(patterns, emotions, noise, key=jax.random.key(1),
                                    beta=1.0, gamma=1.0 / n, salience_fn=kind, gain=3.0,
                                    trials=30, n_steps=80)
    for e, row in zip(emotions, success, strict=True):
        ax.plot(noise, row, "o-", label=f"E = {e:g}")
    ax.set(title=f'salience_fn="{kind}"', xlabel="cue noise (mix model)")
    print(kind, "success (rows E = 0, 1, 3; columns noise):\n", np.round(success, 2))
axes[0].set_ylabel("retrieval success")
axes[0].legend()
fig.tight_layout()
plt.show()

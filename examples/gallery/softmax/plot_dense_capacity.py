"""
Learned memories as a dense associative memory
==============================================

Memories learned by the softmax rule from noisy presentations of ``K`` random ±1
patterns are used as a dense associative memory, ``v <- Xi^T softmax(beta Xi v)``, and
cued with 10 % of the bits flipped. They keep retrieving far beyond the classical
Hebbian (Hopfield) network, whose capacity is about ``0.14 N_v`` (dotted line).
"""

import jax
import matplotlib.pyplot as plt

import engramlab.softmax as sm
from engramlab.plots.softmax import plot_retrieval_vs_memories

n_v = 64
res = sm.capacity_sweep(jax.random.key(0), n_v=n_v, n_memories=(2, 4, 8, 16, 32),
                        betas=(0.03, 1.0), flips=(0.0, 0.1), n_cues=48)
ax = plot_retrieval_vs_memories(res, flip_index=1, n_v=n_v)
ax.figure.set_size_inches(7, 4.2)
ax.figure.tight_layout()
print({k: v.shape for k, v in res.items() if hasattr(v, "shape")})
plt.show()

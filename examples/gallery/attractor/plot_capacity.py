"""
Storage capacity of the attractor network
=========================================

Random ±1 patterns are imprinted with the Hebbian rule into networks of 100 neurons at
high gain (close to the binary Hopfield network), and each pattern is cued with 5 % of
its bits flipped. Retrieval fails beyond a load ``P/N`` of about 0.14, the classical
Hopfield capacity ``alpha_c ≈ 0.138`` (dashed line).
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import engramlab.attractor as at
from engramlab.plots.attractor import plot_capacity

n = 100
counts = [2, 6, 10, 14, 18, 22, 28]
res = at.capacity_curve(n, counts, key=jax.random.key(0), n_networks=2, n_steps=60)
print("load P/N:", np.round(res["load"], 2))
print("success:", np.round(res["success"], 2))

ax = plot_capacity(res["load"], res["success"], label=f"N = {n}")
ax.figure.set_size_inches(6, 3.6)
ax.figure.tight_layout()
plt.show()

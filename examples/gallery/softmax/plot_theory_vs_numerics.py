"""
Softmax synaptic dynamics against its closed-form theory
========================================================

Four memories ``Xi`` (rows, ``N_v = 50``) learn from a round-robin stream of noisy
targets ``eta = Xi(0) + 0.4 z`` with ``tau dXi/dt = w ⊙ [(-Xi + Lambda) + v^T]``,
``w = softmax(beta Xi v)`` (Lotito 2025, Appendix B: ``beta = 2``, ``tau = 250``).
The memory-target cosine similarity from 2000 Euler steps is compared with the
closed-form relaxation ``S_mu(t)`` of :func:`engramlab.softmax.theory_similarity`.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np

import engramlab.softmax as sm
from engramlab.plots.softmax import plot_similarity_theory

xi0 = sm.orthogonal_memories(jax.random.key(0), 4, 50)
eta = sm.noisy_targets(jax.random.key(1), xi0, 0.4)
v, labels = sm.make_stream(jax.random.key(2), eta, 2000)
traj = sm.simulate(xi0, v, beta=2.0, tau=250.0)
S = np.asarray(sm.similarity(traj, eta))
S_th = np.asarray(sm.theory_similarity(xi0, eta, n_steps=2000, tau=250.0))
print(f"max |numerics - theory| over 2000 steps and 4 memories: {np.abs(S - S_th).max():.1e}")

ax = plot_similarity_theory(S, S_th)
ax.figure.set_size_inches(7, 4)
ax.figure.tight_layout()
plt.show()

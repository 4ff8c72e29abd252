"""Faithful NumPy transcription of seed 000's PyTorch code ("Form is Frozen Resonance").

Line-by-line: ``torch.zeros`` -> ``np.zeros(float32)``, ``torch.outer`` -> ``np.outer``,
``torch.exp`` -> ``np.exp``, ``torch.tanh`` -> ``np.tanh``, ``torch.diag(torch.diag(W))`` ->
``np.diag(np.diag(W))``, ``torch.mean`` -> ``np.mean``. torch's global random generator
(``torch.randn`` / ``torch.randn_like``) is replaced by an injected ``randn(shape)``
callable so tests can feed the same noise to this code and to engramlab. The plotting
calls are left out; the numbers they are drawn from are returned instead. Used only by
tests; nothing here imports engramlab.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


class EmotionalAttractorNetwork:
    def __init__(self, n_neurons=100, dtype=F32):
        self.W = np.zeros((n_neurons, n_neurons), dtype=dtype)  # Plastic weights
        self.tau = 0.1  # Time constant (ms)
        self.dtype = dtype

    def imprint(self, pattern, emotion, β=1.0):
        dW = np.outer(pattern, pattern)
        self.W += (np.exp(self.dtype(-β * emotion)) * dW).astype(self.dtype)

    def recall(self, cue, steps=20):
        r = cue.copy()
        for _ in range(steps):
            r = r + (-r + np.tanh(self.W @ r)) * self.dtype(self.tau)
        return r


class NeuralResonanceSimulator:
    def __init__(self, n_neurons=100, tau=10.0, dtype=F32):
        self.W = np.zeros((n_neurons, n_neurons), dtype=dtype)
        self.tau = tau
        self.n_neurons = n_neurons
        self.dtype = dtype

    def imprint_memory(self, pattern, emotion, β=1.0):
        """Store memory with emotional weighting"""
        assert pattern.shape == (self.n_neurons,)
        dW = np.outer(pattern, pattern)
        self.W += (np.exp(self.dtype(-β * emotion)) * dW).astype(self.dtype)
        self.W -= np.diag(np.diag(self.W))  # No self-connections

    def recall(self, cue, steps=50):
        """Dynamical memory retrieval"""
        r = cue.copy()
        for _ in range(steps):
            r = r + (-r + np.tanh(self.W @ r)) * self.dtype(1 / self.tau)
        return r

    def visualize_attractor_states(self, base_pattern, randn, noise_levels=20):
        """The states the seed's ``visualize_attractor`` hands to t-SNE."""
        perturbations = [base_pattern * self.dtype(1 - n) + randn(self.n_neurons) * self.dtype(n)
                         for n in np.linspace(0, 0.5, noise_levels)]
        return np.stack([self.recall(p) for p in perturbations])


def plot_phase_space_states(simulator, patterns):
    """The recalled states the seed's ``plot_phase_space`` projects with PCA."""
    return np.stack([simulator.recall(p) for p in patterns])


def plot_convergence_curves(simulator, pattern, randn, noise_levels=(0.1, 0.3, 0.5)):
    """The trajectories the seed's ``plot_convergence`` plots (MSE per step 0..29)."""
    out = []
    for noise in noise_levels:
        cue = pattern * pattern.dtype.type(1 - noise) + randn(pattern.shape) * \
            pattern.dtype.type(noise)
        trajectory = []
        for step in range(30):
            r = simulator.recall(cue, steps=step)
            error = np.mean((r - pattern) ** 2)
            trajectory.append(error)
        out.append(trajectory)
    return np.array(out)


def measure_attractor_strength(simulator, pattern, randn, trials=100):
    """Quantify memory stability under noise"""
    successes = 0
    for _ in range(trials):
        noise = randn(pattern.shape) * pattern.dtype.type(0.4)
        retrieved = simulator.recall(pattern + noise)
        if np.mean((retrieved - pattern) ** 2) < 0.1:  # Threshold
            successes += 1
    return successes / trials


def emotion_impact_scan(simulator, pattern, randn, β_range=np.linspace(0.1, 5, 20),
                        n_neurons=100):
    """The seed's scan (``n_neurons`` of the fresh network exposed: the seed hard-codes
    the default 100)."""
    strengths = []
    for β in β_range:
        temp_sim = NeuralResonanceSimulator(n_neurons=n_neurons, dtype=pattern.dtype.type)
        temp_sim.imprint_memory(pattern, emotion=2.0, β=β)
        strengths.append(measure_attractor_strength(temp_sim, pattern, randn))
    return np.array(strengths)

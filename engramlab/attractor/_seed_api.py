"""The seed's own API (seed 000, "Form is Frozen Resonance"), running on our core.

Same names, arguments and defaults as the seed's PyTorch code:

- :class:`EmotionalAttractorNetwork` ``(n_neurons=100)``: ``tau = 0.1`` is the *step
  fraction* ``dt / tau`` of the update ``r += (-r + tanh(W r)) * tau`` (despite the seed's
  "(ms)" comment); ``imprint(pattern, emotion, β=1.0)`` adds ``exp(-β E) p p^T`` **without**
  zeroing the diagonal (as the seed does); ``recall(cue, steps=20)``.
- :class:`NeuralResonanceSimulator` ``(n_neurons=100, tau=10.0)``: update
  ``r += (-r + tanh(W r)) / tau`` (``dt = 1`` ms); ``imprint_memory`` zeroes the diagonal;
  ``recall(cue, steps=50)``; ``visualize_attractor(base_pattern, noise_levels=20)``.
- :func:`measure_attractor_strength`, :func:`emotion_impact_scan`,
  :func:`plot_phase_space`, :func:`plot_convergence`.

Differences: randomness comes from an explicit keyword ``key`` (a JAX key or an int seed,
default 0) instead of torch's global generator; cues may be batches ``(B, N)``; the
functions return their numbers (and figures); ``emotion_impact_scan`` sizes its fresh
network to the pattern (the seed builds a 100-neuron network, so its own example with a
200-neuron pattern fails its assertion).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import (
    as_array,
    check_finite_scalar,
    check_int,
    check_resources,
    check_size,
    nbytes,
    renamed_arguments,
)
from ..errors import ShapeError, ValidationError
from ._metrics import (
    as_key,
    attractor_strength,
    beta_scan,
    convergence_curves,
    pca_project,
    tsne_embed,
)
from ._network import AttractorNetwork, default_float, imprint, recall

__all__ = [
    "EmotionalAttractorNetwork", "NeuralResonanceSimulator", "measure_attractor_strength",
    "emotion_impact_scan", "plot_phase_space", "plot_convergence",
]


def _key(key: Any) -> jax.Array:
    return as_key(0 if key is None else key)


class _SeedNet:
    """Shared machinery: a mutable ``W`` like the seed's, dynamics from our core."""

    _zero_diagonal: bool = True
    _default_steps: int = 50

    def __init__(self, n_neurons: int):
        self.n_neurons = check_size(n_neurons, "n_neurons")
        check_resources("the seed's dense (N, N) weights", n_bytes=3 * nbytes(
            self.n_neurons, self.n_neurons), args={"n_neurons": self.n_neurons})
        self.W = jnp.zeros((self.n_neurons, self.n_neurons), default_float())

    def _tau_dt(self) -> tuple[float, float]:
        raise NotImplementedError

    @property
    def network(self) -> AttractorNetwork:
        """The equivalent core :class:`AttractorNetwork` (``tau``, ``dt`` in ms)."""
        tau, dt = self._tau_dt()
        return AttractorNetwork(self.W, tau=tau, dt=dt)

    def _check_pattern(self, pattern: Any) -> np.ndarray:
        p = as_array(pattern, "pattern", ndim=1)
        if p.shape != (self.n_neurons,):
            raise ShapeError(f"pattern: expected shape ({self.n_neurons},), got {p.shape}")
        return p

    def _imprint(self, pattern: Any, emotion: Any, beta: Any) -> None:
        p = self._check_pattern(pattern)
        e = check_finite_scalar(emotion, "emotion")
        with renamed_arguments(beta="β"):
            self.W = imprint(self.W, p, e, gamma=1.0, beta=beta, salience_fn="seed",
                             zero_diagonal=self._zero_diagonal)

    def _recall(self, cue: Any, steps: Any) -> jax.Array:
        steps = check_int(steps, "steps", min_value=0)
        with renamed_arguments(cues="cue", n_steps="steps"):
            return recall(self.network, cue, n_steps=steps)


class EmotionalAttractorNetwork(_SeedNet):
    """The seed's first network: ``W`` zeros ``(n, n)``, ``tau = 0.1`` (step fraction).

    ``recall`` runs ``r <- r + (-r + tanh(W r)) * tau`` for ``steps`` steps, i.e. our
    dynamics with ``tau = 1`` ms and ``dt = self.tau`` ms.
    """

    _zero_diagonal = False

    def __init__(self, n_neurons: int = 100):
        super().__init__(n_neurons)
        self.tau = 0.1

    def _tau_dt(self) -> tuple[float, float]:
        return 1.0, check_finite_scalar(self.tau, "tau")

    def imprint(self, pattern: Any, emotion: float, β: float = 1.0) -> None:
        """``W += exp(-β emotion) outer(pattern, pattern)`` (diagonal kept, as in the seed)."""
        self._imprint(pattern, emotion, β)

    def recall(self, cue: Any, steps: int = 20) -> jax.Array:
        """Final rates after ``steps`` updates from ``cue`` (``(N,)`` or ``(B, N)``)."""
        return self._recall(cue, steps)


class NeuralResonanceSimulator(_SeedNet):
    """The seed's simulator: ``W`` zeros ``(n, n)``, ``tau`` in ms with ``dt = 1`` ms."""

    def __init__(self, n_neurons: int = 100, tau: float = 10.0):
        super().__init__(n_neurons)
        self.tau = tau
        self.network  # noqa: B018 - validate tau now (tau <= 0 raises, tau <= 1 warns)

    def _tau_dt(self) -> tuple[float, float]:
        return check_finite_scalar(self.tau, "tau"), 1.0

    def imprint_memory(self, pattern: Any, emotion: float, β: float = 1.0) -> None:
        """Store a memory with emotional weighting ``exp(-β emotion)``; zero diagonal."""
        self._imprint(pattern, emotion, β)

    def recall(self, cue: Any, steps: int = 50) -> jax.Array:
        """Final rates after ``steps`` updates ``r += (-r + tanh(W r)) / tau``."""
        return self._recall(cue, steps)

    def visualize_attractor(self, base_pattern: Any, noise_levels: int = 20, *,
                            key: Any = None, ax: Any = None) -> np.ndarray:
        """t-SNE (perplexity 5) of states recalled from ``base (1 - n) + n z`` for
        ``n`` in ``linspace(0, 0.5, noise_levels)``; draws the seed's scatter plot.

        Noise: ``z = jax.random.normal(key, (noise_levels, N))``.
        **Returns:** the embedding ``(noise_levels, 2)``.
        """
        from ..plots.attractor import plot_tsne_basin

        p = self._check_pattern(base_pattern)
        k = check_int(noise_levels, "noise_levels", min_value=7)
        levels = jnp.linspace(0.0, 0.5, k, dtype=self.W.dtype)[:, None]
        z = jax.random.normal(_key(key), (k, self.n_neurons), self.W.dtype)
        states = self.recall(jnp.asarray(p, self.W.dtype) * (1 - levels) + z * levels)
        emb = tsne_embed(np.asarray(states), perplexity=5)
        plot_tsne_basin(emb, np.linspace(0, 1, k), ax=ax)
        return emb


def _resolve(simulator: Any) -> tuple[AttractorNetwork, int]:
    if isinstance(simulator, EmotionalAttractorNetwork):
        return simulator.network, 20
    if isinstance(simulator, NeuralResonanceSimulator):
        return simulator.network, 50
    if isinstance(simulator, AttractorNetwork):
        return simulator, 50
    raise ValidationError(f"simulator: expected a NeuralResonanceSimulator, "
                          f"EmotionalAttractorNetwork or AttractorNetwork, got "
                          f"{type(simulator).__name__}")


def measure_attractor_strength(simulator: Any, pattern: Any, trials: int = 100, *,
                               key: Any = None, noise: float = 0.4,
                               threshold: float = 0.1) -> float:
    """Fraction of ``trials`` recalls from ``pattern + 0.4 z`` with ``MSE < 0.1`` (seed).

    ``simulator.recall``'s default number of steps is used (50 for the simulator, 20 for
    :class:`EmotionalAttractorNetwork`). Noise: ``jax.random.normal(key, (trials, N))``.
    """
    net, steps = _resolve(simulator)
    check_int(trials, "trials", min_value=1)
    with renamed_arguments(patterns="pattern"):
        return attractor_strength(net, pattern, key=_key(key), trials=trials, noise=noise,
                                  threshold=threshold, n_steps=steps)


def emotion_impact_scan(simulator: Any, pattern: Any,
                        β_range: Any = np.linspace(0.1, 5, 20),
                        *, key: Any = None, trials: int = 100, ax: Any = None,
                        plot: bool = True) -> np.ndarray:
    """Attractor strength against β for ``pattern`` imprinted alone (``emotion = 2``) into
    a fresh ``NeuralResonanceSimulator`` (``tau = 10``), with the seed's ``exp(-β E)``.

    As in the seed, ``simulator`` is not used for the dynamics. Noise: for ``k_b`` in
    ``jax.random.split(key, len(β_range))``, ``0.4 * jax.random.normal(k_b, (trials, N))``.
    **Returns:** strengths ``(len(β_range),)``; draws the seed's figure when ``plot``.
    """
    _resolve(simulator)
    b = as_array(β_range, "β_range", ndim=1)
    strengths = beta_scan(pattern, b, key=_key(key), emotion=2.0, salience_fn="seed",
                          gamma=1.0, trials=trials, noise=0.4, threshold=0.1, tau=10.0,
                          dt=1.0, n_steps=50, zero_diagonal=True)
    if plot:
        from ..plots.attractor import plot_beta_scan

        plot_beta_scan(b, strengths, ax=ax)
    return strengths


def plot_phase_space(simulator: Any, patterns: Any, *, ax: Any = None) -> Any:
    """3-D PCA view of the states recalled from ``patterns`` (seed's figure).

    **Returns:** the Figure.
    """
    from ..plots.attractor import plot_phase_space_3d

    net, steps = _resolve(simulator)
    p = as_array(np.stack([np.asarray(x) for x in patterns]) if isinstance(patterns, list | tuple)
                 else patterns, "patterns", ndim=2)
    states = recall(net, p, n_steps=steps)
    proj, _ = pca_project(np.asarray(states), 3)
    ax = plot_phase_space_3d(proj, ax=ax)
    return ax.figure


def plot_convergence(simulator: Any, pattern: Any,
                     noise_levels: Any = (0.1, 0.3, 0.5), *, key: Any = None,
                     ax: Any = None) -> Any:
    """MSE from ``pattern`` after 0..29 steps from ``pattern (1 - n) + n z`` (seed).

    Noise: ``z = jax.random.normal(key, (len(noise_levels), N))``.
    **Returns:** the Figure.
    """
    from ..plots.attractor import plot_convergence_curves

    net, _ = _resolve(simulator)
    levels = list(np.asarray(as_array(noise_levels, "noise_levels", ndim=1)))
    curves = convergence_curves(net, pattern, levels, key=_key(key), n_steps=29)
    ax = plot_convergence_curves(curves, levels, ax=ax)
    return ax.figure

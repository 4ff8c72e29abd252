"""Emotional attractor networks (seed 000, "Form is Frozen Resonance").

Rate dynamics ``tau dr/dt = -r + f(g (W r + I(alpha(t))))``, emotional imprinting
``Delta W = gamma s(E; beta) r r^T`` (zero diagonal; held in the exact factored form
:class:`LowRankWeights` when imprinted from :meth:`AttractorNetwork.zeros`), batched
recall, metrics (overlap, attractor strength, basins, beta scans, capacity, spurious
states) and the seed's own classes and functions (:class:`EmotionalAttractorNetwork`,
:class:`NeuralResonanceSimulator`, ...) running on this core. See ``docs/attractor.md``.
"""

from .._lazy import attach

_NET = "._network"
_MET = "._metrics"
_SEED = "._seed_api"

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "AttractorNetwork": _NET,
        "LowRankWeights": _NET,
        "Trajectory": _NET,
        "salience": _NET,
        "imprint": _NET,
        "recall": _NET,
        "simulate": _NET,
        "SALIENCE_KINDS": _NET,
        "overlap": _MET,
        "cosine_similarity": _MET,
        "mse": _MET,
        "corrupt": _MET,
        "random_patterns": _MET,
        "attractor_strength": _MET,
        "basin_curve": _MET,
        "beta_scan": _MET,
        "emotion_basin_grid": _MET,
        "capacity_curve": _MET,
        "capacity_transition": _MET,
        "classify_states": _MET,
        "state_fractions": _MET,
        "convergence_curves": _MET,
        "pca_project": _MET,
        "tsne_embed": _MET,
        "EmotionalAttractorNetwork": _SEED,
        "NeuralResonanceSimulator": _SEED,
        "measure_attractor_strength": _SEED,
        "emotion_impact_scan": _SEED,
        "plot_phase_space": _SEED,
        "plot_convergence": _SEED,
    },
)

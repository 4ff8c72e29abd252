"""Softmax synaptic dynamics (seed 003; Lotito 2025, "Neural Learning Rules from
Associative Networks Theory", Neurocomputing 636:129865, Appendix B).

``tau_Xi dXi/dt = w ⊙ [(-Xi + Lambda) + v^T]``, ``w = softmax(beta Xi v)``: simulation
(:func:`simulate`), memory-target similarity (:func:`similarity`), the closed-form theory
(:func:`theory_similarity`), the appendix experiment batched over seeds and parameters
(:func:`run_appendix`), input streams and initial memories, and retrieval with the
learned memories as a dense associative memory (:func:`dam_retrieve`,
:func:`capacity_sweep`). See ``docs/softmax.md``.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SoftmaxSynapses": "._dynamics",
        "simulate": "._dynamics",
        "similarity": "._dynamics",
        "softmax_weights": "._dynamics",
        "orthogonal_memories": "._streams",
        "random_memories": "._streams",
        "noisy_targets": "._streams",
        "make_stream": "._streams",
        "win_fractions": "._streams",
        "theory_similarity": "._theory",
        "run_appendix": "._theory",
        "APPENDIX": "._theory",
        "binary_patterns": "._retrieval",
        "flip_cues": "._retrieval",
        "dam_retrieve": "._retrieval",
        "hebbian_retrieve": "._retrieval",
        "retrieval_overlap": "._retrieval",
        "learn_memories": "._retrieval",
        "capacity_sweep": "._retrieval",
    },
)

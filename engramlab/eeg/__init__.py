"""EEG gamma-band phase locking (seed 000's validation protocol) on MNE-Python.

Pipeline: :func:`load_eeg` (MNE Raw/Epochs, files MNE reads, arrays) -> zero-phase FIR
band-pass (:func:`bandpass`, default 30-80 Hz) -> Hilbert phase
(:func:`analytic_phasors`) -> PLV across trials (:func:`plv_across_trials`) and across
time within a trial (:func:`plv_across_time`), PPC / debiased estimators -> condition
statistics (:meth:`PhaseLocking.compare`). :func:`phase_locking` does it in one call.
:func:`synthetic_eeg` simulates data with a known PLV (von Mises phase differences,
``PLV = I1(kappa)/I0(kappa)``); :func:`load_spkit_sample` loads a real 14-channel
recording shipped in the spkit wheel. Per-item encoding measures from study-locked
epochs (:func:`encoding_measures`: band power, single-trial PLV, ERP window mean),
:func:`merge_measures` into a psifr recall frame and the subsequent-memory comparison
(:func:`subsequent_memory`). See docs/eeg.md.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "EEGEpochs": "._data", "EEGContinuous": "._data", "load_eeg": "._data",
        "load_spkit_sample": "._data", "spkit_sample_path": "._data",
        "check_band": "._plv", "filter_length": "._plv", "bandpass": "._plv",
        "analytic_phasors": "._plv", "band_phasors": "._plv", "plv_across_trials": "._plv",
        "plv_across_time": "._plv", "zero_locking_bias": "._plv", "ESTIMATORS": "._plv",
        "plv_from_kappa": "._synth", "kappa_from_plv": "._synth",
        "plv_sampling_sd": "._synth", "trials_for_sem": "._synth",
        "expected_plv": "._synth",
        "synthetic_eeg": "._synth", "SyntheticEEG": "._synth", "SEED_PLV": "._synth",
        "SEED_SEM": "._synth",
        "ConditionComparison": "._stats", "compare_groups": "._stats",
        "jackknife": "._stats", "TimeClusters": "._stats",
        "cluster_permutation_time": "._stats",
        "PhaseLocking": "._pipeline", "phase_locking": "._pipeline",
        "bandpass_filter": "._seed_api", "phase_locking_value": "._seed_api",
        "compute_coherence": "._seed_api",
        "MEASURES": "._encoding", "encoding_measures": "._encoding",
        "merge_measures": "._encoding", "subsequent_memory": "._encoding",
    },
)

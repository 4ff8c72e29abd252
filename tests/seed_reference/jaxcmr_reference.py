"""Independent NumPy transcription of jaxcmr's CMR, eCMR and CMR3 likelihoods (test reference).

Written from a reading of the public package ``githubpsyche/jaxcmr`` (no code copied, nothing
imported from engramlab). Plain NumPy float64, explicit loops; every step names the jaxcmr
file/function it transcribes. jaxcmr itself runs in float32 (JAX default), so agreement with
real jaxcmr output is to float32 precision, not bit-for-bit. See ``JAXCMR_NOTES.md`` for the
departures from the papers and the quirks reproduced here, with the commits read.

Files transcribed (commit read in brackets):

- ``jaxcmr/math.py`` [15e2179]: ``lb``, ``power_scale``, ``normalize_magnitude``,
  ``exponential_primacy_decay``.
- ``jaxcmr/components/context.py`` [1e135c1; same integrate at 5b60863]:
  ``TemporalContext.__init__`` / ``integrate`` / ``init``.
- ``jaxcmr/components/linear_memory.py`` [1e135c1]: ``LinearMemory``, ``init_mfc``, ``init_mcf``.
- ``jaxcmr/components/termination.py`` [1e135c1]: ``PositionalTermination``.
- ``jaxcmr/models/cmr.py`` [1e135c1]: ``CMR`` (with ``learn_after_context_update`` and
  ``allow_repeated_recalls``).
- ``jaxcmr/models/ecmr.py`` [69fff91]: ``eCMR`` + its ``make_factory`` (valence != 0).
- ``jaxcmr/models/cmr3.py`` [69fff91]: ``CMR3`` + its ``make_factory`` (valence < 0 / > 0).
- ``jaxcmr/models/additive_semantic_cmr.py`` [1e135c1] and
  ``jaxcmr/models/multiplicative_semantic_cmr.py`` [1e135c1; same activations at 496ede5]:
  base CMR plus ``msem = connections * semantic_scale`` and their ``activations``;
  ``jaxcmr/components/factory.py`` [1e135c1] ``build_trial_connections`` and
  ``jaxcmr/math.py`` ``cosine_similarity_matrix``.
- ``jaxcmr/loss/sequence_likelihood.py`` [1e135c1]: ``MemorySearchLikelihoodFnGenerator``
  (recall reindexing, ``predict_trial``), ``jaxcmr/helpers.py`` [1e135c1]: ``log_likelihood``,
  ``load_data``, ``save_dict_to_hdf5``.

HDF5 layout (``jaxcmr/helpers.py`` ``save_dict_to_hdf5`` / ``load_data`` at 1e135c1)
----------------------------------------------------------------------------------
One HDF5 group named ``data`` at the file root; one dataset per dict key, named exactly as
the key (``subject``, ``listLength``, ``pres_itemnos``, ``pres_itemids``, ``recalls``,
optional ``valence`` ...), written with h5py defaults (no chunking, no compression, no
attributes) as ``create_dataset(key, data=value.T)``: each array is stored TRANSPOSED, so a
``(n_trials, L)`` field is stored with shape ``(L, n_trials)`` and a ``(n_trials, 1)`` field
(``subject``, ``listLength``) with shape ``(1, n_trials)``. The dtype is whatever the array
had (jaxcmr's own dataset builders, e.g. the CohenKahana2022 loader, use int32 throughout;
``psifr_to_jaxcmr`` below does the same). ``load_data`` reads every dataset under ``/data``,
transposes it back and wraps it in ``jnp.array`` -- with JAX's default x64-off this turns
int64 into int32 and float64 into float32; ``load_like_jaxcmr`` mimics that conversion.
"""

from __future__ import annotations

import h5py
import numpy as np

# jaxcmr/math.py: ``lb = jnp.finfo(jnp.float32).eps`` -- the float32 machine epsilon (2**-23),
# used as a floor in normalisation, activations and the stop-probability cap.
LB = float(np.finfo(np.float32).eps)

MODELS = ("cmr", "ecmr", "cmr3", "semantic-add", "semantic-mult")


# ----------------------------------------------------------------------------- jaxcmr/math.py
def normalize_magnitude(v: np.ndarray) -> np.ndarray:
    """jaxcmr/math.py ``normalize_magnitude``: ``v / sqrt(sum(v**2) + lb)`` (epsilon inside)."""
    return v / np.sqrt(np.sum(v * v) + LB)


def power_scale(value: np.ndarray, scale: float) -> np.ndarray:
    """jaxcmr/math.py ``power_scale``: max-shifted ``exp(scale * (log v - max log v))``.

    Skipped (value returned unchanged) when ``scale == 1`` or every entry is zero. Zero entries
    give ``log 0 = -inf`` and map back to 0. The max shift means the result is ``(v/max v)**tau``
    -- a rescaling that the Luce ratio downstream does not see, except through the ``lb`` that
    jaxcmr adds after this step.
    """
    value = np.asarray(value, dtype=float)
    if not (np.any(value != 0) and scale != 1):
        return value
    with np.errstate(divide="ignore"):
        log_activation = np.log(value)
    return np.exp(scale * (log_activation - np.max(log_activation)))


def exponential_primacy_decay(study_index, primacy_scale: float, primacy_decay: float):
    """jaxcmr/math.py ``exponential_primacy_decay``: ``scale * exp(-decay * i) + 1``."""
    return primacy_scale * np.exp(-primacy_decay * np.asarray(study_index, dtype=float)) + 1.0


# ------------------------------------------------------------ jaxcmr/components/context.py
class TemporalContext:
    """context.py ``TemporalContext``: unit 0 is start-of-list; the state starts at e_0."""

    def __init__(self, size: int):
        # __init__: ``state = zeros.at[0].set(1)``; ``initial_state`` keeps that same vector.
        self.size = size
        self.state = np.zeros(size)
        self.state[0] = 1.0
        self.initial_state = self.state.copy()

    def integrate(self, context_input: np.ndarray, drift_rate: float) -> None:
        """``TemporalContext.integrate`` (in place here; jaxcmr returns a replaced copy)."""
        # 1. the input is normalised first (with the lb epsilon).
        c_in = normalize_magnitude(np.asarray(context_input, dtype=float))
        # 2. rho is computed PER UNIT from the elementwise product state*c_in (not the dot
        #    product of the papers): rho_k = sqrt(1 + B^2((c_k c_in_k)^2 - 1)) - B c_k c_in_k.
        prod = self.state * c_in
        rho = np.sqrt(1.0 + drift_rate**2 * (prod**2 - 1.0)) - drift_rate * prod
        # 3. the mixture is renormalised (again with lb), which is what keeps it ~unit length.
        self.state = normalize_magnitude(rho * self.state + drift_rate * c_in)


def init_context(item_count: int) -> TemporalContext:
    """context.py ``init``: size ``item_count + 1`` (start unit + one per item)."""
    return TemporalContext(item_count + 1)


# ------------------------------------------------------- jaxcmr/components/linear_memory.py
def init_mfc(list_length: int, params: dict, context_size: int) -> np.ndarray:
    """linear_memory.py ``init_mfc``: ``eye(L, K, 1) * (1 - learning_rate)``.

    Item i (0-based) points at context unit i+1 (the offset-1 diagonal skips the start unit).
    """
    return np.eye(list_length, context_size, 1) * (1.0 - params["learning_rate"])


def init_mcf(list_length: int, params: dict, context_size: int) -> np.ndarray:
    """linear_memory.py ``init_mcf``: (K, L) with row 0 (start unit) zero.

    Rows 1..K-1 are filled with ``shared_support`` and then entry (i+1, i) is SET (not added)
    to ``item_support``.
    """
    base = np.full((context_size - 1, list_length), float(params["shared_support"]))
    for i in range(list_length):
        base[i, i] = params["item_support"]
    return np.vstack((np.zeros((1, list_length)), base))


def associate(state: np.ndarray, in_pattern, out_pattern, learning_rate: float) -> np.ndarray:
    """linear_memory.py ``LinearMemory.associate``: ``state + lr * outer(in, out)``."""
    return state + learning_rate * np.outer(in_pattern, out_pattern)


def probe(state: np.ndarray, in_pattern) -> np.ndarray:
    """linear_memory.py ``LinearMemory.probe``: ``dot(in_pattern, state)``."""
    return np.asarray(in_pattern, dtype=float) @ state


# ------------------------------------------------------------------------------- models
class _Model:
    """One trial's state of jaxcmr ``CMR`` / ``eCMR`` / ``CMR3`` (jaxcmr/models/*.py).

    ``valence`` is per study position (as the jaxcmr factories read ``dataset["valence"]``
    row by row); jaxcmr then uses it indexed by ITEM index for the emotional M^FC rows and by
    STUDY index for phi_emot -- identical when pres_itemnos is 1..L, as in every dataset whose
    items do not repeat.
    """

    def __init__(self, model: str, params: dict, list_length: int, valence=None,
                 connections=None):
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        p = params
        L = list_length
        self.model = model
        # CMR.__init__ / eCMR.__init__ / CMR3.__init__: parameters read with [] (required).
        self.encoding_drift_rate = float(p["encoding_drift_rate"])
        self.start_drift_rate = float(p["start_drift_rate"])
        self.recall_drift_rate = float(p["recall_drift_rate"])
        self.mfc_learning_rate = float(p["learning_rate"])
        self.mcf_sensitivity = float(p["choice_sensitivity"])
        self.learn_after_context_update = bool(p["learn_after_context_update"])
        self.allow_repeated_recalls = bool(p["allow_repeated_recalls"])
        self.item_count = L
        self.items = np.eye(L)
        # exponential_primacy_decay(arange(L), ...): CMR's _mcf_learning_rate / eCMR's primacy.
        self.primacy = exponential_primacy_decay(
            np.arange(L), float(p["primacy_scale"]), float(p["primacy_decay"])
        )
        # CMR default create fns: TemporalContext.init, LinearMemory.init_mfc / init_mcf.
        self.context = init_context(L)
        self.mfc = init_mfc(L, p, self.context.size)
        self.mcf = init_mcf(L, p, self.context.size)
        # termination.py PositionalTermination.__init__: scale * exp(arange(L) * growth).
        self.stop_table = float(p["stop_probability_scale"]) * np.exp(
            np.arange(L) * float(p["stop_probability_growth"])
        )
        # Recall state (CMR.__init__).
        self.recallable = np.zeros(L, dtype=bool)
        self.is_active = True
        self.recall_total = 0
        self.study_index = 0

        # additive/multiplicative_semantic_cmr.py __init__: msem = connections * scale;
        # ``recalled`` holds the 1-based recalled positions (jaxcmr's ``recalls``) in output order.
        self.semantic = model.startswith("semantic")
        self.recalled = []
        if self.semantic:
            if connections is None:
                raise ValueError(f"model {model!r} needs the trial's connections (L x L)")
            self.semantic_scale = float(p["semantic_scale"])
            self.msem = np.asarray(connections, dtype=float) * self.semantic_scale
        self.emotional = model in ("ecmr", "cmr3")
        if self.emotional:
            if valence is None:
                raise ValueError(f"model {model!r} needs a valence array (one per study event)")
            valence = np.asarray(valence, dtype=float)
            if valence.shape != (L,):
                raise ValueError(f"valence must have shape ({L},), got {valence.shape}")
            # eCMR/CMR3.__init__: emotion_drift_rate and phi_emot_modulates_temporal via .get().
            self.emotion_drift_rate = float(p.get("emotion_drift_rate", 1.0))
            self.modulate_emotion_by_primacy = bool(p["modulate_emotion_by_primacy"])
            self.phi_emot_modulates_temporal = bool(p.get("phi_emot_modulates_temporal", False))
            lr = self.mfc_learning_rate
            if model == "ecmr":
                # ecmr.py make_factory: is_emotional = valence != 0; poles [start, emot, neutral].
                is_emotional = (valence != 0).astype(float)
                col1, col2 = is_emotional, 1.0 - is_emotional
            else:
                # cmr3.py make_factory: negative = valence < 0, positive = valence > 0;
                # poles [start, negative, positive]; neutral items get an all-zero M^FC row.
                is_negative = (valence < 0).astype(float)
                is_positive = (valence > 0).astype(float)
                is_emotional = np.maximum(is_negative, is_positive)
                col1, col2 = is_negative, is_positive
            # phi_emot = emotion_scale * is_emotional (both files).
            self.phi_emot = float(p["emotion_scale"]) * is_emotional
            # TemporalContext.TemporalContext(item_count=2, size=3): state [1, 0, 0].
            self.emotion_context = TemporalContext(3)
            # emotion_mfc (L x 3): columns 1, 2 set to (1 - learning_rate) * pole flags.
            self.emotion_mfc = np.zeros((L, 3))
            self.emotion_mfc[:, 1] = (1.0 - lr) * col1
            self.emotion_mfc[:, 2] = (1.0 - lr) * col2
            # emotion_mcf (3 x L): all zeros.
            self.emotion_mcf = np.zeros((3, L))

    # ---- study (CMR.experience / experience_item; eCMR/CMR3 experience_item)
    def experience(self, choice: int) -> None:
        """``experience``: 1-based item number; 0 is ignored (study_index NOT advanced)."""
        if choice == 0:
            return
        self._experience_item(choice - 1)

    def _experience_item(self, item_index: int) -> None:
        item = self.items[item_index]
        # Temporal pathway: input = M^FC probe, drift at encoding_drift_rate.
        old_state = self.context.state.copy()
        self.context.integrate(probe(self.mfc, item), self.encoding_drift_rate)
        # lax.cond(learn_after_context_update, new state, pre-update state).
        learning_state = self.context.state if self.learn_after_context_update else old_state
        p = self.primacy[self.study_index]
        if not self.emotional:
            # CMR: M^FC gets learning_rate, M^CF gets the primacy gradient at study_index.
            mcf_lr = p
        else:
            # Emotional pathway, drift at emotion_drift_rate.
            old_emot = self.emotion_context.state.copy()
            self.emotion_context.integrate(probe(self.emotion_mfc, item), self.emotion_drift_rate)
            emot_learning_state = (
                self.emotion_context.state if self.learn_after_context_update else old_emot
            )
            # phi_emot_i = max(0, phi_emot[study_index]); _multiplicative = p * phi;
            # _additive = p + max(-p, phi).
            phi = max(0.0, self.phi_emot[self.study_index])
            multiplicative = p * phi
            additive = p + max(-p, phi)
            # Temporal M^CF: primacy only, or _additive when phi_emot_modulates_temporal.
            mcf_lr = additive if self.phi_emot_modulates_temporal else p
            # Emotional M^CF: _multiplicative if modulate_emotion_by_primacy else _additive.
            emot_mcf_lr = multiplicative if self.modulate_emotion_by_primacy else additive
            # emotion_mfc.associate(item, emot_state, mfc_learning_rate) -- the TEMPORAL
            # learning_rate; emotion_mcf.associate(emot_state, item, emotional lr).
            self.emotion_mfc = associate(
                self.emotion_mfc, item, emot_learning_state, self.mfc_learning_rate
            )
            self.emotion_mcf = associate(self.emotion_mcf, emot_learning_state, item, emot_mcf_lr)
        self.mfc = associate(self.mfc, item, learning_state, self.mfc_learning_rate)
        self.mcf = associate(self.mcf, learning_state, item, mcf_lr)
        self.recallable[item_index] = True
        self.study_index += 1

    def start_retrieving(self) -> None:
        """``start_retrieving``: drift toward initial_state (e_0) at start_drift_rate.

        eCMR/CMR3 also drift the emotional context toward ITS initial state [1,0,0] at the same
        start_drift_rate.
        """
        self.context.integrate(self.context.initial_state, self.start_drift_rate)
        if self.emotional:
            self.emotion_context.integrate(
                self.emotion_context.initial_state, self.start_drift_rate
            )

    # ---- recall (CMR.retrieve / retrieve_item; eCMR/CMR3 retrieve / _retrieve_item)
    def retrieve(self, choice: int) -> None:
        """``retrieve``: 0 -> is_active False; otherwise retrieve item ``choice - 1``.

        Applied to whatever the data says, even an event the model gave probability 0 (a repeat
        with allow_repeated_recalls False, or a recall after the stop).
        """
        if choice == 0:
            self.is_active = False
            return
        i = choice - 1
        item = self.items[i]
        self.context.integrate(probe(self.mfc, item), self.recall_drift_rate)
        if self.emotional:
            # Emotional reinstatement uses recall_drift_rate too (not emotion_drift_rate).
            self.emotion_context.integrate(probe(self.emotion_mfc, item), self.recall_drift_rate)
        self.recallable[i] = self.allow_repeated_recalls
        self.recalled.append(choice)
        self.recall_total += 1

    def activations(self) -> np.ndarray:
        """``activations``: ``(power_scale(probe * recallable, tau) + lb) * recallable``.

        eCMR/CMR3 sum the temporal and emotional M^CF probes (each masked) before scaling.
        """
        rec = self.recallable.astype(float)
        act = probe(self.mcf, self.context.state) * rec
        if self.model == "semantic-add":
            # additive: semantic row of the last recall (zeros before any), NOT masked,
            # added before power_scale.
            sem = (np.zeros(self.item_count) if self.recall_total == 0
                   else self.msem[self.recalled[self.recall_total - 1] - 1])
            return (power_scale(act + sem, self.mcf_sensitivity) + LB) * rec
        if self.model == "semantic-mult":
            # multiplicative: ones before any recall, masked; each factor power-scaled
            # with its own exponent, multiplied, then + lb and masked.
            sem = (np.ones(self.item_count) if self.recall_total == 0
                   else self.msem[self.recalled[self.recall_total - 1] - 1]) * rec
            combined = power_scale(act, self.mcf_sensitivity) * power_scale(
                sem, self.semantic_scale)
            return (combined + LB) * rec
        if self.emotional:
            act = act + probe(self.emotion_mcf, self.emotion_context.state) * rec
        return (power_scale(act, self.mcf_sensitivity) + LB) * rec

    def stop_probability(self) -> float:
        """termination.py ``PositionalTermination.stop_probability``.

        1 when nothing is recallable or after a stop; otherwise
        ``min(1 - lb * n_recallable, table[recall_total])``. JAX clamps an out-of-range gather
        index, so with repeated recalls ``recall_total >= L`` reads the last table entry.
        """
        n = int(np.sum(self.recallable))
        if n == 0 or not self.is_active:
            return 1.0
        idx = min(self.recall_total, self.item_count - 1)
        return min(1.0 - LB * n, float(self.stop_table[idx]))

    def outcome_probability(self, choice: int) -> float:
        """``outcome_probability``: p_stop for 0; 0 if p_stop == 1 or the item is not
        recallable; else ``(1 - p_stop) * a_i / sum(a)``."""
        p_stop = self.stop_probability()
        if choice == 0:
            return p_stop
        if p_stop == 1.0 or not self.recallable[choice - 1]:
            return 0.0
        act = self.activations()
        return (1.0 - p_stop) * act[choice - 1] / np.sum(act)


# -------------------------------------------------------------------------- public API
def _reindex(pres_itemnos: np.ndarray, recalls: np.ndarray) -> np.ndarray:
    """sequence_likelihood.py ``__init__``: recall r -> ``present[r - 1]`` (0 stays 0)."""
    return np.array([(int(pres_itemnos[r - 1]) if r else 0) for r in recalls], dtype=int)


def run_trial(
    model: str,
    params: dict,
    pres_itemnos,
    recalls,
    valence=None,
    *,
    list_length: int | None = None,
    connections=None,
):
    """Replay one trial as ``MemorySearchLikelihoodFnGenerator.predict_trial`` does.

    Returns ``(probabilities (R,), trace)`` where ``trace`` is a list of dicts with the
    temporal (and emotional) context after every study event, after start_retrieving and after
    every recall event -- for the self-checks.
    """
    pres_itemnos = np.asarray(pres_itemnos, dtype=int).reshape(-1)
    recalls = np.asarray(recalls, dtype=int).reshape(-1)
    L = len(pres_itemnos) if list_length is None else int(list_length)
    m = _Model(model, params, L, valence, connections)
    trace = []

    def snap(stage):
        d = {"stage": stage, "context": m.context.state.copy()}
        if m.emotional:
            d["emotion_context"] = m.emotion_context.state.copy()
        trace.append(d)

    # fori_loop over present.size: model.experience(present[i]).
    for choice in pres_itemnos:
        m.experience(int(choice))
        snap("study")
    m.start_retrieving()
    snap("start")
    # lax.scan over the reindexed recall row: probability BEFORE retrieve, every column.
    probs = np.empty(len(recalls))
    for j, c in enumerate(_reindex(pres_itemnos, recalls)):
        probs[j] = m.outcome_probability(int(c))
        m.retrieve(int(c))
        snap("recall")
    return probs, trace


def trial_event_probabilities(
    model: str,
    params: dict,
    pres_itemnos: np.ndarray,
    recalls: np.ndarray,
    valence: np.ndarray | None = None,
    *,
    list_length: int | None = None,
    connections: np.ndarray | None = None,
) -> np.ndarray:
    """jaxcmr's outcome probability of every recall column of one trial, shape (R,).

    ``recalls`` holds 1-based within-list study positions, 0 = stop; the first 0 scores the
    stop probability, trailing zeros after it score 1 (the model is inactive), and a full row
    with no 0 never scores a stop. ``model`` in {"cmr", "ecmr", "cmr3"}; ``valence`` (one value
    per study event) is required for the emotional models. ``list_length`` defaults to
    ``len(pres_itemnos)`` (jaxcmr uses the dataset's max listLength).
    """
    return run_trial(model, params, pres_itemnos, recalls, valence, list_length=list_length,
                     connections=connections)[0]


# -------------------------------------------------- jaxcmr/components/factory.py (semantic)
def cosine_similarity_matrix(features: np.ndarray) -> np.ndarray:
    """math.py ``cosine_similarity_matrix``: rows divided by ``norm + lb`` (epsilon added to
    the norm, not inside a sqrt), then ``clip(X X^T, -1, 1)``."""
    x = np.asarray(features, dtype=float)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    normalized = x / (norms + LB)
    return np.clip(normalized @ normalized.T, -1.0, 1.0)


def build_trial_connections(present_lists: np.ndarray, features=None,
                            similarity=None) -> np.ndarray:
    """factory.py ``build_trial_connections`` at 1e135c1 (``features``: pool x d vectors,
    cosine similarity) or its later ``connections`` form (``similarity``: pool x pool):
    clip below at lb, zero the diagonal, then per trial the block of the 1-based pool ids
    in ``present_lists`` (padding 0 -> rows/cols 0)."""
    pres = np.asarray(present_lists, dtype=int)
    if features is None and similarity is None:
        return np.zeros((pres.shape[0], pres.shape[1], pres.shape[1]))
    conn = cosine_similarity_matrix(features) if similarity is None else np.asarray(
        similarity, dtype=float)
    zeroed = np.maximum(conn, LB) * (1.0 - np.eye(conn.shape[0]))
    out = np.zeros((pres.shape[0], pres.shape[1], pres.shape[1]))
    for t in range(pres.shape[0]):
        valid = pres[t] > 0
        zb = np.where(valid, pres[t] - 1, 0)
        for a in range(pres.shape[1]):
            for b in range(pres.shape[1]):
                out[t, a, b] = zeroed[zb[a], zb[b]] if (valid[a] and valid[b]) else 0.0
    return out


def dataset_log_likelihood(model: str, params: dict, data: dict, *, features=None,
                           similarity=None) -> np.ndarray:
    """Per-trial log-likelihood ``sum_j log p_j`` of a jaxcmr-style dataset, shape (n_trials,).

    jaxcmr's fitting loss (helpers.py ``log_likelihood`` = ``-sum(log(likelihoods))``) over
    the same trials is ``-dataset_log_likelihood(...).sum()``. Model size is
    ``max(listLength)`` over the whole dataset, as every jaxcmr factory sets it. The
    semantic models take the pool's ``features`` (vectors) or ``similarity`` and build each
    trial's connections from ``data["pres_itemids"]`` (their ``make_factory``).
    """
    pres = np.asarray(data["pres_itemnos"])
    recs = np.asarray(data["recalls"])
    L = int(np.max(np.asarray(data["listLength"])))
    valence = None
    if model in ("ecmr", "cmr3"):
        valence = np.asarray(data["valence"])
    conns = None
    if model.startswith("semantic"):
        conns = build_trial_connections(np.asarray(data["pres_itemids"]), features=features,
                                        similarity=similarity)
    out = np.empty(pres.shape[0])
    for t in range(pres.shape[0]):
        v = None if valence is None else valence[t]
        c = None if conns is None else conns[t]
        with np.errstate(divide="ignore"):
            out[t] = np.sum(
                np.log(trial_event_probabilities(model, params, pres[t], recs[t], v,
                                                 list_length=L, connections=c))
            )
    return out


def psifr_to_jaxcmr(
    df,
    *,
    item_index_column: str = "item_index",
    valence_column: str | None = "valence",
) -> dict:
    """psifr long-format frame -> the dict jaxcmr's pipeline uses (int32 arrays).

    One trial per (subject, list) in sorted order. ``pres_itemnos`` = 1..L (0-padded),
    ``pres_itemids`` = ``item_index + 1`` (psifr's ``pool_index`` is 0-based), ``recalls`` =
    within-list study positions in output order with intrusions and repeats dropped exactly as
    cymr's ``prepare_lists(clean=True)`` does (psifr ``merge_free_recall`` then
    ``~intrusion and repeat == 0``), width = max list length; ``subject`` and ``listLength``
    shaped (n_trials, 1). If ``valence_column`` is in the frame its study-event values are
    passed through as ``valence`` (int32 when integral, else float64).
    """
    from psifr import fr

    if item_index_column not in df.columns:
        raise KeyError(
            f"column {item_index_column!r} missing; add it with psifr.fr.pool_index(df.item, pool)"
        )
    study_keys = [item_index_column]
    has_valence = valence_column is not None and valence_column in df.columns
    if has_valence:
        study_keys.append(valence_column)
    merged = fr.merge_free_recall(df, study_keys=study_keys)
    clean = merged.query("~intrusion and repeat == 0")
    study = df[df["trial_type"] == "study"].sort_values(["subject", "list", "position"])
    keys = list(study.groupby(["subject", "list"], sort=True).groups)
    lengths = study.groupby(["subject", "list"], sort=True).size()
    Lmax = int(lengths.max())
    n = len(keys)
    subject = np.zeros((n, 1), dtype=np.int32)
    list_length = np.zeros((n, 1), dtype=np.int32)
    pres_itemnos = np.zeros((n, Lmax), dtype=np.int32)
    pres_itemids = np.zeros((n, Lmax), dtype=np.int32)
    recalls = np.zeros((n, Lmax), dtype=np.int32)
    valence = np.zeros((n, Lmax)) if has_valence else None
    study_groups = study.groupby(["subject", "list"], sort=True)
    recall_rows = clean[clean["recall"]].sort_values(["subject", "list", "output"])
    recall_groups = dict(list(recall_rows.groupby(["subject", "list"], sort=True)))
    for t, key in enumerate(keys):
        s = study_groups.get_group(key)
        Lt = len(s)
        subject[t, 0] = key[0]
        list_length[t, 0] = Lt
        pres_itemnos[t, :Lt] = np.arange(1, Lt + 1)
        pres_itemids[t, :Lt] = s[item_index_column].to_numpy().astype(np.int64) + 1
        if has_valence:
            valence[t, :Lt] = s[valence_column].to_numpy(dtype=float)
        r = recall_groups.get(key)
        if r is not None and len(r):
            pos = r["input"].to_numpy().astype(np.int64)
            recalls[t, : len(pos)] = pos
    out = {
        "subject": subject,
        "listLength": list_length,
        "pres_itemnos": pres_itemnos,
        "pres_itemids": pres_itemids,
        "recalls": recalls,
    }
    if has_valence:
        out["valence"] = (
            valence.astype(np.int32) if np.all(valence == np.round(valence)) else valence
        )
    return out


def save_like_jaxcmr(data: dict, path) -> None:
    """helpers.py ``save_dict_to_hdf5``: group ``data``; ``create_dataset(key, data=value.T)``."""
    with h5py.File(path, "w") as f:
        group = f.create_group("data")
        for key, value in data.items():
            group.create_dataset(key, data=np.asarray(value).T)


# jnp.array with x64 disabled (JAX's default) canonicalises 64-bit types to 32-bit.
_JAX_DTYPE = {
    np.dtype(np.int64): np.int32,
    np.dtype(np.uint64): np.uint32,
    np.dtype(np.float64): np.float32,
    np.dtype(np.complex128): np.complex64,
}


def load_like_jaxcmr(path, *, jax_dtypes: bool = True) -> dict:
    """helpers.py ``load_data``: every dataset under ``/data``, transposed back.

    With ``jax_dtypes`` (default) 64-bit dtypes become 32-bit as ``jnp.array`` does with x64
    off; otherwise the stored dtype is kept.
    """
    with h5py.File(path, "r") as f:
        out = {}
        for key in f["/data"].keys():
            value = np.asarray(f["/data"][key][()]).T
            if jax_dtypes and value.dtype in _JAX_DTYPE:
                value = value.astype(_JAX_DTYPE[value.dtype])
            out[key] = value
    return out


# ======================================================================= EEG-informed models
# jaxcmr/models/eeg_ecmr.py [16079e6], eeg_cmr.py [1aaed69], eeg_strength.py [58639a7],
# eeg_simple_ecmr.py [bf20e60]. Each takes two per-study-event fields of the dataset:
# ``condition`` (1 = emotional, 2 = neutral; the factories compute
# ``is_emotional = (2 - condition).astype(bool)``, i.e. EVERY code other than 2 is emotional)
# and ``EarlyLPP`` (one early late-positive-potential amplitude per studied item).
EEG_MODELS = ("eeg-ecmr", "eeg-cmr", "eeg-strength", "eeg-simple-ecmr")


def eeg_is_emotional(condition) -> np.ndarray:
    """All four factories: ``(2 - condition).astype(bool)`` as 0.0 / 1.0."""
    return ((2.0 - np.asarray(condition, dtype=float)) != 0).astype(float)


def eeg_centred_lpp(model: str, condition, lpp) -> np.ndarray:
    """The LPP each model uses, centred as its factory (or model) centres it, one list.

    - eeg_ecmr.py factory: ``lpp - mean(lpp)`` over the WHOLE row (all items).
    - eeg_cmr.py / eeg_strength.py factories: emotional items minus the mean over the
      row's emotional items (``sum / max(count, 1)``); neutral items get 0.
    - eeg_simple_ecmr.py passes the raw LPP; ``CMR.__init__`` does the same centring as
      eeg_cmr's factory (``is_emotional * (lpp - emotional mean)``).
    """
    lpp = np.asarray(lpp, dtype=float)
    if model == "eeg-ecmr":
        return lpp - lpp.mean()
    emo = eeg_is_emotional(condition)
    mean = np.sum(lpp * emo) / max(np.sum(emo), 1.0)
    return np.where(emo > 0, lpp - mean, 0.0)


class _EegModel(_Model):
    """One trial of jaxcmr's EEG-informed models (see ``EEG_MODELS``).

    Study / stop / outcome bookkeeping as ``_Model`` (the four files copy CMR's
    ``experience``, ``retrieve``, ``stop_probability`` and ``outcome_probability``); what
    differs is the encoding strength and, for the two eCMR-like files, an "emotional MCF"
    that is a plain vector, not a context layer.
    """

    def __init__(self, model: str, params: dict, list_length: int, condition, lpp):
        if model not in EEG_MODELS:
            raise ValueError(f"model must be one of {EEG_MODELS}, got {model!r}")
        p = params
        L = list_length
        condition = np.asarray(condition, dtype=float).reshape(-1)
        lpp = np.asarray(lpp, dtype=float).reshape(-1)
        if condition.shape != (L,) or lpp.shape != (L,):
            raise ValueError(f"condition and lpp must have shape ({L},), got "
                             f"{condition.shape} and {lpp.shape}")
        self.model = model
        self.item_count = L
        self.items = np.eye(L)
        self.emotional = False  # no eCMR emotional *context* layer in any of the four
        self.allow_repeated_recalls = bool(p["allow_repeated_recalls"])
        self.by_primacy = bool(p["modulate_emotion_by_primacy"])
        self.mcf_sensitivity = float(p["choice_sensitivity"])
        self.primacy = exponential_primacy_decay(
            np.arange(L), float(p["primacy_scale"]), float(p["primacy_decay"]))
        self.stop_table = float(p["stop_probability_scale"]) * np.exp(
            np.arange(L) * float(p["stop_probability_growth"]))
        self.recallable = np.zeros(L, dtype=bool)
        self.recalls = np.zeros(L, dtype=int)
        self.is_active = True
        self.recall_total = 0
        self.study_index = 0
        self.is_emotional = eeg_is_emotional(condition)
        x = eeg_centred_lpp(model, condition, lpp)
        if model == "eeg-strength":
            # eeg_strength.py: no context, no memories; strengths set at study.
            self.modulation = (float(p["lpp_slope"]) * (x - float(p["lpp_threshold"]))
                               * self.is_emotional)
            self.strengths = np.zeros(L)
            return
        self.encoding_drift_rate = float(p["encoding_drift_rate"])
        self.start_drift_rate = float(p["start_drift_rate"])
        self.recall_drift_rate = float(p["recall_drift_rate"])
        self.mfc_learning_rate = float(p["learning_rate"])
        self.learn_after_context_update = bool(p["learn_after_context_update"])
        self.context = init_context(L)
        self.mfc = init_mfc(L, p, self.context.size)
        self.mcf = init_mcf(L, p, self.context.size)
        emotion_scale = float(p["emotion_scale"])
        if model == "eeg-simple-ecmr":
            # eeg_simple_ecmr.py: lpp = centred * lpp_scale; phi = max(0, scale + lpp).
            self.modulation = emotion_scale + x * float(p["lpp_scale"])
        else:
            # eeg_ecmr.py / eeg_cmr.py: emotion_scale*emo + main + interaction*emo.
            main = float(p["lpp_main_scale"]) * (x - float(p["lpp_main_threshold"]))
            inter = (float(p["lpp_inter_scale"]) * (x - float(p["lpp_inter_threshold"]))
                     * self.is_emotional)
            self.modulation = emotion_scale * self.is_emotional + main + inter
        # eeg_ecmr / eeg_simple_ecmr: ``emotional_mcf`` starts AS is_emotional (a vector).
        self.emotional_mcf = self.is_emotional.copy()

    def _experience_item(self, item_index: int) -> None:
        s = self.study_index
        P = self.primacy[s]
        if self.model == "eeg-strength":
            # modulation indexed by ITEM index here (the others use the study index).
            m = self.modulation[item_index]
            self.strengths[item_index] = P * max(1.0, 1.0 + m) if self.by_primacy \
                else P + max(-P, m)
        else:
            item = self.items[item_index]
            old_state = self.context.state.copy()
            self.context.integrate(probe(self.mfc, item), self.encoding_drift_rate)
            learning_state = self.context.state if self.learn_after_context_update \
                else old_state
            clipped = max(0.0, self.modulation[s])
            if self.model == "eeg-cmr":
                # mcf_lr = P * clipped, or P + max(-P, clipped) (= P + clipped).
                mcf_lr = P * clipped if self.by_primacy else P + max(-P, clipped)
            else:
                mcf_lr = P
                # emotional_mcf[item] *= (P * clipped if by_primacy else clipped)
                self.emotional_mcf[item_index] *= P * clipped if self.by_primacy else clipped
            self.mfc = associate(self.mfc, item, learning_state, self.mfc_learning_rate)
            self.mcf = associate(self.mcf, learning_state, item, mcf_lr)
        self.recallable[item_index] = True
        self.study_index += 1

    def start_retrieving(self) -> None:
        if self.model != "eeg-strength":  # eeg_strength.start_retrieving returns self
            self.context.integrate(self.context.initial_state, self.start_drift_rate)

    def retrieve(self, choice: int) -> None:
        if choice == 0:
            self.is_active = False
            return
        i = choice - 1
        if self.model != "eeg-strength":
            self.context.integrate(probe(self.mfc, self.items[i]), self.recall_drift_rate)
        if self.recall_total < self.item_count:  # jaxcmr's .at[].set drops out-of-range
            self.recalls[self.recall_total] = choice
        self.recallable[i] = self.allow_repeated_recalls
        self.recall_total += 1

    def activations(self) -> np.ndarray:
        rec = self.recallable.astype(float)
        if self.model == "eeg-strength":
            act = self.strengths * rec
        else:
            act = probe(self.mcf, self.context.state) * rec
            if self.model in ("eeg-ecmr", "eeg-simple-ecmr"):
                # support of the emotional vector after an emotional recall, NOT masked by
                # recallable before power_scale (so a recalled emotional item's support
                # still sets power_scale's max); masked only after.
                last = self.recalls[self.recall_total - 1] - 1
                last_emotional = self.recall_total > 0 and self.is_emotional[last] > 0
                act = act + float(last_emotional) * self.emotional_mcf
        return (power_scale(act, self.mcf_sensitivity) + LB) * rec


def eeg_trial_event_probabilities(model: str, params: dict, pres_itemnos, recalls, condition,
                                  lpp, *, list_length: int | None = None) -> np.ndarray:
    """jaxcmr's outcome probability of every recall column of one trial of an EEG model
    (the same replay as :func:`trial_event_probabilities`). ``condition``, ``lpp``: the
    trial's rows of the dataset's ``condition`` and ``EarlyLPP`` fields (raw)."""
    pres_itemnos = np.asarray(pres_itemnos, dtype=int).reshape(-1)
    recalls = np.asarray(recalls, dtype=int).reshape(-1)
    L = len(pres_itemnos) if list_length is None else int(list_length)
    m = _EegModel(model, params, L, condition, lpp)
    for choice in pres_itemnos:
        m.experience(int(choice))
    m.start_retrieving()
    probs = np.empty(len(recalls))
    for j, c in enumerate(_reindex(pres_itemnos, recalls)):
        probs[j] = m.outcome_probability(int(c))
        m.retrieve(int(c))
    return probs


def eeg_dataset_log_likelihood(model: str, params: dict, data: dict) -> np.ndarray:
    """Per-trial log-likelihood of a jaxcmr-style dataset with ``condition`` and
    ``EarlyLPP`` fields, shape (n_trials,)."""
    pres = np.asarray(data["pres_itemnos"])
    recs = np.asarray(data["recalls"])
    cond = np.asarray(data["condition"])
    lpp = np.asarray(data["EarlyLPP"])
    L = int(np.max(np.asarray(data["listLength"])))
    out = np.empty(pres.shape[0])
    for t in range(pres.shape[0]):
        with np.errstate(divide="ignore"):
            out[t] = np.sum(np.log(eeg_trial_event_probabilities(
                model, params, pres[t], recs[t], cond[t], lpp[t], list_length=L)))
    return out

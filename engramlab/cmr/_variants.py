"""CMR variants: named compositions of components, kept in a registry.

A :class:`Variant` says which components (:mod:`engramlab.cmr._components`) make the
model and which typed parameter class (:mod:`engramlab.cmr._params`) holds its
parameters. Every entry point — :func:`~engramlab.cmr.log_likelihood`,
:func:`~engramlab.cmr.simulate`, :func:`~engramlab.cmr.fit`,
:func:`~engramlab.cmr.fit_subjects`, :func:`~engramlab.cmr.make_loglik`, the sweeps and
the CLI — takes a registered name or a :class:`Variant` object.

Built-in variants
-----------------
``"jaxcmr"``
    jaxcmr's base CMR, as its code computes it (``jaxcmr/components/context.py``,
    ``components/linear_memory.py``, ``components/termination.py``, ``math.py``,
    ``models/cmr.py``, ``loss/sequence_likelihood.py``): per-unit ``rho`` with
    renormalisation (:class:`UnitRho`), own-item MCF support *set* to ``item_support``,
    power choice with ``lb`` and the ``tau == 1`` shortcut, positional stop capped at
    ``1 - lb n_recallable``, learning before or after the context update
    (``learn_after_context_update``).
``"paper"``
    The same parameters with the papers' equations: scalar ``rho`` from ``c . c_in``
    (Howard & Kahana 2002; Polyn, Norman & Kahana 2009) and additive own-item support
    ``shared_support + item_support`` (the seed notebook's ``init_mcf``). This was
    engramlab 0.1's "jaxcmr" variant.
``"cymr"``
    cymr's ``CMR`` with ``config_loc_cmr`` (Morton & Polyn 2016): scalar ``rho``,
    pre-experimental ``A + D I`` weights over the item pool, exponential choice
    ``exp(2 a / T)``, stop ``clip(X1 exp(X2 j))``, each event probability clipped below at
    1e-5 before the log.
``"ecmr"``
    eCMR (Talmi, Lohnas & Daw 2019) as jaxcmr's ``models/ecmr.py`` computes it: the
    jaxcmr base model plus an emotional context layer of 3 units (start, emotional,
    neutral pole; every item feeds one pole) with its own MFC/MCF, encoding strength
    ``phi_emot = emotion_scale [valence != 0]``; support = temporal + emotional.
``"cmr3"``
    CMR3 (Cohen & Kahana 2022) as jaxcmr's ``models/cmr3.py``: the same with negative /
    positive poles; neutral items inject no valence input.
``"ecmr-salience"``
    eCMR with graded emotion: ``phi_emot = emotion_scale s(E; salience_beta)`` with the
    attractor family's ``"exp"`` salience of ``E = |arousal|`` (an ``arousal`` column)
    for emotional items; equals ``"ecmr"`` in the limit ``salience_beta = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ._components import (
    EMOTIONAL,
    ITEM_PREFIX,
    CategoryPreexp,
    ChoiceRule,
    Component,
    ContextRule,
    Covariate,
    CovariateLink,
    CovariateSchedule,
    Drift,
    EmotionalPreexp,
    EmotionSchedule,
    ExponentialChoice,
    ExponentialStop,
    GatePreexp,
    Layer,
    LocalistPreexp,
    PoolPreexp,
    PositionalStop,
    PowerChoice,
    PrimacySchedule,
    RecallCue,
    ScalarRho,
    SemanticCue,
    StaticContext,
    StaticPreexp,
    StopRule,
    Term,
    UnitRho,
)
from ._params import (
    Cmr3Params,
    CymrCategoryParams,
    CymrParams,
    EcmrParams,
    EcmrSalienceParams,
    EegCmrParams,
    EegEcmrParams,
    EegSimpleEcmrParams,
    EegStrengthParams,
    JaxcmrParams,
    ParamsBase,
    SemanticParams,
)

__all__ = ["Variant", "register_variant", "get_variant", "available_variants", "traced_reads",
           "params_class", "as_params"]


@dataclass(frozen=True)
class Variant:
    """A CMR variant: a composition of components and its typed parameter class.

    **Arguments:**

    - ``name``: registry name.
    - ``params``: the typed parameter class (a subclass of the package's parameter base,
      e.g. :class:`~engramlab.cmr.JaxcmrParams` or your extension of it) naming every
      parameter the components read.
    - ``layers``: context layers; layer 0 is temporal context, further layers add their
      MCF support to it at retrieval (eCMR's emotional context).
    - ``context``: the :class:`ContextRule` used by every layer.
    - ``choice``: the :class:`ChoiceRule`; ``stop``: the :class:`StopRule`.
    - ``learn_after``: ``True`` (learn MFC/MCF with the context after the update), ``False``
      (before it), or the name of a 0/1 switch parameter (jaxcmr's
      ``learn_after_context_update``).
    - ``event_floor``: clip each event probability below at this value before the log
      (cymr: ``1e-5``); ``None`` is the exact likelihood.
    - ``features``: per-study-event data columns the layers read (e.g. ``("valence",)``),
      passed to components in ``aux``.
    - ``free``: default free parameters of :func:`~engramlab.cmr.fit` (empty: every
      parameter that is not a switch).
    - ``cue``: a :class:`RecallCue` (``None``: none): support from the item recalled
      last through item-to-item associations (jaxcmr's semantic CMR); its item data
      come from the ``items=`` of each call (:class:`~engramlab.cmr.ItemFeatures`).
    """

    name: str
    params: type
    layers: tuple[Layer, ...]
    context: ContextRule
    choice: ChoiceRule
    stop: StopRule
    learn_after: bool | str = True
    event_floor: float | None = None
    features: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    description: str = field(default="", compare=False)
    cue: RecallCue | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name: expected a non-empty string, got {self.name!r}")
        if not (isinstance(self.params, type) and hasattr(self.params, "names")
                and isinstance(getattr(self.params, "BOUNDS", None), dict)
                and isinstance(getattr(self.params, "VALID", None), dict)):
            raise ConfigError(f"params: expected a typed parameter class (a subclass of the "
                              f"package's parameter base with VALID and BOUNDS), got "
                              f"{self.params!r}")
        layers = self.layers
        if isinstance(layers, list):  # a list is accepted, stored as a (hashable) tuple
            layers = tuple(layers)
            object.__setattr__(self, "layers", layers)
        if not (isinstance(layers, tuple) and layers
                and all(isinstance(x, Layer) for x in layers)):
            raise ConfigError(f"layers: expected a non-empty tuple of Layer, got "
                              f"{type(layers).__name__} {layers!r:.80}")
        for nm, obj, base in (("context", self.context, ContextRule),
                              ("choice", self.choice, ChoiceRule),
                              ("stop", self.stop, StopRule)):
            if not isinstance(obj, base):
                raise ConfigError(f"{nm}: expected a {base.__name__}, got "
                                  f"{type(obj).__name__}")
        if self.cue is not None:
            if not isinstance(self.cue, RecallCue):
                raise ConfigError(f"cue: expected None or a RecallCue, got "
                                  f"{type(self.cue).__name__}")
            if self.cue.multiplies() and not self.choice.ACCEPTS_FACTOR:
                raise ConfigError(f"cue: {type(self.cue).__name__} multiplies the choice "
                                  f"strengths, which {type(self.choice).__name__} does not "
                                  "accept (use PowerChoice)")
        for nm in ("features", "free"):
            val = getattr(self, nm)
            if isinstance(val, list):
                val = tuple(val)
                object.__setattr__(self, nm, val)
            if not (isinstance(val, tuple)
                    and all(isinstance(x, str) and x.strip() == x and x for x in val)):
                raise ConfigError(f"{nm}: expected a tuple of names (non-empty strings "
                                  f"without surrounding spaces), got {val!r:.80}")
            dup = sorted({x for x in val if val.count(x) > 1})
            if dup:
                raise ConfigError(f"{nm}: names {dup} are given more than once")
        if not (isinstance(self.learn_after, (bool, str))):
            raise ConfigError(f"learn_after: expected True, False or the name of a 0/1 switch "
                              f"parameter, got {self.learn_after!r}")
        names = set(self.params.names())
        flags = set(getattr(self.params, "FLAGS", ()))
        if isinstance(self.learn_after, str) and self.learn_after not in flags:
            raise ConfigError(f"learn_after: {self.learn_after!r} is not a switch (FLAGS) of "
                              f"{self.params.__name__}; its switches: {sorted(flags)}")
        ef = self.event_floor
        if ef is not None and not (isinstance(ef, (int, float)) and not isinstance(ef, bool)
                                   and 0.0 < ef < 1.0):
            raise ConfigError(f"event_floor: expected None (the exact likelihood) or a "
                              f"probability in (0, 1) (cymr: 1e-5), got {ef!r:.80}")
        for where, comp in self.components():
            comp.check(where)
            unknown = sorted(comp.reads() - names)
            if unknown:
                raise ConfigError(
                    f"{where}: {type(comp).__name__} reads parameter(s) {unknown}, which "
                    f"{self.params.__name__} does not have; its parameters: "
                    f"{sorted(names)}")
            missing = sorted(comp.columns() - set(self.features))
            if missing:
                raise ConfigError(
                    f"{where}: {type(comp).__name__} reads data column(s) {missing}; add "
                    f"them to features (got features={self.features})")
        from ._items import ITEM_KEYS

        unknown = sorted(set(self.item_keys()) - set(ITEM_KEYS))
        if unknown:
            raise ConfigError(f"a component reads item data {unknown}, which no "
                              f"ItemFeatures provides; known: {sorted(ITEM_KEYS)}")
        unknown = sorted(set(self.free) - names)
        if unknown:
            raise ConfigError(f"free: unknown parameter(s) {unknown} for "
                              f"{self.params.__name__}")
        unread = sorted(set(self.free) - self.reads())
        if unread:
            raise ConfigError(f"free: parameter(s) {unread} are read by no component of "
                              f"variant {self.name!r} (fitting them would not change the "
                              "likelihood but would count in k)")
        bad_flags = sorted(set(self.free) & flags)
        if bad_flags:
            raise ConfigError(f"free: {bad_flags} are switches (0/1), not fittable")

    def components(self) -> list[tuple[str, Component]]:
        """``(where, component)`` for every component, e.g.
        ``("layers[0].schedule", PrimacySchedule(...))``."""
        parts = ("preexp", "schedule", "drift", "context")
        return [*((f"layers[{i}].{nm}", getattr(lay, nm)) for i, lay in enumerate(self.layers)
                  for nm in parts if getattr(lay, nm) is not None),
                ("context", self.context), ("choice", self.choice), ("stop", self.stop),
                *((("cue", self.cue),) if self.cue is not None else ())]

    def item_keys(self) -> tuple[str, ...]:
        """The item data the components read (``Component.ITEMS``), sorted: a variant
        with any needs ``items=`` (:class:`~engramlab.cmr.ItemFeatures`)."""
        return tuple(sorted(frozenset().union(*(c.item_data()
                                                for _, c in self.components()))))

    @property
    def per_list_data(self) -> bool:
        """Whether the model reads data of each list (study-event features or item
        data): then no two lists share a computation by default (the hierarchical
        fast paths that share one study phase per subject are not used)."""
        return bool(self.features) or bool(self.item_keys())

    def derived_columns(self) -> tuple[str, ...]:
        """Names of the per-study-event columns the components derive from the raw
        ``features`` (e.g. a covariate centred within subject), sorted."""
        return tuple(sorted(frozenset().union(*(c.derived_columns()
                                                for _, c in self.components()))))

    def aux_names(self) -> tuple[str, ...]:
        """Every per-study-event column the model reads: ``features`` then the derived
        ones."""
        return tuple(self.features) + self.derived_columns()

    def derive(self, features: dict, subject: Any) -> dict:
        """``features`` (name -> ``(n, L)``) plus the derived columns of every component
        (:meth:`Component.derive`), computed from the raw features and ``subject``
        ``(n,)``: what the model's ``aux`` holds for the variant."""
        import numpy as np

        raw = {f: np.asarray(features[f], dtype=np.float64) for f in self.features}
        out = dict(raw)
        for _, c in self.components():
            out.update(c.derive(raw, np.asarray(subject)))
        return out

    def reads(self) -> frozenset[str]:
        """Every parameter name some component reads (with a ``learn_after`` switch)."""
        out = frozenset().union(*(c.reads() for _, c in self.components()))
        return out | ({self.learn_after} if isinstance(self.learn_after, str) else set())

    def names(self) -> tuple[str, ...]:
        """Parameter names in canonical (``theta``) order."""
        return self.params.names()

    def default_free(self) -> tuple[str, ...]:
        """The variant's ``free`` or, when empty, every parameter some component reads
        that is not a switch (canonical order)."""
        flags = set(getattr(self.params, "FLAGS", ()))
        reads = self.reads()
        return self.free or tuple(n for n in self.names() if n in reads and n not in flags)


_REGISTRY: dict[str, Variant] = {}


def traced_reads(variant: Variant, L: int = 3) -> frozenset[str]:
    """The parameter names the model actually reads: traces one list of ``L`` items
    (study and recall, no computation: ``jax.eval_shape``) with a parameter dict that
    records every lookup."""
    import jax
    import jax.numpy as jnp

    from ._items import item_shape
    from ._model import _recall_events, study

    seen: set[str] = set()

    class _Recording(dict):
        def __getitem__(self, key):
            seen.add(key)
            return super().__getitem__(key)

        def get(self, key, default=None):
            seen.add(key)
            return super().get(key, default)

    base = variant.params()
    p = _Recording({n: jnp.asarray(float(getattr(base, n))) for n in variant.names()})
    aux = {"sqrt_m": jnp.asarray(1.0), **{f: jnp.ones(L) for f in variant.aux_names()},
           **{ITEM_PREFIX + k: jnp.ones(item_shape(k, L)) for k in variant.item_keys()}}
    rec = jnp.zeros(L, dtype=jnp.int32).at[0].set(1)

    def run():
        return _recall_events(p, variant, L, study(p, variant, L, aux), rec, aux=aux)

    try:
        jax.eval_shape(run)
    except KeyError as e:
        raise ConfigError(f"variant {variant.name!r}: a component reads {e.args[0]!r}, "
                          f"which is neither a parameter of {variant.params.__name__} nor a "
                          f"feature of the variant ({variant.features})") from None
    return frozenset(seen)


def register_variant(variant: Variant, *, overwrite: bool = False,
                     _trace: bool = True) -> Variant:
    """Add ``variant`` to the registry under ``variant.name`` (returns it).

    Checks what the components declare they read (:meth:`Component.reads`) against what
    the model reads when traced (:func:`traced_reads`): a component that reads a
    parameter it does not declare is a :class:`~engramlab.errors.ConfigError` here (its
    parameter would be left out of the default free set and of ``k``)."""
    if not isinstance(variant, Variant):
        raise ConfigError(f"variant: expected a Variant, got {type(variant).__name__}")
    if variant.name in _REGISTRY and not overwrite and _REGISTRY[variant.name] != variant:
        raise ConfigError(f"variant: {variant.name!r} is already registered; pass "
                          "overwrite=True to replace it")
    if _trace:
        undeclared = sorted(traced_reads(variant) - variant.reads())
        if undeclared:
            raise ConfigError(
                f"variant {variant.name!r}: its components read parameter(s) {undeclared} "
                "that none declares; name them in the component (fields listed in its "
                "PARAMS, or override reads())")
    _REGISTRY[variant.name] = variant
    return variant


def available_variants() -> list[str]:
    """Names of the registered variants."""
    return sorted(_REGISTRY)


def get_variant(variant: str | Variant) -> Variant:
    """The :class:`Variant` named ``variant`` (a Variant object is returned as is)."""
    if isinstance(variant, Variant):
        return variant
    if isinstance(variant, str) and variant in _REGISTRY:
        return _REGISTRY[variant]
    raise ConfigError(f"variant: expected one of {available_variants()} or a Variant, got "
                      f"{variant!r}")


_JAXCMR_FREE = ("encoding_drift_rate", "start_drift_rate", "recall_drift_rate",
                "learning_rate", "shared_support", "item_support", "primacy_scale",
                "primacy_decay", "choice_sensitivity", "stop_probability_scale",
                "stop_probability_growth")
_TEMPORAL = Layer(LocalistPreexp(own="set"), PrimacySchedule())

JAXCMR = register_variant(Variant(
    "jaxcmr", JaxcmrParams, (_TEMPORAL,), UnitRho(), PowerChoice(), PositionalStop(),
    learn_after="learn_after_context_update", free=_JAXCMR_FREE,
    description="jaxcmr's base CMR, as its code computes it"), _trace=False)

PAPER = register_variant(Variant(
    "paper", JaxcmrParams, (Layer(LocalistPreexp(own="add"), PrimacySchedule()),),
    ScalarRho(), PowerChoice(), PositionalStop(),
    learn_after="learn_after_context_update", free=_JAXCMR_FREE,
    description="base CMR with the papers' scalar rho and additive item support"),
    _trace=False)

CYMR = register_variant(Variant(
    "cymr", CymrParams,
    (Layer(PoolPreexp(), PrimacySchedule(scale="P1", decay="P2", base="Lcf", mfc="Lfc"),
           Drift("B_enc", "B_start", "B_rec")),),
    ScalarRho(), ExponentialChoice(), ExponentialStop(), learn_after=True, event_floor=1e-5,
    free=("B_enc", "B_start", "B_rec", "Lfc", "Lcf", "Dcf", "Acf", "P1", "P2", "T", "X1",
          "X2"),
    description="cymr's CMR with config_loc_cmr"), _trace=False)


# ------------------------------------------------ semantic and category organisation
_SEM_FREE = _JAXCMR_FREE + ("semantic_scale",)

SEMANTIC_ADD = register_variant(Variant(
    "jaxcmr-semantic-add", SemanticParams, (_TEMPORAL,), UnitRho(),
    PowerChoice(scale_unrecallable=True), PositionalStop(),
    learn_after="learn_after_context_update", free=_SEM_FREE,
    cue=SemanticCue(combine="add"),
    description="jaxcmr's additive semantic CMR (items=: item similarities)"), _trace=False)

SEMANTIC_MULT = register_variant(Variant(
    "jaxcmr-semantic-mult", SemanticParams, (_TEMPORAL,), UnitRho(), PowerChoice(),
    PositionalStop(), learn_after="learn_after_context_update", free=_SEM_FREE,
    cue=SemanticCue(combine="multiply"),
    description="jaxcmr's multiplicative semantic CMR (items=: item similarities)"),
    _trace=False)


def _cymr_sublayer(preexp, s: str) -> Layer:
    return Layer(preexp, PrimacySchedule(scale="P1", decay="P2", base="Lcf", mfc="Lfc"),
                 Drift(f"B_enc_{s}", f"B_start_{s}", f"B_rec_{s}"))


CYMR_CATEGORY = register_variant(Variant(
    "cymr-category", CymrCategoryParams,
    (_cymr_sublayer(PoolPreexp(), "loc"), _cymr_sublayer(CategoryPreexp(), "cat")),
    ScalarRho(), ExponentialChoice(), ExponentialStop(), learn_after=True, event_floor=1e-5,
    free=("B_enc_loc", "B_start_loc", "B_rec_loc", "B_enc_cat", "B_start_cat", "B_rec_cat",
          "Lfc", "Lcf", "Dcf", "Acf", "P1", "P2", "T", "X1", "X2"),
    description="cymr's CMR with a category context sublayer (items=: categories)"),
    _trace=False)


_EMO_FREE = _JAXCMR_FREE + ("emotion_scale",)


def _emotional(name: str, params: type, poles: str, description: str, *,
               salience: str = "indicator", intensity: str | None = None,
               beta: str | float = 1.0, features: tuple[str, ...] = ("valence",),
               free: tuple[str, ...] = _EMO_FREE) -> Variant:
    sched = {"salience": salience, "intensity": intensity, "beta": beta}
    temporal = Layer(LocalistPreexp(own="set"), EmotionSchedule(pathway="temporal", **sched))
    emotional = Layer(EmotionalPreexp(poles=poles),
                      EmotionSchedule(pathway="emotional", **sched),
                      Drift("emotion_drift_rate", "start_drift_rate", "recall_drift_rate"))
    return register_variant(Variant(
        name, params, (temporal, emotional), UnitRho(), PowerChoice(), PositionalStop(),
        learn_after="learn_after_context_update", features=features, free=free,
        description=description), _trace=False)


ECMR = _emotional("ecmr", EcmrParams, "emotional/neutral",
                  "eCMR (emotional context layer: emotional / neutral poles), jaxcmr's code")
CMR3 = _emotional("cmr3", Cmr3Params, "negative/positive",
                  "CMR3 (emotional context layer: negative / positive poles), jaxcmr's code")
ECMR_SALIENCE = _emotional(
    "ecmr-salience", EcmrSalienceParams, "emotional/neutral",
    "eCMR with graded emotion through the shared salience function",
    salience="exp", intensity="arousal", beta="salience_beta",
    features=("valence", "arousal"), free=_EMO_FREE + ("salience_beta",))


# ------------------------------------------------------ jaxcmr's EEG-informed models
#: The per-study-event fields of jaxcmr's EEG datasets (``TalmiEEG``).
_EEG_FEATURES = ("condition", "EarlyLPP")
#: eeg_ecmr.py: the early LPP minus its list's mean over all items.
_LPP_LIST = Covariate("EarlyLPP", centre="list")
#: eeg_cmr.py / eeg_strength.py / eeg_simple_ecmr.py: minus the mean over the list's
#: emotional items; neutral items 0.
_LPP_EMO = Covariate("EarlyLPP", centre="list", among=EMOTIONAL)


def _eeg_encoding(lpp: Covariate) -> CovariateLink:
    """``max(0, emotion_scale e + s_m (x - th_m) + s_i (x - th_i) e)`` (eeg_ecmr/eeg_cmr)."""
    return CovariateLink((Term("emotion_scale", gate=EMOTIONAL),
                          Term("lpp_main_scale", lpp, "lpp_main_threshold"),
                          Term("lpp_inter_scale", lpp, "lpp_inter_threshold", gate=EMOTIONAL)),
                         link="relu")


def _emotional_vector(link: CovariateLink) -> Layer:
    """jaxcmr's ``emotional_mcf`` vector (eeg_ecmr / eeg_simple_ecmr): item ``i`` learns
    ``e_i P_i m_i`` (switch on) or ``e_i m_i`` (off) and adds it to its support right
    after an emotional recall, unmasked before ``power_scale``."""
    return Layer(GatePreexp(EMOTIONAL),
                 CovariateSchedule(link, PrimacySchedule(mfc=0.0), on="product", off="link",
                                   gate=EMOTIONAL),
                 Drift(1.0, 1.0, 1.0), context=ScalarRho(), learn_after=True,
                 mask_support=False)


EEG_ECMR = register_variant(Variant(
    "eeg-ecmr", EegEcmrParams, (_TEMPORAL, _emotional_vector(_eeg_encoding(_LPP_LIST))),
    UnitRho(), PowerChoice(scale_unrecallable=True), PositionalStop(),
    learn_after="learn_after_context_update", features=_EEG_FEATURES,
    description="jaxcmr's eeg_ecmr: LPP-modulated emotional support vector"))
EEG_CMR = register_variant(Variant(
    "eeg-cmr", EegCmrParams,
    (Layer(LocalistPreexp(own="set"),
           CovariateSchedule(_eeg_encoding(_LPP_EMO), on="product", off="sum")),),
    UnitRho(), PowerChoice(), PositionalStop(), learn_after="learn_after_context_update",
    features=_EEG_FEATURES,
    description="jaxcmr's eeg_cmr: emotion and LPP modulate the temporal MCF rate"))
EEG_STRENGTH = register_variant(Variant(
    "eeg-strength", EegStrengthParams,
    (Layer(StaticPreexp(),
           CovariateSchedule(CovariateLink((Term("lpp_slope", _LPP_EMO, "lpp_threshold",
                                                 gate=EMOTIONAL),)),
                             PrimacySchedule(mfc=0.0), on="product", off="sum", base=1.0,
                             lo=1.0),
           Drift(0.0, 0.0, 0.0)),),
    StaticContext(), PowerChoice(), PositionalStop(), learn_after=True,
    features=_EEG_FEATURES,
    description="jaxcmr's eeg_strength: LPP-modulated strengths, no retrieved context"))
EEG_SIMPLE_ECMR = register_variant(Variant(
    "eeg-simple-ecmr", EegSimpleEcmrParams,
    (_TEMPORAL, _emotional_vector(CovariateLink((Term("emotion_scale"),
                                                 Term("lpp_scale", _LPP_EMO)), link="relu"))),
    UnitRho(), PowerChoice(scale_unrecallable=True), PositionalStop(),
    learn_after="learn_after_context_update", features=_EEG_FEATURES,
    description="jaxcmr's eeg_simple_ecmr: emotional support max(0, scale + LPP)"))

#: the variants the package registers itself (everything else came from user code)
BUILTIN_VARIANTS: frozenset[str] = frozenset(_REGISTRY)


def params_class(variant: Any) -> type:
    """The typed parameter class of a registered variant (name or Variant)."""
    return get_variant(variant).params


def as_params(params: Any, variant: Any, *, name: str = "params") -> Any:
    """Coerce ``params`` (dict or typed class) to the typed class of ``variant``."""
    cls = params_class(variant)
    if isinstance(params, cls):
        return params
    if isinstance(params, ParamsBase):
        raise ConfigError(f"{name}: got {type(params).__name__} for variant "
                          f"{getattr(variant, 'name', variant)!r}; expected {cls.__name__} "
                          "(or a dict of its names)")
    return cls.from_mapping(params, name=name)

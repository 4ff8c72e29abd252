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

from ..errors import ConfigError
from ._components import (
    ChoiceRule,
    ContextRule,
    Drift,
    EmotionalPreexp,
    EmotionSchedule,
    ExponentialChoice,
    ExponentialStop,
    Layer,
    LocalistPreexp,
    PoolPreexp,
    PositionalStop,
    PowerChoice,
    PrimacySchedule,
    ScalarRho,
    StopRule,
    UnitRho,
)
from ._params import Cmr3Params, CymrParams, EcmrParams, EcmrSalienceParams, JaxcmrParams

__all__ = ["Variant", "register_variant", "get_variant", "available_variants"]


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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name: expected a non-empty string, got {self.name!r}")
        if not (isinstance(self.params, type) and hasattr(self.params, "names")):
            raise ConfigError(f"params: expected a typed parameter class, got {self.params!r}")
        if not self.layers or not all(isinstance(x, Layer) for x in self.layers):
            raise ConfigError("layers: expected a non-empty tuple of Layer")
        for nm, obj, base in (("context", self.context, ContextRule),
                              ("choice", self.choice, ChoiceRule),
                              ("stop", self.stop, StopRule)):
            if not isinstance(obj, base):
                raise ConfigError(f"{nm}: expected a {base.__name__}, got "
                                  f"{type(obj).__name__}")
        names = set(self.params.names())
        if isinstance(self.learn_after, str) and self.learn_after not in names:
            raise ConfigError(f"learn_after: {self.learn_after!r} is not a parameter of "
                              f"{self.params.__name__}")
        unknown = sorted(set(self.free) - names)
        if unknown:
            raise ConfigError(f"free: unknown parameter(s) {unknown} for "
                              f"{self.params.__name__}")

    def names(self) -> tuple[str, ...]:
        """Parameter names in canonical (``theta``) order."""
        return self.params.names()

    def default_free(self) -> tuple[str, ...]:
        flags = set(getattr(self.params, "FLAGS", ()))
        return self.free or tuple(n for n in self.names() if n not in flags)


_REGISTRY: dict[str, Variant] = {}


def register_variant(variant: Variant, *, overwrite: bool = False) -> Variant:
    """Add ``variant`` to the registry under ``variant.name`` (returns it)."""
    if not isinstance(variant, Variant):
        raise ConfigError(f"variant: expected a Variant, got {type(variant).__name__}")
    if variant.name in _REGISTRY and not overwrite and _REGISTRY[variant.name] != variant:
        raise ConfigError(f"variant: {variant.name!r} is already registered; pass "
                          "overwrite=True to replace it")
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
    description="jaxcmr's base CMR, as its code computes it"))

PAPER = register_variant(Variant(
    "paper", JaxcmrParams, (Layer(LocalistPreexp(own="add"), PrimacySchedule()),),
    ScalarRho(), PowerChoice(), PositionalStop(),
    learn_after="learn_after_context_update", free=_JAXCMR_FREE,
    description="base CMR with the papers' scalar rho and additive item support"))

CYMR = register_variant(Variant(
    "cymr", CymrParams,
    (Layer(PoolPreexp(), PrimacySchedule(scale="P1", decay="P2", base="Lcf", mfc="Lfc"),
           Drift("B_enc", "B_start", "B_rec")),),
    ScalarRho(), ExponentialChoice(), ExponentialStop(), learn_after=True, event_floor=1e-5,
    free=("B_enc", "B_start", "B_rec", "Lfc", "Lcf", "Dcf", "Acf", "P1", "P2", "T", "X1",
          "X2"),
    description="cymr's CMR with config_loc_cmr"))


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
        description=description))


ECMR = _emotional("ecmr", EcmrParams, "emotional/neutral",
                  "eCMR (emotional context layer: emotional / neutral poles), jaxcmr's code")
CMR3 = _emotional("cmr3", Cmr3Params, "negative/positive",
                  "CMR3 (emotional context layer: negative / positive poles), jaxcmr's code")
ECMR_SALIENCE = _emotional(
    "ecmr-salience", EcmrSalienceParams, "emotional/neutral",
    "eCMR with graded emotion through the shared salience function",
    salience="exp", intensity="arousal", beta="salience_beta",
    features=("valence", "arousal"), free=_EMO_FREE + ("salience_beta",))

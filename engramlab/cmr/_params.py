"""Typed CMR parameter sets: jaxcmr's names and cymr's names.

Both are frozen dataclasses validated on construction (a misspelled or missing name is a
:class:`~engramlab.errors.ConfigError` naming it, never a KeyError deep in tracing), with
literature bounds used by :func:`engramlab.cmr.fit`.

=========================  ======================  =====================================
jaxcmr                     cymr                    meaning
=========================  ======================  =====================================
encoding_drift_rate        B_enc                   context integration rate at study
start_drift_rate           B_start                 start-context reinstatement at test
recall_drift_rate          B_rec                   integration rate after each recall
learning_rate              Lfc                     MFC learning rate (jaxcmr: pre = 1-L)
(1 - learning_rate)        Dfc / Afc               MFC pre-experimental own / shared
shared_support             Acf                     MCF pre-experimental shared support
item_support               Dcf                     MCF pre-experimental own-item support
(1, fixed)                 Lcf                     MCF base learning rate
primacy_scale              P1                      primacy boost of MCF learning
primacy_decay              P2                      primacy decay over serial position
choice_sensitivity         T                       power-rule exponent / softmax temp.
stop_probability_scale     X1                      P(stop) before the first recall
stop_probability_growth    X2                      growth of P(stop) per recall
=========================  ======================  =====================================
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError

__all__ = ["ParamsBase", "JaxcmrParams", "CymrParams", "EcmrParams", "Cmr3Params",
           "EcmrSalienceParams", "EegCmrParams", "EegEcmrParams", "EegSimpleEcmrParams",
           "EegStrengthParams", "SemanticParams", "CymrCategoryParams"]

_EPS = 1e-6


class _ParamsMeta(type):
    """Constructor arguments checked by name before the dataclass sees them: a misspelled
    or surplus argument is a ``ConfigError`` naming it (with the closest field), not the
    dataclass ``__init__``'s ``TypeError``."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if dataclasses.is_dataclass(cls):
            import difflib

            names = [f.name for f in dataclasses.fields(cls) if f.init]
            if len(args) > len(names):
                raise ConfigError(f"{cls.__name__}: expected at most {len(names)} "
                                  f"positional values, got {len(args)}")
            for k in kwargs:
                if k not in names:
                    close = difflib.get_close_matches(k, names, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise ConfigError(f"{k}: not a parameter of {cls.__name__}{hint} "
                                      f"(expected one of {names})")
            dup = [k for k in names[:len(args)] if k in kwargs]
            if dup:
                raise ConfigError(f"{dup[0]}: given both by position and by name")
        return super().__call__(*args, **kwargs)


class ParamsBase(metaclass=_ParamsMeta):
    """Base of the typed parameter classes (frozen dataclasses of floats).

    Subclasses declare their fields with defaults and the class variables ``VALID``
    (name -> allowed ``(lo, hi)``), ``BOUNDS`` (name -> default fitting bounds) and
    ``FLAGS`` (names of 0/1 switches: stored as ``bool``, never fitted, and optional in
    :meth:`from_mapping`, where a missing switch keeps its default). To extend a class
    with a parameter of your own, subclass it and merge the dictionaries::

        @dataclass(frozen=True)
        class MyParams(JaxcmrParams):
            stop_slope: float = 1.0
            VALID = {**JaxcmrParams.VALID, "stop_slope": (0.0, math.inf)}
            BOUNDS = {**JaxcmrParams.BOUNDS, "stop_slope": (1e-3, 10.0)}
    """

    BOUNDS: ClassVar[dict[str, tuple[float, float]]]
    VALID: ClassVar[dict[str, tuple[float, float]]]
    FLAGS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if f.name in self.FLAGS:
                if isinstance(v, bool | np.bool_) or (isinstance(v, int | float | np.number)
                                                      and float(v) in (0.0, 1.0)):
                    object.__setattr__(self, f.name, bool(v))
                    continue
                raise ConfigError(f"{f.name}: expected a switch (True/False or 1/0), "
                                  f"got {v!r}")
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise ConfigError(f"{f.name}: expected a real number, got {v!r}") from None
            if not math.isfinite(x):
                raise ConfigError(f"{f.name}: expected a finite number, got {x}")
            lo, hi = self.VALID[f.name]
            if not lo <= x <= hi:
                raise ConfigError(f"{f.name}: expected a value in [{lo:g}, {hi:g}], got {x:g}")
            object.__setattr__(self, f.name, x)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Parameter names in canonical order."""
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, name: str = "params") -> Any:
        """Build from a dict; unknown or missing names raise ``ConfigError``."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"{name}: expected a mapping of parameter values, got "
                              f"{type(values).__name__}")
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise ConfigError(f"{name}: unknown parameter(s) {unknown} for {cls.__name__}; "
                              f"expected names {list(cls.names())}")
        missing = [n for n in cls.names() if n not in values and n not in cls.FLAGS]
        if missing:
            raise ConfigError(f"{name}: missing parameter(s) {missing} for {cls.__name__}")
        return cls(**{k: values[k] for k in cls.names() if k in values})

    def to_dict(self) -> dict[str, float]:
        return {n: float(getattr(self, n)) for n in self.names()}

    def replace(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class JaxcmrParams(ParamsBase):
    """CMR parameters with jaxcmr's names (power choice rule).

    ``BOUNDS`` are the search bounds jaxcmr's fitting scripts use
    (``[eps, 1 - eps]`` for rates and probabilities, ``[eps, 100]`` for supports and
    the primacy/choice parameters, ``[eps, 10]`` for the stop growth).
    ``learn_after_context_update`` (a switch, default ``True``): learn MFC/MCF with the
    context after the study drift (``True``) or before it (``False``), as jaxcmr's flag
    of that name; several of jaxcmr's fitting configs use ``False``.
    """

    encoding_drift_rate: float = 0.7
    start_drift_rate: float = 0.3
    recall_drift_rate: float = 0.8
    learning_rate: float = 0.3
    shared_support: float = 0.05
    item_support: float = 0.3
    primacy_scale: float = 2.0
    primacy_decay: float = 0.5
    choice_sensitivity: float = 2.0
    stop_probability_scale: float = 0.02
    stop_probability_growth: float = 0.2
    learn_after_context_update: bool = True

    FLAGS: ClassVar[tuple[str, ...]] = ("learn_after_context_update",)
    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        "encoding_drift_rate": (0.0, 1.0), "start_drift_rate": (0.0, 1.0),
        "recall_drift_rate": (0.0, 1.0), "learning_rate": (0.0, 1.0),
        "shared_support": (0.0, math.inf), "item_support": (0.0, math.inf),
        "primacy_scale": (0.0, math.inf), "primacy_decay": (0.0, math.inf),
        "choice_sensitivity": (0.0, math.inf), "stop_probability_scale": (0.0, 1.0),
        "stop_probability_growth": (0.0, math.inf), "learn_after_context_update": (0.0, 1.0),
    }
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        "encoding_drift_rate": (_EPS, 1 - _EPS), "start_drift_rate": (_EPS, 1 - _EPS),
        "recall_drift_rate": (_EPS, 1 - _EPS), "learning_rate": (_EPS, 1 - _EPS),
        "shared_support": (_EPS, 100.0), "item_support": (_EPS, 100.0),
        "primacy_scale": (_EPS, 100.0), "primacy_decay": (_EPS, 100.0),
        "choice_sensitivity": (_EPS, 100.0), "stop_probability_scale": (_EPS, 1 - _EPS),
        "stop_probability_growth": (_EPS, 10.0),
    }


@dataclass(frozen=True)
class CymrParams(ParamsBase):
    """CMR parameters with cymr's names (exponential choice rule ``exp(2 a / T)``).

    ``BOUNDS`` follow cymr's documentation / Morton & Polyn (2016) fits: rates and
    weights in ``[0, 1]``, ``P1`` in ``[0, 10]``, ``P2`` in ``[0.01, 10]``, ``T`` in
    ``[0.01, 1]``, ``X1`` in ``[0, 1]``, ``X2`` in ``[0, 5]``.
    """

    B_enc: float = 0.7
    B_start: float = 0.3
    B_rec: float = 0.8
    Lfc: float = 0.3
    Lcf: float = 0.3
    Afc: float = 0.0
    Dfc: float = 0.7
    Acf: float = 0.05
    Dcf: float = 0.7
    P1: float = 2.0
    P2: float = 1.0
    T: float = 0.1
    X1: float = 0.02
    X2: float = 0.2

    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        "B_enc": (0.0, 1.0), "B_start": (0.0, 1.0), "B_rec": (0.0, 1.0),
        "Lfc": (0.0, math.inf), "Lcf": (0.0, math.inf), "Afc": (0.0, math.inf),
        "Dfc": (0.0, math.inf), "Acf": (0.0, math.inf), "Dcf": (0.0, math.inf),
        "P1": (0.0, math.inf), "P2": (0.0, math.inf), "T": (0.0, math.inf),
        "X1": (0.0, 1.0), "X2": (-math.inf, math.inf),
    }
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        "B_enc": (0.0, 1.0), "B_start": (0.0, 1.0), "B_rec": (0.0, 1.0),
        "Lfc": (0.0, 1.0), "Lcf": (0.0, 1.0), "Afc": (0.0, 1.0), "Dfc": (0.0, 1.0),
        "Acf": (0.0, 1.0), "Dcf": (0.0, 1.0), "P1": (0.0, 10.0), "P2": (0.01, 10.0),
        "T": (0.01, 1.0), "X1": (0.0, 1.0), "X2": (0.0, 5.0),
    }


@dataclass(frozen=True)
class SemanticParams(JaxcmrParams):
    """Semantic CMR parameters with jaxcmr's names
    (``jaxcmr/models/additive_semantic_cmr.py``, ``multiplicative_semantic_cmr.py``):
    base CMR's plus ``semantic_scale``, the weight of the pre-experimental semantic
    associations of the item just recalled (additive: a multiplier of the associations
    added to the support; multiplicative: the exponent of their power-scaled strengths).
    """

    semantic_scale: float = 1.0

    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.VALID, "semantic_scale": (0.0, math.inf)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.BOUNDS, "semantic_scale": (_EPS, 100.0)}


@dataclass(frozen=True)
class CymrCategoryParams(ParamsBase):
    """cymr's CMR with a localist (``loc``) and a category (``cat``) context sublayer,
    each with its own drift rates (``set_sublayer_param('c', s, {'B_enc': 'B_enc_s',
    'B_start': 'B_start_s', 'B_rec': 'B_rec_s'})``); the weights ``'Afc + Dfc * s'`` /
    ``'Acf + Dcf * s'``, learning rates, primacy, choice and stop parameters are shared
    by the two sublayers (names and bounds as :class:`CymrParams`)."""

    B_enc_loc: float = 0.7
    B_start_loc: float = 0.3
    B_rec_loc: float = 0.8
    B_enc_cat: float = 0.5
    B_start_cat: float = 0.3
    B_rec_cat: float = 0.5
    Lfc: float = 0.3
    Lcf: float = 0.3
    Afc: float = 0.0
    Dfc: float = 0.7
    Acf: float = 0.05
    Dcf: float = 0.7
    P1: float = 2.0
    P2: float = 1.0
    T: float = 0.1
    X1: float = 0.02
    X2: float = 0.2

    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **{f"{b}_{s}": (0.0, 1.0) for b in ("B_enc", "B_start", "B_rec")
           for s in ("loc", "cat")},
        **{k: v for k, v in CymrParams.VALID.items() if not k.startswith("B_")}}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **{f"{b}_{s}": (0.0, 1.0) for b in ("B_enc", "B_start", "B_rec")
           for s in ("loc", "cat")},
        **{k: v for k, v in CymrParams.BOUNDS.items() if not k.startswith("B_")}}


@dataclass(frozen=True)
class EcmrParams(JaxcmrParams):
    """eCMR parameters (Talmi, Lohnas & Daw 2019) with jaxcmr's names
    (``jaxcmr/models/ecmr.py``): base CMR's plus

    - ``emotion_scale``: encoding strength of emotional items, ``phi_emot =
      emotion_scale * is_emotional``;
    - ``emotion_drift_rate``: drift of the emotional context at study (jaxcmr default 1;
      at recall the emotional context drifts with ``start_drift_rate`` /
      ``recall_drift_rate``);
    - ``modulate_emotion_by_primacy`` (switch): emotional MCF rate ``primacy * phi_emot``
      (on) or ``primacy + phi_emot`` (off);
    - ``phi_emot_modulates_temporal`` (switch): temporal MCF rate ``primacy + phi_emot``
      (on) or ``primacy`` (off).
    """

    emotion_scale: float = 1.0
    emotion_drift_rate: float = 1.0
    modulate_emotion_by_primacy: bool = True
    phi_emot_modulates_temporal: bool = False

    FLAGS: ClassVar[tuple[str, ...]] = ("learn_after_context_update",
                                        "modulate_emotion_by_primacy",
                                        "phi_emot_modulates_temporal")
    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.VALID, "emotion_scale": (0.0, math.inf),
        "emotion_drift_rate": (0.0, 1.0), "modulate_emotion_by_primacy": (0.0, 1.0),
        "phi_emot_modulates_temporal": (0.0, 1.0)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.BOUNDS, "emotion_scale": (_EPS, 100.0),
        "emotion_drift_rate": (_EPS, 1 - _EPS)}


@dataclass(frozen=True)
class Cmr3Params(EcmrParams):
    """CMR3 parameters (Cohen & Kahana 2022) with jaxcmr's names (``models/cmr3.py``):
    the same names as :class:`EcmrParams`; the emotional layer's poles are negative and
    positive valence instead of emotional and neutral."""


@dataclass(frozen=True)
class EcmrSalienceParams(EcmrParams):
    """eCMR with graded emotion: ``phi_emot = emotion_scale * s(E; salience_beta)`` for
    emotional items, ``s`` the package's salience function (attractor family)."""

    salience_beta: float = 1.0

    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **EcmrParams.VALID, "salience_beta": (-math.inf, math.inf)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **EcmrParams.BOUNDS, "salience_beta": (-5.0, 5.0)}


_LPP = {"lpp_main_scale": (-math.inf, math.inf), "lpp_main_threshold": (-math.inf, math.inf),
        "lpp_inter_scale": (-math.inf, math.inf),
        "lpp_inter_threshold": (-math.inf, math.inf)}


@dataclass(frozen=True)
class EegCmrParams(JaxcmrParams):
    """Parameters of jaxcmr's EEG-informed CMR (``jaxcmr/models/eeg_cmr.py``) and
    two-layer eCMR (``eeg_ecmr.py``): base CMR's plus, with ``e_i`` the emotional flag
    (``condition != 2``) and ``x_i`` the centred early LPP (µV, as recorded),

        m_i = emotion_scale e_i + lpp_main_scale (x_i - lpp_main_threshold)
              + lpp_inter_scale (x_i - lpp_inter_threshold) e_i

    and the switch ``modulate_emotion_by_primacy`` (rate ``primacy * max(0, m_i)`` on,
    see the variants for off). ``BOUNDS``: jaxcmr's EEG fitting configs
    (``emotion_scale`` ``[eps, 10]``, LPP scales ``[eps, 100]``, thresholds ``[-5, 5]``).
    """

    emotion_scale: float = 1.0
    lpp_main_scale: float = 0.0
    lpp_main_threshold: float = 0.0
    lpp_inter_scale: float = 0.0
    lpp_inter_threshold: float = 0.0
    modulate_emotion_by_primacy: bool = False

    FLAGS: ClassVar[tuple[str, ...]] = ("learn_after_context_update",
                                        "modulate_emotion_by_primacy")
    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.VALID, "emotion_scale": (-math.inf, math.inf), **_LPP,
        "modulate_emotion_by_primacy": (0.0, 1.0)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.BOUNDS, "emotion_scale": (_EPS, 10.0),
        "lpp_main_scale": (_EPS, 100.0), "lpp_main_threshold": (-5.0, 5.0),
        "lpp_inter_scale": (_EPS, 100.0), "lpp_inter_threshold": (-5.0, 5.0)}


@dataclass(frozen=True)
class EegEcmrParams(EegCmrParams):
    """Parameters of jaxcmr's ``eeg_ecmr.py``: the names of :class:`EegCmrParams`; the
    encoding strength ``max(0, m_i)`` drives an emotional support vector instead of the
    temporal MCF."""


@dataclass(frozen=True)
class EegSimpleEcmrParams(JaxcmrParams):
    """Parameters of jaxcmr's ``eeg_simple_ecmr.py``: base CMR's plus ``emotion_scale``,
    ``lpp_scale`` (``phi_i = max(0, emotion_scale + lpp_scale x_i)`` for emotional items,
    ``x`` the LPP centred among the list's emotional items) and the switch
    ``modulate_emotion_by_primacy``. ``lpp_scale``'s bounds ``[eps, 100]`` follow the
    other LPP scales (no fitting config of this file was found)."""

    emotion_scale: float = 1.0
    lpp_scale: float = 0.0
    modulate_emotion_by_primacy: bool = False

    FLAGS: ClassVar[tuple[str, ...]] = ("learn_after_context_update",
                                        "modulate_emotion_by_primacy")
    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.VALID, "emotion_scale": (-math.inf, math.inf),
        "lpp_scale": (-math.inf, math.inf), "modulate_emotion_by_primacy": (0.0, 1.0)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **JaxcmrParams.BOUNDS, "emotion_scale": (_EPS, 10.0), "lpp_scale": (_EPS, 100.0)}


@dataclass(frozen=True)
class EegStrengthParams(ParamsBase):
    """Parameters of jaxcmr's ``eeg_strength.py`` (no retrieved context): item ``i``'s
    strength is ``P_i max(1, 1 + m_i)`` (``modulate_emotion_by_primacy`` on) or
    ``P_i + max(-P_i, m_i)`` (off), ``m_i = lpp_slope (x_i - lpp_threshold) e_i`` with
    ``P_i = primacy_scale exp(-primacy_decay i) + 1``; power choice over strengths,
    positional stop. ``BOUNDS``: jaxcmr's configs (``lpp_slope`` ``[eps, 10]``,
    ``lpp_threshold`` ``[-5, 5]``; the rest as :class:`JaxcmrParams`)."""

    primacy_scale: float = 2.0
    primacy_decay: float = 0.5
    choice_sensitivity: float = 2.0
    stop_probability_scale: float = 0.02
    stop_probability_growth: float = 0.2
    lpp_slope: float = 0.0
    lpp_threshold: float = 0.0
    modulate_emotion_by_primacy: bool = False

    FLAGS: ClassVar[tuple[str, ...]] = ("modulate_emotion_by_primacy",)
    VALID: ClassVar[dict[str, tuple[float, float]]] = {
        **{k: JaxcmrParams.VALID[k] for k in ("primacy_scale", "primacy_decay",
                                              "choice_sensitivity", "stop_probability_scale",
                                              "stop_probability_growth")},
        "lpp_slope": (-math.inf, math.inf), "lpp_threshold": (-math.inf, math.inf),
        "modulate_emotion_by_primacy": (0.0, 1.0)}
    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        **{k: JaxcmrParams.BOUNDS[k] for k in ("primacy_scale", "primacy_decay",
                                               "choice_sensitivity", "stop_probability_scale",
                                               "stop_probability_growth")},
        "lpp_slope": (_EPS, 10.0), "lpp_threshold": (-5.0, 5.0)}

"""The components a CMR variant is composed of, each with one small interface.

A variant (:class:`engramlab.cmr.Variant`) is a composition of

- a :class:`ContextRule` — how context integrates its input (``integrate(c, c_in, B)``);
- one or more :class:`Layer` s — a context layer with its pre-experimental memories
  (:class:`PreExperimental`), its learning-rate schedule (:class:`Schedule`) and its drift
  rates (:class:`Drift`). Layer 0 is temporal context; further layers (eCMR's emotional
  context, CMR3's valence context) add their support to the temporal one at retrieval;
- a :class:`ChoiceRule` — log-probabilities of recalling each item from its support;
- a :class:`StopRule` — the probability of stopping before the next recall.

Every component is a frozen dataclass (hashable, so a variant is a static argument of
``jax.jit``) whose methods are pure JAX functions of the parameter dict ``p`` (name ->
traced scalar). Components name the parameters they read, so one component class serves
several parameterisations (jaxcmr's names and cymr's), and *declare* them: every
component's :meth:`~Component.reads` is the set of parameter names it reads (its fields
listed in ``PARAMS`` that hold a name, not a constant) and :meth:`~Component.columns` the
per-study-event data columns it reads; :class:`~engramlab.cmr.Variant` checks both against
its parameter class and features at registration, and counts only parameters some
component reads as free. Subclass the abstract bases to add
your own (see ``docs/cmr.md``, "Adding a variant").

Shapes: ``L`` list length, ``K`` context units of a layer; MFC ``(L, K)`` (item ->
context), MCF ``(K, L)`` (context -> item); items are localist by serial position.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "LB", "Component", "ContextRule", "ScalarRho", "UnitRho", "PreExperimental", "LocalistPreexp",
    "PoolPreexp", "Schedule", "PrimacySchedule", "Drift", "Layer", "ChoiceRule",
    "PowerChoice", "ExponentialChoice", "StopRule", "StopState", "PositionalStop",
    "ExponentialStop", "value_of", "EmotionalPreexp", "EmotionSchedule", "Indicator",
    "Covariate", "Term", "CovariateLink", "CovariateSchedule", "CovariateDrift", "GatePreexp",
    "StaticPreexp", "StaticContext", "CENTRES", "LINKS", "EMOTIONAL", "ITEM_PREFIX",
    "RecallCue", "SemanticCue", "power_scale", "log_power_scale",
]

#: jaxcmr's lower bound ``lb``: float32 machine epsilon (``jaxcmr/math.py``).
LB = 1.1920928955078125e-07
#: Prefix of the ``aux`` keys that hold item data (``aux["items:similarity"]``).
ITEM_PREFIX = "items:"
_AMIN = 1e-6  # cymr's minimum activation / temperature


def value_of(p: dict[str, jax.Array], ref: str | float) -> jax.Array:
    """``p[ref]`` when ``ref`` names a parameter, else the constant ``ref``."""
    return p[ref] if isinstance(ref, str) else jnp.asarray(ref)


class Component:
    """What every component shares: the declaration of what it reads.

    ``PARAMS`` names the dataclass fields that hold parameter names (a field holding a
    number is a constant and reads nothing); ``COLUMNS`` the fields that hold data column
    names. Override :meth:`reads` / :meth:`columns` where what is read depends on a
    setting (e.g. :class:`EmotionSchedule`'s pathway)."""

    PARAMS: ClassVar[tuple[str, ...]] = ()
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    #: Fields holding sub-components (a component, a tuple of them, or ``None``): their
    #: reads, columns, checks and derived columns are this component's too.
    PARTS: ClassVar[tuple[str, ...]] = ()
    #: Numeric settings (not parameters): field -> closed valid range ``(lo, hi)``.
    CONSTANTS: ClassVar[dict[str, tuple[float, float]]] = {}
    #: Boolean settings.
    SWITCHES: ClassVar[tuple[str, ...]] = ()
    #: Item data the component reads (keys of ``engramlab.cmr._items.ITEM_KEYS``,
    #: e.g. ``"similarity"``): each list gets ``aux[ITEM_PREFIX + key]`` built from the
    #: ``items=`` (:class:`~engramlab.cmr.ItemFeatures`) of the call.
    ITEMS: ClassVar[tuple[str, ...]] = ()

    def check(self, where: str) -> None:
        """Raise :class:`~engramlab.errors.ConfigError` (naming ``where.field``) unless
        every ``PARAMS`` field is a parameter name or a finite number, every ``COLUMNS``
        field a column name (or ``None``), every ``CONSTANTS`` field a finite number in
        its range and every ``SWITCHES`` field a bool. Called by
        :class:`~engramlab.cmr.Variant` for each of its components."""
        from ..errors import ConfigError

        def is_num(v: object) -> bool:
            return (isinstance(v, (int, float)) and not isinstance(v, bool)
                    and math.isfinite(v))

        for f in self.PARAMS:
            v = getattr(self, f)
            if not ((isinstance(v, str) and v) or is_num(v)):
                raise ConfigError(f"{where}.{f}: expected a parameter name or a finite "
                                  f"number, got {v!r:.80}")
        for f in self.COLUMNS:
            v = getattr(self, f)
            if not (v is None or (isinstance(v, str) and v)):
                raise ConfigError(f"{where}.{f}: expected a data column name, got "
                                  f"{v!r:.80}")
        for f, (lo, hi) in self.CONSTANTS.items():
            v = getattr(self, f)
            if not (is_num(v) and lo <= v <= hi):
                raise ConfigError(f"{where}.{f}: expected a finite number in [{lo:g}, "
                                  f"{hi:g}], got {v!r:.80}")
        for f in self.SWITCHES:
            v = getattr(self, f)
            if not isinstance(v, bool):
                raise ConfigError(f"{where}.{f}: expected True or False, got {v!r:.80}")
        for f, part in self._parts():
            part.check(f"{where}.{f}")

    def _parts(self) -> list[tuple[str, Component]]:
        """``(field, sub-component)`` of every ``PARTS`` field (tuples flattened)."""
        from ..errors import ConfigError

        out = []
        for f in self.PARTS:
            v = getattr(self, f)
            items = v if isinstance(v, tuple) else (v,)
            for k, c in enumerate(items):
                nm = f"{f}[{k}]" if isinstance(v, tuple) else f
                if c is None:
                    continue
                if not isinstance(c, Component):
                    raise ConfigError(f"{type(self).__name__}.{nm}: expected a component, "
                                      f"got {type(c).__name__} {c!r:.80}")
                out.append((nm, c))
        return out

    def reads(self) -> frozenset[str]:
        """Parameter names this component (and its ``PARTS``) reads from ``p``."""
        own = frozenset(v for f in self.PARAMS if isinstance(v := getattr(self, f), str))
        return own.union(*(c.reads() for _, c in self._parts()))

    def columns(self) -> frozenset[str]:
        """Per-study-event data columns this component (and its ``PARTS``) reads."""
        own = frozenset(v for f in self.COLUMNS if isinstance(v := getattr(self, f), str))
        return own.union(*(c.columns() for _, c in self._parts()))

    def item_data(self) -> frozenset[str]:
        """Item data this component (and its ``PARTS``) reads (see ``ITEMS``)."""
        return frozenset(self.ITEMS).union(*(c.item_data() for _, c in self._parts()))

    def derive(self, columns: Mapping[str, np.ndarray],
               subject: np.ndarray) -> dict[str, np.ndarray]:
        """Derived per-study-event columns this component reads (e.g. a covariate centred
        within subject), computed by the data layer from the raw ``columns`` (name ->
        ``(n, L)`` float64) and ``subject`` ``(n,)`` before any list is scored. Default:
        those of its ``PARTS`` (none of its own)."""
        out: dict[str, np.ndarray] = {}
        for _, c in self._parts():
            out.update(c.derive(columns, subject))
        return out

    def derived_columns(self) -> frozenset[str]:
        """Names of the columns :meth:`derive` adds (known without data)."""
        return frozenset().union(*(c.derived_columns() for _, c in self._parts()))


def _check_choice(obj: object, field: str, allowed: tuple[str, ...]) -> None:
    from ..errors import ConfigError

    v = getattr(obj, field)
    if v not in allowed:
        raise ConfigError(f"{type(obj).__name__}.{field}: expected one of {list(allowed)}, "
                          f"got {v!r}")


def _safe_sqrt(x: jax.Array) -> jax.Array:
    """``sqrt(max(x, 0))`` with a finite gradient everywhere (0 where ``x <= 0``).

    The rho of both context rules is ``sqrt(1 + B^2 (d^2 - 1))``, which is 0 at ``B = 1,
    d = 0`` (a drift rate of 1, e.g. eCMR's fixed ``emotion_drift_rate``): the plain
    ``sqrt`` has an infinite derivative there and the chain rule gives ``inf * 0 = NaN``.
    The double ``where`` keeps the value and takes the one-sided derivative 0 there
    (the function ``|d|`` at ``B = 1`` has subgradient 0 at ``d = 0``)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), 0.0)


def _exact_normalize(x: jax.Array) -> jax.Array:
    ss = jnp.sum(x * x)
    return jnp.where(ss > 0, x / jnp.sqrt(jnp.where(ss > 0, ss, 1.0)), x)


# --------------------------------------------------------------------------- context
class ContextRule(Component, abc.ABC):
    """How context ``c`` (unit length) integrates the raw input ``c_in`` with rate ``B``."""

    @abc.abstractmethod
    def integrate(self, c: jax.Array, c_in: jax.Array, B: jax.Array) -> jax.Array:
        """New context, same shape as ``c`` ``(K,)``."""


@dataclass(frozen=True)
class ScalarRho(ContextRule):
    """The papers' rule (Howard & Kahana 2002; Polyn, Norman & Kahana 2009, eq. 2; cymr):

        c_in  = c_in / ||c_in||
        rho   = sqrt(1 + B^2 ((c . c_in)^2 - 1)) - B (c . c_in)      (a scalar)
        c_new = rho c + B c_in                    (||c_new|| = 1 exactly)
    """

    def integrate(self, c, c_in, B):
        c_in = _exact_normalize(c_in)
        d = jnp.dot(c, c_in)
        rho = _safe_sqrt(1.0 + B * B * (d * d - 1.0)) - B * d
        return rho * c + B * c_in


@dataclass(frozen=True)
class UnitRho(ContextRule):
    """jaxcmr's rule (``jaxcmr/components/context.py``, ``TemporalContext.integrate``):

        c_in  = c_in / sqrt(sum c_in^2 + eps)
        x     = c * c_in                                   (elementwise, per unit)
        rho   = sqrt(1 + B^2 (x^2 - 1)) - B x               (a vector)
        c_new = (rho * c + B c_in) / sqrt(sum (rho * c + B c_in)^2 + eps)

    with ``eps = lb`` (float32 epsilon, jaxcmr's ``normalize_magnitude``). The product is
    elementwise where the papers use the dot product, so ``rho`` differs per unit and the
    result is renormalised.
    """

    eps: float = LB

    CONSTANTS = {"eps": (0.0, 1e-2)}

    def integrate(self, c, c_in, B):
        c_in = c_in / jnp.sqrt(jnp.sum(c_in * c_in) + self.eps)
        x = c * c_in
        rho = _safe_sqrt(1.0 + B * B * (x * x - 1.0)) - B * x
        out = rho * c + B * c_in
        return out / jnp.sqrt(jnp.sum(out * out) + self.eps)


# ------------------------------------------------------------------- pre-experimental
class PreExperimental(Component, abc.ABC):
    """Pre-experimental MFC ``(L, K)`` and MCF ``(K, L)`` of one context layer."""

    @abc.abstractmethod
    def size(self, L: int) -> int:
        """Number of context units ``K`` of the layer (unit 0: start of list)."""

    @abc.abstractmethod
    def init(self, p: dict, L: int, aux: dict) -> tuple[jax.Array, jax.Array]:
        """``(mfc, mcf)`` states; ``aux`` holds per-list data (``sqrt_m``, features)."""


@dataclass(frozen=True)
class LocalistPreexp(PreExperimental):
    """``K = L + 1``: item ``i`` owns context unit ``i + 1``.

    ``MFC = (1 - mfc_rate) [0 | I]``; MCF: start row 0, every list unit supports every
    item with ``shared``, and its own item with

    - ``own="set"``: ``item`` (jaxcmr's ``init_mcf`` *sets* the own-item entry), or
    - ``own="add"``: ``shared + item`` (the seed notebook's reading, cymr's
      ``Acf + Dcf``).
    """

    mfc_rate: str = "learning_rate"
    shared: str = "shared_support"
    item: str = "item_support"
    own: str = "set"

    PARAMS = ("mfc_rate", "shared", "item")

    def __post_init__(self) -> None:
        _check_choice(self, "own", ("set", "add"))

    def size(self, L):
        return L + 1

    def init(self, p, L, aux):
        own = jnp.eye(L, L + 1, k=1)
        mfc = (1.0 - value_of(p, self.mfc_rate)) * own
        listu = jnp.zeros((L, L + 1)).at[:, 1:].set(1.0)
        shared, item = value_of(p, self.shared), value_of(p, self.item)
        if self.own == "set":
            mcf = shared * (listu - own) + item * own
        else:
            mcf = shared * listu + item * own
        return mfc, mcf.T


@dataclass(frozen=True)
class PoolPreexp(PreExperimental):
    """cymr's localist network (``config_loc_cmr``), ``K = L + 2``.

    ``MFC[i, u] = Afc + Dfc [u is i's unit]``, ``MCF[u, i] = Acf + Dcf [u is i's unit]``
    over all pool units ``u``. The ``m = pool - L`` units of unstudied items always hold
    one common value, so they are one unit (index ``L + 1``) holding ``sqrt(m)`` times it,
    with weights ``sqrt(m) Afc`` and ``sqrt(m) Acf``: every dot product, norm and Hebbian
    update equals the full network's (``aux["sqrt_m"]``).
    """

    Afc: str = "Afc"
    Dfc: str = "Dfc"
    Acf: str = "Acf"
    Dcf: str = "Dcf"

    PARAMS = ("Afc", "Dfc", "Acf", "Dcf")

    def size(self, L):
        return L + 2

    def init(self, p, L, aux):
        own = jnp.eye(L, L + 2, k=1)
        listu = jnp.zeros((L, L + 2)).at[:, 1:L + 1].set(1.0).at[:, L + 1].set(aux["sqrt_m"])
        mfc = value_of(p, self.Afc) * listu + value_of(p, self.Dfc) * own
        mcf = value_of(p, self.Acf) * listu + value_of(p, self.Dcf) * own
        return mfc, mcf.T


@dataclass(frozen=True)
class EmotionalPreexp(PreExperimental):
    """A 3-unit emotional context layer: start of list, pole A, pole B (eCMR, CMR3).

    ``poles="emotional/neutral"`` (eCMR, Talmi, Lohnas & Daw 2019; jaxcmr
    ``models/ecmr.py``): every item feeds one pole, ``A = [valence != 0]``,
    ``B = 1 - A``. ``poles="negative/positive"`` (CMR3, Cohen & Kahana 2022; jaxcmr
    ``models/cmr3.py``): ``A = [valence < 0]``, ``B = [valence > 0]``; neutral items
    have no valence feature and inject no input. ``MFC[i] = (1 - mfc_rate) (0, A_i,
    B_i)``; MCF starts at zero. ``aux[feature]`` is the list's ``(L,)`` valence.
    """

    poles: str = "emotional/neutral"
    feature: str = "valence"
    mfc_rate: str = "learning_rate"

    PARAMS = ("mfc_rate",)
    COLUMNS = ("feature",)

    def __post_init__(self) -> None:
        _check_choice(self, "poles", ("emotional/neutral", "negative/positive"))

    def size(self, L):
        return 3

    def init(self, p, L, aux):
        v = aux[self.feature]
        if self.poles == "emotional/neutral":
            a = (v != 0).astype(v.dtype)
            b = 1.0 - a
        else:
            a = (v < 0).astype(v.dtype)
            b = (v > 0).astype(v.dtype)
        keep = 1.0 - value_of(p, self.mfc_rate)
        mfc = jnp.zeros((L, 3)).at[:, 1].set(keep * a).at[:, 2].set(keep * b)
        return mfc, jnp.zeros((3, L))


@dataclass(frozen=True)
class CategoryPreexp(PreExperimental):
    """A category context layer (cymr's ``'cat'`` context sublayer with one-hot category
    patterns, weights ``'Afc + Dfc * cat'`` / ``'Acf + Dcf * cat'``), ``K = C + 1``: the
    start unit and one unit per category of the pool (``C`` from the item data, all
    kept even when a list holds fewer categories: with ``Afc, Acf > 0`` every list item
    also reaches the absent categories' units)::

        MFC[i, 1 + k] = Afc + Dfc [cat(i) = k],   MCF = (Acf + Dcf [cat(i) = k])^T

    with 0 on the start unit. Category units are shared by studied and unstudied items
    (an unstudied item has no item unit, so nothing needs collapsing as
    :class:`PoolPreexp` does). ``aux["items:category_onehot"]`` ``(L, C)`` is the list's
    one-hot category patterns (an item with no category: an all-zero row)."""

    Afc: str = "Afc"
    Dfc: str = "Dfc"
    Acf: str = "Acf"
    Dcf: str = "Dcf"

    PARAMS = ("Afc", "Dfc", "Acf", "Dcf")
    ITEMS = ("category_onehot",)

    def size(self, L):
        return L + 1  # an estimate for resource checks: the data fix C

    def init(self, p, L, aux):
        oh = aux[ITEM_PREFIX + "category_onehot"]
        pad = jnp.zeros((L, 1), oh.dtype)
        pat = jnp.concatenate([pad, oh], axis=1)
        listu = jnp.concatenate([pad, jnp.ones_like(oh)], axis=1)
        mfc = value_of(p, self.Afc) * listu + value_of(p, self.Dfc) * pat
        mcf = value_of(p, self.Acf) * listu + value_of(p, self.Dcf) * pat
        return mfc, mcf.T


# ---------------------------------------------------------------- learning schedules
class Schedule(Component, abc.ABC):
    """Learning rates at study: MFC rate (scalar) and MCF rate per serial position."""

    @abc.abstractmethod
    def mfc_rate(self, p: dict) -> jax.Array:
        """Scalar MFC learning rate."""

    @abc.abstractmethod
    def mcf_rates(self, p: dict, L: int, aux: dict) -> jax.Array:
        """MCF learning rate of each serial position, ``(L,)``."""


@dataclass(frozen=True)
class PrimacySchedule(Schedule):
    """``L_cf(i) = base + scale exp(-decay i)``, ``i = 0..L-1``; ``L_fc = mfc``.

    jaxcmr: ``primacy_scale exp(-primacy_decay i) + 1`` (``exponential_primacy_decay``);
    cymr: ``Lcf + P1 exp(-P2 i)``.
    """

    scale: str = "primacy_scale"
    decay: str = "primacy_decay"
    base: str | float = 1.0
    mfc: str = "learning_rate"

    PARAMS = ("scale", "decay", "base", "mfc")

    def mfc_rate(self, p):
        return value_of(p, self.mfc)

    def primacy(self, p, L):
        i = jnp.arange(L)
        return value_of(p, self.scale) * jnp.exp(-value_of(p, self.decay) * i) \
            + value_of(p, self.base)

    def mcf_rates(self, p, L, aux):
        return self.primacy(p, L)


@dataclass(frozen=True)
class EmotionSchedule(Schedule):
    """Emotion-modulated MCF learning (eCMR's encoding strength ``phi_emot``).

    ``phi_i = max(0, emotion_scale s_i)`` with ``s_i = [valence_i != 0]`` (``salience=
    "indicator"``, jaxcmr's ``emotion_scale * is_emotional``) or, for graded emotion,
    ``s_i = s(E_i; beta) [valence_i != 0]`` with the package's one salience function
    (:mod:`engramlab._salience`: ``"exp"``, ``"linear"``, ``"seed"``, the attractor
    family's imprint weights) of ``E_i = |aux[intensity]|`` (e.g. an ``arousal`` column;
    default the valence magnitude). With primacy ``P_i`` (``primacy``):

    - ``pathway="emotional"`` (the emotional layer's MCF): ``P_i phi_i`` when the switch
      ``modulate_emotion_by_primacy`` is on, else ``P_i + max(-P_i, phi_i)``;
    - ``pathway="temporal"`` (temporal MCF): ``P_i + max(-P_i, phi_i)`` when
      ``phi_emot_modulates_temporal`` is on, else ``P_i``.
    """

    primacy: PrimacySchedule = PrimacySchedule()
    pathway: str = "emotional"
    scale: str = "emotion_scale"
    by_primacy: str = "modulate_emotion_by_primacy"
    temporal: str = "phi_emot_modulates_temporal"
    feature: str = "valence"
    salience: str = "indicator"
    intensity: str | None = None
    beta: str | float = 1.0

    PARAMS = ("scale", "by_primacy", "temporal", "beta")
    COLUMNS = ("feature", "intensity")

    def __post_init__(self) -> None:
        from .._salience import SALIENCE_KINDS

        _check_choice(self, "pathway", ("emotional", "temporal"))
        if not callable(self.salience):
            _check_choice(self, "salience", ("indicator", *SALIENCE_KINDS))

    def reads(self) -> frozenset[str]:
        """The primacy schedule's parameters, ``scale``, the pathway's switch
        (``by_primacy`` or ``temporal``) and, for graded salience, ``beta``."""
        own = ["scale", "by_primacy" if self.pathway == "emotional" else "temporal"]
        if self.salience != "indicator":
            own.append("beta")
        return self.primacy.reads() | frozenset(
            v for f in own if isinstance(v := getattr(self, f), str))

    def check(self, where: str) -> None:
        super().check(where)
        if not isinstance(self.primacy, PrimacySchedule):
            from ..errors import ConfigError

            raise ConfigError(f"{where}.primacy: expected a PrimacySchedule, got "
                              f"{type(self.primacy).__name__} {self.primacy!r:.80}")
        self.primacy.check(f"{where}.primacy")

    def columns(self) -> frozenset[str]:
        cols = {self.feature}
        if self.salience != "indicator" and self.intensity is not None:
            cols.add(self.intensity)
        return frozenset(cols)

    def mfc_rate(self, p):
        return self.primacy.mfc_rate(p)

    def phi(self, p, L, aux):
        """``phi_emot`` of every serial position, ``(L,)``."""
        from .._salience import salience_value

        emotional = aux[self.feature] != 0
        if self.salience == "indicator":
            s = emotional.astype(aux[self.feature].dtype)
        else:
            e = jnp.abs(aux[self.intensity or self.feature])
            s = jnp.where(emotional, salience_value(e, value_of(p, self.beta),
                                                    self.salience), 0.0)
        return jnp.maximum(0.0, value_of(p, self.scale) * s)

    def mcf_rates(self, p, L, aux):
        pr = self.primacy.primacy(p, L)
        phi = self.phi(p, L, aux)
        additive = pr + jnp.maximum(-pr, phi)
        if self.pathway == "emotional":
            return jnp.where(value_of(p, self.by_primacy) > 0.5, pr * phi, additive)
        return jnp.where(value_of(p, self.temporal) > 0.5, additive, pr)


@dataclass(frozen=True)
class Drift(Component):
    """Names (or constants) of a layer's drift rates at study, start of recall, recall."""

    encoding: str | float = "encoding_drift_rate"
    start: str | float = "start_drift_rate"
    recall: str | float = "recall_drift_rate"

    PARAMS = ("encoding", "start", "recall")

    def rates(self, p: dict) -> tuple[jax.Array, jax.Array, jax.Array]:
        return value_of(p, self.encoding), value_of(p, self.start), value_of(p, self.recall)

    def encoding_rates(self, p: dict, L: int, aux: dict) -> jax.Array:
        """The study drift rate of every serial position, ``(L,)`` (here all equal)."""
        return jnp.broadcast_to(value_of(p, self.encoding), (L,))


@dataclass(frozen=True)
class Layer(Component):
    """One context layer: pre-experimental memories, learning schedule, drift rates.

    Optional overrides of the variant-wide settings, for this layer only:

    - ``context``: its :class:`ContextRule` (``None``: the variant's);
    - ``learn_after``: ``True`` / ``False`` learning with the context after / before the
      study drift (``None``: the variant's ``learn_after``);
    - ``mask_support``: ``True`` (default) its support reaches only recallable items;
      ``False``: it also reaches items already recalled, where a choice rule that scales
      over every item sees it (jaxcmr's ``eeg_ecmr`` emotional vector enters
      ``power_scale``'s max unmasked; :class:`PowerChoice` ``scale_unrecallable``).
    """

    preexp: PreExperimental
    schedule: Schedule
    drift: Drift = Drift()
    context: ContextRule | None = None
    learn_after: bool | None = None
    mask_support: bool = True

    PARTS = ("preexp", "schedule", "drift", "context")
    SWITCHES = ("mask_support",)

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        for nm, obj, base in (("preexp", self.preexp, PreExperimental),
                              ("schedule", self.schedule, Schedule),
                              ("drift", self.drift, Drift)):
            if not isinstance(obj, base):
                raise ConfigError(f"Layer.{nm}: expected a {base.__name__}, got "
                                  f"{type(obj).__name__} {obj!r:.80}")
        if self.context is not None and not isinstance(self.context, ContextRule):
            raise ConfigError(f"Layer.context: expected None or a ContextRule, got "
                              f"{type(self.context).__name__} {self.context!r:.80}")
        if self.learn_after is not None and not isinstance(self.learn_after, bool):
            raise ConfigError(f"Layer.learn_after: expected None, True or False, got "
                              f"{self.learn_after!r:.80}")

    def parts(self) -> tuple[Component, ...]:
        return tuple(c for _, c in self._parts())


# --------------------------------------------------------------------------- choice
class ChoiceRule(Component, abc.ABC):
    """Log choice probabilities over items from their support ``a`` ``(L,)``.

    ``factor`` (``None``, or a multiplicative retrieval cue's strengths ``g`` in log form,
    ``(log g, g > 0)``, each ``(L,)``: :class:`SemanticCue` ``combine="multiply"``,
    :func:`log_power_scale`), for a rule whose ``ACCEPTS_FACTOR`` is true; others never
    receive one (the variant checks the pairing)."""

    #: Whether the rule multiplies its strengths by a cue's ``factor``.
    ACCEPTS_FACTOR: ClassVar[bool] = False

    @abc.abstractmethod
    def logp(self, a: jax.Array, recallable: jax.Array, p: dict,
             factor: jax.Array | None = None) -> jax.Array:
        """``(L,)`` log-probabilities, ``-inf`` where not ``recallable``."""

    def log_prob(self, a: jax.Array, recallable: jax.Array, p: dict,
                 i: jax.Array, factor: jax.Array | None = None) -> jax.Array:
        """``logp(a, recallable, p)[i]``, a scalar (the likelihood needs only the
        recalled item's; a rule may compute it without the other items' logs)."""
        return self.logp(a, recallable, p, factor)[i]


def _masked_log(s: jax.Array, recallable: jax.Array) -> jax.Array:
    return jnp.where(recallable, jnp.log(jnp.where(recallable, s, 1.0)), -jnp.inf)


def _power_terms(a: jax.Array, tau: jax.Array):
    """What :func:`power_scale` and :func:`log_power_scale` share: ``pos`` (entries that
    count as positive), ``log a`` (0 elsewhere), whether any entry is positive, and the
    exponent ``tau (log a - max log a)``."""
    # a subnormal support counts as 0 (as float32 with flush-to-zero computes it): the
    # derivative of log(a) there is 1/a = inf and the chain rule gave 0 * inf = NaN
    pos = a >= jnp.finfo(a.dtype).tiny
    loga = jnp.log(jnp.where(pos, a, 1.0))
    m = jnp.max(jnp.where(pos, loga, -jnp.inf))
    any_pos = jnp.any(pos)
    m = jnp.where(any_pos, m, 0.0)
    return pos, loga, any_pos, tau * (loga - m)


def power_scale(a: jax.Array, tau: jax.Array, skip_unit_exponent: bool = True) -> jax.Array:
    """jaxcmr's ``power_scale`` (``jaxcmr/math.py``): ``(a_i / max_j a_j)^tau`` computed
    as ``exp(tau (log a_i - max log a))``; zero entries stay 0. With
    ``skip_unit_exponent`` (jaxcmr), ``a`` is returned unchanged when ``tau == 1`` or
    every entry is 0. Gradients are finite everywhere (see below)."""
    pos, _, any_pos, expo = _power_terms(a, tau)
    # the exponent is masked *before* exp: for a zero support exp(tau (0 - m))
    # overflows to inf and its gradient 0 * inf = NaN reached every parameter
    scaled = jnp.exp(jnp.where(pos, expo, -jnp.inf))
    if skip_unit_exponent:
        scaled = jnp.where(any_pos & (tau != 1.0), scaled, a)
    return scaled


def log_power_scale(a: jax.Array, tau: jax.Array,
                    skip_unit_exponent: bool = True) -> tuple[jax.Array, jax.Array]:
    """:func:`power_scale` in log form: ``(log v, v > 0)`` with ``v = power_scale(a, tau)``
    (``log v`` is 0 where ``v`` is 0), so that a product of two power-scaled vectors costs
    one ``exp`` (the multiplicative semantic cue). Equal to ``log(power_scale(...))`` up
    to rounding, except that subnormal entries count as 0 (as in :func:`power_scale`'s
    exponent)."""
    pos, loga, any_pos, lv = _power_terms(a, tau)
    if skip_unit_exponent:
        lv = jnp.where(any_pos & (tau != 1.0), lv, loga)
    return jnp.where(pos, lv, 0.0), pos


@dataclass(frozen=True)
class PowerChoice(ChoiceRule):
    """Luce choice on powered support (jaxcmr's ``power_scale`` + ``lb``):

        s_i = (a_i / max_j a_j)^tau g_i + lb      over recallable items (0 otherwise)
        P(i) = s_i / sum_j s_j

    with ``g_i = 1``, or a multiplicative cue's strengths ``factor`` (jaxcmr's
    multiplicative semantic CMR: ``g = power_scale(semantic support, semantic_scale)``).

    ``skip_unit_exponent=True`` (jaxcmr, ``jaxcmr/math.py``): when ``tau == 1`` (or every
    support is 0) ``power_scale`` returns ``a`` unchanged, so ``s_i = a_i + lb`` without
    the max-normalisation. ``False`` always normalises.

    ``scale_unrecallable=True`` (jaxcmr's ``eeg_ecmr`` / ``eeg_simple_ecmr`` and additive
    semantic CMR): the max (and the all-zero test) runs over every item's support ``a``
    as given, items already recalled included (there ``a`` holds the support of layers
    with ``mask_support=False``, or an additive cue's); only the result is masked.
    """

    sensitivity: str = "choice_sensitivity"
    floor: float = LB
    skip_unit_exponent: bool = True
    scale_unrecallable: bool = False

    PARAMS = ("sensitivity",)
    CONSTANTS = {"floor": (0.0, 1e-2)}
    SWITCHES = ("skip_unit_exponent", "scale_unrecallable")
    ACCEPTS_FACTOR = True

    def logp(self, a, recallable, p, factor=None):
        s = self._strengths(a, recallable, p, factor)
        return _masked_log(s, recallable) - jnp.log(jnp.sum(s))

    def log_prob(self, a, recallable, p, i, factor=None):
        s = self._strengths(a, recallable, p, factor)
        ok = recallable[i]
        return jnp.where(ok, jnp.log(jnp.where(ok, s[i], 1.0)), -jnp.inf) - jnp.log(jnp.sum(s))

    def _strengths(self, a, recallable, p, factor=None):
        tau = value_of(p, self.sensitivity)
        if not self.scale_unrecallable:
            a = jnp.where(recallable, a, 0.0)
        if factor is None:
            scaled = power_scale(a, tau, self.skip_unit_exponent)
        else:  # a cue's strengths in log form: one exp for the product
            la, pa = log_power_scale(a, tau, self.skip_unit_exponent)
            lf, pf = factor
            ok = pa & pf
            scaled = jnp.where(ok, jnp.exp(jnp.where(ok, la + lf, 0.0)), 0.0)
        return jnp.where(recallable, scaled + self.floor, 0.0)


@dataclass(frozen=True)
class ExponentialChoice(ChoiceRule):
    """cymr: ``P(i) ∝ exp(2 max(a_i, 1e-6) / max(T, 1e-6))`` over recallable items."""

    temperature: str = "T"

    PARAMS = ("temperature",)

    def logp(self, a, recallable, p, factor=None):
        T = value_of(p, self.temperature)
        logits = 2.0 * jnp.maximum(a, _AMIN) / jnp.maximum(T, _AMIN)
        logits = jnp.where(recallable, logits, -jnp.inf)
        return logits - jax.scipy.special.logsumexp(logits)


# ------------------------------------------------------------------------ recall cues
class RecallCue(Component, abc.ABC):
    """Support from the item just recalled, through item-to-item associations that are
    not carried by context (pre-experimental semantic associations).

    ``associations(p, aux, L)`` builds the list's ``(L, L)`` association matrix once per
    list (rows: the cueing item, by study position); before recall ``j`` the model hands
    ``apply`` the row of the item recalled last (``first`` is true before the first
    recall) and the cue returns ``(a, factor)``: the support the choice rule sees, and a
    multiplicative factor for it (``None``: none)."""

    @abc.abstractmethod
    def associations(self, p: dict, aux: dict, L: int) -> jax.Array:
        """``(L, L)`` associations among the list's study items."""

    @abc.abstractmethod
    def apply(self, p: dict, a: jax.Array, recallable: jax.Array, row: jax.Array,
              first: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """``(support, factor)`` before a recall (see the class doc)."""

    def multiplies(self) -> bool:
        """Whether :meth:`apply` returns a factor (the choice rule must accept one)."""
        return False


@dataclass(frozen=True)
class SemanticCue(RecallCue):
    """jaxcmr's semantic CMR (``jaxcmr/models/additive_semantic_cmr.py``,
    ``multiplicative_semantic_cmr.py``; per-list connections from
    ``jaxcmr/components/factory.py`` ``build_trial_connections``).

    The list's associations are ``M = scale * max(S, floor)`` with a zero diagonal, ``S``
    the similarity of its study items (``items=``, an :class:`~engramlab.cmr.ItemFeatures`)
    and ``floor`` jaxcmr's ``lb``. With ``r`` the item recalled last:

    - ``combine="add"``: support ``a_i [i recallable] + M_{r i}`` (0 before the first
      recall) -- the cue also reaches items already recalled, so it goes with
      :class:`PowerChoice` ``scale_unrecallable=True`` (jaxcmr adds it unmasked before
      ``power_scale``);
    - ``combine="multiply"``: choice strengths ``power_scale(a, tau) *
      power_scale(M_r [recallable], scale)`` (``M_r = 1`` before the first recall), the
      factor handed to a choice rule that accepts one (:class:`PowerChoice`). As in
      jaxcmr, ``scale`` is both the factor's exponent and the matrix's multiplier (the
      multiplier cancels in ``power_scale``'s max-normalisation unless ``scale == 1``).
    """

    scale: str | float = "semantic_scale"
    combine: str = "add"
    floor: float = LB
    skip_unit_exponent: bool = True

    PARAMS = ("scale",)
    CONSTANTS = {"floor": (0.0, 1e-2)}
    SWITCHES = ("skip_unit_exponent",)
    ITEMS = ("similarity",)

    def __post_init__(self) -> None:
        _check_choice(self, "combine", ("add", "multiply"))

    def multiplies(self) -> bool:
        return self.combine == "multiply"

    def associations(self, p, aux, L):
        S = aux[ITEM_PREFIX + "similarity"]
        M = jnp.maximum(S, self.floor) * (1.0 - jnp.eye(L, dtype=S.dtype))
        return value_of(p, self.scale) * M

    def apply(self, p, a, recallable, row, first):
        if self.combine == "add":
            return jnp.where(recallable, a, 0.0) + jnp.where(first, 0.0, row), None
        sem = jnp.where(first, 1.0, row) * recallable
        return a, log_power_scale(sem, value_of(p, self.scale), self.skip_unit_exponent)


# ----------------------------------------------------------------------------- stop
class StopState(NamedTuple):
    """What a stop rule may look at before recall ``j``."""

    j: jax.Array  # recalls made so far (int scalar)
    n_recallable: jax.Array  # items still recallable (int scalar)
    support: jax.Array  # (L,) total support a_i of every item
    recallable: jax.Array  # (L,) bool
    list_length: int


class StopRule(Component, abc.ABC):
    """Probability of stopping now, a scalar in ``[0, 1]`` (1 once nothing is left)."""

    @abc.abstractmethod
    def __call__(self, p: dict, s: StopState) -> jax.Array: ...


@dataclass(frozen=True)
class PositionalStop(StopRule):
    """jaxcmr's ``PositionalTermination``:

        P_stop(j) = min(scale exp(growth j), 1 - lb n_recallable)     (1 if none left)
    """

    scale: str = "stop_probability_scale"
    growth: str = "stop_probability_growth"
    cap: float = LB

    PARAMS = ("scale", "growth")
    CONSTANTS = {"cap": (0.0, 1e-4)}

    def __call__(self, p, s):
        ps = jnp.minimum(value_of(p, self.scale) * jnp.exp(value_of(p, self.growth) * s.j),
                         1.0 - self.cap * s.n_recallable)
        return jnp.where(s.n_recallable == 0, 1.0, ps)


@dataclass(frozen=True)
class ExponentialStop(StopRule):
    """cymr: ``P_stop(j) = clip(X1 exp(X2 j), 1e-6, 1 - 1e-6)`` (1 if none left)."""

    scale: str = "X1"
    growth: str = "X2"
    lo: float = 1e-6
    hi: float = 1.0 - 1e-6

    PARAMS = ("scale", "growth")
    CONSTANTS = {"lo": (0.0, 1.0), "hi": (0.0, 1.0)}

    def check(self, where: str) -> None:
        super().check(where)
        if not self.lo < self.hi:
            from ..errors import ConfigError

            raise ConfigError(f"{where}: expected lo < hi, got lo={self.lo!r}, "
                              f"hi={self.hi!r}")

    def __call__(self, p, s):
        ps = jnp.clip(value_of(p, self.scale) * jnp.exp(value_of(p, self.growth) * s.j),
                      self.lo, self.hi)
        return jnp.where(s.n_recallable == 0, 1.0, ps)


# ---------------------------------------------------------- study-event covariates
#: Centring conventions of a :class:`Covariate`.
CENTRES = ("none", "list", "subject")
#: Link functions of a :class:`CovariateLink`.
LINKS = ("identity", "relu", "exp", "softplus", "logistic")
_OPS = {"!=": np.not_equal, "==": np.equal, "<": np.less, "<=": np.less_equal,
        ">": np.greater, ">=": np.greater_equal}
_BIG = 1e300


@dataclass(frozen=True)
class Indicator(Component):
    """A 0/1 flag per study event: ``g_i = [x_i <op> value]`` of data column ``column``.

    jaxcmr's EEG factories read ``is_emotional = (2 - condition).astype(bool)``, i.e.
    ``Indicator("condition", "!=", 2.0)`` (every code other than 2 is emotional); eCMR's
    ``valence != 0`` is ``Indicator("valence", "!=", 0.0)``.
    """

    column: str = "condition"
    op: str = "!="
    value: float = 2.0

    COLUMNS = ("column",)
    CONSTANTS = {"value": (-_BIG, _BIG)}

    def __post_init__(self) -> None:
        _check_choice(self, "op", tuple(_OPS))

    @property
    def label(self) -> str:
        return f"{self.column}{self.op}{self.value:g}"

    def numpy(self, x: np.ndarray) -> np.ndarray:
        """The flags of ``x`` (any shape) as float64 0/1."""
        return _OPS[self.op](np.asarray(x, dtype=np.float64), self.value).astype(np.float64)

    def __call__(self, aux: dict) -> jax.Array:
        """``(L,)`` 0/1 flags of the list in ``aux``."""
        x = aux[self.column]
        return getattr(jnp, _OPS[self.op].__name__)(x, self.value).astype(x.dtype)


#: jaxcmr's emotional flag of the EEG datasets: ``(2 - condition).astype(bool)``.
EMOTIONAL = Indicator("condition", "!=", 2.0)


@dataclass(frozen=True)
class Covariate(Component):
    """A numeric study-event covariate ``x`` (an EEG measure, arousal, word frequency),
    centred by a convention.

    ``column``: the data column (one finite number per study event; psifr long format or
    a jaxcmr HDF5 field such as ``EarlyLPP``). ``centre``:

    - ``"none"``: ``x_i`` as measured;
    - ``"list"``: ``x_i - mean_list(x)``, the mean over the event's list;
    - ``"subject"``: ``x_i - mean_subject(x)``, the mean over every study event of the
      subject (all lists).

    ``among`` (an :class:`Indicator`, optional): the mean runs over the flagged events
    only (``sum(g x) / max(sum g, 1)``, as jaxcmr), and unflagged events get 0 (jaxcmr's
    ``eeg_cmr`` / ``eeg_strength`` centre the LPP among emotional items). Units: those of
    the column. Centring happens once in the data layer (``derive()``, numpy float64);
    the model reads the derived column :attr:`key` from ``aux``.
    """

    column: str
    centre: str = "list"
    among: Indicator | None = None

    COLUMNS = ("column",)
    PARTS = ("among",)

    def __post_init__(self) -> None:
        _check_choice(self, "centre", CENTRES)

    @property
    def key(self) -> str:
        """The ``aux`` name of the centred values (the column itself when raw)."""
        if self.centre == "none" and self.among is None:
            return self.column
        among = "" if self.among is None else f",among={self.among.label}"
        return f"{self.column}[centre={self.centre}{among}]"

    def derived_columns(self) -> frozenset[str]:
        return frozenset() if self.key == self.column else frozenset({self.key})

    def derive(self, columns, subject):
        if self.key == self.column:
            return {}
        x = np.asarray(columns[self.column], dtype=np.float64)
        g = (np.ones_like(x) if self.among is None
             else self.among.numpy(columns[self.among.column]))
        if self.centre == "none":
            return {self.key: np.where(g > 0, x, 0.0)}
        if self.centre == "list":
            mean = np.sum(x * g, axis=1, keepdims=True) / np.maximum(
                np.sum(g, axis=1, keepdims=True), 1.0)
        else:
            subject = np.asarray(subject)
            mean = np.zeros((x.shape[0], 1))
            for s in np.unique(subject):
                rows = subject == s
                mean[rows] = np.sum(x[rows] * g[rows]) / max(float(np.sum(g[rows])), 1.0)
        return {self.key: np.where(g > 0, x - mean, 0.0)}

    def __call__(self, aux: dict) -> jax.Array:
        """``(L,)`` centred covariate of the list in ``aux``."""
        return aux[self.key]


@dataclass(frozen=True)
class Term(Component):
    """One term of a :class:`CovariateLink`'s linear predictor:

        t_i = coef * (x_i - threshold) * g_i

    with ``x`` a :class:`Covariate` (``None``: ``x_i - threshold`` is replaced by 1, an
    intercept) and ``g`` an :class:`Indicator` gate (``None``: 1). ``coef`` and
    ``threshold`` are parameter names or constants (threshold in the covariate's units,
    coef in units of the modulated mechanism per covariate unit).
    """

    coef: str | float
    covariate: Covariate | None = None
    threshold: str | float = 0.0
    gate: Indicator | None = None

    PARAMS = ("coef", "threshold")
    PARTS = ("covariate", "gate")

    def reads(self) -> frozenset[str]:
        out = super().reads()
        if self.covariate is None and isinstance(self.threshold, str):
            out = out - {self.threshold}  # an intercept has no threshold
        return out

    def __call__(self, p: dict, aux: dict, L: int) -> jax.Array:
        t = jnp.broadcast_to(value_of(p, self.coef), (L,))
        if self.covariate is not None:
            t = t * (self.covariate(aux) - value_of(p, self.threshold))
        if self.gate is not None:
            t = t * self.gate(aux)
        return t


def _link(name: str, eta: jax.Array) -> jax.Array:
    if name == "identity":
        return eta
    if name == "relu":
        return jnp.maximum(0.0, eta)
    if name == "exp":
        return jnp.exp(eta)
    if name == "softplus":
        return jax.nn.softplus(eta)
    return jax.nn.sigmoid(eta)


@dataclass(frozen=True)
class CovariateLink(Component):
    """A mechanism value per study event from covariates through a link:

        m_i = link(offset + sum_k t_k,i)          (t_k: the :class:`Term` s)

    ``link``: ``"identity"``, ``"relu"`` (``max(0, .)``, jaxcmr's clipped encoding
    strength), ``"exp"``, ``"softplus"`` (positive rates), ``"logistic"`` (a rate in
    (0, 1), e.g. a drift rate). ``offset``: a parameter name or constant. Returns
    ``(L,)``; what it modulates is up to the component that holds it
    (:class:`CovariateSchedule`, :class:`CovariateDrift`).
    """

    terms: tuple[Term, ...]
    link: str = "identity"
    offset: str | float = 0.0

    PARAMS = ("offset",)
    PARTS = ("terms",)

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        terms = self.terms
        if isinstance(terms, list):
            terms = tuple(terms)
            object.__setattr__(self, "terms", terms)
        if not (isinstance(terms, tuple) and terms and all(isinstance(t, Term) for t in terms)):
            raise ConfigError(f"CovariateLink.terms: expected a non-empty tuple of Term, got "
                              f"{terms!r:.80}")
        _check_choice(self, "link", LINKS)

    def __call__(self, p: dict, aux: dict, L: int) -> jax.Array:
        eta = jnp.broadcast_to(value_of(p, self.offset), (L,))
        for t in self.terms:
            eta = eta + t(p, aux, L)
        return _link(self.link, eta)


_RULES = ("product", "sum", "link", "primacy")


@dataclass(frozen=True)
class CovariateSchedule(Schedule):
    """MCF learning rate modulated by study-event covariates.

    With primacy ``P_i`` (``primacy``) and ``m_i`` the :class:`CovariateLink`'s value,
    the rate of serial position ``i`` is one of

    - ``"product"``: ``P_i max(lo, base + m_i)``;
    - ``"sum"``: ``P_i + max(-P_i, m_i)``;
    - ``"link"``: ``m_i``;
    - ``"primacy"``: ``P_i`` (the covariates off),

    ``on`` when the switch ``switch`` (a parameter name, or a constant 0/1) is on, else
    ``off``; times the gate ``g_i`` (an :class:`Indicator`) when one is given. The MFC
    rate is the primacy schedule's ``mfc``. jaxcmr's EEG models:
    ``eeg_cmr``: ``m = relu(...)``, product (``base = lo = 0``) / sum;
    ``eeg_strength``: identity link, product with ``base = lo = 1`` (``P max(1, 1 + m)``)
    / sum; the emotional vector of ``eeg_ecmr`` / ``eeg_simple_ecmr``: product / link,
    gated by ``is_emotional``.
    """

    link: CovariateLink
    primacy: PrimacySchedule = PrimacySchedule()
    switch: str | float = "modulate_emotion_by_primacy"
    on: str = "product"
    off: str = "sum"
    base: float = 0.0
    lo: float = 0.0
    gate: Indicator | None = None

    PARAMS = ("switch",)
    PARTS = ("link", "primacy", "gate")
    CONSTANTS = {"base": (-_BIG, _BIG), "lo": (-_BIG, _BIG)}

    def __post_init__(self) -> None:
        _check_choice(self, "on", _RULES)
        _check_choice(self, "off", _RULES)

    def reads(self) -> frozenset[str]:
        """The primacy schedule's parameters, the link's (unless both rules are
        ``"primacy"``) and the switch (when ``on`` and ``off`` differ)."""
        out = frozenset(self.primacy.reads())
        if {self.on, self.off} != {"primacy"}:
            out |= self.link.reads()
        if self.on != self.off and isinstance(self.switch, str):
            out |= {self.switch}
        return out

    def check(self, where: str) -> None:
        super().check(where)
        from ..errors import ConfigError

        for nm, obj, base in (("link", self.link, CovariateLink),
                              ("primacy", self.primacy, PrimacySchedule)):
            if not isinstance(obj, base):
                raise ConfigError(f"{where}.{nm}: expected a {base.__name__}, got "
                                  f"{type(obj).__name__} {obj!r:.80}")

    def mfc_rate(self, p):
        return self.primacy.mfc_rate(p)

    def _rule(self, rule: str, P: jax.Array, m: jax.Array) -> jax.Array:
        if rule == "product":
            return P * jnp.maximum(self.lo, self.base + m)
        if rule == "sum":
            return P + jnp.maximum(-P, m)
        return m if rule == "link" else P

    def mcf_rates(self, p, L, aux):
        P = self.primacy.primacy(p, L)
        m = self.link(p, aux, L)
        on = self._rule(self.on, P, m)
        rate = on if self.on == self.off else jnp.where(
            value_of(p, self.switch) > 0.5, on, self._rule(self.off, P, m))
        return rate if self.gate is None else rate * self.gate(aux)


@dataclass(frozen=True)
class CovariateDrift(Drift):
    """Drift rates with a study drift rate per event from covariates:
    ``B_enc,i = link(...)_i`` (:class:`CovariateLink`; use ``link="logistic"`` to keep it
    in (0, 1)); the start and recall rates are as in :class:`Drift`."""

    encoding: str | float = 0.0
    link: CovariateLink | None = None

    PARTS = ("link",)

    def reads(self) -> frozenset[str]:
        own = frozenset(v for f in ("start", "recall")
                        if isinstance(v := getattr(self, f), str))
        return own | (self.link.reads() if self.link is not None else frozenset())

    def check(self, where: str) -> None:
        super().check(where)
        if not isinstance(self.link, CovariateLink):
            from ..errors import ConfigError

            raise ConfigError(f"{where}.link: expected a CovariateLink, got "
                              f"{type(self.link).__name__} {self.link!r:.80}")

    def encoding_rates(self, p, L, aux):
        return self.link(p, aux, L)


@dataclass(frozen=True)
class GatePreexp(PreExperimental):
    """A 2-unit layer that is "on" after an item flagged by ``indicator`` (jaxcmr's
    ``eeg_ecmr`` / ``eeg_simple_ecmr`` emotional vector): unit 0 = off, unit 1 = on.

    ``MFC[i] = e_1`` if ``g_i`` else ``e_0`` (weight exactly 1), MCF starts at 0. With a
    drift rate of 1 and :class:`ScalarRho` the context *is* the last item's unit, so the
    layer's support after a recall of ``r`` is ``g_r MCF[1]``: with a schedule gated by
    ``g`` it adds item ``i``'s learned strength to ``a_i`` only right after a flagged
    recall, as jaxcmr's ``last_emotional * emotional_mcf``.
    """

    indicator: Indicator = Indicator()

    PARTS = ("indicator",)

    def size(self, L):
        return 2

    def init(self, p, L, aux):
        g = self.indicator(aux)
        mfc = jnp.zeros((L, 2)).at[:, 0].set(1.0 - g).at[:, 1].set(g)
        return mfc, jnp.zeros((2, L))


@dataclass(frozen=True)
class StaticPreexp(PreExperimental):
    """One constant context unit, empty memories: with :class:`StaticContext` the
    layer's support is the learned MCF row itself, ``a_i = L_cf(i)`` (jaxcmr's
    ``eeg_strength``: encoding strength without retrieved context)."""

    def size(self, L):
        return 1

    def init(self, p, L, aux):
        return jnp.zeros((L, 1)), jnp.zeros((1, L))


@dataclass(frozen=True)
class StaticContext(ContextRule):
    """Context that never changes: ``integrate(c, c_in, B) = c``."""

    def integrate(self, c, c_in, B):
        return c

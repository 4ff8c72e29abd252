"""What is fitted: the free/fixed parameter spec, the priors and the sampler choices.

:class:`FitSpec` is the one resolution of ``free`` / ``fixed`` that
:func:`~engramlab.cmr.fit`, :func:`~engramlab.cmr.profile`,
:func:`~engramlab.cmr.recover` and :func:`~engramlab.cmr.sample` share: the free names
(in the parameter class's canonical order) with their bounds ``(lo_k, hi_k)`` in the
parameters' natural units, and the full parameter vector ``base`` ``(n_par,)`` with the
fixed values (or the class defaults) applied.

:class:`Priors` are on the unconstrained scale ``z_k = logit((theta_k - lo_k) / (hi_k -
lo_k))`` (see ``engramlab.cmr.inference.model``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._validation import check_choice
from ...errors import ConfigError, ValidationError
from .._variants import Variant, get_variant

__all__ = ["FitSpec", "Priors", "as_priors", "resolve_spec", "SAMPLERS",
           "PARAMETERIZATIONS", "MAX_TREE_DEPTH", "check_sampler"]

#: the samplers :func:`~engramlab.cmr.sample` runs: ``"nuts"`` (NumPyro's NUTS on
#: the whole posterior) and ``"gibbs"`` (NUTS within Gibbs on the centred hierarchical
#: model, ``engramlab.cmr.inference.kernels.gibbs``)
SAMPLERS = ("nuts", "gibbs")
#: the hierarchical model's coordinates (``engramlab.cmr.inference.model.make_model``)
PARAMETERIZATIONS = ("non-centered", "centered", "partial")
#: deepest NUTS tree ``sample`` accepts (2^30 - 1 leapfrog steps per draw)
MAX_TREE_DEPTH = 30


# --------------------------------------------------------------------------- priors

@dataclass(frozen=True)
class Priors:
    """Priors on the unconstrained scale ``z = logit((theta - lo) / (hi - lo))``.

    Each field is a number (all free parameters) or a dict ``name -> number`` (named
    parameters; the others keep the default).

    - ``mu_loc`` (default ``0``): prior mean of ``mu_k`` (hierarchical) or of ``z_sk``
      (per subject); ``0`` is the middle of the bounds.
    - ``mu_scale`` (default ``1.5``, > 0): its standard deviation.
    - ``sigma_scale`` (default ``1.0``, > 0): scale of the half-normal prior on the
      between-subject spread ``sigma_k`` (hierarchical only).
    """

    mu_loc: float | Mapping[str, float] = 0.0
    mu_scale: float | Mapping[str, float] = 1.5
    sigma_scale: float | Mapping[str, float] = 1.0
    _defaults: dict = field(default_factory=lambda: {"mu_loc": 0.0, "mu_scale": 1.5,
                                                     "sigma_scale": 1.0}, repr=False)

    def resolve(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """Arrays ``(n_free,)`` of ``mu_loc``, ``mu_scale``, ``sigma_scale``; validated."""
        out = {}
        for fname in ("mu_loc", "mu_scale", "sigma_scale"):
            v = getattr(self, fname)
            default = self._defaults[fname]
            if isinstance(v, Mapping):
                unknown = sorted(set(v) - set(names))
                if unknown:
                    raise ConfigError(f"priors.{fname}: unknown parameter(s) {unknown}; "
                                      f"expected free parameters {list(names)}")
                vals = [v.get(n, default) for n in names]
            else:
                vals = [v] * len(names)
            arr = np.empty(len(names))
            for i, (n, x) in enumerate(zip(names, vals, strict=True)):
                try:
                    x = float(x)
                except (TypeError, ValueError):
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a real number, got "
                                      f"{x!r}") from None
                if not math.isfinite(x):
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a finite number, "
                                      f"got {x}")
                if fname != "mu_loc" and x <= 0:
                    raise ConfigError(f"priors.{fname}[{n!r}]: expected a scale > 0, got "
                                      f"{x:g} (an impossible prior)")
                arr[i] = x
            out[fname] = arr
        return out

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Mapping) else float(v))
                for k, v in (("mu_loc", self.mu_loc), ("mu_scale", self.mu_scale),
                             ("sigma_scale", self.sigma_scale))}



def as_priors(priors: Any) -> Priors:
    """``priors`` (a :class:`Priors`, a dict of its fields or ``None``: the defaults) as a
    :class:`Priors`; anything else is a :class:`~engramlab.errors.ConfigError`."""
    if priors is None:
        return Priors()
    if isinstance(priors, Priors):
        return priors
    if isinstance(priors, Mapping):
        unknown = sorted(set(priors) - {"mu_loc", "mu_scale", "sigma_scale"})
        if unknown:
            raise ConfigError(f"priors: unknown key(s) {unknown}; expected mu_loc, "
                              "mu_scale, sigma_scale")
        return Priors(**priors)
    raise ConfigError(f"priors: expected a Priors, a dict or None, got {type(priors).__name__}")


@dataclass(frozen=True)
class FitSpec:
    """The free parameters, their bounds and the fixed values of one model.

    - ``variant``: the variant's registered name;
    - ``names`` ``(n_par,)``: every parameter name, in the parameter vector's order;
    - ``free`` ``(k,)``: the free names, in that order;
    - ``lo``, ``hi`` ``(k,)``: their bounds (natural units; the bounds of the logistic
      transform and so part of the prior);
    - ``base`` ``(n_par,)``: the parameter vector with the fixed values applied (the
      free entries hold the class defaults);
    - ``idx`` ``(k,)``: the positions of the free names in ``names``.

    Build it with :meth:`resolve`.
    """

    variant: str
    names: tuple[str, ...]
    free: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    base: np.ndarray
    idx: np.ndarray

    @classmethod
    def resolve(cls, variant: str | Variant, free: Any = None, fixed: Any = None, *,
                name: str = "free", fixed_name: str = "fixed") -> FitSpec:
        """Resolve ``free`` and ``fixed`` for ``variant``.

        ``free``: ``None`` (the variant's default free set), a list of names (each with
        the parameter class's ``BOUNDS``) or a dict ``name -> (lo, hi)``; ``fixed``: a
        mapping ``name -> value`` over the class defaults. Every check (unknown names,
        switches, parameters no component reads, bounds outside the valid range, a name
        both free and fixed) is a :class:`~engramlab.errors.ConfigError` naming ``name``
        or ``fixed_name``."""
        v = get_variant(variant)
        fnames, lo, hi, base = _resolve_free(v, free, fixed, name=name,
                                             fixed_name=fixed_name)
        names = tuple(v.names())
        return cls(variant=v.name, names=names, free=tuple(fnames), lo=lo, hi=hi,
                   base=base, idx=np.array([names.index(n) for n in fnames]))

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """``name -> (lo, hi)`` of the free parameters."""
        return {n: (float(a), float(b)) for n, a, b in zip(self.free, self.lo, self.hi,
                                                            strict=True)}

    @property
    def fixed(self) -> dict[str, float]:
        """``name -> value`` of every parameter that is not free."""
        return {n: float(x) for n, x in zip(self.names, self.base, strict=True)
                if n not in self.free}

    def to_json(self) -> dict[str, Any]:
        """The JSON-able description :func:`~engramlab.cmr.sample` stores."""
        return {"variant": self.variant, "names": list(self.names), "free": list(self.free),
                "lo": self.lo.tolist(), "hi": self.hi.tolist(), "base": self.base.tolist()}


def resolve_spec(variant: str | Variant, free: Any = None, fixed: Any = None) -> FitSpec:
    """:meth:`FitSpec.resolve` (the same resolution and checks as
    :func:`~engramlab.cmr.fit`)."""
    return FitSpec.resolve(variant, free, fixed)


def check_sampler(sampler: Any, parameterization: Any) -> tuple[str, str]:
    """``(sampler, parameterization)`` checked: ``sampler`` one of :data:`SAMPLERS` (else a
    :class:`~engramlab.errors.ConfigError` naming ``sampler``, the expected and the received
    value), ``parameterization`` one of :data:`PARAMETERIZATIONS` (else a
    :class:`~engramlab.errors.ValidationError`, as before). ``parameterization="gibbs"``,
    the older spelling of ``sampler="gibbs"``, is a ``ConfigError`` saying so."""
    if isinstance(parameterization, str) and parameterization == "gibbs":
        raise ConfigError("parameterization: expected one of "
                          f"{', '.join(repr(c) for c in PARAMETERIZATIONS)}, got 'gibbs': "
                          "NUTS within Gibbs is a sampler now; pass sampler='gibbs' (it "
                          "samples the centred model; on the command line --sampler gibbs)")
    try:
        sampler = check_choice(sampler, "sampler", SAMPLERS)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None
    parameterization = check_choice(parameterization, "parameterization", PARAMETERIZATIONS)
    return sampler, parameterization

# --------------------------------------------------------------------------- free / fixed

def _resolve_free(variant: Variant, free: Any, fixed: Any, *, name: str = "free",
                  fixed_name: str = "fixed"
                  ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Resolve ``free`` / ``fixed`` into (free names, bounds lo, hi, base theta).

    ``free`` is ``None`` (the variant's default free set), a list of names (each with the
    params class's ``BOUNDS``) or a dict ``name -> (lo, hi)``; ``fixed`` a mapping
    ``name -> value`` over the class defaults. Free names come back in the class's
    canonical order; ``theta0`` is the full parameter vector with ``fixed`` applied.
    ``name`` / ``fixed_name`` label the arguments in error messages.
    """
    cls = variant.params
    names = cls.names()
    bounds = getattr(cls, "BOUNDS", None)
    if not isinstance(bounds, Mapping):
        raise ConfigError(f"{name}: params class {cls.__name__} of variant {variant.name!r} "
                          f"has no BOUNDS mapping name -> (lo, hi); got {bounds!r:.80}")
    flags_all = tuple(getattr(cls, "FLAGS", ()))
    if free is None:
        free = variant.default_free()
    if isinstance(free, Mapping):
        free_b = dict(free.items())
    elif isinstance(free, Sequence) and not isinstance(free, str):
        free_b = {}
        for k in free:
            if not isinstance(k, str):
                raise ConfigError(f"{name}: expected parameter names, got {k!r:.80}")
            if k in free_b:
                raise ConfigError(f"{name}: parameter {k!r} is named twice")
            if k in names and k not in bounds and k not in flags_all:
                raise ConfigError(f"{name}: {k!r} has no default bounds; give them as "
                                  f"{{{k!r}: (lo, hi)}}")
            free_b[k] = bounds.get(k, (0.0, 1.0))
    else:
        raise ConfigError(f"{name}: expected a list of names or a dict name -> (lo, hi), "
                          f"got {free!r:.120}")
    unknown = sorted(map(str, set(free_b) - set(names)))
    if unknown:
        raise ConfigError(f"{name}: unknown parameter(s) {unknown} for variant "
                          f"{variant.name!r}; expected names from {list(names)}")
    if not free_b:
        raise ConfigError(f"{name}: expected at least one free parameter")
    flags = sorted(set(free_b) & set(flags_all))
    if flags:
        raise ConfigError(f"{name}: {flags} are switches (0/1), not fittable; set them in "
                          f"{fixed_name}")
    unread = sorted(set(free_b) - variant.reads())
    if unread:
        raise ConfigError(f"{name}: parameter(s) {unread} are read by no component of variant "
                          f"{variant.name!r}: fitting them would not change the likelihood "
                          f"but would count in k; parameters it reads: "
                          f"{sorted(variant.reads())}")
    for k, b in list(free_b.items()):
        try:
            b = tuple(float(x) for x in b)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}[{k!r}]: expected bounds (lo, hi), got "
                              f"{b!r:.80}") from None
        free_b[k] = b
        if len(b) != 2 or not (np.isfinite(b).all() and b[0] < b[1]):
            raise ConfigError(f"{name}[{k!r}]: expected finite bounds (lo, hi) with lo < hi, "
                              f"got {b}")
        vlo, vhi = cls.VALID[k]
        if b[0] < vlo or b[1] > vhi:
            raise ConfigError(f"{name}[{k!r}]: bounds {b} leave the valid range "
                              f"[{vlo:g}, {vhi:g}]")
    if fixed is not None and not isinstance(fixed, Mapping):
        raise ConfigError(f"{fixed_name}: expected a mapping name -> value, got "
                          f"{type(fixed).__name__} {fixed!r:.80}")
    fixed = dict(fixed or {})
    unknown = sorted(map(str, set(fixed) - set(names)))
    if unknown:
        raise ConfigError(f"{fixed_name}: unknown parameter(s) {unknown} for variant "
                          f"{variant.name!r}; expected names from {list(names)}")
    both = sorted(set(fixed) & set(free_b))
    if both:
        raise ConfigError(f"{fixed_name}: parameter(s) {both} are also free")
    base = cls.from_mapping({**cls().to_dict(), **fixed}, name=fixed_name)  # validates
    theta0 = np.array([getattr(base, n) for n in names], dtype=np.float64)
    fnames = [n for n in names if n in free_b]
    lo = np.array([free_b[n][0] for n in fnames], dtype=np.float64)
    hi = np.array([free_b[n][1] for n in fnames], dtype=np.float64)
    return fnames, lo, hi, theta0

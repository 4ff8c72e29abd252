"""Parameter recovery and model identification for CMR variants.

The two checks reviewers ask of a cognitive model (Wilson & Collins 2019, "Ten simple
rules for the computational modeling of behavioral data", eLife 8:e49547, rules 5-6):

- :func:`recover` simulates subjects from known parameters, fits each subject with
  :func:`~engramlab.cmr.fit_subjects` and compares estimates with the truth: per free
  parameter the Pearson correlation, the bias ``mean(estimate - truth)``, the RMSE and the
  share of estimates at a bound of the fit box.
- :func:`identify` simulates subjects from each of several variants, fits every variant
  to every simulated subject and tabulates which variant wins by AIC and by BIC: the
  *confusion matrix* ``p(best = j | generating = i)`` (per-subject winner proportions)
  and the *inversion matrix* ``p(generating = i | best = j)`` (equal prior over the
  generating variants).

Both run the fits on Dask like :func:`~engramlab.cmr.fit_subjects` (one call per fitted
variant, all simulated subjects at once).

**True parameters.** ``truth=None`` draws every free parameter of every subject
independently and uniformly from the middle 80% of its fit box ``[lo + 0.1 (hi - lo),
hi - 0.1 (hi - lo)]`` (so truths keep away from the bounds). A mapping fixes a parameter
for all subjects (a number) or gives it its own uniform range (a pair ``(lo, hi)``); a
DataFrame gives one row per subject. Non-free parameters take ``fixed`` or the class
defaults, in the simulation and in the fit alike.

**Designs.** A dict ``{"n_lists": n, "list_length": L}`` (every subject studies the
items ``0 .. L-1`` in order on each of ``n`` lists, as :func:`~engramlab.cmr.simulate`'s
dict design), or a psifr DataFrame whose study lists are copied: simulated subject ``i``
studies the lists of the data's subject ``i mod n_data`` (items, order and study-event
columns such as ``valence``). A study-event column that a variant reads and the design
lacks is generated: ``valence`` i.i.d. per study event from ``{-1, 0, +1}`` with
probabilities ``valence_p`` (default ``(0.25, 0.5, 0.25)``: half the items emotional,
split evenly negative / positive); ``arousal`` (``"ecmr-salience"``) uniform on
``[0, 1]`` for emotional items and 0 for neutral ones.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, check_int, check_sequence
from ..errors import ConfigError, ConvergenceWarning, DataError, ValidationError
from ._data import RecallArrays, _check_frame, to_arrays
from ._variants import Variant, get_variant
from .inference.spec import FitSpec

__all__ = ["recover", "identify", "RecoveryResult", "IdentifyResult", "DEFAULT_DESIGN",
           "DEFAULT_VALENCE_P", "BOUND_TOL"]

#: Default design: Morton2013-sized subjects (24 lists of 16 items).
DEFAULT_DESIGN: dict[str, int] = {"n_lists": 24, "list_length": 16}
#: Default probabilities of valence ``-1, 0, +1`` for generated valence.
DEFAULT_VALENCE_P: tuple[float, float, float] = (0.25, 0.5, 0.25)
#: An estimate is "at a bound" within this fraction of the box width of ``lo`` or ``hi``.
BOUND_TOL: float = 1e-3
#: Middle share of a fit box that default truths are drawn from.
_SHRINK = 0.8
_FEATURES = ("valence", "arousal")


# --------------------------------------------------------------------------- inputs


def _free_bounds(v: Variant, free: Any, fixed: Any, name: str = "free",
                 fixed_name: str = "fixed") -> tuple[dict[str, tuple[float, float]], dict]:
    """Resolve ``free`` / ``fixed`` with the fit's own resolver (:meth:`FitSpec.resolve`):
    (free name -> fit bounds in canonical order, the fixed mapping)."""
    spec = FitSpec.resolve(v, free, fixed, name=name, fixed_name=fixed_name)
    fnames, lo, hi = list(spec.free), spec.lo, spec.hi
    bounds = {k: (float(a), float(b)) for k, a, b in zip(fnames, lo, hi, strict=True)}
    return bounds, dict(fixed or {})


def _check_truth_names(v: Variant, given: Sequence[str], free: Sequence[str],
                       name: str) -> None:
    """``given`` (truth columns or keys) must be free parameters of ``v``."""
    bad = sorted(map(str, set(given) - set(v.names())))
    if bad:
        raise ConfigError(f"{name}: unknown parameter(s) {bad} for variant {v.name!r}; "
                          f"expected names from {list(v.names())}")
    extra = sorted(set(given) - set(free))
    if extra:
        raise ConfigError(f"{name}: parameter(s) {extra} are not free; fix them with "
                          "fixed= (free: " + ", ".join(free) + ")")


def _truth_column(s: Any, lo: float, hi: float, n: int, rng: np.random.Generator,
                  label: str) -> np.ndarray:
    """One free parameter's ``n`` true values: ``None`` draws from the middle
    ``_SHRINK`` of the fit box, a number repeats, ``(a, b)`` draws uniformly."""
    if s is None:
        w = (1 - _SHRINK) / 2 * (hi - lo)
        return rng.uniform(lo + w, hi - w, size=n)
    try:
        a, b = (float(s), float(s)) if np.ndim(s) == 0 else (float(x) for x in s)
    except (TypeError, ValueError):
        raise ConfigError(f"{label}: expected a number or (lo, hi), got {s!r:.80}") from None
    if not a <= b:
        raise ConfigError(f"{label}: expected lo <= hi, got ({a:g}, {b:g})")
    return np.full(n, a) if a == b else rng.uniform(a, b, size=n)


def _draw_truth(v: Variant, truth: Any, bounds: Mapping[str, tuple[float, float]],
                n: int, rng: np.random.Generator, name: str = "truth") -> pd.DataFrame:
    """``(n, n_free)`` true values, columns the free names in canonical order: from a
    DataFrame (one row per subject), or per name from a mapping (see
    :func:`_truth_column`; names left out are drawn)."""
    free = list(bounds)
    if isinstance(truth, pd.DataFrame):
        cols = [c for c in truth.columns if c != "subject"]
        _check_truth_names(v, cols, free, name)
        missing = [k for k in free if k not in cols]
        if missing:
            raise ConfigError(f"{name}: missing column(s) {missing} (one per free "
                              "parameter)")
        if len(truth) != n:
            raise ConfigError(f"{name}: expected one row per subject ({n} rows), got "
                              f"{len(truth)}")
        try:
            out = truth[free].astype(float).reset_index(drop=True)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected numeric columns {free}") from None
    else:
        if truth is not None and not isinstance(truth, Mapping):
            raise ConfigError(f"{name}: expected None, a mapping name -> value or (lo, hi),"
                              f" or a DataFrame, got {type(truth).__name__}")
        spec = dict(truth or {})
        _check_truth_names(v, list(spec), free, name)
        out = pd.DataFrame({k: _truth_column(spec.get(k), *bounds[k], n, rng,
                                             f"{name}[{k!r}]") for k in free})
    for k in free:
        x = out[k].to_numpy(float)
        lo, hi = bounds[k]
        if not np.isfinite(x).all() or (x < lo).any() or (x > hi).any():
            raise ConfigError(f"{name}[{k!r}]: true values must be finite and inside the fit "
                              f"bounds [{lo:g}, {hi:g}] (a truth outside cannot be "
                              f"recovered), got range [{np.nanmin(x):g}, {np.nanmax(x):g}]")
    return out


def _design(design: Any, n_subjects: int, features: Sequence[str],
            rng: np.random.Generator) -> tuple[list[RecallArrays], dict[str, Any]]:
    """One study design (:class:`RecallArrays`, recalls empty) per simulated subject,
    carrying ``features`` (generated where missing), and a JSON description."""
    valence_p = DEFAULT_VALENCE_P
    if design is None:
        design = dict(DEFAULT_DESIGN)
    if isinstance(design, pd.DataFrame):
        df = _check_frame(design, "design")
        have = tuple(f for f in features if f in df.columns)
        arr = to_arrays(df, name="design", features=have)
        subjects = list(pd.unique(pd.Series(arr.subject)))
        bases = []
        for i in range(n_subjects):
            a = arr.select(arr.subject == subjects[i % len(subjects)])
            bases.append(RecallArrays(a.subject, a.list, a.pres_itemnos,
                                      np.zeros_like(a.recalls), features=dict(a.features)))
        desc = {"source": "data frame", "n_data_subjects": len(subjects),
                "list_length": arr.list_length}
    elif isinstance(design, Mapping):
        unknown = sorted(map(str, set(design) - {"n_lists", "list_length", "valence_p"}))
        if unknown:
            raise ValidationError(f"design: unknown key(s) {unknown}; expected n_lists, "
                                  "list_length, valence_p")
        n = check_int(design.get("n_lists"), "design['n_lists']", min_value=1)
        L = check_int(design.get("list_length"), "design['list_length']", min_value=2)
        if "valence_p" in design:
            try:
                p = np.asarray(design["valence_p"], dtype=float)
            except (TypeError, ValueError):
                p = np.full(1, np.nan)
            if p.shape != (3,) or not np.isfinite(p).all() or (p < 0).any() or \
                    abs(p.sum() - 1) > 1e-9:
                raise ValidationError("design['valence_p']: expected 3 probabilities of "
                                      "valence -1, 0, +1 summing to 1, got "
                                      f"{design['valence_p']!r:.80}")
            valence_p = tuple(float(x) for x in p)
        pres = np.tile(np.arange(L), (n, 1))
        bases = [RecallArrays(np.ones(n, int), np.arange(1, n + 1), pres.copy(),
                              np.zeros((n, L), int)) for _ in range(n_subjects)]
        desc = {"source": "dict", "n_lists": n, "list_length": L}
    else:
        raise ValidationError(f"design: expected a dict {{'n_lists', 'list_length'}} or a "
                              f"psifr DataFrame, got {type(design).__name__}")
    for f in features:
        if f not in _FEATURES and any(f not in b.features for b in bases):
            raise DataError(f"design: missing study-event column {f!r} and no rule to "
                            "generate it; pass a design DataFrame that has it")
    generated = [f for f in features if any(f not in b.features for b in bases)]
    for b in bases:
        shape = b.pres_itemnos.shape
        if "valence" in generated or ("arousal" in generated and "valence" not in b.features):
            b.features.setdefault("valence", rng.choice(np.array([-1.0, 0.0, 1.0]),
                                                        size=shape, p=valence_p))
        if "arousal" in generated:
            emo = b.features["valence"] != 0
            b.features.setdefault("arousal", np.where(emo, rng.uniform(0, 1, shape), 0.0))
    if generated:
        desc["generated"] = generated
        if "valence" in generated:
            desc["valence_p"] = list(valence_p)
    return bases, desc


def _simulate(v: Variant, truth: pd.DataFrame, fixed: Mapping[str, Any],
              bases: Sequence[RecallArrays], labels: Sequence[int],
              rng: np.random.Generator) -> tuple[pd.DataFrame, list[Any]]:
    """Simulate each subject ``labels[i]`` on ``bases[i]`` with ``truth.iloc[i]``;
    returns the psifr frame and the typed parameter set of every subject."""
    from ._api import simulate

    cls = v.params
    default = cls().to_dict()
    frames, params = [], []
    for i, lab in enumerate(labels):
        p = cls.from_mapping({**default, **fixed, **truth.iloc[i].to_dict()}, name="truth")
        b = bases[i]
        design = RecallArrays(np.full(len(b.subject), lab), b.list, b.pres_itemnos,
                              b.recalls, features=b.features)
        frames.append(simulate(p, design, key=int(rng.integers(2**62)), variant=v))
        params.append(p)
    return pd.concat(frames, ignore_index=True), params


def _fit(data: pd.DataFrame, v: Variant, bounds: Mapping[str, tuple[float, float]],
         fixed: Mapping[str, Any], method: str, seed: int, scheduler: str | None,
         workers: int, quiet: bool | None, fit_kwargs: Mapping[str, Any]) -> pd.DataFrame:
    from ._fit import fit_subjects
    from ._variants import available_variants

    # a registered variant travels to Dask workers by name
    var = v.name if v.name in available_variants() and get_variant(v.name) is v else v
    # one summary warning (by the caller) instead of one per subject
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_subjects(data, variant=var, method=method, free=dict(bounds),
                            fixed=dict(fixed), seed=seed, scheduler=scheduler,
                            workers=workers, quiet=quiet, **dict(fit_kwargs))


def _converged(fits: pd.DataFrame) -> np.ndarray:
    """The fit table's ``converged`` flags (all true for a fit that reports none)."""
    if "converged" not in fits:
        return np.ones(len(fits), bool)
    return fits["converged"].fillna(False).to_numpy(bool)


def _warn_unconverged(what: str, subjects: Sequence[Any], ok: np.ndarray) -> None:
    bad = [s for s, k in zip(subjects, ok, strict=True) if not k]
    if bad:
        warnings.warn(f"{what}: {len(bad)} of {len(ok)} fits did not converge (subjects "
                      f"{bad[:10]}{' ...' if len(bad) > 10 else ''}); they are kept, flagged "
                      "in the 'converged' column", ConvergenceWarning, stacklevel=3)


def _check_common(n_subjects: Any, method: Any, seed: Any, fit_kwargs: Any
                  ) -> tuple[int, str, int, dict]:
    n_subjects = check_int(n_subjects, "n_subjects", min_value=2)
    method = check_choice(method, "method", ("de", "gradient"))
    seed = check_int(seed, "seed", min_value=0)
    if fit_kwargs is not None and not isinstance(fit_kwargs, Mapping):
        raise ConfigError(f"fit_kwargs: expected a mapping of fit() options, got "
                          f"{type(fit_kwargs).__name__}")
    fit_kwargs = dict(fit_kwargs or {})
    clash = sorted(set(fit_kwargs) & {"variant", "method", "free", "fixed", "seed",
                                      "scheduler", "workers", "quiet"})
    if clash:
        raise ConfigError(f"fit_kwargs: {clash} are arguments of this function itself")
    return n_subjects, method, seed, fit_kwargs


def _logl_truth(data: pd.DataFrame, params: Sequence[Any], labels: Sequence[int],
                v: Variant) -> np.ndarray:
    from ._api import log_likelihood

    return np.array([log_likelihood(data[data["subject"] == lab], p, variant=v)
                     for lab, p in zip(labels, params, strict=True)])


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _none_nan(x: Any) -> Any:
    return None if isinstance(x, float) and not np.isfinite(x) else x


# --------------------------------------------------------------------------- recover


@dataclass
class RecoveryResult:
    """What :func:`recover` returns.

    - ``variant``: the variant's name; ``bounds``: free name -> fit box ``(lo, hi)``;
      ``fixed``: the non-default fixed values; ``design``: a description of the design.
    - ``table``: tidy, one row per (subject, free parameter): ``subject, parameter,
      truth, estimate, lo, hi, at_bound`` (estimate within ``BOUND_TOL (hi - lo)`` of a
      bound).
    - ``summary``: one row per free parameter (index ``parameter``): ``n``, ``r``
      (Pearson correlation of estimate with truth; NaN when either is constant),
      ``bias`` (``mean(estimate - truth)``), ``rmse`` (``sqrt(mean((estimate -
      truth)^2))``), ``nrmse`` (``rmse / (hi - lo)``), ``at_bound`` (share of estimates
      at a bound).
    - ``subjects``: one row per subject: ``subject, logl`` (fit), ``logl_truth`` (at the
      true parameters), ``converged`` (the fit's own flag), ``delta_logl = logl -
      logl_truth`` (an optimiser that reached the maximum has ``delta_logl >= 0``).
      Fits that did not converge are kept (they are part of what a user's fit gives)
      and reported by one :class:`~engramlab.errors.ConvergenceWarning`.
    - ``fits``: the full :func:`~engramlab.cmr.fit_subjects` table; ``data``: the
      simulated psifr frame; ``seconds``: wall time.
    """

    variant: str
    bounds: dict[str, tuple[float, float]]
    fixed: dict[str, Any]
    design: dict[str, Any]
    method: str
    table: pd.DataFrame
    summary: pd.DataFrame
    subjects: pd.DataFrame
    fits: pd.DataFrame
    data: pd.DataFrame = field(repr=False)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-subject data beyond truth / estimate pairs)."""
        summ = {p: {k: _none_nan(float(v)) if k != "n" else int(v) for k, v in row.items()}
                for p, row in self.summary.iterrows()}
        d = self.subjects["delta_logl"].to_numpy(float)
        return {"variant": self.variant, "method": self.method,
                "n_subjects": int(len(self.subjects)), "design": self.design,
                "bounds": {k: list(b) for k, b in self.bounds.items()},
                "fixed": {k: float(x) for k, x in self.fixed.items()},
                "summary": summ,
                "delta_logl": {"min": float(d.min()), "median": float(np.median(d)),
                               "n_below_truth": int((d < -0.5).sum())},
                "n_not_converged": int((~self.subjects["converged"].to_numpy(bool)).sum()),
                "pairs": {p: {"truth": g["truth"].tolist(), "estimate": g["estimate"].tolist()}
                          for p, g in self.table.groupby("parameter", sort=False)},
                "seconds": float(self.seconds)}

    def to_json(self, path: Any = None) -> str:
        """The :meth:`to_dict` summary as a JSON string (written atomically to ``path``
        when given)."""
        import json

        from .._io import to_jsonable, write_json

        if path is not None:
            write_json(path, self.to_dict())
        return json.dumps(to_jsonable(self.to_dict()), indent=2)

    def plot(self, *, ncols: int = 4, title: str | None = None) -> Any:
        """Truth-vs-estimate scatter, one panel per free parameter: the identity line,
        estimates at a bound as open red circles, ``r`` and RMSE in each title. Returns
        the matplotlib ``Figure`` (:func:`engramlab.plots.cmr.plot_recovery`)."""
        from ..plots.cmr import plot_recovery

        return plot_recovery(self, ncols=ncols, title=title)


def recover(variant: str | Variant, *, n_subjects: int, design: Any = None,
            truth: Any = None, free: Any = None, fixed: Mapping[str, Any] | None = None,
            method: str = "gradient", seed: int = 0, scheduler: str | None = None,
            workers: int = 1, quiet: bool | None = None,
            fit_kwargs: Mapping[str, Any] | None = None) -> RecoveryResult:
    """Parameter recovery: simulate subjects from known parameters, fit them, compare.

    **Arguments:**

    - ``variant``: a registered name or a :class:`~engramlab.cmr.Variant`.
    - ``n_subjects``: simulated subjects (at least 2).
    - ``design``: ``{"n_lists", "list_length"[, "valence_p"]}`` or a psifr DataFrame whose
      study lists are copied (module docstring); default :data:`DEFAULT_DESIGN` (24 lists
      of 16 items).
    - ``truth``: ``None`` (uniform draws in the middle 80% of each fit box), a mapping
      ``name -> value`` (same for all subjects) or ``name -> (lo, hi)`` (uniform draws),
      or a DataFrame with one row per subject and a column per free parameter (row
      ``i`` is simulated subject ``i + 1``; a ``subject`` column is ignored).
    - ``free``: free parameters as for :func:`~engramlab.cmr.fit` (names or ``name ->
      (lo, hi)``; default the variant's default free set); the draws and the fit use the
      same boxes.
    - ``fixed``: values of the other parameters (simulation and fit; default the class
      defaults).
    - ``method``: ``"gradient"`` or ``"de"``; ``fit_kwargs``: further options of
      :func:`~engramlab.cmr.fit` (``n_starts``, ``maxiter``, ...).
    - ``seed``: seeds the truth draws, generated features, simulations and the fits.
    - ``scheduler``, ``workers``, ``quiet``: as :func:`~engramlab.cmr.fit_subjects`.

    **Returns:** a :class:`RecoveryResult` (``table``, ``summary``, ``subjects``,
    ``plot()``, ``to_json()``).
    """
    t0 = time.perf_counter()
    v = get_variant(variant)
    n_subjects, method, seed, fit_kwargs = _check_common(n_subjects, method, seed,
                                                         fit_kwargs)
    bounds, fixed = _free_bounds(v, free, fixed)
    rng = np.random.default_rng(seed)
    true = _draw_truth(v, truth, bounds, n_subjects, rng)
    bases, desc = _design(design, n_subjects, v.features, rng)
    labels = list(range(1, n_subjects + 1))
    data, params = _simulate(v, true, fixed, bases, labels, rng)
    fits = _fit(data, v, bounds, fixed, method, seed, scheduler, workers, quiet, fit_kwargs)
    fits = fits.set_index("subject").loc[labels].reset_index()
    rows = []
    for k, (lo, hi) in bounds.items():
        est = fits[k].to_numpy(float)
        tru = true[k].to_numpy(float)
        tol = BOUND_TOL * (hi - lo)
        rows.append(pd.DataFrame({"subject": labels, "parameter": k, "truth": tru,
                                  "estimate": est, "lo": lo, "hi": hi,
                                  "at_bound": (est <= lo + tol) | (est >= hi - tol)}))
    table = pd.concat(rows, ignore_index=True)
    summ = []
    for k, g in table.groupby("parameter", sort=False):
        e, t = g["estimate"].to_numpy(float), g["truth"].to_numpy(float)
        lo, hi = bounds[k]
        rmse = float(np.sqrt(np.mean((e - t) ** 2)))
        summ.append({"parameter": k, "n": len(g), "r": _pearson(t, e),
                     "bias": float(np.mean(e - t)), "rmse": rmse, "nrmse": rmse / (hi - lo),
                     "at_bound": float(g["at_bound"].mean())})
    summary = pd.DataFrame(summ).set_index("parameter")
    ll_true = _logl_truth(data, params, labels, v)
    ok = _converged(fits)
    subjects = pd.DataFrame({"subject": labels, "logl": fits["logl"].to_numpy(float),
                             "logl_truth": ll_true, "converged": ok})
    subjects["delta_logl"] = subjects["logl"] - subjects["logl_truth"]
    _warn_unconverged(f"recover ({v.name})", labels, ok)
    return RecoveryResult(v.name, bounds, fixed, desc, method, table, summary, subjects,
                          fits, data, time.perf_counter() - t0)


# --------------------------------------------------------------------------- identify


@dataclass
class IdentifyResult:
    """What :func:`identify` returns.

    - ``variants``: the variant names (generating = fitted set, in order).
    - ``fits``: one row per (generating variant, subject, fitted variant):
      ``generating, subject, fitted, logl, k, n_lists, aic = 2 k - 2 logl, bic = k ln
      n_lists - 2 logl`` (BIC's ``n`` is the subject's number of lists, as
      :func:`~engramlab.cmr.compare`), ``converged``.
    - ``winners``: one row per (generating, subject): ``best_aic``, ``best_bic`` (ties,
      e.g. two variants reaching the same value, are split evenly in the matrices).
    - ``truth``: generating variant -> its subjects' true free parameters (DataFrame).
    - ``design``: description; ``seconds``: wall time.

    :meth:`confusion` gives ``p(best = j | generating = i)`` (rows sum to 1);
    :meth:`inversion` ``p(generating = i | best = j)`` under equal priors over the
    generating variants (columns sum to 1; NaN where ``j`` never wins).
    """

    variants: list[str]
    method: str
    fits: pd.DataFrame
    winners: pd.DataFrame
    truth: dict[str, pd.DataFrame]
    free: dict[str, list[str]]
    design: dict[str, Any]
    seconds: float = 0.0

    def _counts(self, criterion: str) -> pd.DataFrame:
        c = check_choice(criterion, "criterion", ("aic", "bic"))
        m = pd.DataFrame(0.0, index=pd.Index(self.variants, name="generating"),
                         columns=pd.Index(self.variants, name="best"))
        for (g, _), grp in self.fits.groupby(["generating", "subject"], sort=False):
            val = grp[c].to_numpy(float)
            best = np.isclose(val, val.min(), rtol=0, atol=1e-9)
            for f in grp["fitted"].to_numpy()[best]:
                m.loc[g, f] += 1.0 / best.sum()
        return m

    def confusion(self, criterion: str = "aic") -> pd.DataFrame:
        """``p(best = j | generating = i)``: the share of subjects simulated from row
        ``i`` whose lowest ``criterion`` (``"aic"`` / ``"bic"``) is column ``j``."""
        m = self._counts(criterion)
        return m.div(m.sum(axis=1), axis=0)

    def inversion(self, criterion: str = "aic") -> pd.DataFrame:
        """``p(generating = i | best = j)``: the confusion matrix normalised over its
        columns (Bayes' rule with equal priors over the generating variants)."""
        m = self.confusion(criterion)
        s = m.sum(axis=0)
        return m.div(s.where(s > 0), axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``confusion[criterion][generating][best]`` and
        ``inversion[criterion][generating][best]`` (criterion ``"aic"`` / ``"bic"``),
        ``accuracy[criterion]`` (mean of the confusion diagonal), free sets, design."""
        def nested(m: pd.DataFrame) -> dict:
            return {g: {b: _none_nan(float(m.loc[g, b])) for b in m.columns} for g in m.index}

        n_sub = int(self.winners.groupby("generating").size().iloc[0])
        out: dict[str, Any] = {"variants": self.variants, "method": self.method,
                               "n_subjects": n_sub, "free": self.free,
                               "design": self.design, "confusion": {}, "inversion": {},
                               "accuracy": {}}
        for c in ("aic", "bic"):
            conf = self.confusion(c)
            out["confusion"][c] = nested(conf)
            out["inversion"][c] = nested(self.inversion(c))
            out["accuracy"][c] = float(np.mean(np.diag(conf.values)))
        if "converged" in self.fits:
            out["n_not_converged"] = int((~self.fits["converged"].to_numpy(bool)).sum())
        out["seconds"] = float(self.seconds)
        return out

    def to_json(self, path: Any = None) -> str:
        """The :meth:`to_dict` summary as a JSON string (written atomically to ``path``
        when given)."""
        import json

        from .._io import to_jsonable, write_json

        if path is not None:
            write_json(path, self.to_dict())
        return json.dumps(to_jsonable(self.to_dict()), indent=2)

    def plot(self, *, kind: str = "confusion", title: str | None = None) -> Any:
        """Heatmaps by AIC and by BIC (two panels), the proportion in every cell:
        ``kind="confusion"`` (rows generating, columns best; rows sum to 1) or
        ``"inversion"`` (columns sum to 1). Returns the matplotlib ``Figure``
        (:func:`engramlab.plots.cmr.plot_confusion`)."""
        from ..plots.cmr import plot_confusion

        return plot_confusion(self, kind=kind, title=title)


def _per_variant(value: Any, names: Sequence[str], what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{what}: expected a mapping variant name -> {what} setting, got "
                          f"{type(value).__name__}")
    unknown = sorted(map(str, set(value) - set(names)))
    if unknown:
        raise ConfigError(f"{what}: key(s) {unknown} are not among the variants "
                          f"{list(names)}")
    return dict(value)


def identify(variants: Sequence[str | Variant], *, n_subjects: int, design: Any = None,
             truth: Mapping[str, Any] | None = None, free: Mapping[str, Any] | None = None,
             fixed: Mapping[str, Mapping[str, Any]] | None = None, method: str = "gradient",
             seed: int = 0, scheduler: str | None = None, workers: int = 1,
             quiet: bool | None = None,
             fit_kwargs: Mapping[str, Any] | None = None) -> IdentifyResult:
    """Model identification: simulate from each variant, fit all, tabulate the winners.

    For every generating variant ``i``, ``n_subjects`` subjects are simulated (true
    parameters drawn as in :func:`recover`); every variant ``j`` is fitted to every
    simulated subject (maximum likelihood, its own free set) and scored by ``AIC = 2 k -
    2 log L`` and ``BIC = k ln n_lists - 2 log L``; the subject's best model is the one
    with the lowest value. The i-th subject of every generating variant studies the same
    lists (same generated valence), so rows differ only in the model. When any variant
    reads a study-event column (``valence``), it is generated for all of them.

    **Arguments:**

    - ``variants``: at least 2 distinct registered names or :class:`Variant` objects.
    - ``n_subjects``: simulated subjects per generating variant (at least 2).
    - ``design``: as :func:`recover`.
    - ``truth``, ``free``, ``fixed``: optional mappings variant name -> the setting of
      :func:`recover` for that variant (``free`` also sets the box it is fitted in).
    - ``method``, ``seed``, ``scheduler``, ``workers``, ``quiet``, ``fit_kwargs``: as
      :func:`recover`.

    LOO (``sample``) is not computed here: only AIC and BIC of maximum-likelihood fits.

    **Returns:** an :class:`IdentifyResult` (``confusion()``, ``inversion()``,
    ``plot()``, ``to_json()``).
    """
    t0 = time.perf_counter()
    vs = [get_variant(x) for x in check_sequence(variants, "variants", what="variants")]
    names = [v.name for v in vs]
    if len(vs) < 2:
        raise ValidationError(f"variants: expected at least 2 variants, got {names}")
    if len(set(names)) != len(names):
        raise ValidationError(f"variants: expected distinct variants, got {names}")
    n_subjects, method, seed, fit_kwargs = _check_common(n_subjects, method, seed,
                                                         fit_kwargs)
    truth_s = _per_variant(truth, names, "truth")
    free_s = _per_variant(free, names, "free")
    fixed_s = _per_variant(fixed, names, "fixed")
    bounds, fixd = {}, {}
    for v in vs:
        bounds[v.name], fixd[v.name] = _free_bounds(v, free_s.get(v.name),
                                                    fixed_s.get(v.name), f"free[{v.name!r}]",
                                                    f"fixed[{v.name!r}]")
    rng = np.random.default_rng(seed)
    feats = tuple(dict.fromkeys(f for v in vs for f in v.features))
    bases, desc = _design(design, n_subjects, feats, rng)
    frames, truths, gen_of = [], {}, {}
    for gi, v in enumerate(vs):
        tr = _draw_truth(v, truth_s.get(v.name), bounds[v.name], n_subjects, rng,
                         f"truth[{v.name!r}]")
        labels = [gi * n_subjects + i + 1 for i in range(n_subjects)]
        data, _ = _simulate(v, tr, fixd[v.name], bases, labels, rng)
        frames.append(data)
        truths[v.name] = tr.assign(subject=labels)[["subject", *tr.columns]]
        gen_of.update(dict.fromkeys(labels, v.name))
    data = pd.concat(frames, ignore_index=True)
    rows = []
    for v in vs:
        fits = _fit(data, v, bounds[v.name], fixd[v.name], method, seed, scheduler,
                    workers, quiet, fit_kwargs)
        rows.append(pd.DataFrame({"generating": fits["subject"].map(gen_of),
                                  "subject": fits["subject"], "fitted": v.name,
                                  "logl": fits["logl"].to_numpy(float),
                                  "k": fits["k"].to_numpy(int),
                                  "n_lists": fits["n_lists"].to_numpy(int),
                                  "converged": _converged(fits)}))
    table = pd.concat(rows, ignore_index=True)
    _warn_unconverged("identify", [f"{f}<-{s}" for f, s in
                                   zip(table["fitted"], table["subject"], strict=True)],
                      table["converged"].to_numpy(bool))
    table["aic"] = 2 * table["k"] - 2 * table["logl"]
    table["bic"] = table["k"] * np.log(table["n_lists"]) - 2 * table["logl"]
    table = table.sort_values(["subject", "fitted"], key=lambda c: c.map(
        {n: i for i, n in enumerate(names)}) if c.name == "fitted" else c,
        kind="stable").reset_index(drop=True)
    win = []
    for (g, s), grp in table.groupby(["generating", "subject"], sort=False):
        win.append({"generating": g, "subject": s,
                    "best_aic": grp["fitted"].iloc[int(np.argmin(grp["aic"].to_numpy()))],
                    "best_bic": grp["fitted"].iloc[int(np.argmin(grp["bic"].to_numpy()))]})
    return IdentifyResult(names, method, table, pd.DataFrame(win), truths,
                          {k: list(b) for k, b in bounds.items()}, desc,
                          time.perf_counter() - t0)

"""Public CMR entry points: :func:`log_likelihood` and :func:`simulate`.

Computation runs in float64 (``jax.enable_x64`` is switched on inside these calls only)
so that log-likelihoods agree with cymr's double-precision Cython code to ~1e-12.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_array, as_key, check_int, check_resources
from ..errors import DataError, DivergenceError, ShapeError, ValidationError
from ._components import ITEM_PREFIX
from ._data import RecallArrays, check_study_columns, from_arrays, to_arrays
from ._items import ItemFeatures, as_items
from ._variants import Variant, as_params, get_variant

__all__ = ["log_likelihood", "simulate", "prepare", "Prepared", "make_loglik",
           "LoglikFunction", "trial_logliks"]


class Prepared:
    """Validated data ready for scoring: ``arrays``, ``recalls`` ``(n, L)``, ``sqrt_m``,
    ``features`` (per-study-event columns, each ``(n, L)`` float64).

    ``pool_size`` (cymr variant): number of localist item units (cymr's
    ``config_loc_cmr(pool_size)``); defaults to ``max(item_index) + 1`` of the data.
    ``features``: names of study-event columns to carry (a variant's ``features``).
    """

    def __init__(self, data: pd.DataFrame | RecallArrays, *, pool_size: int | None = None,
                 clean: bool = True, features: tuple[str, ...] = (),
                 variant: Variant | None = None, items: Any = None):
        arrays = (data if isinstance(data, RecallArrays)
                  else to_arrays(data, clean=clean, features=features))
        self.arrays = arrays
        self.L = arrays.list_length
        if pool_size is None:
            pool_size = arrays.pool_size
        pool_size = check_int(pool_size, "pool_size", min_value=self.L, max_value=10**7)
        if pool_size < arrays.pool_size:
            raise ValidationError(f"pool_size: expected at least max(item_index) + 1 = "
                                  f"{arrays.pool_size}, got {pool_size}")
        self.pool_size = pool_size
        self.sqrt_m = float(np.sqrt(pool_size - self.L))
        self.recalls = np.asarray(arrays.recalls, dtype=np.int32)
        missing = [f for f in features if f not in arrays.features]
        if missing:
            raise DataError(f"data: missing study-event column(s) {missing} needed by the "
                            "variant (one value per study event, e.g. a 'valence' column)")
        check_study_columns(arrays, features)
        self.features = {f: np.asarray(arrays.features[f], np.float64) for f in features}
        if variant is not None:  # the components' derived columns (centred covariates)
            self.features = variant.derive(self.features, arrays.subject)
        self.items = as_items(items)
        self.features.update(item_aux(variant, self.items, arrays.pres_itemnos))

    def jax_inputs(self):
        """``(recalls, features, sqrt_m)`` as JAX arrays (float64 with x64 enabled, else
        float32)."""
        import jax.numpy as jnp

        return (jnp.asarray(self.recalls),
                {k: jnp.asarray(v) for k, v in self.features.items()},
                jnp.asarray(self.sqrt_m, dtype=jnp.result_type(float)))


def item_aux(variant: Variant | None, items: ItemFeatures | None,
             pres_itemnos: np.ndarray) -> dict[str, np.ndarray]:
    """The item data the variant's components read (``Variant.item_keys``) for every
    list, keyed ``ITEM_PREFIX + key``; ``{}`` when it reads none. A variant that reads
    item data without ``items`` is a :class:`DataError` saying how to build them."""
    keys = variant.item_keys() if variant is not None else ()
    if not keys:
        return {}
    if items is None:
        raise DataError(f"items: variant {variant.name!r} reads item data {list(keys)} "
                        "(how the pool's items relate); pass items=cmr.ItemFeatures."
                        "from_data(df, 'category'), .from_vectors(embeddings) or "
                        ".from_similarity(matrix) (CLI: --features category, --vectors "
                        "FILE.npy or --similarity FILE.npy)")
    return {ITEM_PREFIX + k: items.per_list(k, pres_itemnos) for k in keys}


def prepare(data: Any, *, pool_size: int | None = None, clean: bool = True,
            variant: str | Variant | None = None, items: Any = None) -> Prepared:
    """Validate ``data`` once (for repeated scoring, e.g. in a fit); ``variant`` selects
    the study-event columns to carry (its ``features``) and the item data to build from
    ``items`` (an :class:`~engramlab.cmr.ItemFeatures`, needed by variants whose
    components read item data, e.g. the semantic variants)."""
    v = get_variant(variant) if variant is not None else None
    feats = v.features if v is not None else ()
    if isinstance(data, Prepared):
        prep = data
        items = data.items if items is None else items
        need = (*v.aux_names(), *(ITEM_PREFIX + k for k in v.item_keys())) if v else ()
        if any(f not in data.features for f in need) or (items is not data.items):
            prep = Prepared(data.arrays, pool_size=data.pool_size, features=feats, variant=v,
                            items=items)
    else:
        prep = Prepared(data, pool_size=pool_size, clean=clean, features=feats, variant=v,
                        items=items)
    if v is not None:
        # one evaluation holds every list's MFC and MCF (vmapped) and does ~12 L^2 K
        # operations per list: a list of 20,000 items is refused here, not run for hours
        L, n = prep.L, len(prep.recalls)
        K = sum(ly.preexp.size(L) for ly in v.layers)
        check_resources("CMR likelihood", n_bytes=n * 2.0 * L * K * 8,
                        n_ops=n * 12.0 * L * L * K,
                        args={"data": f"{n} lists of {L} items"})
    return prep


def _nan_message(v: Variant, params: Any, what: str, n: int) -> str:
    p = as_params(params, v)
    vals = ", ".join(f"{k}={float(getattr(p, k)):.3g}" for k in v.names())
    return (f"params: the {what} of {n} list(s) came out NaN under variant {v.name!r} "
            f"with {vals}; extreme values (e.g. supports near the float64 limit) overflow "
            "the model's arithmetic")


def _theta(params: Any, variant: Variant) -> np.ndarray:
    p = as_params(params, variant)
    return np.array([float(getattr(p, n)) for n in variant.names()], dtype=np.float64)


def trial_logliks(data: Any, params: Any, *, variant: str | Variant = "jaxcmr",
                  pool_size: int | None = None, items: Any = None) -> np.ndarray:
    """Log-likelihood of every list, ``(n_lists,)`` float64 (lists in data order);
    arguments as :func:`log_likelihood`."""
    import jax
    import jax.numpy as jnp

    from ._model import trials_loglik

    v = get_variant(variant)
    prep = prepare(data, pool_size=pool_size, variant=v, items=items)
    theta = _theta(params, v)
    with jax.enable_x64(True):
        rec, feats, sqrt_m = prep.jax_inputs()
        ll = np.asarray(trials_loglik(jnp.asarray(theta), rec, feats, sqrt_m, variant=v,
                                      L=prep.L))
    if np.isnan(ll).any():
        raise DivergenceError(_nan_message(v, params, "log-likelihood", int(np.isnan(ll).sum())))
    return ll


def log_likelihood(data: Any, params: Any, *, variant: str | Variant = "jaxcmr",
                   per_subject: bool = False, pool_size: int | None = None,
                   items: Any = None) -> float | pd.Series:
    """Exact log-likelihood of free-recall data under CMR.

    ``log L = sum_lists [ sum_{j<n} log((1 - P_stop(j)) P(r_j | c_j)) + log P_stop(n) ]``
    (equations in :mod:`engramlab.cmr._model`); vmapped over lists, ``lax.scan`` over
    recall events, jitted, float64.

    **Arguments:**

    - ``data``: psifr long-format DataFrame (or :class:`RecallArrays`). Item identity is
      ``item_index`` when present, else ``item``. Intrusions and repeats are removed from
      each recall sequence before scoring (as cymr's ``prepare_lists(clean=True)``).
    - ``params``: a dict or the typed class of the variant (:class:`JaxcmrParams`,
      :class:`CymrParams`, ...).
    - ``variant``: a registered name (``"jaxcmr"``: jaxcmr's code; ``"paper"``: the
      papers' equations; ``"cymr"``: cymr's code, each event probability clipped below at
      1e-5 before the log; see :func:`available_variants`) or a :class:`Variant`.
    - ``per_subject``: return a Series of log-likelihoods indexed by subject.
    - ``pool_size``: cymr variant only: number of localist pool units (default
      ``max(item_index) + 1``); matters only when ``Afc`` or ``Acf`` is non-zero.
    - ``items``: an :class:`~engramlab.cmr.ItemFeatures` (or a ``(P, P)`` similarity
      matrix over the pool, rows by ``item_index``): how the items relate, for variants
      that read it (the semantic variants); ignored by the others.

    **Returns:** a float, or a ``pandas.Series`` named ``"logl"`` indexed by ``subject``.
    """
    prep = prepare(data, pool_size=pool_size, variant=variant, items=items)
    ll = trial_logliks(prep, params, variant=variant)
    if not per_subject:
        return float(ll.sum())
    s = pd.Series(ll, index=pd.Index(prep.arrays.subject, name="subject"))
    return s.groupby(level=0, sort=False).sum().rename("logl")


def _design(design: Any, features: tuple[str, ...] = ()) -> tuple[RecallArrays, int]:
    """``design``: a DataFrame / RecallArrays (its study lists are re-used), or a dict
    ``{"list_length": L, "n_lists": n, "n_subjects": s, "features": {name: values}}``
    (feature values broadcast to ``(n_subjects * n_lists, L)``)."""
    if isinstance(design, pd.DataFrame):
        arr = to_arrays(design, name="design", features=features)
    elif isinstance(design, RecallArrays):
        arr = design
    elif isinstance(design, dict):
        unknown = set(design) - {"list_length", "n_lists", "n_subjects", "features"}
        if unknown:
            raise ValidationError(f"design: unknown key(s) {sorted(unknown)}; expected "
                                  "list_length, n_lists, n_subjects, features")
        L = check_int(design.get("list_length"), "design['list_length']", min_value=1)
        n = check_int(design.get("n_lists", 1), "design['n_lists']", min_value=1)
        s = check_int(design.get("n_subjects", 1), "design['n_subjects']", min_value=1)
        # the design's own arrays (positions, recalls, each feature: n s L int64/float64)
        # are checked before they are built; simulate checks the run's arrays after
        n_feat = len(dict(design.get("features") or {}))
        check_resources("the design's arrays", n_bytes=8.0 * n * s * L * (3 + n_feat),
                        args={"design['n_lists']": n, "design['n_subjects']": s,
                              "design['list_length']": L})
        subj = np.repeat(np.arange(1, s + 1), n)
        lst = np.tile(np.arange(1, n + 1), s)
        pres = np.tile(np.arange(L), (n * s, 1))
        feats = {}
        for k, v in dict(design.get("features") or {}).items():
            name = f"design['features'][{k!r}]"
            a = as_array(v, name, ndim=(1, 2), dtype=np.float64)
            try:
                feats[k] = np.broadcast_to(a, (n * s, L)).copy()
            except ValueError:
                raise ShapeError(f"{name}: expected shape ({L},) or ({n * s}, {L}), got "
                                 f"{a.shape}") from None
        arr = RecallArrays(subj, lst, pres, np.zeros((n * s, L), int), features=feats)
    else:
        raise DataError(f"design: expected a DataFrame, RecallArrays or dict, got "
                        f"{type(design).__name__}")
    return arr, arr.list_length


def _carried(design: Any, carry: Any, arr: RecallArrays) -> dict[str, np.ndarray]:
    """The design's study-event columns named by ``carry`` as ``(n, L)`` arrays in the
    order of ``arr`` (:func:`to_arrays` sorts study events by subject, list, position).
    ``carry=None``: ``("category",)`` when a design frame has that column, else none."""
    from ._analysis import CATEGORY_COLUMN

    if carry is None:
        carry = ((CATEGORY_COLUMN,) if isinstance(design, pd.DataFrame)
                 and CATEGORY_COLUMN in design.columns else ())
    elif isinstance(carry, str):
        carry = (carry,)
    carry = tuple(carry)
    if not carry:
        return {}
    if not isinstance(design, pd.DataFrame):
        raise DataError(f"carry: columns {list(carry)} can only be carried from a design "
                        f"DataFrame, got a design of type {type(design).__name__}")
    reserved = {"subject", "list", "trial_type", "position", "item", "item_index"}
    for c in carry:
        if not isinstance(c, str) or c in reserved:
            raise ValidationError(f"carry: expected names of study-event columns other than "
                                  f"{sorted(reserved)}, got {c!r}")
        if c not in design.columns:
            raise DataError(f"design: missing column {c!r} named in carry; the frame has "
                            f"{list(design.columns)}")
    study = design.loc[design["trial_type"] == "study"]
    study = study.sort_values(["subject", "list", "position"], kind="stable")
    n, L = arr.pres_itemnos.shape
    return {c: study[c].to_numpy().reshape(n, L) for c in carry if c not in arr.features}


def simulate(params: Any, design: Any, *, key: Any, variant: str | Variant = "jaxcmr",
             n_rep: int = 1, pool_size: int | None = None, items: Any = None,
             carry: Any = None) -> pd.DataFrame:
    """Simulate free recall with CMR; returns a psifr long-format DataFrame.

    **Arguments:**

    - ``params``: dict or typed parameter class of ``variant``.
    - ``design``: a psifr DataFrame or :class:`RecallArrays` (its study lists, and the
      variant's study-event columns such as ``valence``, are simulated; recalls in it are
      ignored), or ``{"list_length", "n_lists", "n_subjects", "features"}``.
    - ``key``: a JAX PRNG key or an int seed (same key, same sequences).
      Designs that cannot fit in memory are refused up front (``ResourceError``).
    - ``variant``: a registered name or a :class:`Variant`.
    - ``n_rep``: replications of every list (list numbers are renumbered per subject).
    - ``pool_size``, ``items``: as in :func:`log_likelihood` (``items`` must describe the
      design's pool: with a dict design, items ``0..L-1``).
    - ``carry``: study-event columns of a design frame copied to the simulation, each
      study event keeping its value and each recall taking the value of the item it
      recalls (labels the model does not read, so that analyses of the data run on the
      simulation too). Default: ``("category",)`` when the design has a ``category``
      column (:func:`~engramlab.cmr.category_crp`), else none.

    **Returns:** DataFrame with ``subject, list, trial_type, position, item,
    item_index`` (plus the variant's feature columns on study rows and the ``carry``
    columns on all rows); sequences follow the model exactly (stop, then choice without
    repeats).
    """
    import jax
    import jax.numpy as jnp

    from ._model import trials_simulate

    v = get_variant(variant)
    n_rep = check_int(n_rep, "n_rep", min_value=1)
    arr, L = _design(design, v.features)
    carried = _carried(design, carry, arr)
    missing = [f for f in v.features if f not in arr.features]
    if missing:
        raise DataError(f"design: missing study-event column(s) {missing} needed by variant "
                        f"{v.name!r} (a design frame with that column, or design['features'])")
    check_study_columns(arr, v.features, name="design")
    if pool_size is None:
        pool_size = arr.pool_size
    pool_size = check_int(pool_size, "pool_size", min_value=max(L, arr.pool_size))
    n_sim = len(arr.subject) * n_rep
    K = sum(ly.preexp.size(L) for ly in v.layers)
    # per simulated list: MFC + MCF (2 L K), their scan copies, and the outputs
    check_resources("CMR simulation", n_bytes=n_sim * (4 * L * K + 8 * L) * 8,
                    n_ops=n_sim * L * L * K * 12.0,
                    args={"design": f"{n_sim} lists of {L} items", "n_rep": n_rep})
    theta = _theta(params, v)
    keys = jax.random.split(as_key(key), len(arr.subject) * n_rep)
    # every study-event column of the design is carried to the output (so simulated data
    # keep their labels, e.g. valence under base CMR); the model sees the variant's ones
    feats = {f: np.tile(x, (n_rep, 1)) for f, x in arr.features.items()}
    model_feats = {f: np.tile(x, (n_rep, 1))
                   for f, x in v.derive(arr.features, arr.subject).items()}
    model_feats.update({f: np.tile(x, (n_rep,) + (1,) * (x.ndim - 1)) for f, x in
                        item_aux(v, as_items(items), arr.pres_itemnos).items()})
    with jax.enable_x64(True):
        rec = trials_simulate(jnp.asarray(theta), keys,
                              {k: jnp.asarray(x) for k, x in model_feats.items()},
                              jnp.asarray(np.sqrt(pool_size - L)), variant=v, L=L)
        rec = np.asarray(rec)
    if (rec < 0).any():
        raise DivergenceError(_nan_message(v, params, "recall probabilities",
                                           int((rec < 0).any(axis=1).sum())))
    subj = np.tile(arr.subject, n_rep)
    pres = np.tile(arr.pres_itemnos, (n_rep, 1))
    order = np.argsort(subj, kind="stable")
    subj, pres, rec = subj[order], pres[order], rec[order]
    feats = {k: x[order] for k, x in feats.items()}
    lst = pd.Series(subj).groupby(subj).cumcount().to_numpy() + 1
    # compact the 0-padded rows (sampling keeps recalls contiguous already)
    out = from_arrays(RecallArrays(subj, lst, pres, rec, features=feats))
    if carried:  # keyed by list and item (a list presents each item once)
        labels = pd.DataFrame({"subject": np.repeat(subj, L), "list": np.repeat(lst, L),
                               "item_index": pres.reshape(-1),
                               **{c: np.tile(x, (n_rep, 1))[order].reshape(-1)
                                  for c, x in carried.items()}})
        out = out.merge(labels, on=["subject", "list", "item_index"], how="left",
                        validate="many_to_one")
    return out


class LoglikFunction:
    """A differentiable, jittable log-likelihood of fixed data, for samplers and optimisers.

    Built by :func:`make_loglik`. Call it inside ``jax.enable_x64(True)`` (or with x64
    enabled globally, as NumPyro's ``numpyro.enable_x64()`` does).

    - ``variant``: the :class:`Variant`; ``names``: its parameter names in canonical
      order (``theta`` layout); ``params_class``: its typed parameter class (``BOUNDS``,
      ``VALID``, ``FLAGS``);
    - ``subject`` ``(n_lists,)``: the subject of every list (data order);
    - ``per_list(theta)``: log-likelihood of every list, ``(n_lists,)``; ``theta`` is one
      parameter vector ``(n_par,)`` shared by all lists, or ``(n_lists, n_par)`` with one
      vector per list;
    - ``per_subject(thetas, index)``: the same with one vector per subject (what
      hierarchical models need), the study phase computed once per subject;
    - ``data``: the prepared arrays, which both methods also take as an argument.
    - ``theta(params)``: a parameter dict / typed class as a float64 vector ``(n_par,)``;
    - ``list_length``: the padded list length ``L``; ``subject_layout(index, rec, S)``:
      the lists laid out by subject (what one subject's own likelihood needs).
    """

    def __init__(self, prep: Prepared, variant: str | Variant):
        self.variant = get_variant(variant)
        self.params_class = self.variant.params
        self.names = self.variant.names()
        self.subject = np.asarray(prep.arrays.subject)
        self.n_lists = int(prep.recalls.shape[0])
        self._prep = prep

    def theta(self, params: Any) -> np.ndarray:
        return _theta(params, self.variant)

    @property
    def data(self) -> tuple:
        """The prepared data as JAX arrays ``(recalls, features, sqrt_m)``: pass it (or
        another data set of the same shapes) to ``per_list`` / ``per_subject`` as an
        argument, so that one compiled function serves many data sets."""
        return self._prep.jax_inputs()

    @property
    def subject_index(self) -> np.ndarray:
        """``(n_lists,)`` index of each list's subject into :attr:`subjects`."""
        codes, _ = pd.factorize(pd.Series(self.subject), sort=False)
        return codes

    @property
    def subjects(self) -> np.ndarray:
        """The distinct subjects, in order of first appearance."""
        return pd.unique(pd.Series(self.subject))

    def per_list(self, theta: Any, data: tuple | None = None) -> Any:
        import jax.numpy as jnp

        from ._model import trials_loglik

        rec, feats, sqrt_m = self.data if data is None else data
        return trials_loglik(jnp.asarray(theta), rec, feats, sqrt_m, variant=self.variant,
                             L=self._prep.L)

    def per_subject(self, thetas: Any, index: Any = None, data: tuple | None = None) -> Any:
        """Log-likelihood of every list, ``(n_lists,)``, with one parameter vector per
        subject: ``thetas`` ``(n_subjects, n_par)``, ``index`` ``(n_lists,)`` (default
        :attr:`subject_index`). Equal to ``per_list(thetas[index])``, but the study phase
        runs once per subject (for variants without study-event features); with a
        concrete ``index`` and data the lists are laid out by subject
        (:func:`~engramlab.cmr._model.blocked_loglik`), else gathered per list."""
        import jax
        import jax.numpy as jnp

        from ._model import blocked_loglik, grouped_loglik

        index = self.subject_index if index is None else index
        thetas = jnp.asarray(thetas)
        if self.variant.per_list_data:
            return self.per_list(thetas[jnp.asarray(index)], data)
        rec, _, sqrt_m = self.data if data is None else data
        # the layout needs concrete values: this data set's own (numpy) recalls, or
        # concrete arrays passed in (arrays made inside a traced function are tracers)
        rec_np = self._prep.recalls if data is None else rec
        if not any(isinstance(x, jax.core.Tracer) for x in (index, rec_np)):
            blocks = self._blocks(np.asarray(index), rec_np, int(thetas.shape[0]))
            return blocked_loglik(thetas, blocks, rec, sqrt_m, variant=self.variant,
                                  L=self._prep.L)
        return grouped_loglik(thetas, jnp.asarray(index), rec, sqrt_m,
                              variant=self.variant, L=self._prep.L)

    @property
    def list_length(self) -> int:
        """``L``: the longest study list of the data (the likelihood's padded width)."""
        return int(self._prep.L)

    def subject_layout(self, index: np.ndarray, rec: Any, n_subjects: int) -> Any:
        """The lists laid out by subject (:func:`~engramlab.cmr._model.subject_blocks`:
        ``index`` ``(n_subjects, m)`` rows into ``rec``, ``-1`` padded, and ``n_steps``),
        for ``index`` ``(n_lists,)`` each list's subject in ``0..n_subjects - 1``; cached
        per layout. A subject index out of range is a :class:`ValidationError`."""
        return self._blocks(np.asarray(index), rec, n_subjects)

    def _blocks(self, index: np.ndarray, rec: Any, n_subjects: int):
        from ._model import subject_blocks

        rec = np.asarray(rec)
        key = (index.tobytes(), rec.shape, hash(rec.tobytes()), n_subjects)
        cache = self.__dict__.setdefault("_block_cache", {})
        if key not in cache:
            if index.size and (index.min() < 0 or index.max() >= n_subjects):
                raise ValidationError(f"index: expected subject indices in [0, "
                                      f"{n_subjects}), got [{index.min()}, {index.max()}]")
            cache[key] = subject_blocks(index, rec, n_subjects, self._prep.L)
        return cache[key]


def make_loglik(data: Any, *, variant: str | Variant = "jaxcmr",
                pool_size: int | None = None, items: Any = None) -> LoglikFunction:
    """Validate ``data`` once and return its :class:`LoglikFunction` under ``variant``
    (``items``: as in :func:`log_likelihood`)."""
    v = get_variant(variant)
    return LoglikFunction(prepare(data, pool_size=pool_size, variant=v, items=items), v)

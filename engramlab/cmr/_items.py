"""Item representations as data: what the items of a pool are beyond their identity.

CMR's temporal context treats every item as a localist unit; models of how people
organise recall by meaning (jaxcmr's semantic CMR, cymr's category context) also need to
know how items relate. :class:`ItemFeatures` holds that for a pool of ``P`` items
(indexed by ``item_index``, 0-based, as in the data):

- ``similarity`` ``(P, P)``: pre-experimental association strengths (symmetric, finite);
- ``vectors`` ``(P, d)``: distributed patterns (e.g. word embeddings), when given;
- ``categories`` ``(P,)``: integer category codes (``-1``: an item with no category) and
  their ``labels``, when given.

Build it from one source with :meth:`ItemFeatures.from_similarity`,
:meth:`~ItemFeatures.from_vectors` (cosine similarity, as jaxcmr's
``cosine_similarity_matrix``), :meth:`~ItemFeatures.from_categories` (1 within a
category, 0 between) or :meth:`~ItemFeatures.from_data` (a study-event column such as
Morton2013's ``category``). Every entry point that scores or simulates data takes it as
``items=`` and hands each list the rows of its own study items (:meth:`per_list`); a
variant whose components read item data (``Component.ITEMS``) refuses to run without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_array, check_resources
from ..errors import DataError, ShapeError

__all__ = ["ItemFeatures", "ITEM_KEYS", "as_items", "item_shape"]

#: jaxcmr's ``lb`` (float32 epsilon), added to each norm in its cosine similarity.
_LB = 1.1920928955078125e-07

#: What a component may ask for (``Component.ITEMS``) and the per-list shape it gets.
ITEM_KEYS = {
    "similarity": "(L, L): similarity of every pair of the list's study items",
    "category": "(L,): category code of every study item (-1: none)",
    "category_onehot": "(L, C): one-hot category pattern of every study item",
}


def item_shape(key: str, L: int, n_categories: int = 2) -> tuple[int, ...]:
    """The per-list shape of item data ``key`` (:data:`ITEM_KEYS`) for lists of ``L``
    items (``n_categories``: ``C`` of ``category_onehot``)."""
    return {"similarity": (L, L), "category": (L,),
            "category_onehot": (L, n_categories)}[key]


class ItemFeatures:
    """Pre-experimental representations of a pool of ``P`` items (see the module doc).

    Prefer the constructors; the direct form takes ``similarity`` ``(P, P)`` and,
    optionally, ``vectors`` ``(P, d)`` and ``categories`` ``(P,)`` integer codes (with
    ``labels``, the name of each code). Raises :class:`~engramlab.errors.DataError` /
    :class:`~engramlab.errors.ShapeError` naming what is wrong (non-square, asymmetric,
    non-finite, mismatched pool sizes).
    """

    def __init__(self, similarity: Any, *, vectors: Any = None, categories: Any = None,
                 labels: Any = None, source: str = "similarity"):
        s = as_array(similarity, "similarity", ndim=2, dtype=np.float64)
        P = s.shape[0]
        if s.shape != (P, P):
            raise ShapeError(f"similarity: expected a square (P, P) matrix over the item "
                             f"pool, got shape {s.shape}")
        check_resources("the item similarity matrix", n_bytes=8.0 * P * P,
                        args={"similarity": f"{P} x {P}"})
        asym = float(np.max(np.abs(s - s.T)))
        if asym > 1e-9 * max(1.0, float(np.max(np.abs(s)))):
            i, j = np.unravel_index(int(np.argmax(np.abs(s - s.T))), s.shape)
            raise DataError(f"similarity: expected a symmetric matrix, got s[{i}, {j}] = "
                            f"{s[i, j]:.6g} but s[{j}, {i}] = {s[j, i]:.6g}")
        self.similarity = s
        self.vectors = None
        if vectors is not None:
            self.vectors = as_array(vectors, "vectors", ndim=2, dtype=np.float64)
            if self.vectors.shape[0] != P:
                raise ShapeError(f"vectors: expected {P} rows (one per pool item), got "
                                 f"shape {self.vectors.shape}")
        self.categories = None
        self.labels: tuple = ()
        if categories is not None:
            c = as_array(categories, "categories", ndim=1, kind="int")
            if c.shape != (P,):
                raise ShapeError(f"categories: expected shape ({P},), got {c.shape}")
            self.labels = tuple(labels) if labels is not None else tuple(
                range(int(c.max(initial=-1)) + 1))
            if c.min(initial=0) < -1 or c.max(initial=-1) >= len(self.labels):
                raise DataError(f"categories: expected codes in [-1, {len(self.labels)}), "
                                f"got [{c.min()}, {c.max()}]")
            self.categories = c.astype(np.int64)
        self.source = source

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_similarity(cls, similarity: Any) -> ItemFeatures:
        """A pool similarity matrix as given (e.g. from a semantic-relatedness norm
        such as WAS or LSA): ``(P, P)``, symmetric, finite."""
        return cls(similarity, source="similarity")

    @classmethod
    def from_vectors(cls, vectors: Any, *, eps: float = _LB) -> ItemFeatures:
        """Distributed patterns ``(P, d)`` (e.g. GloVe or word2vec embeddings of the pool's
        words); similarity is their cosine, computed as jaxcmr's
        ``cosine_similarity_matrix`` (``jaxcmr/math.py``)::

            S_ij = clip( x_i . x_j / ((|x_i| + eps) (|x_j| + eps)), -1, 1 )

        with ``eps`` jaxcmr's ``lb`` (float32 epsilon) by default (``eps=0``: the exact
        cosine). An all-zero row has no direction: a :class:`DataError`."""
        x = as_array(vectors, "vectors", ndim=2, dtype=np.float64)
        norms = np.linalg.norm(x, axis=1)
        if (norms == 0).any():
            raise DataError(f"vectors: row {int(np.flatnonzero(norms == 0)[0])} is all "
                            "zeros (an item pattern needs a direction for its cosine)")
        check_resources("the item similarity matrix", n_bytes=8.0 * len(x) ** 2,
                        args={"vectors": f"{len(x)} items"})
        u = x / (norms + float(eps))[:, None]
        return cls(np.clip(u @ u.T, -1.0, 1.0), vectors=x, source="vectors")

    @classmethod
    def from_categories(cls, categories: Any) -> ItemFeatures:
        """One category label per pool item (``(P,)``; ``None`` / NaN: no category).
        Similarity is 1 between two items of the same category, 0 otherwise (and 1 on
        the diagonal); ``vectors`` are the one-hot category patterns (cymr's ``'cat'``
        patterns; an item with no category has an all-zero row)."""
        lab = pd.Series(np.asarray(categories, dtype=object).ravel())
        if lab.empty:
            raise ShapeError("categories: expected one label per pool item, got none")
        try:
            codes, uniques = pd.factorize(lab, sort=True)
        except TypeError:  # labels of mixed types (e.g. str and int) do not sort
            codes, uniques = pd.factorize(lab, sort=False)
        onehot = np.zeros((len(codes), len(uniques)))
        onehot[codes >= 0, codes[codes >= 0]] = 1.0
        s = (codes[:, None] == codes[None, :]) & (codes[:, None] >= 0)
        s = s.astype(np.float64)
        np.fill_diagonal(s, 1.0)
        return cls(s, vectors=onehot, categories=codes, labels=list(uniques),
                   source="categories")

    @classmethod
    def from_data(cls, data: pd.DataFrame, column: str = "category", *,
                  pool_size: int | None = None) -> ItemFeatures:
        """Category labels read from a study-event column of psifr long-format ``data``
        (Morton2013's ``category``): each ``item_index`` takes the label of its study
        events; items never studied get no category. An item studied under two labels
        is a :class:`DataError`."""
        from ._data import _check_frame

        df = _check_frame(data, "data")
        if column not in df.columns:
            raise DataError(f"column: the data have no column {column!r}; their columns: "
                            f"{list(df.columns)}")
        if "item_index" not in df.columns:
            raise DataError("data: an item_index column (0-based pool index) is needed to "
                            "place each item's label in the pool")
        st = df.loc[df["trial_type"] == "study", ["item_index", column]].dropna()
        per = st.groupby("item_index")[column].nunique()
        if (per > 1).any():
            bad = int(per.index[per > 1][0])
            raise DataError(f"data[{column!r}]: item_index {bad} is studied under "
                            f"{sorted(map(str, st.loc[st.item_index == bad, column].unique()))}"
                            "; expected one label per item")
        idx = st["item_index"].to_numpy()
        if (idx < 0).any() or (idx != np.round(idx)).any():
            raise DataError("data['item_index']: expected non-negative integers")
        P = int(idx.max()) + 1 if pool_size is None else int(pool_size)
        if P <= int(idx.max()):
            raise DataError(f"pool_size: expected at least max(item_index) + 1 = "
                            f"{int(idx.max()) + 1}, got {P}")
        labels = np.full(P, None, dtype=object)
        first = st.drop_duplicates("item_index")
        labels[first["item_index"].to_numpy().astype(int)] = first[column].to_numpy()
        out = cls.from_categories(labels)
        out.source = f"data[{column!r}]"
        return out

    # ----------------------------------------------------------------------- access
    @property
    def pool_size(self) -> int:
        """``P``: the number of items described."""
        return int(self.similarity.shape[0])

    def __repr__(self) -> str:
        extra = (f", {len(self.labels)} categories" if self.categories is not None else "")
        vec = (f", vectors d={self.vectors.shape[1]}" if self.vectors is not None else "")
        return f"ItemFeatures(pool={self.pool_size}, from {self.source}{vec}{extra})"

    def check_pool(self, pool_size: int, name: str = "items") -> None:
        """Raise :class:`DataError` unless every item of a pool of ``pool_size`` (the
        data's ``max(item_index) + 1``) is described."""
        if self.pool_size < pool_size:
            raise DataError(f"{name}: describes {self.pool_size} pool items but the data "
                            f"study item_index up to {pool_size - 1} (expected at least "
                            f"{pool_size} items)")

    def per_list(self, key: str, pres_itemnos: np.ndarray) -> np.ndarray:
        """The rows of ``key`` (``ITEM_KEYS``) for every list's study items:
        ``pres_itemnos`` ``(n, L)`` 0-based pool indices -> ``similarity`` ``(n, L, L)``,
        ``category`` ``(n, L)`` codes or ``category_onehot`` ``(n, L, C)``, float64."""
        pres = np.asarray(pres_itemnos, dtype=np.int64)
        self.check_pool(int(pres.max(initial=-1)) + 1)
        if key == "similarity":
            n, L = pres.shape
            check_resources("the lists' item similarities", n_bytes=8.0 * n * L * L,
                            args={"data": f"{n} lists of {L} items"})
            return self.similarity[pres[:, :, None], pres[:, None, :]]
        if key in ("category", "category_onehot") and self.categories is None:
            raise DataError(f"items: the model reads item categories, but these item "
                            f"features come from {self.source} (build them with "
                            "ItemFeatures.from_categories or from_data)")
        if key == "category":
            return self.categories[pres].astype(np.float64)
        if key == "category_onehot":
            C = len(self.labels)
            check_resources("the lists' category patterns", n_bytes=8.0 * pres.size * C,
                            args={"data": f"{pres.shape[0]} lists of {pres.shape[1]} items"})
            eye = np.vstack([np.eye(C), np.zeros((1, C))])  # code -1: no category
            return eye[np.where(self.categories[pres] >= 0, self.categories[pres], C)]
        raise DataError(f"items: unknown item data {key!r}; known: {sorted(ITEM_KEYS)}")


def as_items(items: Any, name: str = "items") -> ItemFeatures | None:
    """``None``, an :class:`ItemFeatures`, or a ``(P, P)`` similarity array (taken as
    :meth:`ItemFeatures.from_similarity`)."""
    if items is None or isinstance(items, ItemFeatures):
        return items
    if isinstance(items, (np.ndarray, list, tuple)) or hasattr(items, "__array__"):
        return ItemFeatures.from_similarity(items)
    raise DataError(f"{name}: expected an ItemFeatures (cmr.ItemFeatures.from_categories / "
                    f"from_vectors / from_similarity / from_data) or a (P, P) similarity "
                    f"matrix, got {type(items).__name__}")

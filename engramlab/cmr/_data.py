"""Free-recall data: psifr long format in and out, validation, jaxcmr HDF5 import/export.

**Long format** (psifr): one row per event with columns ``subject``, ``list``,
``trial_type`` (``"study"`` / ``"recall"``), ``position`` (1-based serial or output
position) and ``item`` (the word). ``item_index`` (0-based index into the item pool) is
used when present; :func:`load_dataset` adds it.

**Array format** (what the likelihood consumes, :class:`RecallArrays`): for ``n`` lists
of length ``L``

- ``subject`` ``(n,)``, ``list`` ``(n,)``: identifiers;
- ``pres_itemnos`` ``(n, L)``: 0-based pool index of each studied item;
- ``recalls`` ``(n, L)``: 1-based *study positions* of the recalled items in output
  order, 0-padded (jaxcmr's convention).

**Validation policy** (:func:`to_arrays`):

- missing columns, no rows, unknown ``trial_type`` values, a list with recall events but
  no study events (an *empty list*), a list that presents the same item twice, lists of
  mixed length: :class:`~engramlab.errors.DataError` (the model is vmapped over
  lists of one fixed length; split the data by list length first).
- *intrusions* (recall of an item not studied on that list) and *repeats* (second and
  later recalls of the same item): with ``clean=True`` (the default, as cymr's
  ``prepare_lists(clean=True)``) they are removed from the sequence before scoring and the
  remaining recalls keep their order; with ``clean=False`` they raise ``DataError``.
- a list with study events and no recall events is a valid list with zero recalls (the
  only scored event is stopping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import write_with
from ..errors import DataError

__all__ = ["load_dataset", "to_arrays", "from_arrays", "RecallArrays", "read_jaxcmr_h5",
           "write_jaxcmr_h5", "DATASETS", "check_study_columns"]

REQUIRED_COLUMNS = ("subject", "list", "trial_type", "position", "item")

#: Dataset name -> (psifr bundled file stem, description).
DATASETS = {
    "Morton2013": ("Morton2013", "Morton et al. (2013): 40 subjects x 48 lists x 24 items"),
    "PEERS": ("peers_notask", "PEERS sample (no task): 126 subjects x 28 lists x 16 items"),
}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a free-recall dataset that psifr ships, in psifr long format.

    **Arguments:**

    - ``name``: ``"Morton2013"`` (40 subjects x 48 lists x 24 items) or ``"PEERS"``
      (sample of the Penn Electrophysiology of Encoding and Retrieval Study without a
      task: 126 subjects x 28 lists x 16 items).

    **Returns:** a DataFrame with psifr's columns plus ``item_index`` (0-based pool
    index; ``Morton2013``: ``item_number - 1``; ``PEERS``: rank of the word among all
    studied words). Intrusions (words never studied in the dataset) get ``-1``.
    """
    from psifr import fr

    if name not in DATASETS:
        raise DataError(f"name: expected one of {sorted(DATASETS)}, got {name!r}")
    df = fr.sample_data(DATASETS[name][0])
    studied = df.loc[df["trial_type"] == "study", "item"]
    if name == "Morton2013":
        pool = df.loc[df["trial_type"] == "study"].drop_duplicates("item")
        mapping = dict(zip(pool["item"], pool["item_number"].astype(int) - 1, strict=True))
    else:
        mapping = {w: i for i, w in enumerate(np.sort(studied.unique()))}
    df["item_index"] = df["item"].map(mapping).fillna(-1).astype(int)
    return df


@dataclass(frozen=True)
class RecallArrays:
    """Free-recall data as arrays (see the module docstring for the conventions).

    **Fields:** ``subject`` ``(n,)``, ``list`` ``(n,)``, ``pres_itemnos`` ``(n, L)`` int
    (0-based pool indices), ``recalls`` ``(n, L)`` int (1-based study positions, 0-padded),
    ``n_intrusions`` / ``n_repeats`` (how many events cleaning removed), ``features``
    (name -> ``(n, L)`` float array: per-study-event columns such as ``valence``).
    """

    subject: np.ndarray
    list: np.ndarray
    pres_itemnos: np.ndarray
    recalls: np.ndarray
    n_intrusions: int = 0
    n_repeats: int = 0
    features: dict = field(default_factory=dict)

    @property
    def list_length(self) -> int:
        return int(self.pres_itemnos.shape[1])

    @property
    def n_recalls(self) -> np.ndarray:
        """Number of (clean) recalls per list, ``(n,)``."""
        return (self.recalls > 0).sum(axis=1)

    @property
    def pool_size(self) -> int:
        """``max(pres_itemnos) + 1``: the smallest localist pool holding every item."""
        return int(self.pres_itemnos.max()) + 1

    def select(self, mask: np.ndarray) -> RecallArrays:
        """The lists where boolean ``mask`` (shape ``(n,)``) is true."""
        return RecallArrays(self.subject[mask], self.list[mask], self.pres_itemnos[mask],
                            self.recalls[mask],
                            features={k: v[mask] for k, v in self.features.items()})


def _check_frame(data: Any, name: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{name}: expected a pandas DataFrame in psifr long format, "
                        f"got {type(data).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise DataError(f"{name}: missing required column(s) {missing}; psifr long format "
                        f"needs {list(REQUIRED_COLUMNS)}")
    if len(data) == 0:
        raise DataError(f"{name}: the DataFrame has no rows")
    bad = set(data["trial_type"].unique()) - {"study", "recall"}
    if bad:
        raise DataError(f"{name}: trial_type must be 'study' or 'recall', got {sorted(bad)}")
    pos = data["position"]
    if not (pd.api.types.is_numeric_dtype(pos) and not pd.api.types.is_bool_dtype(pos)):
        raise DataError(f"{name}: column 'position' must be numeric (1-based serial or "
                        f"output positions), got dtype {pos.dtype}")
    posv = pos.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(posv).all() or (posv != np.round(posv)).any() or (posv < 1).any():
        i = int(np.flatnonzero(~np.isfinite(posv) | (posv != np.round(posv))
                               | ~(posv >= 1))[0])
        raise DataError(f"{name}: column 'position' must hold integers >= 1, got "
                        f"{pos.iloc[i]!r} (row {data.index[i]!r})")
    for col in ("subject", "list", "item"):
        if data[col].isna().any():
            i = int(np.flatnonzero(data[col].isna().to_numpy())[0])
            raise DataError(f"{name}: column {col!r} has missing values (first at row "
                            f"{data.index[i]!r})")
    return data



def _refuse_repeats(frame: pd.DataFrame, column: str, message) -> None:
    """:class:`DataError` ``message(subject, list, value)`` for the first value of
    ``column`` that repeats within a list."""
    cols = ["subject", "list", column]
    dup = frame.duplicated(cols)
    if dup.any():
        raise DataError(message(*frame.loc[dup, cols].iloc[0]))

def to_arrays(data: pd.DataFrame, *, clean: bool = True, name: str = "data",
              features: tuple[str, ...] = ()) -> RecallArrays:
    """Validate a psifr long-format DataFrame and convert it to :class:`RecallArrays`.

    Item identity is the ``item_index`` column when present, else the ``item`` column
    (pool indices are then the ranks of the distinct studied items). See the module
    docstring for the validation policy; ``clean`` selects what happens to intrusions and
    repeats (drop, as cymr does, or raise :class:`~engramlab.errors.DataError`).
    ``features``: study-event columns to carry as ``(n, L)`` float arrays (e.g.
    ``("valence",)``); each must be numeric and finite on every study event.
    """
    df = _check_frame(data, name)
    for f in features:
        if f not in df.columns:
            raise DataError(f"{name}: missing column {f!r} (one value per study event)")
    key = "item_index" if "item_index" in df.columns else "item"
    cols = ["subject", "list", "position", "item"] + ([key] if key != "item" else [])
    study = df.loc[df["trial_type"] == "study", cols + [f for f in features if f not in cols]]
    recall = df.loc[df["trial_type"] == "recall", ["subject", "list", "position", "item"]]
    if len(study) == 0:
        raise DataError(f"{name}: no study events (trial_type == 'study')")
    study = study.sort_values(["subject", "list", "position"], kind="stable")
    lists = study[["subject", "list"]].drop_duplicates().reset_index(drop=True)

    rec_lists = recall[["subject", "list"]].drop_duplicates()
    orphan = rec_lists.merge(lists, how="left", indicator=True)
    orphan = orphan[orphan["_merge"] == "left_only"]
    if len(orphan):
        s, lst = orphan.iloc[0][["subject", "list"]]
        raise DataError(f"{name}: {len(orphan)} empty list(s): recall events but no study "
                        f"events (first: subject {s!r}, list {lst!r})")
    _refuse_repeats(study, "item", lambda s, lst, it: (
        f"{name}: item {it!r} is presented more than once in subject {s!r} list {lst!r}; "
        "each list must present distinct items"))
    lengths = study.groupby(["subject", "list"], sort=False).size()
    if lengths.nunique() != 1:
        counts = lengths.value_counts().sort_index().to_dict()
        raise DataError(f"{name}: lists of mixed length {counts} (length: number of lists); "
                        "split the data by list length and score each part separately")
    L = int(lengths.iloc[0])
    n = len(lists)
    # study positions are the serial positions 1..L of every list (psifr's convention):
    # a gap, a repeat or a stray value (1e9) would silently reorder the list
    expect = study.groupby(["subject", "list"], sort=False).cumcount().to_numpy() + 1
    off = study["position"].to_numpy() != expect
    if off.any():
        i = int(np.flatnonzero(off)[0])
        row = study.iloc[i]
        raise DataError(f"{name}: study positions of every list must be 1..{L} (each once); "
                        f"subject {row['subject']!r} list {row['list']!r} has position "
                        f"{row['position']!r} where {int(expect[i])} was expected (row "
                        f"{study.index[i]!r})")
    _refuse_repeats(recall, "position", lambda s, lst, pos: (
        f"{name}: recall position {pos!r} appears more than once in subject {s!r} list "
        f"{lst!r}; output positions must be distinct"))

    if key == "item":
        pool = {w: i for i, w in enumerate(np.sort(study["item"].unique()))}
        pres = study["item"].map(pool).to_numpy()
    else:
        pres = study[key].to_numpy()
        if pd.isna(pres).any() or (pres.astype(float) < 0).any():
            raise DataError(f"{name}: item_index of studied items must be >= 0 and not NaN")
    pres = pres.astype(int).reshape(n, L)
    study = study.assign(input=np.tile(np.arange(1, L + 1), n))

    recall = recall.sort_values(["subject", "list", "position"], kind="stable")
    merged = recall.merge(study[["subject", "list", "item", "input"]],
                          on=["subject", "list", "item"], how="left")
    intrusion = merged["input"].isna().to_numpy()
    repeat = (~intrusion) & merged.duplicated(["subject", "list", "item"]).to_numpy()
    if not clean and (intrusion.any() or repeat.any()):
        what = []
        if intrusion.any():
            r = merged.loc[intrusion].iloc[0]
            what.append(f"{int(intrusion.sum())} intrusion(s) (first: {r['item']!r} in "
                        f"subject {r['subject']!r} list {r['list']!r})")
        if repeat.any():
            r = merged.loc[repeat].iloc[0]
            what.append(f"{int(repeat.sum())} repeat(s) (first: {r['item']!r} in "
                        f"subject {r['subject']!r} list {r['list']!r})")
        raise DataError(f"{name}: " + " and ".join(what) + "; pass clean=True to remove "
                        "them before scoring, as cymr does")
    kept = merged.loc[~intrusion & ~repeat]
    list_id = lists.reset_index().rename(columns={"index": "row"})
    kept = kept.merge(list_id, on=["subject", "list"], how="left")
    out_pos = kept.groupby("row", sort=False).cumcount().to_numpy()
    recalls = np.zeros((n, L), dtype=int)
    recalls[kept["row"].to_numpy(), out_pos] = kept["input"].to_numpy().astype(int)
    feats = {}
    for f in features:
        col = study[f]
        vals = (col.to_numpy(dtype=float, na_value=np.nan)
                if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
                else None)
        if vals is None:
            raise DataError(f"{name}: column {f!r} must be a finite number on every study "
                            f"event, got dtype {col.dtype}")
        bad = ~np.isfinite(vals)
        if bad.any():
            raise DataError(f"{name}: column {f!r} must be a finite number on every study "
                            f"event; {int(bad.sum())} study event(s) are missing, NaN or "
                            f"inf: " + _where(study.loc[bad], study.index[bad]))
        feats[f] = vals.reshape(n, L)
    return RecallArrays(lists["subject"].to_numpy(), lists["list"].to_numpy(), pres, recalls,
                        int(intrusion.sum()), int(repeat.sum()), feats)


def _where(frame: pd.DataFrame, labels: Any, limit: int = 5) -> str:
    """``subject s list l position p (row r), ...`` for the first ``limit`` rows."""
    def py(v: Any) -> Any:
        return v.item() if isinstance(v, np.generic) else v

    rows = frame[["subject", "list", "position"]].to_numpy(dtype=object)
    parts = [f"subject {py(s)!r} list {py(lst)!r} position {int(pos)} (row {py(lab)!r})"
             for (s, lst, pos), lab in zip(rows[:limit], list(labels)[:limit], strict=True)]
    more = len(frame) - len(parts)
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def check_study_columns(arrays: RecallArrays, names: tuple[str, ...] | list[str], *,
                        name: str = "data") -> None:
    """Check that ``arrays`` carries every study-event column of ``names`` as a finite
    ``(n, L)`` array (the one validation of study-event covariates, whatever the source:
    a psifr frame, a jaxcmr HDF5 file, arrays built by hand).

    Raises :class:`~engramlab.errors.DataError` naming the column and, for missing / NaN /
    inf values, the lists (subject, list, 1-based serial position) that hold them."""
    n, L = arrays.pres_itemnos.shape
    for f in names:
        if f not in arrays.features:
            raise DataError(f"{name}: missing study-event column {f!r} (one value per study "
                            f"event); the data carry {sorted(arrays.features)}")
        v = np.asarray(arrays.features[f])
        if v.shape != (n, L) or v.dtype.kind not in "iuf":
            raise DataError(f"{name}: study-event column {f!r} must be a numeric ({n}, {L}) "
                            f"array (lists x serial positions), got shape {v.shape} and "
                            f"dtype {v.dtype}")
        bad = ~np.isfinite(v)
        if bad.any():
            rows, pos = np.nonzero(bad)
            frame = pd.DataFrame({"subject": np.asarray(arrays.subject)[rows],
                                  "list": np.asarray(arrays.list)[rows], "position": pos + 1})
            raise DataError(f"{name}: study-event column {f!r} must be finite on every study "
                            f"event; {int(bad.sum())} value(s) are NaN or inf: "
                            + _where(frame, [f"list index {r}" for r in rows]))


def from_arrays(arrays: RecallArrays, *, items: np.ndarray | None = None) -> pd.DataFrame:
    """Build a psifr long-format DataFrame from :class:`RecallArrays`.

    ``items`` (optional, shape ``(pool,)``) gives the word of each pool index; by default
    the item label is the pool index itself. Columns: ``subject, list, trial_type,
    position, item, item_index``.
    """
    n, L = arrays.pres_itemnos.shape
    label = (lambda idx: idx) if items is None else (lambda idx: np.asarray(items)[idx])
    subj = np.repeat(arrays.subject, L)
    lst = np.repeat(arrays.list, L)
    pres_flat = arrays.pres_itemnos.reshape(-1)
    study = pd.DataFrame({"subject": subj, "list": lst, "trial_type": "study",
                          "position": np.tile(np.arange(1, L + 1), n),
                          "item": label(pres_flat), "item_index": pres_flat,
                          **{k: np.asarray(v).reshape(-1) for k, v in arrays.features.items()}})
    rows, outs = np.nonzero(arrays.recalls)
    rec_idx = arrays.pres_itemnos[rows, arrays.recalls[rows, outs] - 1]
    recall = pd.DataFrame({"subject": arrays.subject[rows], "list": arrays.list[rows],
                           "trial_type": "recall", "position": outs + 1,
                           "item": label(rec_idx), "item_index": rec_idx})
    df = pd.concat([study, recall], ignore_index=True)
    order = np.lexsort((df["position"].to_numpy(), (df["trial_type"] == "recall").to_numpy(),
                        df["list"].to_numpy(), df["subject"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


#: jaxcmr's per-trial fields that are not study-event features.
_H5_CORE = ("subject", "list", "listLength", "pres_itemnos", "pres_itemids", "recalls",
            "rec_itemids", "irt")


def write_jaxcmr_h5(arrays: RecallArrays | pd.DataFrame, path: str | Path, *,
                    features: tuple[str, ...] | None = None) -> Path:
    """Write data in jaxcmr's HDF5 layout (atomically).

    jaxcmr's ``save_dict_to_hdf5`` puts every array of a dict under the group ``/data``,
    each stored transposed (``value.T``, the MATLAB v7.3 orientation), and its
    ``load_data`` reads ``f["/data"][key][()].T``, so trials lie along the first axis
    after loading. The fields, ``n`` trials of length ``L``, all int64 unless noted:

    - ``subject`` ``(n, 1)``, ``listLength`` ``(n, 1)``, ``list`` ``(n, 1)`` (list numbers,
      when integer; read back by :func:`read_jaxcmr_h5`);
    - ``pres_itemnos`` ``(n, L)``: within-list item numbers ``1..L`` (jaxcmr's models
      experience ``pres_itemnos[i]`` as the item index; recalls are mapped through it);
    - ``pres_itemids`` ``(n, L)``: pool ids of the studied items, 1-based;
    - ``recalls`` ``(n, L)``: 1-based study positions in output order, 0 = no recall;
    - ``rec_itemids`` ``(n, L)``: pool ids (1-based) of the recalled items, 0-padded;
    - one float64 ``(n, L)`` array per study-event feature (e.g. ``valence``, or the
      ``condition`` / ``EarlyLPP`` fields jaxcmr's EEG-informed models read, whose
      factories compute ``(2 - condition).astype(bool)`` and ``jnp.array(EarlyLPP)``;
      both work on float64); default: every feature the arrays carry.
    """
    import h5py

    arr = (to_arrays(arrays, name="arrays", features=tuple(features or ()))
           if isinstance(arrays, pd.DataFrame) else arrays)
    n, L = arr.pres_itemnos.shape
    rows, outs = np.nonzero(arr.recalls)
    rec_ids = np.zeros((n, L), dtype=np.int64)
    rec_ids[rows, outs] = arr.pres_itemnos[rows, arr.recalls[rows, outs] - 1] + 1
    fields = {
        "subject": np.asarray(arr.subject, dtype=np.int64).reshape(n, 1),
        "listLength": np.full((n, 1), L, dtype=np.int64),
        "pres_itemnos": np.tile(np.arange(1, L + 1, dtype=np.int64), (n, 1)),
        "pres_itemids": arr.pres_itemnos.astype(np.int64) + 1,
        "recalls": arr.recalls.astype(np.int64),
        "rec_itemids": rec_ids,
    }
    lists = np.asarray(arr.list)
    if lists.dtype.kind in "iu" or (lists.dtype.kind == "f" and np.isfinite(lists).all()
                                    and (lists == np.round(lists)).all()):
        fields["list"] = lists.astype(np.int64).reshape(n, 1)  # as jaxcmr's EEG datasets
    names = arr.features if features is None else features
    for f in names:
        if f not in arr.features:
            raise DataError(f"features: the data carry no study-event column {f!r}")
        if f in _H5_CORE:
            raise DataError(f"features: {f!r} is a reserved jaxcmr field name")
        fields[f] = np.asarray(arr.features[f], dtype=np.float64)

    def _write(p: Path) -> None:
        with h5py.File(p, "w") as f:
            g = f.create_group("data")
            for k, v in fields.items():
                g.create_dataset(k, data=v.T)

    return write_with(path, _write)


def read_jaxcmr_h5(path: str | Path) -> RecallArrays:
    """Read a jaxcmr HDF5 file (the layout of :func:`write_jaxcmr_h5`) into arrays.

    Item identity: ``pres_itemids`` (1-based pool ids) when present, else
    ``pres_itemnos``. Recalls are study positions ``1..L`` (0 = none). ``pres_itemnos``
    must be a permutation of ``1..L`` per trial (jaxcmr maps recalls through it; the
    likelihood does not depend on that relabelling). Any other ``(n, L)`` numeric array
    becomes a study-event feature (e.g. ``valence``).

    Raises :class:`~engramlab.errors.DataError` for a file that is missing, empty, not
    HDF5 or truncated; a missing ``/data`` group or field; ragged or mismatched shapes;
    ``listLength`` differing from the width; recalls outside ``0..L``, a recall after a
    0, or a repeated recall within a list (jaxcmr would score such a list as ``-inf``).
    """
    import h5py

    p = Path(path)
    if not p.is_file():
        raise DataError(f"path: no such file {str(p)!r}")
    try:
        with h5py.File(p, "r") as f:
            if "data" not in f or not isinstance(f["data"], h5py.Group):
                raise DataError(f"path: {str(p)!r} has no '/data' group (jaxcmr layout)")
            g = f["data"]
            missing = [k for k in ("subject", "pres_itemnos", "recalls") if k not in g]
            if missing:
                raise DataError(f"path: {str(p)!r} lacks dataset(s) {missing} under /data")
            d = {k: np.asarray(g[k][()]).T for k in g.keys()
                 if isinstance(g[k], h5py.Dataset)}
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"path: {str(p)!r} is not a readable HDF5 file "
                        f"({type(exc).__name__}: {str(exc)[:120]})") from None

    def ints(key: str) -> np.ndarray:
        a = np.asarray(d[key])
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2 or a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and (
                not np.isfinite(a).all() or (a != np.round(a)).any())):
            raise DataError(f"path: /data/{key} must be a 2-D array of integers, got "
                            f"shape {a.shape} and dtype {a.dtype}")
        return a.astype(np.int64)

    itemnos = ints("pres_itemnos")
    recalls = ints("recalls")
    n, L = itemnos.shape
    if n == 0 or L == 0:
        raise DataError(f"path: /data/pres_itemnos is empty (shape {itemnos.shape})")
    subject = ints("subject").reshape(-1)
    if subject.shape[0] != n or recalls.shape[0] != n:
        raise DataError(f"path: /data/subject and /data/recalls must have {n} trials (rows "
                        f"of pres_itemnos), got {subject.shape[0]} and {recalls.shape[0]}; "
                        "jaxcmr stores every array transposed (value.T), and a file written "
                        "without the transpose reads like this: see the 'Fit your own data' "
                        "page of the docs, section 'jaxcmr HDF5 files'")
    if "listLength" in d and np.any(ints("listLength").reshape(-1) != L):
        raise DataError(f"path: /data/listLength differs from the pres_itemnos width {L}; "
                        "mixed list lengths are not supported")
    if recalls.min() < 0 or recalls.max() > L:
        raise DataError(f"path: /data/recalls must hold study positions 0..{L}, got values "
                        f"in [{recalls.min()}, {recalls.max()}]")
    if (itemnos < 1).any() or (itemnos > L).any() or \
            (np.sort(itemnos, axis=1) != np.arange(1, L + 1)).any():
        raise DataError(f"path: /data/pres_itemnos must list the within-list numbers "
                        f"1..{L} once each per trial (jaxcmr layout)")
    # recalls name study positions; jaxcmr maps them through pres_itemnos
    nonzero = recalls > 0
    after_zero = np.cumsum(~nonzero, axis=1) > 0
    if (nonzero & after_zero).any():
        t = int(np.flatnonzero((nonzero & after_zero).any(axis=1))[0])
        raise DataError(f"path: /data/recalls trial {t}: a recall follows a 0 (stop)")
    srt = np.sort(np.where(nonzero, recalls, 0), axis=1)
    rep = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] > 0)
    if rep.any():
        t = int(np.flatnonzero(rep.any(axis=1))[0])
        raise DataError(f"path: /data/recalls trial {t} recalls a study position twice; "
                        "clean repeats first (jaxcmr would score it -inf)")
    width = recalls.shape[1]
    recalls = np.pad(recalls, ((0, 0), (0, max(0, L - width))))[:, :L]
    if "pres_itemids" in d:
        ids = ints("pres_itemids")
        if ids.shape != (n, L) or (ids < 1).any():
            raise DataError(f"path: /data/pres_itemids must be ({n}, {L}) 1-based ids, got "
                            f"shape {ids.shape}")
        pool = ids - 1
    else:
        pool = itemnos - 1
    feats = {}
    for k, v in d.items():
        if k in _H5_CORE:
            continue
        a = np.asarray(v)
        # every (n, L) numeric field is a study-event column (EarlyLPP, condition,
        # valence, ...); NaN/inf values are kept and refused, naming the lists, by the
        # variant that reads the column (check_study_columns)
        if a.shape == (n, L) and a.dtype.kind in "iuf":
            feats[k] = a.astype(np.float64)
    lst = np.zeros(n, dtype=np.int64)
    if "list" in d and np.asarray(d["list"]).size == n:
        lst = ints("list").reshape(-1)  # jaxcmr datasets may carry list numbers
    else:
        for s_ in np.unique(subject):
            m = subject == s_
            lst[m] = np.arange(1, m.sum() + 1)
    return RecallArrays(subject, lst, pool, recalls, features=feats)

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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import write_with
from ..errors import DataError

__all__ = ["load_dataset", "to_arrays", "from_arrays", "RecallArrays", "read_jaxcmr_h5",
           "write_jaxcmr_h5", "DATASETS"]

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
    ``n_intrusions`` / ``n_repeats`` (how many events cleaning removed).
    """

    subject: np.ndarray
    list: np.ndarray
    pres_itemnos: np.ndarray
    recalls: np.ndarray
    n_intrusions: int = 0
    n_repeats: int = 0

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
                            self.recalls[mask])


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
    return data


def to_arrays(data: pd.DataFrame, *, clean: bool = True, name: str = "data") -> RecallArrays:
    """Validate a psifr long-format DataFrame and convert it to :class:`RecallArrays`.

    Item identity is the ``item_index`` column when present, else the ``item`` column
    (pool indices are then the ranks of the distinct studied items). See the module
    docstring for the validation policy; ``clean`` selects what happens to intrusions and
    repeats (drop, as cymr does, or raise :class:`~engramlab.errors.DataError`).
    """
    df = _check_frame(data, name)
    key = "item_index" if "item_index" in df.columns else "item"
    study = df.loc[df["trial_type"] == "study", ["subject", "list", "position", "item", key]
                   if key != "item" else ["subject", "list", "position", "item"]]
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
    dup = study.duplicated(["subject", "list", "item"])
    if dup.any():
        s, lst, it = study.loc[dup, ["subject", "list", "item"]].iloc[0]
        raise DataError(f"{name}: item {it!r} is presented more than once in subject {s!r} "
                        f"list {lst!r}; each list must present distinct items")
    lengths = study.groupby(["subject", "list"], sort=False).size()
    if lengths.nunique() != 1:
        counts = lengths.value_counts().sort_index().to_dict()
        raise DataError(f"{name}: lists of mixed length {counts} (length: number of lists); "
                        "split the data by list length and score each part separately")
    L = int(lengths.iloc[0])
    n = len(lists)

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
    return RecallArrays(lists["subject"].to_numpy(), lists["list"].to_numpy(), pres, recalls,
                        int(intrusion.sum()), int(repeat.sum()))


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
                          "item": label(pres_flat), "item_index": pres_flat})
    rows, outs = np.nonzero(arrays.recalls)
    rec_idx = arrays.pres_itemnos[rows, arrays.recalls[rows, outs] - 1]
    recall = pd.DataFrame({"subject": arrays.subject[rows], "list": arrays.list[rows],
                           "trial_type": "recall", "position": outs + 1,
                           "item": label(rec_idx), "item_index": rec_idx})
    df = pd.concat([study, recall], ignore_index=True)
    order = np.lexsort((df["position"].to_numpy(), (df["trial_type"] == "recall").to_numpy(),
                        df["list"].to_numpy(), df["subject"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def write_jaxcmr_h5(arrays: RecallArrays | pd.DataFrame, path: str | Path) -> Path:
    """Write data in jaxcmr's HDF5 layout (atomically).

    Datasets under the group ``/data``: ``subject`` ``(n, 1)``, ``listLength`` ``(n, 1)``,
    ``pres_itemnos`` ``(n, L)`` (1-based item numbers) and ``recalls`` ``(n, L)``
    (1-based study positions, 0 = no recall), each stored transposed as MATLAB v7.3 files
    are, so that jaxcmr's ``load_data`` (which reads ``f["/data"][key][()].T``) returns
    them with trials along the first axis.
    """
    import h5py

    arr = to_arrays(arrays, name="arrays") if isinstance(arrays, pd.DataFrame) else arrays
    n, L = arr.pres_itemnos.shape
    fields = {
        "subject": np.asarray(arr.subject, dtype=np.int64).reshape(n, 1),
        "listLength": np.full((n, 1), L, dtype=np.int64),
        "pres_itemnos": arr.pres_itemnos.astype(np.int64) + 1,
        "recalls": arr.recalls.astype(np.int64),
    }

    def _write(p: Path) -> None:
        with h5py.File(p, "w") as f:
            g = f.create_group("data")
            for k, v in fields.items():
                g.create_dataset(k, data=v.T)

    return write_with(path, _write)


def read_jaxcmr_h5(path: str | Path) -> RecallArrays:
    """Read a jaxcmr HDF5 file (layout as in :func:`write_jaxcmr_h5`) into arrays.

    Raises :class:`~engramlab.errors.DataError` when a required dataset is missing, a list
    length differs from ``listLength``, or a recall is not a study position.
    """
    import h5py

    p = Path(path)
    if not p.exists():
        raise DataError(f"path: no such file {str(p)!r}")
    with h5py.File(p, "r") as f:
        if "data" not in f:
            raise DataError(f"path: {str(p)!r} has no '/data' group (jaxcmr layout)")
        g = f["data"]
        missing = [k for k in ("subject", "pres_itemnos", "recalls") if k not in g]
        if missing:
            raise DataError(f"path: {str(p)!r} lacks dataset(s) {missing} under /data")
        d = {k: g[k][()].T for k in g.keys()}
    pres = np.asarray(d["pres_itemnos"], dtype=np.int64)
    recalls = np.asarray(d["recalls"], dtype=np.int64)
    n, L = pres.shape
    if "listLength" in d and np.any(np.asarray(d["listLength"]).reshape(-1) != L):
        raise DataError(f"path: listLength differs from the pres_itemnos width {L}; mixed "
                        "list lengths are not supported")
    if recalls.shape[0] != n or recalls.min() < 0 or recalls.max() > L:
        raise DataError(f"path: recalls must have {n} rows with values in 0..{L}")
    if recalls.shape[1] < L:
        recalls = np.pad(recalls, ((0, 0), (0, L - recalls.shape[1])))
    subject = np.asarray(d["subject"]).reshape(-1)
    lst = np.zeros(n, dtype=np.int64)
    for s in np.unique(subject):
        m = subject == s
        lst[m] = np.arange(1, m.sum() + 1)
    return RecallArrays(subject, lst, pres - 1, recalls[:, :L])

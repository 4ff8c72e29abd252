"""CMR data: bundled datasets, validation policy, array and jaxcmr HDF5 round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.errors import DataError


def _frame(lists):
    """lists: {(subject, list): (study_words, recall_words)} -> psifr long format."""
    rows = []
    for (s, lst), (study, rec) in lists.items():
        rows += [dict(subject=s, list=lst, trial_type="study", position=i + 1, item=w)
                 for i, w in enumerate(study)]
        rows += [dict(subject=s, list=lst, trial_type="recall", position=i + 1, item=w)
                 for i, w in enumerate(rec)]
    return pd.DataFrame(rows)


def test_morton2013_shape():
    df = cmr.load_dataset("Morton2013")
    arr = cmr.to_arrays(df)
    assert len(np.unique(arr.subject)) == 40
    assert arr.pres_itemnos.shape == (40 * 48, 24)
    assert arr.pool_size == 768
    # every clean recall is a study position, no repeats within a list
    for row in arr.recalls[:200]:
        r = row[row > 0]
        assert len(np.unique(r)) == len(r) and r.max() <= 24
        assert np.all(row[len(r):] == 0)
    assert arr.n_intrusions > 0


def test_peers_shape():
    arr = cmr.to_arrays(cmr.load_dataset("PEERS"))
    assert arr.pres_itemnos.shape == (126 * 28, 16)


def test_unknown_dataset():
    with pytest.raises(DataError, match="name"):
        cmr.load_dataset("Murdock1962")


def test_cleaning_policy():
    df = _frame({(1, 1): ("ABCD", ["B", "X", "A", "B", "D"]), (1, 2): ("EFGH", [])})
    arr = cmr.to_arrays(df)
    np.testing.assert_array_equal(arr.recalls, [[2, 1, 4, 0], [0, 0, 0, 0]])
    assert (arr.n_intrusions, arr.n_repeats) == (1, 1)
    with pytest.raises(DataError, match="intrusion"):
        cmr.to_arrays(df, clean=False)
    df2 = _frame({(1, 1): ("ABCD", ["B", "A", "B"])})
    with pytest.raises(DataError, match="repeat"):
        cmr.to_arrays(df2, clean=False)


@pytest.mark.parametrize("frame,match", [
    (lambda: _frame({(1, 1): ("ABCD", ["A"])}).drop(columns="trial_type"), "trial_type"),
    (lambda: _frame({(1, 1): ("ABCD", ["A"])}).iloc[:0], "no rows"),
    (lambda: _frame({(1, 1): ("ABCD", ["A"]), (1, 2): ("ABC", ["A"])}), "mixed length"),
    (lambda: pd.concat([_frame({(1, 1): ("ABCD", ["A"])}),
                        _frame({(1, 2): ("", ["A"])})]), "empty list"),
    (lambda: _frame({(1, 1): ("ABCA", ["A"])}), "more than once"),
    (lambda: _frame({(1, 1): ("ABCD", ["A"])}).assign(trial_type="encoding"), "trial_type"),
])
def test_validation_errors(frame, match):
    with pytest.raises(DataError, match=match):
        cmr.to_arrays(frame())


def test_not_a_frame():
    with pytest.raises(DataError, match="DataFrame"):
        cmr.log_likelihood({"subject": [1]}, cmr.JaxcmrParams())


def test_arrays_roundtrip():
    df = cmr.load_dataset("Morton2013")
    arr = cmr.to_arrays(df[df["subject"].isin([1, 2])])
    back = cmr.to_arrays(cmr.from_arrays(arr))
    np.testing.assert_array_equal(back.recalls, arr.recalls)
    np.testing.assert_array_equal(back.pres_itemnos, arr.pres_itemnos)
    np.testing.assert_array_equal(back.subject, arr.subject)


def test_jaxcmr_h5_roundtrip(tmp_path):
    import h5py

    df = cmr.load_dataset("Morton2013")
    arr = cmr.to_arrays(df[df["subject"].isin([3, 4])])
    path = cmr.write_jaxcmr_h5(arr, tmp_path / "m.h5")
    with h5py.File(path) as f:  # jaxcmr's load_data reads f["/data"][key][()].T
        d = {k: f["/data"][k][()].T for k in f["/data"].keys()}
    assert set(d) == {"subject", "listLength", "pres_itemnos", "recalls"}
    assert d["pres_itemnos"].shape == (96, 24) and d["pres_itemnos"].min() >= 1
    np.testing.assert_array_equal(d["recalls"], arr.recalls)
    back = cmr.read_jaxcmr_h5(path)
    np.testing.assert_array_equal(back.pres_itemnos, arr.pres_itemnos)
    np.testing.assert_array_equal(back.recalls, arr.recalls)
    p = cmr.JaxcmrParams()
    assert cmr.log_likelihood(back, p) == pytest.approx(cmr.log_likelihood(arr, p), rel=1e-12)


def test_read_h5_errors(tmp_path):
    import h5py

    with pytest.raises(DataError, match="no such file"):
        cmr.read_jaxcmr_h5(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_group("data").create_dataset("subject", data=np.ones((1, 3)))
    with pytest.raises(DataError, match="pres_itemnos"):
        cmr.read_jaxcmr_h5(tmp_path / "bad.h5")

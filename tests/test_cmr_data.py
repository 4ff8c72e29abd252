"""CMR data: bundled datasets, validation policy, array and jaxcmr HDF5 round trips."""

from __future__ import annotations

import re
from pathlib import Path

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


def _jaxcmr_fixture(df):
    from seed_reference import jaxcmr_reference as ref

    return ref.psifr_to_jaxcmr(df)  # independent of engramlab: psifr's own cleaning


def test_read_a_file_written_as_jaxcmr_writes_it(tmp_path):
    """A file laid out by (a transcription of) jaxcmr's save_dict_to_hdf5."""
    from seed_reference import jaxcmr_reference as ref

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"].isin([3, 4])]
    data = _jaxcmr_fixture(sub)
    ref.save_like_jaxcmr(data, tmp_path / "j.h5")
    back = cmr.read_jaxcmr_h5(tmp_path / "j.h5")
    arr = cmr.to_arrays(sub)
    np.testing.assert_array_equal(back.subject, data["subject"][:, 0])
    np.testing.assert_array_equal(back.pres_itemnos, data["pres_itemids"] - 1)
    np.testing.assert_array_equal(back.pres_itemnos, arr.pres_itemnos)
    np.testing.assert_array_equal(back.recalls, data["recalls"])
    p = cmr.JaxcmrParams(choice_sensitivity=1.5)
    expected = ref.dataset_log_likelihood(
        "cmr", {**p.to_dict(), "learn_after_context_update": True,
                "allow_repeated_recalls": False}, data)
    np.testing.assert_allclose(cmr.trial_logliks(back, p), expected, rtol=1e-9)


def test_written_file_is_what_jaxcmr_loads(tmp_path):
    """Our writer's file, read by (a transcription of) jaxcmr's load_data: every field's
    values, and jaxcmr's likelihood of it equals ours."""
    from seed_reference import jaxcmr_reference as ref

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"].isin([3, 4])]
    path = cmr.write_jaxcmr_h5(cmr.to_arrays(sub), tmp_path / "m.h5")
    d = ref.load_like_jaxcmr(path, jax_dtypes=False)
    want = _jaxcmr_fixture(sub)
    assert {"subject", "listLength", "pres_itemnos", "pres_itemids", "recalls"} <= set(d)
    for k in ("subject", "listLength", "pres_itemnos", "pres_itemids", "recalls"):
        assert d[k].shape == want[k].shape, k
        np.testing.assert_array_equal(d[k], want[k], err_msg=k)
    assert d["subject"].shape == (96, 1) and set(d["listLength"][:, 0]) == {24}
    np.testing.assert_array_equal(d["pres_itemnos"], np.tile(np.arange(1, 25), (96, 1)))
    # rec_itemids: the pool ids of the recalled items
    rows, outs = np.nonzero(d["recalls"])
    np.testing.assert_array_equal(
        d["rec_itemids"][rows, outs],
        d["pres_itemids"][rows, d["recalls"][rows, outs] - 1])
    p = cmr.JaxcmrParams(learn_after_context_update=False)
    theirs = ref.dataset_log_likelihood(
        "cmr", {**p.to_dict(), "learn_after_context_update": False,
                "allow_repeated_recalls": False}, d)
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(cmr.trial_logliks(sub, p), theirs, rtol=1e-9)


def test_h5_carries_valence(tmp_path):
    from seed_reference import jaxcmr_reference as ref

    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"] == 1].copy()
    sub["valence"] = np.where(sub["item_index"] % 3 == 0, -1.0, 0.0)
    arr = cmr.to_arrays(sub, features=("valence",))
    path = cmr.write_jaxcmr_h5(arr, tmp_path / "v.h5")
    d = ref.load_like_jaxcmr(path, jax_dtypes=False)
    np.testing.assert_array_equal(d["valence"], _jaxcmr_fixture(sub)["valence"])
    back = cmr.read_jaxcmr_h5(path)
    np.testing.assert_array_equal(back.features["valence"], arr.features["valence"])


def test_read_h5_errors(tmp_path):
    import h5py

    with pytest.raises(DataError, match="no such file"):
        cmr.read_jaxcmr_h5(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_group("data").create_dataset("subject", data=np.ones((1, 3)))
    with pytest.raises(DataError, match="pres_itemnos"):
        cmr.read_jaxcmr_h5(tmp_path / "bad.h5")


def _write_raw(path, **fields):
    import h5py

    with h5py.File(path, "w") as f:
        g = f.create_group("data")
        for k, v in fields.items():
            g.create_dataset(k, data=np.asarray(v).T)
    return path


@pytest.mark.parametrize("content,match", [
    (b"", "not a readable HDF5"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a readable HDF5"),
])
def test_read_h5_rejects_non_hdf5(tmp_path, content, match):
    (tmp_path / "x.h5").write_bytes(content)
    with pytest.raises(DataError, match=match):
        cmr.read_jaxcmr_h5(tmp_path / "x.h5")


def test_read_h5_rejects_truncated_file(tmp_path):
    df = cmr.load_dataset("Morton2013")
    path = cmr.write_jaxcmr_h5(cmr.to_arrays(df[df["subject"] == 1]), tmp_path / "t.h5")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="path"):
        cmr.read_jaxcmr_h5(path)


@pytest.mark.parametrize("recalls,match", [
    ([[1, 2, 1, 0]], "twice"),          # a repeated recall: jaxcmr would score -inf
    ([[1, 5, 0, 0]], "0..4"),           # not a study position
    ([[1, 0, 2, 0]], "follows a 0"),    # a recall after the stop
    ([[-1, 0, 0, 0]], "0..4"),
])
def test_read_h5_validates_recalls(tmp_path, recalls, match):
    path = _write_raw(tmp_path / "r.h5", subject=[[1]], listLength=[[4]],
                      pres_itemnos=[[1, 2, 3, 4]], recalls=recalls)
    with pytest.raises(DataError, match=match):
        cmr.read_jaxcmr_h5(path)


def test_read_h5_validates_shapes(tmp_path):
    path = _write_raw(tmp_path / "s.h5", subject=[[1], [1]], listLength=[[4], [4]],
                      pres_itemnos=[[1, 2, 3, 4]], recalls=[[1, 0, 0, 0]])
    with pytest.raises(DataError, match="trials"):
        cmr.read_jaxcmr_h5(path)
    path = _write_raw(tmp_path / "l.h5", subject=[[1]], listLength=[[5]],
                      pres_itemnos=[[1, 2, 3, 4]], recalls=[[1, 0, 0, 0]])
    with pytest.raises(DataError, match="listLength"):
        cmr.read_jaxcmr_h5(path)
    path = _write_raw(tmp_path / "p.h5", subject=[[1]], listLength=[[4]],
                      pres_itemnos=[[7, 8, 9, 10]], recalls=[[1, 0, 0, 0]])
    with pytest.raises(DataError, match="1..4"):
        cmr.read_jaxcmr_h5(path)


@pytest.mark.parametrize("mutate,match", [
    (lambda d: d.assign(position=d["position"].astype(str)), "numeric"),
    (lambda d: d.assign(position=d["position"].where(d.index != d.index[30])), "integers"),
    (lambda d: d.assign(position=d["position"] + 0.5), "integers"),
    (lambda d: d.assign(item=d["item"].where(d.index != d.index[3])), "missing"),
])
def test_frames_with_bad_positions_are_refused(mutate, match):
    """NaN or non-integer positions, positions as strings (which would sort
    lexicographically), missing items: a DataError, not a different log-likelihood."""
    df = cmr.load_dataset("Morton2013")
    sub = df[df["subject"] == 1].reset_index(drop=True)
    with pytest.raises(DataError, match=match):
        cmr.log_likelihood(mutate(sub), cmr.JaxcmrParams())


def test_read_h5_untransposed_file_points_to_the_docs(tmp_path):
    """A file written without jaxcmr's transpose (``data=value`` instead of ``value.T``)
    is refused with a message that names the cause and the docs section about it."""
    import h5py

    n, L = 3, 4
    fields = {"subject": np.ones((n, 1), dtype=np.int64),
              "pres_itemnos": np.tile(np.arange(1, L + 1), (n, 1)),
              "recalls": np.tile([1, 2, 0, 0], (n, 1))}
    path = tmp_path / "untransposed.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("data")
        for k, v in fields.items():
            g.create_dataset(k, data=v)  # jaxcmr writes data=v.T
    with pytest.raises(DataError, match=r"must have 4 trials .* got 3 and 4") as info:
        cmr.read_jaxcmr_h5(path)
    msg = str(info.value)
    assert "without the transpose" in msg
    assert "'Fit your own data' page of the docs, section 'jaxcmr HDF5 files'" in msg
    docs = Path(__file__).resolve().parents[1] / "docs" / "fit-your-own-data.md"
    assert re.search(r"^## \d+\. jaxcmr HDF5 files$", docs.read_text(), flags=re.M)

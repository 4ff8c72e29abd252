"""Analyses of organisation (category CRP, within/between-category transitions, distance
CRP) on hand-built frames worked out by hand, on Morton2013 (category clustering) and on
simulations of the temporal-only base model (chance clustering), and their plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engramlab.cmr as cmr
from engramlab.errors import DataError, EngramlabError, ShapeError, ValidationError


def frame(lists):
    """psifr long format from ``[(subject, list, [(item, category), ...], [recalls])]``."""
    rows = []
    for subject, lst, study, recalls in lists:
        for p, (item, cat) in enumerate(study, 1):
            rows.append(dict(subject=subject, list=lst, trial_type="study", position=p,
                             item=item, category=cat))
        cats = dict(study)
        for p, item in enumerate(recalls, 1):
            rows.append(dict(subject=subject, list=lst, trial_type="recall", position=p,
                             item=item, category=cats.get(item)))
    return pd.DataFrame(rows)


#: Subject 1, list 1: study a1 a2 b1 b2 (categories a a b b), recall b2 b1 a1 a2.
#:   t1 b2 -> b1: available {a1, a2, b1}, same category (b) {b1}: within; |S|=1, |A|=3
#:   t2 b1 -> a1: available {a1, a2}, no b left: between; |S|=0, |A|=2 (psifr skips it)
#:   t3 a1 -> a2: available {a2}: within; |S|=1, |A|=1
#: Subject 1, list 2: study x1 x2 x3 x4 (a b a b), recall x1 x2 x2 (repeat) x3 zz
#:   (intrusion) x4: only x1 -> x2 is scored (from/to a repeat or an intrusion is not):
#:   t4 x1 -> x2: available {x2, x3, x4}, same (a) {x3}: between; |S|=1, |A|=3
#: Subject 2: study y1 y2 y3 y4 (a a b b), recall y3 y1 y2:
#:   u1 y3 -> y1: available {y1, y2, y4}, same (b) {y4}: between; |S|=1, |A|=3
#:   u2 y1 -> y2: available {y2, y4}, same (a) {y2}: within; |S|=1, |A|=2
HAND = frame([
    (1, 1, [("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")], ["b2", "b1", "a1", "a2"]),
    (1, 2, [("x1", "a"), ("x2", "b"), ("x3", "a"), ("x4", "b")],
     ["x1", "x2", "x2", "x3", "zz", "x4"]),
    (2, 1, [("y1", "a"), ("y2", "a"), ("y3", "b"), ("y4", "b")], ["y3", "y1", "y2"]),
])


def test_category_crp_by_hand():
    per = cmr.category_crp(HAND, per_subject=True).set_index(["subject", "category"])
    # psifr: within / transitions with a same-category item available
    # subject 1: t1, t3 within of t1, t3, t4 possible -> 2/3; subject 2: u2 of u1, u2 -> 1/2
    assert per.loc[(1, "all"), ["actual", "possible"]].tolist() == [2, 3]
    assert per.loc[(2, "all"), ["actual", "possible"]].tolist() == [1, 2]
    # by the category of the "from" item: subject 1 from a: t3 of t3, t4; from b: t1 of t1
    # (t2 not possible); subject 2 from a: u2 of u2; from b: none of u1
    assert per.loc[(1, "a"), ["actual", "possible"]].tolist() == [1, 2]
    assert per.loc[(1, "b"), ["actual", "possible"]].tolist() == [1, 1]
    assert per.loc[(2, "a"), ["actual", "possible"]].tolist() == [1, 1]
    assert per.loc[(2, "b"), ["actual", "possible"]].tolist() == [0, 1]
    group = cmr.category_crp(HAND).set_index("category")
    assert list(group.index) == ["all", "a", "b"]
    np.testing.assert_allclose(group["prob"], [(2 / 3 + 1 / 2) / 2, (1 / 2 + 1) / 2,
                                               (1 + 0) / 2], atol=1e-12)
    assert group["n_subjects"].tolist() == [2, 2, 2]


def test_category_transitions_by_hand():
    per = cmr.category_transitions(HAND, per_subject=True).set_index("subject")
    # subject 1: t1..t4, within t1, t3; chance (1/3 + 0/2 + 1/1 + 1/3) / 4
    s1 = per.loc[1]
    assert (s1["n_transitions"], s1["n_within"]) == (4, 2)
    np.testing.assert_allclose(
        s1[["within", "chance", "within_crp", "between_crp"]].astype(float),
        [2 / 4, (1 / 3 + 0 + 1 + 1 / 3) / 4, 2 / (1 + 0 + 1 + 1),
         2 / ((3 - 1) + (2 - 0) + (1 - 1) + (3 - 1))], atol=1e-12)
    s2 = per.loc[2]
    np.testing.assert_allclose(
        s2[["within", "chance", "within_crp", "between_crp"]].astype(float),
        [1 / 2, (1 / 3 + 1 / 2) / 2, 1 / (1 + 1), 1 / ((3 - 1) + (2 - 1))], atol=1e-12)
    g = cmr.category_transitions(HAND)
    np.testing.assert_allclose(g.loc[0, ["within", "chance", "within_crp", "between_crp"]]
                               .astype(float), [0.5, 5 / 12, 7 / 12, 1 / 3], atol=1e-12)


def plain_transitions(df):
    """Independent plain-Python count (per subject: n, within, chance sum, |S|, |A - S|),
    from the raw frame: each list's recalls, repeats and intrusions skipped."""
    out = {}
    for (subject, _), g in df.groupby(["subject", "list"]):
        study = g[g["trial_type"] == "study"].sort_values("position")
        cat = dict(zip(study["item"], study["category"], strict=True))
        recalls = list(g[g["trial_type"] == "recall"].sort_values("position")["item"])
        left = set(cat)
        acc = out.setdefault(subject, [0, 0, 0.0, 0, 0])
        for prev, curr in zip(recalls[:-1], recalls[1:], strict=True):
            if prev not in left:
                continue
            left.discard(prev)
            if curr not in left:
                continue
            same = sum(cat[k] == cat[prev] for k in left)
            acc[0] += 1
            acc[1] += cat[curr] == cat[prev]
            acc[2] += same / len(left)
            acc[3] += same
            acc[4] += len(left) - same
    return out


@pytest.fixture(scope="module")
def morton():
    return cmr.load_dataset("Morton2013")


def test_category_transitions_match_a_plain_loop_and_psifr(morton):
    part = morton[morton["subject"].isin([1, 2, 3])]
    per = cmr.category_transitions(part, per_subject=True).set_index("subject")
    psifr_crp = cmr.category_crp(part, by_category=False, per_subject=True)
    for s, (n, w, ch, pw, pb) in plain_transitions(part).items():
        row = per.loc[s]
        assert (row["n_transitions"], row["n_within"]) == (n, w)
        assert (row["possible_within"], row["possible_between"]) == (pw, pb)
        np.testing.assert_allclose([row["within"], row["chance"], row["within_crp"],
                                    row["between_crp"]],
                                   [w / n, ch / n, w / pw, (n - w) / pb], rtol=1e-12)
        # psifr's actual count is the same set of within-category transitions
        assert psifr_crp.set_index("subject").loc[s, "actual"] == w


def test_morton2013_clusters_by_category(morton):
    t = cmr.category_transitions(morton).iloc[0]
    # the known result: transitions stay within the category far above chance, and an
    # available same-category item is ~3 times as likely to come next as another one
    assert t["n_subjects"] == 40
    assert t["within"] > t["chance"] + 0.15
    assert t["within_crp"] > 2 * t["between_crp"]
    mixed = cmr.category_transitions(morton[morton["list_type"] == "mixed"]).iloc[0]
    assert mixed["within"] > mixed["chance"] + 0.2
    per = cmr.category_transitions(morton, per_subject=True)
    assert (per["within_crp"] > per["between_crp"]).all()


def design(n_lists, L, *, blocked, seed):
    """A design of 4 subjects whose lists hold three categories, in blocks of L/3 serial
    positions or at random positions."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_lists):
        cats = np.repeat(["a", "b", "c"], L // 3)
        if not blocked:
            cats = rng.permutation(cats)
        items = rng.permutation(300)[:L]
        rows += [dict(subject=1 + k % 4, list=k // 4 + 1, trial_type="study", position=p + 1,
                      item=f"w{items[p]}", item_index=items[p], category=cats[p])
                 for p in range(L)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def base_sims():
    return {b: cmr.simulate(cmr.JaxcmrParams(), design(160, 18, blocked=b, seed=1), key=1)
            for b in (False, True)}


def test_temporal_only_model_clusters_at_chance(base_sims):
    # categories at random positions: base CMR (temporal context only) knows nothing of
    # them, so its transitions stay within a category at the rate availability predicts
    t = cmr.category_transitions(base_sims[False]).iloc[0]
    assert abs(t["within"] - t["chance"]) < 0.05
    assert abs(t["within_crp"] / t["between_crp"] - 1) < 0.25
    # with categories in blocks of serial positions, temporal contiguity alone clusters
    b = cmr.category_transitions(base_sims[True]).iloc[0]
    assert b["within"] > b["chance"] + 0.15


def test_simulate_carries_the_design_category(base_sims):
    d = design(160, 18, blocked=False, seed=1)
    sim = base_sims[False]
    study = sim[sim["trial_type"] == "study"]
    dstudy = d.sort_values(["subject", "list", "position"])
    assert study["category"].tolist() == dstudy["category"].tolist()
    rec = sim[sim["trial_type"] == "recall"]
    lab = study.set_index(["subject", "list", "item_index"])["category"]
    assert rec["category"].tolist() == lab.loc[list(zip(rec["subject"], rec["list"],
                                                          rec["item_index"],
                                                          strict=True))].tolist()
    assert "category" not in cmr.simulate(cmr.JaxcmrParams(), d.head(18), key=0,
                                          carry=()).columns
    with pytest.raises(DataError, match="'colour'"):
        cmr.simulate(cmr.JaxcmrParams(), d.head(18), key=0, carry=("colour",))
    with pytest.raises(DataError, match="carry"):
        cmr.simulate(cmr.JaxcmrParams(), {"list_length": 4}, key=0, carry="category")


#: Pool of 6 items; the list studies pool items 4, 1, 5, 2 (positions 1..4). Distances
#: among them: d(4,1)=1, d(4,5)=2, d(4,2)=3, d(1,5)=3, d(1,2)=2, d(5,2)=1; pairs with the
#: unstudied items 0 and 3 are 9. Bins (0.5, 1.5], (1.5, 2.5], (2.5, 3.5].
D = np.full((6, 6), 9.0)
np.fill_diagonal(D, 0.0)
for (i, j), v in {(4, 1): 1, (4, 5): 2, (4, 2): 3, (1, 5): 3, (1, 2): 2, (5, 2): 1}.items():
    D[i, j] = D[j, i] = v


def distance_frame():
    rows = []
    for s, recalls in ((1, [2, 4, 1, 5]), (2, [5, 2])):
        rows += [dict(subject=s, list=1, trial_type="study", position=p + 1, item=f"i{k}",
                      item_index=k) for p, k in enumerate([4, 1, 5, 2])]
        rows += [dict(subject=s, list=1, trial_type="recall", position=p + 1, item=f"i{k}",
                      item_index=k) for p, k in enumerate(recalls)]
    return pd.DataFrame(rows)


def test_distance_crp_by_hand():
    # subject 1 recalls 2, 4, 1, 5:
    #   2 -> 4: available 4, 1, 5 at d 3, 2, 1; actual bin 3
    #   4 -> 1: available 1, 5 at d 1, 2; actual bin 1
    #   1 -> 5: available 5 at d 3; actual bin 3
    #   actual (1, 0, 2), possible (2, 2, 2): prob (1/2, 0, 1)
    # subject 2 recalls 5, 2: 5 -> 2, available 4, 1, 2 at d 2, 3, 1; actual bin 1:
    #   prob (1, 0, 0)
    df = distance_frame()
    edges = [0.5, 1.5, 2.5, 3.5]
    per = cmr.distance_crp(df, D, edges=edges, per_subject=True)
    s1 = per[per["subject"] == 1]
    assert s1["actual"].tolist() == [1, 0, 2]
    assert s1["possible"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(s1["center"], [1, 2, 3])
    g = cmr.distance_crp(df, D, edges=edges)
    np.testing.assert_allclose(g["center"], [1, 2, 3])
    np.testing.assert_allclose(g["prob"], [(1 / 2 + 1) / 2, 0, (1 + 0) / 2], atol=1e-12)
    # default edges: 3 quantile bins of the studied items' off-diagonal values (1, 2, 3
    # four times each) put 1, 2 and 3 in separate bins, the smallest value included
    dflt = cmr.distance_crp(df, D, n_bins=3)
    np.testing.assert_allclose(dflt["prob"], g["prob"], atol=1e-12)
    per_d = cmr.distance_crp(df, D, n_bins=3, per_subject=True)
    assert per_d.groupby("subject")["possible"].sum().tolist() == [3 + 2 + 1, 3]
    # a similarity matrix works the same way (bins of similarity)
    sim = cmr.distance_crp(df, -D, edges=[-3.5, -2.5, -1.5, -0.5])
    np.testing.assert_allclose(sim["prob"], g["prob"][::-1], atol=1e-12)


def test_bad_input_is_named():
    df = distance_frame()
    with pytest.raises(DataError, match="category"):
        cmr.category_crp(df)
    with pytest.raises(DataError, match="'cat'"):
        cmr.recall_curves(HAND, category="cat")
    nolabel = HAND.copy()
    nolabel.loc[0, "category"] = None
    with pytest.raises(DataError, match="missing on 1 of"):
        cmr.category_transitions(nolabel)
    with pytest.raises(ShapeError, match=r"square.*\(6, 5\)"):
        cmr.distance_crp(df, D[:, :5])
    with pytest.raises(ShapeError, match=r"square.*\(36,\)"):
        cmr.distance_crp(df, D.ravel())
    with pytest.raises(ShapeError, match=r"max\(item_index\) \+ 1 = 6.*\(5, 5\)"):
        cmr.distance_crp(df, D[:5, :5])
    bad = D.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValidationError, match="distances: expected finite"):
        cmr.distance_crp(df, bad)
    with pytest.raises(DataError, match="'item_index'"):
        cmr.distance_crp(df.drop(columns="item_index"), D)
    with pytest.raises(ValidationError, match="edges"):
        cmr.distance_crp(df, D, edges=[1.0, 1.0, 2.0])
    assert issubclass(ShapeError, EngramlabError)


def test_curves_add_the_category_crp_only_with_categories(morton):
    data = morton[morton["subject"] == 1]
    plain = data.drop(columns="category")
    c = cmr.recall_curves(plain)
    assert set(c) == {"spc", "pfr", "lag_crp"}
    sim = cmr.simulate(cmr.JaxcmrParams(), data, key=0)
    comp = cmr.compare_curves(data, sim.drop(columns="category"))  # model without labels
    assert set(comp["rmse"]) == {"spc", "pfr", "lag_crp"}
    assert set(cmr.compare_curves(data, sim, category=False)["rmse"]) == set(comp["rmse"])
    with pytest.raises(DataError, match="model"):
        cmr.compare_curves(data, sim.drop(columns="category"), category="category")
    comp = cmr.compare_curves(data, sim)
    assert set(comp["rmse"]) == {"spc", "pfr", "lag_crp", "category_crp"}
    d = comp["data"]["category_crp"].set_index("category")["prob"]
    m = comp["model"]["category_crp"].set_index("category")["prob"]
    assert list(d.index) == ["all", "cel", "loc", "obj"]
    np.testing.assert_allclose(comp["rmse"]["category_crp"],
                               np.sqrt(((d - m.loc[d.index]) ** 2).mean()), rtol=1e-12)
    np.testing.assert_allclose(
        d["all"], cmr.category_crp(data, per_subject=True).query("category == 'all'")
        ["prob"].iloc[0], rtol=1e-12)


def test_organisation_plots(base_sims):
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from engramlab.plots.cmr import plot_category_crp, plot_distance_crp

    data = cmr.recall_curves(HAND)
    sims = [cmr.recall_curves(HAND.assign(subject=HAND["subject"] + k)) for k in range(3)]
    ax = plot_category_crp(data, model=sims)
    assert len(ax.patches) == 3  # bars: all, a, b
    assert [t.get_text() for t in ax.get_xticklabels()] == ["all", "a", "b"]
    assert any(isinstance(c, LineCollection) for c in ax.collections)  # the band
    plt.close(ax.figure)
    with pytest.raises(DataError, match="category_crp"):
        plot_category_crp(cmr.recall_curves(HAND, category=False))
    crp = cmr.distance_crp(distance_frame(), D, edges=[0.5, 1.5, 2.5, 3.5])
    ax = plot_distance_crp(crp, label="data")
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(x, [1, 2, 3])
    np.testing.assert_allclose(y, crp["prob"])
    plt.close(ax.figure)

"""CMR analyses and figures: psifr curves on data and simulations, model-vs-data panel."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import engramlab.cmr as cmr


@pytest.fixture(scope="module")
def comparison():
    df = cmr.load_dataset("Morton2013")
    data = df[df["subject"] == 1]
    sim = cmr.simulate(cmr.JaxcmrParams(), data, key=jax.random.key(0))
    return data, sim, cmr.compare_curves(data, sim)


def test_curves_are_probabilities(comparison):
    data, sim, comp = comparison
    for side in ("data", "model"):
        c = comp[side]
        assert list(c["spc"]["input"]) == list(range(1, 25))
        assert c["spc"]["recall"].between(0, 1).all()
        # P(first recall) over positions sums to P(any recall), at most 1
        assert 0 < c["pfr"]["prob"].sum() <= 1 + 1e-12
        assert np.isnan(c["lag_crp"].loc[c["lag_crp"]["lag"] == 0, "prob"]).all()
    # the data SPC is the fraction of lists in which each position was recalled
    arr = cmr.to_arrays(data)
    direct = np.array([(arr.recalls == p).any(axis=1).mean() for p in range(1, 25)])
    np.testing.assert_allclose(comp["data"]["spc"]["recall"], direct, atol=1e-12)
    # Morton2013 has a category column, which the simulation carries: category CRP too
    assert set(comp["rmse"]) == {"spc", "pfr", "lag_crp", "category_crp"}


def test_model_vs_data_figure(comparison):
    import matplotlib.pyplot as plt

    from engramlab.plots.cmr import plot_model_vs_data

    fig = plot_model_vs_data(comparison[2], title="t")
    axes = fig.get_axes()
    assert len(axes) == 3
    assert [a.get_xlabel() for a in axes] == ["Serial position", "Serial position",
                                              "Lag (study positions)"]
    assert all(a.get_ylabel() for a in axes)
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["data", "CMR"]
    plt.close(fig)


def test_model_vs_data_figure_with_organisation(comparison):
    import matplotlib.pyplot as plt

    from engramlab.errors import DataError
    from engramlab.plots.cmr import plot_model_vs_data

    fig = plot_model_vs_data(comparison[2], organisation=True)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert axes[3].get_title() == "Category CRP"
    assert [t.get_text() for t in axes[3].get_xticklabels()] == ["all", "cel", "loc", "obj"]
    assert any("RMSE" in t.get_text() for t in axes[3].texts)
    plt.close(fig)
    data, sim, _ = comparison
    plain = cmr.compare_curves(data, sim, category=False)
    with pytest.raises(DataError, match="category_crp"):
        plot_model_vs_data(plain, organisation=True)

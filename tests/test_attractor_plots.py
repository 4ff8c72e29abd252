"""Every attractor plot draws on the given Axes, labels its axes and returns the Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from engramlab.plots import attractor as pa


def test_plots_label_axes(rng):
    n = 30
    xi = np.sign(rng.standard_normal((3, n)))
    traj = rng.standard_normal((11, 4, n))
    calls = [
        (pa.plot_retrieval, (xi[0], xi[0] * 0.9), {"cue": xi[0] * 0.5}),
        (pa.plot_weights, (xi.T @ xi / n,), {}),
        (pa.plot_tsne_basin, (rng.standard_normal((10, 2)), np.linspace(0, 1, 10)), {}),
        (pa.plot_convergence_curves, (np.exp(-np.arange(30.0))[None] + 1e-3, [0.1]), {}),
        (pa.plot_beta_scan, (np.linspace(0.1, 5, 5), {"seed": np.linspace(1, 0, 5)}), {}),
        (pa.plot_basin_vs_emotion, ([0.0, 1.0], [0.0, 0.5], np.eye(2)), {}),
        (pa.plot_capacity, ([0.1, 0.2], [1.0, 0.0]), {"transition": 0.15}),
        (pa.plot_pca_trajectories, (traj,), {"patterns": xi[:, :n]}),
    ]
    for fn, args, kw in calls:
        fig, ax = plt.subplots()
        out = fn(*args, ax=ax, **kw)
        assert out is ax, fn.__name__
        assert ax.get_xlabel() and ax.get_ylabel(), fn.__name__
        plt.close(fig)
    ax3 = pa.plot_phase_space_3d(rng.standard_normal((3, 3)))
    assert ax3.get_zlabel() == "PC3" and len(ax3.get_legend().get_texts()) == 3
    plt.close("all")

"""Seed 002's notebook runs as written on engramlab (only its imports changed)."""

from __future__ import annotations

import contextlib
import io

import matplotlib
import numpy as np
import pytest
from seed_reference import notebook_002 as nb

matplotlib.use("Agg")


def test_every_cell_runs_and_prints_what_the_notebook_says(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: None)  # no display in tests
    ns: dict = {}
    outputs = []
    for cell in nb.CELLS:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(cell, "<seed-002-cell>", "exec"), ns)  # noqa: S102
        outputs.append(buf.getvalue())
    plt.close("all")

    lines = outputs[3].splitlines()
    assert lines[0] == "Item activations when probing with context unit 1:"
    assert lines[2] == " Most activated item: 0"
    # the printed activations: shared + item support + learning rate for item 0 (the
    # notebook's reading of init_mcf), shared support for every other item
    values = np.array(lines[1].strip().strip("[]").split(), dtype=float)
    expected = np.full(10, 0.05)
    expected[0] = 0.05 + 0.2 + 0.3
    np.testing.assert_allclose(values, expected, rtol=1e-6)

    # the growth curve starts at the line the notebook draws and grows once by the rate
    strengths = np.array(ns["association_strengths"], dtype=float)
    assert strengths[0] == pytest.approx(0.05 + 0.2)
    np.testing.assert_allclose(strengths[1:], 0.05 + 0.2 + 0.3, rtol=1e-6)
    assert len(ns["mcf_states"]) == 11

"""Shared check of the sweep tests: two memory.capacity result stores hold the same
numbers, dims and coordinates (bit for bit)."""

from __future__ import annotations

import numpy as np

#: The outputs of the memory.capacity sweep model the tests compare.
OUTPUTS = ["crosstalk_var", "bit_error", "perfect_recall", "signal"]


def assert_same_results(a, b) -> None:
    """Every output of ``a`` equals ``b``'s exactly, with the same dims and coordinates."""
    for v in OUTPUTS:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
        assert a[v].dims == b[v].dims
    for d in a[OUTPUTS[0]].dims:
        np.testing.assert_array_equal(a[d].values, b[d].values)

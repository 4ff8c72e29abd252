"""Every Python example in README.md runs as written (the docs cannot rot silently).

The blocks are found by the extraction that the guide's test and the site build use
(``docs/_ext/engram_exec.py``); each README block is self-contained and runs alone, in a
temporary folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from engram_exec import python_blocks, run_blocks  # noqa: E402

README = ROOT / "README.md"
BLOCKS = python_blocks(README.read_text())


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 5
    assert all(b.skip is None for b in BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
# The README fits real subjects; whether the multi-start search ends at the same optimum
# from two starts depends on the machine's float rounding (Morton2013 subject 1 has local
# optima at log L -1543.2, -1544.2, -1545.7, -1546.5 within a few units: measured over
# seeds), so a ConvergenceWarning there is the fit saying so, not a broken example. The
# warning itself is tested where the surface is controlled (test_cmr_fit_optimum.py).
@pytest.mark.filterwarnings("default::engramlab.errors.ConvergenceWarning")
def test_readme_python_block_runs(index):
    run_blocks([BLOCKS[index]], f"README.md[python block {index}]")

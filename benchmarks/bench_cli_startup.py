"""CLI start-up: ``engramlab --help`` vs an eager-import baseline, same run.

The CLI imports no JAX/NumPy at start-up. The baseline is what start-up would cost
with an eager ``import jax`` (as a naive ``engramlab/__init__`` would do); the
interpreter's own start-up (``python -c pass``) is reported for reference. Target:
``engramlab --help`` < 0.5 s.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks._harness import result, timeit


def _cmd(args: list[str]):
    return lambda: subprocess.run(args, check=True, capture_output=True)


def run(quick: bool = False) -> dict:
    repeat = 3 if quick else 7
    py = sys.executable
    ours = timeit(_cmd([py, "-m", "engramlab.cli", "--help"]), repeat=repeat)
    eager = timeit(_cmd([py, "-c", "import jax, jax.numpy, engramlab.cli"]), repeat=repeat)
    bare = timeit(_cmd([py, "-c", "pass"]), repeat=repeat)
    return result("cli_startup", ours["median_s"], eager["median_s"],
                  "python -c 'import jax, jax.numpy, engramlab.cli' (eager JAX import)",
                  interpreter_s=bare["median_s"], target_s=0.5,
                  meets_target=ours["median_s"] < 0.5)

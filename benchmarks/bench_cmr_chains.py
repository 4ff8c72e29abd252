"""Chains side by side on the CPU cores (``chain_method="parallel"``) against one chain
after the other (``"sequential"``), hierarchical Morton2013 fit.

The first ``N_SUBJECTS`` subjects, the 7 free parameters of ``bench_cmr_sample``, the
default sampler (partial centring, Laplace preconditioner) in float32; 2 chains x
(``draws`` warm-up + ``draws`` kept). Both runs happen in one child process started with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (JAX fixes its device count when it
starts) and each includes its own set-up and compilation. First the two methods are
asserted to compute the same chains: a short run of each (``CHECK_WARMUP`` +
``CHECK_DRAWS``) must give the same draws to a relative ``RTOL`` (the pmapped program is
compiled on its own, and HMC trajectories amplify rounding, so long chains of the two
methods drift apart although they are the same chains in exact arithmetic). Then
the full runs: their chains drift apart and build trees of different sizes, so
``ratio`` (``chains_step_speedup``) compares wall time per leapfrog step (wall time /
mean steps per kept draw); ``chains_wall_speedup`` is the plain wall-time ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

N_SUBJECTS = 10
#: agreement of the two runs' draws (relative, on the parameter scale)
RTOL = 1e-3
CHECK_WARMUP, CHECK_DRAWS = 3, 3

_CHILD = """
import json, sys, time, warnings
import jax, numpy as np
import engramlab.cmr as cmr
from benchmarks.bench_cmr_sample import FREE7
from engramlab.errors import ConvergenceWarning
n_subj, draws = int(sys.argv[1]), int(sys.argv[2])
df = cmr.load_dataset("Morton2013")
df = df[df["subject"].isin(list(dict.fromkeys(df["subject"]))[:n_subj])]
out = {"devices": jax.local_device_count()}
def run(method, warmup, draws):
    return cmr.sample(df, key=jax.random.key(0), free=FREE7, chains=2, draws=draws,
                      warmup=warmup, chain_method=method, precision="float32", quiet=True,
                      check=False)
def values(idata):
    return np.stack([idata.posterior[v].values for v in FREE7], -1).tolist()
for method in ("sequential", "parallel"):
    out["check_" + method] = values(run(method, int(sys.argv[3]), int(sys.argv[4])))
for method in ("sequential", "parallel"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        idata = run(method, draws, draws)
        out[method + "_s"] = time.perf_counter() - t0
    out[method + "_steps_per_draw"] = float(idata.sample_stats["n_steps"].mean())
json.dump(out, sys.stdout)
"""


def run(quick: bool = False) -> dict:
    import numpy as np

    from benchmarks._harness import result

    draws = 40 if quick else 100
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    res = subprocess.run([sys.executable, "-c", _CHILD, str(N_SUBJECTS), str(draws),
                          str(CHECK_WARMUP), str(CHECK_DRAWS)],
                         env=env, capture_output=True, text=True, cwd=root)
    if res.returncode != 0:
        raise RuntimeError(f"bench_cmr_chains child failed:\n{res.stderr[-4000:]}")
    out = json.loads(res.stdout)
    assert out["devices"] == 2, out["devices"]
    seq = np.asarray(out.pop("check_sequential"))
    par = np.asarray(out.pop("check_parallel"))
    rel = float(np.max(np.abs(par - seq) / np.abs(seq)))
    assert rel <= RTOL, f"parallel and sequential chains differ: max relative {rel:.3g}"
    # the two methods' chains drift apart, so their trees differ in size: the speed-up
    # is taken per leapfrog step of the kept draws (wall time / steps per draw)
    seq_step = out["sequential_s"] / out["sequential_steps_per_draw"]
    par_step = out["parallel_s"] / out["parallel_steps_per_draw"]
    return result("cmr_chains", par_step, seq_step,
                  "the same 2 chains one after the other (chain_method='sequential'), "
                  "wall time per leapfrog step of a kept draw",
                  n_subjects=N_SUBJECTS, chains=2, draws=draws, warmup=draws,
                  chains_sequential_s=out["sequential_s"], chains_parallel_s=out["parallel_s"],
                  chains_wall_speedup=out["sequential_s"] / out["parallel_s"],
                  chains_step_speedup=seq_step / par_step,
                  chains_max_rel_diff=rel, chains_rtol=RTOL,
                  chains_steps_per_draw=out["sequential_steps_per_draw"],
                  chains_parallel_steps_per_draw=out["parallel_steps_per_draw"],
                  cpus=os.cpu_count())

"""Sweep throughput: chunked, vmapped ``memory.capacity`` on a local Dask cluster vs a
plain Python loop over the same grid points; Dask's scheduling overhead per chunk.

- ours: ``run_sweep`` on an in-process ``LocalCluster`` (2 thread workers), JIT warm
  (a first sweep compiles), including writing every chunk file atomically.
- baseline: a plain Python loop over the same points, each point in NumPy (draw the
  +-1 patterns, ``M = lr sum_p outer(x_p, y_p)``, probe, metrics): how the experiment
  would be scripted without the machinery.
- also: the same chunks without Dask (``scheduler="inline"``), so the Dask overhead per
  chunk is ``(t_dask - t_inline) / n_chunks``; and the raw Dask round trip of a no-op
  task on the same cluster type; and the store size per grid point;
- the throughput of ``cmr.loglik`` (CMR likelihood of one subject per grid point), for
  the fit estimates of ``docs/scaling.md``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import result, timeit
from engramlab.experiments.config import parse_config, resolve
from engramlab.experiments.sweep import make_store, run_sweep

SIZES = {
    # every P pads to 32 / 128 and every N to 64 / 256: one compiled shape per size
    "small": {"n_patterns": [17, 19, 21, 23, 25, 27, 29, 32], "n_units": [48, 64]},
    "medium": {"n_patterns": [65, 73, 81, 89, 97, 105, 113, 128], "n_units": [192, 256]},
}


def _config(size: str, n_seeds: int, chunk_size: int, out: Path):
    cfg = parse_config({
        "name": "bench", "model": "memory.capacity",
        "params": {"learning_rate": 0.5}, "grid": SIZES[size],
        "seeds": {"count": n_seeds}, "sweep": {"chunk_size": chunk_size},
        "outputs": {"report": False}})
    return resolve(cfg, out_dir=out)


def _numpy_point(n: int, p: int, lr: float, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=(p, n))
    y = rng.choice([-1.0, 1.0], size=(p, n))
    m = np.zeros((n, n))
    for k in range(p):
        m += lr * np.outer(x[k], y[k])
    hn = x @ m / (lr * n)
    agree = np.where(np.abs(hn) < 0.5 / n, 0.0, np.sign(hn)) * y
    return float(np.mean((hn - y) ** 2)), float(np.mean((1 - agree) / 2))


def _noop(i: int) -> int:
    return i


def _dask_roundtrip(n_tasks: int) -> float:
    import logging

    from distributed import Client, LocalCluster, as_completed

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        list(as_completed([client.submit(_noop, i, pure=False) for i in range(20)]))
        t0 = time.perf_counter()
        futs = [client.submit(_noop, i, pure=False) for i in range(n_tasks)]
        for _ in as_completed(futs):
            pass
        return (time.perf_counter() - t0) / n_tasks


def _measure(size: str, n_seeds: int, chunk: int, tmp: Path, quick: bool) -> dict:
    warm = _config(size, n_seeds, chunk, tmp / f"{size}-warm")
    run_sweep(warm, scheduler="inline", quiet=True)  # compile once
    n_points = warm.size
    counter = iter(range(10_000))

    def fresh():
        return _config(size, n_seeds, chunk, tmp / f"{size}-{next(counter)}")

    grid_pts = [(n, p, 0.5, s) for p in warm.axes["n_patterns"] for n in warm.axes["n_units"]
                for s in warm.axes["seed"]]
    reps = 2 if quick else 3
    t_dask = timeit(lambda: run_sweep(fresh(), scheduler=None, workers=2, quiet=True),
                    repeat=reps, warmup=0)["median_s"]
    t_inline = timeit(lambda: run_sweep(fresh(), scheduler="inline", quiet=True),
                      repeat=reps, warmup=0)["median_s"]
    t_loop = timeit(lambda: [_numpy_point(*pt) for pt in grid_pts], repeat=1,
                    warmup=0)["median_s"]
    n_chunks = -(-n_points // chunk)
    store = make_store(warm)
    t0 = time.perf_counter()
    ds = store.merge()
    t_merge = time.perf_counter() - t0
    size_b = (tmp / f"{size}-warm" / "results.nc").stat().st_size
    chunk_bytes = sum(p.stat().st_size for p in store.chunk_dir.glob("chunk-*.nc"))
    # sanity: the loop computes the same quantity (other random patterns): both means
    # over the grid are close to the theory mean of (P - 1)/N
    loop_ct = np.mean([_numpy_point(*pt)[0] for pt in grid_pts[:: max(n_seeds // 2, 1)]])
    theory = np.mean([(p - 1) / n for (n, p, _, _) in grid_pts])
    return {"n_points": n_points, "chunk_size": chunk, "n_chunks": n_chunks,
            "dask_s": t_dask, "inline_s": t_inline, "loop_s": t_loop,
            "points_per_s_dask": n_points / t_dask,
            "points_per_s_inline": n_points / t_inline,
            "points_per_s_loop": n_points / t_loop,
            "chunk_s_inline": t_inline / n_chunks,
            "dask_overhead_per_chunk_s": (t_dask - t_inline) / n_chunks,
            "merge_s": t_merge, "results_nc_bytes": size_b,
            "results_bytes_per_point": size_b / n_points,
            "chunk_files_bytes_per_point": chunk_bytes / n_points,
            "crosstalk_mean_sweep": float(ds["crosstalk_var"].values.mean()),
            "crosstalk_mean_loop": float(loop_ct), "crosstalk_mean_theory": float(theory)}


def _cmr_throughput(tmp: Path, n_points: int) -> dict:
    """Likelihood evaluations per second of ``cmr.loglik`` (one Morton2013 subject, 48
    lists of 24 items), chunks of ``n_points`` parameter vectors, JIT warm."""
    from engramlab.experiments.config import available_models

    if "cmr.loglik" not in available_models():
        return {}
    side = int(round(n_points ** 0.5))

    def cfg(out):
        return resolve(parse_config({
            "name": "bench-cmr", "model": "cmr.loglik",
            "grid": {"choice_sensitivity": {"start": 0.5, "stop": 4.0, "num": side},
                     "learning_rate": {"start": 0.1, "stop": 0.6, "num": side}},
            "seeds": {"count": 1}, "sweep": {"chunk_size": side * side},
            "dataset": {"name": "Morton2013", "subjects": [1]},
            "outputs": {"report": False}}), out_dir=out)

    run_sweep(cfg(tmp / "cmr-warm"), scheduler="inline", quiet=True)
    counter = iter(range(100))
    t = timeit(lambda: run_sweep(cfg(tmp / f"cmr-{next(counter)}"), scheduler="inline",
                                 quiet=True), repeat=3, warmup=0)["median_s"]
    return {"points": side * side, "lists_per_point": 48, "seconds": t,
            "loglik_evals_per_s": side * side / t}


def run(quick: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    small = _measure("small", 8 if quick else 32, 64, tmp, quick)
    medium = _measure("medium", 4 if quick else 16, 32, tmp, quick)
    per_task = _dask_roundtrip(100 if quick else 400)
    cmr = _cmr_throughput(tmp, 16 if quick else 64)
    return result(
        "experiments_sweep", medium["dask_s"], medium["loop_s"],
        "plain Python loop over the same points (N 192-256, P 65-128), NumPy per point",
        medium=medium, small=small, dask_noop_task_roundtrip_s=per_task, cmr_loglik=cmr)

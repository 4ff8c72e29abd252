"""Parameter sweeps: a grid split into chunks, each chunk one vmapped JAX call, on Dask.

The grid of a resolved experiment is the Cartesian product of its axes (config order,
then ``seed``), flattened in C order. Chunk ``k`` is the flat range
``[k * chunk_size, (k + 1) * chunk_size)``; the last chunk is padded to ``chunk_size``
by repeating its last point (so every chunk has the same batch shape and JAX compiles
once) and the padding is dropped from the outputs.

Each chunk is one task: ``evaluate_chunk`` calls the model's vectorised ``evaluate``
on the chunk's parameter arrays. Tasks run on Dask (``distributed``): an in-process
``LocalCluster`` by default (``processes=False``: threads share the JIT cache; XLA
releases the GIL), or any existing cluster by scheduler address (``tcp://host:port``,
e.g. from dask-jobqueue or dask-kubernetes, see ``docs/experiments.md``). The client
process writes every finished chunk atomically into the :class:`ChunkStore`, so workers
need no shared file system and a killed sweep resumes where it stopped.
``scheduler="inline"`` evaluates the chunks one after another in this process without
Dask (what ``engramlab run`` uses).

The sweepable models themselves live with their families (``engramlab/<family>/sweeps.py``,
listed in :data:`engramlab.experiments.config.KNOWN_MODELS`); the random banks they share
are in :mod:`engramlab.experiments._random`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import make_progress
from ..errors import DataError, DivergenceError, ValidationError
from .config import SEED_DIM, ModelSpec, ResolvedExperiment
from .store import ChunkStore, fingerprint

__all__ = ["Grid", "ChunkResult", "SweepStats", "evaluate_chunk", "run_sweep", "make_store",
           "software_versions"]


# --------------------------------------------------------------------------------------
# grid and chunks
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """The points of a sweep: ``axes`` (name -> values, last ``"seed"``) and ``fixed``
    parameters. ``int_params`` names the integer-valued parameters."""

    axes: dict[str, tuple[float | int, ...]]
    fixed: dict[str, float | int]
    int_params: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_resolved(cls, res: ResolvedExperiment) -> Grid:
        schema = res.spec.params
        ints = frozenset(k for k, f in schema.model_fields.items() if f.annotation is int)
        return cls(axes={k: tuple(v) for k, v in res.axes.items()}, fixed=dict(res.fixed),
                   int_params=ints)

    @property
    def dims(self) -> list[str]:
        return list(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def batch(self, start: int, stop: int, pad_to: int | None = None
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Parameter arrays and seeds of the flat points ``start..stop-1``.

        **Returns:** ``(params, seeds)``: every parameter (axes and fixed) as an array of
        shape ``(B,)`` (int64 for integer parameters, float64 otherwise) and the seeds
        ``(B,)`` int64, with ``B = pad_to`` (the last point repeated) or ``stop - start``.
        """
        flat = np.arange(start, stop, dtype=np.int64)
        n = flat.size if pad_to is None else max(pad_to, flat.size)
        if n > flat.size:
            flat = np.concatenate([flat, np.full(n - flat.size, flat[-1])])
        idx = np.unravel_index(flat, self.shape)
        params: dict[str, np.ndarray] = {}
        seeds = np.zeros(n, np.int64)
        for (name, values), ix in zip(self.axes.items(), idx, strict=True):
            dtype = np.int64 if (name in self.int_params or name == SEED_DIM) else np.float64
            col = np.asarray(values, dtype=dtype)[ix]
            if name == SEED_DIM:
                seeds = col
            else:
                params[name] = col
        for name, v in self.fixed.items():
            dtype = np.int64 if name in self.int_params else np.float64
            params[name] = np.full(n, v, dtype=dtype)
        return params, seeds


@dataclass
class ChunkResult:
    """The outputs of one chunk (``values[var]`` shape ``(stop - start,)``) and its
    compute time in seconds (measured where it ran)."""

    index: int
    values: dict[str, np.ndarray]
    seconds: float


def evaluate_chunk(spec: ModelSpec, grid: Grid, outputs: list[str], chunk_size: int,
                   index: int, dataset: dict[str, Any] | None = None) -> ChunkResult:
    """Evaluate chunk ``index`` of ``grid`` with ``spec.evaluate`` (one vmapped call).

    Runs on a Dask worker (or inline). Checks that every output has one value per point
    and that it is finite (NaN only for the outputs in ``spec.nan_outputs``, where it
    means "undefined at this point"); returns NumPy arrays without the padding.

    **Raises:** :class:`DivergenceError` naming the first grid point (its parameters and
    seed) where an output is non-finite: a sweep never writes NaN/inf silently.
    """
    t0 = time.perf_counter()
    start = index * chunk_size
    stop = min(start + chunk_size, grid.size)
    params, seeds = grid.batch(start, stop, pad_to=chunk_size)
    kwargs = {"dataset": dataset} if spec.uses_dataset else {}
    out = spec.evaluate(params, seeds, **kwargs)
    values = {}
    for v in outputs:
        if v not in out:
            raise DataError(f"model {spec.name!r}: evaluate() returned no output {v!r} "
                            f"(got {sorted(out)})")
        arr = np.asarray(out[v])
        if arr.shape != (seeds.shape[0],):
            raise DataError(f"model {spec.name!r}: output {v!r} has shape {arr.shape}, "
                            f"expected ({seeds.shape[0]},) (one value per grid point)")
        values[v] = arr[: stop - start].copy()
        _check_finite(spec, v, values[v], params, seeds)
    return ChunkResult(index=index, values=values, seconds=time.perf_counter() - t0)


def _check_finite(spec: ModelSpec, name: str, arr: np.ndarray, params: dict[str, np.ndarray],
                  seeds: np.ndarray) -> None:
    if not np.issubdtype(arr.dtype, np.inexact):
        return
    bad = ~np.isfinite(arr)
    if name in spec.nan_outputs:
        bad &= ~np.isnan(arr)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad)[0])
    point = ", ".join(f"{k}={params[k][j].item()!r}" for k in params)
    raise DivergenceError(f"model {spec.name!r}: output {name!r} is {arr[j].item()} at the "
                          f"grid point {point}, seed={int(seeds[j])} ({int(bad.sum())} of "
                          f"{arr.size} points in this chunk are non-finite); the model "
                          "diverges there: narrow the grid")


# --------------------------------------------------------------------------------------
# running a sweep
# --------------------------------------------------------------------------------------
@dataclass
class SweepStats:
    """What a sweep did: chunks computed now / reused from disk, timings (s)."""

    n_points: int
    n_chunks: int
    computed: int
    reused: int
    wall_seconds: float
    chunk_seconds: list[float]
    scheduler: str
    #: Dask worker address -> its engramlab / JAX / NumPy versions (empty when inline)
    worker_versions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def points_per_second(self) -> float:
        pts = self.n_points * self.computed / max(self.n_chunks, 1)
        return pts / self.wall_seconds if self.wall_seconds > 0 else float("nan")


def make_store(res: ResolvedExperiment, root: str | Path | None = None) -> ChunkStore:
    """The :class:`ChunkStore` of a resolved experiment (in ``res.out_dir`` by default)."""
    d = res.to_dict()
    d.pop("outputs", None)
    d["outputs"] = list(res.outputs)
    return ChunkStore(root if root is not None else res.out_dir, dims=list(res.axes),
                      coords=res.axes, chunk_size=res.config.sweep.chunk_size,
                      variables=res.outputs, key=fingerprint(d))


def _dataset_arg(res: ResolvedExperiment) -> dict[str, Any] | None:
    return None if res.config.dataset is None else res.to_dict()["dataset"]


def run_sweep(res: ResolvedExperiment, *, scheduler: str | None = None,
              workers: int | None = None, quiet: bool | None = None,
              store: ChunkStore | None = None, max_chunks: int | None = None) -> SweepStats:
    """Compute every missing chunk of ``res`` and write it to the store.

    **Arguments:**

    - ``res``: a resolved experiment (:func:`~engramlab.experiments.config.load_config`).
    - ``scheduler``: ``None`` (default) starts an in-process Dask ``LocalCluster``
      (threads, ``processes=False``) with ``workers`` workers; ``"tcp://host:port"``
      connects to a running scheduler; ``"inline"`` runs without Dask in this process.
    - ``workers``: number of local workers (default 1; ignored with an address).
    - ``quiet``: no progress bar (default: ``ENGRAMLAB_QUIET``).
    - ``store``: where chunks go (default: :func:`make_store` in ``res.out_dir``).
    - ``max_chunks``: compute at most this many missing chunks, then stop (to split a
      sweep over several sessions; the next call resumes).

    **Returns:** :class:`SweepStats`. Does not merge: see
    :meth:`ChunkStore.merge` (the runner merges at the end).
    """
    store = make_store(res) if store is None else store
    store.open()
    grid = Grid.from_resolved(res)
    done = store.verify()
    todo = [i for i in range(store.n_chunks) if i not in done]
    if max_chunks is not None:
        todo = todo[: max(int(max_chunks), 0)]
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValidationError(f"workers: expected an integer >= 1, got {workers!r}")
    dataset = _dataset_arg(res)
    args = (res.spec, grid, list(res.outputs), store.chunk_size)
    secs: list[float] = []
    t0 = time.perf_counter()
    label = "inline" if scheduler == "inline" else (scheduler or f"local:{workers or 1}")
    versions: dict[str, dict[str, str]] = {}
    with make_progress(quiet) as progress:
        task = progress.add_task(f"sweep {res.config.name}", total=store.n_chunks,
                                 completed=len(done))
        if scheduler == "inline":
            for i in todo:
                r = evaluate_chunk(*args, i, dataset)
                store.write_chunk(i, r.values, r.seconds)
                secs.append(r.seconds)
                progress.advance(task)
        elif todo:
            versions = _run_dask(store, args, todo, dataset, scheduler, workers, progress,
                                 task, secs)
    return SweepStats(n_points=store.size, n_chunks=store.n_chunks, computed=len(secs),
                      reused=len(done), wall_seconds=time.perf_counter() - t0,
                      chunk_seconds=secs, scheduler=label, worker_versions=versions)


def software_versions() -> dict[str, str]:
    """engramlab, JAX and NumPy versions of this process (checked on every worker)."""
    import jax

    from .. import __version__

    return {"engramlab": __version__, "jax": jax.__version__, "numpy": np.__version__}


def _run_dask(store: ChunkStore, args: tuple, todo: list[int], dataset: dict | None,
              scheduler: str | None, workers: int | None, progress: Any, task: Any,
              secs: list[float]) -> dict[str, dict[str, str]]:
    """Run the chunks ``todo`` on Dask; returns each worker's software versions.

    Refuses (``DataError``) to run on workers whose engramlab or JAX version differs
    from this process's: their results would not be reproducible from the run record.
    """
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=False,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        from .._scheduler import check_scheduler_address

        check_scheduler_address(scheduler)  # the form, and an answer within seconds
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ValidationError(f"scheduler: {scheduler} accepts connections but did not "
                                  f"answer as a Dask scheduler ({exc})") from None
    try:
        mine = software_versions()
        versions = client.run(software_versions)
        bad = {w: v for w, v in versions.items()
               if (v["engramlab"], v["jax"]) != (mine["engramlab"], mine["jax"])}
        if bad:
            w, v = next(iter(bad.items()))
            raise DataError(f"scheduler: worker {w} runs engramlab {v['engramlab']} / JAX "
                            f"{v['jax']}, this process engramlab {mine['engramlab']} / JAX "
                            f"{mine['jax']}; install the same versions on every worker")
        token = store.key[:12]
        futures = [client.submit(evaluate_chunk, *args, i, dataset, pure=False,
                                 key=f"engramlab-chunk-{token}-{i}-{time.time_ns()}")
                   for i in todo]
        try:
            for fut in as_completed(futures):
                r: ChunkResult = fut.result()
                store.write_chunk(r.index, r.values, r.seconds)
                secs.append(r.seconds)
                progress.advance(task)
                fut.release()
        except BaseException:
            client.cancel(futures)
            raise
        return versions
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

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

Also defines the built-in sweepable model ``memory.capacity``
(:data:`MEMORY_CAPACITY`): capacity of a linear associative memory.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._dtypes import default_float
from .._progress import make_progress
from ..errors import DataError, ValidationError
from .config import SEED_DIM, ModelSpec, ResolvedExperiment
from .store import ChunkStore, fingerprint

__all__ = ["Grid", "ChunkResult", "SweepStats", "evaluate_chunk", "run_sweep", "make_store",
           "MEMORY_CAPACITY", "MemoryCapacityParams", "memory_capacity_patterns"]


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

    Runs on a Dask worker (or inline). Checks that every output has one finite-or-NaN
    value per point and returns float/int NumPy arrays without the padding.
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
    return ChunkResult(index=index, values=values, seconds=time.perf_counter() - t0)


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
    done = store.done()
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
        client = Client(scheduler, timeout="30s")
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


# --------------------------------------------------------------------------------------
# built-in model: capacity of a linear associative memory
# --------------------------------------------------------------------------------------
_N_CAP = 1024  # largest pattern length; random bits are drawn at this length and cut


class MemoryCapacityParams(BaseModel):
    """Parameters of ``memory.capacity`` (dimensionless counts and a rate)."""

    model_config = ConfigDict(extra="forbid")

    n_units: int = Field(64, ge=2, le=_N_CAP,
                         description="N: length of the input and output patterns (units)")
    n_patterns: int = Field(8, ge=1, le=1024, description="P: number of stored pairs")
    learning_rate: float = Field(1.0, gt=0.0, le=1000.0,
                                 description="gamma: Hebbian learning rate of every pair")


def _bucket(n: int) -> int:
    """Smallest power of two >= n (bounds the number of distinct compiled shapes)."""
    return 1 << max(int(n) - 1, 0).bit_length()


def _rademacher_bank(key: Any, n_rows: int, n_cols: int) -> Any:
    """``(n_rows, n_cols)`` +-1 values; entry (p, i) depends only on (key, p, i).

    Row ``p`` is bits ``p * 32 .. p * 32 + 31`` (uint32 words) of the counter-based
    threefry stream of ``key`` with partitionable counters (one counter per element
    index, forced on here), so growing ``n_rows`` or ``n_cols`` (padding) extends the
    bank without changing what is already there.
    """
    import jax
    import jax.numpy as jnp

    words = _N_CAP // 32
    with jax.threefry_partitionable(True):
        bits = jax.random.bits(key, (n_rows, words), jnp.uint32)
    b = (bits[:, :, None] >> jnp.arange(32, dtype=jnp.uint32)) & jnp.uint32(1)
    b = b.reshape(n_rows, _N_CAP)[:, :n_cols]
    dtype = default_float()
    return 2 * b.astype(dtype) - 1


@functools.cache
def _patterns_fn(n_patterns: int, n_units: int) -> Any:
    import jax

    @jax.jit
    def draw(key):
        kx, ky = jax.random.split(key)
        return (_rademacher_bank(kx, n_patterns, n_units),
                _rademacher_bank(ky, n_patterns, n_units))

    return draw


def memory_capacity_patterns(seed: int, n_patterns: int, n_units: int
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The input and output patterns ``(x, y)``, each ``(n_patterns, n_units)`` of +-1,
    that ``memory.capacity`` stores for ``seed`` (pattern ``p`` of a bigger ``P`` or
    ``N`` extends, never changes, the smaller one: common random numbers)."""
    import jax

    x, y = _patterns_fn(int(n_patterns), int(n_units))(jax.random.key(int(seed)))
    return np.asarray(x), np.asarray(y)


def _capacity_point(key, n, p, lr, p_pad: int, n_pad: int):
    import jax
    import jax.numpy as jnp

    from ..memory import LinearMemory

    kx, ky = jax.random.split(key)
    x = _rademacher_bank(kx, p_pad, n_pad)
    y = _rademacher_bank(ky, p_pad, n_pad)
    dtype = x.dtype
    umask = (jnp.arange(n_pad) < n).astype(dtype)
    pmask = (jnp.arange(p_pad) < p).astype(dtype)
    x, y = x * umask, y * umask
    lr = lr.astype(dtype)

    # associating the P pairs one by one (M += lr outer(x_p, y_p)) sums to one matmul
    mem = LinearMemory(lr * ((x * pmask[:, None]).T @ y))
    h = jax.vmap(mem.probe)(x)                      # (p_pad, n_pad) = lr (N y_q + noise)
    w = pmask[:, None] * umask[None, :]
    count = (p * n).astype(dtype)
    hn = h / (lr * n.astype(dtype))                 # normalised: y_q + crosstalk
    crosstalk = (hn - y) * w
    # hn_j = +-1 + k/N with k an integer, so |hn_j| < 1/(2N) means an exact tie (0) and
    # only rounding (e.g. a learning rate like 0.1) would give it a sign
    tie = jnp.abs(hn) < 0.5 / n.astype(dtype)
    agree = jnp.where(tie, 0.0, jnp.sign(hn)) * y   # +1 correct, 0 tie, -1 wrong
    bit_error = jnp.sum((1 - agree) / 2 * w) / count
    wrong_any = jnp.any((agree <= 0) & (w > 0), axis=1)
    perfect = jnp.sum(jnp.where(pmask > 0, 1 - wrong_any, 0)) / p.astype(dtype)
    return {
        "crosstalk_var": jnp.sum(crosstalk**2) / count,
        "bit_error": bit_error,
        "perfect_recall": perfect,
        "signal": jnp.sum(h * y * w) / count,
    }


def _capacity_batch_fn():
    import jax

    @functools.partial(jax.jit, static_argnames=("p_pad", "n_pad"))
    def batch(seeds, n, p, lr, *, p_pad, n_pad):
        keys = jax.vmap(jax.random.key)(seeds)
        return jax.vmap(lambda k, a, b, c: _capacity_point(k, a, b, c, p_pad, n_pad))(
            keys, n, p, lr)

    return batch


_CAPACITY_BATCH: list[Any] = []


def _memory_capacity_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                              ) -> dict[str, np.ndarray]:
    """Batch function of ``memory.capacity`` (see :data:`MEMORY_CAPACITY`)."""
    import jax.numpy as jnp

    if not _CAPACITY_BATCH:
        _CAPACITY_BATCH.append(_capacity_batch_fn())
    n = np.asarray(params["n_units"], np.int64)
    p = np.asarray(params["n_patterns"], np.int64)
    lr = np.asarray(params["learning_rate"], np.float64)
    if n.min() < 2 or n.max() > _N_CAP or p.min() < 1 or np.any(lr <= 0):
        raise ValidationError(f"memory.capacity: n_units in [2, {_N_CAP}], n_patterns >= 1 "
                              "and learning_rate > 0 are required")
    out = _CAPACITY_BATCH[0](jnp.asarray(seeds, jnp.uint32), jnp.asarray(n, jnp.int32),
                             jnp.asarray(p, jnp.int32), jnp.asarray(lr),
                             p_pad=_bucket(int(p.max())), n_pad=_bucket(int(n.max())))
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def _memory_capacity_theory(params: Mapping[str, Any]) -> dict[str, Any]:
    """Closed forms for random +-1 patterns (Hopfield-style signal-to-noise analysis).

    With ``h = x_q M / (gamma N) = y_q + c`` and ``c_j = (1/N) sum_{p != q} (x_q.x_p)
    y_pj``: ``E[c_j^2] = (P - 1)/N`` exactly, ``E[x_q M y_q / N] = gamma N`` exactly,
    and for large N the crosstalk is Gaussian, so the bit error is
    ``Phi(-sqrt(N / (P - 1)))`` and a whole pattern is recalled with probability
    ``(1 - bit_error)^N`` (independent bits approximation).
    """
    from scipy.special import ndtr

    n = np.asarray(params["n_units"], np.float64)
    p = np.asarray(params["n_patterns"], np.float64)
    lr = np.asarray(params["learning_rate"], np.float64)
    n, p, lr = np.broadcast_arrays(n, p, lr)
    var = (p - 1) / n
    with np.errstate(divide="ignore"):
        err = np.where(p > 1, ndtr(-np.sqrt(n / np.maximum(p - 1, 1e-300))), 0.0)
    return {"crosstalk_var": var, "bit_error": err, "perfect_recall": (1 - err) ** n,
            "signal": lr * n}


#: ``memory.capacity``: a linear associative memory (:class:`engramlab.memory.LinearMemory`)
#: stores ``P`` random +-1 pairs ``(x_p, y_p)`` of length ``N`` by Hebbian learning,
#: ``M = gamma sum_p outer(x_p, y_p)``, and is probed with every stored ``x_q``.
MEMORY_CAPACITY = ModelSpec(
    name="memory.capacity",
    params=MemoryCapacityParams,
    evaluate=_memory_capacity_evaluate,
    outputs={
        "crosstalk_var": "variance of the crosstalk c = x_q M / (gamma N) - y_q "
                         "(dimensionless; theory (P - 1) / N)",
        "bit_error": "fraction of output units with sign(x_q M) != y_q, ties count 1/2 "
                     "(theory Phi(-sqrt(N / (P - 1))))",
        "perfect_recall": "fraction of stored pairs recalled with every unit correct",
        "signal": "mean of (x_q M) . y_q / N, the retrieved signal (output units; "
                  "theory gamma N)",
    },
    description="Capacity of a linear (Hebbian) associative memory: P random +-1 pairs of "
                "length N are stored as M = gamma sum_p outer(x_p, y_p) and every stored "
                "input is probed. Recall degrades as the crosstalk variance (P - 1)/N grows.",
    theory=_memory_capacity_theory,
)


# --------------------------------------------------------------------------------------
# adapter: CMR log-likelihood surface of a free-recall data set (needs engramlab.cmr)
# --------------------------------------------------------------------------------------
_INF = float("inf")


class CmrLoglikParams(BaseModel):
    """CMR parameters with jaxcmr's names (see :class:`engramlab.cmr.JaxcmrParams`; the
    bounds here are its ``VALID`` ranges, checked equal by the tests)."""

    model_config = ConfigDict(extra="forbid")

    encoding_drift_rate: float = Field(0.7, ge=0.0, le=1.0)
    start_drift_rate: float = Field(0.3, ge=0.0, le=1.0)
    recall_drift_rate: float = Field(0.8, ge=0.0, le=1.0)
    learning_rate: float = Field(0.3, ge=0.0, le=1.0)
    shared_support: float = Field(0.05, ge=0.0)
    item_support: float = Field(0.3, ge=0.0)
    primacy_scale: float = Field(2.0, ge=0.0)
    primacy_decay: float = Field(0.5, ge=0.0)
    choice_sensitivity: float = Field(2.0, ge=0.0)
    stop_probability_scale: float = Field(0.02, ge=0.0, le=1.0)
    stop_probability_growth: float = Field(0.2, ge=0.0)


@functools.lru_cache(maxsize=4)
def _cmr_prepared(key: str) -> Any:
    import json

    import pandas as pd

    from ..cmr import from_arrays, load_dataset, prepare, read_jaxcmr_h5

    ds = json.loads(key)
    if ds.get("name") is not None:
        df = load_dataset(ds["name"])
    else:
        path = Path(ds["path"])
        if path.suffix in (".h5", ".hdf5"):
            df = from_arrays(read_jaxcmr_h5(path))
        elif path.suffix == ".csv":
            df = pd.read_csv(path)
        else:
            raise DataError(f"dataset.path: expected a psifr long-format .csv or a jaxcmr "
                            f".h5 file, got {path.name}")
    if ds.get("subjects") is not None:
        missing = sorted(set(ds["subjects"]) - set(df["subject"].unique()))
        if missing:
            raise DataError(f"dataset.subjects: subjects {missing} are not in the data set")
        df = df[df["subject"].isin(ds["subjects"])]
    return prepare(df)


def _cmr_loglik_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray, *,
                         dataset: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Log-likelihood of the whole data set for each parameter vector of the batch (one
    vmapped call of :func:`engramlab.cmr._model.population_loglik`, float64)."""
    import json

    import jax
    import jax.numpy as jnp

    from ..cmr import JaxcmrParams
    from ..cmr._model import population_loglik

    prep = _cmr_prepared(json.dumps(dict(dataset), sort_keys=True))
    thetas = np.stack([np.asarray(params[n], np.float64) for n in JaxcmrParams.names()],
                      axis=1)
    with jax.enable_x64(True):
        ll = population_loglik(jnp.asarray(thetas), jnp.asarray(prep.recalls),
                               jnp.asarray(prep.sqrt_m), variant="jaxcmr", L=prep.L)
        ll = np.asarray(ll, np.float64)
    return {"loglik": ll, "loglik_per_list": ll / prep.recalls.shape[0]}


#: ``cmr.loglik``: the exact CMR (jaxcmr variant) log-likelihood of a free-recall data
#: set over a parameter grid; seeds are not used (use ``[seeds] count = 1``).
CMR_LOGLIK = ModelSpec(
    name="cmr.loglik",
    params=CmrLoglikParams,
    evaluate=_cmr_loglik_evaluate,
    outputs={"loglik": "log-likelihood of every list of the data set (nats)",
             "loglik_per_list": "log-likelihood per list (nats)"},
    description="Likelihood surface of CMR (retrieved-context model of free recall, "
                "jaxcmr parameterisation) for a free-recall data set: the exact "
                "log-likelihood of the recorded recall sequences at every grid point.",
    uses_dataset=True,
)


# --------------------------------------------------------------------------------------
# adapter: capacity of an (emotional) attractor network (needs engramlab.attractor)
# --------------------------------------------------------------------------------------
class AttractorCapacityParams(BaseModel):
    """Parameters of ``attractor.capacity`` (times in ms)."""

    model_config = ConfigDict(extra="forbid")

    n_neurons: int = Field(64, ge=2, le=512, description="N: number of rate units")
    n_patterns: int = Field(4, ge=1, le=256, description="P: imprinted +-1 patterns")
    flip: float = Field(0.1, ge=0.0, le=0.5,
                        description="fraction of a cue's signs flipped (cue noise)")
    emotion: float = Field(0.0, ge=-5.0, le=5.0,
                           description="emotion E of pattern 0 (the others have E = 0)")
    beta: float = Field(1.0, ge=0.0, le=10.0, description="emotional intensity beta")
    gain: float = Field(20.0, gt=0.0, le=1000.0, description="gain g of tanh")
    threshold: float = Field(0.95, ge=-1.0, le=1.0,
                             description="overlap above which a pattern is retrieved")
    n_steps: int = Field(100, ge=1, le=100_000, description="Euler steps")
    tau: float = Field(1.0, gt=0.0, le=1000.0, description="time constant (ms)")
    dt: float = Field(0.5, gt=0.0, le=1000.0, description="Euler step (ms)")

    @model_validator(mode="after")
    def _stable(self) -> AttractorCapacityParams:
        if self.dt >= self.tau:
            raise ValueError(f"dt must be < tau for a stable Euler scheme (dt = {self.dt:g}, "
                             f"tau = {self.tau:g})")
        return self


#: parameters that fix the compiled program (static in engramlab.attractor.recall)
_ATTRACTOR_STATIC = ("gain", "n_steps", "tau", "dt")


def _uniform_bank(key: Any, n_rows: int, n_cols: int, dtype: Any) -> Any:
    """``(n_rows, n_cols)`` uniforms in [0, 1); entry (p, i) depends only on (key, p, i)."""
    import jax
    import jax.numpy as jnp

    with jax.threefry_partitionable(True):
        bits = jax.random.bits(key, (n_rows, _N_CAP), jnp.uint32)[:, :n_cols]
    return (bits >> 8).astype(dtype) * (1.0 / (1 << 24))


def _attractor_point(key, n, p, flip, emotion, beta, threshold, *, p_pad, n_pad, gain,
                     n_steps, tau, dt):
    import jax
    import jax.numpy as jnp

    from ..attractor import AttractorNetwork, recall, salience

    kx, kf = jax.random.split(key)
    xi = _rademacher_bank(kx, p_pad, n_pad)
    dtype = xi.dtype
    umask = (jnp.arange(n_pad) < n).astype(dtype)
    pmask = (jnp.arange(p_pad) < p).astype(dtype)
    xi = xi * umask
    emotions = jnp.zeros(p_pad, dtype).at[0].set(emotion)
    sal = salience(emotions, beta, "exp") * pmask
    nf = n.astype(dtype)
    w = jnp.einsum("p,pi,pj->ij", sal, xi, xi) / nf
    w = w * (1.0 - jnp.eye(n_pad, dtype=dtype))
    flips = _uniform_bank(kf, p_pad, n_pad, dtype) < flip
    cues = jnp.where(flips, -xi, xi)
    net = AttractorNetwork(w, tau=tau, dt=dt, gain=gain)
    final = recall(net, cues, n_steps=n_steps)
    m = jnp.sum(final * xi, axis=1) / nf                       # overlap with own pattern
    ok = (m > threshold).astype(dtype) * pmask
    n_neutral = (p - 1).astype(dtype)
    neutral = jnp.where(n_neutral > 0,
                        jnp.sum(m * pmask * (jnp.arange(p_pad) > 0)) / jnp.maximum(
                            n_neutral, 1.0), jnp.nan)
    return {"success": jnp.sum(ok) / p.astype(dtype), "overlap_emotional": m[0],
            "overlap_neutral": neutral, "mean_overlap": jnp.sum(m * pmask) / p.astype(dtype)}


@functools.lru_cache(maxsize=32)
def _attractor_batch_fn(p_pad: int, n_pad: int, gain: float, n_steps: int, tau: float,
                        dt: float) -> Any:
    import jax

    point = functools.partial(_attractor_point, p_pad=p_pad, n_pad=n_pad, gain=gain,
                              n_steps=n_steps, tau=tau, dt=dt)

    @jax.jit
    def batch(seeds, *args):
        keys = jax.vmap(jax.random.key)(seeds)
        return jax.vmap(point)(keys, *args)

    return batch


def _attractor_capacity_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                                 ) -> dict[str, np.ndarray]:
    """Batch function of ``attractor.capacity``: one vmapped call per distinct value of
    the static parameters (gain, n_steps, tau, dt) in the batch, each padded to the
    batch size so the compiled programs are reused across chunks."""
    import jax.numpy as jnp

    b = seeds.shape[0]
    n = np.asarray(params["n_neurons"], np.int64)
    p = np.asarray(params["n_patterns"], np.int64)
    p_pad, n_pad = _bucket(int(p.max())), _bucket(int(n.max()))
    static = np.stack([np.asarray(params[k], np.float64) for k in _ATTRACTOR_STATIC], 1)
    out = {k: np.full(b, np.nan) for k in ATTRACTOR_CAPACITY_OUTPUTS}
    for combo in np.unique(static, axis=0):
        idx = np.flatnonzero(np.all(static == combo, axis=1))
        take = np.concatenate([idx, np.full(b - idx.size, idx[-1])])  # pad to b
        gain, n_steps, tau, dt = float(combo[0]), int(combo[1]), float(combo[2]), float(
            combo[3])
        fn = _attractor_batch_fn(p_pad, n_pad, gain, n_steps, tau, dt)
        res = fn(jnp.asarray(seeds[take], jnp.uint32), jnp.asarray(n[take], jnp.int32),
                 jnp.asarray(p[take], jnp.int32),
                 *(jnp.asarray(np.asarray(params[k], np.float64)[take])
                   for k in ("flip", "emotion", "beta", "threshold")))
        for k in out:
            out[k][idx] = np.asarray(res[k], np.float64)[: idx.size]
    return out


ATTRACTOR_CAPACITY_OUTPUTS = {
    "success": "fraction of the P stored patterns retrieved (final overlap > threshold)",
    "overlap_emotional": "final overlap m = r . xi / N of pattern 0 (emotion E) from its cue",
    "overlap_neutral": "mean final overlap of the neutral patterns 1..P-1 (NaN when P = 1)",
    "mean_overlap": "mean final overlap over all stored patterns",
}

#: ``attractor.capacity``: P random +-1 patterns imprinted in a rate network
#: (:class:`engramlab.attractor.AttractorNetwork`) with ``W = (1/N) sum_p s(E_p) xi_p
#: xi_p^T`` (zero diagonal; ``s = exp(beta E)``, pattern 0 emotional), each recalled from a
#: cue with a fraction ``flip`` of signs flipped by :func:`engramlab.attractor.recall`.
ATTRACTOR_CAPACITY = ModelSpec(
    name="attractor.capacity",
    params=AttractorCapacityParams,
    evaluate=_attractor_capacity_evaluate,
    outputs=ATTRACTOR_CAPACITY_OUTPUTS,
    description="Retrieval in an emotional attractor network (tau dr/dt = -r + tanh(g W r)) "
                "against the load P/N: P random patterns imprinted Hebbian-style, pattern 0 "
                "with salience exp(beta E); every pattern is cued with noise and recalled. "
                "At high gain this is the Hopfield network (capacity P/N ~ 0.138).",
)


# --------------------------------------------------------------------------------------
# adapter: softmax synaptic dynamics, the App. B experiment (needs engramlab.softmax)
# --------------------------------------------------------------------------------------
class SoftmaxAppendixParams(BaseModel):
    """Parameters of ``softmax.appendix`` (Lotito 2025, App. B; times in steps of dt)."""

    model_config = ConfigDict(extra="forbid")

    beta: float = Field(2.0, ge=0.0, le=1000.0, description="softmax inverse temperature")
    tau: float = Field(250.0, gt=0.0, le=1e6, description="tau_Xi, synaptic time constant")
    noise: float = Field(0.4, ge=0.0, le=100.0, description="target noise sd (eta = xi + "
                         "noise z)")
    dt: float = Field(1.0, gt=0.0, le=1e6, description="Euler step")
    n_v: int = Field(50, ge=1, le=4096, description="N_v, visible units")
    n_h: int = Field(4, ge=1, le=512, description="N_h, memories (<= N_v)")
    n_steps: int = Field(2000, ge=1, le=1_000_000, description="T, Euler steps")

    @model_validator(mode="after")
    def _valid(self) -> SoftmaxAppendixParams:
        if self.dt >= self.tau:
            raise ValueError(f"dt must be < tau (dt = {self.dt:g}, tau = {self.tau:g})")
        if self.n_h > self.n_v:
            raise ValueError(f"n_h must be <= n_v (orthogonal memories), got n_h = "
                             f"{self.n_h}, n_v = {self.n_v}")
        return self


_SOFTMAX_STATIC = ("n_v", "n_h", "n_steps")


def _softmax_appendix_evaluate(params: Mapping[str, np.ndarray], seeds: np.ndarray
                               ) -> dict[str, np.ndarray]:
    """Batch function of ``softmax.appendix``: engramlab.softmax's vmapped App. B run
    (one call per distinct ``(n_v, n_h, n_steps)`` in the batch, padded to the batch)."""
    import jax
    import jax.numpy as jnp

    from ..softmax._theory import _appendix_chunk

    b = seeds.shape[0]
    static = np.stack([np.asarray(params[k], np.int64) for k in _SOFTMAX_STATIC], 1)
    out = {k: np.full(b, np.nan) for k in SOFTMAX_APPENDIX_OUTPUTS}
    dtype = default_float()
    for combo in np.unique(static, axis=0):
        idx = np.flatnonzero(np.all(static == combo, axis=1))
        take = np.concatenate([idx, np.full(b - idx.size, idx[-1])])
        keys = jax.vmap(jax.random.key)(jnp.asarray(seeds[take], jnp.uint32))
        f = {k: jnp.asarray(np.asarray(params[k], np.float64)[take], dtype)
             for k in ("beta", "tau", "noise", "dt")}
        # dt enters _appendix_chunk as one scalar: group by it too
        for dt in np.unique(np.asarray(f["dt"])):
            sub = np.flatnonzero(np.asarray(f["dt"]) == dt)
            sel = np.concatenate([sub, np.full(b - sub.size, sub[-1])])
            res = _appendix_chunk(keys[sel], f["beta"][sel], f["tau"][sel], f["noise"][sel],
                                  jnp.asarray(dt, dtype), int(combo[0]), int(combo[1]),
                                  int(combo[2]))
            sim = np.asarray(res["similarity"], np.float64)[: sub.size]
            th = np.asarray(res["theory"], np.float64)[: sub.size]
            rows = idx[sub[sub < idx.size]]
            out["similarity_final"][rows] = sim[:, -1].mean(axis=1)
            out["theory_final"][rows] = th[:, -1].mean(axis=1)
            out["max_abs_error"][rows] = np.abs(sim - th).max(axis=(1, 2))
    return out


SOFTMAX_APPENDIX_OUTPUTS = {
    "similarity_final": "memory-target cosine similarity S(T), mean over the N_h memories",
    "theory_final": "closed-form S(T) (exponential relaxation with tau / p_mu, measured "
                    "norms), mean over memories",
    "max_abs_error": "max over t and memories of |S_simulated(t) - S_theory(t)|",
}

#: ``softmax.appendix``: the App. B experiment of Lotito (2025) on
#: :mod:`engramlab.softmax`: orthogonal initial memories, noisy targets shown round robin,
#: ``T`` Euler steps of the softmax synaptic dynamics; simulated vs closed-form similarity.
SOFTMAX_APPENDIX = ModelSpec(
    name="softmax.appendix",
    params=SoftmaxAppendixParams,
    evaluate=_softmax_appendix_evaluate,
    outputs=SOFTMAX_APPENDIX_OUTPUTS,
    description="Softmax synaptic dynamics tau dXi/dt = w * (-Xi + v^T), w = softmax(beta Xi "
                "v) (Lotito 2025, App. B): N_h orthogonal memories learn noisy targets shown "
                "round robin; their similarity to the targets relaxes as predicted by the "
                "closed form with effective time constant tau N_h.",
)

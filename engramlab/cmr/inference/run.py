"""Running the sampler: :func:`sample`, its units (chains, or subjects) with checkpoints,
and the per-subject runs on Dask (:mod:`engramlab._scheduler`).

A *unit* is what is run and checkpointed in one go: one chain (``chain_method``
``"sequential"`` / ``"parallel"``), all chains (``"vectorized"``), or one subject's chains
(separate per-subject runs). A finished unit is written atomically as ``.npz`` with the
run's fingerprint (data, priors, bounds, settings, key) and a SHA-256 checksum of its
arrays, and is reused on a rerun with identical inputs (:func:`_load_unit`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._io import write_with
from ..._progress import make_progress
from ..._validation import as_key, check_choice, check_int, check_range, check_resources
from ...errors import ConfigError, ValidationError
from .._variants import get_variant
from .convert import to_inference_data
from .diagnostics import diagnostics
from .sampler import Sampler
from .spec import MAX_TREE_DEPTH, FitSpec, Priors, as_priors, check_sampler

__all__ = ["sample"]


def _run_mcmc(mcmc, *, key=None, keys=None, on_done=None) -> dict[str, np.ndarray]:
    """Run one unit (``mcmc``: ``(sampler, chains, chain_method)``): warm-up (step size and
    diagonal mass-matrix adaptation) and sampling in one compiled loop; numpy arrays
    ``(chains, draws, ...)`` of the samples (``s:`` prefix, constrained) and sample stats
    (``x:`` prefix).

    ``keys``: one key per chain; chain ``c`` then starts and runs exactly as a one-chain
    unit with ``key=keys[c]`` would (chains side by side on several devices are the chains
    run one after the other, up to rounding). ``key``: one key for all the
    chains (NumPyro splits it; ``chain_method="vectorized"``)."""
    import jax
    import jax.numpy as jnp

    sampler, chains, chain_method = mcmc
    if keys is None:     # one key for all chains, split as NumPyro's MCMC splits it
        k_init, k_run = jax.random.split(key)
        init = sampler.init(k_init, None if chains == 1 else chains)
        k_run = k_run[None] if chains == 1 else jax.random.split(k_run, chains)
    else:
        pairs = [jax.random.split(k) for k in keys]
        init = jnp.stack([sampler.init(p[0], None) for p in pairs])
        k_run = jnp.stack([p[1] for p in pairs])
    init = init.reshape(chains, -1)
    y, extra = sampler.program(chains, chain_method)(k_run, init)
    y = np.asarray(y)
    out = {f"s:{k}": v for k, v in sampler.postprocess(y).items()}
    out.update({f"x:{k}": np.asarray(v) for k, v in extra.items()})
    if on_done:
        on_done()
    return out


# --------------------------------------------------------------------------- checkpoints

def _fingerprint(spec: FitSpec, pri: dict, recalls: np.ndarray, subject: np.ndarray,
                 settings: dict) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(spec.to_json(), sort_keys=True).encode())
    h.update(json.dumps({k: v.tolist() for k, v in pri.items()}, sort_keys=True).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(recalls).tobytes())
    h.update(np.asarray(pd.Series(subject).astype(str)).astype("U").tobytes())
    return h.hexdigest()[:20]


def _arrays_digest(arrays: Mapping[str, np.ndarray], fp: str) -> str:
    """SHA-256 over the run's fingerprint and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(fp.encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _save_unit(path: Path, arrays: dict[str, np.ndarray], fp: str) -> None:
    """Write one finished unit (chain, chains or subject) atomically, with the run's
    fingerprint and a checksum of its arrays."""
    def writer(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, _fingerprint=np.array(fp),
                     _checksum=np.array(_arrays_digest(arrays, fp)), **arrays)

    write_with(path, writer)


def _load_unit(path: Path, fp: str, lead: tuple[int, int]) -> dict[str, np.ndarray] | None:
    """A finished unit from ``path``, or ``None`` when it is absent or damaged (then the
    unit is recomputed, saying why on stderr). Verified: readable, this run's fingerprint
    (another run's file is a :class:`ConfigError`), its checksum, every array shaped
    ``(chains, draws, ...)`` as ``lead`` says, and finite samples (``s:`` arrays)."""
    from ..._progress import say

    if not path.exists():
        return None

    def damaged(why: str) -> None:
        say(f"checkpoint {str(path)!r}: {why}; recomputing it")

    try:
        # our own handle: np.load leaks the one it opens when the zip is unreadable
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is damaged
        damaged(f"unreadable ({type(exc).__name__}: {str(exc)[:80]})")
        return None
    got_fp, digest = arrays.pop("_fingerprint", None), arrays.pop("_checksum", None)
    if got_fp is None or got_fp.shape != () or digest is None or digest.shape != ():
        damaged("not a checkpoint of this package (no fingerprint or checksum)")
        return None
    if str(got_fp) != fp:
        raise ConfigError(f"checkpoint_dir: {str(path)!r} belongs to a different run "
                          f"(fingerprint {got_fp}, this run {fp}: other data, priors, "
                          "bounds, draws or seed); use an empty folder to start afresh")
    if str(digest) != _arrays_digest(arrays, fp):
        damaged("its arrays do not match its checksum (edited or corrupt)")
        return None
    if not any(k.startswith("s:") for k in arrays):
        damaged("it holds no samples")
        return None
    for k, v in arrays.items():
        if v.shape[:2] != tuple(lead):
            damaged(f"array {k!r} has shape {v.shape}, expected (chains, draws) = {lead}")
            return None
        if k.startswith("s:") and not (np.issubdtype(v.dtype, np.number)
                                       and np.isfinite(v).all()):
            damaged(f"array {k!r} holds non-finite or non-numeric samples")
            return None
    return arrays


def _checkpoint_folder(checkpoint_dir: Any) -> Path | None:
    """``checkpoint_dir`` as a folder (created), or a :class:`ConfigError` saying why not."""
    if checkpoint_dir is None:
        return None
    if not isinstance(checkpoint_dir, (str, os.PathLike)) or not str(checkpoint_dir):
        raise ConfigError(f"checkpoint_dir: expected a folder path (str or Path), got "
                          f"{type(checkpoint_dir).__name__} {checkpoint_dir!r:.80}")
    ckpt = Path(checkpoint_dir)
    if ckpt.exists() and not ckpt.is_dir():
        raise ConfigError(f"checkpoint_dir: {str(ckpt)!r} exists and is not a folder")
    try:
        ckpt.mkdir(parents=True, exist_ok=True)
        probe = ckpt / ".engramlab-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"checkpoint_dir: cannot create or write the folder "
                          f"{str(ckpt)!r} ({exc.strerror or exc})") from None
    return ckpt


def _chain_key(key, c: int):
    import jax

    return jax.random.fold_in(key, c)


def _sample_block(ll, spec, subj_idx, n_subj, pri, hierarchical, key, *, chains, draws,
                  warmup, chain_method, target_accept, max_tree_depth, parameterization,
                  precondition, precision, ckpt, fp, tag, on_unit=None, sampler="nuts"):
    """Sample one model (all subjects pooled, or one subject); per-chain checkpoints."""
    import jax

    kind = sampler
    with jax.enable_x64(precision == "float64"):
        sampler = None

        def get_sampler():
            nonlocal sampler
            if sampler is None:     # built (mode search, Hessian) only if a unit is run
                sampler = Sampler(ll, spec, subj_idx, n_subj, pri, hierarchical,
                                  sampler=kind, parameterization=parameterization,
                                  precondition=precondition, draws=draws, warmup=warmup,
                                  target_accept=target_accept,
                                  max_tree_depth=max_tree_depth)
            return sampler

        if chain_method in ("sequential", "parallel"):
            # one chain at a time, or as many side by side as there are devices (rounds of
            # ``width`` chains); every chain checkpointed on its own, with its own key
            width = 1 if chain_method == "sequential" else _parallel_width(chains)
            paths = [None if ckpt is None else ckpt / f"{tag}-chain{c}.npz"
                     for c in range(chains)]
            done: dict[int, dict[str, np.ndarray]] = {}
            for c, path in enumerate(paths):
                got = None if path is None else _load_unit(path, fp, (1, draws))
                if got is not None:
                    done[c] = got
                    if on_unit is not None:
                        on_unit(f"{tag}: chain {c + 1} resumed")
            pending = [c for c in range(chains) if c not in done]
            for i in range(0, len(pending), width):
                group = pending[i:i + width]
                got = _run_mcmc((get_sampler(), len(group),
                                 "parallel" if len(group) > 1 else "sequential"),
                                keys=[_chain_key(key, c) for c in group])
                for j, c in enumerate(group):
                    done[c] = {k: v[j:j + 1] for k, v in got.items()}
                    if paths[c] is not None:
                        _save_unit(paths[c], done[c], fp)
                    if on_unit is not None:
                        on_unit(f"{tag}: chain {c + 1} done")
            return {k: np.concatenate([done[c][k] for c in range(chains)]) for k in done[0]}
        path = None if ckpt is None else ckpt / f"{tag}-chains.npz"
        got = None if path is None else _load_unit(path, fp, (chains, draws))
        if got is None:
            got = _run_mcmc((get_sampler(), chains, chain_method), key=key,
                            on_done=None if on_unit is None else
                            (lambda: on_unit(f"{tag}: chains done")))
            if path is not None:
                _save_unit(path, got, fp)
        elif on_unit is not None:
            on_unit(f"{tag}: chains resumed")
        return got


def _parallel_width(chains: int) -> int:
    """How many chains ``chain_method="parallel"`` runs side by side: one per JAX device
    (on CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` set before JAX
    starts; the CLI sets it), at most ``chains``."""
    import jax

    return max(1, min(chains, jax.local_device_count()))


def _sample_subject_task(data_sub, variant, pool_size, spec, pri, key, kw):
    from .._api import make_loglik

    ll = make_loglik(data_sub, variant=variant, pool_size=pool_size)
    return _sample_block(ll, spec, np.zeros(ll.n_lists, dtype=np.int32), 1, pri, False,
                         key, ckpt=None, fp="", tag="subject", **kw)


def sample(data: Any, *, key: Any, variant: str = "jaxcmr", hierarchical: bool = True,
           chains: int = 4, draws: int = 500, warmup: int = 500,
           free: Sequence[str] | Mapping[str, tuple[float, float]] | None = None,
           fixed: Mapping[str, float] | None = None, priors: Priors | Mapping | None = None,
           pool_size: int | None = None, chain_method: str = "parallel",
           target_accept: float = 0.8, max_tree_depth: int | None = None,
           sampler: str = "nuts", parameterization: str = "partial",
           precondition: str | None = "laplace",
           precision: str = "float64", subject_runs: str = "separate",
           scheduler: str | None = None, workers: int = 1,
           checkpoint_dir: str | Path | None = None, quiet: bool | None = None,
           check: bool = True) -> Any:
    """Posterior of CMR parameters by NUTS (NumPyro) on the exact log-likelihood.

    The model, transform and priors are in ``engramlab.cmr.inference.model``; the
    log-likelihood of list ``i`` (nats) is
    ``log L_i = sum_{j<n_i} log[(1 - P_stop(j)) P(r_j)] + log P_stop(n_i)`` from
    :func:`~engramlab.cmr.make_loglik`, in ``precision``.

    **Arguments:**

    - ``data``: psifr long-format DataFrame (validated and cleaned as in
      :func:`~engramlab.cmr.log_likelihood`).
    - ``key``: JAX PRNG key (required). Chain ``c`` uses ``fold_in(key, c)`` (subject ``s``
      of a per-subject run ``fold_in(key, 1000 + s)`` first), so a resumed run draws the
      same numbers as an uninterrupted one.
    - ``variant``: any registered variant name.
    - ``hierarchical``: partial pooling across subjects (``True``; needs at least 2
      subjects, one subject is a ``ConfigError``) or independent per-subject posteriors
      (``False``; subjects run on Dask).
    - ``chains``, ``draws``, ``warmup``: NUTS chains, kept draws per chain (>= 1) and
      adaptation steps per chain (>= 0).
    - ``free``, ``fixed``: as :func:`~engramlab.cmr.fit` (names, or ``name -> (lo, hi)``;
      default :data:`~engramlab.cmr._fit.DEFAULT_FREE`); the bounds define the transform.
    - ``priors``: :class:`Priors` or a dict of its fields.
    - ``chain_method``: ``"parallel"`` (default: chains side by side, one per JAX device,
      in rounds when there are fewer devices than chains; on a CPU,
      ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts — the CLI
      sets it — else there is one device and the chains run one after the other),
      ``"sequential"`` (one chain after the other) or ``"vectorized"`` (all chains in one
      vmapped call; one checkpoint). ``"sequential"`` and ``"parallel"`` run the same
      chains (chain ``c`` has its own key, start and checkpoint, and either resumes the
      other's checkpoints); their programs round differently, which HMC amplifies, so
      long chains agree in distribution rather than draw for draw.
    - ``target_accept``, ``max_tree_depth``: NUTS settings. ``max_tree_depth=None``
      (default): 8 (at most 255 leapfrog steps per draw; at most
      ``MAX_TREE_DEPTH`` = 30), and 3 for the per-subject trees
      of ``sampler="gibbs"`` — those run in coordinates where a subject's conditional posterior
      is close to ``Normal(0, I)``, whose U-turn comes after about 7 steps at the usual
      step size, and the vmapped trees all wait for the longest, so one subject against
      the stop rule's wall would otherwise set every subject's cost.
    - ``sampler``: ``"nuts"`` (default: NUTS on the whole posterior) or ``"gibbs"``
      (hierarchical only: the centred model by NUTS within Gibbs, NUTS on the subjects
      given ``mu, sigma``, whitened under the current ``sigma``, alternating with exact
      moves of ``mu, sigma``; needs 2 or more subjects;
      ``engramlab.cmr.inference.kernels.gibbs``; every subject has its own NUTS chain,
      and ``sample_stats`` reports the longest tree as ``n_steps``, the subjects' median
      ``step_size``, mean ``acceptance_rate`` and any divergence); the same posterior.
      Anything else is a ``ConfigError`` naming ``sampler``.
    - ``parameterization`` (hierarchical NUTS): ``"partial"`` (default: centred per
      subject and parameter by the weight ``w = I / (I + 1 / sigma0^2)`` from the Laplace
      blocks, see ``engramlab.cmr.inference.model.make_model``), ``"non-centered"``
      (``z = mu + sigma eta``, robust when subjects have few lists) or ``"centered"``
      (``z ~ Normal(mu, sigma)``, better geometry when every subject has many lists); the
      same posterior. ``sampler="gibbs"`` always samples the centred model.
      ``parameterization="gibbs"`` (the older spelling) is a ``ConfigError`` pointing to
      ``sampler="gibbs"``.
    - ``precondition``: ``"laplace"`` (default) runs NUTS in the coordinates that whiten
      a Laplace approximation at the subjects' modes (see
      ``engramlab.cmr.inference.laplace``), which cuts the
      leapfrog steps per draw several-fold on CMR posteriors; ``None``: NumPyro's plain
      diagonal adaptation from a uniform start. Either samples the same posterior.
    - ``precision``: ``"float64"`` (default) or ``"float32"`` (jaxcmr's own precision;
      about twice as fast on CPU; the total log-likelihood is then exact to ~1e-7
      relative).
    - ``subject_runs`` (``hierarchical=False`` only): ``"separate"`` (one NUTS run per
      subject, on Dask) or ``"joint"`` (one NUTS run over the product of the independent
      per-subject posteriors: the same posterior, one compilation, vectorised over
      subjects; best for many small subjects).
    - ``scheduler``, ``workers``: separate per-subject runs only: Dask scheduler address,
      or an in-process ``LocalCluster`` with ``workers`` threads.
    - ``checkpoint_dir``: finished chains (hierarchical) or subjects (per subject) are
      written there atomically and reused on a rerun with identical inputs (checked by a
      fingerprint of data, priors, bounds, settings and key; a mismatch is a
      ``ConfigError``).
    - ``quiet``: no progress bar. ``check``: run :func:`diagnostics` and warn
      (``ConvergenceWarning``) when R-hat > 1.01, bulk/tail ESS < 400 or any divergence.

    **Returns:** ``arviz.InferenceData`` (groups described in
    ``engramlab.cmr.inference.convert.to_inference_data``; the diagnostics summary is
    in ``sample_stats.attrs``). Save it with :func:`~engramlab.cmr.save_inference`.
    """
    import jax

    from .._api import make_loglik
    from .._data import to_arrays

    key = as_key(key, "key")
    hierarchical = bool(hierarchical)
    chains = check_int(chains, "chains", min_value=1)
    draws = check_int(draws, "draws", min_value=1)
    warmup = check_int(warmup, "warmup", min_value=0)
    chain_method = check_choice(chain_method, "chain_method",
                                ("sequential", "vectorized", "parallel"))
    target_accept = check_range(target_accept, "target_accept", 0.0, 1.0,
                                lo_inclusive=False, hi_inclusive=False)
    workers = check_int(workers, "workers", min_value=1, max_value=1024)
    subject_runs = check_choice(subject_runs, "subject_runs", ("separate", "joint"))
    if scheduler is not None:
        from ..._scheduler import check_scheduler_address

        if hierarchical or subject_runs == "joint":
            raise ConfigError(f"scheduler: a {'hierarchical' if hierarchical else 'joint'} "
                              f"run samples every subject in one model in this process; "
                              f"Dask (scheduler={scheduler!r:.60}) is for separate "
                              "per-subject runs: hierarchical=False, subject_runs='separate'")
        scheduler = check_scheduler_address(scheduler, "scheduler")
    ckpt = _checkpoint_folder(checkpoint_dir)
    sampler, parameterization = check_sampler(sampler, parameterization)
    if sampler == "gibbs" and not hierarchical:
        raise ConfigError("sampler: 'gibbs' moves the group parameters of the hierarchical "
                          "model; with hierarchical=False there are none: expected "
                          "sampler='nuts', got 'gibbs'")
    gibbs = sampler == "gibbs"
    # NumPyro's iterative NUTS keeps O(depth) buffers per tree, and depth 30 is already
    # 2^30 leapfrog steps per draw: deeper is never useful and 1e9 exhausts memory
    max_tree_depth = (check_int(max_tree_depth, "max_tree_depth", min_value=1,
                                max_value=MAX_TREE_DEPTH)
                      if max_tree_depth is not None
                      else 3 if gibbs else 8)
    if precondition is not None:
        precondition = check_choice(precondition, "precondition", ("laplace",))
    precision = check_choice(precision, "precision", ("float64", "float32"))
    _check_finite_columns(data)
    if (v := get_variant(variant)).item_keys():
        raise ConfigError(f"variant: {v.name!r} reads item data "
                          "(items=: similarities or categories), which sample does not take "
                          "yet; fit it by maximum likelihood with cmr.fit(..., items=...)")
    spec = FitSpec.resolve(variant, free, fixed)
    pri_obj = as_priors(priors)
    pri = pri_obj.resolve(spec.free)
    ll = make_loglik(data, variant=variant, pool_size=pool_size)  # validates the data
    subject = np.asarray(ll.subject)
    subjects = list(pd.unique(subject))
    # refuse before anything is allocated: the kept draws (every list's log-likelihood
    # and every site, float64) and at least one gradient per iteration
    n_sites = (len(subjects) + 2) * len(spec.free)
    L = ll.list_length
    check_resources("sample", n_bytes=8.0 * chains * draws * (ll.n_lists + n_sites),
                    n_ops=36.0 * chains * (warmup + draws) * ll.n_lists * L * L * (L + 1),
                    args={"chains": chains, "draws": draws, "warmup": warmup})
    subj_idx = np.array([subjects.index(s) for s in subject], dtype=np.int32)
    recalls = np.asarray(to_arrays(data).recalls)     # same cleaning and order as ll
    if recalls.shape[0] != ll.n_lists:
        raise ValidationError(f"data: {recalls.shape[0]} lists after cleaning but the "
                              f"likelihood has {ll.n_lists}")
    if gibbs and len(subjects) < 2:
        raise ConfigError(f"sampler: 'gibbs' draws the group spread from the "
                          f"subjects and needs at least 2 of them, got {len(subjects)}")
    if hierarchical and len(subjects) < 2:
        # one subject gives the group spread nothing to learn from: its posterior would be
        # the prior's, and the subject's own would be pulled towards an arbitrary mean
        raise ConfigError(f"hierarchical: partial pooling needs at least 2 subjects, the "
                          f"data have 1 (subject {subjects[0]}); sample one subject "
                          "without pooling: hierarchical=False (on the command line "
                          "--no-hierarchical)")
    settings = dict(hierarchical=hierarchical, subject_runs=subject_runs, chains=chains,
                    draws=draws, warmup=warmup,
                    chain_method=chain_method, target_accept=target_accept,
                    max_tree_depth=max_tree_depth, pool_size=pool_size,
                    parameterization="gibbs" if gibbs else parameterization,
                    precondition=precondition,
                    precision=precision, key=np.asarray(jax.random.key_data(key)).tolist())
    # sequential and parallel runs are the same chains: either resumes the other. The
    # fingerprint keeps the settings' earlier form (a Gibbs run as parameterization
    # "gibbs"), so checkpoints written before sampler= existed still resume
    fp = _fingerprint(spec, pri, recalls, subject,
                      dict(settings, chain_method="vectorized" if chain_method == "vectorized"
                           else "per-chain"))
    if gibbs:
        parameterization = "centered"
    settings.update(sampler=sampler, parameterization=parameterization)
    kw = dict(chains=chains, draws=draws, warmup=warmup, chain_method=chain_method,
              target_accept=target_accept, max_tree_depth=max_tree_depth, sampler=sampler,
              parameterization=parameterization, precondition=precondition,
              precision=precision)

    if hierarchical or subject_runs == "joint":
        n_units = 1 if chain_method == "vectorized" else chains
        what = "hierarchical" if hierarchical else "independent subjects, joint run"
        with make_progress(quiet) as progress:
            task = progress.add_task(f"NUTS {variant} ({what}, {len(subjects)} subjects)",
                                     total=n_units)

            def on_unit(desc):
                progress.update(task, description=f"NUTS {variant}: {desc}")
                progress.advance(task)

            raw = _sample_block(ll, spec, subj_idx, len(subjects), pri, hierarchical, key,
                                ckpt=ckpt, fp=fp, tag="hier" if hierarchical else "joint",
                                on_unit=on_unit, **kw)
        per_subject = None
    else:
        per_subject = _sample_subjects(data, subjects, variant, pool_size, spec, pri, key,
                                       kw, ckpt, fp, scheduler, workers, quiet)
        raw = None
    idata = to_inference_data(raw, per_subject, spec, pri_obj, hierarchical, subjects,
                              subj_idx, recalls, settings)
    diagnostics(idata, warn=check)
    return idata


def _check_finite_columns(data: pd.DataFrame) -> None:
    """Reject NaN / inf in the numeric identity columns (before anything is compiled)."""
    from ...errors import DataError

    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data: expected a pandas DataFrame in psifr long format, got "
                        f"{type(data).__name__}")
    for col in ("subject", "list", "position", "item_index"):
        if col not in data.columns:
            continue
        v = data[col]
        bad = v.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(v):
            bad = bad | ~np.isfinite(v.to_numpy(dtype=float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"data: column {col!r} must be finite, got {int(bad.sum())} "
                            f"NaN/inf value(s) (first at row {i}: {v.iloc[i]!r})")


def _sample_subjects(data, subjects, variant, pool_size, spec, pri, key, kw, ckpt, fp,
                     scheduler, workers, quiet) -> list[dict[str, np.ndarray]]:
    """Per-subject posteriors on Dask; finished subjects come from ``ckpt``."""
    import jax

    results: dict[int, dict] = {}
    todo = []
    for i, _s in enumerate(subjects):
        path = None if ckpt is None else ckpt / f"subject{i}.npz"
        got = None if path is None else _load_unit(path, fp, (kw["chains"], kw["draws"]))
        if got is None:
            todo.append(i)
        else:
            results[i] = got
    keys = {i: jax.random.fold_in(key, 1000 + i) for i in todo}
    subj_col = data["subject"]
    with make_progress(quiet) as progress:
        task = progress.add_task(f"NUTS {variant} per subject", total=len(subjects),
                                 completed=len(results))
        if len(todo) == 1 and scheduler is None:
            i = todo[0]
            results[i] = _sample_subject_task(data[subj_col == subjects[i]], variant,
                                              pool_size, spec, pri, keys[i], kw)
            if ckpt is not None:
                _save_unit(ckpt / f"subject{i}.npz", results[i], fp)
            progress.advance(task)
        elif todo:
            from ..._scheduler import dask_client, run_tasks

            def done(i, res):
                results[i] = res
                if ckpt is not None:  # written by the client: any cluster works
                    _save_unit(ckpt / f"subject{i}.npz", res, fp)
                progress.advance(task)

            with dask_client(scheduler, workers) as client:
                run_tasks(client, _sample_subject_task,
                          ((i, (data[subj_col == subjects[i]], variant, pool_size, spec, pri,
                                keys[i], kw)) for i in todo), done)
    return [results[i] for i in range(len(subjects))]

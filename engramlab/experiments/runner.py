"""Run directories: execute an experiment, record how to reproduce it, rerun, report.

A run directory ``D`` (``[outputs] dir`` of the config, default ``results/<name>``)::

    D/config.toml        the resolved config: every parameter, grid value and seed explicit
    D/environment.json   Python, platform, engramlab/JAX versions and devices, and every
                         installed distribution with its version (a ``pip freeze``)
    D/run.json           what ran: command, scheduler, per-session timings, points/s
    D/store.json, D/chunks/  the chunk store (see :mod:`engramlab.experiments.store`)
    D/results.nc         the merged result store (dims = grid axes + ``seed``)
    D/figures/*.png|svg  report figures;  D/report.html  the report

:func:`execute` is resumable: run it again on the same config and it reuses the finished
chunks. :func:`rerun` recomputes a run directory from its ``config.toml`` into a fresh
directory and compares the results with the recorded ones.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import clean_tmp, read_json_or_none, save_figure, write_json, write_text
from ..errors import ConfigError, DataError
from .config import (
    SEED_DIM,
    ResolvedExperiment,
    config_to_toml,
    get_model,
    load_config,
    parse_config,
    resolve,
)
from .store import RESULTS, open_results

__all__ = ["RunOutcome", "execute", "run_config", "rerun", "write_run_report",
           "environment", "load_run_config"]


@dataclass
class RunOutcome:
    """Result of :func:`execute`: the run directory, the merged dataset and timings."""

    out_dir: Path
    results: Any
    stats: Any
    report: Path | None


def environment() -> dict[str, Any]:
    """The software environment: versions of Python, engramlab, JAX (+ devices) and of
    every installed distribution (``importlib.metadata``, what ``pip freeze`` lists)."""
    from importlib import metadata

    from .. import __version__

    env: dict[str, Any] = {
        "engramlab": __version__,
        "python": sys.version,
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        import jax

        env["jax"] = jax.__version__
        env["jax_backend"] = jax.default_backend()
        env["jax_devices"] = [str(d) for d in jax.devices()]
        env["jax_enable_x64"] = bool(jax.config.jax_enable_x64)
    except Exception as exc:  # pragma: no cover - jax is a dependency
        env["jax"] = f"unavailable: {exc}"
    pkgs = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            pkgs[name] = dist.version
    env["packages"] = dict(sorted(pkgs.items(), key=lambda kv: kv[0].lower()))
    return env


def execute(res: ResolvedExperiment, *, scheduler: str | None = "inline",
            workers: int | None = None, quiet: bool | None = None,
            report: bool | None = None, command: str | None = None) -> RunOutcome:
    """Run (or resume) the experiment ``res`` in ``res.out_dir``.

    **Arguments:**

    - ``res``: a resolved experiment (:func:`engramlab.experiments.config.load_config`).
    - ``scheduler``: ``"inline"`` (default; no Dask, this process), ``None`` (in-process
      Dask ``LocalCluster``) or a Dask scheduler address ``tcp://host:port``.
    - ``workers``: local Dask workers (with ``scheduler=None``).
    - ``quiet``: no progress bar.
    - ``report``: write ``report.html`` (default: ``[outputs] report`` of the config).
    - ``command``: the command line recorded in ``run.json``.

    **Returns:** :class:`RunOutcome`.
    """
    from .. import __version__
    from .sweep import make_store, run_sweep

    out = res.out_dir
    store = make_store(res)
    store.open()  # refuses a directory that holds a different sweep
    write_text(out / "config.toml", config_to_toml(res))
    write_json(out / "environment.json", environment())
    started = _dt.datetime.now().isoformat(timespec="seconds")
    stats = run_sweep(res, scheduler=scheduler, workers=workers, quiet=quiet, store=store)
    t0 = time.perf_counter()
    ds = store.merge({
        "name": res.config.name, "model": res.config.model, "engramlab_version": __version__,
        "config_toml": config_to_toml(res),
        "description": res.spec.description,
    })
    merge_s = time.perf_counter() - t0
    run_path = out / "run.json"
    record = read_json_or_none(run_path) if run_path.exists() else {"sessions": []}
    if not isinstance(record, dict) or not isinstance(record.get("sessions"), list):
        from .._progress import say

        say(f"{run_path} is corrupt; starting a new session record")
        record = {"sessions": []}
    cs = stats.chunk_seconds
    record.update({"name": res.config.name, "model": res.config.model,
                   "engramlab": __version__, "seeds": res.axes[SEED_DIM],
                   "n_points": stats.n_points, "n_chunks": stats.n_chunks,
                   "chunk_size": res.config.sweep.chunk_size})
    record["sessions"].append({
        "command": command or " ".join(sys.argv), "started": started,
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "scheduler": stats.scheduler, "workers": workers,
        "chunks_computed": stats.computed, "chunks_reused": stats.reused,
        "wall_s": stats.wall_seconds, "merge_s": merge_s,
        "chunk_s_median": float(sorted(cs)[len(cs) // 2]) if cs else None,
        "chunk_s_total": float(sum(cs)),
        "points_per_s": stats.points_per_second if stats.computed else None,
        "worker_versions": stats.worker_versions,
    })
    write_json(run_path, record)
    rep = None
    if report if report is not None else res.config.outputs.report:
        rep = write_run_report(out, quiet=True)
    return RunOutcome(out_dir=out, results=ds, stats=stats, report=rep)


def run_config(path: str | Path, *, out_dir: str | Path | None = None,
               scheduler: str | None = "inline", workers: int | None = None,
               quiet: bool | None = None, report: bool | None = None) -> RunOutcome:
    """Load the TOML config at ``path`` and :func:`execute` it."""
    return execute(load_config(path, out_dir=out_dir), scheduler=scheduler, workers=workers,
                   quiet=quiet, report=report)


def load_run_config(run_dir: str | Path, *, out_dir: str | Path | None = None
                    ) -> ResolvedExperiment:
    """The resolved experiment recorded in ``run_dir/config.toml``."""
    path = Path(run_dir) / "config.toml"
    if not path.exists():
        raise ConfigError(f"{run_dir}: not a run directory (no config.toml)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: the recorded config is corrupt ({exc}); rerun needs "
                          "it intact") from None
    cfg = parse_config(data, source=str(path))
    return resolve(cfg, source=str(path), out_dir=out_dir if out_dir is not None
                   else Path(run_dir))


def rerun(run_dir: str | Path, *, out_dir: str | Path | None = None,
          scheduler: str | None = "inline", workers: int | None = None,
          quiet: bool | None = None) -> tuple[RunOutcome, dict[str, Any]]:
    """Recompute ``run_dir`` from its recorded config into ``out_dir`` (default
    ``run_dir/rerun``) and compare with the recorded results.

    **Returns:** ``(outcome, comparison)``; ``comparison`` has ``identical`` (bitwise
    equal outputs), ``max_abs_diff`` per output and the recorded vs current versions of
    engramlab and JAX. Also written to ``<out_dir>/rerun.json``.
    """
    run_dir = Path(run_dir)
    target = Path(out_dir) if out_dir is not None else run_dir / "rerun"
    res = load_run_config(run_dir, out_dir=target)
    old = open_results(run_dir)
    outcome = execute(res, scheduler=scheduler, workers=workers, quiet=quiet, report=False)
    new = outcome.results
    import numpy as np

    diffs = {}
    identical = True
    for v in res.outputs:
        a, b = np.asarray(old[v].values), np.asarray(new[v].values)
        if a.shape != b.shape:
            raise DataError(f"{run_dir}: recorded output {v!r} has shape {a.shape}, the "
                            f"rerun {b.shape}")
        identical &= bool(np.array_equal(a, b, equal_nan=True))
        diffs[v] = float(np.nanmax(np.abs(a - b))) if a.size else 0.0
    env_old = read_json_or_none(run_dir / "environment.json")
    if not isinstance(env_old, dict):
        env_old = {}
    env_new = environment()
    comparison = {
        "source": str(run_dir), "identical": identical, "max_abs_diff": diffs,
        "versions": {k: {"recorded": env_old.get(k), "now": env_new.get(k)}
                     for k in ("engramlab", "jax", "jax_backend")},
    }
    write_json(target / "rerun.json", comparison)
    return outcome, comparison


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def _plot_output(ds: Any, var: str, spec: Any, fixed: dict[str, Any], ax: Any) -> str:
    """Seed-mean +- s.e.m. of ``var`` against the first grid axis, one line per value of
    the second axis, theory dashed. Returns the caption's description of the slice."""
    import numpy as np

    da = ds[var]
    axes = [d for d in da.dims if d != SEED_DIM]
    note = ""
    if len(axes) > 2:
        sel = {d: ds[d].values[0] for d in axes[2:]}
        da = da.sel(sel)
        note = " Other axes at their first value: " + ", ".join(
            f"{k} = {v}" for k, v in sel.items()) + "."
        axes = axes[:2]
    n_seeds = da.sizes[SEED_DIM]
    mean = da.mean(SEED_DIM)
    sem = da.std(SEED_DIM, ddof=1) / np.sqrt(n_seeds) if n_seeds > 1 else mean * 0
    if not axes:
        ax.plot(ds[SEED_DIM].values, da.values, "o", label="simulation")
        if spec is not None and spec.theory is not None:
            try:
                th = spec.theory(dict(fixed)).get(var)
            except Exception:  # theory is optional decoration
                th = None
            if th is not None:
                ax.axhline(float(np.asarray(th)), ls="--", color="k", lw=1, label="theory")
        ax.set_xlabel("seed")
        ax.set_ylabel(var)
        ax.legend(fontsize=8)
        return note
    x = ds[axes[0]].values
    lines = [(None, mean, sem)] if len(axes) == 1 else [
        (v, mean.sel({axes[1]: v}), sem.sel({axes[1]: v})) for v in ds[axes[1]].values[:8]]
    if len(axes) == 2 and ds.sizes[axes[1]] > 8:
        note += f" First 8 of {ds.sizes[axes[1]]} values of {axes[1]} shown."
    import matplotlib as mpl

    colors = mpl.colormaps["viridis"](np.linspace(0.05, 0.9, len(lines)))
    for j, ((val, m, s), c) in enumerate(zip(lines, colors, strict=True)):
        label = f"{axes[1]} = {val}" if val is not None else "simulation"
        ax.plot(x, m.values, "o-", color=c, label=label, ms=3)
        ax.fill_between(x, (m - s).values, (m + s).values, color=c, alpha=0.25, lw=0)
        if spec is not None and spec.theory is not None:
            p = dict(fixed)
            p[axes[0]] = x
            if val is not None:
                p[axes[1]] = val
            for d in ds.dims:
                if d not in p and d not in (SEED_DIM, "chunk"):
                    p[d] = ds[d].values[0]
            try:
                th = spec.theory(p).get(var)
            except Exception:  # theory is optional decoration
                th = None
            if th is not None:
                ax.plot(x, np.broadcast_to(th, x.shape), "--", color=c, lw=1,
                        label="theory" if j == 0 else None)
    if np.issubdtype(np.asarray(x).dtype, np.number) and np.all(x > 0) and (
            x.max() / x.min() >= 50):
        ax.set_xscale("log")
    ax.set_xlabel(axes[0])
    ax.set_ylabel(var)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return note


def write_run_report(run_dir: str | Path, *, quiet: bool | None = True) -> Path:
    """Write ``run_dir/report.html``: a figure per output (seed mean +- s.e.m. over the
    grid, theory dashed where the model has one), summary and timing tables, the config.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from .report import Figure, Section, Table, write_report

    run_dir = Path(run_dir)
    ds = open_results(run_dir)
    try:
        cfg = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        cfg = {}  # a missing or corrupt record: the report shows what results.nc holds
    run = read_json_or_none(run_dir / "run.json")
    if not isinstance(run, dict):
        run = {}
    clean_tmp(run_dir)
    clean_tmp(run_dir / "figures")
    model = ds.attrs.get("model", cfg.get("model", "?"))
    try:
        spec = get_model(model)
    except ConfigError:
        spec = None
    outputs = [v for v in ds.data_vars if v != "chunk_seconds"]
    fixed = dict(cfg.get("params", {}))
    figures = []
    for var in outputs:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
        note = _plot_output(ds, var, spec, fixed, ax)
        ax.set_title(var)
        save_figure(fig, run_dir / "figures" / var)
        plt.close(fig)
        desc = spec.outputs.get(var, "") if spec is not None else ""
        n_seeds = ds.sizes[SEED_DIM]
        figures.append(Figure(
            path=f"figures/{var}.png", title=var,
            caption=f"{desc}. " + (f"Mean over {n_seeds} seeds, band = standard error of "
                                     "the mean" if n_seeds > 1 else "One seed")
                    + ("; dashed = closed-form theory" if spec and spec.theory else "")
                    + "." + note))
    rows = []
    for var in outputs:
        a = ds[var].values
        rows.append([var, float(np.nanmean(a)), float(np.nanstd(a)), float(np.nanmin(a)),
                     float(np.nanmax(a)), int(np.isnan(a).sum())])
    tables = [Table.from_frame(pd.DataFrame(rows, columns=["output", "mean", "sd", "min",
                                                           "max", "NaN"]),
                               "Outputs over every grid point and seed")]
    sessions = run.get("sessions", [])
    if sessions:
        trows = [[i + 1, s.get("scheduler"), s.get("chunks_computed"), s.get("chunks_reused"),
                  float(s.get("wall_s") or 0.0), float(s.get("chunk_s_median") or 0.0),
                  float(s.get("points_per_s") or 0.0)] for i, s in enumerate(sessions)]
        tables.append(Table.from_frame(pd.DataFrame(trows, columns=[
            "session", "scheduler", "chunks computed", "chunks reused", "wall (s)",
            "median chunk (s)", "points/s"]), "Timings of each session (a resumed sweep has "
            "several)"))
    metrics: dict[str, Any] = {"n_points": int(np.prod([ds.sizes[d] for d in ds[outputs[0]].dims]))
                               if outputs else 0,
                               "n_chunks": int(ds.sizes.get("chunk", 0)),
                               "chunk_seconds_total": float(ds["chunk_seconds"].sum())
                               if "chunk_seconds" in ds else 0.0}
    if spec is not None and spec.theory is not None and outputs:
        grid = {d: ds[d].values for d in ds[outputs[0]].dims if d != SEED_DIM}
        mesh = dict(zip(grid, np.meshgrid(*grid.values(), indexing="ij"), strict=True))
        try:
            th = spec.theory({**fixed, **mesh})
        except Exception:
            th = {}
        trows = []
        for var in outputs:
            if var in th:
                dev = np.abs(ds[var].mean(SEED_DIM).values - th[var])
                trows.append([var, float(np.nanmean(dev)), float(np.nanmax(dev))])
                metrics[f"{var}_max_abs_dev_from_theory"] = float(np.nanmax(dev))
        if trows:
            tables.append(Table.from_frame(pd.DataFrame(trows, columns=[
                "output", "mean |seed mean - theory|", "max |seed mean - theory|"]),
                "Simulation vs closed-form theory over the grid"))
    text = (spec.description if spec else "") + "\n\n" + (
        f"Grid: {', '.join(f'{d} ({ds.sizes[d]})' for d in ds[outputs[0]].dims)}; "
        f"results in {RESULTS} (NetCDF, dims named after the grid axes)." if outputs else "")
    section = Section(key="sweep", title=f"{cfg.get('name', run_dir.name)}: {model}",
                      text=text, figures=figures, metrics=metrics, tables=tables,
                      seconds=float(sum(s.get("wall_s") or 0.0 for s in sessions)))
    meta = {"engramlab": ds.attrs.get("engramlab_version", "?"), "model": model,
            "seeds": f"{ds[SEED_DIM].values.min()}..{ds[SEED_DIM].values.max()}",
            "grid points": metrics["n_points"],
            "wall time (s)": round(section.seconds, 2)}
    return write_report(run_dir, [section], title=f"engramlab sweep: {cfg.get('name', '')}",
                        meta=meta, config=cfg)

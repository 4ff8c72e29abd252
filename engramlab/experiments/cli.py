"""Top-level experiment commands: ``run``, ``sweep``, ``validate``, ``rerun``, ``report``.

:func:`register` adds them to the main ``engramlab`` app. Heavy libraries (JAX, NumPy,
Dask, xarray, matplotlib) are imported inside the commands only, so ``engramlab --help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli import check_scheduler_arg, out_dir

__all__ = ["register"]

_Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (for logs).")]
_Out = Annotated[Path | None, typer.Option("--out", "-o", callback=out_dir,
                                           help="Run directory (overrides [outputs] dir).")]


def _echo_outcome(outcome) -> None:
    from rich.console import Console

    st = outcome.stats
    c = Console()
    c.print(f"{st.n_points} points in {st.n_chunks} chunks: {st.computed} computed, "
            f"{st.reused} reused, {st.wall_seconds:.2f} s ({st.scheduler})")
    c.print(f"results: [bold]{outcome.out_dir / 'results.nc'}[/bold]")
    if outcome.report is not None:
        c.print(f"report: [bold]{outcome.report}[/bold]")


def run(
    config: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
    out: _Out = None,
    quiet: _Quiet = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Run an experiment in this process (chunks one after another; resumes)."""
    from .runner import run_config

    outcome = run_config(config, out_dir=out, scheduler="inline", quiet=quiet,
                         report=False if no_report else None)
    _echo_outcome(outcome)


def sweep(
    config: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", callback=check_scheduler_arg,
        help="Dask scheduler address tcp://HOST:PORT (default: an in-process "
        "LocalCluster).")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1,
                                         help="Workers of the local cluster.")] = 1,
    out: _Out = None,
    quiet: _Quiet = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Run an experiment's grid on Dask, chunk by chunk; a killed sweep resumes."""
    from .runner import run_config

    if scheduler is not None and not scheduler.strip():
        raise typer.BadParameter("empty address", param_hint="--scheduler")
    outcome = run_config(config, out_dir=out, scheduler=scheduler, workers=workers,
                         quiet=quiet, report=False if no_report else None)
    _echo_outcome(outcome)


def validate(
    config: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
) -> None:
    """Check a config (keys, ranges, model) and print the resolved grid."""
    from rich.console import Console

    from .config import load_config

    res = load_config(config)
    c = Console()
    c.print(f"[green]ok[/green]: {config}  model {res.config.model}")
    for k, v in res.axes.items():
        shown = v if len(v) <= 8 else [*v[:3], "...", *v[-2:]]
        c.print(f"  axis {k:<16} {len(v):>6} values  {shown}")
    c.print(f"  fixed {res.fixed}")
    n_chunks = -(-res.size // res.config.sweep.chunk_size)
    c.print(f"  {res.size} points, {n_chunks} chunks of {res.config.sweep.chunk_size}; "
            f"outputs {res.outputs} -> {res.out_dir}")


def rerun(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (has config.toml).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=out_dir,
                                             help="Where to rerun (default DIR/rerun).")] = None,
    quiet: _Quiet = False,
) -> None:
    """Recompute a run from its recorded config and compare with the recorded results."""
    from rich.console import Console

    from .runner import rerun as _rerun

    outcome, cmp = _rerun(run_dir, out_dir=out, quiet=quiet)
    c = Console()
    status = "[green]identical[/green]" if cmp["identical"] else "[yellow]differs[/yellow]"
    c.print(f"rerun of {run_dir} in {outcome.out_dir}: {status}; max |diff| "
            f"{cmp['max_abs_diff']}")
    for k, v in cmp["versions"].items():
        if v["recorded"] != v["now"]:
            c.print(f"  [yellow]{k}: recorded {v['recorded']}, now {v['now']}[/yellow]")
    if not cmp["identical"]:
        raise typer.Exit(code=1)


def report(
    run_dir: Annotated[Path, typer.Argument(help="A finished run or sweep directory.")],
) -> None:
    """Write DIR/report.html (figures, metric tables, timings, the config)."""
    from rich.console import Console

    from .runner import write_run_report

    path = write_run_report(run_dir)
    Console().print(f"report: [bold]{path}[/bold]")


def register(app: typer.Typer) -> None:
    """Add ``run``, ``sweep``, ``validate``, ``rerun`` and ``report`` to ``app``."""
    for fn in (run, sweep, validate, rerun, report):
        app.command(name=fn.__name__)(fn)

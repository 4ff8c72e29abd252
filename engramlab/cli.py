"""The ``engramlab`` command line (typer + rich), thin over the library.

Start-up is kept fast: this module imports no JAX/NumPy at top level. Each model
family adds a sub-command group by defining ``app = typer.Typer()`` in
``engramlab/<family>/cli.py`` (which must also import heavy libraries only inside its
commands); :data:`engramlab.experiments.demo.FAMILIES` lists the families, and
``experiments`` contributes top-level commands through ``register(app)``.

Every command follows the CLI contract of :mod:`engramlab._cli` (exit 0, or one line
``error: <argument>: ...`` on stderr and exit 2; never a traceback): the root group is
:class:`engramlab._cli.GuardedGroup`, and the family commands use its argument checks.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from ._cli import GuardedGroup, contract, out_dir

_PKG = Path(__file__).parent

# --------------------------------------------------------------------------------------
# the app
# --------------------------------------------------------------------------------------
app = typer.Typer(
    cls=GuardedGroup,
    name="engramlab",
    help="Simulate, fit and visualise associative memory (attractor networks, CMR, "
    "softmax synaptic dynamics, EEG phase locking).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

_FAMILY_HELP = {
    "memory": "Linear associative memory (seed 002).",
    "attractor": "Emotional attractor networks (seed 000).",
    "softmax": "Softmax synaptic dynamics (seed 003, Lotito 2025).",
    "cmr": "Context Maintenance and Retrieval model of free recall.",
    "eeg": "Gamma-band phase locking of EEG (seed 000's protocol).",
}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"engramlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """engramlab command line."""


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.",
                                      callback=out_dir)] = Path("results/demo"),
    seed: Annotated[int, typer.Option("--seed", "-s", help="Master random seed.")] = 0,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only these families (repeatable)."),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Reuse sections finished in OUT.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run all model families on small data; write figures, metrics and report.html."""
    from rich.console import Console

    from .experiments.demo import FAMILIES, run_demo

    if only:
        bad = [f for f in only if f not in FAMILIES]
        if bad:
            raise typer.BadParameter(f"unknown family {bad}; choose from {list(FAMILIES)}",
                                     param_hint="--only")
    report, sections = run_demo(out, seed=seed, quiet=quiet, only=only, resume=resume)
    console = Console()
    for s in sections:
        status = "[red]FAILED[/red]" if s.error else "[green]ok[/green]"
        console.print(f"  {s.key:<10} {status}  {len(s.figures)} figures  {s.seconds:.1f} s")
    console.print(f"report: [bold]{report}[/bold]")
    failed = [s for s in sections if s.error]
    if failed:
        for s in failed:
            console.print(f"[red]{s.key} failed:[/red]\n{s.error}")
        raise typer.Exit(code=1)


def _add_family_apps() -> None:
    for fam, help_text in _FAMILY_HELP.items():
        # check the file, not find_spec: that would import the (JAX-using) package
        if not (_PKG / fam / "cli.py").exists():
            continue
        mod = importlib.import_module(f"engramlab.{fam}.cli")
        app.add_typer(mod.app, name=fam, help=help_text)
    if (_PKG / "experiments" / "cli.py").exists():
        importlib.import_module("engramlab.experiments.cli").register(app)


_add_family_apps()


def main() -> None:
    """Console-script entry point: runs the app under the CLI contract.

    An interrupt (exit 130) leaves the process at once with ``os._exit``: JAX's worker
    threads may still be inside a compiled computation, and finalising the interpreter
    under them can crash (SIGSEGV) after the message is printed. Nothing is lost: every
    file is written atomically and finished sampler chains are already checkpointed."""
    import os
    import sys
    import warnings

    def one_line(message, category, filename, lineno, line=None) -> str:
        # a command-line user sees what to do, not the library's source line
        return f"warning ({category.__name__}): {message}\n"

    warnings.formatwarning = one_line
    try:
        with contract():
            app()
    except KeyboardInterrupt:  # outside the command (start-up): same message, same code
        sys.stderr.write("error: interrupted; nothing half-written was left behind\n")
        sys.stderr.flush()
        os._exit(130)
    except SystemExit as exc:
        if exc.code == 130:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise


if __name__ == "__main__":  # pragma: no cover
    main()

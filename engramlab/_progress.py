"""Progress reporting, in one place: rich progress bars, silenced by ``quiet``.

Set the environment variable ``ENGRAMLAB_QUIET=1`` (or pass ``quiet=True``) for logs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["track", "is_quiet", "make_progress", "say"]


def say(message: str) -> None:
    """Tell the user about a repaired fault (a chunk or file recomputed) on stderr, one
    line, also when progress is quiet."""
    import sys

    print(f"engramlab: {message}", file=sys.stderr, flush=True)


def is_quiet(quiet: bool | None = None) -> bool:
    """Whether progress output is disabled (argument wins over ``ENGRAMLAB_QUIET``)."""
    if quiet is not None:
        return quiet
    return os.environ.get("ENGRAMLAB_QUIET", "") not in ("", "0", "false", "False")


def make_progress(quiet: bool | None = None):
    """A configured :class:`rich.progress.Progress` (disabled when quiet)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        disable=is_quiet(quiet),
        transient=False,
    )


def track(items: Iterable[T], description: str, *, total: int | None = None,
          quiet: bool | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (no output when quiet)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress(quiet) as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)

"""The demo: every model family runs on small data and writes figures, metrics, the
arrays behind every figure (NetCDF) and ``report.html``.

Adding a section is one function. A model family ``engramlab.<family>`` contributes a
section by defining, in ``engramlab/<family>/demo.py``::

    def demo_section(ctx: DemoContext) -> Section: ...

and is listed in :data:`FAMILIES`. The function draws its figures with
``ctx.figure(fig, name, caption)``, stores the arrays they were drawn from with
``ctx.save_arrays(name, dataset)``, uses ``ctx.key(name)`` / ``ctx.rng(name)`` for
randomness, and returns a :class:`~engramlab.experiments.report.Section`.

Sections are computed one after the other, each written atomically to
``<out>/<key>/section.json`` when done, with the SHA-256 of every file the section
wrote (figures, NetCDF) and of its own content; ``resume=True`` reuses a finished
section only if its manifest and all its files still match their checksums, and
recomputes it otherwise (saying why on stderr), so an interrupted or damaged demo
continues where it stopped. Orphaned ``*.tmp`` files of killed writes are removed.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
import platform
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import clean_tmp, save_figure, sha256_file, write_json, write_with
from .._progress import make_progress
from ..errors import DataError
from .report import Figure, Section, load_section, save_section, write_report

_PKG = Path(__file__).resolve().parents[1]

__all__ = ["FAMILIES", "DemoContext", "run_demo", "discover_sections"]

#: Model families, in report order. Each may provide ``engramlab/<family>/demo.py``.
FAMILIES: tuple[str, ...] = ("memory", "attractor", "softmax", "cmr", "cmr_bayes", "eeg")
#: Sections that are not a family's ``demo.py``: section key -> module.
EXTRA_SECTIONS = {"cmr_bayes": "engramlab.cmr.demo_inference"}


@dataclass
class DemoContext:
    """What a demo section gets: where to write, the seed, and helpers.

    **Fields:** ``out_dir`` (the demo folder), ``section`` (this section's key; its
    files go in ``out_dir/section``), ``seed`` (int), ``quiet`` (no progress bars).
    """

    out_dir: Path
    section: str
    seed: int = 0
    quiet: bool = False
    #: every file written through :meth:`figure` / :meth:`save_arrays` (checksummed)
    written: list[Path] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        d = self.out_dir / self.section
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _stream(self, name: str) -> int:
        return (self.seed * 1_000_003 + zlib.crc32(f"{self.section}/{name}".encode())) % 2**31

    def key(self, name: str):
        """A JAX PRNG key derived from the demo seed, the section and ``name``."""
        import jax

        return jax.random.key(self._stream(name))

    def rng(self, name: str):
        """A NumPy ``Generator`` derived from the demo seed, the section and ``name``."""
        import numpy as np

        return np.random.default_rng(self._stream(name))

    def figure(self, fig: Any, name: str, caption: str, title: str = "") -> Figure:
        """Save ``fig`` as PNG and SVG under this section, close it, return a Figure."""
        import matplotlib.pyplot as plt

        self.written += save_figure(fig, self.dir / name)
        plt.close(fig)
        return Figure(path=f"{self.section}/{name}.png", caption=caption, title=title)

    def save_arrays(self, name: str, data: Any) -> Path:
        """Write an ``xarray.Dataset`` (or dict of DataArrays) to ``<section>/<name>.nc``."""
        import xarray as xr

        ds = data if isinstance(data, xr.Dataset) else xr.Dataset(data)
        path = write_with(self.dir / f"{name}.nc",
                          lambda p: ds.to_netcdf(p, engine="h5netcdf"))
        self.written.append(path)
        return path

    def progress(self):
        """A rich progress object (disabled when quiet), for long loops in a section."""
        return make_progress(self.quiet)


SectionFn = Callable[[DemoContext], Section]


def discover_sections(families: tuple[str, ...] = FAMILIES) -> list[tuple[str, SectionFn]]:
    """The ``(family, demo_section)`` pairs of every family that provides a demo."""
    found = []
    for fam in families:
        if fam not in EXTRA_SECTIONS and not (_PKG / fam / "demo.py").exists():
            continue
        mod = importlib.import_module(EXTRA_SECTIONS.get(fam, f"engramlab.{fam}.demo"))
        found.append((fam, mod.demo_section))
    return found


def _reusable(manifest: Path, out_dir: Path, seed: int) -> Section | None:
    """The finished section in ``manifest`` if it and every file it lists are intact
    (and it ran with ``seed``); otherwise None, with the reason on stderr."""
    from .._progress import say

    where = manifest.parent.name
    try:
        sec = load_section(manifest)
    except DataError as exc:
        say(f"demo section {where}: {exc}; recomputing it")
        return None
    if sec.error is not None or sec.metrics.get("_seed") != seed:
        return None
    if not sec.files:
        say(f"demo section {where}: {manifest} records no file checksums; recomputing it")
        return None
    for rel, digest in sec.files.items():
        path = out_dir / rel
        if not path.is_file():
            say(f"demo section {where}: {path} is missing; recomputing the section")
            return None
        if sha256_file(path) != digest:
            say(f"demo section {where}: {path} does not match its checksum (truncated, "
                "edited or corrupt); recomputing the section")
            return None
    return sec


def run_demo(out_dir: str | Path = "results/demo", *, seed: int = 0, quiet: bool = False,
             only: list[str] | None = None, resume: bool = False) -> tuple[Path, list[Section]]:
    """Run every demo section, then write ``metrics.json`` and ``report.html``.

    **Arguments:**

    - ``out_dir``: output folder (created).
    - ``seed``: master seed; every section derives its own streams from it.
    - ``quiet``: no progress bars.
    - ``only``: restrict to these families.
    - ``resume``: reuse sections already finished in ``out_dir`` (same seed).

    **Returns:** ``(report_path, sections)``. A section that raises is reported in the
    page (with its traceback) and in ``metrics.json``; the caller decides the exit code.
    """
    from .. import __version__

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_tmp(out_dir)
    fams = tuple(f for f in FAMILIES if only is None or f in only)
    sections: list[Section] = []
    t_start = time.perf_counter()
    with make_progress(quiet) as progress:
        task = progress.add_task("demo", total=len(fams))
        for fam, fn in discover_sections(fams):
            progress.update(task, description=f"demo: {fam}")
            manifest = out_dir / fam / "section.json"
            clean_tmp(out_dir / fam)
            if resume and manifest.exists():
                sec = _reusable(manifest, out_dir, seed)
                if sec is not None:
                    sections.append(sec)
                    progress.advance(task)
                    continue
            ctx = DemoContext(out_dir=out_dir, section=fam, seed=seed, quiet=quiet)
            t0 = time.perf_counter()
            try:
                sec = fn(ctx)
            except Exception:  # report it, keep the other sections
                sec = Section(key=fam, title=fam, error=traceback.format_exc())
            sec.seconds = time.perf_counter() - t0
            sec.metrics["_seed"] = seed
            sec.files = {p.resolve().relative_to(out_dir.resolve()).as_posix():
                         sha256_file(p) for p in dict.fromkeys(ctx.written) if p.exists()}
            save_section(sec, manifest)
            sections.append(sec)
            progress.advance(task)
    total = time.perf_counter() - t_start
    metrics = {s.key: {k: v for k, v in s.metrics.items() if k != "_seed"} for s in sections}
    meta = {
        "engramlab": __version__,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "wall time (s)": round(total, 1),
        "sections": ", ".join(f"{s.key} ({s.seconds:.1f} s)" for s in sections),
    }
    write_json(out_dir / "metrics.json", {"meta": meta, "sections": metrics,
                                          "errors": {s.key: s.error for s in sections
                                                     if s.error}})
    report = write_report(out_dir, sections, title="engramlab demo", meta=meta)
    return report, sections

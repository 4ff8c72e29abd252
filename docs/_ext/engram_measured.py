"""Figures quoted in the guide, read from result files when the site is built.

Nothing measured is typed into the prose. The guide writes

- ``{bench}`softmax_appendix.ratio:.0f```: field ``ratio`` of
  ``benchmarks/results/softmax_appendix.json`` (dotted paths reach nested fields; the
  part after ``:`` is a Python format spec, default ``.3g``);
- ``{demo}`softmax.max_abs_error_measured_norms:.1e```: a field of the demo's
  ``results/demo/metrics.json`` (``sections.<family>.<field>``);
- ``{measured-source} bench:softmax_appendix`` (or ``demo``), a directive that states
  where the numbers above came from: file, date, machine, Python/JAX versions, quick
  or full run;
- ``{measured-table}``, a directive that tabulates every benchmark result found;
- ``{measured-figure} bench:NAME FILE.png`` (options ``:alt:``, ``:width:``; the content
  is the caption), a figure that benchmark ``NAME`` wrote to
  ``benchmarks/results/NAME/FILE.png``, shown from there (the site copies it; nothing is
  copied into ``docs/``).

**Which run.** Every figure comes from the newest of two runs: the local one
(``benchmarks/results/``, ``results/demo/``, written by ``make bench`` / ``make demo``)
and the **reference run** committed in ``benchmarks/reference/`` (``bench/NAME.json`` and
the images beside them, ``demo/metrics.json``, ``RUN.json``: date, commit, machine;
refreshed by ``make reference``), compared by the dates the files record. So a fresh
clone shows the reference run's real, dated numbers, and a newer local run replaces them
file by file. The source notes say which run each figure is from.

When neither run has a file, the figure shows a dash titled "not measured" and the
source note says so and which command produces it: the build never invents a number, and
it does not fail for it. A ``measured-figure`` whose benchmark has no result file (or no
such image: a run that stopped before writing its JSON) is a "not measured" note with
the command instead of the image. A field that is missing from a file that *does* exist
is a build warning (an error under ``-W``): that is a typo or a renamed benchmark field;
so is an image missing beside an existing result file.

``ENGRAMLAB_BENCH_RESULTS`` / ``ENGRAMLAB_DEMO_DIR`` / ``ENGRAMLAB_REFERENCE_RUN``
point the build at other folders.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]


def bench_dir() -> Path:
    return Path(os.environ.get("ENGRAMLAB_BENCH_RESULTS", ROOT / "benchmarks" / "results"))


def demo_dir() -> Path:
    return Path(os.environ.get("ENGRAMLAB_DEMO_DIR", ROOT / "results" / "demo"))


def reference_dir() -> Path:
    return Path(os.environ.get("ENGRAMLAB_REFERENCE_RUN", ROOT / "benchmarks" / "reference"))


class Source(NamedTuple):
    """A result file and the run it belongs to (``"local"`` or ``"reference"``)."""

    path: Path
    data: dict
    origin: str

    @property
    def folder(self) -> Path:
        return self.path.parent


def _stamp(data: dict, path: Path) -> str:
    """The run's date (ISO, UTC) as the file records it, else the file's time."""
    date = data.get("date") or data.get("meta", {}).get("date")
    if date:
        return str(date)
    ts = path.stat().st_mtime
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat(timespec="seconds")


def _newest(*candidates: tuple[Path, str]) -> Source | None:
    """The candidate file with the latest recorded date (the first one on a tie)."""
    found = [Source(p, d, origin) for p, origin in candidates if (d := _load(p)) is not None]
    if not found:
        return None
    return max(reversed(found), key=lambda s: _dt.datetime.fromisoformat(_stamp(s.data,
                                                                                  s.path)))


def bench_source(name: str) -> Source | None:
    """Benchmark ``name``'s result: the local run's or the reference run's, the newer."""
    return _newest((bench_dir() / f"{name}.json", "local"),
                   (reference_dir() / "bench" / f"{name}.json", "reference"))


def demo_source() -> Source | None:
    """The demo's ``metrics.json``: the local run's or the reference run's, the newer."""
    return _newest((demo_dir() / "metrics.json", "local"),
                   (reference_dir() / "demo" / "metrics.json", "reference"))


def _reference_note(src: Source) -> str:
    if src.origin != "reference":
        return ""
    run = _load(reference_dir() / "RUN.json") or {}
    commit = f", commit {run['commit'][:10]}" if run.get("commit") else ""
    return (f" This is the reference run committed in `{_shown(reference_dir())}`{commit} "
            "(`make reference` refreshes it; a newer `make bench` / `make demo` run "
            "replaces it).")


def _load(path: Path) -> dict | None:
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def _file_date(path: Path) -> str:
    ts = path.stat().st_mtime
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat(timespec="seconds") + " (file time)"


def _lookup(data: Any, dotted: list[str]) -> Any:
    for part in dotted:
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise KeyError(".".join(dotted))
    return data


def _format(value: Any, spec: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if spec.endswith("d") and isinstance(value, float) and value.is_integer():
        value = int(value)
    return format(value, spec or ".3g")


MISSING = "—"


def _missing(rawtext: str, hint: str) -> nodes.Node:
    """The figure's place holder: a dash, with the reason as a hover title."""
    title = html.escape(f"not measured: {hint}")
    return nodes.raw(rawtext, f'<abbr class="engram-missing" title="{title}">{MISSING}</abbr>',
                     format="html")


def _source_and_spec(text: str) -> tuple[list[str], str]:
    path, _, spec = text.partition(":")
    return path.strip().split("."), spec.strip()


def bench_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    parts, spec = _source_and_spec(text)
    src = bench_source(parts[0])
    if src is None:
        logger.info(f"[engram_measured] no result for {parts[0]}: '{text}' renders as not "
                    "measured")
        return [_missing(rawtext, f"run `make bench` to write {parts[0]}.json")], []
    path, data = src.path, src.data
    try:
        value = _lookup(data, parts[1:])
    except KeyError:
        msg = inliner.reporter.warning(f"benchmark field {text!r} not found in {path}",
                                       line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return [nodes.inline(rawtext, _format(value, spec), classes=["engram-measured"])], []


def demo_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    parts, spec = _source_and_spec(text)
    src = demo_source()
    if src is None:
        logger.info(f"[engram_measured] no demo metrics: '{text}' renders as not measured")
        return [_missing(rawtext, "run `make demo` to write results/demo/metrics.json")], []
    path, data = src.path, src.data
    try:
        value = _lookup(data, ["sections", *parts])
    except KeyError:
        msg = inliner.reporter.warning(f"demo metric {text!r} not found in {path}",
                                       line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return [nodes.inline(rawtext, _format(value, spec), classes=["engram-measured"])], []


def _machine(m: dict) -> str:
    bits = [f"{m.get('machine', '?')}", f"{m.get('cpus', '?')} CPUs",
            f"Python {m.get('python', '?')}"]
    if "jax" in m:
        bits.append(f"JAX {m['jax']} ({m.get('jax_backend', '?')})")
    return ", ".join(bits)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _para(text: str, classes: list[str]) -> nodes.paragraph:
    """A paragraph in which `backticked` words are shown as code."""
    para = nodes.paragraph("", "", classes=classes)
    for i, part in enumerate(text.split("`")):
        if part:
            para += nodes.literal(part, part) if i % 2 else nodes.Text(part)
    return para


class MeasuredSource(Directive):
    """``measured-source`` with ``bench:NAME`` (one or more) or ``demo``."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        out = []
        for arg in self.arguments[0].split():
            kind, _, name = arg.partition(":")
            if kind == "bench":
                src = bench_source(name)
                if src is None:
                    path = bench_dir() / f"{name}.json"
                    text = (f"Benchmark {name}: no result file ({_shown(path)} "
                            "is written by `make bench`, or `python -m benchmarks "
                            f"{name}`) in this build: its figures above are not measured and show "
                            f"\"{MISSING}\".")
                    out.append(_para(text, ["engram-source", "engram-missing"]))
                    continue
                path, data = src.path, src.data
                run = "quick run (`--quick`)" if data.get("quick") else "full run"
                date = data.get("date") or _file_date(path)
                text = (f"Benchmark {name}: {run} of {date} on "
                        f"{_machine(data.get('machine', {}))}; "
                        f"file {_shown(path)}." + _reference_note(src))
                out.append(_para(text, ["engram-source"]))
            elif kind == "demo":
                src = demo_source()
                if src is None:
                    text = ("Demo figures: no results/demo/metrics.json in this build "
                            "(`make demo` writes it): they are not measured and show "
                            f"\"{MISSING}\".")
                    out.append(_para(text, ["engram-source", "engram-missing"]))
                    continue
                path, data = src.path, src.data
                meta = data.get("meta", {})
                date = meta.get("date") or _file_date(path)
                cpus = f", {meta['cpus']} CPUs" if meta.get("cpus") else ""
                text = (f"Demo figures: `engramlab demo` (seed {meta.get('seed', '?')}, "
                        f"engramlab {meta.get('engramlab', '?')}) of {date} on "
                        f"{meta.get('machine', '?')}{cpus}, Python {meta.get('python', '?')}; "
                        f"file {_shown(path)}." + _reference_note(src))
                out.append(_para(text, ["engram-source"]))
            else:
                raise self.error(f"measured-source: expected bench:NAME or demo, got {arg!r}")
        return out


class MeasuredTable(Directive):
    """Every benchmark result in the results folder, as one table."""

    def run(self):
        names = sorted({p.stem for d in (bench_dir(), reference_dir() / "bench")
                        for p in d.glob("*.json") if p.name != "summary.json"})
        found = [(n, src) for n in names if (src := bench_source(n)) is not None]
        if not found:
            return [_para("No benchmark results in this build: run `make bench`, then "
                          "`make docs`.", ["engram-missing"])]
        table = nodes.table(classes=["engram-measured-table"])
        cols = ["benchmark", "ratio", "ours (s)", "baseline (s)", "baseline", "run",
                "machine", "source"]
        tgroup = nodes.tgroup(cols=len(cols))
        table += tgroup
        for _ in cols:
            tgroup += nodes.colspec(colwidth=1)
        head = nodes.thead()
        row = nodes.row()
        for c in cols:
            row += nodes.entry("", nodes.paragraph(text=c))
        head += row
        tgroup += head
        body = nodes.tbody()
        for name, src in found:
            d, p = src.data, src.path
            run = ("quick " if d.get("quick") else "full ") + (d.get("date") or _file_date(p))
            vals = [name, _format(d.get("ratio", "—"), ".3g"),
                    _format(d.get("ours_s", "—"), ".3g"),
                    _format(d.get("baseline_s", "—"), ".3g"), str(d.get("baseline", "—")),
                    run, _machine(d.get("machine", {})),
                    "reference run" if src.origin == "reference" else "local run"]
            row = nodes.row()
            for v in vals:
                row += nodes.entry("", nodes.paragraph(text=v))
            body += row
        tgroup += body
        return [table]


class MeasuredFigure(Directive):
    """``measured-figure`` ``bench:NAME FILE``: an image a benchmark wrote into
    ``<results>/NAME/``, with the content as its caption, or a "not measured" note."""

    required_arguments = 2
    has_content = True
    option_spec = {"alt": directives.unchanged,
                   "width": directives.length_or_percentage_or_unitless}

    def run(self):
        kind, _, name = self.arguments[0].partition(":")
        if kind != "bench" or not name:
            raise self.error(f"measured-figure: expected bench:NAME, got {self.arguments[0]!r}")
        fname = self.arguments[1]
        src = bench_source(name)
        json_path = src.path if src else bench_dir() / f"{name}.json"
        img = json_path.parent / name / fname
        alt = self.options.get("alt", fname)
        if src is None or not img.is_file():
            if src is not None:  # a finished run that lacks the image: a typo
                return [self.state.document.reporter.warning(
                    f"measured-figure: {_shown(img)} not found beside {_shown(json_path)}",
                    line=self.lineno)]
            logger.info(f"[engram_measured] {json_path} not found: figure {fname} renders "
                        "as not measured")
            text = (f"Figure not measured in this build ({alt}): `{_shown(img)}` is written "
                    f"by `python -m benchmarks {name}` (or `make bench`).")
            return [_para(text, ["engram-source", "engram-missing"])]
        env = self.state.document.settings.env
        docdir = Path(env.doc2path(env.docname)).parent
        uri = Path(os.path.relpath(img.resolve(), docdir.resolve())).as_posix()
        image = nodes.image(uri=uri, alt=alt)
        if "width" in self.options:
            image["width"] = self.options["width"]
        figure = nodes.figure("", image)
        if self.content:
            node = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, node)
            first = node[0] if len(node) else None
            if isinstance(first, nodes.paragraph):
                figure += nodes.caption(first.rawsource, "", *first.children)
                node.remove(first)
            if len(node):
                figure += nodes.legend("", *node.children)
        return [figure]


def setup(app):
    app.add_role("bench", bench_role)
    app.add_role("demo", demo_role)
    app.add_directive("measured-source", MeasuredSource)
    app.add_directive("measured-table", MeasuredTable)
    app.add_directive("measured-figure", MeasuredFigure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

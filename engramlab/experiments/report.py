"""Static HTML reports: every figure with its caption, metrics as tables, the config.

A report is built from :class:`Section` objects. A section is what one model family
contributes (its figures, metrics, tables and explanatory text). The page is plain
static HTML with images referenced by relative path, so it opens offline from the file
system and can be zipped and shared.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import read_json_or_none, to_jsonable, write_json, write_text

__all__ = ["Figure", "Table", "Section", "write_report", "load_section", "save_section"]


@dataclass
class Figure:
    """A figure file (path relative to the report folder) with its caption."""

    path: str
    caption: str
    title: str = ""


@dataclass
class Table:
    """A small table: a caption and a CSV file (relative path) or inline records."""

    caption: str
    columns: list[str]
    rows: list[list[Any]]

    @classmethod
    def from_frame(cls, df: Any, caption: str, *, index: bool = False,
                   float_fmt: str = "{:.4g}") -> Table:
        """Build from a pandas DataFrame (numbers formatted with ``float_fmt``)."""
        frame = df.reset_index() if index else df
        rows = []
        for rec in frame.itertuples(index=False):
            rows.append([float_fmt.format(v) if isinstance(v, float) else v for v in rec])
        return cls(caption=caption, columns=[str(c) for c in frame.columns], rows=rows)


@dataclass
class Section:
    """One part of a report (usually one model family).

    **Fields:**

    - ``key``: short identifier (folder name, metrics key), e.g. ``"attractor"``.
    - ``title``: heading shown in the report.
    - ``text``: explanatory paragraphs (plain text; blank lines separate paragraphs).
    - ``figures``: :class:`Figure` list, in display order.
    - ``metrics``: JSON-serialisable key numbers, merged into ``metrics.json``.
    - ``tables``: :class:`Table` list.
    - ``seconds``: wall time spent computing the section.
    - ``error``: set when the section failed (the report shows it).
    - ``files``: every file the section wrote (path relative to the demo folder) ->
      its SHA-256; a resumed demo reuses the section only if they all still match.
    """

    key: str
    title: str
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)


def _digest(d: dict[str, Any]) -> str:
    text = json.dumps({k: v for k, v in d.items() if k != "sha256"}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def save_section(section: Section, path: Path) -> None:
    """Write a section manifest (JSON) atomically, so a demo can resume. It carries the
    SHA-256 of its own content (``sha256``), so an edited manifest is detected."""
    d = to_jsonable(section.__dict__ | {
        "figures": [f.__dict__ for f in section.figures],
        "tables": [t.__dict__ for t in section.tables],
    })
    d["sha256"] = _digest(d)
    write_json(path, d)


def load_section(path: Path) -> Section:
    """Read a manifest written by :func:`save_section`.

    **Raises:** :class:`~engramlab.errors.DataError` when it is missing, truncated, not
    JSON, not a section, or does not match its own checksum.
    """
    from ..errors import DataError

    d = read_json_or_none(path)
    if not isinstance(d, dict):
        raise DataError(f"{path}: missing, truncated or not JSON")
    if d.get("sha256") != _digest(d):
        raise DataError(f"{path}: does not match its checksum (edited or corrupt)")
    d.pop("sha256")
    try:
        d["figures"] = [Figure(**f) for f in d.get("figures", [])]
        d["tables"] = [Table(**t) for t in d.get("tables", [])]
        return Section(**d)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: not a section manifest ({exc})") from None


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444;padding-bottom:.2em}
h2{margin-top:2.2em;border-bottom:1px solid #bbb}
nav ul{columns:2}
figure{margin:1.2em 0;padding:.6em;border:1px solid #ddd;border-radius:6px;background:#fafafa}
figure img{max-width:100%;height:auto;display:block;margin:auto}
figcaption{font-size:.92em;color:#333;margin-top:.4em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#eee}
td:first-child,th:first-child{text-align:left}
.err{background:#fee;border:1px solid #c00;padding:.6em;white-space:pre-wrap;font-family:monospace}
.meta{color:#555;font-size:.9em}
pre{background:#f4f4f4;padding:.6em;overflow-x:auto}
"""


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    return "\n".join(f"<p>{html.escape(p)}</p>" for p in parts)


def _metrics_table(metrics: dict[str, Any]) -> str:
    flat: list[tuple[str, Any]] = []

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(obj, list) and len(obj) > 8:
            flat.append((prefix, f"[{len(obj)} values]"))
        else:
            flat.append((prefix, obj))

    walk("", to_jsonable(metrics))
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in flat
    )
    return f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in t.rows
    )
    return (f"<table><caption>{html.escape(t.caption)}</caption><tr>{head}</tr>{body}</table>")


def write_report(out_dir: str | Path, sections: list[Section], *, title: str = "engramlab report",
                 meta: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> Path:
    """Write ``out_dir/report.html`` from ``sections``; returns its path.

    Figures are referenced by their paths relative to ``out_dir``. ``meta`` (version,
    seed, timings, ...) and ``config`` (the resolved run configuration) are shown at the
    top and bottom of the page.
    """
    out_dir = Path(out_dir)
    meta = dict(meta or {})
    meta.setdefault("generated", _dt.datetime.now().isoformat(timespec="seconds"))
    nav = "".join(
        f'<li><a href="#{html.escape(s.key)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    body = []
    for s in sections:
        body.append(f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>')
        body.append(f'<p class="meta">computed in {s.seconds:.1f} s</p>')
        if s.error:
            body.append(f'<div class="err">This section failed:\n{html.escape(s.error)}</div>')
        body.append(_paragraphs(s.text))
        for i, f in enumerate(s.figures, 1):
            cap = f"<b>{html.escape(f.title)}.</b> " if f.title else ""
            body.append(
                f'<figure><img src="{html.escape(f.path)}" alt="{html.escape(f.title or f.path)}"'
                f' loading="eager"><figcaption>Figure {html.escape(s.key)}.{i}. {cap}'
                f"{html.escape(f.caption)}</figcaption></figure>"
            )
        for t in s.tables:
            body.append(_table_html(t))
        if s.metrics:
            body.append("<h3>Key metrics</h3>" + _metrics_table(s.metrics))
        body.append("</section>")
    meta_rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in meta.items()
    )
    cfg = ""
    if config:
        cfg = ("<h2>Configuration</h2><pre>"
               + html.escape(json.dumps(to_jsonable(config), indent=2)) + "</pre>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body><h1>{html.escape(title)}</h1>
<table class="meta">{meta_rows}</table>
<nav><h3>Contents</h3><ul>{nav}</ul></nav>
{''.join(body)}
{cfg}
</body></html>
"""
    return write_text(out_dir / "report.html", page)

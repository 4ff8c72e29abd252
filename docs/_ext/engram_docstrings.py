"""Render engramlab's equinox-style docstring sections in the API reference.

Our docstrings mark their sections with a bold label, either as a block::

    **Arguments:**

    - ``x``: ...

or inline (``**Arguments:** ``x`` of shape ... **Returns:** the Axes.``). Plain reST would
show the label as bold text glued into a paragraph. This ``autodoc-process-docstring``
hook turns every label into a rubric (a small section heading, styled in
``_static/engramlab.css``) and starts the following text as its own paragraph, so
"Arguments", "Returns", "Raises", ... read as sections, as in equinox's own docs. The
docstrings themselves are not rewritten.

Like Markdown, an indented block after a blank line (our equations:
``S_mu(t) = [e xi.eta + ...] / (|eta| ...)``) is shown as a literal block, so its
characters are never read as reST markup.
"""

from __future__ import annotations

import importlib
import re

from sphinx.util import logging

logger = logging.getLogger(__name__)

SECTIONS = ("Arguments", "Returns", "Raises", "Fields", "Yields", "Attributes",
            "Example", "Examples", "Notes", "Warning", "Warnings")
LABEL = re.compile(r"\*\*(" + "|".join(SECTIONS) + r"):\*\*")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def literal_blocks(lines: list[str]) -> list[str]:
    """Mark each indented block that follows a paragraph as a literal block.

    A block counts when it is preceded by a blank line and indented at least four
    columns deeper than the paragraph before it, which is not already a directive or
    a ``::`` paragraph (nested list paragraphs are indented by two and stay as they are).
    """
    out: list[str] = []
    para_indent = None  # indentation of the current / last paragraph's first line
    para_literal = False  # last paragraph introduces a literal block or is a directive
    blank_before = True
    in_block = None  # indentation of the literal block being copied
    for line in lines:
        if not line.strip():
            out.append(line)
            blank_before = True
            continue
        ind = _indent(line)
        if in_block is not None:
            if ind >= in_block:
                out.append(line)
                blank_before = False
                continue
            in_block = None
        if (blank_before and para_indent is not None and not para_literal
                and ind >= para_indent + 4):
            out.extend([" " * para_indent + "::", ""])
            out.append(line)
            in_block = para_indent + 1
            blank_before = False
            continue
        if blank_before:
            para_indent = ind
            stripped = line.strip()
            para_literal = stripped.startswith("..")
        if line.rstrip().endswith("::"):
            para_literal = True
        out.append(line)
        blank_before = False
    return out


def convert(lines: list[str]) -> list[str]:
    """Return ``lines`` with every section label replaced by a ``rubric`` directive."""
    lines = literal_blocks(lines)
    out: list[str] = []
    in_literal = False
    for line in lines:
        stripped = line.strip()
        if in_literal and stripped and not line.startswith((" ", "\t")):
            in_literal = False
        if stripped.endswith("::"):
            in_literal = True
        if in_literal or not LABEL.search(line):
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        pos = 0
        rest = line
        for m in LABEL.finditer(line):
            before = line[pos:m.start()].strip()
            if before:
                out.append(indent + before if pos == 0 else indent + before)
            if out and out[-1].strip():
                out.append("")
            out.extend([f"{indent}.. rubric:: {m.group(1)}", f"{indent}   :class: engram-section",
                        ""])
            pos = m.end()
            rest = line[pos:]
        if rest.strip():
            out.append(indent + rest.strip())
    return out


def _process(app, what, name, obj, options, lines):  # noqa: ARG001 - Sphinx signature
    if what in ("function", "class", "exception", "method", "module") and not any(
            line.strip() for line in lines) and not name.endswith("__init__"):
        logger.warning(f"{name} has no docstring (every public name needs one)",
                       type="engramlab", subtype="docstring")
    lines[:] = convert(lines)


#: Families whose ``__all__`` names are documented under the package's name.
PUBLIC_MODULES = ("engramlab.memory", "engramlab.attractor", "engramlab.cmr",
                  "engramlab.softmax", "engramlab.eeg", "engramlab.experiments",
                  "engramlab.errors", "engramlab.typing", "engramlab.plots.memory",
                  "engramlab.plots.attractor", "engramlab.plots.cmr", "engramlab.plots.softmax",
                  "engramlab.plots.eeg")


def public_aliases() -> dict[str, str]:
    """Map each public object's defining path to the name it is documented under.

    ``engramlab.softmax._theory.theory_similarity`` -> ``engramlab.softmax.theory_similarity``,
    so a docstring may refer to either; a reference to anything else still fails.
    """
    aliases: dict[str, str] = {}
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            where = getattr(obj, "__module__", None)
            qual = getattr(obj, "__qualname__", None)
            if where and qual and where != modname:
                aliases.setdefault(f"{where}.{qual}", f"{modname}.{name}")
    return aliases


def _missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    aliases = env.app.config._engram_aliases if hasattr(env.app.config, "_engram_aliases") \
        else None
    if aliases is None:
        aliases = public_aliases()
        env.app.config._engram_aliases = aliases
    public = aliases.get(target)
    if public is None and "." not in target:
        from engramlab import errors  # ``DataError`` in any family's docstring

        if target in errors.__all__:
            public = f"engramlab.errors.{target}"
    if public is None:
        # a method or attribute of an aliased class: Class.member
        head, _, tail = target.rpartition(".")
        if head in aliases:
            public = f"{aliases[head]}.{tail}"
    if public is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node.get("refdoc"), app.builder, node.get("reftype"),
                               public, node, contnode)


def _patch_autosummary() -> None:
    """autosummary cuts the summary at the first ". ", even inside ````r . xi````.

    When the cut leaves an inline literal open, use the whole first paragraph instead.
    """
    from sphinx.ext import autosummary

    original = autosummary.extract_summary
    if getattr(original, "_engram", False):
        return

    def extract_summary(doc: list[str], document) -> str:
        summary = original(doc, document)
        if summary.count("``") % 2:
            para: list[str] = []
            for line in doc:
                if not line.strip():
                    if para:
                        break
                    continue
                para.append(line.strip())
            summary = " ".join(para)
        return summary

    extract_summary._engram = True
    autosummary.extract_summary = extract_summary


def _drop_unimportable_viewcode_modules(app):
    """viewcode lists modules it could not analyse (``namedtuple_Trajectory``, the
    synthetic module of a NamedTuple's generated ``__new__``) in ``_modules/index.html``
    with a link to a page it never writes; forget them before it builds the index."""
    modules = getattr(app.env, "_viewcode_modules", None)
    if modules:
        for name in [k for k, v in modules.items() if not v]:
            del modules[name]
    return []


def setup(app):
    _patch_autosummary()
    app.connect("html-collect-pages", _drop_unimportable_viewcode_modules, priority=400)
    app.connect("autodoc-process-docstring", _process)
    app.connect("missing-reference", _missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

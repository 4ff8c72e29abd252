"""Run the ```python blocks of a page when the site is built, and show what they print.

One module for the two places that run documentation code:

- the Sphinx extension (``setup`` below): for each page named in the config value
  ``engram_exec_pages`` (``conf.py``), every ```python block runs in order in one
  namespace, in a temporary working folder, while the page is read; what a block prints
  (and the value of its last line, when that is an expression, as in a notebook) is
  inserted after it as an output block. A block that raises stops the build, naming the
  page, the block's line and the traceback: a page cannot rot;
- the tests (``tests/test_docs_code.py`` runs every guide page's blocks,
  ``tests/test_readme_examples.py`` the README's), through :func:`python_blocks` and
  :func:`run_blocks`.

A block whose first line is ``# not run: <reason>`` is shown as it is and never run (the
reason is visible to the reader, e.g. "needs a SLURM cluster").

No dependency beyond Sphinx and MyST (myst-nb is not used: the pages are plain MyST
Markdown and stay readable as such on GitHub).
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
import tempfile
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: An opening fence ```python (three or more backticks) up to its closing fence.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})python[ \t]*\n(?P<code>.*?)"
                    r"^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)
#: The marker of a block that is shown but not run, with its reason.
NOT_RUN = re.compile(r"^#\s*not run:\s*(?P<reason>\S.*)$")


@dataclass(frozen=True)
class Block:
    """One ```python block of a Markdown file."""

    code: str  #: the code, dedented
    line: int  #: 1-based line of the block's first code line in the file
    end: int  #: offset in the text just after the closing fence
    skip: str | None  #: the reason given by ``# not run: <reason>``, else ``None``


def python_blocks(text: str) -> list[Block]:
    """Every ```python block of Markdown ``text``, in order."""
    blocks = []
    for m in _FENCE.finditer(text):
        indent = m["indent"]
        lines = m["code"].splitlines(keepends=True)
        code = "".join(ln[len(indent):] if ln.startswith(indent) else ln for ln in lines)
        first = code.lstrip("\n").split("\n", 1)[0]
        skip = NOT_RUN.match(first)
        blocks.append(Block(code=code, line=text.count("\n", 0, m.start("code")) + 1,
                            end=m.end(), skip=skip["reason"].strip() if skip else None))
    return blocks


class BlockError(RuntimeError):
    """A documentation block raised: the message names the file, the line and the
    traceback of the block's code."""


def run_block(block: Block, namespace: dict, filename: str) -> str:
    """Run one block in ``namespace``; return what it printed, followed by the ``repr`` of
    its last line's value when that line is an expression whose value is not ``None``.

    Raises :class:`BlockError` (from the exception) when the block raises.
    """
    tree = ast.parse(block.code, filename=filename)
    ast.increment_lineno(tree, block.line - 1)  # tracebacks point at the file's lines
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), _display_options():
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(last, filename, "eval"), namespace)
                if value is not None:
                    print(repr(value))
    except Exception as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # start at the block's own code, not at this runner
        tb = "".join(traceback.format_exception(type(exc), exc, tb))
        raise BlockError(f"{filename}, python block at line {block.line} raised:\n{tb}"
                         f"\nIts output before that:\n{out.getvalue()}") from exc
    return out.getvalue()


#: The repository's root: pages are written to be run from a checkout's root.
ROOT = Path(__file__).resolve().parents[2]
#: What the working folder of a page's code links to, read-only use (the guide's
#: examples read ``examples/*.toml`` and ``examples/data/*.csv`` as from a checkout).
LINKS = ("examples",)


def run_blocks(blocks: list[Block], filename: str, *, workdir: str | Path | None = None
               ) -> list[str | None]:
    """Run ``blocks`` in order in one fresh namespace, in ``workdir`` (by default a new
    temporary folder holding links to the checkout's :data:`LINKS`, so what the code
    writes does not land in the checkout); return each block's output (``None`` for a
    ``# not run`` block)."""
    with _working_dir(workdir), page_namespace() as namespace:
        try:
            return [None if b.skip else run_block(b, namespace, filename) for b in blocks]
        finally:
            _close_figures()


@contextlib.contextmanager
def page_namespace(name: str = "__docs__") -> Iterator[dict]:
    """A fresh module's namespace, registered in ``sys.modules`` while in use (so that
    ``dataclasses``, ``pickle`` and ``typing`` find the module of a class a page
    defines), as when the code is saved to a file and run."""
    module = types.ModuleType(name)
    old = sys.modules.get(name)
    sys.modules[name] = module
    try:
        yield module.__dict__
    finally:
        if old is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = old


@contextlib.contextmanager
def _working_dir(workdir: str | Path | None) -> Iterator[None]:
    old = os.getcwd()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="engram-doc-"))
            for name in LINKS:
                (Path(workdir) / name).symlink_to(ROOT / name, target_is_directory=True)
        os.chdir(workdir)
        try:
            yield
        finally:
            os.chdir(old)


@contextlib.contextmanager
def _display_options() -> Iterator[None]:
    """Tables shown as a page's output fit its code width (88 columns)."""
    pd = sys.modules.get("pandas")
    if pd is None:
        yield
        return
    with pd.option_context("display.width", 88, "display.max_columns", 12,
                           "display.max_colwidth", 40):
        yield


def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


# ----------------------------------------------------------------------- Sphinx
def _output_block(text: str) -> str:
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`{3,}", text)), default=0))
    return f"\n\n{fence}{{code-block}} text\n:class: engram-output\n\n{text.rstrip()}\n{fence}\n"


def execute_page(text: str, filename: str) -> str:
    """``text`` with each block's output inserted after the block (see the module
    docstring). Raises :class:`BlockError` when a block raises."""
    blocks = python_blocks(text)
    outputs = run_blocks(blocks, filename)
    pieces, pos = [], 0
    for b, out in zip(blocks, outputs, strict=True):
        pieces.append(text[pos:b.end])
        pos = b.end
        if out and out.strip():
            pieces.append(_output_block(out))
    pieces.append(text[pos:])
    return "".join(pieces)


def _source_read(app, docname: str, source: list[str]) -> None:
    if docname not in app.config.engram_exec_pages:
        return
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    logging.getLogger(__name__).info(f"[engram_exec] running the code of {docname}")
    try:
        source[0] = execute_page(source[0], f"docs/{docname}.md")
    except BlockError as exc:
        raise ExtensionError(str(exc)) from None


def setup(app):
    app.add_config_value("engram_exec_pages", [], "env")
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

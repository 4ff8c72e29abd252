"""Every ```python block of the guide (``docs/*.md``) runs as written.

Each page's blocks run in order in one namespace (as a reader pastes them into one
session), in a temporary folder that links to the checkout's ``examples/``; the
extraction and the runner are ``docs/_ext/engram_exec.py``, which also runs the pages
listed in ``engram_exec_pages`` (``docs/conf.py``) when the site is built and shows their
output, and which ``tests/test_readme_examples.py`` uses for the README.

Not run: the pages of :data:`SKIP_PAGES` (with the reason), and blocks whose first line
is ``# not run: <reason>`` (the reason is shown on the page).
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

from engram_exec import BlockError, python_blocks, run_blocks  # noqa: E402

#: Pages whose code this test does not run, and why.
SKIP_PAGES = {
    "inference.md": "being rewritten with the inference package (engramlab/cmr/inference/)",
}
PAGES = sorted(p.name for p in DOCS.glob("*.md"))
#: Pages the site build executes (``engram_exec_pages``): an exception there fails the
#: warnings-as-errors build of ``tests/test_docs_site.py``, so they are not run twice.
BUILT_PAGES = {f"{n}.md" for n in re.findall(
    r'"([^"]+)"', re.search(r"^engram_exec_pages = \[(.*?)\]", (DOCS / "conf.py").read_text(),
                            flags=re.M | re.S)[1])}
#: Pages with at least one block to run.
PAGES_WITH_CODE = [p for p in PAGES if p not in SKIP_PAGES
                   and any(b.skip is None for b in python_blocks((DOCS / p).read_text()))]
CODE_PAGES = [p for p in PAGES_WITH_CODE if p not in BUILT_PAGES]


def test_the_guide_pages_with_code_are_all_found():
    assert set(SKIP_PAGES) <= set(PAGES)  # a renamed page must not silently escape
    for page in ["getting-started.md", "fit-your-own-data.md", "index.md", "cmr.md",
                 "softmax.md", "experiments.md"]:
        assert page in PAGES_WITH_CODE, page
    # the two pages that the site build executes (conf.py) run there, the rest here
    assert BUILT_PAGES == {"getting-started.md", "fit-your-own-data.md"}
    assert set(CODE_PAGES) | BUILT_PAGES == set(PAGES_WITH_CODE)


def test_every_not_run_block_says_why():
    for page in PAGES:
        text = (DOCS / page).read_text()
        for b in python_blocks(text):
            if b.skip is not None:
                assert len(b.skip) >= 15, (page, b.line, b.skip)


@pytest.fixture
def own_registry():
    """A page registers variants as a reader's session would; this test process may have
    registered the same names in other tests (as the page's example says it is tested), so
    each page runs against the built-in registry and leaves it as it found it."""
    from engramlab.cmr import _variants

    saved = dict(_variants._REGISTRY)
    for name in set(saved) - _variants.BUILTIN_VARIANTS:
        del _variants._REGISTRY[name]
    yield
    _variants._REGISTRY.clear()
    _variants._REGISTRY.update(saved)


@pytest.mark.slow
@pytest.mark.parametrize("page", CODE_PAGES)
def test_page_code_runs(page, own_registry):
    blocks = python_blocks((DOCS / page).read_text())
    outputs = run_blocks(blocks, f"docs/{page}")
    assert len(outputs) == len(blocks)


# ----------------------------------------------------------- the runner itself
PAGE = textwrap.dedent('''\
    # t

    ```python
    x = 2
    print("x is", x)
    ```

    text

    ```python
    # not run: needs a cluster that the tests do not have
    raise SystemExit("this must never run")
    ```

    ```python
    from dataclasses import dataclass

    @dataclass
    class P:
        a: int = 1

    [x * 10, P().a]
    ```

      ````python
      y = x + 1
      ````
    ''')


def test_blocks_are_extracted_with_lines_and_skip_reasons():
    blocks = python_blocks(PAGE)
    assert len(blocks) == 4
    assert [b.line for b in blocks] == [4, 11, 16, 26]
    assert [b.skip for b in blocks] == [None, "needs a cluster that the tests do not have",
                                        None, None]
    assert blocks[3].code == "y = x + 1\n"  # indented, four-backtick fence


def test_blocks_run_in_one_namespace_and_show_output(tmp_path):
    out = run_blocks(python_blocks(PAGE), "page.md", workdir=tmp_path)
    # printed text; the last line's value, as in a notebook; a dataclass defined on the page
    assert out == ["x is 2\n", None, "[20, 1]\n", ""]


def test_a_failing_block_names_the_page_and_line():
    bad = PAGE.replace("y = x + 1", "y = x + 1\nz = undefined_name")
    with pytest.raises(BlockError, match=r"page\.md, python block at line 26 raised") as info:
        run_blocks(python_blocks(bad), "page.md")
    assert 'File "page.md", line 27' in str(info.value)  # the traceback has the file's line
    assert "NameError" in str(info.value)


def test_the_working_folder_is_temporary_and_links_examples():
    code = "```python\nimport os\nprint(sorted(os.listdir('.')))\nopen('w.txt', 'w').close()\n```\n"
    before = set(ROOT.iterdir())
    assert run_blocks(python_blocks(code), "p.md") == ["['examples']\n"]
    assert set(ROOT.iterdir()) == before


def test_the_site_build_shows_output_and_fails_on_an_exception(tmp_path):
    from test_docs_site import sphinx_build, tiny_site

    src = tiny_site(tmp_path, PAGE, extension="engram_exec",
                    conf='engram_exec_pages = ["index"]\n')
    (src / "other.md").write_text("# o\n\n```python\nraise ValueError('not run here')\n```\n")
    proc = sphinx_build(src, tmp_path / "out", "-D", "exclude_patterns=other.md")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count("engram-output") == 2
    assert "x is 2" in html and "[20, 1]" in html and "this must never run" in html

    (src / "index.md").write_text(PAGE.replace("x = 2", "x = 1 / 0"))
    proc = sphinx_build(src, tmp_path / "out2", "-D", "exclude_patterns=other.md")
    assert proc.returncode != 0
    assert "docs/index.md, python block at line 4 raised" in proc.stderr
    assert "ZeroDivisionError" in proc.stderr

"""The documentation site: a warnings-as-errors build, then the built pages in Chromium.

``test_site_builds_without_warnings`` runs ``sphinx-build -W`` on ``docs/`` (so a failing
gallery example, an unresolved ``engramlab`` cross-reference, a public name without a
docstring or a mistyped benchmark field fails the suite) into a temporary folder. The
other tests read that build: every local link resolves (file and anchor), no page loads
anything from the network, every public name has an API entry, and Chromium shows the
index, an API page and a gallery page with no console error, every image decoded,
equations typeset by the bundled MathJax, and search finding ``log_likelihood``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ARTIFACTS = ROOT / "results" / "test-artifacts"

pytestmark = pytest.mark.slow

FAMILIES = ["memory", "attractor", "cmr", "softmax", "eeg", "experiments", "errors", "typing",
            "plots.memory", "plots.attractor", "plots.cmr", "plots.softmax", "plots.eeg"]


def sphinx_build(src: Path, out: Path, *extra: str, env: dict | None = None
                 ) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
           *extra, str(src), str(out)]
    run_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=1200)


def tiny_site(tmp_path: Path, index: str, *, extension: str = "engram_measured",
              conf: str = "") -> Path:
    """A one-page Sphinx source folder using one of our extensions (``conf``: more
    conf.py lines); returns the folder."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(DOCS / "_ext")!r})
        extensions = ["myst_parser", {extension!r}]
        """) + conf)
    (src / "index.md").write_text(index)
    return src


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not (DOCS / "_vendor" / "mathjax" / "tex-svg-full.js").exists():
        pytest.fail("MathJax is not fetched: run `make docs` or "
                    "`python docs/_tools/fetch_mathjax.py` (`make test` does it)")
    out = tmp_path_factory.mktemp("site") / "html"
    proc = sphinx_build(DOCS, out)
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stdout}\n{proc.stderr}"
    return out


# ------------------------------------------------------------------- static checks
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (tag.attr, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if name in ("href", "src"):
                self.refs.append((f"{tag}.{name}", value))


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def test_site_builds_without_warnings(site):
    for page in ["index.html", "api/cmr.html", "softmax.html", "measured.html",
                 "auto_examples/index.html", "search.html"]:
        assert (site / page).is_file(), page
    n_gallery = len(list((site / "auto_examples").rglob("plot_*.html")))
    assert n_gallery >= 12


def test_every_local_link_resolves_and_nothing_is_remote(site):
    # _static/ holds theme templates (not pages)
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) > 30
    parsed = {p: _parse(p) for p in pages}
    broken, remote, checked = [], [], 0
    for page, links in parsed.items():
        for kind, ref in links.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https") or ref.startswith("//"):
                if kind != "a.href":  # a script, stylesheet, image or font from the network
                    remote.append((page.relative_to(site), ref))
                continue
            if parts.scheme in ("mailto", "data", "javascript"):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            checked += 1
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((str(page.relative_to(site)), ref))
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if frag not in ids:
                    broken.append((str(page.relative_to(site)), ref))
    assert checked > 1000
    assert broken == []
    assert remote == []


def test_every_public_name_has_an_api_entry(site):
    import importlib

    ids: set[str] = set()
    for page in (site / "api").glob("*.html"):
        ids |= _parse(page).ids
    missing = []
    for fam in FAMILIES:
        mod = importlib.import_module(f"engramlab.{fam}")
        for name in mod.__all__:
            if f"engramlab.{fam}.{name}" not in ids:
                missing.append(f"engramlab.{fam}.{name}")
    assert missing == []


def test_docstring_sections_render_as_sections(site):
    html = (site / "api" / "softmax.html").read_text()
    # the block form (simulate) and the inline form (dam_retrieve) both become rubrics
    rubric = r'<p class="(?:rubric engram-section|engram-section rubric)">'
    assert len(re.findall(rubric, html)) >= 10
    assert "**Arguments:**" not in html and "<strong>Arguments:</strong>" not in html
    sim = html[html.index('id="engramlab.softmax.simulate"'):]
    assert re.search(rubric + r"Arguments</p>\s*<ul", sim[:8000])
    assert re.search(rubric + r"Returns</p>", sim[:12000])


# -------------------------------------------------------------- measured figures
def test_measured_figures_come_from_the_json(tmp_path):
    """A tiny site using the extension: values, source note, missing file, bad field."""
    import json

    src = tiny_site(tmp_path, textwrap.dedent("""
        # t

        ratio {bench}`demo_bench.ratio:.0f`×, nested {bench}`demo_bench.inner.x:.2f`,
        missing {bench}`absent.ratio`, demo {demo}`cmr.logl:.1f`.

        ```{measured-source} bench:demo_bench bench:absent demo
        ```
        """))
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "demo_bench.json").write_text(json.dumps({
        "ratio": 61.38, "inner": {"x": 0.5}, "date": "2026-11-30T10:00:00+00:00",
        "quick": False, "machine": {"machine": "x86_64", "cpus": 2, "python": "3.11.9",
                                    "jax": "0.8.0", "jax_backend": "cpu"}}))
    env = {"ENGRAMLAB_BENCH_RESULTS": str(bench), "ENGRAMLAB_DEMO_DIR": str(tmp_path / "no"),
           "ENGRAMLAB_REFERENCE_RUN": str(tmp_path / "no-reference")}
    proc = sphinx_build(src, tmp_path / "out", env=env)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert ">61</span>×" in html and ">0.50</span>" in html
    assert "2026-11-30T10:00:00+00:00" in html and "x86_64, 2 CPUs" in html
    assert html.count("not measured") >= 2  # the missing benchmark and the missing demo
    assert "make bench" in html and "make demo" in html

    # a field that the (existing) file lacks is an error under -W
    (src / "index.md").write_text("# t\n\nbad {bench}`demo_bench.ratoi`\n")
    proc = sphinx_build(src, tmp_path / "out2", env=env)
    assert proc.returncode != 0
    assert "demo_bench.ratoi" in proc.stderr


def test_measured_figure_shows_the_benchmarks_image_or_says_not_measured(tmp_path):
    """``measured-figure``: the image a benchmark wrote (copied into the site, caption
    kept), a "not measured" note without the run's JSON, an error for an image missing
    beside an existing JSON."""
    import json

    src = tiny_site(tmp_path, textwrap.dedent("""
        # t

        ```{measured-figure} bench:fig a.png
        :alt: Figure A

        Caption of a.
        ```

        ```{measured-figure} bench:absent b.png
        :alt: Figure B
        ```
        """))
    bench = tmp_path / "bench"
    (bench / "fig").mkdir(parents=True)
    (bench / "fig.json").write_text(json.dumps({"quick": True}))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(bench / "fig" / "a.png")
    plt.close(fig)
    env = {"ENGRAMLAB_BENCH_RESULTS": str(bench),
           "ENGRAMLAB_REFERENCE_RUN": str(tmp_path / "no-reference")}
    proc = sphinx_build(src, tmp_path / "out", env=env)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert '<img alt="Figure A" src="_images/a.png"' in html and "Caption of a." in html
    assert (tmp_path / "out" / "_images" / "a.png").is_file()
    assert "Figure not measured in this build (Figure B)" in html and "b.png" in html

    (bench / "fig" / "a.png").unlink()  # a finished run without its figure: an error
    proc = sphinx_build(src, tmp_path / "out2", env=env)
    assert proc.returncode != 0 and "a.png not found" in proc.stderr


def test_docstring_converter_handles_both_forms():
    sys.path.insert(0, str(DOCS / "_ext"))
    from engram_docstrings import convert

    out = convert(["Summary.", "", "**Arguments:**", "", "- ``x``: input.", "",
                   "**Returns:** the sum. Formula:", "", "    |a| + |b|", "", "End."])
    text = "\n".join(out)
    assert ".. rubric:: Arguments" in text and ".. rubric:: Returns" in text
    assert "**" not in text
    # the indented formula became a literal block, so ``|a|`` is not a substitution
    i = out.index("    |a| + |b|")
    assert out[i - 2].strip() == "::"


# ------------------------------------------------------------------------ browser
@pytest.mark.browser
def test_site_pages_in_chromium(site):
    from playwright.sync_api import sync_playwright
    from test_report_browser import CHROMIUM_ARGS, chromium_path

    pages = {"index": "index.html", "api": "api/cmr.html",
             "gallery": "auto_examples/cmr/plot_cymr_parity.html", "guide": "softmax.html"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for key, rel in pages.items():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.on("request", lambda r, q=requests: q.append(r.url))
            page.goto((site / rel).as_uri(), wait_until="load")
            if key == "guide":
                page.wait_for_selector("mjx-container svg", timeout=20_000)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.getAttribute('src'), ok: e.complete, "
                "w: e.naturalWidth}))")
            n_math = page.eval_on_selector_all("mjx-container", "els => els.length")
            page.screenshot(path=str(ARTIFACTS / f"docs-{key}.png"))
            results[key] = {"errors": errors, "images": images, "math": n_math,
                            "remote": [u for u in requests if not u.startswith(("file:", "data:"))]}
            page.close()
        # search: the index is built client-side from searchindex.js
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((site / "search.html").as_uri() + "?q=log_likelihood", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a",
                                         "els => els.map(e => e.getAttribute('href'))")
        page.screenshot(path=str(ARTIFACTS / "docs-search.png"))
        browser.close()
    for key, r in results.items():
        assert r["errors"] == [], (key, r["errors"])
        assert r["remote"] == [], (key, r["remote"])
        broken = [im["src"] for im in r["images"] if not (im["ok"] and im["w"] > 0)]
        assert broken == [], (key, broken)
    assert len(results["gallery"]["images"]) >= 1  # the example's figure
    assert results["guide"]["math"] >= 3  # equations typeset by the bundled MathJax
    assert errors == []
    assert any("api/cmr.html" in h for h in hits), hits


def test_every_quoted_field_exists_in_its_source():
    """Each ``{bench}`NAME.field``` names a benchmark that writes that field, each
    ``{demo}`family.metric``` a metric that family's demo records (checked on the
    source, so it holds in a fresh clone where no result file exists yet)."""
    standard = {"ratio", "ours_s", "baseline_s", "baseline", "machine", "date", "quick",
                "wall_s", "name"}
    # benchmarks that store a library result's to_dict(): its keys are written there
    stored = {"cmr_recovery": [ROOT / "engramlab" / "cmr" / "_recovery.py"]}
    bad = []
    for page in sorted(DOCS.glob("*.md")):
        # examples of the syntax inside code spans (developing.md) are not figures
        text = re.sub(r"(`{2,4}).*?\1", "", page.read_text(), flags=re.S)
        for name, path in re.findall(r"\{bench\}`([a-z_0-9]+)\.([a-zA-Z_0-9.\-]+)", text):
            src = ROOT / "benchmarks" / f"bench_{name}.py"
            fields = path.split(":")[0].split(".")
            if not src.is_file():
                bad.append((page.name, name, "no such benchmark"))
                continue
            code = "\n".join(p.read_text() for p in [src, *stored.get(name, [])])
            for f in fields:
                written = rf"\b{re.escape(f)}\b\s*=|\"{re.escape(f)}\""  # kwarg or key
                if f not in standard and not re.search(written, code):
                    bad.append((page.name, f"{name}.{path}", f"{f!r} not written"))
        for fam, metric in re.findall(r"\{demo\}`([a-z_]+)\.([^:`]+)", text):
            src = ROOT / "engramlab" / fam / "demo.py"
            if not src.is_file() or f'"{metric}"' not in src.read_text():
                bad.append((page.name, f"{fam}.{metric}", "not a metric of that demo"))
        for arg in re.findall(r"^```\{measured-source\}([^\n]*)", page.read_text(), flags=re.M):
            for item in arg.split():
                kind, _, name = item.partition(":")
                if kind == "bench" and not (ROOT / "benchmarks" / f"bench_{name}.py").is_file():
                    bad.append((page.name, item, "no such benchmark"))
    assert bad == []

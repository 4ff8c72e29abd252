"""The demo report in a real browser (headless Chromium via Playwright).

Runs every section of the demo once (all model families), then loads ``report.html``
from the file system and checks that the page has no console errors and that every image
actually rendered (``naturalWidth > 0``). A screenshot is kept beside the report.

The test checks the report's structure (every section computed, every figure drawn and
decoded), not the demo's numbers, so the two CMR sections run at reduced sizes
(:data:`SMALL_DEMO`: fewer subjects, lists, fit rounds and draws; the same code paths):
at full size they are most of the demo's 3-4 minutes. ``make demo`` (and
``make reference``) run the full product.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engramlab.experiments.demo import FAMILIES, discover_sections, run_demo

#: Screenshots are also kept here (ignored by git) as artefacts of the test run.
ARTIFACTS = Path(__file__).resolve().parents[1] / "results" / "test-artifacts"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("headless Chromium is required for this test: `make test` installs "
                       "the Debian package `chromium`")


def check_page_in_browser(html: Path, screenshot: Path) -> dict:
    """Open ``html`` in Chromium; return console errors, image states and page text.

    The screenshot is written to ``screenshot`` and copied to ``results/test-artifacts/``.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.resolve().as_uri(), wait_until="load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => ({src: e.getAttribute('src'), ok: e.complete, "
            "w: e.naturalWidth, h: e.naturalHeight}))")
        text = page.inner_text("body")
        page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, ARTIFACTS / f"{html.parent.name}-{screenshot.name}")
    return {"errors": errors, "images": images, "text": text}


#: Module constants of demo sections overridden for the test: section module -> values.
#: Every section still runs all its steps (fits, simulations, sampling of two variants,
#: PPC, comparison); only the amounts shrink.
SMALL_DEMO = {
    # fit_subjects on 2 subjects (one round of starts), 1 replication per simulated list
    "engramlab.cmr.demo": {"SUBJECTS": (1, 2), "N_REP": 1, "MAX_ROUNDS": 1},
    # hierarchical NUTS, 2 chains (R-hat needs two), on 2 subjects x 3 lists
    "engramlab.cmr.demo_inference": {"SUBJECTS": (1, 2), "N_LISTS": 3, "DRAWS": 10,
                                     "WARMUP": 10, "PPC_DRAWS": 3},
}


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory):
    import importlib

    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        for module, values in SMALL_DEMO.items():
            mod = importlib.import_module(module)
            for name, value in values.items():
                assert hasattr(mod, name), (module, name)  # a renamed knob must not pass
                mp.setattr(mod, name, value)
        report, sections = run_demo(out, seed=0, quiet=True)
    return out, report, sections


@pytest.mark.browser
@pytest.mark.slow
def test_full_demo_report_renders_in_chromium(full_demo):
    out, report, sections = full_demo
    failed = {s.key: s.error for s in sections if s.error}
    assert not failed, failed
    # every family that ships a demo contributed a section with figures
    expected = [fam for fam, _ in discover_sections(FAMILIES)]
    assert [s.key for s in sections] == expected
    assert all(s.figures for s in sections)
    result = check_page_in_browser(report, out / "report_screenshot.png")
    assert result["errors"] == []
    n_figures = sum(len(s.figures) for s in sections)
    assert len(result["images"]) == n_figures
    broken = [im["src"] for im in result["images"] if not (im["ok"] and im["w"] > 0)]
    assert broken == []
    for s in sections:
        assert s.title in result["text"]
    assert (out / "report_screenshot.png").stat().st_size > 10_000
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["sections"]) == set(expected)
    assert metrics["errors"] == {}


@pytest.mark.browser
def test_broken_image_is_detected(tmp_path):
    """The check itself can fail: a report pointing at a missing PNG is caught."""
    from engramlab.experiments.report import Figure, Section, write_report

    page = write_report(tmp_path, [Section(key="x", title="X", figures=[
        Figure(path="missing.png", caption="not there")])])
    result = check_page_in_browser(page, tmp_path / "shot.png")
    assert [im for im in result["images"] if im["w"] == 0]

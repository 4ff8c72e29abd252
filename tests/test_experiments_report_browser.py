"""The report of a run / sweep directory in headless Chromium (Playwright): no console
errors, every image renders, the tables and config are on the page; a screenshot is kept
in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_browser import check_page_in_browser

from engramlab.experiments.runner import run_config, write_run_report

CONFIG = """
name = "browser-sweep"
model = "memory.capacity"
[grid]
n_patterns = [3, 4]
n_units = [12, 16]
[seeds]
count = 3
[sweep]
chunk_size = 4
"""


@pytest.mark.browser
def test_sweep_report_renders_in_chromium(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "run"
    outcome = run_config(cfg, out_dir=out, scheduler=None, quiet=True)
    assert outcome.report == out / "report.html"
    # `engramlab report DIR` regenerates the same page from the directory alone
    page: Path = write_run_report(out)
    shot = tmp_path / "sweep_report.png"
    result = check_page_in_browser(page, shot)
    assert result["errors"] == []
    assert len(result["images"]) == 4  # one figure per output
    broken = [im["src"] for im in result["images"] if not (im["ok"] and im["w"] > 0)]
    assert broken == []
    text = result["text"]
    for needle in ("memory.capacity", "crosstalk_var", "Timings", "Configuration",
                   "Simulation vs closed-form theory", "learning_rate"):
        assert needle in text, needle
    assert shot.stat().st_size > 10_000

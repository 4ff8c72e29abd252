"""The reference run kept in the repository, and the documentation's choice of run.

``benchmarks.reference.adopt`` copies local results into ``benchmarks/reference/`` (with
``RUN.json``) and appends the history; the docs extension renders the newer of the local
and the reference run, file by file, and says which one each figure is from.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from test_docs_site import sphinx_build, tiny_site

from benchmarks import reference as ref

MACHINE = {"machine": "x86_64", "cpus": 2, "python": "3.11.9", "jax": "0.8.0",
           "jax_backend": "cpu"}


def _bench(folder, name, ratio, date, *, image=False):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({
        "ratio": ratio, "ours_s": 1.0, "baseline_s": ratio, "date": date, "quick": True,
        "machine": MACHINE}))
    if image:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        (folder / name).mkdir(exist_ok=True)
        fig = plt.figure(figsize=(1, 1))
        fig.savefig(folder / name / "a.png")
        plt.close(fig)


def test_adopt_copies_results_and_history(tmp_path):
    results, demo = tmp_path / "results", tmp_path / "demo"
    _bench(results, "b1", 3.0, "2026-12-01T00:00:00+00:00", image=True)
    (results / "summary.json").write_text("{}")
    demo.mkdir()
    (demo / "metrics.json").write_text(json.dumps({"meta": {"date": "2026-12-01T01:00:00+00:00"},
                                                   "sections": {"cmr": {"logl": -5.0}}}))
    dest, hist = tmp_path / "reference", tmp_path / "history"
    dest.mkdir()
    (dest / "stale.json").write_text("{}")  # replaced as a whole
    run = ref.adopt(results, demo, dest, hist, date="2026-12-02T00:00:00+00:00",
                    commit="abcdef1234567")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) \
        == ["RUN.json", "bench/b1.json", "bench/b1/a.png", "demo/metrics.json"]
    assert json.loads((dest / "RUN.json").read_text()) == run
    assert run["commit"] == "abcdef1234567" and run["benchmarks"]["b1"]["ratio"] == 3.0
    assert run["demo"] is True
    (machine_dir,) = hist.iterdir()
    assert sorted(p.name for p in machine_dir.iterdir()) == [
        "2026-12-02T000000Z_abcdef1234.json", "machine.json"]
    entry = json.loads((machine_dir / "2026-12-02T000000Z_abcdef1234.json").read_text())
    assert entry["results"]["b1"]["baseline_s"] == 3.0


def test_adopt_refuses_an_empty_run_and_keeps_the_old_reference(tmp_path):
    dest = tmp_path / "reference"
    dest.mkdir()
    (dest / "RUN.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="nothing to adopt"):
        ref.adopt(tmp_path / "none", tmp_path / "none", dest, tmp_path / "h")
    assert (dest / "RUN.json").is_file()


@pytest.mark.slow
def test_docs_show_the_newer_of_local_and_reference_run(tmp_path):
    src = tiny_site(tmp_path, textwrap.dedent("""
        # t

        old {bench}`older.ratio:.0f`, new {bench}`newer.ratio:.0f`, demo {demo}`cmr.logl:.1f`

        ```{measured-source} bench:older bench:newer demo
        ```

        ```{measured-figure} bench:older a.png
        :alt: Figure A
        ```
        """))
    local, reference = tmp_path / "local", tmp_path / "reference"
    # "older": the local file is older than the reference's; "newer": local is newer
    _bench(local, "older", 11, "2026-01-01T00:00:00+00:00")
    _bench(reference / "bench", "older", 22, "2026-06-01T00:00:00+00:00", image=True)
    _bench(local, "newer", 33, "2026-09-01T00:00:00+00:00")
    _bench(reference / "bench", "newer", 44, "2026-06-01T00:00:00+00:00")
    (reference / "demo").mkdir()
    (reference / "demo" / "metrics.json").write_text(json.dumps({
        "meta": {"date": "2026-06-01T00:00:00+00:00", "seed": 0, "machine": "Linux x86_64"},
        "sections": {"cmr": {"logl": -123.45}}}))
    (reference / "RUN.json").write_text(json.dumps({"commit": "0123456789abcdef"}))
    env = {"ENGRAMLAB_BENCH_RESULTS": str(local), "ENGRAMLAB_DEMO_DIR": str(tmp_path / "no"),
           "ENGRAMLAB_REFERENCE_RUN": str(reference)}
    proc = sphinx_build(src, tmp_path / "out", env=env)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert ">22</span>" in html and ">11</span>" not in html  # reference is newer
    assert ">33</span>" in html and ">44</span>" not in html  # local is newer
    assert ">-123.5</span>" in html  # no local demo: the reference's
    assert html.count("This is the reference run committed in") == 2  # older and demo
    assert "commit 0123456789" in html
    assert '<img alt="Figure A" src="_images/a.png"' in html  # the reference's image
    assert "not measured" not in html

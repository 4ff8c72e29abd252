"""engramlab benchmarks: ``python -m benchmarks [NAME ...] [--quick]``.

Each ``benchmarks/bench_<name>.py`` defines ``run(quick: bool = False) -> dict``: it
times our code *and* a baseline in the same run and returns a dict with at least
``name``, ``ours_s``, ``baseline_s``, ``baseline`` (what the baseline is) and ``ratio``
(= baseline_s / ours_s, so > 1 means we are faster). The harness writes one JSON per
benchmark to ``benchmarks/results/<name>.json`` plus ``summary.json``.
"""

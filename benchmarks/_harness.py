"""Timing helpers shared by the benchmarks (one place for warm-up and blocking)."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any


def _block(x: Any) -> Any:
    try:
        import jax

        return jax.block_until_ready(x)
    except Exception:  # not a JAX value
        return x


def timeit(fn: Callable[[], Any], *, repeat: int = 5, warmup: int = 1,
           min_time: float = 0.0) -> dict[str, float]:
    """Time ``fn()`` (blocking on JAX results). Returns median/min/mean seconds.

    ``warmup`` calls are made first (JIT compilation happens there).
    """
    for _ in range(warmup):
        _block(fn())
    times = []
    t_total = 0.0
    while len(times) < repeat or t_total < min_time:
        t0 = time.perf_counter()
        _block(fn())
        dt = time.perf_counter() - t0
        times.append(dt)
        t_total += dt
        if len(times) >= 1000:
            break
    return {"median_s": statistics.median(times), "min_s": min(times),
            "mean_s": statistics.fmean(times), "n": len(times)}


def machine_info() -> dict[str, Any]:
    """Facts about the machine a benchmark ran on."""
    import os

    info: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                            "cpus": os.cpu_count()}
    try:
        import jax

        info["jax"] = jax.__version__
        info["jax_backend"] = jax.default_backend()
    except Exception:
        pass
    return info


def result(name: str, ours_s: float, baseline_s: float, baseline: str, **extra: Any) -> dict:
    """Standard result record: ratio = baseline_s / ours_s (> 1: ours is faster).

    Every field must be JSON: a benchmark that passes something else (a function that
    shadows the measured figure) fails here, naming the field, not when the file is written.
    """
    for key, value in extra.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: result field {key!r} is not JSON "
                            f"({type(value).__name__}): {exc}") from None
    return {"name": name, "ours_s": ours_s, "baseline_s": baseline_s, "baseline": baseline,
            "ratio": baseline_s / ours_s if ours_s > 0 else float("inf"), **extra,
            "machine": machine_info()}

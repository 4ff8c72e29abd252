"""Atomic file writes: a result is either fully on disk or not there at all.

Each writer writes to a temporary file in the destination folder and then
``os.replace``s it, which is atomic on POSIX and Windows, so an interrupt never leaves
a half-written result behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path", "write_json", "write_text", "write_bytes", "save_figure", "to_jsonable",
    "write_with",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/JAX scalars and arrays (nested in dicts/lists) to JSON types."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        arr = np.asarray(obj)
        return arr.item() if arr.shape == () else arr.tolist()
    if isinstance(obj, float) and obj != obj:  # NaN is not valid JSON
        return None
    return obj


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (NumPy values converted)."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n")


def save_figure(fig: Any, path: str | os.PathLike[str], *,
                formats: tuple[str, ...] = ("png", "svg"), dpi: int = 120) -> list[Path]:
    """Save a matplotlib figure atomically in each of ``formats``; returns the paths.

    ``path`` is the stem (any suffix is replaced).
    """
    stem = Path(path).with_suffix("")
    out = []
    for fmt in formats:
        target = stem.with_suffix("." + fmt)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        out.append(target)
    return out


def write_with(path: str | os.PathLike[str], writer: Callable[[Path], Any]) -> Path:
    """Atomically create ``path`` with ``writer(tmp_path)`` (e.g. ``ds.to_netcdf``)."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


"""Atomic file writes: a result is either fully on disk or not there at all.

Each writer writes to a temporary file in the destination folder and then
``os.replace``s it, which is atomic on POSIX and Windows, so an interrupt never leaves
a half-written result behind. A killed process (SIGKILL, power loss) can leave its
temporary file (``.<name>.<random>.tmp``) behind: :func:`clean_tmp` removes those on the
next run. :func:`sha256_file` is the checksum that run manifests record for every file.
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
    "write_with", "sha256_file", "clean_tmp", "read_json_or_none",
]

#: Name pattern of the temporary files :func:`atomic_path` creates.
TMP_GLOB = ".*.tmp"


def _target(path: Any, name: str) -> Path:
    """``path`` as a file path whose folder exists (created) and is writable, else a
    :class:`~engramlab.errors.ConfigError` naming the argument ``name``."""
    from .errors import ConfigError

    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"{name}: expected a file path (str or Path), got "
                          f"{type(path).__name__} {path!r:.80}")
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{name}: {str(path)!r} is a folder; expected a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot create the folder {str(path.parent)!r} "
                          f"({exc.strerror or exc})") from None
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *,
                before_replace: Callable[[Path], Any] | None = None,
                name: str = "path") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    ``before_replace(tmp)`` runs after the file is complete and before the rename (e.g.
    to record its checksum, so a file that exists always has one recorded).
    A ``path`` that is a folder, not a path, or in a folder that cannot be created or
    written is a :class:`~engramlab.errors.ConfigError` naming the argument ``name``,
    as is an operating-system error while the file is written (e.g. a full disk).
    """
    from .errors import ConfigError

    path = _target(path, name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot write in the folder {str(path.parent)!r} "
                          f"({exc.strerror or exc})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            if before_replace is not None:
                before_replace(tmp_path)
            os.replace(tmp_path, path)
        except OSError as exc:
            raise ConfigError(f"{name}: writing {str(path)!r} failed "
                              f"({exc.strerror or exc})") from exc
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

    ``path`` is the stem (any suffix is replaced). The bytes are reproducible: the same
    figure gives the same files (no timestamps, fixed SVG ids).
    """
    import matplotlib as mpl

    stem = Path(path).with_suffix("")
    out = []
    for fmt in formats:
        target = stem.with_suffix("." + fmt)
        # reproducible bytes: no timestamp, fixed SVG element ids (same figure, same file)
        meta = {"Date": None} if fmt in ("svg", "pdf") else None
        with atomic_path(target) as tmp, mpl.rc_context({"svg.hashsalt": "engramlab"}):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        out.append(target)
    return out


def write_with(path: str | os.PathLike[str], writer: Callable[[Path], Any], *,
               before_replace: Callable[[Path], Any] | None = None,
               name: str = "path") -> Path:
    """Atomically create ``path`` with ``writer(tmp_path)`` (e.g. ``ds.to_netcdf``);
    ``before_replace`` and ``name`` as in :func:`atomic_path`."""
    with atomic_path(path, before_replace=before_replace, name=name) as tmp:
        writer(tmp)
    return Path(path)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the bytes of ``path``."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def clean_tmp(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the orphaned temporary files of killed writes in ``folder`` (not
    recursive); returns what was removed. Run it before writing into ``folder`` again
    (not while another process writes there)."""
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for p in folder.glob(TMP_GLOB):
            if p.is_file() and not p.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed.append(p)
    return removed


def read_json_or_none(path: str | os.PathLike[str]) -> Any:
    """The JSON document in ``path``, or ``None`` when it is missing, empty, truncated or
    not JSON (a corrupt manifest is treated as absent, never a ``JSONDecodeError``)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


"""The result store of a sweep: one NetCDF file per finished chunk, merged into one.

Layout of a run directory ``D``::

    D/store.json            manifest: fingerprint of the resolved config, grid, chunking
    D/chunks/chunk-000042.nc one finished chunk (written atomically, never partial)
    D/chunks/SHA256SUMS     the SHA-256 of every chunk file (``sha256sum -c`` format),
                            appended before each chunk file is renamed into place
    D/results.nc            the merged store: dims = grid axes + "seed"

Each chunk file holds the chunk's outputs along a ``point`` dimension whose coordinate
is the flat (C-order) index of each grid point, so a chunk file can be checked and
placed without trusting its name. A chunk file either exists completely or not at all
(:func:`engramlab._io.write_with` writes a temporary file and renames it), which is
what makes a killed sweep resumable: on restart the finished chunks are read back and
only the missing ones are computed. Every chunk's checksum is recorded before its file
appears, and :meth:`ChunkStore.verify` checks each file against it on resume: a chunk
that is truncated, zero-length, edited or unrecorded is deleted (and said so on the
console) and computed again. A corrupt ``store.json`` is rewritten (its chunks are then
also checked to belong to this sweep); orphaned ``*.tmp`` files of killed writes are
removed.

Zarr would allow writing regions of one store in place; it is not a dependency, so the
chunk files + final merge give the same guarantees with NetCDF (h5netcdf).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._io import clean_tmp, read_json_or_none, sha256_file, write_json, write_with
from .._progress import say
from ..errors import ConfigError, DataError

__all__ = ["ChunkStore", "open_results", "fingerprint"]

_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.nc$")
RESULTS = "results.nc"
MANIFEST = "store.json"
SUMS = "SHA256SUMS"
_SUM_RE = re.compile(r"^([0-9a-f]{64})  (chunk-\d{6,}\.nc)$")


def fingerprint(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (identifies a sweep's content)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ChunkStore:
    """Chunk files of one sweep under ``root`` and their merge into ``results.nc``.

    **Arguments:**

    - ``root``: the run directory.
    - ``dims``: grid dimension names in order (the last is ``"seed"``).
    - ``coords``: dimension name -> coordinate values.
    - ``chunk_size``: points per chunk (the last chunk may be shorter).
    - ``variables``: output names.
    - ``key``: fingerprint of everything that determines the results; a directory
      holding a different sweep is refused rather than mixed.
    """

    def __init__(self, root: str | Path, *, dims: Sequence[str],
                 coords: Mapping[str, Sequence[Any]], chunk_size: int,
                 variables: Sequence[str], key: str):
        self.root = Path(root)
        self.dims = list(dims)
        self.coords = {d: list(coords[d]) for d in self.dims}
        self.shape = tuple(len(self.coords[d]) for d in self.dims)
        self.size = 1
        for s in self.shape:
            self.size *= s
        self.chunk_size = int(chunk_size)
        self.n_chunks = -(-self.size // self.chunk_size)
        self.variables = list(variables)
        self.key = key
        self._verified: set[int] | None = None
        self._suspect = False  # the manifest was corrupt: check chunks belong here

    # -- layout --------------------------------------------------------------------
    @property
    def chunk_dir(self) -> Path:
        return self.root / "chunks"

    def chunk_path(self, index: int) -> Path:
        return self.chunk_dir / f"chunk-{index:06d}.nc"

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        """Flat index range ``[start, stop)`` of chunk ``index``."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.size)

    # -- manifest ------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any]:
        return {"key": self.key, "dims": self.dims, "shape": list(self.shape),
                "chunk_size": self.chunk_size, "n_chunks": self.n_chunks,
                "variables": self.variables, "checksums": f"chunks/{SUMS}"}

    def open(self) -> None:
        """Create the directory and manifest, or check that an existing one matches.

        Removes orphaned temporary files. A manifest that cannot be read (truncated,
        not JSON) is rewritten, and the chunks are then also checked to belong to this
        sweep when they are verified.
        """
        man = self.root / MANIFEST
        if man.exists():
            old = read_json_or_none(man)
            if isinstance(old, dict) and isinstance(old.get("key"), str):
                if old["key"] != self.key:
                    raise ConfigError(
                        f"outputs.dir: {self.root} already holds a different sweep (its "
                        "config differs); choose another output directory or delete it")
                for d in (self.root, self.chunk_dir):
                    clean_tmp(d)
                return
            say(f"{man} is corrupt; rewriting it and checking every chunk file")
            self._suspect = True
        self.root.mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.chunk_dir):
            clean_tmp(d)
        write_json(man, self._manifest())

    def done(self) -> set[int]:
        """Indices of the chunk files on disk (unverified; see :meth:`verify`)."""
        if not self.chunk_dir.exists():
            return set()
        out = set()
        for p in self.chunk_dir.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m and int(m.group(1)) < self.n_chunks:
                out.add(int(m.group(1)))
        return out

    # -- checksums -----------------------------------------------------------------
    def checksums(self) -> dict[str, str]:
        """Chunk file name -> recorded SHA-256 (the last record wins; a torn line from a
        killed append is ignored)."""
        path = self.chunk_dir / SUMS
        out: dict[str, str] = {}
        try:
            text = path.read_bytes().decode("ascii", errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            m = _SUM_RE.match(line)
            if m:
                out[m.group(2)] = m.group(1)
        return out

    def _record(self, name: str, digest: str) -> None:
        import os

        self.chunk_dir.mkdir(parents=True, exist_ok=True)
        path = self.chunk_dir / SUMS
        with open(path, "ab") as f:
            # a torn last line (killed mid-append) must not glue onto this record
            if f.tell() > 0:
                with open(path, "rb") as r:
                    r.seek(-1, os.SEEK_END)
                    if r.read(1) != b"\n":
                        f.write(b"\n")
            f.write(f"{digest}  {name}\n".encode("ascii"))
            f.flush()
            os.fsync(f.fileno())

    def verify(self) -> set[int]:
        """Indices of the chunks that are on disk and match their recorded checksum.

        Every other chunk file (truncated, zero-length, edited, without a record, or -
        after a corrupt manifest - of another sweep) is deleted and reported on stderr,
        so it is computed again; a recorded chunk whose file is gone is reported too.
        """
        sums = self.checksums()
        good: set[int] = set()
        for i in sorted(self.done()):
            path = self.chunk_path(i)
            why = None
            want = sums.get(path.name)
            if path.stat().st_size == 0:
                why = "is empty"
            elif want is None:
                why = "has no recorded checksum"
            elif sha256_file(path) != want:
                why = "does not match its checksum (truncated, edited or corrupt)"
            elif getattr(self, "_suspect", False):
                try:
                    self.read_chunk(i)
                except Exception:  # noqa: BLE001 - any unreadable chunk is recomputed
                    why = "does not belong to this sweep"
            if why is None:
                good.add(i)
            else:
                say(f"chunk {i} ({path}) {why}; recomputing it")
                path.unlink(missing_ok=True)
        for name in sorted(sums):
            m = _CHUNK_RE.match(name)
            if m and int(m.group(1)) < self.n_chunks and not self.chunk_path(
                    int(m.group(1))).exists():
                say(f"chunk {int(m.group(1))} was recorded but its file is missing; "
                    "recomputing it")
        self._verified = set(good)
        return good

    # -- chunks --------------------------------------------------------------------
    def write_chunk(self, index: int, values: Mapping[str, Any], seconds: float) -> Path:
        """Atomically write chunk ``index`` (``values[var]`` of shape ``(stop - start,)``).

        The file is NetCDF-4 (``xarray.open_dataset(path)`` reads it), written with
        h5netcdf directly: ~10x faster than going through xarray for small chunks.
        """
        import h5netcdf
        import numpy as np

        start, stop = self.chunk_bounds(index)
        arrays = {}
        for v in self.variables:
            arr = np.asarray(values[v])
            if arr.shape != (stop - start,):
                raise DataError(f"chunk {index}: output {v!r} has shape {arr.shape}, "
                                f"expected ({stop - start},)")
            arrays[v] = arr

        def writer(path: Path) -> None:
            with h5netcdf.File(path, "w") as f:
                f.dimensions = {"point": stop - start}
                f.create_variable("point", ("point",),
                                  data=np.arange(start, stop, dtype=np.int64))
                for v, arr in arrays.items():
                    f.create_variable(v, ("point",), data=arr)
                f.attrs["chunk"] = index
                f.attrs["seconds"] = float(seconds)
                f.attrs["key"] = self.key

        path = self.chunk_path(index)
        out = write_with(path, writer,
                         before_replace=lambda tmp: self._record(path.name, sha256_file(tmp)))
        if self._verified is not None:
            self._verified.add(index)
        return out

    def read_chunk(self, index: int) -> tuple[dict[str, Any], float]:
        """``(values, seconds)`` of a finished chunk (checked against the manifest)."""
        import h5netcdf
        import numpy as np

        path = self.chunk_path(index)
        start, stop = self.chunk_bounds(index)
        try:
            f = h5netcdf.File(path, "r")
        except Exception as exc:  # noqa: BLE001 - not HDF5, truncated, ...
            raise DataError(f"{path}: unreadable chunk file ({type(exc).__name__}); run "
                            "the sweep again to recompute it") from None
        with f:
            ok = (f.attrs.get("key") == self.key
                  and np.array_equal(f.variables["point"][...], np.arange(start, stop))
                  and all(v in f.variables for v in self.variables))
            if not ok:
                raise DataError(f"{path}: chunk file does not belong to this sweep; "
                                "delete it")
            values = {v: np.asarray(f.variables[v][...]) for v in self.variables}
            seconds = float(f.attrs["seconds"])
        return values, seconds

    # -- merge ---------------------------------------------------------------------
    def merge(self, attrs: Mapping[str, Any] | None = None) -> Any:
        """Assemble every chunk into one ``xarray.Dataset`` and write ``results.nc``.

        Data variables have dims ``self.dims`` (grid axes then ``seed``); the variable
        ``chunk_seconds`` (dim ``chunk``) holds each chunk's compute time.
        """
        import numpy as np
        import xarray as xr

        good = self._verified if self._verified is not None else self.verify()
        missing = sorted(set(range(self.n_chunks)) - good)
        if missing:
            raise DataError(f"{self.root}: {len(missing)} chunks are missing "
                            f"(first: {missing[0]}); run the sweep again to finish it")
        flat = {v: None for v in self.variables}
        secs = np.zeros(self.n_chunks)
        for i in range(self.n_chunks):
            vals, secs[i] = self.read_chunk(i)
            start, stop = self.chunk_bounds(i)
            for v in self.variables:
                if flat[v] is None:
                    flat[v] = np.empty(self.size, dtype=np.asarray(vals[v]).dtype)
                flat[v][start:stop] = vals[v]
        data = {v: (self.dims, flat[v].reshape(self.shape)) for v in self.variables}
        data["chunk_seconds"] = ("chunk", secs)
        ds = xr.Dataset(data, coords={d: np.asarray(c) for d, c in self.coords.items()},
                        attrs={k: (json.dumps(v) if isinstance(v, dict | list) else v)
                               for k, v in dict(attrs or {}).items()})
        write_with(self.root / RESULTS, lambda p: ds.to_netcdf(p, engine="h5netcdf"))
        return ds


def open_results(run_dir: str | Path) -> Any:
    """Load ``run_dir/results.nc`` into memory as an ``xarray.Dataset``."""
    import xarray as xr

    path = Path(run_dir) / RESULTS
    if not path.exists():
        raise DataError(f"{run_dir}: no {RESULTS}; the sweep has not finished "
                        "(run it again to resume)")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except Exception as exc:  # noqa: BLE001 - truncated, not HDF5, ...
        raise DataError(f"{path}: unreadable ({type(exc).__name__}); run the sweep again "
                        "to merge its chunks anew") from None

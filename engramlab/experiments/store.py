"""The result store of a sweep: one NetCDF file per finished chunk, merged into one.

Layout of a run directory ``D``::

    D/store.json            manifest: fingerprint of the resolved config, grid, chunking
    D/chunks/chunk-000042.nc one finished chunk (written atomically, never partial)
    D/results.nc            the merged store: dims = grid axes + "seed"

Each chunk file holds the chunk's outputs along a ``point`` dimension whose coordinate
is the flat (C-order) index of each grid point, so a chunk file can be checked and
placed without trusting its name. A chunk file either exists completely or not at all
(:func:`engramlab._io.write_with` writes a temporary file and renames it), which is
what makes a killed sweep resumable: on restart the finished chunks are read back and
only the missing ones are computed.

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

from .._io import write_json, write_with
from ..errors import ConfigError, DataError

__all__ = ["ChunkStore", "open_results", "fingerprint"]

_CHUNK_RE = re.compile(r"^chunk-(\d{6,})\.nc$")
RESULTS = "results.nc"
MANIFEST = "store.json"


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
    def open(self) -> None:
        """Create the directory and manifest, or check that an existing one matches."""
        man = self.root / MANIFEST
        if man.exists():
            old = json.loads(man.read_text())
            if old.get("key") != self.key:
                raise ConfigError(
                    f"outputs.dir: {self.root} already holds a different sweep (its config "
                    "differs); choose another output directory or delete it")
            return
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(man, {"key": self.key, "dims": self.dims, "shape": list(self.shape),
                         "chunk_size": self.chunk_size, "n_chunks": self.n_chunks,
                         "variables": self.variables})

    def done(self) -> set[int]:
        """Indices of the chunks already on disk."""
        if not self.chunk_dir.exists():
            return set()
        out = set()
        for p in self.chunk_dir.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m and int(m.group(1)) < self.n_chunks:
                out.add(int(m.group(1)))
        return out

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

        return write_with(self.chunk_path(index), writer)

    def read_chunk(self, index: int) -> tuple[dict[str, Any], float]:
        """``(values, seconds)`` of a finished chunk (checked against the manifest)."""
        import h5netcdf
        import numpy as np

        path = self.chunk_path(index)
        start, stop = self.chunk_bounds(index)
        with h5netcdf.File(path, "r") as f:
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

        missing = sorted(set(range(self.n_chunks)) - self.done())
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
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()

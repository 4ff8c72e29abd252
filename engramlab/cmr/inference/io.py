"""Saving and loading posteriors: NetCDF (h5netcdf, ArviZ's groups), written atomically."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ..._io import write_with
from ...errors import ValidationError
from .convert import read_meta

__all__ = ["load_inference", "save_inference"]


def save_inference(idata: Any, path: str | Path) -> Path:
    """Write the InferenceData of :func:`sample` to NetCDF (h5netcdf), atomically."""
    read_meta(idata)
    return write_with(path, lambda p: idata.to_netcdf(str(p), engine="h5netcdf"),
                      name="path")


def load_inference(path: str | Path) -> Any:
    """Read an InferenceData written by :func:`save_inference` (loaded into memory).

    A path that is missing or a folder, a file that is not NetCDF (empty, truncated,
    another format) and a NetCDF file that is not a posterior of :func:`sample` are a
    :class:`~engramlab.errors.DataError` naming the file."""
    import arviz as az

    from ...errors import DataError

    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise DataError(f"path: expected a file path (str or Path), got "
                        f"{type(path).__name__} {path!r:.80}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"path: no such file {str(p)!r}")
    if p.is_dir():
        raise DataError(f"path: {str(p)!r} is a folder; expected a NetCDF file written by "
                        "cmr.save_inference")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = az.from_netcdf(str(p), engine="h5netcdf")
            idata.load()
    except Exception as exc:  # noqa: BLE001 - h5py/xarray raise many kinds
        raise DataError(f"path: {str(p)!r} is not a readable NetCDF posterior (empty, "
                        f"truncated or another format: {type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    try:
        read_meta(idata, "path")
    except ValidationError:
        raise DataError(f"path: {str(p)!r} is a NetCDF file but not a posterior written "
                        "by cmr.save_inference (no engramlab_spec attribute)") from None
    return idata

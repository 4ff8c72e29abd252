"""Experiments: TOML configs, Dask sweeps with a resumable NetCDF store, run directories,
reports and the demo. Exports are lazy (no JAX/Dask at import time)."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "load_config": ".config", "register_model": ".config", "available_models": ".config",
    "get_model": ".config", "ModelSpec": ".config", "execute": ".runner",
    "run_config": ".runner", "rerun": ".runner", "write_run_report": ".runner",
    "run_sweep": ".sweep", "open_results": ".store", "run_demo": ".demo",
    "write_report": ".report", "Section": ".report", "Figure": ".report", "Table": ".report",
})

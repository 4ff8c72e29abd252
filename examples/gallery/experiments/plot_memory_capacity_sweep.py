"""
A parameter sweep from a TOML config
====================================

An experiment is one TOML file: a registered model (here ``memory.capacity``: store
``P`` random ±1 pairs of length ``N`` in a Hebbian linear memory and probe every
input), fixed parameters, a grid and seeds. ``run_config`` validates it, runs the grid
in vectorised chunks (in-process here; ``scheduler="tcp://..."`` sends it to Dask) and
writes one NetCDF store that ``open_results`` returns as an xarray Dataset with one
dimension per grid axis. The measured bit error follows the theory
``Phi(-sqrt(N / (P - 1)))``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tomli_w
from scipy.stats import norm

from engramlab.experiments import open_results, run_config

config = {
    "name": "memory-capacity-gallery",
    "model": "memory.capacity",
    "params": {"learning_rate": 0.5},
    "grid": {"n_patterns": [2, 4, 8, 16, 32, 64], "n_units": [32, 128]},
    "seeds": {"count": 4},
    "sweep": {"chunk_size": 48},
    "outputs": {"report": False},
}
work = Path(tempfile.mkdtemp(prefix="engramlab-gallery-"))
(work / "capacity.toml").write_text(tomli_w.dumps(config))

outcome = run_config(work / "capacity.toml", out_dir=work / "run", quiet=True)
ds = open_results(outcome.out_dir)
print(ds["bit_error"].mean("seed").to_pandas().round(4))

fig, ax = plt.subplots(figsize=(6.5, 4))
for n in ds["n_units"].values:
    err = ds["bit_error"].sel(n_units=n)
    p = ds["n_patterns"].values
    ax.errorbar(p, err.mean("seed"), yerr=err.std("seed"), fmt="o", label=f"N = {n}")
    ax.plot(p, norm.cdf(-np.sqrt(n / np.maximum(p - 1, 1e-9))), "k--", lw=0.8)
ax.set(xscale="log", xlabel="stored pairs P", ylabel="bit error of recall",
       title="Hebbian linear memory: sweep vs theory (dashed)")
ax.set_xticks(p, [str(v) for v in p])
ax.minorticks_off()
ax.legend()
fig.tight_layout()
plt.show()

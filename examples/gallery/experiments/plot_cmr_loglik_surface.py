"""
A CMR likelihood surface from the shipped example config
========================================================

``examples/cmr_loglik.toml`` sweeps CMR's choice sensitivity and MFC learning rate and
records the exact log-likelihood of Morton2013 subject 1 at every grid point. The same
file runs from the command line (``engramlab run examples/cmr_loglik.toml``) or on a
Dask cluster (``engramlab sweep ... --scheduler tcp://HOST:8786``).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from engramlab.experiments import load_config, open_results, run_config

# the repository's examples/ folder, from the repository root or from this script's folder
start = Path.cwd().resolve()
config = next(d / "examples" / "cmr_loglik.toml" for d in (start, *start.parents)
              if (d / "examples" / "cmr_loglik.toml").is_file())
resolved = load_config(config)  # validated: a misspelled key would raise ConfigError here
print("grid:", resolved.to_dict()["grid"])

out = Path(tempfile.mkdtemp(prefix="engramlab-gallery-")) / "cmr-loglik"
outcome = run_config(config, out_dir=out, quiet=True, report=False)
surface = open_results(outcome.out_dir)["loglik"].isel(seed=0)
print(surface.to_pandas().round(1))

fig, ax = plt.subplots(figsize=(6, 4))
surface.plot(ax=ax, x="learning_rate", y="choice_sensitivity", cmap="viridis")
best = surface.where(surface == surface.max(), drop=True)
ax.plot(best["learning_rate"], best["choice_sensitivity"], "r*", ms=14, label="maximum")
ax.legend(loc="upper right")
ax.set_title("log-likelihood, Morton2013 subject 1")
fig.tight_layout()
plt.show()

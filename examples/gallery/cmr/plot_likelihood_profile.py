"""
A likelihood profile: how sharply the data pin down a parameter
===============================================================

The exact log-likelihood of one subject's recalls is evaluated along the choice
sensitivity (``tau`` of jaxcmr's power rule) and the encoding drift rate, all other
parameters at their defaults. Every evaluation is one jitted call of
``cmr.log_likelihood``; the shapes never change, so JAX compiles once.
"""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

import engramlab.cmr as cmr

df = cmr.load_dataset("Morton2013")
subject = df[df["subject"] == 1]
base = cmr.JaxcmrParams()

grids = {"choice_sensitivity": np.linspace(0.5, 6.0, 12),
         "encoding_drift_rate": np.linspace(0.3, 0.95, 12)}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, (name, values) in zip(axes, grids.items(), strict=True):
    logl = [cmr.log_likelihood(subject, dataclasses.replace(base, **{name: float(v)}),
                               variant="jaxcmr") for v in values]
    ax.plot(values, logl, "o-")
    best = values[int(np.argmax(logl))]
    ax.axvline(best, ls="--", c="0.5")
    ax.set(xlabel=name, title=f"best {name} = {best:.2f}")
    print(f"{name}: best {best:.2f}, log L {max(logl):.1f}")
axes[0].set_ylabel("log-likelihood (subject 1, 48 lists)")
fig.tight_layout()
plt.show()

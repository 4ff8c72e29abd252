"""
Parity with cymr: the same log-likelihood, subject by subject
=============================================================

The ``"cymr"`` variant reproduces the localist CMR of the cymr package (Morton & Polyn
2016). Here both compute each subject's log-likelihood of the Morton2013 recall
sequences at the same parameters: engramlab with
``cmr.log_likelihood(df, params, variant="cymr", per_subject=True)`` and cymr with
``cymr.cmr.CMR().likelihood``. The points lie on the identity line; the printed
relative difference is at the level of floating-point round-off.
"""

import matplotlib.pyplot as plt
import numpy as np
from cymr import cmr as ccmr

import engramlab.cmr as cmr
from engramlab.plots.cmr import plot_fit_scatter

df = cmr.load_dataset("Morton2013")
data = df[df["subject"].isin(df["subject"].unique()[:6])]
params = dict(B_enc=0.6, B_start=0.3, B_rec=0.8, Lfc=0.4, Lcf=0.5, Afc=0.0, Dfc=0.6,
              Acf=0.05, Dcf=0.7, P1=2.0, P2=1.0, T=0.2, X1=0.02, X2=0.2)
pool = 768  # Morton2013's item pool

ours = cmr.log_likelihood(data, cmr.CymrParams(**params), variant="cymr", per_subject=True,
                          pool_size=pool)
param_def, patterns = ccmr.config_loc_cmr(pool)
ref = ccmr.CMR().likelihood(data, params, param_def=param_def, patterns=patterns)["logl"]

rel = np.max(np.abs(ours.to_numpy() - ref.to_numpy()) / np.abs(ref.to_numpy()))
print(f"{len(ours)} subjects; max relative difference engramlab vs cymr: {rel:.1e}")

ax = plot_fit_scatter(ref.to_numpy(), ours.to_numpy(), xlabel="cymr log-likelihood",
                      ylabel="engramlab (variant='cymr')",
                      title=f"per-subject log-likelihood, max rel. diff {rel:.0e}")
ax.figure.set_size_inches(5, 4.5)
ax.figure.tight_layout()
plt.show()

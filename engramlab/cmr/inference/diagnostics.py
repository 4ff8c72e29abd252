"""Convergence diagnostics of a posterior: rank-normalised split R-hat, bulk and tail
effective sample sizes (Vehtari et al. 2021, through ArviZ) and divergences."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConvergenceWarning
from .convert import read_meta

__all__ = ["ESS_MIN", "RHAT_MAX", "diagnostics"]

#: Usual thresholds (Vehtari et al. 2021): rank-normalised split R-hat and total bulk /
#: tail effective sample sizes.
RHAT_MAX = 1.01
ESS_MIN = 400


def diagnostics(idata: Any, *, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN,
                warn: bool = True) -> pd.DataFrame:
    """Convergence table: one row per scalar posterior quantity.

    Columns ``mean, sd, q5, q95, r_hat`` (rank-normalised split R-hat), ``ess_bulk``,
    ``ess_tail`` (ArviZ), and ``ok`` (``r_hat <= rhat_max`` and both ESS ``>= ess_min``).
    The summary (``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail``, ``n_divergent``,
    ``n_draws``) is stored in ``idata.sample_stats.attrs``; with ``warn`` a
    :class:`~engramlab.errors.ConvergenceWarning` lists what fails (R-hat > 1.01, ESS < 400,
    any divergence). R-hat needs >= 2 chains (NaN with one chain, reported as failing).
    """
    import arviz as az

    read_meta(idata, groups=("sample_stats",))
    post = idata.posterior
    names = list(post.data_vars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns on tiny samples / single chains
        rhat = az.rhat(post, var_names=names)
        essb = az.ess(post, var_names=names, method="bulk")
        esst = az.ess(post, var_names=names, method="tail")
    rows = []
    for n in names:
        v = post[n]
        extra = [d for d in v.dims if d not in ("chain", "draw")]
        stacked = v.stack(_s=("chain", "draw")).transpose(*extra, "_s").values
        flat_r, flat_b, flat_t = (np.atleast_1d(a[n].values).ravel() for a in (rhat, essb, esst))
        flat = stacked.reshape(-1, stacked.shape[-1])
        labels = ([n] if not extra else
                  [f"{n}[{c}]" for c in np.atleast_1d(post[extra[0]].values)])
        for i, lab in enumerate(labels):
            rows.append({"variable": lab, "mean": flat[i].mean(), "sd": flat[i].std(ddof=1)
                         if flat.shape[1] > 1 else np.nan,
                         "q5": np.quantile(flat[i], 0.05), "q95": np.quantile(flat[i], 0.95),
                         "r_hat": flat_r[i], "ess_bulk": flat_b[i], "ess_tail": flat_t[i]})
    tab = pd.DataFrame(rows).set_index("variable")
    tab["ok"] = ((tab["r_hat"] <= rhat_max) & (tab["ess_bulk"] >= ess_min)
                 & (tab["ess_tail"] >= ess_min))
    n_div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    summary = {"max_r_hat": float(np.nanmax(tab["r_hat"])) if tab["r_hat"].notna().any()
               else float("nan"),
               "min_ess_bulk": float(tab["ess_bulk"].min()),
               "min_ess_tail": float(tab["ess_tail"].min()), "n_divergent": n_div,
               "n_draws": n_draws, "n_chains": int(post.sizes["chain"])}
    idata.sample_stats.attrs.update(summary)
    if warn:
        problems = []
        bad_r = tab[~(tab["r_hat"] <= rhat_max)]
        if len(bad_r):
            worst = (bad_r["r_hat"].idxmax() if bad_r["r_hat"].notna().any()
                     else bad_r.index[0])
            problems.append(f"R-hat > {rhat_max} (or undefined with one chain) for "
                            f"{len(bad_r)} of {len(tab)} quantities (worst {worst} = "
                            f"{summary['max_r_hat']:.3f})")
        for col in ("ess_bulk", "ess_tail"):
            bad = tab[tab[col] < ess_min]
            if len(bad):
                problems.append(f"{col.replace('_', ' ')} < {ess_min:g} for {len(bad)} "
                                f"quantities (lowest {bad[col].idxmin()} = "
                                f"{bad[col].min():.0f} of {n_draws} draws)")
        if n_div:
            problems.append(f"{n_div} divergent transition(s) of {n_draws} (raise "
                            "target_accept, narrow bounds or reparameterise)")
        if problems:
            warnings.warn("NUTS diagnostics fail the usual thresholds: " + "; ".join(problems)
                          + ". Do not trust these posteriors; run longer chains.",
                          ConvergenceWarning, stacklevel=2)
    return tab

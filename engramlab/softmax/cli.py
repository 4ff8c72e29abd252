"""``engramlab softmax run|theory|capacity`` (heavy imports inside the commands only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli import check_budget, check_finite_result, out_file

app = typer.Typer(no_args_is_help=True, help="Softmax synaptic dynamics (Lotito 2025, App. B).")

_Seed = Annotated[int, typer.Option("--seed", "-s", help="Random seed.")]
_Beta = Annotated[float, typer.Option(help="Softmax inverse temperature beta (>= 0).")]
_Tau = Annotated[float, typer.Option(help="Memory time constant tau_Xi (steps).")]
_Noise = Annotated[float, typer.Option(help="Std of the noise making targets from memories.")]
_Steps = Annotated[int, typer.Option("--n-steps", min=1, help="Number of Euler steps T.")]
_Out = Annotated[Path | None, typer.Option("--out", "-o", help="Write results as JSON.",
                                            callback=out_file)]
_Plot = Annotated[Path | None, typer.Option("--plot", help="Save the figure (PNG).",
                                            callback=out_file)]


@app.command()
def run(seed: _Seed = 0, beta: _Beta = 2.0, tau: _Tau = 250.0, noise: _Noise = 0.4,
        n_steps: _Steps = 2000, n_v: Annotated[int, typer.Option(min=1, help="N_v.")] = 50,
        n_h: Annotated[int, typer.Option(min=1, help="N_h.")] = 4,
        dt: Annotated[float, typer.Option(help="Euler step.")] = 1.0,
        out: _Out = None, plot: _Plot = None) -> None:
    """One run of the App. B experiment: memory-target similarity, numerics vs theory."""
    import jax
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from .._io import save_figure, write_json
    from ._theory import run_appendix

    check_budget({"--n-steps": n_steps, "--n-v": n_v, "--n-h": n_h},
                 memory=4.0 * (4 * (max(n_steps, 0) + 1) * max(n_h, 1)
                               + 3 * max(n_steps, 0) * max(n_v, 1)),
                 work=10.0 * max(n_steps, 0) * max(n_h, 1) * max(n_v, 1))
    res = run_appendix(jax.random.key(seed), beta=beta, tau=tau, noise=noise, dt=dt,
                       n_v=n_v, n_h=n_h, n_steps=n_steps)
    sim, th, th_eq = res["similarity"], res["theory"], res["theory_equal_norms"]
    check_finite_result([sim, th, th_eq], "softmax run", "reduce --beta or --noise")
    table = Table(title=f"Similarity at t = T = {n_steps} (seed {seed})")
    for col in ("memory", "initial", "numerics", "theory", "max |err|", "max |err| paper"):
        table.add_column(col)
    for i in range(n_h):
        table.add_row(str(i + 1), f"{sim[0, i]:.4f}", f"{sim[-1, i]:.4f}", f"{th[-1, i]:.4f}",
                      f"{np.abs(sim - th)[:, i].max():.2e}",
                      f"{np.abs(sim - th_eq)[:, i].max():.2e}")
    Console().print(table)
    if out is not None:
        write_json(out, {"seed": seed, "beta": beta, "tau": tau, "noise": noise, "dt": dt,
                         "similarity": sim.tolist(), "theory": th.tolist(),
                         "theory_equal_norms": th_eq.tolist()})
    if plot is not None:
        from ..plots.softmax import plot_similarity_theory

        ax = plot_similarity_theory(sim, th, dt=dt)
        save_figure(ax.figure, plot.with_suffix(""), formats=("png",))


@app.command()
def theory(seeds: Annotated[int, typer.Option("--seeds", "-n", min=1,
                                             help="Number of seeds.")] = 100,
           seed: _Seed = 0, beta: _Beta = 2.0, tau: _Tau = 250.0, noise: _Noise = 0.4,
           n_steps: _Steps = 2000,
           tolerance: Annotated[float, typer.Option(help="Tolerance to report.")] = 2e-3,
           out: _Out = None, plot: _Plot = None) -> None:
    """Closed-form theory vs numerics across many seeds (one vmapped run)."""
    import jax
    import numpy as np
    from rich.console import Console

    from .._io import save_figure, write_json
    from ._theory import run_appendix

    check_budget({"--seeds": seeds, "--n-steps": n_steps},
                 memory=4.0 * 3 * max(seeds, 1) * (max(n_steps, 0) + 1) * 4,
                 work=10.0 * max(seeds, 1) * max(n_steps, 0) * 4 * 50)
    res = run_appendix(jax.random.key(seed), n_seeds=seeds, beta=beta, tau=tau, noise=noise,
                       n_steps=n_steps)
    check_finite_result([res["similarity"], res["theory"]], "softmax theory",
                        "reduce --beta or --noise")
    summary = {}
    for name, key in (("measured_norms", "theory"), ("paper_equal_norms",
                                                      "theory_equal_norms")):
        err = np.abs(res["similarity"] - res[key]).max(axis=(1, 2))
        summary[name] = {"max": float(err.max()), "median": float(np.median(err)),
                         "fraction_within_tolerance": float(np.mean(err < tolerance))}
        summary[name + "_per_seed"] = err
    con = Console()
    con.print(f"{seeds} seeds, beta={beta:g}, tau={tau:g}, noise={noise:g}, T={n_steps}")
    for name in ("measured_norms", "paper_equal_norms"):
        s = summary[name]
        con.print(f"  theory ({name}): max |err| {s['max']:.2e}, median {s['median']:.2e}, "
                  f"{s['fraction_within_tolerance']:.0%} of seeds within {tolerance:g}")
    if out is not None:
        write_json(out, {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                         for k, v in summary.items()})
    if plot is not None:
        from ..plots.softmax import plot_error_distribution

        ax = plot_error_distribution({"measured norms": summary["measured_norms_per_seed"],
                                      "paper's formula": summary["paper_equal_norms_per_seed"]},
                                     tolerance=tolerance)
        save_figure(ax.figure, plot.with_suffix(""), formats=("png",))


@app.command()
def capacity(seed: _Seed = 0, n_v: Annotated[int, typer.Option(min=1, help="N_v.")] = 64,
             k: Annotated[list[int] | None, typer.Option(
                 "--k", help="Numbers of memories (repeatable).")] = None,
             beta: Annotated[list[float] | None, typer.Option(
                 "--beta", help="DAM retrieval betas (repeatable).")] = None,
             flip: Annotated[float, typer.Option(help="Cue bit-flip probability.")] = 0.1,
             n_cues: Annotated[int, typer.Option(min=1, help="Cues per condition.")] = 96,
             out: _Out = None, plot: _Plot = None) -> None:
    """Learned memories as a dense associative memory vs the Hebbian network."""
    import jax
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from .._io import save_figure, write_json
    from ._retrieval import capacity_sweep

    ks = tuple(k) if k else (2, 4, 8, 16, 32)
    betas = tuple(beta) if beta else (0.03, 0.1, 1.0)
    kmax = max(abs(x) for x in ks)
    check_budget({"--n-v": n_v, "--k": kmax, "--n-cues": n_cues},
                 memory=4.0 * len(ks) * max(n_cues, 1) * (kmax + abs(n_v)) * abs(n_v),
                 work=20.0 * len(ks) * len(betas) * max(n_cues, 1) * kmax * abs(n_v) * 100)
    res = capacity_sweep(jax.random.key(seed), n_v=n_v, n_memories=ks, betas=betas,
                         flips=(flip,), n_cues=n_cues)
    check_finite_result(res, "softmax capacity", "reduce --beta")
    table = Table(title=f"Retrieval success (overlap >= 0.95), N_v={n_v}, flip={flip:g}")
    table.add_column("K")
    for b in betas:
        table.add_column(f"DAM learned, beta={b:g}")
    table.add_column("Hebbian")
    for i, kk in enumerate(ks):
        table.add_row(str(kk), *[f"{res['dam_learned'][i, j, 0]:.2f}"
                                 for j in range(len(betas))], f"{res['hebbian'][i, 0]:.2f}")
    Console().print(table)
    if out is not None:
        write_json(out, {n: np.asarray(v).tolist() for n, v in res.items()})
    if plot is not None:
        from ..plots.softmax import plot_retrieval_vs_memories

        ax = plot_retrieval_vs_memories(res, 0, n_v=n_v)
        save_figure(ax.figure, plot.with_suffix(""), formats=("png",))

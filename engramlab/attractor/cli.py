"""``engramlab attractor demo|scan|capacity``: thin commands over engramlab.attractor.

Heavy libraries (JAX, NumPy, matplotlib, xarray) are imported inside the commands only.
Each command writes PNG figures, a JSON summary and a NetCDF file of the arrays to
``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli import check_budget, check_finite_result, cli_names, out_dir

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)

_SALIENCE_HELP = "Salience s(E; beta): exp (exp(+beta E), default), linear (1 + beta E) or " \
    "seed (exp(-beta E), the seed's formula)."

Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder.", callback=out_dir)]
Seed = Annotated[int, typer.Option("--seed", "-s", help="Random seed.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _save(fig, out: Path, name: str) -> None:
    import matplotlib.pyplot as plt

    from .._io import save_figure

    save_figure(fig, out / name, formats=("png",))
    plt.close(fig)


def _netcdf(ds, path: Path) -> None:
    from .._io import write_with

    write_with(path, lambda p: ds.to_netcdf(p, engine="h5netcdf"))


@app.command()
def demo(
    out: Out = Path("results/attractor/demo"),
    n_neurons: Annotated[int, typer.Option("--n-neurons", "-n", min=2,
                                            help="Network size N.")] = 200,
    patterns: Annotated[int, typer.Option("--patterns", "-p", min=1,
                                          help="Number of random +-1 patterns.")] = 3,
    emotions: Annotated[list[float] | None, typer.Option(
        "--emotion", "-e", help="Emotion E per pattern (repeat; default 0, 1, 2, ...).")] = None,
    beta: Annotated[float, typer.Option("--beta", "-b", help="Emotional intensity.")] = 1.0,
    salience: Annotated[str, typer.Option(help=_SALIENCE_HELP)] = "exp",
    gamma: Annotated[float | None, typer.Option(help="Learning rate (default 1/N).")] = None,
    gain: Annotated[float, typer.Option(help="Gain of tanh.")] = 3.0,
    tau: Annotated[float, typer.Option(help="Time constant (ms).")] = 10.0,
    dt: Annotated[float, typer.Option(help="Euler step (ms).")] = 1.0,
    steps: Annotated[int, typer.Option(min=1, help="Recall steps.")] = 80,
    noise: Annotated[list[float] | None, typer.Option(
        "--noise", help="Cue noise levels (repeat; default 0, 0.1, ..., 1).")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Cues per pattern and noise level.")] = 40,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Imprint random patterns with emotions, recall noisy cues, plot basins vs emotion."""
    import jax
    import numpy as np
    import xarray as xr
    from rich.console import Console

    from .._io import write_json
    from .._progress import make_progress
    from ..errors import ShapeError
    from ..plots import attractor as pa
    from ..plots._style import new_figure
    from ._metrics import basin_curve, corrupt, random_patterns
    from ._network import AttractorNetwork, simulate

    cli_names(emotions="--emotion", n_steps="--steps", levels="--noise", noise="--noise",
              gamma="--gamma", salience_fn="--salience", n="--n-neurons",
              n_neurons="--n-neurons")
    n_levels = 11 if not noise else len(noise)
    check_budget({"--n-neurons": n_neurons, "--patterns": patterns, "--trials": trials,
                  "--steps": steps},
                 memory=4.0 * (2 * n_neurons**2 + patterns * max(trials, 1) * n_neurons
                               + patterns * max(steps, 1) * n_neurons),
                 work=2.0 * patterns * n_levels * max(trials, 1) * max(steps, 1)
                 * n_neurons**2)
    key = jax.random.key(seed)
    k_pat, k_basin, k_cue = jax.random.split(key, 3)
    xi = np.asarray(random_patterns(patterns, n_neurons, key=k_pat))
    emo = np.arange(patterns, dtype=float) if not emotions else np.asarray(emotions, float)
    if emo.shape[0] != xi.shape[0]:
        raise ShapeError(f"emotions: expected one --emotion per pattern ({patterns}), got "
                         f"{emo.shape[0]}")
    levels = np.linspace(0, 1, 11) if not noise else np.asarray(noise, float)
    g = 1.0 / n_neurons if gamma is None else gamma
    net = AttractorNetwork.zeros(n_neurons, tau=tau, dt=dt, gain=gain).imprint(
        xi, emo, gamma=g, beta=beta, salience_fn=salience)
    with make_progress(quiet) as progress:
        task = progress.add_task("attractor demo", total=2)
        grid = basin_curve(net, xi, levels, key=k_basin, trials=trials, n_steps=steps,
                           noise_model="mix")
        progress.advance(task)
        cues = np.asarray(corrupt(xi, 0.5, key=k_cue, model="mix"))
        traj = simulate(net, cues, n_steps=steps, save_every=1)
        progress.advance(task)
    check_finite_result(grid, "attractor demo", "the basin curve; reduce --beta or --gain")
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = new_figure(1, 2, figsize=(12, 4))
    pa.plot_retrieval(xi[0], np.asarray(traj.states[-1, 0]), ax=axes[0], cue=cues[0])
    pa.plot_weights(net.weights, ax=axes[1])
    _save(fig, out, "retrieval_weights")
    fig, ax = new_figure(figsize=(7, 4.3))
    pa.plot_basin_vs_emotion(emo, levels, grid, ax=ax, label=f"salience {salience}")
    _save(fig, out, "basin_vs_emotion")
    fig, ax = new_figure(figsize=(7, 5))
    pa.plot_pca_trajectories(traj.states, ax=ax, patterns=xi)
    _save(fig, out, "pca_trajectories")
    _netcdf(xr.Dataset({"success": (("pattern", "noise"), grid),
                        "patterns": (("pattern", "neuron"), xi),
                        "weights": (("post", "pre"), np.asarray(net.weights))},
                       coords={"emotion": ("pattern", emo), "noise": levels}),
            out / "attractor_demo.nc")
    summary = {"n_neurons": n_neurons, "emotions": emo, "beta": beta, "salience": salience,
               "gamma": g, "gain": gain, "tau_ms": tau, "dt_ms": dt, "steps": steps,
               "seed": seed, "noise_levels": levels, "basin_area": grid.mean(axis=1)}
    write_json(out / "summary.json", summary)
    Console().print(f"basin area per pattern (E = {emo.tolist()}): "
                    f"{np.round(grid.mean(axis=1), 3).tolist()}  -> {out}")


@app.command()
def scan(
    out: Out = Path("results/attractor/scan"),
    n_neurons: Annotated[int, typer.Option("--n-neurons", "-n", min=2,
                                            help="Network size N.")] = 100,
    emotion: Annotated[float, typer.Option("--emotion", "-e", help="Emotion E.")] = 2.0,
    beta_min: Annotated[float, typer.Option(help="Smallest beta.")] = 0.1,
    beta_max: Annotated[float, typer.Option(help="Largest beta.")] = 5.0,
    beta_num: Annotated[int, typer.Option(min=1, help="Number of beta values.")] = 20,
    salience: Annotated[list[str] | None, typer.Option(
        help=_SALIENCE_HELP + " Repeat to compare (default: seed and exp).")] = None,
    gamma: Annotated[float, typer.Option(help="Learning rate.")] = 1.0,
    noise: Annotated[float, typer.Option(help="Cue noise s.d. (seed: 0.4).")] = 0.4,
    trials: Annotated[int, typer.Option(help="Trials per beta.")] = 100,
    steps: Annotated[int, typer.Option(min=1, help="Recall steps.")] = 50,
    tau: Annotated[float, typer.Option(help="Time constant (ms).")] = 10.0,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Attractor strength against beta (the seed's emotion_impact_scan) per salience form."""
    import jax
    import numpy as np
    import xarray as xr
    from rich.console import Console

    from .._io import write_json
    from .._progress import track
    from .._validation import check_int
    from ..plots import attractor as pa
    from ..plots._style import new_figure
    from ._metrics import beta_scan, random_patterns

    cli_names(betas="--beta-min/--beta-max", beta="--beta-min/--beta-max",
              n_steps="--steps", salience_fn="--salience", n="--n-neurons")
    kinds = salience or ["seed", "exp"]
    check_int(beta_num, "beta_num", min_value=1)
    check_budget({"--n-neurons": n_neurons, "--beta-num": beta_num, "--trials": trials,
                  "--steps": steps},
                 memory=4.0 * (n_neurons**2 + max(trials, 1) * n_neurons) * max(beta_num, 1),
                 work=2.0 * len(kinds) * beta_num * max(trials, 1) * max(steps, 1)
                 * n_neurons**2)
    betas = np.linspace(beta_min, beta_max, beta_num)
    k_pat, k_scan = jax.random.split(jax.random.key(seed))
    xi = np.asarray(random_patterns(1, n_neurons, key=k_pat))[0]
    res = {}
    for kind in track(kinds, "beta scan", quiet=quiet):
        res[kind] = beta_scan(xi, betas, key=k_scan, emotion=emotion, salience_fn=kind,
                              gamma=gamma, trials=trials, noise=noise, n_steps=steps, tau=tau)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = new_figure(figsize=(7, 4.3))
    pa.plot_beta_scan(betas, {f"salience {k}": v for k, v in res.items()}, ax=ax)
    _save(fig, out, "beta_scan")
    _netcdf(xr.Dataset({k: ("beta", v) for k, v in res.items()}, coords={"beta": betas}),
            out / "beta_scan.nc")
    write_json(out / "beta_scan.json", {"beta": betas, "strength": res, "emotion": emotion,
                                        "gamma": gamma, "n_neurons": n_neurons, "seed": seed})
    from rich.table import Table

    table = Table(title=f"attractor strength (success rate over {trials} trials, E = "
                        f"{emotion:g})")
    table.add_column("beta", justify="right")
    for k in res:
        table.add_column(f"salience {k}", justify="right")
    for i, b in enumerate(betas):
        table.add_row(f"{b:.3g}", *(f"{float(v[i]):.2f}" for v in res.values()))
    con = Console()
    con.print(table)
    con.print(f"-> {out}")


@app.command()
def capacity(
    out: Out = Path("results/attractor/capacity"),
    n_neurons: Annotated[list[int] | None, typer.Option(
        "--n-neurons", "-n", help="Network size(s) N (repeat; default 200).")] = None,
    load_min: Annotated[float, typer.Option(help="Smallest load P/N.")] = 0.06,
    load_max: Annotated[float, typer.Option(help="Largest load P/N.")] = 0.22,
    load_num: Annotated[int, typer.Option(min=2, help="Number of loads.")] = 17,
    networks: Annotated[int, typer.Option(min=1, help="Networks per load.")] = 4,
    gain: Annotated[float, typer.Option(help="Gain of tanh.")] = 20.0,
    flip: Annotated[float, typer.Option(help="Fraction of cue signs flipped.")] = 0.05,
    threshold: Annotated[float, typer.Option(help="Overlap counted as retrieved.")] = 0.99,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Retrieval against the number of stored random patterns (Hopfield limit 0.138 N)."""
    import jax
    import numpy as np
    import xarray as xr
    from rich.console import Console

    from .._io import write_json
    from .._progress import track
    from .._validation import check_int
    from ..plots import attractor as pa
    from ..plots._style import new_figure
    from ._metrics import capacity_curve, capacity_transition

    sizes = n_neurons or [200]
    check_int(load_num, "load_num", min_value=2)
    big = max(abs(n) for n in sizes)
    cli_names(counts="--load-min/--load-max", n_networks="--networks", n="--n-neurons")
    check_budget({"--n-neurons": big, "--load-num": load_num, "--networks": networks,
                  "--load-max": load_max},
                 memory=4.0 * max(networks, 1) * big**2 * 3,
                 work=2.0 * load_num * max(networks, 1) * max(load_max, 0.0) * big**4)
    fig, ax = new_figure(figsize=(7, 4.3))
    summary, arrays = {}, {}
    for i, n in enumerate(track(sizes, "capacity", quiet=quiet)):
        check_int(n, "n_neurons", min_value=2)
        counts = np.unique(np.maximum(1, np.round(np.linspace(load_min, load_max, load_num)
                                                  * n).astype(int)))
        res = capacity_curve(n, counts, key=jax.random.key(seed + i), n_networks=networks,
                             gain=gain, flip=flip, threshold=threshold)
        a50 = capacity_transition(res["load"], res["success"])
        pa.plot_capacity(res["load"], res["success"], ax=ax, label=f"N = {n}",
                         alpha_c=0.138 if i == len(sizes) - 1 else None)
        summary[str(n)] = {"load": res["load"], "success": res["success"],
                           "transition_load": a50}
        arrays[f"success_N{n}"] = xr.DataArray(res["success"], dims=(f"load_N{n}",),
                                               coords={f"load_N{n}": res["load"]})
    out.mkdir(parents=True, exist_ok=True)
    _save(fig, out, "capacity")
    _netcdf(xr.Dataset(arrays), out / "capacity.nc")
    write_json(out / "capacity.json", {"gain": gain, "flip": flip, "threshold": threshold,
                                       "seed": seed, "sizes": summary})
    con = Console()
    for n, s in summary.items():
        a50 = s["transition_load"]
        where = (f"at P/N = {a50:.3f}" if np.isfinite(a50) else
                 f"not crossed for P/N in [{load_min:g}, {load_max:g}]")
        con.print(f"N = {n}: 50% retrieval {where} (Hopfield: 0.138)")
    con.print(f"-> {out}")

"""``engramlab eeg ...``: gamma-band phase locking of an EEG file.

Heavy libraries (NumPy, MNE, matplotlib) are imported inside the command only, so
``engramlab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._cli import ArgumentError, argument_errors, check_budget, out_dir, read_text_arg

app = typer.Typer(no_args_is_help=True, add_completion=False)

SPKIT = "spkit-sample"


def _read_labels(spec: str | None):
    """Labels from a file (.npy, or text/CSV with one label per line) or 'a,b,a,...'."""
    import numpy as np

    if spec is None:
        return None
    p = Path(spec)
    if p.suffix.lower() == ".npy" and p.exists():
        with argument_errors("--labels", ".npy file"):
            return np.load(p, allow_pickle=False)
    if p.exists():
        text = read_text_arg(p, "--labels", "labels file")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if len(lines) == 1 and "," in lines[0]:
            lines = [v.strip() for v in lines[0].split(",")]
        return np.array(lines)
    return np.array([v.strip() for v in spec.split(",") if v.strip()])


@app.command("plv")
def plv(
    file: Annotated[str, typer.Argument(
        help="EEG file: anything MNE reads (FIF, EDF, BrainVision, EEGLAB ...; *-epo.fif as "
        "epochs), a .npy/.npz array (n_epochs, n_channels, n_times) or (n_channels, "
        f"n_samples), or '{SPKIT}' for the 14-channel recording shipped with spkit.")],
    band: Annotated[tuple[float, float], typer.Option(help="Pass band in Hz.")] = (30.0, 80.0),
    labels: Annotated[str | None, typer.Option(
        help="Condition per epoch: a file (.npy, or text/CSV one per line) or 'a,b,a,...'. "
        "Default: event names of an epochs file, else one condition 'all'.")] = None,
    sfreq: Annotated[float | None, typer.Option(
        help="Sampling rate (Hz) for .npy/.npz arrays.")] = None,
    epoch_length: Annotated[float, typer.Option(
        help="Epoch length (s) when cutting continuous data.")] = 2.0,
    window: Annotated[tuple[float, float] | None, typer.Option(
        help="Analysis window (s, epoch time) after filtering.")] = None,
    estimator: Annotated[str, typer.Option(
        help="plv, ppc (unbiased PLV^2) or plv_debiased.")] = "plv",
    conditions: Annotated[tuple[str, str] | None, typer.Option(
        help="The two conditions to compare (default: the first two, sorted).")] = None,
    sense: Annotated[str, typer.Option(
        help="Condition test on across_trials or within_trial PLV.")] = "across_trials",
    n_permutations: Annotated[int, typer.Option(min=1, help="Label shuffles.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the permutations.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.",
                                      callback=out_dir)] = Path("results/eeg"),
) -> None:
    """Phase-locking values of every channel pair, per condition: tables and figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.console import Console

    from .._io import save_figure, write_json, write_text, write_with
    from ..plots.eeg import plot_condition_bars, plot_plv_matrix, plot_plv_timecourse
    from ._data import load_eeg, load_spkit_sample
    from ._pipeline import phase_locking

    if file == SPKIT:
        source = load_spkit_sample()
    else:
        source = Path(file)
        if not source.is_file():
            raise ArgumentError("FILE", f"{file!r} is not an existing file (or "
                                f"'{SPKIT}')")
    lab = _read_labels(labels)
    with argument_errors("FILE", "EEG file"):
        data = load_eeg(source, sfreq=sfreq, labels=lab, epoch_length=epoch_length)
    res = phase_locking(data, band=band, window=window, estimator=estimator)
    n_ep, n_ch, n_t = res.phasors.shape[:3]
    check_budget({"--n-permutations": n_permutations},
                 memory=8.0 * max(n_permutations, 1) * n_ch * n_ch,
                 work=4.0 * max(n_permutations, 1) * n_ep * n_ch * n_ch
                 * (n_t if sense == "within_trial" else 1))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    df = res.to_frame()
    written.append(write_text(out / "plv_pairs.csv", df.to_csv(index=False)))
    written.append(write_with(out / "plv.nc",
                              lambda p: res.to_dataset().to_netcdf(p, engine="h5netcdf")))
    for cond in res.conditions:
        ax = plot_plv_matrix(res.matrix(cond), title=f"Across-trial PLV, {cond} "
                             f"({res.band[0]:g}-{res.band[1]:g} Hz)")
        written += save_figure(ax.figure, out / f"plv_matrix_{cond}")
        plt.close(ax.figure)
    ax = plot_plv_matrix(res.matrix(sense="within_trial"),
                         title=f"Within-epoch PLV, {res.conditions[0]}")
    written += save_figure(ax.figure, out / "plv_matrix_within_trial")
    plt.close(ax.figure)
    n_trials = {c: int((res.labels == c).sum()) for c in res.conditions}
    ax = plot_plv_timecourse(res.timecourse(), n_trials=n_trials)
    written += save_figure(ax.figure, out / "plv_timecourse")
    plt.close(ax.figure)
    summary = {"file": str(file), "band_hz": list(res.band), "sfreq_hz": res.sfreq,
               "estimator": estimator, "n_epochs": int(res.phasors.shape[0]),
               "channels": list(res.ch_names), "n_trials": n_trials}
    console = Console()
    if len(res.conditions) >= 2:
        conds = conditions or (res.conditions[0], res.conditions[1])
        cmp = res.compare(conds, sense=sense, n_permutations=n_permutations, seed=seed)
        written.append(write_text(out / "condition_summary.csv",
                                  cmp.table.to_csv(index=False)))
        summary["comparison"] = cmp.summary()
        ax = plot_condition_bars(cmp)
        written += save_figure(ax.figure, out / "condition_bars")
        plt.close(ax.figure)
        for rec in cmp.table.to_dict("records"):
            console.print(f"  {rec['condition']:<12} n={rec['n_trials']:<4} "
                          f"PLV {rec['value']:.3f} ± {rec['sem']:.3f} (SEM)")
        console.print(f"  {conds[0]} - {conds[1]}: {cmp.difference:+.3f}, permutation "
                      f"p = {cmp.p_value:.3g}, d = {cmp.effect_size:.2f}")
    else:
        m = df[df["sense"] == "across_trials"]["plv"]
        console.print(f"  one condition ({res.conditions[0]}): mean across-trial PLV over "
                      f"pairs {m.mean():.3f}")
    written.append(write_json(out / "summary.json", summary))
    console.print(f"wrote {len(written)} files to [bold]{out}[/bold]")

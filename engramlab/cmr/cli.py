"""``engramlab cmr loglik | fit | simulate``: thin over :mod:`engramlab.cmr`.

Heavy libraries are imported inside the commands only (``engramlab --help`` stays free
of JAX).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .._cli import (
    argument_errors,
    check_budget,
    check_finite_result,
    check_scheduler_arg,
    out_file,
    read_mapping_arg,
)

app = typer.Typer(no_args_is_help=True, add_completion=False)

_Data = Annotated[str, typer.Option(
    "--data", "-d", help="Dataset name (Morton2013, PEERS), a psifr CSV file, or a jaxcmr "
    "HDF5 file (.h5).")]
_Subjects = Annotated[list[str] | None, typer.Option(
    "--subject", help="Keep only these subjects (repeatable).")]
_Variant = Annotated[str, typer.Option(
    "--variant", "-v", help="A registered CMR variant: jaxcmr (jaxcmr's code), paper (the "
    "papers' equations), cymr (cymr's code), ...")]
_Params = Annotated[Path | None, typer.Option(
    "--params", "-p", help="JSON or TOML file of parameter values (missing names keep "
    "the variant's defaults).")]
_Set = Annotated[list[str] | None, typer.Option(
    "--set", help="NAME=VALUE parameter override (repeatable).")]
_Pool = Annotated[int | None, typer.Option(
    "--pool-size", min=1, help="cymr variant: localist pool size (default max item_index + 1).")]


def _load_data(data: str, subjects: list[str] | None) -> Any:
    import pandas as pd

    from ..errors import DataError
    from ._data import DATASETS, from_arrays, load_dataset, read_jaxcmr_h5

    if data in DATASETS:
        df = load_dataset(data)
    else:
        p = Path(data)
        if not p.exists():
            raise DataError(f"--data: {data!r} is neither a dataset name {sorted(DATASETS)} "
                            "nor an existing file")
        if not p.is_file():
            raise DataError(f"--data: {data!r} is not a regular file")
        if p.suffix.lower() in (".h5", ".hdf5"):
            with argument_errors("--data", "jaxcmr HDF5 file"):
                df = from_arrays(read_jaxcmr_h5(p))
        else:
            with argument_errors("--data", "psifr CSV file"):
                df = pd.read_csv(p)
            if df.empty:
                raise DataError(f"--data: {data!r} has no rows")
    if subjects:
        keep = df["subject"].astype(str).isin(subjects)
        if not keep.any():
            raise DataError(f"--subject: none of {subjects} is in the data")
        df = df[keep]
    return df


def _params(variant: str, params: Path | None, sets: list[str] | None) -> Any:
    import math

    from ..errors import ConfigError
    from ._params import params_class

    cls = params_class(variant)
    values = cls().to_dict()
    if params is not None:
        values.update(read_mapping_arg(params, "--params"))
    for s in sets or []:
        name, sep, val = s.partition("=")
        if not sep:
            raise ConfigError(f"--set: expected NAME=VALUE, got {s!r}")
        try:
            values[name.strip()] = float(val)
        except ValueError:
            raise ConfigError(f"--set: {name.strip()} needs a number, got {val!r}") from None
        if not math.isfinite(values[name.strip()]):
            raise ConfigError(f"--set: {name.strip()} needs a finite number, got {val!r}")
    return cls.from_mapping(values, name="--params/--set")


@app.command()
def loglik(data: _Data = "Morton2013", subject: _Subjects = None, variant: _Variant = "jaxcmr",
           params: _Params = None, set_: _Set = None, pool_size: _Pool = None,
           per_subject: Annotated[bool, typer.Option(help="One value per subject.")] = False,
           ) -> None:
    """Log-likelihood of a dataset at fixed parameters."""
    from ._api import log_likelihood

    df = _load_data(data, subject)
    p = _params(variant, params, set_)
    ll = log_likelihood(df, p, variant=variant, per_subject=per_subject, pool_size=pool_size)
    check_finite_result(ll, "cmr loglik", "the data are impossible under these parameters "
                        "or the parameters overflow; check --params/--set")
    if per_subject:
        typer.echo(ll.to_string())
    else:
        typer.echo(f"{ll:.10g}")


@app.command()
def fit(data: _Data = "Morton2013", subject: _Subjects = None, variant: _Variant = "jaxcmr",
        method: Annotated[str, typer.Option(help="de or gradient.")] = "de",
        free: Annotated[list[str] | None, typer.Option(
            "--free", help="Free parameter (repeatable; default: the variant's set).")] = None,
        params: _Params = None, set_: _Set = None, pool_size: _Pool = None,
        per_subject: Annotated[bool, typer.Option(
            help="Fit every subject separately on Dask.")] = False,
        scheduler: Annotated[str | None, typer.Option(
            help="Dask scheduler tcp://HOST:PORT (default: in-process cluster).",
            callback=check_scheduler_arg)] = None,
        workers: Annotated[int, typer.Option(min=1, help="Local cluster threads.")] = 1,
        seed: int = 0,
        maxiter: Annotated[int, typer.Option(min=1)] = 100,
        popsize: Annotated[int, typer.Option(min=1)] = 10,
        n_starts: Annotated[int, typer.Option(min=1)] = 4,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Write the table here (.nc NetCDF or .csv).",
            callback=out_file)] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        ) -> None:
    """Maximum-likelihood fit (group, or per subject on Dask)."""
    from ._fit import DEFAULT_FREE, fit_subjects, save_fits
    from ._fit import fit as fit_fn

    df = _load_data(data, subject)
    p = _params(variant, params, set_).to_dict()
    free_names = list(free) if free else list(DEFAULT_FREE[variant])
    ll_max = float(df["position"].max()) if "position" in df and len(df) else 1.0
    check_budget({"--maxiter": maxiter, "--popsize": popsize, "--n-starts": n_starts},
                 work=8.0 * max(maxiter, 1) * max(popsize, 1) * max(n_starts, 1)
                 * max(len(free_names), 1) * len(df) * ll_max**2)
    fixed = {k: v for k, v in p.items() if k not in free_names}
    kw = dict(variant=variant, method=method, free=free_names, fixed=fixed, seed=seed,
              maxiter=maxiter, popsize=popsize, n_starts=n_starts, pool_size=pool_size)
    if per_subject:
        table = fit_subjects(df, scheduler=scheduler, workers=workers, quiet=quiet, **kw)
    else:
        table = fit_fn(df, **kw)
    typer.echo(table.to_string(index=False))
    if out is not None:
        if out.suffix == ".csv":
            from .._io import write_text

            write_text(out, table.to_csv(index=False))
        else:
            save_fits(table, out)
        typer.echo(f"wrote {out}")


@app.command()
def simulate(variant: _Variant = "jaxcmr", params: _Params = None, set_: _Set = None,
             data: Annotated[str | None, typer.Option(
                 "--data", "-d", help="Use this dataset's study lists as the design.")] = None,
             subject: _Subjects = None,
             list_length: Annotated[int, typer.Option(min=1)] = 24,
             n_lists: Annotated[int, typer.Option(min=1)] = 48,
             n_subjects: Annotated[int, typer.Option(min=1)] = 1,
             seed: Annotated[int, typer.Option(help="PRNG seed.")] = 0,
             out: Annotated[Path | None, typer.Option(
                 "--out", "-o", help="CSV file for the psifr long-format table.",
                 callback=out_file)] = None,
             ) -> None:
    """Simulate recall sequences (psifr long format), print a summary or write CSV."""
    import jax

    from .._io import write_text
    from ._analysis import recall_curves
    from ._api import simulate as sim_fn

    p = _params(variant, params, set_)
    if data is None:
        check_budget({"--list-length": list_length, "--n-lists": n_lists,
                      "--n-subjects": n_subjects},
                     memory=4.0 * (2 * (list_length + 1) ** 2
                                   + 4 * list_length * n_lists * n_subjects),
                     work=4.0 * n_lists * n_subjects * float(list_length) ** 3)
    design: Any = (_load_data(data, subject) if data is not None else
                   {"list_length": list_length, "n_lists": n_lists, "n_subjects": n_subjects})
    df = sim_fn(p, design, key=jax.random.key(seed), variant=variant)
    if out is not None:
        write_text(out, df.to_csv(index=False))
        typer.echo(f"wrote {out}")
    spc = recall_curves(df)["spc"]
    typer.echo(f"{df['list'].groupby(df['subject']).nunique().sum()} lists; mean recall "
               f"probability {spc['recall'].mean():.3f}")

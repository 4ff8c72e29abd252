"""``engramlab cmr loglik | fit | simulate | sample``: thin over :mod:`engramlab.cmr`.

Heavy libraries are imported inside the commands only (``engramlab --help`` stays free
of JAX).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from .._cli import (
    argument_errors,
    check_budget,
    check_finite_result,
    check_scheduler_arg,
    out_dir,
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
    "--set", help="NAME=VALUE parameter override (repeatable); VARIANT:NAME=VALUE sets it "
    "for that variant only, NAME=VALUE for every requested variant that has NAME.")]
_Pool = Annotated[int | None, typer.Option(
    "--pool-size", min=1, max=100_000,
    help="cymr variant: localist pool size (default max item_index + 1).")]


_ItemsFrom = Annotated[str | None, typer.Option(
    "--features", help="Item categories from this study-event column of the data (e.g. "
    "category), for variants that read item data (cymr-category, jaxcmr-semantic-*: "
    "similarity 1 within a category, 0 between).")]
_Similarity = Annotated[Path | None, typer.Option(
    "--similarity", help="A .npy file: the (P, P) similarity of the item pool (rows by "
    "item_index), for the semantic variants.")]
_Vectors = Annotated[Path | None, typer.Option(
    "--vectors", help="A .npy file: (P, d) item vectors (e.g. word embeddings, rows by "
    "item_index); similarity is their cosine.")]


def _items(df: Any, features: str | None, similarity: Path | None,
           vectors: Path | None) -> Any:
    """The :class:`ItemFeatures` of ``--features`` / ``--similarity`` / ``--vectors``
    (at most one), or ``None``."""
    import numpy as np

    from ..errors import DataError
    from ._items import ItemFeatures

    given = [n for n, v in (("--features", features), ("--similarity", similarity),
                            ("--vectors", vectors)) if v is not None]
    if len(given) > 1:
        raise DataError(f"{' and '.join(given)}: give one item representation, not several")
    if features is not None:
        if df is None:
            raise DataError("--features: needs --data (the column is read from it)")
        return ItemFeatures.from_data(df, features)
    for opt, path, make in (("--similarity", similarity, ItemFeatures.from_similarity),
                            ("--vectors", vectors, ItemFeatures.from_vectors)):
        if path is None:
            continue
        if not path.is_file():
            raise DataError(f"{opt}: {str(path)!r} is not an existing file")
        with argument_errors(opt, ".npy array file"):
            arr = np.load(path, allow_pickle=False)
        return make(arr)
    return None


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
    return _keep_subjects(df, subjects)


def _keep_subjects(df: Any, subjects: list[str] | None) -> Any:
    """The rows of ``--subject`` s (all when none is given)."""
    from ..errors import DataError

    if subjects:
        keep = df["subject"].astype(str).isin(subjects)
        if not keep.any():
            raise DataError(f"--subject: none of {subjects} is in the data")
        df = df[keep]
    return df


def _data_and_items(data: str, subjects: list[str] | None, features: str | None,
                    similarity: Path | None, vectors: Path | None) -> tuple[Any, Any]:
    """``--data`` read once: its ``--subject`` rows and the item features, which
    ``--features`` reads from every subject's study events (so that the pool's categories
    do not depend on which subjects are kept)."""
    full = _load_data(data, None)
    return _keep_subjects(full, subjects), _items(full, features, similarity, vectors)


@dataclass(frozen=True)
class VariantOptions:
    """The ``--free`` and ``--set`` values that apply to one variant.

    ``free``: name -> ``(lo, hi)`` bounds, or ``None`` for the class's default bounds
    (empty: none given for this variant, so its default free set); ``sets``: name ->
    value.
    """

    free: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    sets: dict[str, float] = field(default_factory=dict)


def _split_item(option: str, item: str, variants: Sequence[str]
                ) -> tuple[str | None, str, str | None]:
    """``[VARIANT:]NAME[=VALUE]`` -> ``(variant or None, name, value or None)``; the
    variant must be one of ``variants``."""
    from ..errors import ConfigError

    left, sep, value = item.partition("=")
    target, colon, name = left.rpartition(":")
    target, name = target.strip(), name.strip()
    if not name or (colon and not target):
        raise ConfigError(f"{option}: expected [VARIANT:]NAME{'=...' if sep else ''}, "
                          f"got {item!r}")
    if colon and target not in variants:
        raise ConfigError(f"{option}: {item!r} names variant {target!r}, which is not "
                          f"requested (--variant {' '.join(variants)})")
    return (target if colon else None), name, (value if sep else None)


def _parse_bounds(item: str, value: str | None) -> tuple[float, float] | None:
    """``LO:HI`` of ``--free NAME=LO:HI`` (``None`` when no ``=`` was given)."""
    from ..errors import ConfigError

    if value is None:
        return None
    lo, colon, hi = value.partition(":")
    try:
        if not colon:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise ConfigError(f"--free: expected NAME=LO:HI or VARIANT:NAME=LO:HI, got "
                          f"{item!r}") from None


def _parse_value(item: str, name: str, value: str | None) -> float:
    """The number of ``--set NAME=VALUE``: finite, or a ``ConfigError``."""
    from ..errors import ConfigError

    if value is None:
        raise ConfigError(f"--set: expected NAME=VALUE or VARIANT:NAME=VALUE, got {item!r}")
    try:
        x = float(value)
    except ValueError:
        raise ConfigError(f"--set: {name} needs a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ConfigError(f"--set: {name} needs a finite number, got {value!r}")
    return x


def per_variant_options(free: Sequence[str] | None, sets: Sequence[str] | None,
                        variants: Sequence[str]) -> dict[str, VariantOptions]:
    """Distribute ``--free`` and ``--set`` over the requested variants.

    ``--free NAME`` / ``--free NAME=LO:HI`` and ``--set NAME=VALUE`` apply to every
    requested variant that has a parameter ``NAME``; ``VARIANT:NAME...`` only to that
    variant (and wins over an unprefixed value for it). A name that no requested variant
    has (or that the named variant lacks) is a :class:`~engramlab.errors.ConfigError`
    naming the option, the name and the variants' parameter names (exit 2 on the CLI).

    **Returns:** variant -> :class:`VariantOptions`, for every variant in ``variants``.
    """
    from ..errors import ConfigError
    from ._variants import params_class

    names = {v: tuple(params_class(v).names()) for v in variants}
    out = {v: VariantOptions() for v in variants}
    prefixed: dict[str, set[tuple[str, str]]] = {"--free": set(), "--set": set()}

    def known(option: str, item: str, target: str | None, name: str) -> list[str]:
        where = [target] if target is not None else list(variants)
        hit = [v for v in where if name in names[v]]
        if not hit:
            listed = "; ".join(f"{v}: {', '.join(names[v])}" for v in where)
            whose = f"variant {target}" if target is not None else (
                "any requested variant" if len(where) > 1 else f"variant {where[0]}")
            given = f" (in {item!r})" if item.strip() != name else ""
            raise ConfigError(f"{option}: {name!r}{given} is not a parameter of {whose}; "
                              f"parameters: {listed}")
        return hit

    for option, items in (("--free", free), ("--set", sets)):
        for item in items or []:
            target, name, value = _split_item(option, item, variants)
            parsed: Any = (_parse_bounds(item, value) if option == "--free"
                           else _parse_value(item, name, value))
            for v in known(option, item, target, name):
                if target is None and (v, name) in prefixed[option]:
                    continue            # VARIANT:NAME given: it wins for that variant
                if target is not None:
                    prefixed[option].add((v, name))
                (out[v].free if option == "--free" else out[v].sets)[name] = parsed
    return out


def _params(variant: str, params: Path | None, sets: list[str] | None | dict[str, float]
            ) -> Any:
    """The variant's parameters: class defaults, then ``--params``, then ``--set``
    (``NAME=VALUE`` strings, or values already parsed by :func:`per_variant_options`)."""
    from ._variants import params_class

    cls = params_class(variant)
    values = cls().to_dict()
    if params is not None:
        values.update(read_mapping_arg(params, "--params"))
    if not isinstance(sets, dict):
        sets = per_variant_options(None, sets, [variant])[variant].sets
    values.update(sets)
    return cls.from_mapping(values, name="--params/--set")


def _free_spec(variant: str, opts: VariantOptions) -> dict[str, tuple[float, float]] | None:
    """``free=`` for the library: the given names with their bounds (the class's default
    bounds where none were given), or ``None`` (the variant's default free set)."""
    from ._variants import params_class

    if not opts.free:
        return None
    bounds = params_class(variant).BOUNDS
    return {n: (b if b is not None else tuple(bounds.get(n, (0.0, 1.0))))
            for n, b in opts.free.items()}


@app.command()
def loglik(data: _Data = "Morton2013", subject: _Subjects = None, variant: _Variant = "jaxcmr",
           params: _Params = None, set_: _Set = None, pool_size: _Pool = None,
           per_subject: Annotated[bool, typer.Option(help="One value per subject.")] = False,
           features: _ItemsFrom = None, similarity: _Similarity = None,
           vectors: _Vectors = None) -> None:
    """Log-likelihood of a dataset at fixed parameters."""
    from ._api import log_likelihood

    df, items = _data_and_items(data, subject, features, similarity, vectors)
    p = _params(variant, params, set_)
    ll = log_likelihood(df, p, variant=variant, per_subject=per_subject, pool_size=pool_size,
                        items=items)
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
            "--free", help="Free parameter, NAME or NAME=LO:HI (repeatable; default: the "
            "variant's set with its class bounds).")] = None,
        params: _Params = None, set_: _Set = None, pool_size: _Pool = None,
        per_subject: Annotated[bool, typer.Option(
            help="Fit every subject separately on Dask.")] = False,
        scheduler: Annotated[str | None, typer.Option(
            help="Dask scheduler tcp://HOST:PORT (default: in-process cluster).",
            callback=check_scheduler_arg)] = None,
        workers: Annotated[int, typer.Option(min=1, max=1024,
                                             help="Local cluster threads.")] = 1,
        seed: int = 0,
        maxiter: Annotated[int, typer.Option(min=1)] = 100,
        popsize: Annotated[int, typer.Option(min=1)] = 10,
        n_starts: Annotated[int, typer.Option(min=1)] = 4,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Write the table here (.nc NetCDF or .csv).",
            callback=out_file)] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        features: _ItemsFrom = None, similarity: _Similarity = None,
        vectors: _Vectors = None) -> None:
    """Maximum-likelihood fit (group, or per subject on Dask)."""
    from ._fit import DEFAULT_FREE, fit_subjects, save_fits
    from ._fit import fit as fit_fn

    df, items = _data_and_items(data, subject, features, similarity, vectors)
    opts = per_variant_options(free, set_, [variant])[variant]
    p = _params(variant, params, opts.sets).to_dict()
    free_spec = _free_spec(variant, opts)
    free_names = list(free_spec) if free_spec else list(DEFAULT_FREE[variant])
    ll_max = float(df["position"].max()) if "position" in df and len(df) else 1.0
    check_budget({"--maxiter": maxiter, "--popsize": popsize, "--n-starts": n_starts},
                 work=8.0 * max(maxiter, 1) * max(popsize, 1) * max(n_starts, 1)
                 * max(len(free_names), 1) * len(df) * ll_max**2)
    fixed = {k: v for k, v in p.items() if k not in free_names}
    kw = dict(variant=variant, method=method, free=free_spec or free_names, fixed=fixed,
              seed=seed,
              maxiter=maxiter, popsize=popsize, n_starts=n_starts, pool_size=pool_size,
              items=items)
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
             features: _ItemsFrom = None, similarity: _Similarity = None,
             vectors: _Vectors = None) -> None:
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
    if data is not None:
        design, items = _data_and_items(data, subject, features, similarity, vectors)
    else:
        design = {"list_length": list_length, "n_lists": n_lists, "n_subjects": n_subjects}
        items = _items(None, features, similarity, vectors)
    df = sim_fn(p, design, key=jax.random.key(seed), variant=variant, items=items)
    if out is not None:
        write_text(out, df.to_csv(index=False))
        typer.echo(f"wrote {out}")
    spc = recall_curves(df, category=False)["spc"]
    typer.echo(f"{df['list'].groupby(df['subject']).nunique().sum()} lists; mean recall "
               f"probability {spc['recall'].mean():.3f}")


@app.command()
def sample(data: _Data = "Morton2013", subject: _Subjects = None,
           variant: Annotated[list[str] | None, typer.Option(
               "--variant", "-v", help="Variant to sample (repeat to compare several on the "
               "same data: LOO/WAIC table and figure). Default jaxcmr.")] = None,
           free: Annotated[list[str] | None, typer.Option(
               "--free", help="Free parameter, NAME or NAME=LO:HI (repeatable; default: the "
               "variant's set with its class bounds). NAME applies to every requested "
               "variant that has it, VARIANT:NAME[=LO:HI] to that variant only; a variant "
               "given no names keeps its default set.")] = None,
           params: _Params = None, set_: _Set = None, pool_size: _Pool = None,
           hierarchical: Annotated[bool, typer.Option(
               help="Partial pooling across subjects (else independent subjects).")] = True,
           chains: Annotated[int, typer.Option(min=1)] = 4,
           draws: Annotated[int, typer.Option(min=1)] = 500,
           warmup: Annotated[int, typer.Option(min=0)] = 500,
           chain_method: Annotated[str, typer.Option(
               help="sequential, vectorized or parallel (the sequential chains side "
               "by side on the CPU cores).")] = "parallel",
           subject_runs: Annotated[str, typer.Option(
               help="--no-hierarchical: separate (Dask) or joint.")] = "separate",
           target_accept: float = 0.8,
           max_tree_depth: Annotated[int | None, typer.Option(
               help="NUTS tree depth; default 8, and 3 for gibbs' per-subject "
               "trees.")] = None,
           sampler: Annotated[str, typer.Option(
               help="nuts, or gibbs (hierarchical: NUTS within Gibbs on the centred "
               "model).")] = "nuts",
           parameterization: Annotated[str, typer.Option(
               help="Hierarchical NUTS: partial, centered or non-centered.")] = "partial",
           precondition: Annotated[str, typer.Option(
               help="laplace (whiten a Laplace approximation) or none.")] = "laplace",
           precision: Annotated[str, typer.Option(
               help="float64 or float32 (jaxcmr's precision, ~2x faster).")] = "float64",
           scheduler: Annotated[str | None, typer.Option(
               help="Dask scheduler tcp://HOST:PORT (separate subject runs).",
               callback=check_scheduler_arg)] = None,
           workers: Annotated[int, typer.Option(min=1, max=1024,
                                                help="Local cluster threads.")] = 1,
           ppc_draws: Annotated[int, typer.Option(
               min=0, max=10_000,
               help="Posterior draws for the PPC figure (0: none).")] = 20,
           point_fit: Annotated[bool, typer.Option(
               help="With several variants: per-subject ML fits for AIC/BIC.")] = True,
           seed: Annotated[int, typer.Option(help="PRNG seed.")] = 0,
           out: Annotated[Path, typer.Option(
               "--out", "-o", help="Output folder (resumable: rerun to continue).",
               callback=out_dir)] =
           Path("results/cmr_sample"),
           quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
           ) -> None:
    """Bayesian fit by NUTS: writes <variant>/posterior.nc, diagnostics.csv, ppc.png/svg
    (and comparison.csv / comparison.png for several variants)."""
    if chain_method == "parallel":
        _host_devices(chains)
    import jax

    from .._io import save_figure, write_text
    from ..errors import DataError
    from ..plots.inference import plot_compare, plot_ppc
    from ._fit import DEFAULT_FREE
    from ._variants import get_variant, params_class
    from .inference import save_inference, workflow

    df = _load_data(data, subject)
    variants = list(dict.fromkeys(variant)) if variant else ["jaxcmr"]
    known = {v: params_class(v) for v in variants}
    options = per_variant_options(free, set_, variants)
    if scheduler is not None and hierarchical:
        raise typer.BadParameter("Dask runs separate subjects: add --no-hierarchical "
                                 "(a hierarchical fit samples every subject in one model)",
                                 param_hint="--scheduler")
    # every variant's requirements before any work: no sampling of one model, then an
    # error on the next one's missing column
    for v in variants:
        missing = [f for f in get_variant(v).features if f not in df.columns]
        if missing:
            raise DataError(f"data: variant {v!r} needs the study-event column(s) "
                            f"{missing}, which the data do not have (columns: "
                            f"{list(df.columns)})")
        _params(v, params, options[v].sets)
    free_specs, fixed_values = {}, {}
    for v in variants:
        opts = options[v]
        free_specs[v] = _free_spec(v, opts)
        p = _params(v, params, opts.sets).to_dict()
        free_names = (list(free_specs[v]) if free_specs[v]
                      else list(DEFAULT_FREE.get(v, known[v].BOUNDS)))
        fixed_values[v] = {k: val for k, val in p.items() if k not in free_names}

    def on_event(stage, res):
        v, vdir = res.variant, out / res.variant
        if stage == "start":
            if free and not free_specs[v]:
                typer.echo(f"[{v}] no --free name applies to {v}: sampling its default "
                           f"free set ({', '.join(DEFAULT_FREE.get(v, known[v].BOUNDS))})")
        elif stage == "posterior":
            save_inference(res.idata, vdir / "posterior.nc")
            tab = res.diagnostics
            write_text(vdir / "diagnostics.csv", tab.to_csv())
            att = res.summary
            rhat = (f"max R-hat {att['max_r_hat']:.3f}" if chains > 1 else
                    "R-hat not computed (it needs at least 2 chains: --chains 2 or more)")
            typer.echo(f"[{v}] {rhat}, min bulk ESS "
                       f"{att['min_ess_bulk']:.0f}, min tail ESS {att['min_ess_tail']:.0f}, "
                       f"{att['n_divergent']} divergences ({att['n_draws']} draws)")
            typer.echo(tab.round(4).to_string())
            typer.echo(f"wrote {vdir / 'posterior.nc'} and {vdir / 'diagnostics.csv'}")
        elif stage == "ppc":
            import matplotlib.pyplot as plt

            fig = plot_ppc(res.ppc, title=f"Posterior predictive check: {v}")
            save_figure(fig, vdir / "ppc")
            plt.close(fig)
            typer.echo(f"wrote {vdir / 'ppc.png'}")

    result = workflow(df, key=jax.random.key(seed), variants=variants, free=free_specs,
                      fixed=fixed_values, ppc_draws=ppc_draws,
                      ppc_key=jax.random.key(seed + 1), point_fit=point_fit,
                      point_fit_options={"n_starts": 2},
                      checkpoint_dir={v: out / v / "checkpoints" for v in variants},
                      pool_size=pool_size, on_event=on_event, hierarchical=hierarchical,
                      chains=chains, draws=draws, warmup=warmup, chain_method=chain_method,
                      subject_runs=subject_runs, target_accept=target_accept,
                      max_tree_depth=max_tree_depth, scheduler=scheduler, sampler=sampler,
                      parameterization=parameterization,
                      precondition=None if precondition == "none" else precondition,
                      precision=precision, workers=workers, quiet=quiet)
    if result.comparison is not None:
        import matplotlib.pyplot as plt

        table = result.comparison
        write_text(out / "comparison.csv", table.to_csv())
        ax = plot_compare(table)
        save_figure(ax.figure, out / "comparison")
        plt.close(ax.figure)
        typer.echo(table.round(2).to_string())
        typer.echo(f"wrote {out / 'comparison.csv'} and {out / 'comparison.png'}")


def _host_devices(n: int) -> None:
    """Give JAX ``min(n, CPU cores)`` host devices (``chain_method="parallel"``): only
    possible before JAX starts and when ``XLA_FLAGS`` does not set a count already."""
    import os
    import sys

    flags = os.environ.get("XLA_FLAGS", "")
    if "jax" in sys.modules or "xla_force_host_platform_device_count" in flags:
        return
    count = max(1, min(n, os.cpu_count() or 1))
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()

"""Experiment configurations (TOML, validated with pydantic) and the model registry.

An experiment is one TOML file::

    name = "memory-capacity"
    model = "memory.capacity"          # a registered model (see available_models())

    [params]                           # fixed parameters (the rest take their defaults)
    learning_rate = 0.5

    [grid]                             # axes of the sweep: a list, or a range table
    n_units = [32, 64, 128]
    n_patterns = { start = 2, stop = 64, num = 8, scale = "log" }

    [seeds]                            # replicates: seeds base, base + 1, ..., base + count - 1
    base = 0
    count = 8

    [sweep]
    chunk_size = 64                    # grid points per vmapped JAX call / Dask task

    [outputs]
    dir = "results/memory-capacity"   # run directory (relative to the working directory)
    variables = ["bit_error"]          # optional subset of the model's outputs
    report = true                      # write report.html at the end

    [dataset]                          # for models that read data (fits, likelihoods)
    name = "Morton2013"                # or path = "data/recalls.csv"; subjects = [1, 2]

Every table forbids unknown keys; every parameter value (fixed or on the grid) is checked
against the model's parameter schema. Any problem raises
:class:`engramlab.errors.ConfigError` naming the key and what is allowed.

Models are looked up in a registry keyed by name. An entry is a lazy import path
``"package.module:ATTRIBUTE"`` to a :class:`ModelSpec`, so a model family registers a
sweepable model without this module importing it; entries whose module does not exist (a
family not installed yet) are not listed. Families add entries with
:func:`register_model` or by being listed in :data:`KNOWN_MODELS`.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from ..errors import ConfigError

__all__ = [
    "ModelSpec",
    "KNOWN_MODELS",
    "register_model",
    "available_models",
    "get_model",
    "AxisRange",
    "SeedsConfig",
    "SweepConfig",
    "OutputsConfig",
    "DatasetConfig",
    "ExperimentConfig",
    "ResolvedExperiment",
    "load_config",
    "parse_config",
    "resolve",
    "config_to_toml",
]

#: reserved dimension name of the replicate (seed) axis in every result store
SEED_DIM = "seed"


# --------------------------------------------------------------------------------------
# model registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """A model that can be swept: a parameter schema and a vectorised batch function.

    **Fields:**

    - ``name``: registry name, ``"<family>.<what>"``, e.g. ``"memory.capacity"``.
    - ``params``: a pydantic ``BaseModel`` subclass with one scalar field (``int`` or
      ``float``) per parameter, with defaults and bounds (``Field(ge=..., le=...)``);
      its docstring/field descriptions document the units.
    - ``evaluate``: ``evaluate(params_batch, seeds) -> outputs`` where ``params_batch``
      maps every parameter name to an array of shape ``(B,)`` (one value per grid
      point), ``seeds`` is an ``int64`` array ``(B,)`` and ``outputs`` maps each output
      name to an array ``(B,)``. It must be a pure function of each point's parameters
      and seed (not of the other points in the batch): then the results do not depend on
      how the grid is split into chunks or scheduled. Implement it with ``jax.vmap`` +
      ``jax.jit``.
    - ``outputs``: output name -> description (with units), in display order.
    - ``description``: one paragraph shown in reports.
    - ``theory``: optional ``theory(params_grid) -> {output: array}`` (closed forms,
      same broadcasting as the inputs) overlaid in report figures.
    - ``uses_dataset``: whether ``evaluate`` takes a ``dataset=`` keyword: the config's
      ``[dataset]`` table as a dict (``path`` absolute, ``name``, ``subjects``).
    - ``nan_outputs``: outputs that may be NaN where they are undefined (e.g. an overlap
      with the neutral patterns when there are none). Any other non-finite output, and
      inf anywhere, stops the sweep with a ``DivergenceError`` naming the grid point.
    """

    name: str
    params: type[BaseModel]
    evaluate: Callable[..., Mapping[str, Any]]
    outputs: Mapping[str, str]
    description: str = ""
    theory: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    uses_dataset: bool = False
    nan_outputs: tuple[str, ...] = ()


#: Registry: model name -> ``"module:attribute"`` (lazy) or a :class:`ModelSpec`.
#: Each family defines its sweepable models in its own ``sweeps`` module; an entry whose
#: module does not exist (a family not installed) is not listed by
#: :func:`available_models`.
KNOWN_MODELS: dict[str, str | ModelSpec] = {
    "memory.capacity": "engramlab.memory.sweeps:MEMORY_CAPACITY",
    "attractor.capacity": "engramlab.attractor.sweeps:ATTRACTOR_CAPACITY",
    "softmax.appendix": "engramlab.softmax.sweeps:SOFTMAX_APPENDIX",
    "cmr.loglik": "engramlab.cmr.sweeps:CMR_LOGLIK",
    "cmr.loglik.paper": "engramlab.cmr.sweeps:CMR_LOGLIK_PAPER",
    "cmr.loglik.cymr": "engramlab.cmr.sweeps:CMR_LOGLIK_CYMR",
    "cmr.loglik.ecmr": "engramlab.cmr.sweeps:CMR_LOGLIK_ECMR",
    "cmr.loglik.cmr3": "engramlab.cmr.sweeps:CMR_LOGLIK_CMR3",
}


def register_model(name: str, target: str | ModelSpec, *, overwrite: bool = False) -> None:
    """Add a model to the registry.

    **Arguments:**

    - ``name``: registry name used in configs (``model = "<name>"``).
    - ``target``: a :class:`ModelSpec`, or a lazy ``"package.module:ATTRIBUTE"`` path to
      one (imported only when the model is used).
    - ``overwrite``: replace an existing entry of that name.

    Note that Dask worker *processes* see only entries registered at import time of a
    module (or in :data:`KNOWN_MODELS`); a :class:`ModelSpec` registered interactively is
    shipped to the workers with each task, so it must be picklable (module-level
    functions).
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"model name: expected a non-empty string, got {name!r}")
    if isinstance(target, str):
        if target.count(":") != 1:
            raise ConfigError(f"model {name!r}: target must look like 'package.module:ATTR', "
                              f"got {target!r}")
    elif not isinstance(target, ModelSpec):
        raise ConfigError(f"model {name!r}: expected a ModelSpec or 'module:attr' string, "
                          f"got {type(target).__name__}")
    if name in KNOWN_MODELS and not overwrite and KNOWN_MODELS[name] != target:
        raise ConfigError(f"model {name!r} is already registered (pass overwrite=True)")
    KNOWN_MODELS[name] = target


def _module_exists(modname: str) -> bool:
    try:
        return importlib.util.find_spec(modname) is not None
    except (ModuleNotFoundError, ValueError):
        return False


def available_models() -> list[str]:
    """Names of the registered models whose implementation is importable, sorted."""
    out = []
    for name, target in KNOWN_MODELS.items():
        if isinstance(target, ModelSpec) or _module_exists(target.split(":")[0]):
            out.append(name)
    return sorted(out)


def get_model(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name`` (imports its module)."""
    avail = available_models()
    if name not in avail:
        raise ConfigError(f"model: unknown model {name!r}; available: {', '.join(avail)}")
    target = KNOWN_MODELS[name]
    if isinstance(target, ModelSpec):
        return target
    modname, attr = target.split(":")
    mod = importlib.import_module(modname)
    spec = getattr(mod, attr, None)
    if not isinstance(spec, ModelSpec):
        raise ConfigError(f"model {name!r}: {target} is not a ModelSpec "
                          f"(got {type(spec).__name__})")
    return spec


# --------------------------------------------------------------------------------------
# config schema
# --------------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AxisRange(_Strict):
    """A grid axis given as a range: ``num`` values from ``start`` to ``stop`` inclusive,
    evenly spaced (``scale="linear"``) or geometrically (``scale="log"``, both ends > 0).
    Integer parameters are rounded to the nearest integer (duplicates are an error)."""

    start: float
    stop: float
    num: int = Field(ge=1, le=1_000_000)
    scale: Literal["linear", "log"] = "linear"


class SeedsConfig(_Strict):
    """Replicates: seeds ``base, base + 1, ..., base + count - 1`` (the ``seed`` dim)."""

    base: int = Field(0, ge=0, le=2**31 - 1)
    count: int = Field(1, ge=1, le=100_000)


class SweepConfig(_Strict):
    """How the grid is split: ``chunk_size`` points per vmapped call and Dask task."""

    chunk_size: int = Field(256, ge=1, le=1_000_000)


class OutputsConfig(_Strict):
    """Where results go and which outputs are kept."""

    dir: str | None = None
    variables: list[str] | None = None
    report: bool = True


class DatasetConfig(_Strict):
    """A data set read by the model (fits, likelihood surfaces): either a file ``path``
    (relative to the config file) or the ``name`` of a data set the model knows (e.g.
    ``"Morton2013"``), optionally restricted to some ``subjects``."""

    path: str | None = None
    name: str | None = Field(None, min_length=1)
    subjects: list[int] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.path is None) == (self.name is None):
            raise ValueError("give exactly one of 'path' (a file) or 'name' (a known data set)")
        return self


class ExperimentConfig(_Strict):
    """The whole TOML file (see the module docstring)."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    model: str
    description: str = ""
    params: dict[str, float | int] = Field(default_factory=dict)
    grid: dict[str, list[float | int] | AxisRange] = Field(default_factory=dict)
    seeds: SeedsConfig = Field(default_factory=SeedsConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    dataset: DatasetConfig | None = None


@dataclass
class ResolvedExperiment:
    """A validated config with everything made explicit (what a run records).

    ``axes`` maps each grid axis (in config order) to its explicit values, and ends with
    ``"seed"``; ``fixed`` holds every other parameter (defaults filled in); ``outputs``
    the kept output names; ``out_dir`` the run directory.
    """

    config: ExperimentConfig
    spec: ModelSpec
    axes: dict[str, list[float | int]]
    fixed: dict[str, float | int]
    outputs: list[str]
    out_dir: Path
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as a TOML-ready dict (grid and params explicit)."""
        c = self.config
        d: dict[str, Any] = {"name": c.name, "model": c.model}
        if c.description:
            d["description"] = c.description
        d["params"] = dict(self.fixed)
        d["grid"] = {k: list(v) for k, v in self.axes.items() if k != SEED_DIM}
        d["seeds"] = {"base": c.seeds.base, "count": c.seeds.count}
        d["sweep"] = {"chunk_size": c.sweep.chunk_size}
        d["outputs"] = {"dir": str(self.out_dir), "variables": list(self.outputs),
                        "report": c.outputs.report}
        if c.dataset is not None:
            ds: dict[str, Any] = {}
            if c.dataset.path is not None:
                ds["path"] = str((self.base_dir / c.dataset.path).resolve())
            if c.dataset.name is not None:
                ds["name"] = c.dataset.name
            if c.dataset.subjects is not None:
                ds["subjects"] = list(c.dataset.subjects)
            d["dataset"] = ds
        return d


def _loc(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "<top level>"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str] | None:
    cls: Any = ExperimentConfig
    for p in loc[:-1]:
        f = getattr(cls, "model_fields", {}).get(p)
        if f is None:
            return None
        ann = f.annotation
        cls = next((a for a in getattr(ann, "__args__", (ann,))
                    if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if cls is None:
            return None
    return sorted(getattr(cls, "model_fields", {})) or None


def _field_range(schema: type[BaseModel], name: str) -> str:
    """``"[lo, hi]"``-style description of a schema field's bounds and type."""
    f = schema.model_fields[name]
    lo, hi, lo_inc, hi_inc = None, None, True, True
    for m in f.metadata:
        for attr, inc in (("ge", True), ("gt", False)):
            if getattr(m, attr, None) is not None:
                lo, lo_inc = getattr(m, attr), inc
        for attr, inc in (("le", True), ("lt", False)):
            if getattr(m, attr, None) is not None:
                hi, hi_inc = getattr(m, attr), inc
    kind = "an integer" if f.annotation is int else "a number"
    left = "(-inf" if lo is None else ("[" if lo_inc else "(") + f"{lo:g}"
    right = "inf)" if hi is None else f"{hi:g}" + ("]" if hi_inc else ")")
    return f"{kind} in {left}, {right}"


def _pydantic_to_config_error(exc: PydanticValidationError, source: str) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _loc(loc)
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc)
            extra = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{where}: unknown key{extra}")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            got = err.get("input")
            lines.append(f"{where}: {err['msg']} (got {got!r})"[:300])
    return ConfigError(f"{source}: invalid config:\n  " + "\n  ".join(lines))


def _axis_values(name: str, spec: list[float | int] | AxisRange, is_int: bool,
                 source: str) -> list[float | int]:
    import numpy as np

    where = f"{source}: grid.{name}"
    if isinstance(spec, AxisRange):
        for k in ("start", "stop"):
            if not math.isfinite(getattr(spec, k)):
                raise ConfigError(f"{where}.{k}: expected a finite number, got "
                                  f"{getattr(spec, k)!r}")
        if spec.scale == "log":
            if spec.start <= 0 or spec.stop <= 0:
                raise ConfigError(f"{where}: a log-scale range needs start > 0 and stop > 0, "
                                  f"got start={spec.start:g}, stop={spec.stop:g}")
            vals = np.geomspace(spec.start, spec.stop, spec.num)
        else:
            vals = np.linspace(spec.start, spec.stop, spec.num)
        out: list[float | int] = ([int(v) for v in np.rint(vals)] if is_int
                                  else [float(v) for v in vals])
    else:
        if len(spec) == 0:
            raise ConfigError(f"{where}: expected at least one value, got an empty list")
        out = []
        for i, v in enumerate(spec):
            if not math.isfinite(float(v)):
                raise ConfigError(f"{where}[{i}]: expected a finite number, got {v!r}")
            if is_int:
                if float(v) != round(float(v)):
                    raise ConfigError(f"{where}[{i}]: expected an integer, got {v!r}")
                out.append(int(round(float(v))))
            else:
                out.append(float(v))
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: values must be distinct, got {out}")
    return out


def _check_value(schema: type[BaseModel], base: dict[str, Any], name: str, value: Any,
                 where: str) -> None:
    try:
        schema.model_validate({**base, name: value})
    except PydanticValidationError as exc:
        msgs = [e["msg"] for e in exc.errors()]
        raise ConfigError(f"{where}: expected {_field_range(schema, name)}, got {value!r} "
                          f"({'; '.join(msgs)})") from None


def resolve(config: ExperimentConfig, *, source: str = "config",
            base_dir: Path | None = None, out_dir: str | Path | None = None
            ) -> ResolvedExperiment:
    """Check ``config`` against its model and make everything explicit.

    **Arguments:**

    - ``config``: a parsed :class:`ExperimentConfig`.
    - ``source``: name used in error messages (the file path).
    - ``base_dir``: relative paths (dataset) are relative to it (default: cwd).
    - ``out_dir``: overrides ``[outputs] dir`` (default ``results/<name>``).

    **Raises:** :class:`ConfigError` naming the key and the allowed range.
    """
    base_dir = Path.cwd() if base_dir is None else Path(base_dir)
    spec = get_model(config.model)
    schema = spec.params
    fields = schema.model_fields
    allowed = ", ".join(fields)
    for section, keys in (("params", config.params), ("grid", config.grid)):
        for k in keys:
            if k not in fields:
                raise ConfigError(f"{source}: {section}.{k}: unknown parameter of model "
                                  f"{config.model!r}; allowed: {allowed}")
            if k == SEED_DIM:
                raise ConfigError(f"{source}: {section}.{k}: 'seed' is reserved; use [seeds]")
    both = sorted(set(config.params) & set(config.grid))
    if both:
        raise ConfigError(f"{source}: params.{both[0]}: given both as a fixed parameter and "
                          "as a grid axis; keep one")
    # fixed params (defaults filled in)
    for k, v in config.params.items():
        if not math.isfinite(float(v)):
            raise ConfigError(f"{source}: params.{k}: expected a finite number, got {v!r}")
        is_int = fields[k].annotation is int
        if is_int and float(v) != round(float(v)):
            raise ConfigError(f"{source}: params.{k}: expected {_field_range(schema, k)}, "
                              f"got {v!r}")
    axes: dict[str, list[float | int]] = {
        k: _axis_values(k, axspec, fields[k].annotation is int, source)
        for k, axspec in config.grid.items()}
    # the fixed params with every axis at its first value (cross-field checks see both)
    first = {k: v[0] for k, v in axes.items()}
    try:
        base_model = schema.model_validate(
            {**{k: (int(v) if fields[k].annotation is int else v)
                for k, v in config.params.items()}, **first})
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        k = str(err["loc"][0]) if err["loc"] else ""
        where = (f"grid.{k}[0]" if k in first else f"params.{k}") if k else "params"
        allowed = f"expected {_field_range(schema, k)}, " if k else ""
        raise ConfigError(f"{source}: {where}: {allowed}got {err.get('input')!r} "
                          f"({err['msg']})"[:400]) from None
    base = base_model.model_dump()
    for k, vals in axes.items():
        for i, v in enumerate(vals[1:], 1):
            _check_value(schema, base, k, v, f"{source}: grid.{k}[{i}]")
    seeds = list(range(config.seeds.base, config.seeds.base + config.seeds.count))
    axes[SEED_DIM] = seeds
    fixed = {k: v for k, v in base.items() if k not in axes}
    outputs = list(spec.outputs)
    if config.outputs.variables is not None:
        bad = [v for v in config.outputs.variables if v not in spec.outputs]
        if bad or not config.outputs.variables:
            raise ConfigError(f"{source}: outputs.variables: unknown output {bad}; "
                              f"the model {config.model!r} has: {', '.join(spec.outputs)}")
        outputs = list(dict.fromkeys(config.outputs.variables))
    if config.dataset is not None:
        if not spec.uses_dataset:
            raise ConfigError(f"{source}: dataset: model {config.model!r} reads no data set; "
                              "remove the [dataset] table")
        if config.dataset.path is not None and not (base_dir / config.dataset.path).exists():
            raise ConfigError(f"{source}: dataset.path: file not found: "
                              f"{base_dir / config.dataset.path}")
    elif spec.uses_dataset:
        raise ConfigError(f"{source}: dataset: model {config.model!r} needs a [dataset] table "
                          "with a path")
    n = math.prod(len(v) for v in axes.values())
    if n > 10**9:
        raise ConfigError(f"{source}: grid: {n} points is more than the allowed 10^9")
    if out_dir is None:
        out_dir = config.outputs.dir if config.outputs.dir else f"results/{config.name}"
        out_dir = base_dir / out_dir if not Path(out_dir).is_absolute() else Path(out_dir)
    return ResolvedExperiment(config=config, spec=spec, axes=axes, fixed=fixed,
                              outputs=outputs, out_dir=Path(out_dir), base_dir=base_dir)


def parse_config(data: Mapping[str, Any], *, source: str = "config") -> ExperimentConfig:
    """Validate a config mapping (a parsed TOML document) into :class:`ExperimentConfig`."""
    try:
        return ExperimentConfig.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise _pydantic_to_config_error(exc, source) from None


def load_config(path: str | Path, *, out_dir: str | Path | None = None) -> ResolvedExperiment:
    """Read, validate and resolve a TOML experiment file.

    Relative ``[outputs] dir`` and ``[dataset] path`` are taken relative to the current
    working directory and the config file's folder respectively.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a TOML file (not UTF-8 text)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror or exc})") from None
    cfg = parse_config(data, source=str(path))
    if cfg.dataset is not None and cfg.dataset.path is not None and not Path(
            cfg.dataset.path).is_absolute():
        cfg = cfg.model_copy(update={"dataset": cfg.dataset.model_copy(update={
            "path": str((path.parent / cfg.dataset.path).resolve())})})
    return resolve(cfg, source=str(path), out_dir=out_dir)


def config_to_toml(resolved: ResolvedExperiment) -> str:
    """The resolved config as TOML text (what a run directory records)."""
    import tomli_w

    return tomli_w.dumps(resolved.to_dict())

"""Validation helpers shared by every public entry point: the one validation layer.

All checks run in NumPy *before* anything reaches ``jax.jit``, and raise a subclass
of :class:`engramlab.errors.EngramlabError` whose message names the argument, what was
expected and what was received. Use these helpers rather than ``assert`` (stripped
under ``python -O``) or ad-hoc checks.

- values: :func:`as_array` (shape, dtype, finiteness *after the cast to the working
  dtype*: ``1e300`` is finite in float64 but ``inf`` in float32, so it is refused),
  :func:`check_finite_scalar` (same rule for scalars), :func:`check_positive`,
  :func:`check_nonnegative`, :func:`check_range`, :func:`check_int`,
  :func:`check_choice`, :func:`check_same_length`, :func:`check_callable`;
- sizes: :func:`check_size` (a positive integer count, bounded), and
  :func:`check_resources`, which refuses, before anything is allocated, a request whose
  memory estimate exceeds :data:`MEMORY_LIMIT_BYTES` (80 % of RAM; environment override
  ``ENGRAMLAB_MEMORY_LIMIT``) or whose work estimate exceeds :data:`WORK_LIMIT_OPS`
  (environment override ``ENGRAMLAB_WORK_LIMIT``), saying how much it would need;
- randomness: :func:`as_key` (a JAX PRNG key from a key or an int seed; every JAX
  stochastic function takes either) and :func:`as_rng` (a NumPy ``Generator`` from a
  generator or an int seed, for the NumPy code of the EEG pipeline).
"""

from __future__ import annotations

import math
import numbers
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._dtypes import working_dtype
from .errors import ResourceError, ShapeError, ValidationError

__all__ = [
    "MEMORY_LIMIT_BYTES",
    "WORK_LIMIT_OPS",
    "MAX_STEPS",
    "working_dtype",
    "as_array",
    "check_finite_scalar",
    "check_size",
    "check_callable",
    "memory_limit",
    "work_limit",
    "check_resources",
    "format_bytes",
    "as_key",
    "as_rng",
    "check_positive",
    "check_nonnegative",
    "check_range",
    "check_int",
    "check_choice",
    "check_same_length",
]


def _describe(x: Any) -> str:
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"array of shape {tuple(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:200]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    # torch tensors and other DLPack producers
    if not isinstance(x, np.ndarray) and hasattr(x, "__dlpack__") and hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValidationError(f"{name}: expected an array-like, got {_describe(x)}") from exc
    if arr.dtype == object:
        raise ValidationError(
            f"{name}: expected a numeric array, got an object array (ragged or mixed types)"
        )
    return arr


def as_array(
    x: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: Any = None,
    finite: bool = True,
    kind: str = "float",
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a NumPy array and check it.

    **Arguments:**

    - ``x``: array-like (NumPy, JAX, list, torch tensor).
    - ``name``: the argument name used in error messages.
    - ``ndim``: required number of dimensions (int or a set of allowed values).
    - ``shape``: required shape; ``None`` entries match any size.
    - ``dtype``: cast to this dtype after checks (default: keep, but floats become
      at least float32 when ``kind="float"``).
    - ``finite``: reject NaN and +-inf.
    - ``kind``: ``"float"`` (any real number, bools/ints accepted and cast),
      ``"int"`` (integer values), ``"complex"`` (real or complex numbers), or ``"any"``.
    - ``allow_empty``: whether a zero-size array is acceptable.

    **Returns:** the checked NumPy array.

    **Raises:** :class:`ShapeError` on wrong dimensions/shape, :class:`ValidationError`
    on non-numeric, complex or non-finite values.
    """
    arr = _to_numpy(x, name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ShapeError(f"{name}: expected {want}-D array, got {_describe(arr)}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)
        ):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ShapeError(f"{name}: expected shape {want}, got {_describe(arr)}")
    if not allow_empty and arr.size == 0:
        raise ShapeError(f"{name}: expected a non-empty array, got {_describe(arr)}")
    if kind == "complex":
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValidationError(f"{name}: expected numbers, got {_describe(arr)}")
    elif kind != "any":
        if np.iscomplexobj(arr):
            raise ValidationError(f"{name}: expected real numbers, got complex {_describe(arr)}")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValidationError(f"{name}: expected numbers, got {_describe(arr)}")
    if kind == "int":
        if np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise ValidationError(f"{name}: expected integer values, got {_describe(arr)}")
            arr = arr.astype(np.int64)
    if finite and kind != "int" and np.issubdtype(arr.dtype, np.inexact):
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(bad.sum()) - n_nan
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValidationError(
                f"{name}: expected finite values, got {n_nan} NaN and {n_inf} inf "
                f"(first at index {first}) in {_describe(arr)}"
            )
    if finite and kind == "float" and np.issubdtype(arr.dtype, np.floating):
        _check_representable(arr, name, working_dtype() if dtype is None else dtype)
    if dtype is not None:
        arr = arr.astype(dtype)
    elif kind == "float" and not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    return arr


def _check_representable(arr: np.ndarray, name: str, target: Any) -> None:
    """Refuse finite values that overflow to inf when cast to the floating ``target``."""
    target = np.dtype(target)
    if not np.issubdtype(target, np.floating) or np.finfo(target).max >= np.finfo(
            arr.dtype).max:
        return
    top = float(np.finfo(target).max)
    with np.errstate(invalid="ignore"):
        big = np.abs(arr) > top
    if big.any():
        first = tuple(int(i) for i in np.argwhere(big)[0])
        raise ValidationError(
            f"{name}: expected values representable in the working dtype {target} "
            f"(|x| <= {top:.4g}), got {int(big.sum())} value(s) that overflow to inf, "
            f"e.g. {float(arr[first]):.4g} at index {first} in {_describe(arr)}; rescale "
            "the input, or enable float64 with jax.config.update('jax_enable_x64', True)")


def check_finite_scalar(value: Any, name: str, *, dtype: Any = None) -> float:
    """Return ``value`` as a Python float, raising if it is not a finite real number.

    The value must also stay finite in ``dtype`` (default: the working dtype, float32
    unless x64 is on), the precision it is computed in: ``1e300`` is refused in float32.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        arr = None
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            try:
                arr = np.asarray(value)
            except Exception:  # a tracer or an exotic array: not a concrete scalar
                arr = None
        if (arr is not None and arr.shape == () and np.issubdtype(arr.dtype, np.number)
                and not np.iscomplexobj(arr)):
            value = arr.item()
        else:
            raise ValidationError(f"{name}: expected a real number, got {_describe(value)}")
    try:
        v = float(value)
    except OverflowError:
        raise ValidationError(f"{name}: expected a finite number, got an integer too large "
                              f"for a float ({str(value)[:40]}...)") from None
    if not math.isfinite(v):
        raise ValidationError(f"{name}: expected a finite number, got {v}")
    target = working_dtype() if dtype is None else np.dtype(dtype)
    if np.issubdtype(target, np.floating) and abs(v) > float(np.finfo(target).max):
        raise ValidationError(
            f"{name}: expected a value representable in the working dtype {target} "
            f"(|x| <= {float(np.finfo(target).max):.4g}), got {v:.4g}, which overflows to "
            "inf; use a smaller value, or enable float64 with "
            "jax.config.update('jax_enable_x64', True)")
    return v


def check_range(
    value: Any,
    name: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_inclusive: bool = True,
    hi_inclusive: bool = True,
    dtype: Any = None,
) -> float:
    """Check ``lo <= value <= hi`` (bounds optional, inclusivity configurable)."""
    v = check_finite_scalar(value, name, dtype=dtype)
    lo_ok = lo is None or (v >= lo if lo_inclusive else v > lo)
    hi_ok = hi is None or (v <= hi if hi_inclusive else v < hi)
    if not (lo_ok and hi_ok):
        left = "(-inf" if lo is None else ("[" if lo_inclusive else "(") + f"{lo:g}"
        right = "inf)" if hi is None else f"{hi:g}" + ("]" if hi_inclusive else ")")
        raise ValidationError(f"{name}: expected a value in {left}, {right}, got {v:g}")
    return v


def check_positive(value: Any, name: str, *, dtype: Any = None) -> float:
    """Check ``value > 0`` and finite."""
    return check_range(value, name, 0.0, None, lo_inclusive=False, dtype=dtype)


def check_nonnegative(value: Any, name: str, *, dtype: Any = None) -> float:
    """Check ``value >= 0`` and finite."""
    return check_range(value, name, 0.0, None, dtype=dtype)


def check_int(value: Any, name: str, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    """Check that ``value`` is an integer (not bool) within optional bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if (hasattr(value, "shape") and hasattr(value, "dtype") and value.shape == ()
                and np.issubdtype(value.dtype, np.integer)
                and not _is_tracer(value)):
            value = int(value)
        else:
            raise ValidationError(f"{name}: expected an integer, got {_describe(value)}")
    v = int(value)
    if min_value is not None and v < min_value:
        raise ValidationError(f"{name}: expected an integer >= {min_value}, got {v}")
    if max_value is not None and v > max_value:
        raise ValidationError(f"{name}: expected an integer <= {max_value}, got {v}")
    return v


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of ``choices`` (strings)."""
    if value not in choices:
        raise ValidationError(
            f"{name}: expected one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        )
    return value


def check_same_length(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Check that two arrays have the same leading dimension."""
    if a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"{b_name}: expected leading dimension {a.shape[0]} to match {a_name}, "
            f"got {b.shape[0]} (shape {tuple(b.shape)})"
        )


def check_callable(value: Any, name: str) -> Any:
    """Check that ``value`` is callable."""
    if not callable(value):
        raise ValidationError(f"{name}: expected a callable, got {_describe(value)}")
    return value


def _is_tracer(x: Any) -> bool:
    jax_core = getattr(sys.modules.get("jax"), "core", None)
    return jax_core is not None and isinstance(x, jax_core.Tracer)


# --------------------------------------------------------------------------- sizes

#: Largest number of time steps of a ``lax.scan`` (its step counter is int32).
MAX_STEPS: int = 2**31 - 1

def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 24 * 2**30


#: Memory a single request may need, in bytes: 80 % of this machine's physical memory
#: (room for the interpreter and the OS; about 18 GiB on the 23 GiB machines we run on).
#: Override with the environment variable ``ENGRAMLAB_MEMORY_LIMIT`` (bytes, or a
#: number with a unit: ``512MiB``, ``64GiB``, ``2e10``).
MEMORY_LIMIT_BYTES: int = int(0.8 * _physical_memory())

#: Work a single request may need, in floating-point operations (1e13: on the order of
#: an hour on two CPU cores). Override with ``ENGRAMLAB_WORK_LIMIT`` (a number).
WORK_LIMIT_OPS: float = 1e13

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20,
          "gib": 2**30, "tib": 2**40}


def _env_number(var: str, default: float, units: bool) -> float:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return default
    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", raw)
    unit = m.group(2).lower() if m else ""
    try:
        if not m or (unit and not units) or unit not in _UNITS:
            raise ValueError
        v = float(m.group(1)) * _UNITS[unit]
    except ValueError:
        raise ValidationError(f"{var}: expected a positive number"
                              f"{' with an optional unit (e.g. 16GiB)' if units else ''}, "
                              f"got {raw!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValidationError(f"{var}: expected a positive number, got {raw!r}")
    return v


def memory_limit() -> int:
    """The memory limit in bytes: :data:`MEMORY_LIMIT_BYTES` or ``ENGRAMLAB_MEMORY_LIMIT``."""
    return int(_env_number("ENGRAMLAB_MEMORY_LIMIT", MEMORY_LIMIT_BYTES, units=True))


def work_limit() -> float:
    """The work limit in operations: :data:`WORK_LIMIT_OPS` or ``ENGRAMLAB_WORK_LIMIT``."""
    return _env_number("ENGRAMLAB_WORK_LIMIT", WORK_LIMIT_OPS, units=False)


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.4g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.4g} EiB"  # pragma: no cover


def _args_text(args: Mapping[str, Any] | None) -> str:
    if not args:
        return ""
    return ", ".join(f"{k}={v!r}"[:80] for k, v in args.items())


def check_size(value: Any, name: str, *, min_value: int = 1,
               max_value: int | None = None) -> int:
    """A count (integer, not bool) ``>= min_value`` (default 1) and ``<= max_value``."""
    return check_int(value, name, min_value=min_value, max_value=max_value)


def check_resources(what: str, *, n_bytes: float = 0, n_ops: float = 0,
                    args: Mapping[str, Any] | None = None) -> None:
    """Refuse, before allocating, a request that cannot fit on this machine.

    **Arguments:** ``what`` the computation (for the message); ``n_bytes`` its memory
    estimate (the largest arrays it holds at once); ``n_ops`` its work estimate
    (floating-point operations); ``args`` the arguments that set the size, named in the
    message.

    **Raises:** :class:`~engramlab.errors.ResourceError` (a ``ValidationError``) saying
    how much it would need and what the limit is.
    """
    who = _args_text(args)
    prefix = f"{who}: " if who else ""
    lim = memory_limit()
    if n_bytes > lim:
        raise ResourceError(
            f"{prefix}{what} would need {format_bytes(n_bytes)} of memory, more than the "
            f"limit of {format_bytes(lim)} (ENGRAMLAB_MEMORY_LIMIT); use smaller sizes")
    wl = work_limit()
    if n_ops > wl:
        raise ResourceError(
            f"{prefix}{what} would need about {float(n_ops):.3g} operations, more than the "
            f"limit of {wl:.3g} (hours of compute; ENGRAMLAB_WORK_LIMIT); use smaller sizes")


def nbytes(*shape: int, itemsize: int | None = None) -> int:
    """Bytes of an array of ``shape`` (exact Python integers; no overflow); the item
    size defaults to the working dtype's."""
    size = working_dtype().itemsize if itemsize is None else itemsize
    return int(math.prod(int(s) for s in shape)) * size


__all__.append("nbytes")


# --------------------------------------------------------------------------- randomness


def as_key(key: Any, name: str = "key") -> Any:
    """A JAX PRNG key from a key or an integer seed (the same seed, the same numbers).

    Accepts a typed key (``jax.random.key(seed)``, shape ``()``), a raw ``uint32`` key of
    shape ``(2,)`` (``jax.random.PRNGKey``), or an integer seed (Python or NumPy int, or
    a 0-d integer array) in ``[-2**63, 2**63)``. Traced keys (under ``jit``/``vmap``)
    pass through. A batch of keys is refused: ``jax.vmap`` over them instead.
    """
    import jax

    if isinstance(key, bool):
        raise ValidationError(f"{name}: expected a JAX PRNG key (jax.random.key(seed)) or "
                              f"an integer seed, got {_describe(key)}")
    if isinstance(key, numbers.Integral):
        v = int(key)
        if not -(2**63) <= v < 2**63:
            raise ValidationError(f"{name}: expected an integer seed in [-2**63, 2**63), "
                                  f"got {v}")
        return jax.random.key(v)
    if hasattr(key, "dtype") and hasattr(key, "shape"):
        if _is_prng(key):
            if tuple(key.shape) != ():
                raise ShapeError(f"{name}: expected a single PRNG key, got a batch of keys "
                                 f"of shape {tuple(key.shape)}; jax.vmap over them instead")
            return key
        dt = np.dtype(key.dtype)
        if dt == np.uint32 and tuple(key.shape) == (2,):
            return key if _is_tracer(key) else jax.numpy.asarray(key)
        if tuple(key.shape) == () and np.issubdtype(dt, np.integer) and not _is_tracer(key):
            return as_key(int(np.asarray(key)), name)
    raise ValidationError(f"{name}: expected a JAX PRNG key (jax.random.key(seed)) or an "
                          f"integer seed, got {_describe(key)}")


def _is_prng(key: Any) -> bool:
    import jax

    try:
        return bool(jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key))
    except TypeError:
        return False


def as_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A NumPy ``Generator`` from a generator or a non-negative integer seed."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValidationError(f"{name}: expected a non-negative integer seed or a "
                              f"numpy.random.Generator, got {_describe(seed)}")
    if int(seed) < 0:
        raise ValidationError(f"{name}: expected a non-negative integer seed, got {seed}")
    return np.random.default_rng(int(seed))


def check_interval(value: Any, name: str, *, dtype: Any = None) -> tuple[float, float]:
    """Two finite numbers ``(lo, hi)`` with ``lo < hi`` (a time window, a band, ...)."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: expected two numbers (lo, hi), got "
                              f"{_describe(value)}") from None
    lo = check_finite_scalar(lo, f"{name}[0]", dtype=dtype)
    hi = check_finite_scalar(hi, f"{name}[1]", dtype=dtype)
    if not lo < hi:
        raise ValidationError(f"{name}: expected lo < hi, got ({lo:g}, {hi:g})")
    return lo, hi


__all__.append("check_interval")


def check_sequence(value: Any, name: str, *, what: str = "items") -> list:
    """A list from a non-string iterable (a list, tuple, array of ``what``)."""
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValidationError(f"{name}: expected a sequence of {what}, got "
                              f"{_describe(value)}")
    try:
        return list(value)
    except TypeError:
        raise ValidationError(f"{name}: expected a sequence of {what}, got "
                              f"{_describe(value)}") from None


__all__.append("check_sequence")


class renamed_arguments:  # noqa: N801 - used as a context manager, like contextlib's
    """Inside this block, an :class:`~engramlab.errors.EngramlabError` whose message starts
    with a library argument's name (``cues: ...``, ``n_steps[0]: ...``) is re-raised naming
    the caller's argument instead (``with renamed_arguments(cues="cue"): ...``; a key
    may carry its index and alias, ``**{"band[0] (l_freq)": "low"}``), so a thin
    wrapper with its own argument names (the seed's API) reports what its user passed."""

    def __init__(self, **names: str) -> None:
        self.names = names

    def __enter__(self) -> renamed_arguments:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        from .errors import EngramlabError

        if isinstance(exc, EngramlabError) and exc.args and isinstance(exc.args[0], str):
            msg = exc.args[0]
            # a name with its index first (``band[0] (l_freq): ...`` -> ``low: ...``)
            m = re.match(r"^([A-Za-z_]\w*\[[^\]]*\](?: \(\w+\))?)(?=:)", msg)
            if not (m and m.group(1) in self.names):
                m = re.match(r"^([A-Za-z_]\w*)(?=:|\[)", msg)
            if m and m.group(1) in self.names:
                exc.args = (self.names[m.group(1)] + msg[m.end():], *exc.args[1:])
        return False

"""Validation helpers shared by every public entry point.

All checks run in NumPy *before* anything reaches ``jax.jit``, and raise a subclass
of :class:`engramlab.errors.EngramlabError` whose message names the argument, what was
expected and what was received. Use these helpers rather than ``assert`` (stripped
under ``python -O``) or ad-hoc checks.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ShapeError, ValidationError

__all__ = [
    "as_array",
    "check_finite_scalar",
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
      ``"int"`` (integer values), or ``"any"``.
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
    if kind != "any":
        if np.iscomplexobj(arr):
            raise ValidationError(f"{name}: expected real numbers, got complex {_describe(arr)}")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValidationError(f"{name}: expected numbers, got {_describe(arr)}")
    if kind == "int":
        if np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise ValidationError(f"{name}: expected integer values, got {_describe(arr)}")
            arr = arr.astype(np.int64)
    if finite and kind != "int" and np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(bad.sum()) - n_nan
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValidationError(
                f"{name}: expected finite values, got {n_nan} NaN and {n_inf} inf "
                f"(first at index {first}) in {_describe(arr)}"
            )
    if dtype is not None:
        arr = arr.astype(dtype)
    elif kind == "float" and not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    return arr


def check_finite_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a Python float, raising if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        arr = np.asarray(value) if hasattr(value, "shape") else None
        if arr is not None and arr.shape == () and np.issubdtype(arr.dtype, np.number):
            value = arr.item()
        else:
            raise ValidationError(f"{name}: expected a real number, got {_describe(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValidationError(f"{name}: expected a finite number, got {v}")
    return v


def check_range(
    value: Any,
    name: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_inclusive: bool = True,
    hi_inclusive: bool = True,
) -> float:
    """Check ``lo <= value <= hi`` (bounds optional, inclusivity configurable)."""
    v = check_finite_scalar(value, name)
    lo_ok = lo is None or (v >= lo if lo_inclusive else v > lo)
    hi_ok = hi is None or (v <= hi if hi_inclusive else v < hi)
    if not (lo_ok and hi_ok):
        left = "(-inf" if lo is None else ("[" if lo_inclusive else "(") + f"{lo:g}"
        right = "inf)" if hi is None else f"{hi:g}" + ("]" if hi_inclusive else ")")
        raise ValidationError(f"{name}: expected a value in {left}, {right}, got {v:g}")
    return v


def check_positive(value: Any, name: str) -> float:
    """Check ``value > 0`` and finite."""
    return check_range(value, name, 0.0, None, lo_inclusive=False)


def check_nonnegative(value: Any, name: str) -> float:
    """Check ``value >= 0`` and finite."""
    return check_range(value, name, 0.0, None)


def check_int(value: Any, name: str, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    """Check that ``value`` is an integer (not bool) within optional bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, np.ndarray) and value.shape == () and np.issubdtype(
            value.dtype, np.integer
        ):
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

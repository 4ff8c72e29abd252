"""Shared hypothesis strategies and the contract check of the fuzz suites.

Reuse these in any fuzz test (API, CLI, CMR); they are plain ``hypothesis`` strategies.

The contract (``docs/developing.md``, "The input contract"): every public entry point
answers hostile input either with an :class:`engramlab.EngramlabError` (whose message
names the argument) or with a finite result; never another exception, a silent NaN/inf,
an allocation that kills the machine, or a hang.

Values
- ``HOSTILE_NUMBERS`` / ``hostile_numbers()``: NaN, +-inf, 1e300 and -1e39 (finite in
  float64, inf in float32), 0, -0.0, -1, huge ints (2**63, 10**400), bools.
- ``HOSTILE_OBJECTS`` / ``hostile_objects()``: None, strings, bytes, complex, lists,
  dicts, ``object()`` -- things that are not numbers at all.
- ``hostile_scalars()``: both of the above.
- ``sizes(valid)``: a valid small count from ``valid`` (a list) or a hostile one (0, -1,
  10**13, 2**63, 1e9 as a float, 2.5, True, None, "3").
- ``small_floats(lo, hi)``: finite floats in ``[lo, hi]`` (float32-representable).
- ``scalar(valid)``: a value from the strategy ``valid`` or a hostile scalar.

Arrays
- ``float_arrays(shape, lo=-3, hi=3)``: arrays of exactly ``shape`` in float32, float64,
  int32 or bool, finite.
- ``hostile_arrays(shape)``: arrays of ``shape`` with an injected NaN, inf or 1e300; of
  the wrong rank or size; empty; complex; strings; ragged lists; scalars; ``None``.
- ``array_arg(shape, lo, hi)``: either of the two.

Randomness
- ``keys()``: valid keys or seeds (ints, ``jax.random.key``, raw ``PRNGKey``, NumPy ints).
- ``hostile_keys()``: None, floats, bools, strings, seeds out of range, a batch of keys.

Calls
- ``draw_call(data, spec)``: ``spec`` maps each argument to ``(valid, hostile)``
  strategies; at most one argument (chosen by hypothesis) gets a hostile value, the
  others valid ones, so both the error paths and the valid path are exercised.
- ``check_contract(fn, *args, **kwargs)``: calls ``fn`` under an alarm
  (``CALL_TIMEOUT_S``); returns ``(True, result)`` for a finite result (checks every
  numeric leaf of the result: arrays, tuples, dicts, dataclasses, NamedTuples, pandas
  and xarray objects) or ``(False, error)`` for an ``EngramlabError``; fails the test
  for any other exception, a non-finite result, or a call that runs too long.
- ``v(valid, hostile=None)``, ``arr(shape, lo, hi)``, ``size(valid_list)``, ``key()``:
  the ``(valid, hostile)`` pairs of a ``draw_call`` spec for a scalar, an array, a count
  and a PRNG key.
- ``limited_resources()``: a context manager lowering ``ENGRAMLAB_MEMORY_LIMIT`` (1 GiB)
  and ``ENGRAMLAB_WORK_LIMIT`` (1e10) so a missing size check fails fast instead of
  eating the machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
from typing import Any

import numpy as np
from hypothesis import strategies as st

from engramlab.errors import EngramlabError

#: Seconds a single fuzzed call may run (compilation included) before it counts as a hang.
CALL_TIMEOUT_S = 60

HOSTILE_NUMBERS: tuple[Any, ...] = (
    float("nan"), float("inf"), float("-inf"), 1e300, -1e39, 3.5e38, 0, -0.0, -1, -1e-30,
    2**63, 10**400, True, False, np.float64("nan"), np.int64(-5),
)
HOSTILE_OBJECTS: tuple[Any, ...] = (
    None, "1", "nan", b"\x89PNG", 1 + 2j, [], [1, 2], {}, {"a": 1}, (), object(),
)


def hostile_numbers() -> st.SearchStrategy:
    return st.sampled_from(HOSTILE_NUMBERS)


def hostile_objects() -> st.SearchStrategy:
    return st.sampled_from(HOSTILE_OBJECTS)


def hostile_scalars() -> st.SearchStrategy:
    return st.one_of(hostile_numbers(), hostile_objects())


def small_floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy:
    return st.floats(float(np.float32(lo)), float(np.float32(hi)), allow_nan=False,
                     allow_infinity=False, width=32)


def scalar(valid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(valid, hostile_scalars())


HOSTILE_SIZES: tuple[Any, ...] = (0, -1, 10**13, 2**63, 2**64 + 1, 1e9, 2.5, True, None, "3",
                                  float("nan"))


def hostile_sizes() -> st.SearchStrategy:
    return st.sampled_from(HOSTILE_SIZES)


def sizes(valid: list[int]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(valid), hostile_sizes())


_DTYPES = (np.float32, np.float64, np.int32, np.bool_)


@st.composite
def float_arrays(draw, shape: tuple[int, ...], lo: float = -3.0, hi: float = 3.0):
    dtype = draw(st.sampled_from(_DTYPES))
    n = int(np.prod(shape))
    vals = draw(st.lists(small_floats(lo, hi), min_size=n, max_size=n))
    arr = np.asarray(vals, dtype=np.float64).reshape(shape)
    if dtype is np.bool_:
        return arr > 0
    if np.issubdtype(dtype, np.integer):
        return np.round(np.clip(arr, -1000, 1000)).astype(dtype)
    return arr.astype(dtype)


@st.composite
def hostile_arrays(draw, shape: tuple[int, ...]):
    kind = draw(st.sampled_from(("inject", "inject", "rank", "size", "empty", "complex",
                                 "strings", "ragged", "scalar", "none")))
    base = np.ones(shape)
    if kind == "inject":
        bad = draw(st.sampled_from((np.nan, np.inf, -np.inf, 1e300, -1e39)))
        flat = base.reshape(-1).copy()
        flat[draw(st.integers(0, max(flat.size - 1, 0)))] = bad
        return flat.reshape(shape)
    if kind == "rank":
        return base[None] if draw(st.booleans()) else base.reshape(-1)[:1].reshape(())
    if kind == "size":
        return np.ones(tuple(s + 1 for s in shape))
    if kind == "empty":
        return np.ones(shape[:-1] + (0,)) if shape else np.ones(0)
    if kind == "complex":
        return base * (1 + 1j)
    if kind == "strings":
        return np.full(shape, "a")
    if kind == "ragged":
        return [[1.0, 2.0], [3.0]]
    if kind == "scalar":
        return draw(hostile_scalars())
    return None


def array_arg(shape: tuple[int, ...], lo: float = -3.0, hi: float = 3.0):
    return st.one_of(float_arrays(shape, lo, hi), hostile_arrays(shape))


@st.composite
def keys(draw):
    import jax

    kind = draw(st.sampled_from(("int", "key", "raw", "np")))
    seed = draw(st.integers(0, 2**31 - 1))
    if kind == "int":
        return seed
    if kind == "key":
        return jax.random.key(seed)
    if kind == "raw":
        return jax.random.PRNGKey(seed)
    return np.int64(seed)


@st.composite
def hostile_keys(draw):
    import jax

    kind = draw(st.sampled_from(("none", "float", "bool", "str", "big", "batch", "array")))
    if kind == "none":
        return None
    if kind == "float":
        return 1.5
    if kind == "bool":
        return True
    if kind == "str":
        return "0"
    if kind == "big":
        return 2**64
    if kind == "batch":
        return jax.random.split(jax.random.key(0), 3)
    return np.ones(3)


#: hypothesis settings of the fuzz suites: derandomised, small fixed example counts.
def fuzz_settings(max_examples: int = 10):
    from hypothesis import HealthCheck, settings

    return settings(derandomize=True, max_examples=max_examples, deadline=None,
                    database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


def fuzz_call(data, fn, spec, check=None, *, allow_nan: bool = False, **fixed):
    """``draw_call`` + ``check_contract``; on a fully valid draw, ``check(kwargs, out)``
    verifies the result (e.g. against a closed form)."""
    kwargs, which = draw_call(data, spec)
    ok, out = check_contract(fn, allow_nan=allow_nan, **fixed, **kwargs)
    if ok and which is None and check is not None:
        check(kwargs, out)
    return ok, out, which


def draw_call(data, spec: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]],
              label: str = "") -> tuple[dict[str, Any], str | None]:
    """Draw keyword arguments: at most one hostile (returned as its name, else None)."""
    names = list(spec)
    which = data.draw(st.sampled_from([None, *names]), label=f"{label}hostile")
    kwargs = {}
    for name in names:
        valid, hostile = spec[name]
        kwargs[name] = data.draw(hostile if name == which else valid, label=name)
    return kwargs, which


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _alarm(seconds: int):
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - non-POSIX
        yield
        return

    def handler(signum, frame):
        raise _Timeout(f"call ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def numeric_leaves(x: Any, depth: int = 0):
    """Every numeric array/scalar inside ``x`` (recursive over containers)."""
    if depth > 6 or x is None or isinstance(x, str | bytes | bool):
        return
    if isinstance(x, int | float | complex | np.number):
        yield np.asarray(x)
        return
    if hasattr(x, "to_numpy") and hasattr(x, "dtypes"):   # pandas DataFrame / Series
        for col in (x.columns if hasattr(x, "columns") else [None]):
            s = x if col is None else x[col]
            if np.issubdtype(np.asarray(s).dtype, np.number):
                yield np.asarray(s)
        return
    if hasattr(x, "data_vars"):                           # xarray Dataset
        for v in x.data_vars.values():
            yield np.asarray(v)
        return
    if hasattr(x, "dims") and hasattr(x, "values"):       # xarray DataArray
        yield np.asarray(x.values)
        return
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        try:
            import jax

            if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
                return
        except Exception:  # noqa: S110 - not a JAX array
            pass
        yield np.asarray(x)
        return
    if isinstance(x, dict):
        for v in x.values():
            yield from numeric_leaves(v, depth + 1)
        return
    if isinstance(x, list | tuple):
        for v in x:
            yield from numeric_leaves(v, depth + 1)
        return
    if dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            yield from numeric_leaves(getattr(x, f.name), depth + 1)
        return
    try:  # equinox modules and other pytrees
        import jax

        leaves = jax.tree_util.tree_leaves(x)
    except Exception:
        return
    if leaves and leaves[0] is not x:
        for v in leaves:
            yield from numeric_leaves(v, depth + 1)


def assert_finite(x: Any, what: str = "result") -> None:
    for leaf in numeric_leaves(x):
        if np.issubdtype(leaf.dtype, np.inexact):
            assert np.all(np.isfinite(leaf)), f"{what}: non-finite values in {leaf!r}"[:400]


def _argument_names(fn, args: tuple, kwargs: dict) -> set[str]:
    """The names of the arguments of this call: keywords, and positionals bound to
    ``fn``'s signature."""
    import inspect

    names = set(kwargs)
    try:
        names |= set(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        pass
    # a message may name a field of an argument instead ("encoding_drift_rate: ..." for a
    # bad value inside ``params``): the keys of mappings and the fields of dataclasses
    for value in (*args, *kwargs.values()):
        if isinstance(value, dict):
            names |= {str(k) for k in value}
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names |= {f.name for f in dataclasses.fields(value)}
        elif hasattr(value, "names") and callable(value.names):
            with contextlib.suppress(Exception):
                names |= set(value.names())
    return names


def check_contract(fn, *args, allow_nan: bool = False, names: tuple[str, ...] = (),
                   **kwargs) -> tuple[bool, Any]:
    """Call ``fn``; ``(True, result)`` for a finite result, ``(False, exc)`` for an
    ``EngramlabError`` whose message names one of the call's arguments (or a key or field
    of one; or one of ``names``, for a ``fn`` that wraps the library call: a wrapper
    without ``names`` only needs a ``name: ...`` message); a ``DivergenceError`` says what
    diverged; anything else fails the test."""
    import warnings

    from engramlab.errors import ConvergenceWarning, StabilityWarning

    try:
        with _alarm(CALL_TIMEOUT_S), warnings.catch_warnings():
            # engramlab's own warnings are part of the contract; any other warning (e.g.
            # NumPy's "overflow encountered") stays an error under filterwarnings=error
            warnings.simplefilter("ignore", StabilityWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            out = fn(*args, **kwargs)
    except EngramlabError as exc:
        msg = str(exc)
        from engramlab.errors import DivergenceError

        if isinstance(exc, DivergenceError):  # a numerical failure names the quantity
            assert msg and "diverged" in msg, f"a DivergenceError without a cause: {msg!r}"
            return False, exc
        if not names and not getattr(fn, "__module__", "").startswith("engramlab"):
            # a test's wrapper renames the library's arguments: only the form is checked
            assert msg and ":" in msg, f"an EngramlabError without a named argument: {msg!r}"
            return False, exc
        names = _argument_names(fn, args, kwargs) | set(names)
        assert msg and any(re.search(rf"(?<!\w){re.escape(n)}(?=[:\[=]|\.\w)", msg)
                           for n in names), (
            f"an EngramlabError that names none of the arguments {sorted(names)} "
            f"(as 'name: ...', 'name[...]' or 'name=...'): {msg!r}")
        return False, exc
    except _Timeout as exc:  # pragma: no cover - a failure
        raise AssertionError(f"{getattr(fn, '__name__', fn)} hung: {exc}") from None
    if not allow_nan:
        assert_finite(out, getattr(fn, "__name__", "result"))
    return True, out


@contextlib.contextmanager
def limited_resources(memory: str = "1GiB", work: str = "1e10"):
    old = {k: os.environ.get(k) for k in ("ENGRAMLAB_MEMORY_LIMIT", "ENGRAMLAB_WORK_LIMIT")}
    os.environ["ENGRAMLAB_MEMORY_LIMIT"] = memory
    os.environ["ENGRAMLAB_WORK_LIMIT"] = work
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def is_close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                            rtol=rtol, atol=atol))


__all__ = [name for name in dir() if not name.startswith("_") and name not in (
    "annotations", "contextlib", "dataclasses", "os", "signal", "Any", "np", "st",
    "EngramlabError")]


# --------------------------------------------------------------- spec pairs for draw_call
def v(strategy: st.SearchStrategy, hostile: st.SearchStrategy | None = None):
    """``(valid, hostile)`` pair for :func:`draw_call` (hostile: any hostile scalar)."""
    return strategy, hostile_scalars() if hostile is None else hostile


def arr(shape: tuple[int, ...], lo: float = -3.0, hi: float = 3.0):
    """``(valid, hostile)`` pair for an array argument of ``shape``."""
    return float_arrays(shape, lo, hi), hostile_arrays(shape)


def size(valid: list[int]):
    """``(valid, hostile)`` pair for a count argument."""
    return st.sampled_from(valid), hostile_sizes()


def key():
    """``(valid, hostile)`` pair for a PRNG key / seed argument."""
    return keys(), hostile_keys()

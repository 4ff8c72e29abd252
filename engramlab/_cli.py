"""What every ``engramlab`` command shares: the error contract and argument checks.

**The CLI contract** (every command; ``tests/test_fuzz_cli.py`` checks it): a command
either succeeds (exit 0) or prints ONE line ``error: <argument>: <what is wrong>`` on
stderr and exits 2 (1 for a rerun that differs / a failed demo section, 130 on Ctrl-C);
it never prints a traceback. The shared pieces, used by every family's ``cli.py``:

- :class:`GuardedGroup`, the root command group: every float argument of every command
  must be finite and every integer fit in int64; it turns usage errors, every
  :class:`~engramlab.errors.EngramlabError`, :class:`ArgumentError` and file-system
  errors into that one line (``ENGRAMLAB_DEBUG=1`` shows the traceback instead);
- :func:`out_dir` / :func:`out_file`: option callbacks that check an output path can be
  written *before* any work is done;
- :func:`argument_errors`: a context manager that turns whatever a reader raises on a
  bad file (decode, parse, empty, truncated) into an :class:`ArgumentError` naming it;
- :func:`read_text_arg` / :func:`read_mapping_arg`: read a text / JSON-or-TOML file arg;
- :func:`check_budget`: refuse sizes whose memory or work cannot fit, saying how much
  they would need;
- :func:`check_finite_result`: a result with NaN/inf is an error, not an exit 0;
- :func:`check_scheduler_arg`: ``--scheduler`` is ``tcp://HOST:PORT`` and answers within
  a few seconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["ArgumentError", "GuardedGroup", "contract", "cli_names", "out_dir", "out_file",
           "argument_errors", "read_text_arg", "read_mapping_arg", "check_budget",
           "check_finite_result", "check_scheduler_arg"]


# --------------------------------------------------------------------------------------
# the error contract
# --------------------------------------------------------------------------------------
class ArgumentError(typer.BadParameter):
    """A command-line argument is bad; ``param`` is its name as typed (``--out``)."""

    def __init__(self, param: str, message: str):
        super().__init__(message, param_hint=param)
        self.param_name = param


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _describe(exc: BaseException) -> str | None:
    """The one-line message for an expected error, or None for an unexpected one."""
    from .errors import EngramlabError

    if isinstance(exc, typer.BadParameter):
        hint = exc.param_hint
        if hint is None and exc.param is not None:
            hint = "/".join(getattr(exc.param, "opts", []) or [exc.param.name or ""])
        if isinstance(hint, list | tuple):
            hint = "/".join(hint)
        return f"{hint}: {exc.message}" if hint else exc.message
    if isinstance(exc, typer.TyperException):
        return exc.format_message()
    if isinstance(exc, EngramlabError):
        return str(exc)
    if isinstance(exc, OSError) and (exc.filename is not None or exc.strerror):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return "out of memory; use smaller sizes"
    return None


def _fail(message: str, code: int) -> None:
    typer.echo(typer.style(f"error: {_one_line(message)}", fg="red"), err=True)
    sys.exit(code)


_GUARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("engramlab_guarded",
                                                                default=False)


@contextlib.contextmanager
def contract() -> Iterator[None]:
    """Within this block the root group applies the CLI contract (``engramlab.cli.main``
    runs the app in it). Outside it - e.g. ``CliRunner().invoke(app, ...)`` in tests -
    errors propagate as exceptions, so a test can inspect them; a test can also enter
    ``contract()`` to run exactly what the ``engramlab`` command runs, in-process."""
    token = _GUARDED.set(True)
    try:
        yield
    finally:
        _GUARDED.reset(token)


#: Python name -> command-line name of the parameters of the command being run, so an
#: error from the library that names ``n_neurons`` reads ``--n-neurons`` on the CLI.
_SEEN: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("engramlab_seen")


#: command-line name -> value of the numeric arguments the user typed
_GIVEN: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("engramlab_given")


def _numeric(v: Any) -> bool:
    if isinstance(v, list | tuple):
        return bool(v) and all(_numeric(x) for x in v)
    return isinstance(v, int | float) and not isinstance(v, bool)


def _cli_names(message: str) -> str:
    """Name the command-line arguments in a library error: a leading library argument
    name (``flip: ...``) becomes its option (``--flip``); a message that names none of
    the options the user gave (a divergence, an overflow) gets them appended."""
    seen = _SEEN.get({})
    # a library error names its argument first, as ``name: ...`` or ``name[key]: ...``
    # (not a message that merely starts with a word that is also an option: "out of ...")
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(?=:|\[)", message)
    if m and m.group(1) in seen and seen[m.group(1)] != m.group(1):
        message = seen[m.group(1)] + message[m.end():]
    given = {k: v for k, v in _GIVEN.get({}).items() if _numeric(v)}
    if given and not any(re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", message)
                         for k in given):
        def fmt(v: Any) -> str:
            return " ".join(fmt(x) for x in v) if isinstance(v, list | tuple) else f"{v:g}"

        shown = ", ".join(f"{k} {fmt(v)}" for k, v in given.items())
        message = f"{message.rstrip('. ')} (arguments given: {shown})"
    return message


def cli_names(**names: str) -> None:
    """Inside a command: the library argument ``name`` is given on the command line as
    ``names[name]`` (``cli_names(betas="--beta-min/--beta-max")``), so its errors name
    the option."""
    seen = _SEEN.get(None)
    if seen is not None:
        seen.update(names)


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArgumentError(name, f"expected a finite number, got {value!r}")
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ArgumentError(name, f"expected an integer in [-2^63, 2^63), got {value}")
    elif isinstance(value, list | tuple):
        for v in value:
            _check_number(name, v)


def _harden(group: Any) -> None:
    """Give every parameter of every (sub-)command the number rule: floats finite, ints
    within int64 (checked after typer's own conversion, before the command's callback)."""
    if getattr(group, "_engramlab_hardened", False):
        return
    group._engramlab_hardened = True
    stack = [group]
    while stack:
        cmd = stack.pop()
        stack.extend(getattr(cmd, "commands", {}).values())
        for p in getattr(cmd, "params", []):
            if getattr(p, "_engramlab_checked", False):
                continue
            orig = p.process_value

            def process_value(ctx: Any, value: Any, _p: Any = p, _orig: Any = orig) -> Any:
                shown = _param_name(_p, _p.name or "argument")
                seen = _SEEN.get(None)
                if seen is not None and _p.name:
                    seen[_p.name] = shown
                value = _orig(ctx, value)
                _check_number(shown, value)
                given = _GIVEN.get(None)
                source = ctx.get_parameter_source(_p.name) if _p.name else None
                if given is not None and getattr(source, "name", "") == "COMMANDLINE":
                    given[shown] = value
                return value

            p.process_value = process_value
            p._engramlab_checked = True


class GuardedGroup(TyperGroup):
    """The root command group: applies the CLI contract to every sub-command (inside
    :func:`contract`, which the console script enters).

    Runs the command non-standalone and handles what comes out: ``Exit`` keeps its code;
    a usage error, an :class:`EngramlabError`, an :class:`ArgumentError` or an
    ``OSError`` on a file prints one line and exits 2; Ctrl-C prints one line and exits
    130; anything else is a bug: one line and exit 1 (``ENGRAMLAB_DEBUG=1`` re-raises it
    with its traceback).
    """

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        _harden(self)
        if not standalone_mode or not _GUARDED.get():
            return super().main(args, prog_name, complete_var,
                                standalone_mode=standalone_mode, **extra)
        _SEEN.set({})
        _GIVEN.set({})
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False,
                              **extra)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            _fail("interrupted; nothing half-written was left behind", 130)
        except KeyboardInterrupt:
            _fail("interrupted; nothing half-written was left behind", 130)
        except SystemExit:
            raise
        except typer.TyperException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError" and getattr(exc, "ctx", None):
                typer.echo(exc.ctx.get_help())  # a group without its command: its help
                _fail("missing command (see the list above)", 2)
            _fail(_describe(exc) or str(exc), 2)
        except BaseException as exc:
            if os.environ.get("ENGRAMLAB_DEBUG"):
                raise
            msg = _describe(exc)
            if msg is None:
                _fail(f"internal error ({type(exc).__name__}: {exc}); please report it "
                      "(ENGRAMLAB_DEBUG=1 shows the traceback)", 1)
            _fail(_cli_names(msg), 2)
        # non-standalone typer returns the exit code of an explicit Exit; Ctrl-C inside
        # the command comes back as typer's Exit(130)
        if rv == 130:
            _fail("interrupted; nothing half-written was left behind", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


@contextlib.contextmanager
def argument_errors(param: str, what: str = "file") -> Iterator[None]:
    """Turn any error a reader raises on a bad input into an :class:`ArgumentError`.

    ``with argument_errors("--data", "CSV file"): df = pd.read_csv(p)``: an empty,
    binary, truncated or malformed file then reads ``error: --data: not a readable
    CSV file (...)``. :class:`EngramlabError` messages (already clear) pass through.
    """
    from .errors import EngramlabError

    try:
        yield
    except (ArgumentError, typer.Exit, KeyboardInterrupt, MemoryError):
        raise
    except EngramlabError:
        raise
    except Exception as exc:  # any parser's error on a hostile file
        detail = _one_line(str(exc))[:200] or type(exc).__name__
        raise ArgumentError(param, f"not a readable {what} ({type(exc).__name__}: "
                            f"{detail})") from None


def _probe_writable(folder: Path, param: str) -> None:
    """Check that a file can be created in ``folder`` or (if absent) its nearest
    existing ancestor; creates nothing that stays."""
    import tempfile

    anc = folder
    while not anc.exists():
        if anc.is_symlink():  # a dangling link
            raise ArgumentError(param, f"{anc} is a broken symbolic link")
        if anc.parent == anc:
            break
        anc = anc.parent
    if not anc.is_dir():
        raise ArgumentError(param, f"cannot write under {folder}: {anc} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".engramlab-probe-", suffix=".tmp", dir=anc)
    except OSError as exc:
        raise ArgumentError(param, f"cannot write under {folder} "
                            f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


def _param_name(param: typer.CallbackParam | None, default: str) -> str:
    if param is None:
        return default
    opts = getattr(param, "opts", None) or []
    long = [o for o in opts if o.startswith("--")]
    return (long or opts or [param.name or default])[0]


def out_dir(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Option callback: ``value`` is a folder that exists or can be created, writable."""
    if value is None or ctx.resilient_parsing:
        return value
    name = _param_name(param, "--out")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ArgumentError(name, f"{path} exists and is not a directory")
    _probe_writable(path, name)
    return path


def out_file(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Option callback: ``value`` is a file that can be (over)written."""
    if value is None or ctx.resilient_parsing:
        return value
    name = _param_name(param, "--out")
    path = Path(value)
    if path.is_dir() or str(value).endswith(os.sep):
        raise ArgumentError(name, f"{path} is a directory; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise ArgumentError(name, f"{path} is not writable")
    _probe_writable(path.parent if str(path.parent) else Path("."), name)
    return path


def read_text_arg(path: str | os.PathLike[str], param: str, what: str = "text file") -> str:
    """The UTF-8 text of the file argument ``param``; any problem names ``param``."""
    p = Path(path)
    if not p.exists():
        raise ArgumentError(param, f"no such file {str(p)!r}")
    if not p.is_file():
        raise ArgumentError(param, f"{str(p)!r} is not a regular file")
    with argument_errors(param, what):
        return p.read_text(encoding="utf-8")


def read_mapping_arg(path: str | os.PathLike[str], param: str) -> dict[str, Any]:
    """A JSON (``.json`` or anything else) or TOML (``.toml``) file of name -> value."""
    import json
    import tomllib

    p = Path(path)
    kind = "TOML file" if p.suffix.lower() == ".toml" else "JSON file"
    text = read_text_arg(p, param, kind)
    with argument_errors(param, kind):
        data = tomllib.loads(text) if kind == "TOML file" else json.loads(text)
    if not isinstance(data, dict):
        raise ArgumentError(param, f"expected a {kind} mapping names to values, got a "
                            f"{type(data).__name__}")
    return data


# --------------------------------------------------------------------------------------
# resources
# --------------------------------------------------------------------------------------
def check_budget(params: Mapping[str, Any], *, memory: float = 0.0,
                 work: float = 0.0) -> None:
    """Refuse a command whose estimated ``memory`` (bytes) or ``work`` (float ops) exceeds
    the validation layer's limits (:func:`engramlab._validation.memory_limit`,
    :func:`~engramlab._validation.work_limit`): an :class:`ArgumentError` naming
    ``params`` (``{"--seeds": 1e9}``) and what they need. Estimates are lower bounds of the
    arrays a command holds at once and of the arithmetic it does."""
    from ._validation import format_bytes, memory_limit, work_limit

    shown = ", ".join(f"{k} {v}" for k, v in params.items())
    first = next(iter(params), "arguments")
    if memory > memory_limit():
        raise ArgumentError(first, f"{shown} would need about {format_bytes(memory)} of "
                            f"memory (the limit is {format_bytes(memory_limit())}, 80% of "
                            "this machine's RAM); use smaller sizes")
    if work > work_limit():
        raise ArgumentError(first, f"{shown} would need about {work:.2g} floating-point "
                            f"operations (the limit is {work_limit():.0e}, hours of CPU "
                            "time); use smaller sizes")


def check_finite_result(values: Any, what: str, hint: str = "") -> None:
    """A command's numeric result with NaN/inf is a :class:`DivergenceError`, not exit 0."""
    import numpy as np

    from .errors import DivergenceError

    leaves: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, Mapping):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        else:
            leaves.append(v)

    walk(values)
    for leaf in leaves:
        try:
            arr = np.asarray(leaf, dtype=float)
        except (TypeError, ValueError):
            continue
        if not np.all(np.isfinite(arr)):
            raise DivergenceError(f"{what}: the result is not finite (NaN or inf)"
                                  + (f"; {hint}" if hint else ""))




def check_scheduler_arg(ctx: typer.Context, param: typer.CallbackParam,
                        value: str | None) -> str | None:
    """Option callback for ``--scheduler``: the form ``tcp://HOST:PORT`` and a scheduler
    that answers within a few seconds (no 30 s wait then an ``OSError``)."""
    if value is None or ctx.resilient_parsing:
        return value
    from ._scheduler import check_scheduler_address
    from .errors import ValidationError

    name = _param_name(param, "--scheduler")
    try:
        return check_scheduler_address(value, name=name)
    except ValidationError as exc:
        raise ArgumentError(name, str(exc).removeprefix(f"{name}: ")) from None

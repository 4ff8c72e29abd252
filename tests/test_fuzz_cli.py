"""The CLI contract under hostile input, for every command (property-based).

Every ``engramlab`` command given a generated hostile argument value or file must either
succeed (exit 0, and a numeric result that is finite) or exit 2 with ONE line on stderr,
``error: ...``, that names the argument (or the file it was given); never a traceback.
Most cases run in-process with typer's ``CliRunner`` inside :func:`engramlab._cli.contract`
(exactly what the ``engramlab`` console script runs); a few run the real command in a
subprocess for the exit code and stderr of the process.

Hypothesis runs derandomized with a fixed small number of examples per command, so the
suite is deterministic and bounded (about a minute on 2 cores).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from engramlab._cli import contract
from engramlab.cli import app

FUZZ = settings(derandomize=True, deadline=None, max_examples=6, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


# --------------------------------------------------------------------------------------
# running a command and checking the contract
# --------------------------------------------------------------------------------------
def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``engramlab ARGS`` in-process under the CLI contract: (exit code, stdout, stderr)."""
    # Python warnings are not part of the contract (pytest would turn them into errors)
    with contract(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"engramlab {args}: raised {r.exception!r}") from r.exception
    return r.exit_code, r.stdout, r.stderr


def assert_contract(args: list[str], code: int, out: str, err: str,
                    names: list[str]) -> None:
    """Exit 0 (no NaN printed), or exit 2 with one ``error:`` line naming one of ``names``."""
    where = f"engramlab {' '.join(map(str, args))}"
    assert "Traceback" not in out + err, f"{where}: traceback\n{out}\n{err}"
    if code == 0:
        assert not any(w in out.split() for w in ("nan", "NaN", "inf", "-inf")), \
            f"{where}: exit 0 with a non-finite result\n{out}"
        return
    assert code == 2, f"{where}: exit {code}\n{out}\n{err}"
    lines = [ln for ln in err.splitlines() if ln.strip()
             and not ln.startswith("engramlab: ")]  # repair notes are not errors
    assert len(lines) == 1, f"{where}: expected one error line, got\n{err}"
    line = lines[0]
    assert line.startswith("error: "), f"{where}: {line!r}"
    assert any(n and re.search(rf"(?<![\w-]){re.escape(n)}(?![\w])", line) for n in names), \
        f"{where}: {line!r} names none of {names}"


def check(base: list[str], option: str | None, value: str, *, aliases: tuple[str, ...] = ()
          ) -> None:
    """Run ``base + [option, value]`` (``option=None``: a positional value already in
    ``base``) and check the contract; the error must name the option or the value."""
    args = list(base) + ([option, value] if option else [])
    code, out, err = run_cli(args)
    assert_contract(args, code, out, err, names_of(option, value, aliases))


def names_of(option: str | None, value: object, aliases: tuple[str, ...] = ()) -> list[str]:
    """What an error about ``option value`` may be named by: the option (also as the
    library's argument name, ``--n-steps`` -> ``n_steps``) or the value as typed or as
    a number (``1e308`` -> ``1e+308``)."""
    names = [str(value), *aliases]
    for o in (option, *aliases):
        if o:
            names += [o, o.lstrip("-").replace("-", "_")]
    try:
        x = float(str(value))
        names += [f"{x:g}", repr(x), str(int(x)) if math.isfinite(x) and x == int(x) else ""]
    except ValueError:
        pass
    return [n for n in names if n]


# --------------------------------------------------------------------------------------
# hostile values
# --------------------------------------------------------------------------------------
COUNTS = st.sampled_from(["-1", "0", "-7", str(2**63), str(10**12), str(10**30), "1e9",
                          "3.5", "abc", ""])
SEEDS = st.sampled_from([str(2**64), str(-(2**63) - 1), str(10**40), "nan", "x"])
FLOATS = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "1e38", "-1e38", "1e-320",
                     "abc", "", "--"]),
    st.floats().filter(lambda x: not math.isfinite(x) or abs(x) > 1e30 or (
        0 < abs(x) < 1e-300)).map(repr))
TEXT = st.one_of(st.sampled_from(["", " ", "--", "../../etc", "nonsense", "\u00e9\u4e2d",
                                  "a" * 300, "exp;rm", "None"]),
                 st.text(max_size=12).filter(lambda s: not s.startswith("-")))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Hostile files, by name."""
    import h5py

    d = tmp_path_factory.mktemp("hostile")
    out = {}

    def put(name: str, data: bytes) -> None:
        (d / name).write_bytes(data)
        out[name] = d / name

    for ext in ("toml", "json", "csv", "txt", "h5", "npy", "npz", "edf", "fif"):
        put(f"png.{ext}", PNG)
        put(f"empty.{ext}", b"")
        put(f"garbage.{ext}", bytes(range(256)) * 4)
    put("bad.json", b'{"T": 0.2,')
    put("list.json", b"[1, 2, 3]")
    put("nan.json", b'{"T": NaN}')
    put("strings.json", b'{"T": "high"}')
    put("bad.toml", b"T = = 0.2\n[")
    put("huge.toml", b"T = 1e308\nitem_support = 1e308\nshared_support = 1e308\n")
    put("header.csv", b"subject,list,trial_type,position,item\n")
    put("junk.csv", b"a,b\n1,2\n")
    put("nan.csv", b"subject,list,trial_type,position,item\n1,1,study,1,0\n"
        b"1,1,recall,nan,0\n")
    put("latin1.txt", "caf\xe9\n".encode("latin-1"))
    # a real HDF5 file cut in half, and one with the wrong content
    with h5py.File(d / "ok.h5", "w") as f:
        f["data/pres_itemnos"] = np.arange(12).reshape(2, 6) + 1
    whole = (d / "ok.h5").read_bytes()
    put("truncated.h5", whole[: len(whole) // 2])
    out["wrong.h5"] = d / "ok.h5"
    np.save(d / "empty_array.npy", np.zeros((0,)))
    out["empty_array.npy"] = d / "empty_array.npy"
    np.save(d / "nan.npy", np.full((2, 3, 64), np.nan))
    out["nan.npy"] = d / "nan.npy"
    (d / "adir").mkdir()
    out["adir"] = d / "adir"
    out["missing"] = d / "no-such-file.toml"
    return out


FILE_KINDS = st.sampled_from(
    ["png.toml", "png.json", "png.csv", "png.txt", "png.h5", "png.npy", "png.npz",
     "png.edf", "empty.toml", "empty.json", "empty.csv", "empty.txt", "empty.h5",
     "empty.npy", "garbage.toml", "garbage.json", "garbage.csv", "garbage.h5",
     "garbage.npz", "garbage.fif", "bad.json", "list.json", "nan.json", "strings.json",
     "bad.toml", "huge.toml", "header.csv", "junk.csv", "nan.csv", "latin1.txt",
     "truncated.h5", "wrong.h5", "empty_array.npy", "nan.npy", "adir", "missing"])


@pytest.fixture(scope="module")
def outs(tmp_path_factory) -> dict[str, Path]:
    """Output paths that cannot be written, and a fresh writable folder per call."""
    d = tmp_path_factory.mktemp("outs")
    (d / "a-file").write_text("x")
    counter = itertools.count()
    return {"/proc/x": Path("/proc/x"), "/proc/x/y": Path("/proc/x/y"),
            "file": d / "a-file", "under-file": d / "a-file" / "sub",
            "fresh": lambda: d / f"ok{next(counter)}"}


OUT_KINDS = st.sampled_from(["/proc/x", "/proc/x/y", "file", "under-file"])


# --------------------------------------------------------------------------------------
# data the commands can succeed on
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    import jax

    from engramlab import cmr

    p = tmp_path_factory.mktemp("cmrdata") / "small.csv"
    df = cmr.simulate(cmr.JaxcmrParams(), {"list_length": 4, "n_lists": 3, "n_subjects": 1},
                      key=jax.random.key(0))
    df.to_csv(p, index=False)
    return p


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory) -> Path:
    from engramlab import eeg

    sim = eeg.synthetic_eeg(seed=0, n_trials=6, n_channels=3)
    p = tmp_path_factory.mktemp("eegdata") / "x.npz"
    np.savez(p, data=sim.epochs.data, sfreq=sim.epochs.sfreq)
    (p.parent / "labels.txt").write_text("\n".join(sim.epochs.labels))
    return p


SMALL_SWEEP = """
name = "fuzz"
model = "memory.capacity"
[grid]
n_patterns = [2, 3]
n_units = [8]
[seeds]
count = 2
[sweep]
chunk_size = 2
[outputs]
report = false
"""


# --------------------------------------------------------------------------------------
# the families' commands
# --------------------------------------------------------------------------------------
ATTRACTOR = {
    "demo": (["-n", "8", "-p", "2", "--trials", "2", "--steps", "3", "--noise", "0",
              "--noise", "0.5", "-q"],
             {"-n": COUNTS, "-p": COUNTS, "--trials": COUNTS, "--steps": COUNTS,
              "--beta": FLOATS, "--gamma": FLOATS, "--gain": FLOATS, "--tau": FLOATS,
              "--dt": FLOATS, "--noise": FLOATS, "--emotion": FLOATS, "--salience": TEXT,
              "--seed": SEEDS}),
    "scan": (["-n", "8", "--beta-num", "2", "--trials", "2", "--steps", "3", "-q"],
             {"-n": COUNTS, "--beta-num": COUNTS, "--beta-min": FLOATS, "--beta-max": FLOATS,
              "--emotion": FLOATS, "--gamma": FLOATS, "--noise": FLOATS, "--tau": FLOATS,
              "--salience": TEXT, "--trials": COUNTS, "--steps": COUNTS}),
    "capacity": (["-n", "10", "--load-num", "2", "--networks", "1", "-q"],
                 {"-n": COUNTS, "--load-num": COUNTS, "--networks": COUNTS,
                  "--load-min": FLOATS, "--load-max": FLOATS, "--gain": FLOATS,
                  "--flip": FLOATS, "--threshold": FLOATS}),
}
ALIASES = {"-n": ("--n-neurons",), "-p": ("--patterns",), "-e": ("--emotion",)}


def _option_and_value(table: dict) -> st.SearchStrategy:
    return st.sampled_from(sorted(table)).flatmap(
        lambda opt: st.tuples(st.just(opt), table[opt]))


@pytest.mark.parametrize("command", sorted(ATTRACTOR))
def test_attractor_commands(command, outs):
    base, table = ATTRACTOR[command]

    @FUZZ
    @given(_option_and_value({**table, "--out": OUT_KINDS}))
    def run(case):
        opt, value = case
        if opt == "--out":
            value = str(outs[value])
        check(["attractor", command, *base, "--out", str(outs["fresh"]())], opt, value,
              aliases=ALIASES.get(opt, ()))

    run()


SOFTMAX = {
    "run": (["--n-steps", "20", "--n-v", "6", "--n-h", "2"],
            {"--beta": FLOATS, "--tau": FLOATS, "--noise": FLOATS, "--dt": FLOATS,
             "--n-steps": COUNTS, "--n-v": COUNTS, "--n-h": COUNTS, "--seed": SEEDS}),
    "theory": (["--seeds", "2", "--n-steps", "20"],
               {"--seeds": COUNTS, "--beta": FLOATS, "--tau": FLOATS, "--noise": FLOATS,
                "--tolerance": FLOATS, "--n-steps": COUNTS}),
    "capacity": (["--n-v", "8", "--k", "2", "--beta", "1", "--n-cues", "4"],
                 {"--n-v": COUNTS, "--k": COUNTS, "--beta": FLOATS, "--flip": FLOATS,
                  "--n-cues": COUNTS}),
}


@pytest.mark.parametrize("command", sorted(SOFTMAX))
def test_softmax_commands(command, outs):
    base, table = SOFTMAX[command]
    file_outs = {"--out": OUT_KINDS, "--plot": OUT_KINDS}

    @FUZZ
    @given(_option_and_value({**table, **file_outs}))
    def run(case):
        opt, value = case
        if opt in file_outs:
            value = str(outs[value] if value != "file" else outs["/proc/x"])
        check(["softmax", command, *base], opt, value)

    run()


SETS = st.sampled_from(["T", "T=", "=1", "T=nan", "T=inf", "T=1e308", "T=abc",
                        "item_support=1e308", "shared_support=1e308", "nosuch=1",
                        "B_enc=2", "B_enc=-1"])


def test_cmr_loglik_and_simulate(files, outs, small_csv):
    @FUZZ
    @given(_option_and_value({"--data": FILE_KINDS | TEXT, "--params": FILE_KINDS,
                              "--set": SETS, "--variant": TEXT, "--subject": TEXT,
                              "--pool-size": COUNTS}))
    def loglik(case):
        opt, value = case
        if opt in ("--data", "--params") and value in files:
            value = str(files[value])
        check(["cmr", "loglik", "--data", str(small_csv)], opt, value)

    @FUZZ
    @given(_option_and_value({"--list-length": COUNTS, "--n-lists": COUNTS,
                              "--n-subjects": COUNTS, "--params": FILE_KINDS, "--set": SETS,
                              "--out": OUT_KINDS, "--seed": SEEDS, "--variant": TEXT}))
    def simulate(case):
        opt, value = case
        if opt == "--params":
            value = str(files[value])
        elif opt == "--out":
            value = str(outs[value] if value != "file" else outs["under-file"])
        check(["cmr", "simulate", "--list-length", "4", "--n-lists", "2"], opt, value)

    loglik()
    simulate()


def test_cmr_fit_refuses_before_fitting(files, outs, small_csv):
    """Every hostile fit argument is refused up front (a fit is too slow to fuzz)."""
    base = ["cmr", "fit", "--data", str(small_csv), "--maxiter", "1", "--popsize", "2",
            "--n-starts", "1"]
    cases = [("--maxiter", "0"), ("--maxiter", str(10**15)), ("--popsize", "-1"),
             ("--n-starts", str(2**63)), ("--params", str(files["png.toml"])),
             ("--params", str(files["bad.json"])), ("--out", str(outs["/proc/x"])),
             ("--out", str(files["adir"])),
             ("--data", str(files["truncated.h5"])), ("--data", str(files["empty.csv"])),
             ("--set", "T=nan"), ("--seed", str(2**64))]
    for opt, value in cases:
        check(base, opt, value)
    for addr in ("junk", "tcp://", "tcp://host:99999", "http://x:1", "tcp://127.0.0.1:1"):
        check([*base, "--per-subject"], "--scheduler", addr)


def test_cmr_sample_refuses_before_sampling(files, outs, small_csv):
    """Every hostile sampling argument is refused up front, naming its option (a
    posterior is too slow to fuzz)."""
    base = ["cmr", "sample", "--data", str(small_csv), "--chains", "1", "--draws", "2",
            "--warmup", "1", "--ppc-draws", "0", "-q"]
    cases = [("--draws", "0"), ("--chains", "-1"), ("--warmup", "abc"),
             ("--target-accept", "1.5"), ("--max-tree-depth", "99"),
             ("--parameterization", "bogus"), ("--seed", str(2**64)),
             ("--out", str(outs["/proc/x"])), ("--out", str(outs["/proc/x/y"])),
             ("--out", str(outs["file"])), ("--out", str(outs["under-file"])),
             ("--data", str(files["missing"])), ("--data", str(files["empty.csv"]))]
    for opt, value in cases:
        check(base, opt, value)


def test_eeg_plv(files, outs, small_npz):
    labels = small_npz.parent / "labels.txt"
    base = ["eeg", "plv", str(small_npz), "--labels", str(labels), "--band", "30", "80",
            "--n-permutations", "9"]
    pairs = st.tuples(FLOATS, FLOATS).map(lambda t: t)

    @FUZZ
    @given(_option_and_value({"FILE": FILE_KINDS, "--labels": FILE_KINDS | TEXT,
                              "--band": pairs, "--window": pairs, "--sfreq": FLOATS,
                              "--epoch-length": FLOATS, "--estimator": TEXT,
                              "--sense": TEXT, "--n-permutations": COUNTS,
                              "--out": OUT_KINDS}))
    def run(case):
        opt, value = case
        args = list(base) + ["--out", str(outs["fresh"]())]
        if opt == "FILE":
            args[2] = str(files[value])
            code, out, err = run_cli(args)
            assert_contract(args, code, out, err, ["FILE", args[2]])
            return
        if opt in ("--band", "--window"):
            args += [opt, *value]
            code, out, err = run_cli(args)
            assert_contract(args, code, out, err, [opt])
            return
        if opt in ("--labels",) and value in files:
            value = str(files[value])
        elif opt == "--out":
            value = str(outs[value])
        check(args, opt, value)

    run()
    check(base, "--n-permutations", "1000000000")  # refused up front, not minutes of work


# --------------------------------------------------------------------------------------
# experiments: run | sweep | validate | rerun | report, and demo
# --------------------------------------------------------------------------------------
def _toml_value(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


HOSTILE_CONFIG = st.one_of(
    st.builds(lambda v: SMALL_SWEEP.replace("n_units = [8]", f"n_units = [{v}]"),
              st.sampled_from(["nan", "inf", "-inf", "1e308", "8.5", "-8", "0",
                               str(2**63), "\"8\"", "[]", "{}"])),
    st.builds(lambda v: SMALL_SWEEP.replace("[grid]", f"[params]\nlearning_rate = {v}\n"
                                            "[grid]"),
              st.floats(allow_nan=True, allow_infinity=True).map(_toml_value)),
    st.builds(lambda k, v: SMALL_SWEEP + f"\n[{k}]\n",
              st.sampled_from(["seeds", "bogus", "grid.x"]), st.none()),
    st.builds(lambda v: SMALL_SWEEP.replace("count = 2", f"count = {v}"),
              st.sampled_from(["0", "-1", str(10**12), "nan", "1.5"])),
    st.builds(lambda v: SMALL_SWEEP.replace("chunk_size = 2", f"chunk_size = {v}"),
              st.sampled_from(["0", str(10**12), "\"a\""])),
    st.builds(lambda v: SMALL_SWEEP.replace('model = "memory.capacity"', f"model = {v!r}"),
              TEXT.map(lambda s: s.replace("'", ""))),
    st.builds(lambda v: SMALL_SWEEP.replace("n_units = [8]", "n_units = { start = 2, stop "
                                            f"= {v}, num = 3 }}"),
              st.sampled_from(["nan", "inf", "1e308", "-5"])),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)


def test_experiment_commands_on_hostile_configs(tmp_path_factory, files, outs):
    d = tmp_path_factory.mktemp("configs")
    counter = itertools.count()

    @FUZZ
    @given(st.sampled_from(["validate", "run", "sweep"]), HOSTILE_CONFIG)
    def configs(command, text):
        p = d / f"c{next(counter)}.toml"
        p.write_text(text, encoding="utf-8", errors="surrogateescape")
        args = [command, str(p)] + ([] if command == "validate" else
                                    ["--out", str(outs["fresh"]()), "-q", "--no-report"])
        code, out, err = run_cli(args)
        assert_contract(args, code, out, err, [str(p), "config"])

    configs()
    cfg = d / "ok.toml"
    cfg.write_text(SMALL_SWEEP)
    for kind in ("png.toml", "empty.toml", "garbage.toml", "bad.toml", "adir", "missing"):
        for command in ("validate", "run"):
            check([command, str(files[kind])], None, str(files[kind]))
    for kind in ("/proc/x", "file", "under-file"):
        check(["run", str(cfg), "-q"], "--out", str(outs[kind]))
        check(["sweep", str(cfg), "-q"], "--out", str(outs[kind]))
    for addr in ("junk", "tcp://", "tcp://host:0", "udp://127.0.0.1:8786", "tcp://a b:1",
                 "tcp://127.0.0.1:1"):
        t0 = time.perf_counter()
        check(["sweep", str(cfg), "-q", "--out", str(outs["fresh"]())], "--scheduler", addr)
        assert time.perf_counter() - t0 < 10, f"--scheduler {addr} did not fail fast"
    check(["sweep", str(cfg), "-q", "--out", str(outs["fresh"]())], "--workers", "0")


def test_rerun_and_report_of_hostile_run_directories(tmp_path_factory, files, outs):
    d = tmp_path_factory.mktemp("runs")
    cfg = d / "ok.toml"
    cfg.write_text(SMALL_SWEEP)
    good = d / "good"
    code, out, err = run_cli(["run", str(cfg), "--out", str(good), "-q", "--no-report"])
    assert code == 0, err
    broken = {}
    for name, (fname, data) in {
            "corrupt-config": ("config.toml", PNG), "corrupt-results": ("results.nc", PNG),
            "empty-results": ("results.nc", b""), "corrupt-run": ("run.json", b"{"),
            "corrupt-env": ("environment.json", b"\x00")}.items():
        bad = d / name
        import shutil

        shutil.copytree(good, bad)
        (bad / fname).write_bytes(data)
        broken[name] = bad
    targets = [files["adir"], files["missing"], files["png.toml"], *broken.values()]
    for target in targets:
        for command in ("report", "rerun"):
            args = [command, str(target)] + (["-q"] if command == "rerun" else [])
            code, out, err = run_cli(args)
            assert_contract(args, code, out, err, [str(target)])
    check(["rerun", str(good), "-q"], "--out", str(outs["/proc/x"]))


def test_demo_arguments(outs):
    for kind in ("/proc/x", "/proc/x/y", "file", "under-file"):
        check(["demo", "--only", "memory", "-q"], "--out", str(outs[kind]))
    for value in ("nonsense", "", "memory,cmr"):
        check(["demo", "-q", "--out", str(outs["fresh"]())], "--only", value)
    for value in (str(2**63), str(-(2**64)), "1e3", "x"):
        check(["demo", "--only", "memory", "-q", "--out", str(outs["fresh"]())], "--seed",
              value)


def test_no_command_and_unknown_options():
    for args in (["attractor"], ["cmr"], ["softmax", "nope"], ["demo", "--bogus"],
                 ["eeg", "plv"], ["run"]):
        code, out, err = run_cli(args)
        assert code == 2 and "Traceback" not in out + err, (args, err)
        assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, (args, err)


# --------------------------------------------------------------------------------------
# the real console command (exit code and stderr of a process)
# --------------------------------------------------------------------------------------
def _engramlab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ENGRAMLAB_QUIET": "1"}
    return subprocess.run([sys.executable, "-c", "from engramlab.cli import main; main()",
                           *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_subprocess_exit_codes_and_one_line(files, tmp_path):
    cases = [
        (["demo", "--out", "/proc/x"], "--out"),
        (["cmr", "loglik", "--params", str(files["png.json"])], "--params"),
        (["validate", str(files["png.toml"])], str(files["png.toml"])),
        (["sweep", str(files["png.toml"]), "--scheduler", "junk"], "--scheduler"),
    ]
    for args, name in cases:
        r = _engramlab(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], (
            args, r.stderr)
        assert "Traceback" not in r.stdout + r.stderr


def test_keyboard_interrupt_exits_130_with_one_line(tmp_path):
    """SIGINT during a run: exit 130, one line, and the run resumes (nothing half-written)."""
    import signal

    cfg = tmp_path / "slow.toml"
    # many one-point chunks (each a new shape, so each compiles): the run takes far longer
    # than the time between its first chunk and the interrupt
    cfg.write_text(SMALL_SWEEP.replace("n_patterns = [2, 3]",
                                       "n_patterns = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]")
                   .replace("count = 2", "count = 1").replace("chunk_size = 2",
                                                              "chunk_size = 1"))
    out = tmp_path / "run"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ENGRAMLAB_QUIET": "1"}
    # a child inherits an ignored SIGINT (e.g. pytest started as a background job of a
    # non-interactive shell), and Python then installs no handler: the child installs
    # Python's own (a preexec_fn would fork a multithreaded JAX process instead)
    boot = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from engramlab.cli import main; main()")
    proc = subprocess.Popen([sys.executable, "-c", boot,
                             "run", str(cfg), "--out", str(out), "-q", "--no-report"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not list(
            (out / "chunks").glob("chunk-*.nc")):
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert not list(out.rglob("*.tmp")), "a temporary file was left behind"
    code, o, e = run_cli(["run", str(cfg), "--out", str(out), "-q", "--no-report"])
    assert code == 0, e
    assert json.loads((out / "run.json").read_text())["sessions"][-1]["chunks_reused"] >= 1


def test_interrupting_cmr_sample_exits_130_every_time_and_resumes(tmp_path):
    """Ctrl-C during ``cmr sample`` (while compiling; inside a chain, after one finished):
    exit 130 with one line every time - never a crash in interpreter shutdown under JAX's
    threads (it was SIGSEGV, -11, in 2 of 5 tries) - and the rerun resumes the finished
    chain."""
    import signal

    data = tmp_path / "sim.csv"
    code, _, err = run_cli(["cmr", "simulate", "--list-length", "6", "--n-lists", "6",
                            "--n-subjects", "2", "--out", str(data)])
    assert code == 0, err
    out = tmp_path / "run"
    args = ["cmr", "sample", "--data", str(data), "--free", "choice_sensitivity",
            "--chains", "2", "--draws", "800", "--warmup", "100", "--chain-method",
            "sequential", "--out", str(out), "-q"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ENGRAMLAB_QUIET": "1"}
    boot = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from engramlab.cli import main; main()")
    chain0 = out / "jaxcmr" / "checkpoints" / "hier-chain0.npz"
    for when in ("start", "chain1"):
        proc = subprocess.Popen([sys.executable, "-c", boot, *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 240
        if when == "start":
            time.sleep(3)
        else:
            while time.time() < deadline and proc.poll() is None and not chain0.exists():
                time.sleep(0.05)
            time.sleep(0.5)
        assert proc.poll() is None, f"{when}: the run finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, (when, proc.returncode, stderr)
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "interrupted" in lines[0], (when, stderr)
        assert not list(out.rglob("*.tmp")), "a temporary file was left behind"
    # the finished chain survived every interrupt intact (resuming from it is tested in
    # tests/test_cmr_inference.py)
    with np.load(chain0) as z:
        assert {"_fingerprint", "_checksum"} <= set(z.files)

"""The sdist and wheel: built with ``python -m build``, installed into a fresh venv, run.

Installing the ~1 GB of pinned dependencies again from PyPI would take minutes, so the
fresh virtual environment *links* the distributions of the running environment (which
``make test`` installed from ``requirements.lock``) into its own ``site-packages``,
except engramlab's editable install (its ``.pth`` hook, finder module and dist-info).
The wheel is then installed with pip, no dependencies and no index, and the test checks

- that every linked distribution has the version pinned in ``requirements.lock`` and
  ``pip check`` finds the wheel's declared dependencies satisfied,
- that ``import engramlab`` in that venv, run from a folder outside the checkout, loads
  the installed wheel (``engramlab.__file__`` inside the venv), not the checkout,
- ``engramlab --version`` and ``engramlab demo --only memory`` work there,
- the sdist holds every module of the package, the licence and the README, and the
  wheel (built from the sdist) holds every module and SPDX licence metadata.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

EDITABLE = re.compile(r"^(__editable__.*engramlab.*|_*engramlab.*|__pycache__)$", re.I)


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = ver.strip()
    return pins


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900,
                          **kw)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel *from the sdist* (what `python -m build` does), in an
    # isolated build environment (setuptools from PyPI, as for any user)
    proc = _run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    (out / "build.log").write_text(proc.stdout + proc.stderr)
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", env_dir])
    py = env_dir / "bin" / "python"
    target = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                       ).stdout.strip())
    source = Path(sysconfig.get_paths()["purelib"])
    for entry in source.iterdir():
        if EDITABLE.match(entry.name) or (target / entry.name).exists():
            continue
        (target / entry.name).symlink_to(entry)
    wheel = next(dist.glob("engramlab-*.whl"))
    # a clean environment: with the checkout on PYTHONPATH pip would find engramlab 0.1.0
    # "already installed" and skip the wheel
    proc = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps",
                 "--no-index", wheel], env=_clean_env(env_dir), cwd=env_dir)
    assert "Successfully installed engramlab-0.1.0" in proc.stdout, proc.stdout
    return env_dir


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(ENGRAMLAB_QUIET="1", MPLBACKEND="Agg", JAX_PLATFORMS="cpu", HOME=str(tmp))
    return env


def test_sdist_and_wheel_contents(dist):
    # the metadata is current: no "License classifiers are deprecated" / "project.license
    # as a TOML table is deprecated" warnings from setuptools
    log = (dist / "build.log").read_text()
    assert "SetuptoolsDeprecationWarning" not in log, log[-3000:]
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "engramlab").rglob("*.py"))
    sdist = next(dist.glob("engramlab-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names
    assert [m for m in modules if m not in names] == []
    wheel = next(dist.glob("engramlab-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        wnames = set(zf.namelist())
        meta_name = next(n for n in wnames if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert [m for m in modules if m not in wnames] == []
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wnames)
    assert "License-Expression: MIT" in meta
    assert "Classifier: Programming Language :: Python :: 3.11" in meta
    assert "Project-URL: Documentation" in meta
    assert "Description-Content-Type: text/markdown" in meta and "make docs" in meta
    assert "engramlab = engramlab.cli:main" in entry_points


def test_installed_wheel_runs_outside_the_checkout(venv, tmp_path):
    py = venv / "bin" / "python"
    env = _clean_env(tmp_path)
    # the dependencies seen by the venv are the lock file's pins, and they satisfy the
    # wheel's requirements
    pins = _lock_pins()
    listed = json.loads(_run([py, "-c", "import json, importlib.metadata as m; print(json.dumps("
                               "{d.metadata['Name']: d.version for d in m.distributions()}))"],
                              cwd=tmp_path, env=env).stdout)
    norm = {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in listed.items()}
    assert norm.pop("engramlab") == "0.1.0"
    mismatched = {k: (v, pins.get(k)) for k, v in norm.items()
                  if k in pins and pins[k] != v}
    assert mismatched == {}
    assert len([k for k in norm if k in pins]) >= 0.9 * len(pins)
    check = _run([sys.executable, "-m", "pip", "--python", py, "check"], cwd=tmp_path, env=env)
    assert "No broken requirements found" in check.stdout

    where = _run([py, "-c", "import engramlab; print(engramlab.__file__)"], cwd=tmp_path,
                 env=env).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    assert not Path(where).resolve().is_relative_to(ROOT)

    version = _run([venv / "bin" / "engramlab", "--version"], cwd=tmp_path, env=env)
    assert "0.1.0" in version.stdout
    out = tmp_path / "demo"
    _run([venv / "bin" / "engramlab", "demo", "--only", "memory", "--out", out],
         cwd=tmp_path, env=env)
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["sections"]) == ["memory"]
    assert metrics["errors"] == {}
    assert (out / "report.html").stat().st_size > 1000
    assert list((out / "memory").glob("*.png"))

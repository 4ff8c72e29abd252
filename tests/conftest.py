"""Shared test set-up: CPU JAX, quiet progress, headless matplotlib, a ``getkey`` fixture."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ENGRAMLAB_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# One JAX persistent compilation cache for the whole run, shared with the subprocesses the
# tests start (CLI, README blocks, the docs build): the suite compiles the same likelihoods
# and samplers many times over (fresh closures, fresh processes) and XLA compilation is most
# of its time. The cache keys on the lowered program, the JAX version and the compile
# options, so a hit runs exactly the program a miss would have compiled. A fresh folder per
# run (removed at exit) keeps runs independent; set JAX_COMPILATION_CACHE_DIR to keep one.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _jax_cache = tempfile.mkdtemp(prefix="engramlab-jax-cache-")
    atexit.register(shutil.rmtree, _jax_cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _jax_cache
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")

import itertools  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

#: Test files whose tests take longest in total (seconds, summed over the file, in one
#: `make test` on a 2-core machine), longest first. The two xdist workers take whole files
#: (``--dist loadfile``) from a queue in collection order (``--no-loadscope-reorder``):
#: long files first and the many short ones after them fill the gaps, so that both
#: workers finish together (xdist's default order, most tests first, left these few-test
#: files to the end, where one worker ran them while the other had nothing left). An
#: out-of-date list only costs balance, never a test.
LONGEST_FIRST = (
    "test_cmr_inference.py",            # 119
    "test_report_browser.py",           # 92
    "test_docs_site.py",                # 83
    "test_cmr_fit_optimum.py",          # 77
    "test_cmr_gibbs.py",                # 73
    "test_cmr_inference_package.py",    # 64
    "test_fuzz_cli.py",                 # 62
    "test_readme_examples.py",          # 59
    "test_cmr_sampler_kernel.py",       # 56
    "test_docs_code.py",                # 53
    "test_cmr_emotional.py",            # 44
    "test_cmr_fit.py",                  # 37
    "test_cmr_gradients.py",            # 30
    "test_cmr_variants.py",             # 28
    "test_cmr_recovery.py",             # 23
    "test_cmr_likelihood.py",           # 22
    "test_attractor_metrics.py",        # 20
    "test_softmax_dynamics.py",         # 19
)


def pytest_collection_modifyitems(config, items):
    """The files of :data:`LONGEST_FIRST` first, in that order, then the others as
    collected; a file's own tests keep their order (the sort is stable)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def getkey():
    """Call ``getkey()`` for a fresh, deterministic JAX PRNG key each time."""
    import jax

    counter = itertools.count()
    return lambda: jax.random.key(next(counter))


@pytest.fixture
def rng():
    """A deterministic NumPy Generator."""
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _restore_model_registry():
    """Models registered by a test (as a user's session would) are removed after it, so
    that a test later in the same worker process sees only the registry the package
    ships (which tests such as "every model has an example" enumerate)."""
    from engramlab.experiments import config

    saved = dict(config.KNOWN_MODELS)
    yield
    config.KNOWN_MODELS.clear()
    config.KNOWN_MODELS.update(saved)

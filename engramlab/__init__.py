"""engramlab: simulate, fit and visualise associative memory.

Model families (each a subpackage, imported on first use so that ``import engramlab``
and ``engramlab --help`` stay fast and do not load JAX):

- :mod:`engramlab.memory` -- linear associative memory (seed 002; CMR's MFC/MCF).
- :mod:`engramlab.attractor` -- emotional attractor rate networks (seed 000).
- :mod:`engramlab.softmax` -- softmax synaptic dynamics (seed 003, Lotito 2025).
- :mod:`engramlab.cmr` -- the Context Maintenance and Retrieval model of free recall.
- :mod:`engramlab.eeg` -- gamma-band phase locking (seed 000's EEG protocol).
- :mod:`engramlab.experiments` -- configs, sweeps on Dask, result store, reports.
- :mod:`engramlab.plots` -- matplotlib figures.

``import engramlab as el; el.memory.init_mcf(...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    ConfigError as ConfigError,
)
from .errors import (
    DataError as DataError,
)
from .errors import (
    DivergenceError as DivergenceError,
)
from .errors import (
    EngramlabError as EngramlabError,
)
from .errors import (
    ShapeError as ShapeError,
)
from .errors import (
    ValidationError as ValidationError,
)

__version__ = "0.1.0"

_SUBMODULES = {"memory", "attractor", "softmax", "cmr", "eeg", "experiments", "plots", "typing"}
_LAZY_ATTRS = {
    "LinearMemory": "memory",
    "init_mfc": "memory",
    "init_mcf": "memory",
}

__all__ = sorted(
    {"__version__", "EngramlabError", "ValidationError", "ShapeError", "DataError",
     "ConfigError", "DivergenceError"} | _SUBMODULES | set(_LAZY_ATTRS)
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRS:
        mod = importlib.import_module(f".{_LAZY_ATTRS[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'engramlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

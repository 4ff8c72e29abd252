"""Linear associative memory (seed 002): :class:`LinearMemory`, :func:`init_mfc`,
:func:`init_mcf`.

See :mod:`engramlab.memory._linear` for the equations.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {"LinearMemory": "._linear", "init_mfc": "._linear", "init_mcf": "._linear",
     "associate_sequence": "._linear"},
)

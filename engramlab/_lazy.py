"""Lazy re-exports for package ``__init__`` modules.

Keeps ``import engramlab.<family>`` (and so ``engramlab --help``) free of JAX: names
are imported from their private module on first attribute access.

Usage in a package ``__init__.py``::

    from .._lazy import attach
    __getattr__, __dir__, __all__ = attach(__name__, {"LinearMemory": "._linear", ...})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def attach(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any],
                                                          Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for lazily exporting ``exports``.

    ``exports`` maps a public name to the relative module that defines it; a value
    ending in ``":"`` marks a submodule to expose under that name.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = exports[name]
        if target.endswith(":"):
            return importlib.import_module(target[:-1], package)
        return getattr(importlib.import_module(target, package), name)

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names

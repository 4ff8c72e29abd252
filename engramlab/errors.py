"""Exceptions raised by engramlab.

Every error a user can trigger with bad input is an :class:`EngramlabError`, so
``except engramlab.EngramlabError`` catches all of them. Messages name the argument,
what was expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "EngramlabError",
    "ValidationError",
    "ShapeError",
    "DataError",
    "ConfigError",
    "ResourceError",
    "DivergenceError",
    "ConvergenceWarning",
    "StabilityWarning",
]


class EngramlabError(Exception):
    """Base class of every error raised by engramlab."""


class ValidationError(EngramlabError, ValueError):
    """An argument has a bad value: out of range, non-finite, wrong type."""


class ShapeError(ValidationError):
    """An array argument has the wrong shape or number of dimensions."""


class ResourceError(ValidationError):
    """A requested size needs more memory or work than this machine allows (refused up
    front, before anything is allocated; see ``engramlab._validation.MEMORY_LIMIT_BYTES``)."""


class DataError(EngramlabError, ValueError):
    """A data set or data file is malformed (missing columns, inconsistent lists, ...)."""


class ConfigError(EngramlabError, ValueError):
    """A configuration file or object is invalid (unknown key, bad value)."""


class DivergenceError(EngramlabError, FloatingPointError):
    """A simulation produced non-finite values (diverged)."""


class StabilityWarning(UserWarning):
    """A numerical setting is likely unstable or inaccurate (e.g. Euler with dt >= tau)."""


class ConvergenceWarning(UserWarning):
    """An optimiser or iterative procedure did not converge."""

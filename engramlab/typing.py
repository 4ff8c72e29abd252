"""Protocols shared by the models.

These are structural (``typing.Protocol``) interfaces, checked at runtime with
``isinstance`` where useful. A new component satisfies them by having the methods; it
does not need to inherit from anything.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Memory", "Context", "Dynamics"]


@runtime_checkable
class Memory(Protocol):
    """A linear associative memory mapping input patterns to output patterns.

    ``state`` has shape ``(n_in, n_out)``. Implementations are immutable: every update
    returns a new memory.
    """

    @property
    def state(self) -> Any: ...

    @property
    def input_size(self) -> int: ...

    @property
    def output_size(self) -> int: ...

    def associate(self, in_pattern: Any, out_pattern: Any, learning_rate: Any) -> Memory:
        """Return a memory with ``state + learning_rate * outer(in_pattern, out_pattern)``."""
        ...

    def probe(self, in_pattern: Any) -> Any:
        """Return ``in_pattern @ state`` (shape ``(n_out,)``)."""
        ...

    def zero_out(self, index: Any) -> Memory:
        """Return a memory whose input row ``index`` is zero."""
        ...


@runtime_checkable
class Context(Protocol):
    """A temporal context representation (as in CMR) that drifts towards inputs."""

    @property
    def state(self) -> Any: ...

    def integrate(self, context_input: Any, drift_rate: Any) -> Context:
        """Return the context after integrating ``context_input`` with ``drift_rate``."""
        ...


@runtime_checkable
class Dynamics(Protocol):
    """Continuous-time dynamics ``dy/dt = vector_field(t, y, args, x)``."""

    def vector_field(self, t: Any, y: Any, args: Any, x: Any) -> Any: ...

"""Dask scheduler addresses: checked for form and reachability before Dask is asked.

``distributed.Client(address)`` waits its whole timeout (30 s by default) on an address
nobody listens on, and then raises a bare ``OSError``; a typo in ``--scheduler`` should
instead fail in a few seconds with a message that says what is wrong.
"""

from __future__ import annotations

import re
import socket
import threading

from .errors import ValidationError

__all__ = ["parse_scheduler_address", "check_scheduler_address", "CONNECT_TIMEOUT"]

#: Seconds to wait for a TCP connection to the scheduler (name lookup included).
CONNECT_TIMEOUT = 3.0

_ADDR = re.compile(r"^(?:(?P<scheme>tcp|tls)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|"
                   r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?):(?P<port>\d{1,5})$")


def parse_scheduler_address(address: object, name: str = "scheduler") -> tuple[str, int]:
    """``(host, port)`` of ``tcp://HOST:PORT`` (also ``tls://``, or bare ``HOST:PORT``).

    **Raises:** :class:`ValidationError` naming ``name`` for anything else.
    """
    m = _ADDR.match(address.strip()) if isinstance(address, str) else None
    port = int(m.group("port")) if m else 0
    if m is None or not 1 <= port <= 65535:
        raise ValidationError(f"{name}: expected a Dask scheduler address tcp://HOST:PORT "
                              f"(port 1-65535), got {address!r}")
    return m.group("host").strip("[]"), port


def check_scheduler_address(address: object, name: str = "scheduler",
                            timeout: float = CONNECT_TIMEOUT) -> str:
    """Check the form of ``address`` and that something accepts TCP connections there,
    within ``timeout`` seconds. Returns the stripped address.

    **Raises:** :class:`ValidationError` naming ``name``.
    """
    host, port = parse_scheduler_address(address, name)
    result: dict[str, BaseException | None] = {}

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["err"] = None
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["err"] = exc

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    if "err" not in result:
        raise ValidationError(f"{name}: no answer from {address} within {timeout:g} s "
                              "(is the scheduler running and reachable?)")
    err = result["err"]
    if err is not None:
        why = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise ValidationError(f"{name}: cannot reach {address} ({why}); is the scheduler "
                              "running and reachable?")
    return str(address).strip()

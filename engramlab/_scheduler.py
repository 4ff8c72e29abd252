"""Dask scheduler addresses: checked for form and reachability before Dask is asked.

``distributed.Client(address)`` waits its whole timeout (30 s by default) on an address
nobody listens on, and then raises a bare ``OSError``; a typo in ``--scheduler`` should
instead fail in a few seconds with a message that says what is wrong.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import ValidationError

__all__ = ["parse_scheduler_address", "check_scheduler_address", "CONNECT_TIMEOUT",
           "dask_client", "run_tasks"]

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


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int, name: str = "scheduler") -> Iterator[Any]:
    """A Dask ``Client``: with ``scheduler=None`` an in-process ``LocalCluster`` of
    ``workers`` single-threaded workers (threads share JAX's compilation cache; the
    dashboard on a free port), else the running cluster at ``scheduler``, checked first
    with :func:`check_scheduler_address` (a :class:`ValidationError` naming ``name``, in a
    few seconds, instead of Dask's 30 s wait and bare ``OSError``). Closed on exit."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        address = check_scheduler_address(scheduler, name)
        try:
            client = Client(address, timeout="30s")
        except OSError as exc:
            raise ValidationError(f"{name}: cannot connect a Dask client to {address} "
                                  f"({exc}); is it a Dask scheduler?") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(client: Any, fn: Callable[..., Any], tasks: Iterable[tuple[Any, tuple]],
              on_result: Callable[[Any, Any], None]) -> None:
    """Submit ``fn(*args)`` for every ``(tag, args)`` of ``tasks`` and call
    ``on_result(tag, result)`` as each finishes (in completion order, in this process:
    checkpoints written there work with any cluster). On an error or an interrupt the
    unfinished tasks are cancelled and the exception propagates."""
    from distributed import as_completed

    futs = {client.submit(fn, *args, pure=False): tag for tag, args in tasks}
    try:
        for fut in as_completed(list(futs)):
            on_result(futs[fut], fut.result())
    except BaseException:
        client.cancel(list(futs))
        raise

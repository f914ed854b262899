"""Serving the portal in a thread beside the head-end (``ams serve --web``).

One uvicorn server on one event loop. The busiest routes (the month view, the values API)
are coroutines that run on the loop itself; the others run in anyio's worker threads.
Measured with 20 clients (BENCHMARKS.md, portal), a hop to a worker thread and back, and
several threads taking turns at the GIL, cost more than these routes' own work.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
import socket
import threading
import time
from dataclasses import replace
from typing import Any

import uvicorn
from fastapi import FastAPI

from openams.config import Settings
from openams.domain.tariff import Tariff

from .app import create_app

__all__ = ["MorePortals", "WebServer"]


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket at ``host:port`` that other processes may listen at too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off only on sockets that
    # say TCP, and with it on a reply in two writes waits for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


_START_TIMEOUT_S = 10.0
#: A further process imports the application first: it may take longer to start. [s]
_MORE_START_TIMEOUT_S = 60.0


class WebServer:
    """An HTTP server (uvicorn) for one application, in a background thread.

    Access logs are off: URLs carry metering point ids, which are personal data.
    """

    def __init__(self, app: FastAPI, host: str, port: int, *, reuse_port: bool = False) -> None:
        """Args:
        app: The application.
        host, port: The address to listen at (port 0: any free one).
        reuse_port: Share the port with other processes that listen at it the same way
            (``SO_REUSEPORT``): the kernel spreads new connections over them.
        """
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="on")  # fmt: skip
        self._server = uvicorn.Server(config)
        sockets = [_shared_socket(host, port)] if reuse_port else None
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets},
                                        name="web", daemon=True)  # fmt: skip

    def start(self) -> str:
        """Start serving; the base URL (with the port bound, when 0 was asked for).

        Raises:
            RuntimeError: the server did not start (the address is taken, say).
        """
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        # What is there now (the application, its templates, the open store) lives as long
        # as the server: the garbage collector's full passes need not walk it each time.
        gc.collect()
        gc.freeze()
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop taking requests, finish those under way, and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(_START_TIMEOUT_S)


def _serve_more(settings: Settings, tariff: Tariff, host: str, port: int, ready: Any,
                stop: Any) -> None:  # fmt: skip
    """One further portal process (the target of :class:`MorePortals`' processes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it, through ``stop``
    server = WebServer(create_app(settings, tariff=tariff), host, port, reuse_port=True)
    try:
        ready.put(server.start())
    except (OSError, RuntimeError) as exc:
        ready.put(f"error: {exc}")
        return
    stop.wait()
    server.stop()


class MorePortals:
    """Further processes serving the portal at the address of a :class:`WebServer` made
    with ``reuse_port=True``, so that requests use more than one core (each process has
    its own interpreter, store connections and caches; the kernel spreads connections over
    the processes). They get the settings without the key-encrypting key: the portal does
    not read meter keys.

    The per-address limits of log-ins and link requests are kept in each process, so with
    N processes a client may try up to N times as often.
    """

    def __init__(self, settings: Settings, tariff: Tariff, host: str, port: int,
                 count: int) -> None:  # fmt: skip
        self._args = (replace(settings, kek=None, kek_source=None), tariff, host, port)
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._processes: list[Any] = []

    def start(self) -> None:
        """Start the processes and wait until each serves.

        Raises:
            RuntimeError: one did not start.
        """
        ready = self._context.Queue()
        for _ in range(self._count):
            process = self._context.Process(
                target=_serve_more, name="web", args=(*self._args, ready, self._stop), daemon=True
            )
            process.start()
            self._processes.append(process)
        for _ in range(self._count):
            try:
                answer = ready.get(timeout=_MORE_START_TIMEOUT_S)
            except queue.Empty:
                answer = "error: no answer"
            if not answer.startswith("http://"):
                self.stop()
                raise RuntimeError(f"a further portal process did not start: {answer}")

    def stop(self) -> None:
        """Stop the processes (they finish the requests under way)."""
        self._stop.set()
        for process in self._processes:
            process.join(_START_TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                process.join(_START_TIMEOUT_S)
        self._processes.clear()

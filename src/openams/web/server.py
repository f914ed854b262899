"""Serving the portal in a thread beside the head-end (``ams serve --web``).

One uvicorn server on one event loop. The busiest routes (the month view, the values API)
are coroutines that run on the loop itself; the others run in anyio's worker threads.
Measured with 20 clients (BENCHMARKS.md, portal), a hop to a worker thread and back, and
several threads taking turns at the GIL, cost more than these routes' own work.
"""

from __future__ import annotations

import gc
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

__all__ = ["WebServer"]


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket at ``host:port`` that other processes may listen at too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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

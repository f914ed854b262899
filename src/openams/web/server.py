"""Serving the portal in a thread beside the head-end (``ams serve --web``)."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

__all__ = ["WebServer"]

_START_TIMEOUT_S = 10.0


class WebServer:
    """An HTTP server (uvicorn) for one application, in a background thread.

    Access logs are off: URLs carry metering point ids, which are personal data.
    """

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="on")  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

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
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop taking requests, finish those under way, and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(_START_TIMEOUT_S)

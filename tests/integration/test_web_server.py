"""The portal's HTTP server (openams.web.server.WebServer) on loopback: servers that share a
port split the connections between them; a port taken without sharing is refused."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from fastapi import FastAPI

from openams.web.server import WebServer


def _app(name: str) -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    def who() -> str:
        return name

    return app


def _ask(url: str) -> str:
    with urllib.request.urlopen(url + "/who", timeout=10) as answer:  # noqa: S310 - http on loopback
        return answer.read().decode().strip('"')


def test_servers_sharing_a_port_both_answer():
    first = WebServer(_app("first"), "127.0.0.1", 0, reuse_port=True)
    url = first.start()
    port = int(url.rsplit(":", 1)[1])
    second = WebServer(_app("second"), "127.0.0.1", port, reuse_port=True)
    try:
        assert second.start() == url
        answered = {_ask(url) for _ in range(64)}
        assert answered == {"first", "second"}  # one-sided: 2 x 2**-64
        # A socket that says TCP: asyncio turns Nagle's algorithm off on the connections
        # it accepts only then (else every reply in two writes waits some 40 ms).
        for server in (first, second):
            (listening,) = server._server.servers[0].sockets
            assert listening.proto == socket.IPPROTO_TCP
    finally:
        second.stop()
        first.stop()


def test_a_port_taken_is_refused_without_sharing():
    first = WebServer(_app("first"), "127.0.0.1", 0)
    url = first.start()
    port = int(url.rsplit(":", 1)[1])
    try:
        with pytest.raises((RuntimeError, OSError)):
            WebServer(_app("second"), "127.0.0.1", port, reuse_port=True).start()
        assert _ask(url) == "first"
    finally:
        first.stop()

"""The operator console (``/console``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from .context import Web

__all__ = ["STAFF", "add_routes"]

#: The roles that use the console.
STAFF = ("operator", "installer", "administrator")


def add_routes(app: FastAPI, web: Web) -> None:
    """Register the console's pages."""

    @app.get("/console", response_class=HTMLResponse, include_in_schema=False)
    def console(request: Request) -> Response:
        session = web.require(request, *STAFF)
        return web.page("console.html.j2", session=session)

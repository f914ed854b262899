"""A customer's grants of access to energy-management suppliers (``/access``)."""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from openams.errors import InputError
from openams.services.api_tokens import MAX_DAYS, SCOPES, grant_token, revoke_token
from openams.store.api_tokens import SqlTokenStore

from .context import Web

__all__ = ["add_routes"]


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/access``: list, grant and revoke."""

    def show(request: Request, *, made: str = "", message: str = "", status: int = 200
             ) -> HTMLResponse:  # fmt: skip
        session = web.require(request, "customer")
        grants = SqlTokenStore(web.store).tokens_of(session.account.account_id)
        return web.page("access.html.j2", status, session=session, grants=grants, made=made,
                        message=message, scopes=SCOPES, max_days=MAX_DAYS,
                        now_s=web.now_s())  # fmt: skip

    @app.get("/access", response_class=HTMLResponse, include_in_schema=False)
    def access(request: Request) -> Response:
        return show(request)

    @app.post("/access", response_class=HTMLResponse, include_in_schema=False)
    def grant(
        request: Request,
        csrf: str = Form(default="", max_length=128),
        label: str = Form(default="", max_length=200),
        days: str = Form(default="90", max_length=6),
        scope: list[str] = Form(default=[]),  # noqa: B008 - FastAPI's way to read a form
    ) -> Response:
        session = web.require(request, "customer")
        web.check_csrf(session, csrf)
        try:
            if not days.isdigit():
                raise InputError("the lifetime is a whole number of days")
            token, _ = grant_token(SqlTokenStore(web.store), session.account, label,
                                   set(scope[:10]), int(days), now_s=web.now_s())  # fmt: skip
        except InputError as exc:
            return show(request, message=str(exc), status=400)
        return show(request, made=token)

    @app.post("/access/{token_id}/revoke", include_in_schema=False)
    def revoke(request: Request, token_id: int, csrf: str = Form(default="", max_length=128)
               ) -> Response:  # fmt: skip
        session = web.require(request, "customer")
        web.check_csrf(session, csrf)
        revoke_token(SqlTokenStore(web.store), session.account, token_id, now_s=web.now_s())
        return web.redirect("/access")

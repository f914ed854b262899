"""A customer's grants of access to energy-management suppliers (``/access``)."""

from __future__ import annotations

from fastapi import FastAPI, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from openams.errors import InputError
from openams.services.api_tokens import MAX_DAYS, SCOPES, grant_token, revoke_token
from openams.store.api_tokens import SqlTokenStore

from .context import Web

__all__ = ["add_routes"]

#: The largest token number the store keeps (a 32-bit integer column).
_MAX_TOKEN_ID = 2**31 - 1

#: What the page says when a grant is refused, by how the service's reason begins
#: (bokmål; the page translates it, with the longest lifetime as ``days``).
_REFUSALS = (
    (
        "a label",
        "Skriv hvem som får tilgang: 1 til 80 bokstaver, sifre, mellomrom eller . , & ( ) ' -",
    ),
    ("scopes", "Kryss av for minst én av tilgangene."),
    ("a token lives", "En tilgang kan gjelde i 1 til %(days)s dager."),
)
_REFUSED = "Tilgangen ble ikke gitt. Sjekk feltene og prøv igjen."


def _refusal(reason: str) -> str:
    """The page's message for the service's ``reason`` (never the reason itself)."""
    return next((text for start, text in _REFUSALS if reason.startswith(start)), _REFUSED)


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/access``: list, grant and revoke."""

    def show(request: Request, *, made: str = "", message: str = "", status: int = 200
             ) -> HTMLResponse:  # fmt: skip
        session = web.require(request, "customer")
        grants = SqlTokenStore(web.store).tokens_of(session.account.account_id)
        return web.page("access.html.j2", status, session=session, grants=grants, made=made,
                        message=message, scopes=SCOPES, max_days=MAX_DAYS,
                        now_s=web.now_s(), nav="access")  # fmt: skip

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
                raise InputError(f"a token lives 1 to {MAX_DAYS} days, a whole number")
            token, _ = grant_token(SqlTokenStore(web.store), session.account, label,
                                   set(scope[:10]), int(days), now_s=web.now_s())  # fmt: skip
        except InputError as exc:
            message = web.text(_refusal(str(exc)), days=MAX_DAYS)
            return show(request, message=message, status=400)
        return show(request, made=token)

    @app.post("/access/{token_id}/revoke", include_in_schema=False)
    def revoke(
        request: Request,
        token_id: int = Path(ge=1, le=_MAX_TOKEN_ID),
        csrf: str = Form(default="", max_length=128),
    ) -> Response:
        session = web.require(request, "customer")
        web.check_csrf(session, csrf)
        revoke_token(SqlTokenStore(web.store), session.account, token_id, now_s=web.now_s())
        return web.redirect("/access")

"""Logging in and out (``/login``, ``/logout``)."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from openams.services.accounts import LoginRefused, log_in, log_out
from openams.store.accounts import SqlAccountStore

from .context import SESSION_COOKIE, ClientLimit, Web

__all__ = ["LOGINS_PER_MINUTE", "add_routes"]

_LOGIN_CSRF_COOKIE = "openams_login_csrf"
#: Log-in attempts a client address may make in a minute.
LOGINS_PER_MINUTE = 20
#: What the log-in page says when a log-in is refused (bokmål; the page translates it).
_REFUSALS = {
    "expired": "Skjemaet var utløpt. Prøv igjen.",
    "flood": "For mange forsøk. Vent et minutt.",
    "locked": "Kontoen er låst en stund.",
    "wrong": "Feil e-post eller passord.",
}


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/login`` and ``/logout``."""
    attempts = ClientLimit(LOGINS_PER_MINUTE, 60)

    def login_page(message: str = "", status: int = 200) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        page = web.page("login.html.j2", status, csrf=token, message=message)
        return web.form_page(page, _LOGIN_CSRF_COOKIE, token)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form() -> Response:
        return login_page()

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        email: str = Form(default="", max_length=254),
        password: str = Form(default="", max_length=1024),
        csrf: str = Form(default="", max_length=128),
    ) -> Response:
        if not web.form_matches(request, _LOGIN_CSRF_COOKIE, csrf):
            return login_page(_REFUSALS["expired"], 403)
        if not attempts.allow(request, web.clock()):
            return login_page(_REFUSALS["flood"], 429)
        try:
            session = log_in(SqlAccountStore(web.store), email, password, now_s=web.now_s())
        except LoginRefused as exc:
            locked = "locked" in str(exc)
            return login_page(_REFUSALS["locked" if locked else "wrong"], 401)
        response = web.start_session(request, web.redirect("/"), session)
        response.delete_cookie(_LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form(default="", max_length=128)) -> Response:
        session = web.session(request)
        if session is not None:
            web.check_csrf(session, csrf)
            log_out(SqlAccountStore(web.store), session.token)
        response = web.redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

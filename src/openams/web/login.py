"""Logging in and out (``/login``, ``/logout``)."""

from __future__ import annotations

import secrets
from collections import defaultdict, deque

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from openams.services.accounts import LoginRefused, log_in, log_out
from openams.store.accounts import SqlAccountStore

from .context import SESSION_COOKIE, Web

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


class _Attempts:
    """Log-in attempts per client address over the last minute."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str, now: float) -> bool:
        seen = self._seen[client]
        while seen and seen[0] <= now - 60:
            seen.popleft()
        if len(seen) >= LOGINS_PER_MINUTE:
            return False
        seen.append(now)
        return True


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/login`` and ``/logout``."""
    attempts = _Attempts()

    def login_page(message: str = "", status: int = 200) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = web.page("login.html.j2", status, csrf=token, message=message)
        response.set_cookie(_LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

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
        expected = request.cookies.get(_LOGIN_CSRF_COOKIE)
        if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
            return login_page(_REFUSALS["expired"], 403)
        client = request.client.host if request.client else "unknown"
        if not attempts.allow(client, web.clock()):
            return login_page(_REFUSALS["flood"], 429)
        try:
            session = log_in(SqlAccountStore(web.store), email, password, now_s=web.now_s())
        except LoginRefused as exc:
            locked = "locked" in str(exc)
            return login_page(_REFUSALS["locked" if locked else "wrong"], 401)
        response = web.redirect("/")
        response.set_cookie(
            SESSION_COOKIE, session.token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", max_age=session.expires_at_s - web.now_s(),
        )  # fmt: skip
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

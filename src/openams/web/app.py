"""The customer portal and the operator console: server-rendered pages (FastAPI, Jinja2).

:func:`create_app` builds an application for one set of settings; there is no module-level
application. Routes parse the request, call a service and render its result: the numbers on
a page are what :mod:`openams.services` computes, nothing is computed here.

Security:
    * Every page but the log-in page needs a session (a cookie holding a random token, of
      which the store keeps only the hash; HTTP-only, SameSite=Strict, Secure over HTTPS).
    * Every form posts a CSRF token: the session's, or before log-in a random value that
      must equal the one in a cookie set with the form.
    * Log-in attempts are limited per client address (:data:`LOGINS_PER_MINUTE`) besides
      the lock-out of an account after repeated failures.
    * A customer's metering point that is not theirs is "not found", as one that does not
      exist: no page tells which metering points exist.
    * Unexpected errors show a short page with no details; nothing personal is logged.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from openams.config import Settings
from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules
from openams.services.accounts import (
    LoginRefused,
    Session,
    csrf_matches,
    log_in,
    log_out,
    session_for,
)
from openams.services.invoice import format_kwh, format_nok
from openams.services.month_to_date import month_to_date
from openams.services.tariff_files import default_taxes
from openams.services.vee import OSLO
from openams.store import Store, open_store
from openams.store.accounts import SqlAccountStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore

__all__ = ["LOGINS_PER_MINUTE", "SESSION_COOKIE", "create_app"]

SESSION_COOKIE = "openams_session"
_LOGIN_CSRF_COOKIE = "openams_login_csrf"
#: Log-in attempts a client address may make in a minute.
LOGINS_PER_MINUTE = 20


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


def _templates() -> Environment:
    folder = resources.files("openams") / "web" / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html", "j2"]),
        auto_reload=False,
    )
    env.filters["nok"] = format_nok
    env.filters["kwh"] = format_kwh
    env.filters["hour"] = _local_hour
    return env


def _local_hour(start_s: int) -> str:
    """An hour as the customer reads it: ``17-18`` (local time, an en dash on the page)."""
    start = datetime.fromtimestamp(start_s, OSLO)
    end = datetime.fromtimestamp(start_s + 3600, OSLO)
    return f"{start:%H}\u2013{end:%H}"


def create_app(
    settings: Settings,
    *,
    tariff: Tariff,
    taxes: TaxRules | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The portal and console over the store of ``settings``.

    Args:
        settings: Where the store is.
        tariff: The grid company's tariff (for costs and the capacity step).
        taxes: The state's rules (default: those shipped with OpenAMS).
        clock: Now, in epoch seconds (tests move it).
    """
    rules = taxes if taxes is not None else default_taxes()
    holder: dict[str, Store] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        holder["store"] = open_store(settings.db_url)
        try:
            yield
        finally:
            holder.pop("store").close()

    app = FastAPI(title="OpenAMS", lifespan=lifespan, docs_url=None, redoc_url=None)
    env = _templates()
    attempts = _Attempts()

    def store() -> Store:
        return holder["store"]

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**values), status_code=status)

    def current(request: Request) -> Session | None:
        token = request.cookies.get(SESSION_COOKIE)
        return session_for(SqlAccountStore(store()), token, now_s=int(clock()))

    def login_page(message: str = "", status: int = 200) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = page("login.html.j2", status, csrf=token, message=message)
        response.set_cookie(_LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        text = {404: "Fant ikke siden.", 403: "Ikke tillatt.", 429: "For mange forsøk."}
        return page("error.html.j2", exc.status_code,
                    message=text.get(exc.status_code, "Noe gikk galt."))  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _exc: Exception) -> Response:
        return page("error.html.j2", 500, message="Noe gikk galt. Prøv igjen senere.")

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> Response:
        return login_page()

    @app.post("/login")
    def login(
        request: Request,
        email: str = Form(default="", max_length=254),
        password: str = Form(default="", max_length=1024),
        csrf: str = Form(default="", max_length=128),
    ) -> Response:
        expected = request.cookies.get(_LOGIN_CSRF_COOKIE)
        if not expected or not secrets.compare_digest(expected, csrf):
            return login_page("Skjemaet var utløpt. Prøv igjen.", 403)
        client = request.client.host if request.client else "unknown"
        if not attempts.allow(client, clock()):
            return login_page("For mange forsøk. Vent et minutt.", 429)
        try:
            session = log_in(SqlAccountStore(store()), email, password, now_s=int(clock()))
        except LoginRefused as exc:
            message = "Kontoen er låst en stund." if "locked" in str(exc) else (
                "Feil e-post eller passord.")  # fmt: skip
            return login_page(message, 401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, session.token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", max_age=session.expires_at_s - int(clock()),
        )  # fmt: skip
        response.delete_cookie(_LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form(default="", max_length=128)) -> Response:
        session = current(request)
        if session is not None:
            if not csrf_matches(session, csrf):
                raise HTTPException(403)
            log_out(SqlAccountStore(store()), session.token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        session = current(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        if session.account.role != "customer":
            return page("console.html.j2", session=session)
        points = SqlSettlementStore(store()).points_of_customer(session.account.customer_id)
        seen = []
        for point in points:
            found = month_to_date(SqlSettlementStore(store()), SqlPriceStore(store()), point,
                                  tariff, rules, now_s=int(clock()))  # fmt: skip
            if found is not None:
                seen.append(found)
        return page("overview.html.j2", session=session, months=seen)

    return app

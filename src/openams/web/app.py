"""The customer portal and the operator console: server-rendered pages (FastAPI, Jinja2).

:func:`create_app` builds an application for one set of settings; there is no module-level
application. Routes parse the request, call a service and render its result: the numbers on
a page are what :mod:`openams.services` computes, nothing is computed here. Each area is a
module with ``add_routes(app, web)`` (:mod:`openams.web.context`).

Security:
    * Every page but the log-in page needs a session (a cookie holding a random token, of
      which the store keeps only the hash; HTTP-only, SameSite=Strict, Secure over HTTPS).
    * Every form posts a CSRF token: the session's, or before log-in a random value that
      must equal the one in a cookie set with the form.
    * Log-in attempts are limited per client address besides the lock-out of an account
      after repeated failures (:mod:`openams.web.login`).
    * A customer's metering point that is not theirs is "not found", as one that does not
      exist: no page tells which metering points exist.
    * Unexpected errors show a short page with no details; nothing personal is logged.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from openams.config import Settings
from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules
from openams.services.mail import Mailer
from openams.services.tariff_files import default_taxes
from openams.store import open_store

from . import api, console, console_settlements, contact, customer, grants, han, login
from .context import SESSION_COOKIE, Web
from .i18n import LANG_COOKIE, LANGUAGES, LanguageMiddleware
from .login import LOGINS_PER_MINUTE

__all__ = ["LOGINS_PER_MINUTE", "SESSION_COOKIE", "create_app"]

#: How long the chosen language is remembered: a year.
_LANGUAGE_KEPT_S = 365 * 86_400
_MESSAGES = {404: "Fant ikke siden.", 403: "Ikke tillatt.", 429: "For mange forsøk."}


def _local(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no redirect to elsewhere)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or len(target) > 2048:
        return "/"
    return target


def create_app(
    settings: Settings,
    *,
    tariff: Tariff,
    taxes: TaxRules | None = None,
    clock: Callable[[], float] = time.time,
    mailer: Mailer | None = None,
) -> FastAPI:
    """The portal and console over the store of ``settings``.

    Args:
        settings: Where the store is.
        tariff: The grid company's tariff (for costs and the capacity step).
        taxes: The state's rules (default: those shipped with OpenAMS).
        clock: Now, in epoch seconds (tests move it).
        mailer: Sends e-mail (default: the mail server of ``settings``, else the outbox).
    """
    web = Web(tariff, taxes if taxes is not None else default_taxes(), clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        web.holder["store"] = open_store(settings.db_url)
        try:
            yield
        finally:
            web.holder.pop("store").close()

    app = FastAPI(
        title="OpenAMS API",
        version="1",
        description="Metering points, values, prices and settlements for bearer tokens.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(api.refuse_control_characters)],
    )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 303 and exc.headers:
            return web.redirect(exc.headers["location"])
        if request.url.path.startswith("/api/"):
            return api.http_error(exc.status_code)
        message = _MESSAGES.get(exc.status_code, "Noe gikk galt.")
        return web.page("error.html.j2", exc.status_code, message=message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return api.http_error(500)
        return web.page("error.html.j2", 500, message="Noe gikk galt. Prøv igjen senere.")

    app.add_middleware(LanguageMiddleware)

    @app.get("/language/{code}", include_in_schema=False)
    def choose_language(request: Request, code: str) -> Response:
        """Answer in language ``code`` from now on, back on the page the visitor came from
        (the Referer of this site; the link itself does not repeat the page's address)."""
        if code not in LANGUAGES:
            raise HTTPException(404)
        came_from = urlsplit(request.headers.get("referer", "")[:2048])
        back = "/"
        if came_from.netloc and came_from.netloc == request.headers.get("host"):
            back = _local(came_from.path + (f"?{came_from.query}" if came_from.query else ""))
        response = web.redirect(back)
        response.set_cookie(LANG_COOKIE, code, max_age=_LANGUAGE_KEPT_S, samesite="lax",
                            httponly=True)  # fmt: skip
        return response

    login.add_routes(app, web)
    customer.add_routes(app, web)
    console.add_routes(app, web)
    console_settlements.add_routes(app, web)
    grants.add_routes(app, web)
    han.add_routes(app, web)
    contact.add_routes(app, web, settings, mailer)
    api.add_routes(app, web)
    return app

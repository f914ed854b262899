"""What every route module of the web application shares: the store, the session, pages.

Each area of the application (log-in, customer pages, console, API) is a module with an
``add_routes(app, web)`` function that registers its routes on the application and uses the
:class:`Web` it is given; :func:`openams.web.app.create_app` builds the :class:`Web` and
calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules
from openams.services.accounts import Session, csrf_matches, session_for
from openams.services.invoice import format_kwh, format_nok
from openams.services.vee import OSLO
from openams.store import Store
from openams.store.accounts import SqlAccountStore

__all__ = ["SESSION_COOKIE", "Web", "templates"]

SESSION_COOKIE = "openams_session"


def _local_hour(start_s: int) -> str:
    """An hour as the customer reads it: ``17-18`` (local time, an en dash on the page)."""
    start = datetime.fromtimestamp(start_s, OSLO)
    end = datetime.fromtimestamp(start_s + 3600, OSLO)
    return f"{start:%H}\u2013{end:%H}"


def _local_day(at_s: int) -> str:
    """A day as the customer reads it: ``20.01.2026`` (local time)."""
    return f"{datetime.fromtimestamp(at_s, OSLO):%d.%m.%Y}"


def templates() -> Environment:
    """The Jinja2 environment of the pages (autoescaping on), with the number filters."""
    folder = resources.files("openams") / "web" / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html", "j2"]),
        auto_reload=False,
    )
    env.filters["nok"] = format_nok
    env.filters["kwh"] = format_kwh
    env.filters["hour"] = _local_hour
    env.filters["day"] = _local_day
    return env


@dataclass(slots=True)
class Web:
    """The application's shared parts.

    Attributes:
        tariff: The grid company's tariff.
        taxes: The state's rules.
        clock: Now, epoch seconds.
        env: The page templates.
        holder: The open store, set while the application runs.
    """

    tariff: Tariff
    taxes: TaxRules
    clock: Callable[[], float]
    env: Environment = field(default_factory=templates)
    holder: dict[str, Store] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        """The open store."""
        return self.holder["store"]

    def now_s(self) -> int:
        """Now, whole epoch seconds."""
        return int(self.clock())

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A rendered page."""
        return HTMLResponse(self.env.get_template(name).render(**values), status_code=status)

    def session(self, request: Request) -> Session | None:
        """The request's live session, if any."""
        token = request.cookies.get(SESSION_COOKIE)
        return session_for(SqlAccountStore(self.store), token, now_s=self.now_s())

    def require(self, request: Request, *roles: str) -> Session:
        """The session, which must have one of ``roles`` (any role when none are named).

        Raises:
            HTTPException: 303 to the log-in page without a session (see
                :func:`openams.web.app.create_app`), 403 for another role.
        """
        session = self.session(request)
        if session is None:
            raise HTTPException(303, headers={"location": "/login"})
        if roles and session.account.role not in roles:
            raise HTTPException(403)
        return session

    @staticmethod
    def check_csrf(session: Session, posted: str | None) -> None:
        """Refuse a form without the session's CSRF token (403)."""
        if not csrf_matches(session, posted):
            raise HTTPException(403)

    @staticmethod
    def redirect(to: str) -> RedirectResponse:
        """A 303 to another page."""
        return RedirectResponse(to, status_code=303)

"""What every route module of the web application shares: the store, the session, pages.

Each area of the application (log-in, customer pages, console, API) is a module with an
``add_routes(app, web)`` function that registers its routes on the application and uses the
:class:`Web` it is given; :func:`openams.web.app.create_app` builds the :class:`Web` and
calls them.
"""

from __future__ import annotations

import secrets
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules
from openams.services.accounts import Session, csrf_matches, session_for
from openams.services.invoice import format_kwh, format_nok
from openams.services.vee import OSLO
from openams.store import Store
from openams.store.accounts import SqlAccountStore

from .i18n import DEFAULT, LANGUAGES, current, gettext_for

__all__ = ["SESSION_COOKIE", "ClientLimit", "Web", "templates"]

SESSION_COOKIE = "openams_session"


def _local_hour(start_s: int) -> str:
    """An hour as the customer reads it: ``17-18`` (local time, an en dash on the page)."""
    start = datetime.fromtimestamp(start_s, OSLO)
    end = datetime.fromtimestamp(start_s + 3600, OSLO)
    return f"{start:%H}\u2013{end:%H}"


def _local_day(at_s: int) -> str:
    """A day as the customer reads it: ``20.01.2026`` (local time)."""
    return f"{datetime.fromtimestamp(at_s, OSLO):%d.%m.%Y}"


def _english(value: Decimal, places: int) -> str:
    """``value`` to ``places`` decimals the English way: ``-1,234.50``."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""  # and never "-0.00"
    return sign + format(abs(rounded), f",.{places}f")


def _nok_english(value: Decimal) -> str:
    """An amount for English pages: ``NOK 1,234.50`` (a no-break space)."""
    return f"NOK\u00a0{_english(value, 2)}"


def _kwh_english(value: Decimal) -> str:
    """Energy for English pages: ``1,234.500 kWh`` (a no-break space)."""
    return f"{_english(value, 3)}\u00a0kWh"


class _FixedTexts(Extension):
    """Translates ``_("text")`` when a template is compiled, not each time it is rendered:
    a call with one string and nothing else becomes the string in the environment's
    language (``environment.fixed_texts``), which autoescaping then escapes like any other
    text. Calls with values, and messages that come from the routes, stay calls."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        translate: Callable[[str], str] = getattr(self.environment, "fixed_texts", str)
        window: list[Token] = []
        for token in stream:
            window.append(token)
            if len(window) < 4:
                continue
            name, left, text, right = window
            if (name.type, name.value, left.type, text.type, right.type) == (
                TOKEN_NAME,
                "_",
                TOKEN_LPAREN,
                TOKEN_STRING,
                TOKEN_RPAREN,
            ):
                try:
                    translated = translate(text.value) % {}  # as Jinja's own call does
                except (TypeError, ValueError, KeyError):
                    yield window.pop(0)
                    continue
                yield Token(name.lineno, TOKEN_STRING, translated)
                window.clear()
                continue
            yield window.pop(0)
        yield from window


def templates(language: str = DEFAULT) -> Environment:
    """The Jinja2 environment of the pages in ``language`` (autoescaping on), with ``_()``
    and the number filters of the language."""
    folder = resources.files("openams") / "web" / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html", "j2"]),
        auto_reload=False,
        extensions=["jinja2.ext.i18n", _FixedTexts],
    )
    texts = gettext_for(language)
    env.fixed_texts = texts  # type: ignore[attr-defined] # read by _FixedTexts

    # Jinja marks what these return as safe markup and fills in the values escaped: the
    # texts are plain text, so they are escaped here (a message may quote the request).
    def gettext(message: str) -> Markup:
        return escape(texts(message))

    def ngettext(one: str, many: str, n: int) -> Markup:
        return escape(texts(one if n == 1 else many))

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    english = language == "en"
    env.filters["nok"] = _nok_english if english else format_nok
    env.filters["kwh"] = _kwh_english if english else format_kwh
    env.filters["hour"] = _local_hour
    env.filters["day"] = _local_day
    env.globals["lang"] = language
    env.globals["languages"] = LANGUAGES
    return env


def _environments() -> dict[str, Environment]:
    return {language: templates(language) for language in LANGUAGES}


class ClientLimit:
    """At most ``limit`` requests per client address over a sliding ``window_s`` (kept in
    this process)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, request: Request, now: float) -> bool:
        """Count a request of the client of ``request``; whether it is within the limit."""
        seen = self._seen[request.client.host if request.client else "unknown"]
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


@dataclass(slots=True)
class Web:
    """The application's shared parts.

    Attributes:
        tariff: The grid company's tariff.
        taxes: The state's rules.
        clock: Now, epoch seconds.
        envs: The page templates, by language.
        holder: The open store, set while the application runs.
    """

    tariff: Tariff
    taxes: TaxRules
    clock: Callable[[], float]
    envs: dict[str, Environment] = field(default_factory=_environments)
    holder: dict[str, Store] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        """The open store."""
        return self.holder["store"]

    def now_s(self) -> int:
        """Now, whole epoch seconds."""
        return int(self.clock())

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A rendered page, in the language of the request."""
        template = self.envs[current()].get_template(name)
        return HTMLResponse(template.render(**values), status_code=status)

    @staticmethod
    def text(message: str, **values: Any) -> str:
        """``message`` (bokmål) in the language of the request, ``%(name)s`` filled in."""
        return gettext_for(current())(message, **values)

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
    def form_page(response: HTMLResponse, cookie: str, token: str) -> HTMLResponse:
        """``response``, a page with a form made before log-in carrying ``token``, with the
        cookie the posted form must match (:meth:`form_matches`)."""
        response.set_cookie(cookie, token, httponly=True, samesite="strict")
        return response

    @staticmethod
    def form_matches(request: Request, cookie: str, posted: str) -> bool:
        """Whether a form made before log-in posts the token of its cookie (in constant
        time; any text may be posted, so the two are compared as UTF-8 bytes)."""
        expected = request.cookies.get(cookie)
        return bool(expected) and secrets.compare_digest((expected or "").encode(), posted.encode())

    def start_session(self, request: Request, response: Response, session: Session) -> Response:
        """``response`` with the cookie of a new ``session``."""
        response.set_cookie(
            SESSION_COOKIE, session.token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", max_age=session.expires_at_s - self.now_s(),
        )  # fmt: skip
        return response

    @staticmethod
    def redirect(to: str) -> RedirectResponse:
        """A 303 to another page."""
        return RedirectResponse(to, status_code=303)

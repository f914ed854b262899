"""HAN port requests: the customer's page (``/han``) and the operators' list
(``/console/han``).

A customer sees, per metering point, the open or latest request with its deadline, and asks
for the port to be opened where no request is open. A metering point that is not theirs gets
the same 404 answer as one that does not exist, and nothing is stored.

Operators and administrators list the open requests (earliest deadline first, overdue ones
marked) and mark each opened or refused; a refusal needs a reason. Every list seen and every
request closed is in the access log (:mod:`openams.services.han_requests`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from openams.domain.han_requests import MAX_REASON, WORKING_DAYS, HanRequestRefused
from openams.services.han_requests import (
    HANDLERS,
    close_request,
    customer_requests,
    open_requests,
    request_opening,
)
from openams.store.audit import SqlAuditStore
from openams.store.han_requests import SqlHanRequestStore

from .context import Web
from .i18n import gettext_for

__all__ = ["add_routes"]

_WEEKDAYS: Final = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_MAX_REQUEST_ID = 12
_NOT_YOURS = "Fant ikke målepunktet blant dine målepunkter. Ingenting er bestilt."
_CLOSE_MESSAGES: Final = {
    "reason": "Et avslag må ha en begrunnelse. Ingenting er endret.",
    "reason_too_long": f"Begrunnelsen kan være høyst {MAX_REASON} tegn. Ingenting er endret.",
    "reason_characters": "Begrunnelsen kan ikke inneholde kontrolltegn. Ingenting er endret.",
    "not_open": "Forespørselen er allerede behandlet.",
    "action": "Velg om porten er åpnet eller om forespørselen avslås. Ingenting er endret.",
    "other": "Forespørselen kunne ikke endres. Ingenting er endret.",
}
_DONE: Final = {
    "opened": "Forespørselen er merket som åpnet.",
    "refused": "Forespørselen er avslått.",
}


def _weekday_date(language: str) -> Callable[[date], str]:
    """A deadline as the reader reads it: ``fredag 11.12.2026`` (the weekday translated)."""
    texts = gettext_for(language)

    def weekday_date(day: date) -> str:
        return f"{texts(_WEEKDAYS[day.weekday()])} {day:%d.%m.%Y}"

    return weekday_date


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/han`` and ``/console/han``."""
    for language, env in web.envs.items():
        env.filters["weekday_date"] = _weekday_date(language)

    def customer_page(request: Request, *, message: str = "", status: int = 200,
                      requested: bool = False) -> HTMLResponse:  # fmt: skip
        session = web.require(request, "customer")
        points = customer_requests(SqlHanRequestStore(web.store), session.account.customer_id)
        return web.page("han.html.j2", status, session=session, nav="han", points=points,
                        message=message, requested=requested, working_days=WORKING_DAYS,
                        now_s=web.now_s())  # fmt: skip

    @app.get("/han", response_class=HTMLResponse, include_in_schema=False)
    def han(request: Request, requested: str = "") -> Response:
        return customer_page(request, requested=requested == "1")

    @app.post("/han", response_class=HTMLResponse, include_in_schema=False)
    def ask(request: Request, csrf: str = Form(default="", max_length=128),
            mp: str = Form(default="")) -> Response:  # fmt: skip
        session = web.require(request, "customer")
        web.check_csrf(session, csrf)
        try:
            request_opening(SqlHanRequestStore(web.store), session.account.customer_id,
                            mp.strip(), now_s=web.now_s())  # fmt: skip
        except HanRequestRefused:
            return customer_page(request, message=_NOT_YOURS, status=404)
        return web.redirect("/han?requested=1")

    def console_page(request: Request, *, message: str = "", status: int = 200, done: str = "",
                     form: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
        session = web.require(request, *HANDLERS)
        listed = open_requests(SqlHanRequestStore(web.store), SqlAuditStore(web.store),
                               session.account, now_s=web.now_s())  # fmt: skip
        return web.page("console_han.html.j2", status, session=session, listed=listed,
                        message=message, done=_DONE.get(done, ""), form=form or {},
                        max_reason=MAX_REASON)  # fmt: skip

    @app.get("/console/han", response_class=HTMLResponse, include_in_schema=False)
    def console_han(request: Request, done: str = "") -> Response:
        return console_page(request, done=done)

    @app.post("/console/han/{request_id}", response_class=HTMLResponse, include_in_schema=False)
    def close(
        request: Request,
        request_id: str,
        csrf: str = Form(default="", max_length=128),
        action: str = Form(default=""),
        reason: str = Form(default=""),
    ) -> Response:
        session = web.require(request, *HANDLERS)
        web.check_csrf(session, csrf)
        if not request_id.isdigit() or len(request_id) > _MAX_REQUEST_ID:
            raise HTTPException(404)
        form = {"request_id": request_id, "reason": reason[:MAX_REASON]}
        if action not in ("opened", "refused"):
            return console_page(request, message=_CLOSE_MESSAGES["action"], status=400,
                                form=form)  # fmt: skip
        try:
            closed = close_request(SqlHanRequestStore(web.store), SqlAuditStore(web.store),
                                   session.account, int(request_id), opened=action == "opened",
                                   reason=reason, now_s=web.now_s())  # fmt: skip
        except HanRequestRefused as exc:
            if exc.problem == "unknown_request":
                raise HTTPException(404) from None
            status = 409 if exc.problem == "not_open" else 400
            message = _CLOSE_MESSAGES.get(exc.problem, _CLOSE_MESSAGES["other"])
            return console_page(request, message=message, status=status, form=form)
        return web.redirect(f"/console/han?done={closed.status}")

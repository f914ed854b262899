"""The operator console (``/console``): the dashboard, search, a metering point's page, value
edits and, for administrators, the access log.

Who may do what:
    * operators, installers and administrators (:data:`STAFF`) see the dashboard, search and
      open metering points;
    * operators and administrators (:data:`EDITORS`) edit values;
    * administrators alone read the access log.

Every search and every metering point opened is written to the access log (who, what,
when) before the page is shown; a value edit too, besides the edit's own audit. Nothing of
it goes to the application's log.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from openams.errors import InputError
from openams.services.audit import list_accesses, record_access
from openams.services.console import (
    MAX_QUERY,
    MAX_REASON,
    EditRefused,
    dashboard,
    edit_from_form,
    point_detail,
    search_points,
)
from openams.services.vee import OSLO
from openams.store.audit import SqlAuditStore
from openams.store.console import SqlConsoleStore
from openams.store.han_requests import SqlHanRequestStore
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlEditStore

from .context import Web
from .i18n import DEFAULT, gettext_for

__all__ = ["ADMINISTRATORS", "EDITORS", "STAFF", "STATUS_NAMES", "add_routes"]

#: The roles that use the console.
STAFF: Final = ("operator", "installer", "administrator")
#: The roles that edit values.
EDITORS: Final = ("operator", "administrator")
#: The roles that read the access log.
ADMINISTRATORS: Final = ("administrator",)

_GSRN = re.compile(r"[0-9]{18}")
_MAX_CUSTOMER_ID = 64
_AUDIT_ROWS = 200
_AUDIT_FILTER = "Målepunkt-ID er 18 siffer; kunde-ID høyst 64 tegn."
_QUERY_TOO_LONG = "Et søk kan være høyst %(n)s tegn."

#: Elhub's names of the value statuses.
STATUS_NAMES: Final = {
    "measured": "Målt",
    "estimated": "Estimert",
    "final_estimated": "Endelig estimert",
    "temporary": "Midlertidig",
    "rejected": "Avvist",
    "missing": "Manglende",
}

_EDIT_MESSAGES: Final = {
    "start": "Starttidspunktet må være en lokal dato og tid, som 2026-01-19T10:00.",
    "import": "Uttak må være et tall i kWh med høyst tre desimaler.",
    "export": "Innmating må være et tall i kWh med høyst tre desimaler, eller stå tomt.",
    "negative": "Energi kan ikke være negativ.",
    "too_large": "Verdien er urimelig stor for én måleperiode.",
    "reason": "En endring må ha en begrunnelse. Ingenting er endret.",
    "reason_too_long": "Begrunnelsen kan være høyst %(n)s tegn.",
    "grid": "Starttidspunktet må være starten på en måleperiode (hel time eller kvarter).",
    "future": "En måleperiode som ikke er over ennå, kan ikke endres.",
    "unknown": "Målepunktet har ingen måler, og verdiene kan ikke endres.",
    "other": "Endringen ble avvist. Ingenting er endret.",
}


def _local_time(at_s: int) -> str:
    """A time as an operator reads it: ``19.01.2026 10:00`` (Norwegian local time)."""
    return f"{datetime.fromtimestamp(at_s, OSLO):%d.%m.%Y %H:%M}"


def _metering_point(metering_point_id: str) -> str:
    """The id from the path, if it is a GSRN; otherwise "not found" (404)."""
    if not _GSRN.fullmatch(metering_point_id):
        raise HTTPException(404)
    return metering_point_id


def add_routes(app: FastAPI, web: Web) -> None:
    """Register the console's pages."""
    for language, env in web.envs.items():
        text = gettext_for(language)
        env.filters["when"] = _local_time
        env.globals["status_names"] = STATUS_NAMES
        # a value status by its name in the language of the page
        env.filters["status"] = lambda code, text=text: text(STATUS_NAMES.get(code, code))
        # a decimal figure: 0,1 in bokmål, 0.1 in English
        env.filters["decimal"] = (
            str if language != DEFAULT else (lambda value: str(value).replace(".", ","))
        )

    @app.get("/console", response_class=HTMLResponse, include_in_schema=False)
    def console(request: Request) -> Response:
        session = web.require(request, *STAFF)
        board = dashboard(SqlConsoleStore(web.store), now_s=web.now_s(),
                          han=SqlHanRequestStore(web.store))  # fmt: skip
        return web.page("console.html.j2", session=session, board=board)

    @app.get("/console/search", response_class=HTMLResponse, include_in_schema=False)
    def search(request: Request, q: str = "") -> Response:
        session = web.require(request, *STAFF)
        try:
            result = search_points(SqlConsoleStore(web.store), q)
        except InputError:
            message = web.text(_QUERY_TOO_LONG, n=MAX_QUERY)
            return web.page("console_search.html.j2", 400, session=session, q=q[:MAX_QUERY],
                            result=None, message=message)  # fmt: skip
        if result.query.text:  # the results name customers
            record_access(SqlAuditStore(web.store), session.account, "search",
                          detail=result.query.text, now_s=web.now_s())  # fmt: skip
        return web.page("console_search.html.j2", session=session, q=result.query.text,
                        result=result, message="")  # fmt: skip

    @app.get("/console/mp/{metering_point_id}", response_class=HTMLResponse,
             include_in_schema=False)  # fmt: skip
    def point(request: Request, metering_point_id: str, edited: str = "") -> Response:
        session = web.require(request, *STAFF)
        found = point_detail(SqlConsoleStore(web.store), _metering_point(metering_point_id),
                             now_s=web.now_s())  # fmt: skip
        if found is None:
            raise HTTPException(404)
        record_access(SqlAuditStore(web.store), session.account, "view_metering_point",
                      metering_point_id=metering_point_id,
                      customer_id=found.point.customer_id, now_s=web.now_s())  # fmt: skip
        return web.page("console_point.html.j2", session=session, detail=found,
                        can_edit=session.account.role in EDITORS, edited=edited == "1",
                        max_reason=MAX_REASON)  # fmt: skip

    @app.post("/console/mp/{metering_point_id}/edit", include_in_schema=False)
    def edit(
        request: Request,
        metering_point_id: str,
        csrf: str = Form(default="", max_length=128),
        start: str = Form(default="", max_length=64),
        import_kwh: str = Form(default="", max_length=64),
        export_kwh: str = Form(default="", max_length=64),
        reason: str = Form(default="", max_length=4 * MAX_REASON),
    ) -> Response:
        session = web.require(request, *EDITORS)
        web.check_csrf(session, csrf)
        _metering_point(metering_point_id)
        points = SqlSettlementStore(web.store).metering_points(metering_point_id)
        if not points:
            raise HTTPException(404)
        try:
            done = edit_from_form(
                SqlEditStore(web.store), metering_point_id, start_local=start,
                import_kwh=import_kwh, export_kwh=export_kwh, reason=reason,
                edited_by=session.account.email, now_s=web.now_s(),
            )  # fmt: skip
        except EditRefused as exc:
            message = web.text(_EDIT_MESSAGES.get(exc.problem, _EDIT_MESSAGES["other"]),
                               n=MAX_REASON)  # fmt: skip
            form = {"start": start, "import_kwh": import_kwh, "export_kwh": export_kwh,
                    "reason": reason[:MAX_REASON]}  # fmt: skip
            return web.page("console_edit.html.j2", 400, session=session,
                            metering_point_id=metering_point_id, form=form, message=message,
                            max_reason=MAX_REASON)  # fmt: skip
        detail = f"{done.start_at_s} {done.old_import_wh}->{done.new_import_wh} Wh"
        record_access(SqlAuditStore(web.store), session.account, "edit_value",
                      metering_point_id=metering_point_id, customer_id=points[0].customer_id,
                      detail=detail, now_s=web.now_s())  # fmt: skip
        return web.redirect(f"/console/mp/{metering_point_id}?edited=1")

    @app.get("/console/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit(request: Request, mp: str = "", customer: str = "") -> Response:
        session = web.require(request, *ADMINISTRATORS)
        mp, customer = mp.strip(), customer.strip()
        if (mp and not _GSRN.fullmatch(mp)) or len(customer) > _MAX_CUSTOMER_ID:
            return web.page("console_audit.html.j2", 400, session=session, entries=[],
                            mp=mp[:18], customer=customer[:_MAX_CUSTOMER_ID],
                            message=_AUDIT_FILTER)  # fmt: skip
        entries = list_accesses(SqlAuditStore(web.store), session.account,
                                metering_point_id=mp or None, customer_id=customer or None,
                                limit=_AUDIT_ROWS)  # fmt: skip
        return web.page("console_audit.html.j2", session=session, entries=entries, mp=mp,
                        customer=customer, message="")  # fmt: skip

"""Settlement runs in the console: the months settled (``/console/settlements``) and a
month's runs, a page at a time (``/console/settlements/{month}``), for every staff role.

The pages name metering points and customers, so each month opened is written to the
access log like a search.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from openams.errors import InputError
from openams.services.audit import record_access
from openams.services.settlement_overview import ORDERS, PAGE_SIZE, month_runs, settled_months
from openams.store.audit import SqlAuditStore
from openams.store.settlement_overview import SqlSettlementOverviewStore

from .console import STAFF
from .context import Web

__all__ = ["add_routes"]

_BAD_REQUEST = "Ugyldig måned, sortering eller side. Måneden skrives ÅÅÅÅ-MM."


def add_routes(app: FastAPI, web: Web) -> None:
    """Register the settlement pages of the console."""

    @app.get("/console/settlements", response_class=HTMLResponse, include_in_schema=False)
    def months(request: Request) -> Response:
        session = web.require(request, *STAFF)
        found = settled_months(SqlSettlementOverviewStore(web.store))
        return web.page("console_settlements.html.j2", session=session, months=found)

    @app.get("/console/settlements/{month}", response_class=HTMLResponse,
             include_in_schema=False)  # fmt: skip
    def month(request: Request, month: str, order: str = "amount", page: str = "1") -> Response:
        session = web.require(request, *STAFF)
        try:
            found = month_runs(SqlSettlementOverviewStore(web.store), month, order=order,
                               page=page)  # fmt: skip
        except InputError:
            return web.page("error.html.j2", 400, session=session, message=_BAD_REQUEST)
        if found.summary is None:
            return web.page("console_settlement_month.html.j2", 404, session=session,
                            month=month, found=found, orders=ORDERS)  # fmt: skip
        record_access(SqlAuditStore(web.store), session.account, "view_settlements",
                      detail=f"{month} page {found.page}", now_s=web.now_s())  # fmt: skip
        return web.page("console_settlement_month.html.j2", session=session, month=month,
                        found=found, orders=ORDERS, page_size=PAGE_SIZE)  # fmt: skip

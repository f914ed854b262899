"""The customer's pages: this month so far (``/`` for a customer)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from openams.services.month_to_date import month_to_date
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore

from .context import Web

__all__ = ["add_routes"]


def add_routes(app: FastAPI, web: Web) -> None:
    """Register the customer's pages."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request) -> Response:
        session = web.require(request)
        if session.account.role != "customer":
            return web.redirect("/console")
        settlements = SqlSettlementStore(web.store)
        months = []
        for point in settlements.points_of_customer(session.account.customer_id):
            found = month_to_date(settlements, SqlPriceStore(web.store), point, web.tariff,
                                  web.taxes, now_s=web.now_s())  # fmt: skip
            if found is not None:
                months.append(found)
        return web.page("overview.html.j2", session=session, months=months)

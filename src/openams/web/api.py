"""The REST API, ``/api/v1``: metering points, values, prices and settlements for bearer
tokens (:mod:`openams.services.api_tokens`), described by the OpenAPI document at
``/openapi.json``.

Every error has one shape: ``{"error": {"code": "...", "message": "..."}}`` with the HTTP
status (401 without a live token, 403 without the scope, 404 for a metering point that does
not exist or is not the token's customer's, 400 for bad parameters). Lists are paged with
``limit`` (1 to 1000) and ``offset``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from openams.domain.prices import BIDDING_ZONES
from openams.services.api_tokens import ApiToken, authenticate
from openams.services.prices import hourly_prices_nok
from openams.services.vee import local_day_bounds
from openams.store.api_tokens import SqlTokenStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlValueStore

from .context import Web

__all__ = ["MAX_DAYS", "ApiError", "add_routes", "http_error", "refuse_control_characters"]

#: The longest period one request may ask values or prices for. [days]
MAX_DAYS = 93


class ApiError(Exception):
    """An API error in the one error format."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


#: Characters no parameter takes: the C0 controls but tab, line feed and carriage return,
#: and DEL (PostgreSQL cannot even store a NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_TYPE = "control_character"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_control_characters(request: Request) -> None:
    """Refuse a control character in any path, query or form value of any route (a
    dependency of the whole application): the request gets the 400 of
    :func:`add_routes`'s handler of bad parameters, and nothing runs.

    Raises:
        RequestValidationError: a value holds a control character.
    """
    values = [("path", name, value) for name, value in request.path_params.items()]
    values += [("query", name, value) for name, value in request.query_params.multi_items()]
    if request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()  # parsed once: the route's parameters read the same
        values += [("body", name, value) for name, value in form.multi_items()]
    for where, name, value in values:
        if isinstance(value, str) and _CONTROL.search(value):
            error = {"type": _CONTROL_TYPE, "loc": (where, name),
                     "msg": "control characters are not allowed"}  # fmt: skip
            raise RequestValidationError([error])


#: The errors the application answers under ``/api/`` before a route of the API runs.
_HTTP_ERRORS = {
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "the resource does not take this method"),
    500: ("internal_error", "something went wrong; try again later"),
}


def http_error(status: int) -> JSONResponse:
    """An error found outside the API's routes (a path that matches none, an unexpected
    failure) for a request under ``/api/``, in the one error format."""
    code, message = _HTTP_ERRORS.get(status, ("error", "the request was refused"))
    return _error(status, code, message)


class Page(BaseModel):
    """A page of a list."""

    items: list[dict[str, Any]]
    limit: int
    offset: int
    total: int


Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
MeteringPointId = Annotated[str, Path(min_length=1, max_length=18)]


def _period(first: date, last: date | None) -> tuple[int, int]:
    last = last or first
    if last < first:
        raise ApiError(400, "bad_period", "'to' is before 'from'")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "bad_period", f"ask for at most {MAX_DAYS} days at a time")
    return local_day_bounds(first)[0], local_day_bounds(last)[1]


def add_routes(app: FastAPI, web: Web) -> None:
    """Register ``/api/v1`` and its error format."""

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'not valid')}"
        if request.url.path.startswith("/api/"):
            return _error(400, "bad_parameter", message)
        if first.get("type") == _CONTROL_TYPE:
            return web.page("error.html.j2", 400, message="Et felt inneholder kontrolltegn, "
                            "som ikke er tillatt. Ingenting er endret.")  # fmt: skip
        if first.get("type") == "string_too_long":
            return web.page("error.html.j2", 400, message="En verdi i skjemaet eller adressen "
                            "er for lang. Ingenting er endret.")  # fmt: skip
        return web.page("error.html.j2", 400, message="Ugyldig forespørsel.")

    def token(request: Request, scope: str) -> ApiToken:
        found = authenticate(SqlTokenStore(web.store), request.headers.get("authorization"),
                             now_s=web.now_s())  # fmt: skip
        if found is None:
            raise ApiError(401, "unauthorized", "a live bearer token is needed")
        if scope not in found.scopes:
            raise ApiError(403, "forbidden", f"the token lacks the scope {scope}")
        return found

    def points_of(found: ApiToken) -> list[str]:
        settlements = SqlSettlementStore(web.store)
        if found.customer_id is not None:
            return settlements.points_of_customer(found.customer_id)
        return [p.metering_point_id for p in settlements.metering_points(None)]

    def reachable(found: ApiToken, metering_point_id: str) -> None:
        if metering_point_id not in points_of(found):
            raise ApiError(404, "not_found", "no such metering point")

    @app.get("/api/v1/metering-points", response_model=Page, tags=["metering points"])
    def list_points(request: Request, limit: Limit = 100, offset: Offset = 0) -> Page:
        """The metering points the token reaches, by id."""
        found = token(request, "points:read")
        ids = points_of(found)
        points = {
            p.metering_point_id: p
            for p in SqlSettlementStore(web.store).metering_points(None)
            if p.metering_point_id in set(ids[offset : offset + limit])
        }
        items = [{"metering_point_id": mp, "area": points[mp].area,
                  "customer_type": points[mp].customer_type}
                 for mp in ids[offset : offset + limit] if mp in points]  # fmt: skip
        return Page(items=items, limit=limit, offset=offset, total=len(ids))

    @app.get("/api/v1/metering-points/{metering_point_id}/values", response_model=Page,
             tags=["values"])  # fmt: skip
    async def values(  # on the event loop: see customer.overview
        request: Request,
        metering_point_id: MeteringPointId,
        first: Annotated[date, Query(alias="from")],
        last: Annotated[date | None, Query(alias="to")] = None,
        limit: Limit = 1000,
        offset: Offset = 0,
    ) -> Page:
        """Interval values with their Elhub status, of local days ``from`` .. ``to``."""
        found = token(request, "values:read")
        reachable(found, metering_point_id)
        start_s, end_s = _period(first, last)
        stored = SqlValueStore(web.store).value_rows(metering_point_id, start_s, end_s)
        items = [{"start_at_s": start, "resolution_s": resolution, "import_wh": imported,
                  "export_wh": exported, "status": status}
                 for start, resolution, imported, exported, status
                 in stored[offset : offset + limit]]  # fmt: skip
        # built as it is: validating a thousand items of the store's own values costs more
        # than the rest of the request
        return Page.model_construct(items=items, limit=limit, offset=offset, total=len(stored))

    @app.get("/api/v1/prices", response_model=Page, tags=["prices"])
    def prices(
        request: Request,
        zone: Annotated[str, Query(pattern="^NO[1-5]$")],
        first: Annotated[date, Query(alias="from")],
        last: Annotated[date | None, Query(alias="to")] = None,
        limit: Limit = 1000,
        offset: Offset = 0,
    ) -> Page:
        """Hourly spot prices of a zone (the average of quarter-hours) in EUR/MWh and NOK/kWh."""
        token(request, "prices:read")
        if zone not in BIDDING_ZONES:  # pragma: no cover - the pattern has said so
            raise ApiError(400, "bad_parameter", "zone is NO1 to NO5")
        start_s, end_s = _period(first, last)
        hours = hourly_prices_nok(SqlPriceStore(web.store), zone, start_s, end_s)
        items = [{"start_at_s": h.start_at_s, "price_per_mwh": str(h.price_per_mwh),
                  "currency": h.currency,
                  "nok_per_kwh": None if h.nok_per_kwh is None else str(h.nok_per_kwh)}
                 for h in hours[offset : offset + limit]]  # fmt: skip
        return Page(items=items, limit=limit, offset=offset, total=len(hours))

    @app.get("/api/v1/metering-points/{metering_point_id}/settlements", response_model=Page,
             tags=["settlement"])  # fmt: skip
    def settlements(
        request: Request,
        metering_point_id: MeteringPointId,
        month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page:
        """Every settlement run of a metering point's month (amounts as exact decimal text)."""
        found = token(request, "settlement:read")
        reachable(found, metering_point_id)
        runs = SqlSettlementStore(web.store).runs(month, metering_point_id)
        items = [_run(run) for run in runs[offset : offset + limit]]
        return Page(items=items, limit=limit, offset=offset, total=len(runs))


def _run(run: Any) -> dict[str, Any]:
    data: dict[str, Any] = run.as_dict()
    data["total_nok"] = str(run.total_nok)
    for line, kept in zip(data["lines"], run.lines, strict=True):
        line["amount"] = str(kept.amount)
        line["quantity"] = str(kept.quantity)
        line["unit_price"] = str(kept.unit_price)
    return data

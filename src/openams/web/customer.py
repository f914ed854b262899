"""The customer's pages: this month so far (``/`` for a customer), consumption, prices,
invoices and their own data.

Every page but ``/`` is for the ``customer`` role only. A metering point is asked for with
``?mp=``; without it the customer's first one is shown. One that is not theirs gives the same
404 page as one that does not exist. A bad date, period or resolution gives a 400 page that
says what was wrong and repeats nothing of the request.

The chart is drawn by plotly.js from the installed ``plotly`` package, served from here
(``/static/plotly.min.js``): nothing is fetched from elsewhere.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import metadata, resources
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from openams.domain.settlement_types import Line
from openams.services.accounts import Session
from openams.services.consumption import (
    MAX_DAYS,
    MAX_QUARTER_DAYS,
    Consumption,
    PeriodRefused,
    SuppliedDays,
    UsePoint,
    chart_position_s,
    consumption,
)
from openams.services.customer_data import (
    customer_export,
    customer_invoice_pdf,
    customer_invoices,
    customer_values,
    supplied_days,
    values_csv,
)
from openams.services.invoice import InvoiceParty
from openams.services.invoice_content import (
    MONTHS,
    InvoiceContent,
    InvoiceRow,
    invoice_content,
    month_name,
)
from openams.services.month_to_date import month_to_date
from openams.services.prices import hourly_prices_nok
from openams.services.vee import OSLO, local_day_bounds
from openams.store.customer_data import SqlCustomerDataStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlEditStore, SqlValueStore

from .context import Web
from .i18n import DEFAULT, current, gettext_for

__all__ = ["add_routes"]

#: The days a customer may ask for.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
#: How long a browser keeps plotly.js: a year (its URL carries plotly's version).
_STATIC_MAX_AGE_S = 365 * 86_400
_DAY_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_FORMAT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_VERSION_FORMAT = re.compile(r"[1-9]\d{0,5}")
_PRIVATE = {"Cache-Control": "private, no-store"}

# The messages of a 400 page, in bokmål; they are translated, with the values of
# _MESSAGE_VALUES filled in, when the page is shown.
_PERIOD_MESSAGES = {
    "order": "Perioden slutter før den begynner.",
    "too_long": "Perioden kan være høyst %(days)s dager.",
    "quarter_too_long": "Kvartersverdier kan vises for høyst %(quarter_days)s dager om gangen.",
    "no_quarters": "Dette målepunktet har ikke kvartersverdier. Velg time, dag eller måned.",
    "resolution": "Ukjent oppløsning. Velg kvarter, time, dag eller måned.",
}
_BAD_DAY = "Ugyldig dato. Skriv datoen som ÅÅÅÅ-MM-DD, for eksempel 2026-01-31."
_DAY_RANGE = "Datoen må ligge mellom %(first)s og %(last)s."
_MESSAGE_VALUES = {
    "days": MAX_DAYS,
    "quarter_days": MAX_QUARTER_DAYS,
    "first": f"{FIRST_DAY:%d.%m.%Y}",
    "last": f"{LAST_DAY:%d.%m.%Y}",
}
# A bill's line texts that carry a figure, and the bokmål text each is translated from.
_LINE_TEXTS = (
    (re.compile(r"Kapasitetsledd trinn (?P<step>\S+) kW"), "Kapasitetsledd trinn %(step)s kW"),
    (re.compile(r"Merverdiavgift (?P<rate>\d+) %"), "Merverdiavgift %(rate)s %%"),
    (
        re.compile(r"Norgespris (?P<ore>-?\d+) øre/kWh, oppgjør mot spotpris"),
        "Norgespris %(ore)s øre/kWh, oppgjør mot spotpris",
    ),
)


@cache
def _plotly_js() -> bytes:
    """plotly.js as the installed plotly package ships it."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@cache
def _plotly_js_gzip() -> bytes:
    """plotly.js compressed with gzip, made once (a quarter of the size, for browsers that
    take gzip; the bytes do not depend on when they were made)."""
    return gzip.compress(_plotly_js(), compresslevel=9, mtime=0)


class _BadRequest(Exception):
    """A parameter the page cannot use; the message is for the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_day(text: str | None, default: date) -> date:
    if text is None or text == "":
        return default
    if not _DAY_FORMAT.fullmatch(text):
        raise _BadRequest(_BAD_DAY)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _BadRequest(_BAD_DAY) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _BadRequest(_DAY_RANGE)
    return day


def _period(
    from_text: str | None, to_text: str | None, first: date, last: date
) -> tuple[date, date]:
    """``from`` .. ``to`` (defaults ``first`` .. ``last``), at most :data:`MAX_DAYS` days."""
    begin = _parse_day(from_text, first)
    end = _parse_day(to_text, last)
    if end < begin:
        raise _BadRequest(_PERIOD_MESSAGES["order"])
    if (end - begin).days + 1 > MAX_DAYS:
        raise _BadRequest(_PERIOD_MESSAGES["too_long"])
    return begin, end


def _month_text(month: str, text: Callable[..., str]) -> str:
    """``"2026-01"`` as the customer reads it: ``januar 2026`` (``text`` translates)."""
    name, year = month_name(month).split(" ")
    return f"{text(name)} {year}"


def _day_of_month(day: date, text: Callable[..., str]) -> str:
    """A day of a month as a bill names it: ``12. januar`` (``text`` translates)."""
    return text("%(day)s. %(month)s", day=day.day, month=text(MONTHS[day.month - 1]))


def _point_label(point: UsePoint, resolution: str, text: Callable[..., str]) -> str:
    """How the customer reads an interval: ``20.01.2026 kl. 17:00-18:00`` (an en dash)."""
    start, end = point.start, point.end
    if resolution == "month":
        return _month_text(f"{start:%Y-%m}", text)
    if resolution == "day":
        return f"{start:%d.%m.%Y}"
    hours = f"{start:%H:%M}\u2013{end:%H:%M}"
    label = text("%(day)s kl. %(hours)s", day=f"{start:%d.%m.%Y}", hours=hours)
    if start.replace(fold=1 - start.fold).utcoffset() != start.utcoffset():
        # the hour told twice
        label += " " + (text("(sommertid)") if start.dst() else text("(normaltid)"))
    return label


def _line_text(line: Line, text: Callable[..., str]) -> str:
    """A bill's line text translated by ``text`` (the same text in bokmål)."""
    for pattern, source in _LINE_TEXTS:
        found = pattern.fullmatch(line.text)
        if found:
            return text(source, **found.groupdict())
    return text(line.text)  # a fixed text, or the tariff's name of an energy rate


def _english_number(value: Decimal, least: int, most: int) -> str:
    """``value`` the English way with between ``least`` and ``most`` decimals: ``1,234.5``."""
    rounded = value.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    places = most
    while places > least and rounded == rounded.quantize(Decimal(1).scaleb(1 - places)):
        places -= 1
    sign = "-" if rounded < 0 else ""
    return sign + format(abs(rounded), f",.{places}f")


def _english_row(line: Line, text: Callable[..., str]) -> InvoiceRow:
    """A line of the month's bill for an English page: the units and numbers in English."""
    if line.unit == "kWh":
        quantity = f"{_english_number(line.quantity, 3, 3)}\u00a0kWh"
        price = f"NOK\u00a0{_english_number(line.unit_price, 4, 5)}/kWh"
    elif line.unit == "month":
        quantity = f"{_english_number(line.quantity, 0, 4)}\u00a0mo."
        price = f"NOK\u00a0{_english_number(line.unit_price, 2, 2)}/mo."
    elif line.unit == "NOK":  # VAT: its base and rate
        quantity = f"NOK\u00a0{_english_number(line.quantity, 2, 2)}"
        price = f"{_english_number(line.unit_price * 100, 0, 2)}\u00a0%"
    elif line.unit == "day":
        days = _english_number(line.quantity, 0, 4)
        quantity = f"{days}\u00a0{'day' if line.quantity == 1 else 'days'}"
        price = f"NOK\u00a0{_english_number(line.unit_price, 2, 4)}/day"
    else:
        quantity = f"{_english_number(line.quantity, 0, 4)}\u00a0{line.unit}"
        price = f"NOK\u00a0{_english_number(line.unit_price, 2, 5)}/{line.unit}"
    amount = f"NOK\u00a0{_english_number(line.amount, 2, 2)}"
    label = _line_text(line, text)
    if line.code.startswith("energy_") and label == line.text:  # the tariff's own name
        label = text("Energiledd (%(name)s)", name=line.text)
    return InvoiceRow(label, quantity, price, amount, line.estimated)


def _bill_rows(content: InvoiceContent, lines: tuple[Line, ...]) -> tuple[InvoiceRow, ...]:
    """The month's bill lines in the language of the request: in bokmål as the invoice
    prints them, otherwise translated with the numbers written the English way."""
    if current() == DEFAULT:
        return content.rows
    text = gettext_for(current())
    return tuple(_english_row(line, text) for line in lines)


def _spot_price(value: Decimal, english: bool) -> str:
    """A spot price per kWh: ``0,4123 kr/kWh``, or ``NOK 0.4123/kWh`` in English."""
    if english:
        return f"NOK\u00a0{value:.4f}/kWh"
    return f"{value:.4f} kr/kWh".replace(".", ",")


def _series_json(
    points: tuple[UsePoint, ...], resolution: str, shift_s: int, text: Callable[..., str]
) -> dict[str, Any]:
    """A series for the chart, a list per field. ``x0``/``x1`` are the ends on the chart's
    wall-clock axis in milliseconds (:func:`chart_position_s`), moved by ``shift_s``; the
    labels are in the language of ``text``."""
    return {
        "start": [p.start.isoformat() for p in points],
        "end": [p.end.isoformat() for p in points],
        "wh": [p.import_wh for p in points],
        "estimated_wh": [p.estimated_wh for p in points],
        "missing": [p.missing for p in points],
        "status": [p.status for p in points],
        "label": [_point_label(p, resolution, text) for p in points],
        "x0": [(chart_position_s(p.start) + shift_s) * 1000 for p in points],
        "x1": [(chart_position_s(p.end) + shift_s) * 1000 for p in points],
    }


def _chart_json(found: Consumption) -> dict[str, Any]:
    """What the page embeds for its chart: this period, and last year's laid over it."""
    shift_s = (found.first - found.last_year_first).days * 86_400
    text = gettext_for(current())
    return {
        "metering_point_id": found.metering_point_id,
        "resolution": found.resolution,
        "current": _series_json(found.points, found.resolution, 0, text),
        "last_year": _series_json(found.last_year, found.resolution, shift_s, text),
    }


def add_routes(app: FastAPI, web: Web) -> None:
    """Register the customer's pages."""
    plotly_src = f"/static/plotly.min.js?v={metadata.version('plotly')}"
    for language, env in web.envs.items():
        text = gettext_for(language)
        english = language != DEFAULT
        env.filters["month"] = lambda month, text=text: _month_text(month, text)
        env.filters["day_of_month"] = lambda day, text=text: _day_of_month(day, text)
        env.filters["spot"] = lambda value, english=english: _spot_price(value, english)

    def today() -> date:
        return datetime.fromtimestamp(web.now_s(), UTC).astimezone(OSLO).date()

    def customer(request: Request) -> tuple[Session, str, list[str]]:
        """The customer's session, customer id and metering points."""
        session = web.require(request, "customer")
        customer_id = session.account.customer_id
        if customer_id is None:  # pragma: no cover - a customer account names its customer
            raise HTTPException(403)
        return session, customer_id, SqlSettlementStore(web.store).points_of_customer(customer_id)

    def own_point(points: list[str], mp: str | None) -> str | None:
        """The metering point asked for, which must be the customer's (else 404)."""
        if mp is None or mp == "":
            return points[0] if points else None
        if mp not in points:
            raise HTTPException(404)
        return mp

    def supplied(mp: str, customer_id: str) -> SuppliedDays:
        periods = SqlSettlementStore(web.store).supply_periods([mp], date.min, date.max)
        return supplied_days(periods, mp, customer_id)

    def bad_request(session: Session, message: str) -> HTMLResponse:
        shown = web.text(message, **_MESSAGE_VALUES)
        return web.page("error.html.j2", 400, session=session, message=shown)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        headers = {
            "Cache-Control": f"public, max-age={_STATIC_MAX_AGE_S}, immutable",
            "Vary": "Accept-Encoding",
        }
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["Content-Encoding"] = "gzip"
            return Response(_plotly_js_gzip(), media_type="text/javascript", headers=headers)
        return Response(_plotly_js(), media_type="text/javascript", headers=headers)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(request: Request) -> Response:
        # On the event loop, not in a worker thread: its reads take about a millisecond,
        # less than the hop to a thread and back costs under load (BENCHMARKS.md, portal).
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
        return web.page("overview.html.j2", session=session, months=months, nav="overview")

    @app.get("/consumption", response_class=HTMLResponse, include_in_schema=False)
    def consumption_page(
        request: Request,
        mp: str | None = None,
        resolution: str | None = None,
        from_: str | None = Query(None, alias="from"),
        to: str | None = None,
    ) -> Response:
        session, customer_id, points = customer(request)
        point = own_point(points, mp)
        values: dict[str, Any] = {
            "session": session,
            "nav": "consumption",
            "points": points,
            "mp": point,
        }
        if point is None:
            return web.page("consumption.html.j2", **values, found=None)
        try:
            first, last = _period(from_, to, today() - timedelta(days=6), today())
            found = consumption(
                SqlValueStore(web.store), point, first, last, resolution or None,
                push_interval_s=SqlEditStore(web.store).resolution_of(point),
                supplied=supplied(point, customer_id),
            )  # fmt: skip
        except _BadRequest as exc:
            return bad_request(session, exc.message)
        except PeriodRefused as exc:
            return bad_request(session, _PERIOD_MESSAGES[exc.code])
        return web.page(
            "consumption.html.j2", **values, found=found, chart=_chart_json(found),
            plotly_src=plotly_src,
        )  # fmt: skip

    @app.get("/prices", response_class=HTMLResponse, include_in_schema=False)
    def prices_page(request: Request, mp: str | None = None) -> Response:
        session, _customer_id, points = customer(request)
        point = own_point(points, mp)
        values: dict[str, Any] = {
            "session": session,
            "nav": "prices",
            "points": points,
            "mp": point,
        }
        if point is None:
            return web.page("prices.html.j2", **values)
        settlements, prices = SqlSettlementStore(web.store), SqlPriceStore(web.store)
        area = settlements.metering_points(point)[0].area
        days = [
            (day, hourly_prices_nok(prices, area, *local_day_bounds(day)))
            for day in (today(), today() + timedelta(days=1))
        ]
        month = month_to_date(settlements, prices, point, web.tariff, web.taxes,
                              now_s=web.now_s())  # fmt: skip
        content, cheapest = None, set()
        rows: tuple[InvoiceRow, ...] = ()
        if month is not None:
            # The lines as the invoice will print them; the party's names are not shown here.
            party = InvoiceParty(web.tariff.company, "", "", "", "", month.settlement.customer_id)
            content = invoice_content(month.settlement, party)
            rows = _bill_rows(content, month.settlement.lines)
            cheapest = {h.start_at_s for h in (*month.cheapest_today, *month.cheapest_tomorrow)}
        return web.page(
            "prices.html.j2", **values, area=area, days=days, month=month, content=content,
            rows=rows, cheapest=cheapest,
        )  # fmt: skip

    @app.get("/invoices", response_class=HTMLResponse, include_in_schema=False)
    def invoices_page(request: Request) -> Response:
        session, customer_id, _points = customer(request)
        runs = customer_invoices(SqlCustomerDataStore(web.store), customer_id)
        return web.page("invoices.html.j2", session=session, nav="invoices", runs=runs)

    @app.get(
        "/invoices/{metering_point_id}/{month}/{version}.pdf",
        response_class=Response,
        include_in_schema=False,
    )
    def invoice_pdf(request: Request, metering_point_id: str, month: str, version: str) -> Response:
        _session, customer_id, _points = customer(request)
        if not (_MONTH_FORMAT.fullmatch(month) and _VERSION_FORMAT.fullmatch(version)):
            raise HTTPException(404)
        pdf = customer_invoice_pdf(SqlSettlementStore(web.store), customer_id,
                                   metering_point_id, month, int(version))  # fmt: skip
        if pdf is None:
            raise HTTPException(404)
        # The run was found under this metering point, so its id is a plain GSRN.
        name = f"faktura_{metering_point_id}_{month}_v{version}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**_PRIVATE, "Content-Disposition": f'inline; filename="{name}"'},
        )

    @app.get("/my-data", response_class=HTMLResponse, include_in_schema=False)
    def my_data_page(request: Request) -> Response:
        session, _customer_id, points = customer(request)
        return web.page("my_data.html.j2", session=session, nav="my-data", points=points,
                        first=today() - timedelta(days=30), last=today(),
                        max_days=MAX_DAYS)  # fmt: skip

    @app.get("/my-data/values.csv", include_in_schema=False)
    def values_csv_file(
        request: Request,
        mp: str | None = None,
        from_: str | None = Query(None, alias="from"),
        to: str | None = None,
    ) -> Response:
        session, customer_id, points = customer(request)
        point = own_point(points, mp)
        if point is None:
            raise HTTPException(404)
        try:
            first, last = _period(from_, to, today() - timedelta(days=30), today())
        except _BadRequest as exc:
            return bad_request(session, exc.message)
        found = customer_values(SqlCustomerDataStore(web.store), point,
                                supplied(point, customer_id), first, last)  # fmt: skip
        name = f"verdier_{point}_{first.isoformat()}_{last.isoformat()}.csv"
        return Response(
            values_csv(point, found),
            media_type="text/csv; charset=utf-8",
            headers={**_PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/my-data/everything.json", include_in_schema=False)
    def everything_json(request: Request) -> Response:
        _session, customer_id, _points = customer(request)
        document = customer_export(SqlCustomerDataStore(web.store), customer_id,
                                   now_s=web.now_s())  # fmt: skip
        return Response(
            json.dumps(document, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers={
                **_PRIVATE,
                "Content-Disposition": 'attachment; filename="mine-data-openams.json"',
            },
        )

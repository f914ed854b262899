"""The customer's pages over HTTP (FastAPI's test client), on SQLite and PostgreSQL:
consumption with its chart data, prices and the month's cost, invoices as PDF, and the
customer's own data as CSV and JSON — each for the owner only, with a plain 400 or 404 page
for anything else."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from openams.config import Settings
from openams.services.accounts import create_account
from openams.services.consumption import consumption
from openams.services.invoice import format_kwh, format_nok
from openams.services.month_to_date import month_to_date
from openams.services.ports import WrappedMeter
from openams.services.prices import hourly_prices_nok
from openams.services.settlement import SupplyPeriod, settle_month
from openams.services.vee import ValueRow, local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlValueStore
from openams.store.vee import SqlVeeStore
from openams.web import create_app
from tests.integration.test_settlement_store import CABIN_MP, HOURS, OSLO_MP, TROMSO_MP, _seed
from tests.integration.test_web import NOW_S, PASSWORD, _log_in
from tests.unit.domain.test_settlement import TARIFF, TAXES

UNKNOWN_MP = "707057500000000999"
EK_WRAPPED = bytes(range(0x40, 0x68))  # the meter's keys as stored: must never be shown
AK_WRAPPED = bytes(range(0x90, 0xB8))
LAST_JAN = local_day_bounds(date(2025, 1, 1))[0], local_day_bounds(date(2025, 1, 10))[1]


@pytest.fixture
def portal(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        title = bytes.fromhex("4b464d1020000001")
        meter = WrappedMeter("M-OSLO", OSLO_MP, "Kaifa", "MA304H3E", 3, title, EK_WRAPPED,
                             AK_WRAPPED, "kek-1", 3600)  # fmt: skip
        SqlEstateStore(store).save_estate([], [], [], [meter])
        # Last January for the comparison: 1 kWh an hour, one hour estimated.
        SqlVeeStore(store).save_values(
            [
                ValueRow(OSLO_MP, 3600, h, 1000, 0, None, None,
                         "estimated" if h == LAST_JAN[0] + 30 * 3600 else "measured", None, None)
                for h in range(*LAST_JAN, 3600)
            ],
            now_s=1,
        )  # fmt: skip
        settlements = SqlSettlementStore(store)
        # The cabin changes hands on 16 January: C3 sees it until the 15th, then C4 has it.
        settlements.save_supply(SupplyPeriod(CABIN_MP, date(2020, 1, 1), date(2026, 1, 15), "C3"))
        settlements.save_supply(SupplyPeriod(CABIN_MP, date(2026, 1, 16), None, "C4", True))
        prices = SqlPriceStore(store)
        assert settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=10).problems == []
        # A correction of Oslo's estimated hour: a re-settlement, version 2.
        SqlVeeStore(store).save_values(
            [ValueRow(OSLO_MP, 3600, HOURS[100], 9500, 0, None, None, "measured", None, None)],
            now_s=20,
        )
        settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=30,
                     metering_point_id=OSLO_MP)  # fmt: skip
        accounts = SqlAccountStore(store)
        for email, customer in (("c1", "C1"), ("c2", "C2"), ("c3", "C3")):
            create_account(accounts, f"{email}@example.no", PASSWORD, "customer", customer,
                           now_s=1)  # fmt: skip
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as client:
        yield client, store_url


def _as(portal, email):
    client, url = portal
    assert _log_in(client, email).status_code == 303
    return client, url


def _with_store(url, work):
    store = open_store(url)
    try:
        return work(store)
    finally:
        store.close()


def _chart(page_text):
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>',
                      page_text, re.S)  # fmt: skip
    assert found, page_text
    return json.loads(found.group(1))


def _field(page_text, name):
    found = re.search(rf'data-field="{name}">([^<]+)<', page_text)
    assert found, name
    return found.group(1)


PAGES = ["/consumption", "/prices", "/invoices", "/my-data"]


def test_every_page_renders_for_its_owner_with_the_menu(portal):
    client, _ = _as(portal, "c1@example.no")
    for path in ["/", *PAGES]:
        page = client.get(path)
        assert page.status_code == 200, path
        for link in PAGES:
            assert f'href="{link}"' in page.text
        assert page.text.count(' aria-current="page">') == 1
        assert TROMSO_MP not in page.text
    assert OSLO_MP in client.get("/consumption").text
    assert OSLO_MP in client.get("/prices").text


def test_the_chart_shows_the_services_series_and_last_year(portal):
    client, url = _as(portal, "c1@example.no")
    page = client.get(f"/consumption?mp={OSLO_MP}&from=2026-01-04&to=2026-01-06&resolution=hour")
    assert page.status_code == 200
    chart = _chart(page.text)
    expected = _with_store(url, lambda store: consumption(
        SqlValueStore(store), OSLO_MP, date(2026, 1, 4), date(2026, 1, 6), "hour",
        push_interval_s=3600))  # fmt: skip
    assert chart["resolution"] == "hour"
    for name, points in (("current", expected.points), ("last_year", expected.last_year)):
        series = chart[name]
        assert series["start"] == [p.start.isoformat() for p in points]
        assert series["end"] == [p.end.isoformat() for p in points]
        assert series["wh"] == [p.import_wh for p in points]
        assert series["estimated_wh"] == [p.estimated_wh for p in points]
        assert series["status"] == [p.status for p in points]
        assert all(a < b for a, b in zip(series["x0"], series["x1"], strict=True))
    assert len(chart["current"]["wh"]) == 72
    assert sum(chart["last_year"]["wh"]) == 72_000
    assert _field(page.text, "total") == format_kwh(expected.import_kwh)
    assert _field(page.text, "last-year") == format_kwh(Decimal(72))


def test_estimated_hours_are_flagged_in_the_chart_and_the_table(portal):
    client, _ = _as(portal, "c1@example.no")
    # HOURS[100] (5 January, 04:00) was estimated; the re-settlement's correction measured it,
    # so look at last January's estimated hour (2 January 2025, 06:00) through the comparison.
    page = client.get(f"/consumption?mp={OSLO_MP}&from=2026-01-02&to=2026-01-02&resolution=hour")
    last_year = _chart(page.text)["last_year"]
    flagged = [i for i, wh in enumerate(last_year["estimated_wh"]) if wh]
    assert flagged == [6]
    assert last_year["status"][6] == "estimated"
    assert last_year["label"][6] == "02.01.2025 kl. 06:00\u201307:00"
    by_day = client.get(f"/consumption?mp={OSLO_MP}&from=2025-01-01&to=2025-01-03&resolution=day")
    current = _chart(by_day.text)["current"]
    assert current["estimated_wh"] == [0, 1000, 0]
    assert current["wh"] == [24_000, 24_000, 24_000]
    assert _field(by_day.text, "estimated") == format_kwh(Decimal(1))
    assert by_day.text.count('<tr class="estimated">') == 1
    assert "Estimert" in by_day.text


def test_days_and_months_sum_the_hours_on_the_page(portal):
    client, _ = _as(portal, "c1@example.no")
    base = f"/consumption?mp={OSLO_MP}&from=2026-01-01&to=2026-01-31&resolution="
    hours = _chart(client.get(base + "hour").text)["current"]
    days = _chart(client.get(base + "day").text)["current"]
    months = _chart(client.get(base + "month").text)["current"]
    assert len(days["wh"]) == 31
    assert len(months["wh"]) == 1
    assert sum(hours["wh"]) == sum(days["wh"]) == months["wh"][0] == 743 * 1500 + 9500
    assert months["label"] == ["januar 2026"]


def test_quarter_hours_where_the_point_is_metered_by_the_quarter(portal):
    client, _ = _as(portal, "c2@example.no")
    page = client.get(f"/consumption?mp={TROMSO_MP}&from=2026-01-13&to=2026-01-13")
    assert page.status_code == 200
    chart = _chart(page.text)
    assert chart["resolution"] == "quarter"  # the default for a day of a quarter-hour point
    assert len(chart["current"]["wh"]) == 96
    assert '<option value="quarter"' in page.text
    hourly = _chart(client.get(f"/consumption?mp={TROMSO_MP}&from=2026-01-13&to=2026-01-13"
                               "&resolution=hour").text)  # fmt: skip
    assert hourly["current"]["wh"].count(None) == 1  # HOURS[300] has a rejected quarter
    client, _ = _as(portal, "c1@example.no")
    refused = client.get(f"/consumption?mp={OSLO_MP}&resolution=quarter")
    assert refused.status_code == 400
    assert "har ikke kvartersverdier" in refused.text
    assert '<option value="quarter"' not in client.get("/consumption").text


def test_plotly_is_served_from_the_installed_package(portal):
    client, _ = portal
    shipped = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    served = client.get("/static/plotly.min.js")  # public, like any library file
    assert served.status_code == 200
    assert served.content == shipped
    assert served.headers["content-type"].startswith("text/javascript")
    max_age = re.search(r"max-age=(\d+)", served.headers["cache-control"])
    assert max_age
    assert int(max_age.group(1)) >= 365 * 86_400
    # Compressed for a browser that takes gzip (the client unpacks it: the same bytes above)
    assert served.headers["content-encoding"] == "gzip"
    assert int(served.headers["content-length"]) < len(shipped) // 3
    plain = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == shipped
    client, _ = _as(portal, "c1@example.no")
    page = client.get("/consumption")
    sources = re.findall(r'<script[^>]* src="([^"]+)"', page.text)
    assert len(sources) == 1
    assert sources[0].startswith("/static/plotly.min.js?v=")
    assert "://" not in page.text.split("<main>", 1)[1]  # nothing from elsewhere


def test_prices_of_today_and_tomorrow_and_the_months_cost(portal):
    client, url = _as(portal, "c1@example.no")
    page = client.get(f"/prices?mp={OSLO_MP}")
    assert page.status_code == 200
    today, tomorrow = date(2026, 1, 20), date(2026, 1, 21)
    for day in (today, tomorrow):
        hours = _with_store(url, lambda store, day=day: hourly_prices_nok(
            SqlPriceStore(store), "NO1", *local_day_bounds(day)))  # fmt: skip
        table = page.text.split(f'data-day="{day.isoformat()}"', 1)[1].split("</table>", 1)[0]
        shown = re.findall(r'data-field="price">([^<]+)<', table)
        assert shown == [f"{h.nok_per_kwh:.4f} kr/kWh".replace(".", ",") for h in hours]
        assert len(shown) == 24
    assert page.text.count('data-field="cheap"') == 6  # three a day
    month = _with_store(url, lambda store: month_to_date(
        SqlSettlementStore(store), SqlPriceStore(store), OSLO_MP, TARIFF, TAXES,
        now_s=NOW_S))  # fmt: skip
    assert month is not None
    amounts = re.findall(r'data-field="line-amount">([^<]+)<', page.text)
    assert amounts == [format_nok(line.amount) for line in month.settlement.lines]
    assert _field(page.text, "month-total") == format_nok(month.settlement.total_nok)


def test_invoices_are_listed_newest_first_and_open_as_pdf(portal):
    client, url = _as(portal, "c1@example.no")
    page = client.get("/invoices")
    assert page.status_code == 200
    runs = re.findall(r'data-run="([^"]+)"', page.text)
    assert runs == [f"{OSLO_MP}/2026-01/2", f"{OSLO_MP}/2026-01/1"]
    assert "korreksjon" in page.text
    billed = _with_store(url, lambda store: SqlSettlementStore(store).runs("2026-01", OSLO_MP))
    for run in billed:
        response = client.get(f"/invoices/{OSLO_MP}/2026-01/{run.version}.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert "no-store" in response.headers["cache-control"]
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        total = format_nok(abs(run.total_nok)).replace("\u00a0", " ")
        assert total in text.replace("\u00a0", " ")
        assert OSLO_MP in text
    assert client.get(f"/invoices/{OSLO_MP}/2026-01/3.pdf").status_code == 404


def test_the_csv_holds_the_stored_values_with_their_status(portal):
    client, url = _as(portal, "c1@example.no")
    response = client.get(f"/my-data/values.csv?mp={OSLO_MP}&from=2026-01-05&to=2026-01-06")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    start, end = local_day_bounds(date(2026, 1, 5))[0], local_day_bounds(date(2026, 1, 6))[1]
    stored = _with_store(url, lambda store: SqlValueStore(store).values(OSLO_MP, start, end))
    assert len(rows) == len(stored) == 48
    for row, value in zip(rows, stored, strict=True):
        assert row["metering_point_id"] == OSLO_MP
        assert int(row["resolution_s"]) == value.resolution_s
        assert int(row["import_wh"]) == value.import_wh
        assert int(row["export_wh"]) == value.export_wh
        assert row["status"] == value.status
    assert rows[0]["start"] == "2026-01-05T00:00:00+01:00"
    assert rows[4]["import_wh"] == "9500"  # HOURS[100], corrected


def test_the_export_holds_the_customers_data_and_nothing_else(portal):
    client, url = _as(portal, "c1@example.no")
    response = client.get("/my-data/everything.json")
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    text = response.text
    data = json.loads(text)
    assert data["customer"] == {"customer_id": "C1", "name": "Kunde C1", "mobile": "",
                                "email": ""}  # fmt: skip
    assert data["accounts"] == [{"email": "c1@example.no", "role": "customer",
                                 "created_at": "1970-01-01T01:00:01+01:00"}]  # fmt: skip
    assert [p["metering_point_id"] for p in data["metering_points"]] == [OSLO_MP]
    assert [m["meter_id"] for m in data["meters"]] == ["M-OSLO"]
    assert set(data["meters"][0]) == {
        "meter_id", "metering_point_id", "manufacturer", "meter_type", "phases", "system_title",
        "push_interval_s",
    }  # fmt: skip
    stored = _with_store(url, lambda store: SqlValueStore(store).values(OSLO_MP, 0, 2**40))
    assert len(data["values"][OSLO_MP]) == len(stored) == 744 + 240
    runs = _with_store(url, lambda store: SqlSettlementStore(store).runs("2026-01", OSLO_MP))
    newest_first = sorted(runs, key=lambda r: r.version, reverse=True)
    assert [(s["version"], s["total_nok"]) for s in data["settlements"]] == [
        (r.version, float(r.total_nok)) for r in newest_first
    ]
    for other in (TROMSO_MP, CABIN_MP, "Kunde C2", "Kunde C3", "c2@example.no", "drift@"):
        assert other not in text
    for secret in ("password", "argon2", "ek_wrapped", "ak_wrapped", "kek", "counter"):
        assert secret not in text.lower()
    for key in (EK_WRAPPED, AK_WRAPPED):
        assert key.hex() not in text
        assert key.hex().upper() not in text


def test_a_customer_who_moved_out_sees_only_their_own_days(portal):
    client, _ = _as(portal, "c3@example.no")
    chart = _chart(client.get(f"/consumption?mp={CABIN_MP}&from=2026-01-10&to=2026-01-20"
                              "&resolution=day").text)  # fmt: skip
    assert [s[:10] for s in chart["current"]["start"]] == [f"2026-01-{d}" for d in range(10, 16)]
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/my-data/values.csv?mp={CABIN_MP}&from=2026-01-01&to=2026-01-31").text)))  # fmt: skip
    assert rows[-1]["start"] == "2026-01-15T23:00:00+01:00"
    data = client.get("/my-data/everything.json").json()
    assert data["values"][CABIN_MP][-1]["start"] == "2026-01-15T23:00:00+01:00"
    assert [p["customer_id"] for p in data["metering_points"]] == ["C3"]
    assert [(p["from_day"], p["to_day"]) for p in data["supply_periods"]] == [
        ("2020-01-01", "2026-01-15")
    ]
    assert {s["customer_id"] for s in data["settlements"]} == {"C3"}
    assert all(v["start"] < "2026-01-16" for v in data["values"][CABIN_MP])
    assert re.findall(r'data-run="([^"]+)"', client.get("/invoices").text) == [
        f"{CABIN_MP}/2026-01/1"
    ]


OWN_ROUTES = [
    "/consumption?mp={mp}",
    "/consumption?mp={mp}&resolution=day&from=2026-01-01&to=2026-01-31",
    "/prices?mp={mp}",
    "/invoices/{mp}/2026-01/1.pdf",
    "/my-data/values.csv?mp={mp}",
    "/my-data/values.csv?mp={mp}&from=2026-01-01&to=2026-01-02",
]


def test_another_customers_metering_point_is_not_found(portal):
    client, _ = _as(portal, "c1@example.no")
    unknown = client.get("/no-such-page")
    for route in OWN_ROUTES:
        for mp in (TROMSO_MP, CABIN_MP, UNKNOWN_MP):
            response = client.get(route.format(mp=mp))
            assert response.status_code == 404, (route, mp)
            assert response.text == unknown.text
            assert mp not in response.text


def test_anonymous_visitors_are_sent_to_log_in_and_staff_are_refused(portal):
    client, _ = portal
    routes = [*PAGES, "/my-data/everything.json", *(r.format(mp=OSLO_MP) for r in OWN_ROUTES)]
    for route in routes:
        response = client.get(route)
        assert response.status_code == 303, route
        assert response.headers["location"] == "/login"
    client, _ = _as(portal, "drift@example.no")
    for route in routes:
        assert client.get(route).status_code == 403, route


BAD = [
    ("/consumption?from=2026-02-30", 400, "Ugyldig dato"),
    ("/consumption?from=yesterday", 400, "Ugyldig dato"),
    ("/consumption?from=20260101", 400, "Ugyldig dato"),
    ("/consumption?from=0001-01-01&to=0001-01-02", 400, "mellom 01.01.2000"),
    ("/consumption?from=2026-01-10&to=2026-01-01", 400, "slutter før den begynner"),
    ("/consumption?from=2024-01-01&to=2026-01-31", 400, "høyst 400 dager"),
    ("/consumption?resolution=week", 400, "Ukjent oppløsning"),
    ("/consumption?resolution=%3Cscript%3Ealert(1)%3C/script%3E", 400, "Ukjent oppløsning"),
    ("/consumption?from=%3Cscript%3Ealert(1)%3C/script%3E", 400, "Ugyldig dato"),
    ("/consumption?mp=%3Cscript%3Ealert(1)%3C/script%3E", 404, "Fant ikke siden"),
    ("/prices?mp=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", 404, "Fant ikke siden"),
    ("/my-data/values.csv?from=2026-01-01&to=2027-06-01", 400, "høyst 400 dager"),
    ("/my-data/values.csv?to=%3Cscript%3E", 400, "Ugyldig dato"),
    (f"/invoices/{OSLO_MP}/2026-13/1.pdf", 404, "Fant ikke siden"),
    (f"/invoices/{OSLO_MP}/2026-01/abc.pdf", 404, "Fant ikke siden"),
    (f"/invoices/{OSLO_MP}/2026-01/0.pdf", 404, "Fant ikke siden"),
    (f"/invoices/{OSLO_MP}/2026-01/99999999999999999999.pdf", 404, "Fant ikke siden"),
    ("/invoices/%3Cscript%3E/2026-01/1.pdf", 404, "Fant ikke siden"),
]


def test_bad_parameters_give_a_plain_page(portal):
    client, _ = _as(portal, "c1@example.no")
    for path, status, message in BAD:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert message in response.text, path
        assert "<script>" not in response.text, path
        assert "Traceback" not in response.text, path
        assert "alert(1)" not in response.text, path


def test_a_customer_without_metering_points_gets_empty_pages(portal):
    client, url = portal
    _with_store(url, lambda store: create_account(
        SqlAccountStore(store), "ny@example.no", PASSWORD, "customer", "C9", now_s=1))  # fmt: skip
    client, _ = _as(portal, "ny@example.no")
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
    assert "Ingen målepunkter" in client.get("/consumption").text
    assert "ingen fakturaer" in client.get("/invoices").text
    assert client.get("/my-data/values.csv").status_code == 404
    data = client.get("/my-data/everything.json").json()
    assert (data["customer"], data["metering_points"], data["values"]) == (None, [], {})


def test_the_default_period_is_the_last_seven_days(portal):
    client, _ = _as(portal, "c1@example.no")
    chart = _chart(client.get("/consumption").text)
    assert chart["resolution"] == "hour"
    first = date(2026, 1, 20) - timedelta(days=6)
    assert chart["current"]["start"][0] == f"{first.isoformat()}T00:00:00+01:00"
    assert len(chart["current"]["start"]) == 7 * 24

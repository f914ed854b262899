"""The console's settlement pages on SQLite and PostgreSQL: the months settled with their
counts and the amount billed in all, a month's runs a page at a time, who may see them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.accounts import create_account
from openams.services.invoice import format_nok
from openams.services.settlement import SupplyPeriod, settle_month
from openams.services.settlement_overview import month_runs
from openams.services.vee import ValueRow, local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.prices import SqlPriceStore
from openams.store.schema import access_log, settlements
from openams.store.settlement import SqlSettlementStore
from openams.store.settlement_overview import SqlSettlementOverviewStore
from openams.store.vee import SqlVeeStore
from openams.web import create_app
from tests.integration.test_settlement_store import CABIN_MP, HOURS, OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 2, 3))[0] + 12 * 3600


@pytest.fixture
def world(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        runs, prices = SqlSettlementStore(store), SqlPriceStore(store)
        runs.save_supply(SupplyPeriod(CABIN_MP, date(2020, 1, 1), date(2026, 1, 15), "C3"))
        runs.save_supply(SupplyPeriod(CABIN_MP, date(2026, 1, 16), None, "C4", True))
        settle_month(runs, prices, "2026-01", TARIFF, TAXES, now_s=NOW_S - 7200)
        # The estimated hour is measured after all: a re-settlement of Oslo.
        SqlVeeStore(store).save_values(
            [ValueRow(OSLO_MP, 3600, HOURS[100], 9500, 0, None, None, "measured", None, None)],
            now_s=NOW_S - 3700,
        )
        settle_month(runs, prices, "2026-01", TARIFF, TAXES, now_s=NOW_S - 3600,
                     metering_point_id=OSLO_MP)  # fmt: skip
        accounts = SqlAccountStore(store)
        for role in ("customer", "operator", "installer"):
            create_account(accounts, f"{role}@example.no", PASSWORD, role,
                           "C1" if role == "customer" else None, now_s=1)  # fmt: skip
        stored = runs.runs("2026-01")
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as client:
        yield client, store_url, stored


def _log_in(client: TestClient, email: str) -> None:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 303


def _fields(text: str, name: str) -> list[str]:
    found = re.findall(rf'data-field="{name}">([^<]*)<', text)
    return [value.replace("\u00a0", " ") for value in found]


def _nok(value: Decimal) -> str:
    return format_nok(value).replace("\u00a0", " ")


def test_the_months_page_counts_the_runs_and_sums_what_they_billed(world):
    client, _, stored = world
    _log_in(client, "operator@example.no")
    page = client.get("/console/settlements")
    assert page.status_code == 200
    billed = sum((run.total_nok for run in stored), Decimal(0))
    assert _fields(page.text, "points") == ["3"]
    assert _fields(page.text, "settlements") == ["4"]  # Oslo, Tromsø, the cabin twice
    assert _fields(page.text, "resettlements") == ["1"]
    assert _fields(page.text, "billed") == [_nok(billed)]
    assert 'href="/console/settlements/2026-01"' in page.text


def test_a_months_runs_are_listed_largest_amount_first(world):
    client, _, stored = world
    _log_in(client, "installer@example.no")  # every staff role may look
    page = client.get("/console/settlements/2026-01")
    assert page.status_code == 200
    totals = sorted((run.total_nok for run in stored), reverse=True)
    assert _fields(page.text, "run-total") == [_nok(t) for t in totals]
    by_point = client.get("/console/settlements/2026-01", params={"order": "metering_point"})
    rows = re.findall(r'data-run="(\d{18})-([\d-]{10})-(\d+)"', by_point.text)
    assert rows == sorted(rows)
    assert (OSLO_MP, "2026-01-01", "2") in rows
    assert (TROMSO_MP, "2026-01-01", "1") in rows
    assert 'href="/console/mp/' + CABIN_MP + '"' in by_point.text


def test_opening_a_month_is_written_to_the_access_log(world):
    client, url, _ = world
    _log_in(client, "operator@example.no")
    client.get("/console/settlements/2026-01", params={"page": "1"})
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(sa.select(access_log.c.action, access_log.c.detail)).all()
    finally:
        store.close()
    assert ("view_settlements", "2026-01 page 1") in [tuple(r) for r in rows]


@pytest.mark.parametrize(
    "path",
    [
        "/console/settlements/2026-13",
        "/console/settlements/26-01",
        "/console/settlements/2026-01?page=0",
        "/console/settlements/2026-01?page=abc",
        "/console/settlements/2026-01?page=" + "9" * 40,
        "/console/settlements/2026-01?order=%3Cscript%3E",
    ],
)
def test_bad_months_orders_and_pages_get_a_plain_400(world, path):
    client, _, _ = world
    _log_in(client, "operator@example.no")
    page = client.get(path)
    assert page.status_code == 400
    assert "Ugyldig måned, sortering eller side" in page.text
    assert "<script>" not in page.text
    assert "Traceback" not in page.text


def test_a_month_without_runs_is_not_found_and_customers_are_refused(world):
    client, _, _ = world
    assert client.get("/console/settlements").headers["location"] == "/login"
    _log_in(client, "customer@example.no")
    assert client.get("/console/settlements").status_code == 403
    assert client.get("/console/settlements/2026-01").status_code == 403
    client.cookies.clear()
    _log_in(client, "operator@example.no")
    empty = client.get("/console/settlements/2025-12")
    assert empty.status_code == 404
    assert "Ingenting er avregnet for denne måneden." in empty.text


def test_english_pages(world):
    client, _, _ = world
    _log_in(client, "operator@example.no")
    page = client.get("/console/settlements", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Billed in all" in page.text
    assert "Fakturert" not in page.text
    assert re.search(r'data-field="billed">NOK\u00a0[\d,]+\.\d\d<', page.text)


def test_a_total_written_another_way_is_still_summed_exactly(world):
    _, url, stored = world
    store = open_store(url)
    try:
        with store.engine.begin() as connection:
            row = connection.execute(sa.select(settlements).limit(1)).mappings().one()
            connection.execute(settlements.insert(), {**row, "version": 99,
                                                      "total_nok": "0.105"})  # fmt: skip
        summary = SqlSettlementOverviewStore(store).month_summary("2026-01")
        found = month_runs(SqlSettlementOverviewStore(store), "2026-01", order="amount")
    finally:
        store.close()
    assert summary.billed_nok == sum((r.total_nok for r in stored), Decimal(0)) + Decimal("0.105")
    assert summary.settlements + summary.resettlements == len(stored) + 1
    assert found.pages == 1
    assert len(found.runs) == len(stored) + 1

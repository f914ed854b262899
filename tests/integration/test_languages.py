"""The portal and the console in English and in bokmål, over HTTP on SQLite and PostgreSQL:
the language comes from the browser (Accept-Language) or from the switch in the header
(``/language/{code}``, a cookie), every page then speaks it, numbers are written its way,
and the switch leads back to the page it was used on and never to another site."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.accounts import create_account
from openams.services.invoice import InvoiceParty
from openams.services.invoice_content import invoice_content
from openams.services.month_to_date import month_to_date
from openams.services.prices import hourly_prices_nok
from openams.services.settlement import settle_month
from openams.services.vee import ValueRow, local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.vee import SqlVeeStore
from openams.web import create_app
from openams.web.i18n import LANG_COOKIE, catalog
from tests.integration.test_settlement_store import HOURS, OSLO_MP, _seed
from tests.integration.test_web import NOW_S, PASSWORD, _csrf, _log_in
from tests.unit.domain.test_settlement import TARIFF, TAXES

#: The customer's pages and the first heading each has in English.
CUSTOMER_PAGES = {
    "/": "This month",
    f"/consumption?mp={OSLO_MP}&from=2026-01-05&to=2026-01-06": "Consumption",
    f"/prices?mp={OSLO_MP}": "Prices and cost",
    "/invoices": "Invoices",
    "/my-data": "My data",
    "/access": "Access for others",
}
#: The console's pages and their first heading in English (the audit log: administrators).
CONSOLE_PAGES = {
    "/console": "Operations console",
    "/console/search?q=Oslo": "Search",
    f"/console/mp/{OSLO_MP}": f"Metering point {OSLO_MP}",
    "/console/audit": "Access log",
}
#: Words of the bokmål menus and buttons, as the header and the console's menu show them.
BOKMAL_MENU = [">Oversikt<", ">Forbruk<", ">Priser<", ">Fakturaer<", ">Mine data<", ">Tilgang<",
               ">Logg ut<", ">Søk<", ">Tilgangslogg<", '"Meny"', '"Konsoll"']  # fmt: skip
ENGLISH_MENU = [">Overview<", ">Consumption<", ">Prices<", ">Invoices<", ">My data<",
                ">Access<", ">Log out<"]  # fmt: skip


@pytest.fixture
def site(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        settlements, prices = SqlSettlementStore(store), SqlPriceStore(store)
        assert settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=10).problems == []
        # a correction of the estimated hour: a re-settlement, version 2
        SqlVeeStore(store).save_values(
            [ValueRow(OSLO_MP, 3600, HOURS[100], 9500, 0, None, None, "measured", None, None)],
            now_s=20,
        )
        settle_month(settlements, prices, "2026-01", TARIFF, TAXES, now_s=30,
                     metering_point_id=OSLO_MP)  # fmt: skip
        accounts = SqlAccountStore(store)
        create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
        create_account(accounts, "admin@example.no", PASSWORD, "administrator", None, now_s=1)
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as client:
        yield client, store_url


def _month(url):
    store = open_store(url)
    try:
        return month_to_date(SqlSettlementStore(store), SqlPriceStore(store), OSLO_MP, TARIFF,
                             TAXES, now_s=NOW_S)  # fmt: skip
    finally:
        store.close()


def _heading(text):
    found = re.search(r"<h1>([^<]*)</h1>", text)
    assert found, text
    return html.unescape(found.group(1))


def _fields(text, name):
    return [html.unescape(v) for v in re.findall(rf'data-field="{name}">([^<]*)<', text)]


def _visible(text):
    """The page's text as a reader sees it: no scripts, no tags, entities resolved."""
    text = re.sub(r"<script.*?</script>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _untranslated(text):
    """Bokmål texts of two words or more that a page shows although they have English."""
    visible = _visible(text)
    return sorted(
        source
        for source, english in catalog("en").items()
        if english != source and " " in source and "%(" not in source and source in visible
    )


def _english(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


def test_the_browsers_language_gives_every_customer_page_in_english(site):
    client, _ = site
    client.headers["Accept-Language"] = "en-GB,en;q=0.9,nb;q=0.5"
    assert _log_in(client, "c1@example.no").status_code == 303
    for path, heading in CUSTOMER_PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text, path
        assert _heading(page.text) == heading, path
        for word in BOKMAL_MENU:
            assert word not in page.text, (path, word)
        for word in ENGLISH_MENU:
            assert word in page.text, (path, word)
        assert _untranslated(page.text) == [], path


def test_the_english_overview_shows_the_services_numbers_the_english_way(site):
    client, url = site
    client.headers["Accept-Language"] = "en"
    _log_in(client, "c1@example.no")
    page = client.get("/").text
    month = _month(url)
    assert month is not None
    s = month.settlement
    assert _fields(page, "energy") == [f"{_english(s.energy_kwh, 3)}\u00a0kWh"]
    assert _fields(page, "cost") == [f"NOK\u00a0{_english(s.total_nok, 2)}"]
    assert "," in _fields(page, "cost")[0] or s.total_nok < 1000  # thousands are grouped
    assert _fields(page, "step")[0].startswith(f"{s.capacity_step} kW")
    assert len(_fields(page, "cheap")) == 3
    assert all(not cheap.startswith("kl.") for cheap in _fields(page, "cheap"))


def test_the_english_prices_page_translates_the_bill_and_keeps_its_amounts(site):
    client, url = site
    client.headers["Accept-Language"] = "en"
    _log_in(client, "c1@example.no")
    page = client.get(f"/prices?mp={OSLO_MP}").text
    month = _month(url)
    lines = month.settlement.lines
    amounts = [f"NOK\u00a0{_english(line.amount, 2)}" for line in lines]
    assert _fields(page, "line-amount") == amounts
    assert _fields(page, "month-total") == [f"NOK\u00a0{_english(month.settlement.total_nok, 2)}"]
    texts = [t.removesuffix(" *") for t in _fields(page, "line-text")]
    assert len(texts) == len(lines)
    for shown, line in zip(texts, lines, strict=True):
        assert shown != line.text  # every line in English, the tariff's rates too
    assert any(t.startswith("Capacity charge, step") for t in texts)
    assert any(t.startswith("Energy charge (") for t in texts)  # a rate the catalog lacks
    assert any(t.startswith("VAT ") for t in texts)
    store = open_store(url)
    try:
        hours = hourly_prices_nok(SqlPriceStore(store), "NO1", *local_day_bounds(date(2026, 1, 20)))
    finally:
        store.close()
    table = page.split('data-day="2026-01-20"', 1)[1].split("</table>", 1)[0]
    assert _fields(table, "price") == [f"NOK\u00a0{h.nok_per_kwh:.4f}/kWh" for h in hours]
    assert _fields(page, "capacity-text")[0].startswith("The capacity charge is based on")
    assert "January" in _fields(page, "capacity-text")[0]
    assert _fields(page, "energy-text")[0].startswith("Consumption in the period: ")


def test_in_bokmal_the_prices_page_says_what_the_invoice_will_print(site):
    client, url = site
    _log_in(client, "c1@example.no")
    page = client.get(f"/prices?mp={OSLO_MP}").text
    assert '<html lang="nb">' in page
    settlement = _month(url).settlement
    content = invoice_content(settlement, InvoiceParty("", "", "", "", "", "C1"))
    assert _fields(page, "energy-text") == [content.energy_text]
    assert _fields(page, "capacity-text") == [content.capacity_text]
    assert _fields(page, "line-text") == [
        row.text + (" *" if row.estimated else "") for row in content.rows]  # fmt: skip
    assert _fields(page, "estimated-note") == (
        [content.estimated_note] if content.estimated_note else [])  # fmt: skip
    assert _fields(page, "missing-text") == ([content.missing_text] if content.missing_text else [])
    assert _fields(page, "month-total") == [content.total]


def test_the_english_chart_and_invoices_name_months_and_hours_in_english(site):
    client, _ = site
    client.headers["Accept-Language"] = "en"
    _log_in(client, "c1@example.no")
    base = f"/consumption?mp={OSLO_MP}&from=2026-01-01&to=2026-01-31&resolution="
    months = client.get(base + "month").text
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', months, re.S).group(1))
    assert chart["current"]["label"] == ["January 2026"]
    hours = client.get(base.replace("01-31", "01-01") + "hour").text
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', hours, re.S).group(1))
    assert chart["current"]["label"][17] == "01.01.2026 17:00\u201318:00"
    texts = json.loads(re.search(r'id="chart-texts">(.*?)</script>', hours, re.S).group(1))
    assert texts["locale"] == "en"
    assert (texts["measured"], texts["estimated"]) == ("Measured", "Estimated")
    invoices = client.get("/invoices").text
    assert "January 2026 (correction, version 2)" in invoices
    assert "januar" not in invoices


def test_every_console_page_is_in_english_for_staff(site):
    client, _ = site
    client.headers["Accept-Language"] = "en"
    _log_in(client, "admin@example.no")
    for path, heading in CONSOLE_PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text, path
        assert _heading(page.text) == heading, path
        for word in BOKMAL_MENU:
            assert word not in page.text, (path, word)
        assert ">Search<" in page.text, path
        assert ">Log out<" in page.text, path
        assert _untranslated(page.text) == [], path
    point = client.get(f"/console/mp/{OSLO_MP}").text
    assert ">Measured<" in point
    assert ">Målt<" not in point
    board = client.get("/console").text
    assert "Meters heard from in the last 24 hours" in board
    assert "," not in _fields(board, "pushes-per-minute")[0]  # a decimal point


def test_refusals_and_errors_are_told_in_english(site):
    client, _ = site
    client.headers["Accept-Language"] = "en"
    assert "Wrong e-mail or password." in _log_in(client, "c1@example.no", "wrong one").text
    _log_in(client, "c1@example.no")
    for path, message in [
        ("/consumption?from=2026-02-30", "Invalid date. Write the date as YYYY-MM-DD"),
        ("/consumption?from=2024-01-01&to=2026-01-31", "at most 400 days"),
        ("/consumption?from=0001-01-01", "between 01.01.2000 and 31.12.2099"),
        ("/consumption?resolution=%3Cscript%3Ealert(1)%3C/script%3E", "Unknown resolution"),
        ("/no-such-page", "Page not found."),
        ("/console", "Not allowed."),
    ]:
        page = client.get(path)
        assert page.status_code in (400, 403, 404), path
        assert '<html lang="en">' in page.text, path
        assert message in page.text, path
        assert "<script>" not in page.text, path
    access = client.get("/access").text
    refused = client.post("/access", data={"csrf": _csrf(access), "label": "<script>x",
                                           "days": "30", "scope": ["values:read"]})  # fmt: skip
    assert refused.status_code == 400
    assert "Write who gets access" in html.unescape(refused.text)
    assert "<script>x" not in refused.text
    too_long = client.post("/access", data={"csrf": _csrf(access), "label": "Varme AS",
                                            "days": "9999", "scope": ["values:read"]})  # fmt: skip
    assert "Access can be valid for 1 to 366 days." in too_long.text


def test_a_refused_value_edit_is_told_in_english(site):
    client, _ = site
    client.headers["Accept-Language"] = "en"
    _log_in(client, "drift@example.no")
    page = client.get(f"/console/mp/{OSLO_MP}").text
    form = {"csrf": _csrf(page), "start": "2026-01-19T10:00", "import_kwh": "1", "reason": ""}
    refused = client.post(f"/console/mp/{OSLO_MP}/edit", data=form)
    assert refused.status_code == 400
    assert "A change must have a reason. Nothing was changed." in refused.text
    assert _heading(refused.text) == f"Change a value of metering point {OSLO_MP}"


def test_the_switch_goes_back_to_the_page_and_is_remembered(site):
    client, _ = site
    _log_in(client, "c1@example.no")
    where = f"/consumption?mp={OSLO_MP}&from=2026-01-05&to=2026-01-06"
    assert '<html lang="nb">' in client.get(where).text
    switched = client.get("/language/en", headers={"Referer": f"http://testserver{where}"})
    assert switched.status_code == 303
    assert switched.headers["location"] == where
    cookie = switched.headers["set-cookie"]
    assert f"{LANG_COOKIE}=en" in cookie
    assert "httponly" in cookie.lower()
    page = client.get(where, headers={"Accept-Language": "nb"})  # the choice beats the browser
    assert '<html lang="en">' in page.text
    assert _heading(page.text) == "Consumption"
    back = client.get("/language/nb", headers={"Referer": f"http://testserver{where}"})
    assert back.headers["location"] == where
    page = client.get(where, headers={"Accept-Language": "en"})
    assert '<html lang="nb">' in page.text
    assert _heading(page.text) == "Forbruk"
    assert ">Oversikt<" in page.text


def test_an_unknown_language_is_not_found(site):
    client, _ = site
    for code in ("xx", "EN", "nn", "en-GB", "%3Cscript%3E"):
        response = client.get(f"/language/{code}", headers={"Referer": "http://testserver/"})
        assert response.status_code == 404, code
        assert LANG_COOKIE not in response.headers.get("set-cookie", ""), code
        assert "<script>" not in response.text


@pytest.mark.parametrize(
    "referer",
    [
        None,
        "",
        "http://evil.example/prices",
        "https://evil.example/",
        "http://testserver.evil.example/prices",
        "http://evil.example/?http://testserver/prices",
        "http://testserver//evil.example/x",
        "http://testserver/\\evil.example",
        "javascript:alert(1)",
        "/prices",  # not an address of this host: no host at all
    ],
)
def test_the_switch_never_leads_to_another_site(site, referer):
    client, _ = site
    headers = {} if referer is None else {"Referer": referer}
    response = client.get("/language/en", headers=headers)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert f"{LANG_COOKIE}=en" in response.headers["set-cookie"]

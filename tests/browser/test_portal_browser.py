"""The portal in a real browser: Debian's Chromium driven by Playwright, against the portal
served on loopback by the same server ``ams serve`` uses. Screenshots of the main pages go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from openams.config import Settings
from openams.domain.han_requests import deadline_for
from openams.services.accounts import create_account
from openams.services.invoice import format_kwh, format_nok
from openams.services.month_to_date import month_to_date
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.web import create_app
from openams.web.server import WebServer
from tests.integration.test_settlement_store import OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 1, 20))[0] + 12 * 3600
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Chromium as root in a container, without the background traffic this machine refuses
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'openams.db'}"
    store = open_store(url)
    try:
        _seed(store)
        accounts = SqlAccountStore(store)
        create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
    finally:
        store.close()
    app = create_app(Settings(db_url=url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    server = WebServer(app, "127.0.0.1", 0)
    base = server.start()
    try:
        yield base, url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_customer_logs_in_and_sees_the_numbers_the_service_computes(portal, browser):
    base, url = portal
    page = browser.new_page(locale="nb-NO")  # a browser that asks for Norwegian
    try:
        page.goto(f"{base}/")
        assert page.url == f"{base}/login"  # anonymous: the log-in page
        _log_in(page, base, "c1@example.no")
        page.wait_for_selector(f"[data-mp='{OSLO_MP}']")
        _shot(page, "customer-overview")
        store = open_store(url)
        try:
            seen = month_to_date(SqlSettlementStore(store), SqlPriceStore(store), OSLO_MP,
                                 TARIFF, TAXES, now_s=NOW_S)  # fmt: skip
        finally:
            store.close()
        assert seen is not None
        card = page.locator(f"[data-mp='{OSLO_MP}']")
        assert card.locator("[data-field=energy]").inner_text() == format_kwh(
            seen.settlement.energy_kwh)  # fmt: skip
        assert card.locator("[data-field=cost]").inner_text() == format_nok(
            seen.settlement.total_nok)  # fmt: skip
        assert TROMSO_MP not in page.content()
        # the consumption chart, drawn by plotly.js served from the installed package
        page.goto(f"{base}/consumption?mp={OSLO_MP}&from=2026-01-05&to=2026-01-11")
        page.wait_for_selector(".main-svg", timeout=15_000)
        _shot(page, "customer-consumption")
        for name in ("prices", "invoices", "my-data", "access", "han", "contact"):
            page.goto(f"{base}/{name}")
            assert page.locator("h1").first.inner_text() != ""
            _shot(page, f"customer-{name}")
        page.goto(f"{base}/")
        page.click("header button[type=submit]")  # log out
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/")
        assert page.url == f"{base}/login"
    finally:
        page.close()


def test_a_wrong_password_is_told_and_an_operator_reaches_the_console(portal, browser):
    base, _ = portal
    page = browser.new_page(locale="nb-NO")  # a browser that asks for Norwegian
    try:
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "drift@example.no")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        assert "Feil e-post eller passord." in page.locator("[role=alert]").inner_text()
        _shot(page, "login-refused")
        _log_in(page, base, "drift@example.no")
        page.wait_for_url(re.compile(r".*/console$"))
        _shot(page, "console")
        assert page.locator("h1").first.inner_text() != ""
        for name, path in (("console-search", "/console/search?q=Oslo"),
                           ("console-point", f"/console/mp/{OSLO_MP}"),
                           ("console-han", "/console/han"),
                           ("console-settlements", "/console/settlements")):  # fmt: skip
            page.goto(f"{base}{path}")
            assert page.locator("h1").first.inner_text() != "", path
            _shot(page, name)
        assert OSLO_MP in page.goto(f"{base}/console/search?q=Oslo").text()
    finally:
        page.close()


def test_a_customer_asks_for_the_han_port_and_an_operator_opens_it(portal, browser):
    base, _ = portal
    deadline = deadline_for(NOW_S)
    customer = browser.new_page(locale="nb-NO")
    operator = browser.new_page(locale="nb-NO")
    try:
        _log_in(customer, base, "c1@example.no")
        customer.wait_for_selector(f"[data-mp='{OSLO_MP}']")
        customer.goto(f"{base}/han")
        card = customer.locator(f"[data-mp='{OSLO_MP}']")
        card.locator("button[type=submit]").click()
        customer.wait_for_selector(f"[data-mp='{OSLO_MP}'] [data-status=requested]")
        told = card.locator("[data-status=requested]").inner_text()
        assert f"{deadline:%d.%m.%Y}" in told  # three working days after 20 January
        assert card.locator("button[type=submit]").count() == 0  # one open request at a time
        _shot(customer, "customer-han-requested")
        _log_in(operator, base, "drift@example.no")
        operator.wait_for_url(re.compile(r".*/console$"))
        operator.goto(f"{base}/console/han")
        row = operator.locator("tr[data-request]", has_text=OSLO_MP)
        assert f"{deadline:%d.%m.%Y}" in row.inner_text()
        row.locator("button[value=opened]").click()
        operator.wait_for_load_state()
        assert operator.locator("tr[data-request]", has_text=OSLO_MP).count() == 0
        customer.goto(f"{base}/han")
        customer.wait_for_selector(f"[data-mp='{OSLO_MP}'] [data-status=opened]")
    finally:
        customer.close()
        operator.close()


def test_a_customer_switches_to_english_and_back_on_the_same_page(portal, browser):
    base, url = portal
    page = browser.new_page(locale="nb-NO")  # a browser that asks for Norwegian
    try:
        _log_in(page, base, "c1@example.no")
        page.wait_for_selector(f"[data-mp='{OSLO_MP}']")
        where = f"{base}/consumption?mp={OSLO_MP}&from=2026-01-05&to=2026-01-11&resolution=day"
        page.goto(where)
        assert page.locator("h1").first.inner_text() == "Forbruk"
        page.click("header .languages a[hreflang=en]")
        page.wait_for_selector("html[lang=en]")
        assert page.url == where  # the same page, its query kept
        assert page.locator("h1").first.inner_text() == "Consumption"
        assert page.locator("header nav[aria-label=Menu] a[aria-current=page]").inner_text() == (
            "Consumption")  # fmt: skip
        assert page.locator("header button[type=submit]").inner_text() == "Log out"
        page.wait_for_selector(".main-svg", timeout=15_000)
        assert "Same period last year" in page.locator("#chart").inner_text()  # the legend
        page.goto(f"{base}/")
        page.wait_for_selector(f"[data-mp='{OSLO_MP}']")
        store = open_store(url)
        try:
            seen = month_to_date(SqlSettlementStore(store), SqlPriceStore(store), OSLO_MP,
                                 TARIFF, TAXES, now_s=NOW_S)  # fmt: skip
        finally:
            store.close()
        assert seen is not None
        card = page.locator(f"[data-mp='{OSLO_MP}']")
        assert card.locator("h2").inner_text() == f"Metering point {OSLO_MP}"
        assert card.locator("[data-field=cost]").inner_text() == (
            f"NOK\u00a0{seen.settlement.total_nok:,.2f}")  # fmt: skip
        _shot(page, "customer-overview-english")
        page.goto(where)
        page.click("header .languages a[hreflang=nb]")
        page.wait_for_selector("html[lang=nb]")
        assert page.url == where
        assert page.locator("h1").first.inner_text() == "Forbruk"
    finally:
        page.close()
    english = browser.new_page(locale="en-GB")  # a browser that asks for English
    try:
        english.goto(f"{base}/login")
        assert english.locator("html").get_attribute("lang") == "en"
        assert english.locator("h1").first.inner_text() == "Log in"
    finally:
        english.close()

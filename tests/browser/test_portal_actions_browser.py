"""What a customer does in the portal, in a real browser (Debian's Chromium driven by
Playwright, against the portal served on loopback): downloading their data, and giving an
energy-management supplier a key to the API and taking it back. The server and the browser
are those of :mod:`tests.browser.test_portal_browser`; screenshots go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from openams.services.customer_data import (
    customer_export,
    customer_values,
    supplied_days,
    values_csv,
)
from openams.store import open_store
from openams.store.customer_data import SqlCustomerDataStore
from openams.store.settlement import SqlSettlementStore
from tests.browser.test_portal_browser import NOW_S, _log_in, _shot, browser, portal
from tests.integration.test_settlement_store import OSLO_MP, TROMSO_MP

pytestmark = pytest.mark.browser

__all__ = ["browser", "portal"]  # the fixtures, shared with the portal's other browser tests


def _customer_page(browser, base: str) -> Page:
    page = browser.new_page(locale="nb-NO", accept_downloads=True)
    _log_in(page, base, "c1@example.no")
    page.wait_for_selector(f"[data-mp='{OSLO_MP}']")
    return page


def _api(base: str, path: str, token: str) -> tuple[int, dict]:
    """GET ``path`` of the live server's API with a bearer token: the status and the JSON."""
    request = urllib.request.Request(  # noqa: S310 - the test server on loopback
        f"{base}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, json.load(refused)


def test_a_customer_downloads_their_values_and_everything_held_about_them(portal, browser):
    base, url = portal
    page = _customer_page(browser, base)
    try:
        page.goto(f"{base}/my-data")
        page.select_option("select[name=mp]", OSLO_MP)
        page.fill("input[name=from]", "2026-01-05")
        page.fill("input[name=to]", "2026-01-11")
        _shot(page, "customer-my-data-downloads")
        with page.expect_download() as values_download:
            page.click("form[action='/my-data/values.csv'] button[type=submit]")
        download = values_download.value
        assert download.suggested_filename == f"verdier_{OSLO_MP}_2026-01-05_2026-01-11.csv"
        csv_bytes = Path(download.path()).read_bytes()
        with page.expect_download() as everything_download:
            page.click("a[href='/my-data/everything.json']")
        everything = json.loads(Path(everything_download.value.path()).read_text("utf-8"))
    finally:
        page.close()
    store = open_store(url)
    try:
        periods = SqlSettlementStore(store).supply_periods([OSLO_MP], date.min, date.max)
        values = customer_values(SqlCustomerDataStore(store), OSLO_MP,
                                 supplied_days(periods, OSLO_MP, "C1"), date(2026, 1, 5),
                                 date(2026, 1, 11))  # fmt: skip
        expected = customer_export(SqlCustomerDataStore(store), "C1", now_s=NOW_S)
    finally:
        store.close()
    assert len(values) == 7 * 24  # a week of hourly values: the comparison compares something
    assert csv_bytes.decode("utf-8") == values_csv(OSLO_MP, values)
    assert everything == json.loads(json.dumps(expected))
    assert OSLO_MP in json.dumps(everything)
    assert TROMSO_MP not in json.dumps(everything) + csv_bytes.decode("utf-8")


def test_a_customer_grants_a_supplier_a_key_and_revokes_it(portal, browser):
    base, _ = portal
    page = _customer_page(browser, base)
    try:
        page.goto(f"{base}/access")
        before = page.locator("tr[data-grant]").count()
        page.fill("input[name=label]", "Smarthus Energistyring AS")
        page.uncheck("input[name=scope][value='settlement:read']")
        page.fill("input[name=days]", "30")
        page.click("form[action='/access'] button[type=submit]")
        token = page.locator("[data-field=token]").inner_text().strip()
        assert token.startswith("oams_")
        _shot(page, "customer-access-granted")
        rows = page.locator("tr[data-grant]")
        assert rows.count() == before + 1
        grant = rows.filter(has_text="Smarthus Energistyring AS")
        assert grant.count() == 1
        assert "settlement:read" not in grant.inner_text()
        assert grant.locator("form[action$='/revoke']").count() == 1
        # the key is shown once: not again when the page is opened anew
        page.goto(f"{base}/access")
        assert page.locator("[data-field=token]").count() == 0
        assert token not in page.content()

        # the supplier reads the customer's metering point with it, and no one else's
        status, listed = _api(base, "/api/v1/metering-points", token)
        assert status == 200
        assert [p["metering_point_id"] for p in listed["items"]] == [OSLO_MP]
        status, values = _api(base, f"/api/v1/metering-points/{OSLO_MP}/values"
                              "?from=2026-01-05&to=2026-01-05", token)  # fmt: skip
        assert status == 200
        assert values["total"] == 24
        assert {v["import_wh"] for v in values["items"]} == {1500}
        status, refused = _api(base, f"/api/v1/metering-points/{TROMSO_MP}/values"
                               "?from=2026-01-05", token)  # fmt: skip
        assert (status, refused["error"]["code"]) == (404, "not_found")
        status, refused = _api(base, f"/api/v1/metering-points/{OSLO_MP}/settlements"
                               "?month=2026-01", token)  # fmt: skip
        assert (status, refused["error"]["code"]) == (403, "forbidden")  # not granted

        # the customer takes the key back
        grant = page.locator("tr[data-grant]").filter(has_text="Smarthus Energistyring AS")
        grant.locator("form[action$='/revoke'] button[type=submit]").click()
        page.wait_for_url(f"{base}/access")
        grant = page.locator("tr[data-grant]").filter(has_text="Smarthus Energistyring AS")
        assert grant.count() == 1  # still listed, as revoked
        assert grant.locator("form[action$='/revoke']").count() == 0
        assert "trukket tilbake" in grant.inner_text()
        _shot(page, "customer-access-revoked")
    finally:
        page.close()
    status, refused = _api(base, "/api/v1/metering-points", token)
    assert (status, refused["error"]["code"]) == (401, "unauthorized")
    status, refused = _api(base, f"/api/v1/metering-points/{OSLO_MP}/values?from=2026-01-05",
                           token)  # fmt: skip
    assert status == 401

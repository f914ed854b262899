"""The REST API and the customer's grants to suppliers, on SQLite and PostgreSQL: bearer
tokens with scopes and an expiry, a customer's token reaching only their metering points,
one error format, paging, and a valid OpenAPI document."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from openams.config import Settings
from openams.services.accounts import create_account
from openams.services.api_tokens import grant_token
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.api_tokens import SqlTokenStore
from openams.web import create_app
from tests.integration.test_settlement_store import HOURS, OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 2, 3))[0] + 12 * 3600
ALL = {"points:read", "values:read", "prices:read", "settlement:read"}


@pytest.fixture
def api(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        accounts = SqlAccountStore(store)
        kari = create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        staff = create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
        tokens = SqlTokenStore(store)
        customer, _ = grant_token(tokens, kari, "Smartstyring AS", ALL, 30, now_s=NOW_S - 10)
        narrow, _ = grant_token(tokens, kari, "Bare priser", {"prices:read"}, 30,
                                now_s=NOW_S - 10)  # fmt: skip
        old, _ = grant_token(tokens, kari, "Gammel", ALL, 1, now_s=NOW_S - 2 * 86_400)
        operator, _ = grant_token(tokens, staff, "Drift", ALL, 30, now_s=NOW_S - 10)
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as client:
        yield client, {"customer": customer, "narrow": narrow, "old": old, "operator": operator}


def _get(client, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, params=params)


def test_a_customers_token_reaches_their_metering_points_only(api):
    client, tokens = api
    points = _get(client, "/api/v1/metering-points", tokens["customer"]).json()
    assert [p["metering_point_id"] for p in points["items"]] == [OSLO_MP]
    assert points["total"] == 1
    values = _get(client, f"/api/v1/metering-points/{OSLO_MP}/values", tokens["customer"],
                  **{"from": "2026-01-05", "to": "2026-01-05"}).json()  # fmt: skip
    assert values["total"] == 24
    assert values["items"][0] == {"start_at_s": local_day_bounds(date(2026, 1, 5))[0],
                                  "resolution_s": 3600, "import_wh": 1500, "export_wh": 0,
                                  "status": "measured"}  # fmt: skip
    other = _get(client, f"/api/v1/metering-points/{TROMSO_MP}/values", tokens["customer"],
                 **{"from": "2026-01-05"})  # fmt: skip
    missing = _get(client, "/api/v1/metering-points/707057500000009999/values",
                   tokens["customer"], **{"from": "2026-01-05"})  # fmt: skip
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {
        "error": {"code": "not_found", "message": "no such metering point"}}  # fmt: skip


def test_staff_tokens_reach_every_metering_point_with_paging(api):
    client, tokens = api
    first = _get(client, "/api/v1/metering-points", tokens["operator"], limit=2).json()
    second = _get(client, "/api/v1/metering-points", tokens["operator"], limit=2,
                  offset=2).json()  # fmt: skip
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1


def test_prices_and_settlements_are_exact_decimal_text(api):
    client, tokens = api
    prices = _get(client, "/api/v1/prices", tokens["narrow"], zone="NO1",
                  **{"from": "2026-01-05"}).json()  # fmt: skip
    assert prices["total"] == 24
    assert Decimal(prices["items"][0]["nok_per_kwh"]) == Decimal("1.15")
    runs = _get(client, f"/api/v1/metering-points/{OSLO_MP}/settlements", tokens["customer"],
                month="2026-01").json()  # fmt: skip
    assert runs["total"] == 0  # nothing settled yet
    assert HOURS  # the seeded month is there to be settled


@pytest.mark.parametrize(
    ("token", "path", "params", "status", "code"),
    [
        (None, "/api/v1/metering-points", {}, 401, "unauthorized"),
        ("forged", "/api/v1/metering-points", {}, 401, "unauthorized"),
        ("old", "/api/v1/metering-points", {}, 401, "unauthorized"),
        ("narrow", "/api/v1/metering-points", {}, 403, "forbidden"),
        ("customer", "/api/v1/metering-points", {"limit": "0"}, 400, "bad_parameter"),
        ("customer", "/api/v1/metering-points", {"limit": "x" * 5000}, 400, "bad_parameter"),
        ("customer", "/api/v1/prices", {"zone": "SE3", "from": "2026-01-05"}, 400,
         "bad_parameter"),
        ("customer", "/api/v1/prices", {"zone": "NO1", "from": "<script>"}, 400,
         "bad_parameter"),
        ("customer", "/api/v1/prices", {"zone": "NO1", "from": "2026-01-05", "to": "2025-01-01"},
         400, "bad_period"),
        ("customer", "/api/v1/prices", {"zone": "NO1", "from": "2025-01-01", "to": "2026-01-01"},
         400, "bad_period"),
    ],
)  # fmt: skip
def test_every_error_has_one_shape(api, token, path, params, status, code):
    client, tokens = api
    response = _get(client, path, tokens.get(token, token), **params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_the_openapi_document_is_valid_and_has_only_the_api(api):
    client, _ = api
    document = client.get("/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == {
        "/api/v1/metering-points", "/api/v1/metering-points/{metering_point_id}/values",
        "/api/v1/prices", "/api/v1/metering-points/{metering_point_id}/settlements"}  # fmt: skip


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def test_a_customer_grants_and_revokes_a_suppliers_access(api):
    client, _ = api
    form = client.get("/login")
    client.post("/login", data={"email": "c1@example.no", "password": PASSWORD,
                                "csrf": _csrf(form.text)})  # fmt: skip
    page = client.get("/access")
    assert "Smartstyring AS" in page.text
    refused = client.post("/access", data={"csrf": _csrf(page.text), "label": "<script>x",
                                           "days": "30", "scope": ["values:read"]})  # fmt: skip
    assert refused.status_code == 400
    assert "<script>x" not in refused.text
    made = client.post("/access", data={"csrf": _csrf(page.text), "label": "Varmepumpe AS",
                                        "days": "30", "scope": ["points:read"]})  # fmt: skip
    token = re.search(r'data-field="token">([^<]+)<', made.text).group(1)
    assert _get(client, "/api/v1/metering-points", token).status_code == 200
    grant_id = re.search(r'data-grant="(\d+)"><td>Varmepumpe AS', made.text).group(1)
    assert client.post(f"/access/{grant_id}/revoke", data={"csrf": "forged"}).status_code == 403
    client.post(f"/access/{grant_id}/revoke", data={"csrf": _csrf(made.text)})
    assert _get(client, "/api/v1/metering-points", token).status_code == 401

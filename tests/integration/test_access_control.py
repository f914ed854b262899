"""Access control over every route of the application, found by walking its route table:
a customer gets another customer's data from none of them (pages, API, exports, downloads),
and anonymous visitors get nothing but the log-in page and the static assets.

A new route is covered without touching this file: the walk fills every path parameter and
every query parameter with the other customer's identifiers.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.accounts import create_account
from openams.services.api_tokens import SCOPES, grant_token
from openams.services.settlement import settle_month
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.api_tokens import SqlTokenStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.web import create_app
from tests.integration.test_settlement_store import OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 2, 3))[0] + 12 * 3600
# What of customer C2 must never reach customer C1: the metering point, the name, the street
THEIRS = (TROMSO_MP, "Kunde C2")
# Open to anyone: the log-in page, static assets, the API's description (no data in it)
# and the language switch (a cookie); log-in by e-mailed link and confirming an address (the
# token is the key)
PUBLIC = {"/login", "/static/plotly.min.js", "/openapi.json", "/language/{code}",
          "/login/link", "/login/link/{token}", "/contact/confirm/{token}"}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'openams.db'}"
    store = open_store(url)
    try:
        _seed(store)
        accounts = SqlAccountStore(store)
        kari = create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        per = create_account(accounts, "c2@example.no", PASSWORD, "customer", "C2", now_s=1)
        tokens = SqlTokenStore(store)
        mine, _ = grant_token(tokens, kari, "Min leverandør", set(SCOPES), 30, now_s=NOW_S - 5)
        _, theirs = grant_token(tokens, per, "Hans leverandør", set(SCOPES), 30, now_s=NOW_S - 5)
        settle_month(SqlSettlementStore(store), SqlPriceStore(store), "2026-01", TARIFF, TAXES,
                     now_s=NOW_S)  # fmt: skip
    finally:
        store.close()
    app = create_app(Settings(db_url=url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    return app, url, mine, theirs.token_id


def _fill(path: str, their_token_id: int) -> str:
    values = {"metering_point_id": TROMSO_MP, "mp": TROMSO_MP, "month": "2026-01",
              "version": "1", "token_id": str(their_token_id)}  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


_QUERY = {"mp": TROMSO_MP, "from": "2026-01-05", "to": "2026-01-06", "q": "Tromsø",
          "zone": "NO4", "month": "2026-01", "resolution": "hour"}  # fmt: skip


def _routes(app, method: str) -> list[str]:
    return sorted(r.path for r in app.routes if method in getattr(r, "methods", set()))


def _log_in(client: TestClient, email: str) -> str:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    page = client.get("/access").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_the_walk_covers_every_kind_of_route(world):
    app, _, _, _ = world
    paths = _routes(app, "GET") + _routes(app, "POST")
    assert any(p.startswith("/api/v1/") for p in paths)
    assert any(p.startswith("/console") for p in paths)
    assert any(p.startswith("/my-data") for p in paths)
    assert any(p.endswith(".pdf") for p in paths)
    assert all(isinstance(r, APIRoute) for r in app.routes if r.path not in ("/openapi.json",))


def test_anonymous_visitors_get_only_the_login_page_and_static_assets(world):
    app, _, _, their_token = world
    with TestClient(app, follow_redirects=False) as client:
        for path in _routes(app, "GET"):
            if path in PUBLIC:
                continue
            response = client.get(_fill(path, their_token), params=_QUERY)
            assert response.status_code in (303, 401), path
            if response.status_code == 303:
                assert response.headers["location"] == "/login", path
            for secret in (*THEIRS, OSLO_MP):
                assert secret not in response.text, path
        for path in _routes(app, "POST"):
            if path == "/login":
                continue
            response = client.post(_fill(path, their_token), data={"csrf": "x", "reason": "x"})
            assert response.status_code in (303, 401, 403), path
            if response.status_code == 303:
                assert response.headers["location"] == "/login", path


def test_a_customer_gets_another_customers_data_from_no_route(world):
    app, url, mine, their_token = world
    with TestClient(app, follow_redirects=False) as client:
        csrf = _log_in(client, "c1@example.no")
        seen = []
        for path in _routes(app, "GET"):
            filled = _fill(path, their_token)
            headers = {"Authorization": f"Bearer {mine}"} if path.startswith("/api/") else {}
            response = client.get(filled, params=_QUERY, headers=headers)
            seen.append((path, response.status_code))
            for secret in THEIRS:
                assert secret not in response.text, (path, response.status_code)
        # the routes that name a metering point or a grant refuse the other customer's
        for path, status in seen:
            if "{" in path:
                assert status in (403, 404), (path, status)
        # a form that names the other customer's grant or metering point changes nothing
        for path in _routes(app, "POST"):
            if path in ("/login", "/logout"):
                continue
            response = client.post(
                _fill(path, their_token),
                data={
                    "csrf": csrf,
                    "reason": "prøver",
                    "start": "2026-01-05T10:00",
                    "import_kwh": "9",
                    "label": "Lurt",
                    "days": "30",
                    "scope": ["values:read"],
                },
            )
            assert response.status_code in (200, 303, 400, 403, 404), path
            for secret in THEIRS:
                assert secret not in response.text, path
    store = open_store(url)
    try:
        (theirs,) = [t for t in SqlTokenStore(store).tokens_of(2) if t.token_id == their_token]
        assert theirs.revoked_at_s is None  # C2's grant survived C1's attempt to revoke it
        assert [r.version for r in SqlSettlementStore(store).runs("2026-01", TROMSO_MP)] == [1]
    finally:
        store.close()

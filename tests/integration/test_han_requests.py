"""HAN port requests over HTTP and in the store, on SQLite and PostgreSQL: a customer asks
and sees the status and deadline, asking twice makes one request, another customer's
metering point is refused; operators list, open and refuse (with a reason), the dashboard
counts them, the access log has every list and change, and forged or bad forms store
nothing."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.domain.han_requests import MAX_REASON, new_request
from openams.services.accounts import create_account
from openams.services.console import dashboard
from openams.services.han_requests import request_opening
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.console import SqlConsoleStore
from openams.store.han_requests import SqlHanRequestStore
from openams.store.schema import access_log, han_requests
from openams.web import create_app
from openams.web.i18n import catalog
from tests.integration.test_settlement_store import CABIN_MP, OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
DAY_S = 86_400
# Tuesday 20 January 2026, 12:00 local: due by the end of Friday 23 January
NOW_S = local_day_bounds(date(2026, 1, 20))[0] + 12 * 3600
SCRIPT = "<script>alert(1)</script>"
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "openams" / "web" / "templates"


@pytest.fixture
def han(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        accounts = SqlAccountStore(store)
        for email, role, customer in [
            ("c1@example.no", "customer", "C1"),
            ("c2@example.no", "customer", "C2"),
            ("operator@example.no", "operator", None),
            ("administrator@example.no", "administrator", None),
            ("installer@example.no", "installer", None),
        ]:
            create_account(accounts, email, PASSWORD, role, customer, now_s=1)
    finally:
        store.close()
    clock = [NOW_S]
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES,
                     clock=lambda: clock[0])  # fmt: skip
    with TestClient(app, follow_redirects=False) as client:
        yield client, store_url, clock


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


def _as(client: TestClient, email: str) -> str:
    """Log in as ``email`` (out of any other account); the session's CSRF token."""
    client.cookies.clear()
    form = client.get("/login")
    done = client.post("/login", data={"email": email, "password": PASSWORD,
                                       "csrf": _csrf(form.text)})  # fmt: skip
    assert done.status_code == 303
    page = client.get("/han" if email.startswith("c") else "/console")
    return _csrf(page.text)


def _rows(url, query):
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(query).all()
    finally:
        store.close()


def _requests(url):
    c = han_requests.c
    query = sa.select(c.request_id, c.metering_point_id, c.customer_id, c.status, c.reason,
                      c.closed_by, c.deadline_day).order_by(c.request_id)  # fmt: skip
    return _rows(url, query)


def _accesses(url):
    c = access_log.c
    query = sa.select(c.action, c.metering_point_id, c.customer_id, c.detail)
    return _rows(url, query.order_by(c.access_id))


def _card(page: str, mp: str) -> str:
    found = re.search(rf'<div class="card" data-mp="{mp}">(.*?)</div>', page, re.S)
    assert found, page
    return found.group(1)


def test_a_customer_asks_and_sees_the_status_and_deadline(han):
    client, url, _ = han
    csrf = _as(client, "c1@example.no")
    page = client.get("/han")
    assert page.status_code == 200
    assert "innen 3 virkedager" in page.text
    card = _card(page.text, OSLO_MP)
    assert 'data-status="none"' in card
    assert f'name="mp" value="{OSLO_MP}"' in card
    assert TROMSO_MP not in page.text  # customer C2's

    asked = client.post("/han", data={"csrf": csrf, "mp": OSLO_MP})
    assert asked.status_code == 303
    assert asked.headers["location"] == "/han?requested=1"
    page = client.get(asked.headers["location"])
    assert "Forespørselen er registrert." in page.text
    card = _card(page.text, OSLO_MP)
    assert 'data-status="requested"' in card
    assert "Bestilt 20.01.2026" in card
    assert "innen fredag 23.01.2026" in card
    assert 'name="mp"' not in card  # no second request while one is open
    (row,) = _requests(url)
    assert row[1:4] == (OSLO_MP, "C1", "requested")
    assert row.deadline_day == "2026-01-23"

    again = client.post("/han", data={"csrf": csrf, "mp": OSLO_MP})
    assert again.status_code == 303
    assert len(_requests(url)) == 1  # the open one, not a duplicate

    english = client.get("/han", headers={"Accept-Language": "en"})
    assert "by Friday 23.01.2026" in english.text
    assert "The HAN port" in english.text


def test_another_customers_or_an_unknown_metering_point_is_not_found_and_stores_nothing(han):
    client, url, _ = han
    csrf = _as(client, "c1@example.no")
    for mp in (TROMSO_MP, CABIN_MP, "707057500000009999", "", "x" * 5000, SCRIPT):
        refused = client.post("/han", data={"csrf": csrf, "mp": mp})
        assert refused.status_code == 404, mp
        assert "Fant ikke målepunktet blant dine målepunkter" in refused.text
        assert TROMSO_MP not in refused.text
        assert "Kunde C2" not in refused.text
        assert SCRIPT not in refused.text
    assert _requests(url) == []


def test_forms_without_the_sessions_token_store_nothing(han):
    client, url, _ = han
    _as(client, "c1@example.no")
    assert client.post("/han", data={"mp": OSLO_MP}).status_code == 403
    assert client.post("/han", data={"mp": OSLO_MP, "csrf": "forged"}).status_code == 403
    assert _requests(url) == []
    store = open_store(url)
    try:
        request_opening(SqlHanRequestStore(store), "C1", OSLO_MP, now_s=NOW_S)
    finally:
        store.close()
    _as(client, "operator@example.no")
    forged = client.post("/console/han/1", data={"action": "opened", "csrf": "forged"})
    assert forged.status_code == 403
    assert client.post("/console/han/1", data={"action": "opened"}).status_code == 403
    assert [r.status for r in _requests(url)] == ["requested"]


def test_only_operators_and_administrators_handle_requests(han):
    client, url, _ = han
    assert client.get("/console/han").headers["location"] == "/login"
    assert client.get("/han").headers["location"] == "/login"
    assert client.post("/han", data={"mp": OSLO_MP}).headers["location"] == "/login"
    csrf = _as(client, "c1@example.no")
    client.post("/han", data={"csrf": csrf, "mp": OSLO_MP})
    assert client.get("/console/han").status_code == 403
    refused = client.post("/console/han/1", data={"csrf": csrf, "action": "opened"})
    assert refused.status_code == 403
    csrf = _as(client, "installer@example.no")
    assert "/console/han" not in client.get("/console").text.split("<h1>")[0]
    assert client.get("/console/han").status_code == 403
    assert client.post("/console/han/1", data={"csrf": csrf, "action": "opened"}).status_code == 403
    assert client.get("/han").status_code == 403  # staff have no customer pages
    assert [r.status for r in _requests(url)] == ["requested"]
    _as(client, "administrator@example.no")
    assert client.get("/console/han").status_code == 200


def test_operators_list_open_and_refuse_and_the_customer_sees_it(han):
    client, url, clock = han
    store = open_store(url)
    try:
        requests = SqlHanRequestStore(store)
        # C2 asked ten days ago (overdue); C1 asks now
        late = request_opening(requests, "C2", TROMSO_MP, now_s=NOW_S - 10 * DAY_S)
        fresh = request_opening(requests, "C1", OSLO_MP, now_s=NOW_S)
    finally:
        store.close()
    csrf = _as(client, "operator@example.no")
    assert 'href="/console/han"' in client.get("/console").text
    page = client.get("/console/han")
    assert page.status_code == 200
    assert 'data-open="2" data-overdue="1"' in page.text
    listed = re.findall(r'<tr data-request="(\d+)"( class="message" data-overdue)?>', page.text)
    overdue = ' class="message" data-overdue'
    # the earliest deadline first
    assert listed == [(str(late.request_id), overdue), (str(fresh.request_id), "")]
    assert f'<a href="/console/mp/{TROMSO_MP}">{TROMSO_MP}</a>' in page.text
    assert "Kunde C1 (C1)" in page.text
    assert "fredag 23.01.2026" in page.text
    assert "Over fristen" in page.text

    # a refusal without a reason, or with a huge one, changes nothing and says why
    url_of = f"/console/han/{fresh.request_id}"
    empty = client.post(url_of, data={"csrf": csrf, "action": "refused", "reason": "  "})
    assert empty.status_code == 400
    assert "Et avslag må ha en begrunnelse" in empty.text
    huge = client.post(url_of, data={"csrf": csrf, "action": "refused",
                                     "reason": "x" * (MAX_REASON + 1)})  # fmt: skip
    assert huge.status_code == 400
    assert f"høyst {MAX_REASON} tegn" in huge.text
    control = client.post(url_of, data={"csrf": csrf, "action": "refused", "reason": "a\x00b"})
    assert control.status_code == 400
    odd = client.post(url_of, data={"csrf": csrf, "action": "delete", "reason": "x"})
    assert odd.status_code == 400
    assert "Velg om porten er åpnet" in odd.text
    assert [r.status for r in _requests(url)] == ["requested", "requested"]
    assert client.post("/console/han/999", data={"csrf": csrf, "action": "opened"}
                       ).status_code == 404  # fmt: skip
    assert client.post("/console/han/abc", data={"csrf": csrf, "action": "opened"}
                       ).status_code == 404  # fmt: skip

    clock[0] = NOW_S + 3600
    refused = client.post(url_of, data={"csrf": csrf, "action": "refused",
                                        "reason": f"Måleren byttes. {SCRIPT}"})  # fmt: skip
    assert refused.status_code == 303
    assert refused.headers["location"] == "/console/han?done=refused"
    opened = client.post(f"/console/han/{late.request_id}", data={"csrf": csrf,
                                                                  "action": "opened"})  # fmt: skip
    assert opened.status_code == 303
    twice = client.post(f"/console/han/{late.request_id}", data={"csrf": csrf,
                                                                 "action": "refused",
                                                                 "reason": "x"})  # fmt: skip
    assert twice.status_code == 409
    assert "allerede behandlet" in twice.text
    page = client.get("/console/han?done=opened")
    assert "Forespørselen er merket som åpnet." in page.text
    assert 'data-open="0" data-overdue="0"' in page.text
    assert "Ingen åpne forespørsler." in page.text

    rows = {r.metering_point_id: r for r in _requests(url)}
    assert rows[TROMSO_MP].status == "opened"
    assert rows[TROMSO_MP].closed_by == "operator@example.no"
    assert rows[OSLO_MP].status == "refused"
    assert rows[OSLO_MP].reason == f"Måleren byttes. {SCRIPT}"

    changes = [a for a in _accesses(url) if a.action.startswith("han_port_")]
    assert [(a.action, a.metering_point_id, a.customer_id) for a in changes] == [
        ("han_port_refused", OSLO_MP, "C1"),
        ("han_port_opened", TROMSO_MP, "C2"),
    ]
    assert changes[0].detail == f"request {fresh.request_id} refused: Måleren byttes. {SCRIPT}"
    # every list shown is in the access log, once
    views = sum(a.action == "view_han_requests" for a in _accesses(url))
    assert views >= 3  # at least the first list, the refusals' pages and the last list
    client.get("/console/han")
    assert sum(a.action == "view_han_requests" for a in _accesses(url)) == views + 1

    # the customer sees the refusal and its reason, as text, and may ask again
    csrf = _as(client, "c1@example.no")
    card = _card(client.get("/han").text, OSLO_MP)
    assert 'data-status="refused"' in card
    assert "Måleren byttes. &lt;script&gt;" in card
    assert SCRIPT not in card
    assert f'name="mp" value="{OSLO_MP}"' in card
    assert client.post("/han", data={"csrf": csrf, "mp": OSLO_MP}).status_code == 303
    assert [r.status for r in _requests(url)] == ["opened", "refused", "requested"]
    csrf = _as(client, "c2@example.no")
    card = _card(client.get("/han").text, TROMSO_MP)
    assert "HAN-porten ble åpnet 20.01.2026" in card


def test_the_dashboard_counts_open_and_overdue_requests(han):
    client, url, clock = han
    store = open_store(url)
    try:
        requests = SqlHanRequestStore(store)
        request_opening(requests, "C2", TROMSO_MP, now_s=NOW_S - 10 * DAY_S)
        request_opening(requests, "C1", OSLO_MP, now_s=NOW_S)
        board = dashboard(SqlConsoleStore(store), now_s=NOW_S, han=requests)
        assert (board.han_open, board.han_overdue) == (2, 1)
        # the end of Friday 23 January: still on time; a second later overdue
        due_s = local_day_bounds(date(2026, 1, 24))[0]
        board = dashboard(SqlConsoleStore(store), now_s=due_s - 1, han=requests)
        assert (board.han_open, board.han_overdue) == (2, 1)
        board = dashboard(SqlConsoleStore(store), now_s=due_s, han=requests)
        assert (board.han_open, board.han_overdue) == (2, 2)
    finally:
        store.close()
    _as(client, "installer@example.no")  # installers see the dashboard, not the list
    page = client.get("/console").text
    assert re.search(r'data-field="han-open">2<', page)
    assert re.search(r'data-field="han-overdue">1<', page)
    clock[0] = due_s
    _as(client, "installer@example.no")  # days later: a new session
    assert re.search(r'data-field="han-overdue">2<', client.get("/console").text)


def test_the_store_keeps_one_open_request_per_metering_point(han):
    _, url, _ = han
    store = open_store(url)
    try:
        requests = SqlHanRequestStore(store)
        first = requests.add_request(new_request(OSLO_MP, "C1", NOW_S))
        second = requests.add_request(new_request(OSLO_MP, "C1", NOW_S + 60))
        assert second == first
        # two requests at the same moment: the index refuses the second insert
        row = {"metering_point_id": OSLO_MP, "customer_id": "C1", "requested_at_s": NOW_S,
               "deadline_day": "2026-01-23", "status": "requested", "reason": ""}  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
            connection.execute(han_requests.insert().values(row))
        # closed requests do not count: many may stand beside an open one
        with store.engine.begin() as connection:
            connection.execute(han_requests.insert().values({**row, "status": "opened"}))
            connection.execute(han_requests.insert().values({**row, "status": "refused"}))
        assert requests.count_open(date(2026, 1, 20)) == (1, 0)
        assert requests.count_open(date(2026, 1, 24)) == (1, 1)
    finally:
        store.close()


def test_every_text_of_the_pages_has_its_english_translation():
    english = catalog("en")
    texts: set[str] = set()
    for name in ("han.html.j2", "console_han.html.j2"):
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        texts |= set(re.findall(r'_\("([^"]+)"', source))
    from openams.web import han as han_module

    texts |= set(han_module._CLOSE_MESSAGES.values()) | set(han_module._DONE.values())
    texts |= {han_module._NOT_YOURS, *han_module._WEEKDAYS}
    missing = sorted(t for t in texts if t not in english)
    assert missing == []
    assert len(texts) > 30

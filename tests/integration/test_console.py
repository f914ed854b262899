"""The operator console over HTTP, on SQLite and PostgreSQL: the dashboard's figures equal
what was put in the store, search finds a metering point by each key, every view of a
metering point is in the access log once, value edits need a reason and are audited, only
staff get in, and what is typed comes back escaped."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.domain.estate import Customer, MeteringPoint
from openams.services.accounts import Account, create_account
from openams.services.audit import MAX_DETAIL, NotAllowed, list_accesses, record_access
from openams.services.console import SEARCH_LIMIT, dashboard
from openams.services.invoice import format_nok
from openams.services.ports import WrappedMeter
from openams.services.settlement import settle_month
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.audit import SqlAuditStore
from openams.store.console import SqlConsoleStore
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.schema import (
    access_log,
    elhub_deliveries,
    events,
    interval_values,
    quarantine,
    register_reads,
    security_events,
    value_edits,
)
from openams.store.settlement import SqlSettlementStore
from openams.web import create_app
from tests.integration.test_settlement_store import CABIN_MP, OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 1, 20))[0] + 12 * 3600  # 20 January, 12:00 local
HOUR_EDITED_S = local_day_bounds(date(2026, 1, 19))[0] + 10 * 3600  # 19 January, 10:00
MARKUP_MP = "707057500000000104"
MARKUP_NAME = "<img src=x onerror=alert(1)>"
MARKUP_POINT = MeteringPoint(MARKUP_MP, "T1", "C5", "apartment", "Østre Storgata", "7", "0155",
                             "Oslo", "NO1", 25, 1, "TN")  # fmt: skip
ROLES = ("customer", "operator", "installer", "administrator")


def _meter(meter_id, mp, title, interval_s):
    return WrappedMeter(meter_id, mp, "Aidon", "6534", 3, title, bytes(24), bytes(24), "k1",
                        interval_s)  # fmt: skip


def _fill(store):
    """The estate of the settlement tests, three meters, and pushes, quarantine, security
    events and Elhub deliveries of known counts around ``NOW_S``."""
    _seed(store)
    SqlEstateStore(store).save_estate(
        [],
        [Customer("C5", MARKUP_NAME, "", "")],
        [MARKUP_POINT],
        [
            _meter("MTR-OSLO-1", OSLO_MP, b"AID\x00\x00\x00\x00\x01", 3600),
            _meter("MTR-OSLO-OLD", OSLO_MP, b"AID\x00\x00\x00\x00\x02", 3600),
            _meter("MTR-TROMSO-1", TROMSO_MP, b"AID\x00\x00\x00\x00\x03", 900),
        ],
    )
    reads = [  # (meter, read at, received at)
        ("MTR-OSLO-1", NOW_S - 100, NOW_S - 90),  # heard, pushed in the last hour
        ("MTR-OSLO-1", NOW_S - 3700, NOW_S - 3690),  # heard, pushed before the last hour
        ("MTR-OSLO-OLD", NOW_S - 23 * 3600, NOW_S - 30),  # heard, and arrived late
        ("MTR-TROMSO-1", NOW_S - 2 * 86_400, NOW_S - 2 * 86_400 + 5),  # not heard
    ]
    held = [  # (received at, reason, resolved, meter, system title)
        (NOW_S - 120, "no_key", 0, None, b"UNKNOWN1"),
        (NOW_S - 1200, "auth_failed", 0, "MTR-OSLO-1", b"AID\x00\x00\x00\x00\x01"),
        (NOW_S - 2 * 86_400, "no_key", 0, None, b"UNKNOWN2"),
        (NOW_S - 3 * 86_400, "replay", 1, "MTR-TROMSO-1", None),
    ]
    security = [  # (at, kind)
        (NOW_S - 120, "no_key"),
        (NOW_S - 1200, "auth_failed"),
        (NOW_S - 3 * 3600, "replay"),
        (NOW_S - 2 * 86_400, "no_key"),
    ]
    sent = [  # (metering point, day, direction, version)
        (OSLO_MP, "2026-01-19", "consumption", 1),
        (OSLO_MP, "2026-01-19", "consumption", 2),
        (OSLO_MP, "2026-01-19", "production", 1),
        (TROMSO_MP, "2026-01-18", "consumption", 1),
        (CABIN_MP, "2026-01-19", "consumption", 1),  # no meter: owes Elhub nothing
    ]
    with store.engine.begin() as connection:
        connection.execute(register_reads.insert(), [
            {"meter_id": m, "read_at_s": at, "received_at_s": got, "invocation_counter": at,
             "import_wh": 1_234_567, "export_wh": 0}
            for m, at, got in reads
        ])  # fmt: skip
        connection.execute(quarantine.insert(), [
            {"received_at_s": got, "channel": "tcp", "source": "127.0.0.1", "reason": reason,
             "message": f"{reason} here", "system_title": title, "raw": b"\xdb\x08" + bytes(20),
             "resolved": resolved, "meter_id": meter}
            for got, reason, resolved, meter, title in held
        ])  # fmt: skip
        connection.execute(security_events.insert(), [
            {"at_s": at, "kind": kind, "channel": "tcp", "detail": ""} for at, kind in security
        ])  # fmt: skip
        connection.execute(events.insert(), {
            "meter_id": "MTR-OSLO-1", "metering_point_id": OSLO_MP, "at_s": NOW_S - 700,
            "name": "power_down", "log": "standard", "code": 1, "received_at_s": NOW_S - 600,
        })  # fmt: skip
        connection.execute(elhub_deliveries.insert(), [
            {"metering_point_id": mp, "day": day, "direction": direction, "version": version,
             "digest": "d", "series_id": "s", "message_id": "m", "file": "f",
             "delivered_at_s": NOW_S - 86_400}
            for mp, day, direction, version in sent
        ])  # fmt: skip


@pytest.fixture
def console(store_url):
    store = open_store(store_url)
    try:
        _fill(store)
        accounts = SqlAccountStore(store)
        made = {}
        for role in ROLES:
            customer = "C1" if role == "customer" else None
            made[role] = create_account(accounts, f"{role}@example.no", PASSWORD, role, customer,
                                        now_s=1)  # fmt: skip
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as client:
        yield client, store_url, made


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


def _log_in(client: TestClient, role: str) -> str:
    """Log in as the account of ``role``; the session's CSRF token."""
    form = client.get("/login")
    done = client.post("/login", data={"email": f"{role}@example.no", "password": PASSWORD,
                                       "csrf": _csrf(form.text)})  # fmt: skip
    assert done.status_code == 303
    return _csrf(client.get("/" if role == "customer" else "/console").text)


def _field(page: str, name: str) -> str:
    found = re.search(rf"data-{name}>([^<]*)<", page)
    assert found, name
    return found.group(1)


def _rows(url, query):
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(query).all()
    finally:
        store.close()


def _value(url, start_s):
    c = interval_values.c
    (row,) = _rows(url, sa.select(c.import_wh, c.status, c.estimation).where(
        c.metering_point_id == OSLO_MP, c.start_at_s == start_s))  # fmt: skip
    return tuple(row)


def test_the_dashboard_shows_what_the_store_holds(console):
    client, url, _ = console
    _log_in(client, "installer")  # installers see the dashboard too
    page = client.get("/console")
    assert page.status_code == 200
    text = page.text
    assert _field(text, 'field="meters-heard"') == "2"
    assert _field(text, 'field="meters-total"') == "3"
    assert _field(text, 'field="pushes-last-hour"') == "5"  # 2 reads, 1 event, 2 quarantined
    assert _field(text, 'field="busiest-minute"') == "2"
    assert _field(text, 'field="pushes-per-minute"') == "0,1"
    assert _field(text, 'field="quarantined"') == "3"  # unresolved only
    assert _field(text, 'reason="no_key"') == "2"
    assert _field(text, 'reason="auth_failed"') == "1"
    assert 'data-reason="replay"' not in text
    assert _field(text, 'field="elhub-delivered"') == "1"
    assert _field(text, 'field="elhub-expected"') == "2"
    assert _field(text, 'field="elhub-percent"') == "50,0"
    assert re.findall(r"data-missing>([0-9]+)<", text) == [TROMSO_MP]
    assert "Elhub, 19.01.2026" in text
    assert _field(text, 'field="security-events"') == "3"
    assert _field(text, 'kind="no_key"') == "1"
    assert _field(text, 'kind="replay"') == "1"

    store = open_store(url)
    try:
        board = dashboard(SqlConsoleStore(store), now_s=NOW_S)
    finally:
        store.close()
    assert board.first_minute_s == NOW_S - 3600
    by_minute = {i: n for i, n in enumerate(board.pushes_by_minute) if n}
    assert by_minute == {58: 2, 59: 1, 50: 1, 40: 1}  # at -120 and -90, -30, -600, -1200 s


def test_search_finds_a_metering_point_by_each_key(console):
    client, url, _ = console
    _log_in(client, "installer")

    def found(q):
        page = client.get("/console/search", params={"q": q})
        assert page.status_code == 200
        return re.findall(r'<tr data-mp="([0-9]+)">', page.text)

    assert found("70705750000000010") == [OSLO_MP, TROMSO_MP, CABIN_MP, MARKUP_MP]
    assert found("7070 5750 0000 0001 02") == [TROMSO_MP]  # a GSRN typed in groups
    assert found("gate 1 HAMAR") == [CABIN_MP]  # address words in any case
    assert found("TROMSØ") == found("tromsø") == [TROMSO_MP]  # Norwegian letters folded
    assert found("Storgata 7, 0155") == [MARKUP_MP]
    assert found("ØSTRE storgata") == found("østre") == [MARKUP_MP]
    assert found("kunde c2") == [TROMSO_MP]  # customer name
    assert found("C3") == [CABIN_MP]  # customer id
    assert found("oslo-old") == [OSLO_MP]  # part of a meter id
    assert found("mtr-tromso-1") == [TROMSO_MP]
    assert found("%") == found("_") == found("finnes ikke") == []  # no wildcards
    assert found("  ") == []  # nothing asked, nothing searched (and nothing logged)
    page = client.get("/console/search", params={"q": "Kunde"})
    assert "MTR-OSLO-1, MTR-OSLO-OLD" in page.text

    store = open_store(url)
    try:
        SqlEstateStore(store).save_estate([], [], [
            MeteringPoint(f"7070575000001{n:05d}", "T1", "C1", "cabin", "Fjellveien", str(n),
                          "3550", "Gol", "NO1", 25, 1, "TN")
            for n in range(SEARCH_LIMIT + 10)
        ], [])  # fmt: skip
    finally:
        store.close()
    page = client.get("/console/search", params={"q": "fjellveien"})
    assert len(re.findall(r"<tr data-mp=", page.text)) == SEARCH_LIMIT
    assert f"{SEARCH_LIMIT}+ treff" in page.text

    too_long = client.get("/console/search", params={"q": "x" * 101})
    assert too_long.status_code == 400
    assert "høyst 100 tegn" in too_long.text
    searches = _rows(url, sa.select(access_log.c.detail).where(access_log.c.action == "search"))
    assert len(searches) == 17  # every search with text, the refused one not


def test_every_view_of_a_metering_point_is_in_the_access_log_once(console):
    client, url, made = console
    store = open_store(url)
    try:
        report = settle_month(SqlSettlementStore(store), SqlPriceStore(store), "2026-01",
                              TARIFF, TAXES, now_s=NOW_S, metering_point_id=OSLO_MP)  # fmt: skip
    finally:
        store.close()
    (run,) = report.billed
    _log_in(client, "operator")
    for _ in range(2):
        page = client.get(f"/console/mp/{OSLO_MP}")
        assert page.status_code == 200
    text = page.text
    assert "Gate 1, 0150 Oslo" in text
    assert "Kunde C1 (C1)" in text
    assert 'data-meter="MTR-OSLO-1"' in text
    assert 'data-meter="MTR-OSLO-OLD"' in text
    assert text.count("<tr data-read>") == 3
    assert "power_down" in text
    assert "auth_failed here" in text  # its meter's quarantined push
    assert "no_key here" not in text  # another meter's
    assert text.count("<tr data-start=") == 7 * 24 + 12  # 13 January 00:00 to now
    assert ">Målt<" in text
    assert ">Estimert<" not in text  # 5 January's estimate is not of the last week
    assert _field(text, 'field="run-total"') == format_nok(run.total_nok)

    assert client.get("/console/mp/707057500000000999").status_code == 404
    assert client.get("/console/mp/not-a-gsrn").status_code == 404

    c = access_log.c
    rows = _rows(url, sa.select(c.at_s, c.account_id, c.action, c.metering_point_id,
                                c.customer_id).order_by(c.access_id))  # fmt: skip
    operator = made["operator"].account_id
    assert [tuple(r) for r in rows] == [
        (NOW_S, operator, "view_metering_point", OSLO_MP, "C1"),
        (NOW_S, operator, "view_metering_point", OSLO_MP, "C1"),
    ]

    client.cookies.clear()
    _log_in(client, "administrator")
    log = client.get("/console/audit")
    assert log.status_code == 200
    assert log.text.count("<td>operator@example.no</td>") == 2
    assert log.text.count("<td>20.01.2026 12:00</td>") == 2
    only = client.get("/console/audit", params={"customer": "C2"})
    assert "operator@example.no" not in only.text
    assert client.get("/console/audit", params={"mp": "x"}).status_code == 400


def test_only_staff_get_in_and_only_editors_edit(console):
    client, _, _ = console
    routes = ["/console", "/console/search?q=gate", f"/console/mp/{OSLO_MP}", "/console/audit"]
    for route in routes:
        assert client.get(route).headers["location"] == "/login"
    csrf = _log_in(client, "customer")
    for route in routes:
        assert client.get(route).status_code == 403, route
    edit = {"csrf": csrf, "start": "2026-01-19T10:00", "import_kwh": "2", "reason": "test"}
    assert client.post(f"/console/mp/{OSLO_MP}/edit", data=edit).status_code == 403

    client.cookies.clear()
    csrf = _log_in(client, "installer")
    page = client.get(f"/console/mp/{OSLO_MP}")
    assert page.status_code == 200
    assert "/edit" not in page.text  # no edit form
    assert client.post(f"/console/mp/{OSLO_MP}/edit", data={**edit, "csrf": csrf}).status_code == (
        403)  # fmt: skip
    assert client.get("/console/audit").status_code == 403

    client.cookies.clear()
    _log_in(client, "operator")
    assert client.get("/console/audit").status_code == 403
    assert "/edit" in client.get(f"/console/mp/{OSLO_MP}").text


def test_an_edit_without_a_reason_or_with_a_bad_value_changes_nothing(console):
    client, url, _ = console
    csrf = _log_in(client, "operator")
    before = _value(url, HOUR_EDITED_S)
    assert before == (1500, "measured", None)
    good = {"csrf": csrf, "start": "2026-01-19T10:00", "import_kwh": "2,5", "reason": "Målerbytte"}
    refused = [
        ({"reason": "   "}, "må ha en begrunnelse"),
        ({"import_kwh": "mye"}, "Uttak må være et tall"),
        ({"import_kwh": "1,2345"}, "Uttak må være et tall"),
        ({"import_kwh": "-1"}, "kan ikke være negativ"),
        ({"export_kwh": "x"}, "Innmating må være et tall"),
        ({"start": "i går"}, "Starttidspunktet må være en lokal dato"),
        ({"start": "2026-03-29T02:00"}, "Starttidspunktet må være en lokal dato"),  # skipped
        ({"start": "2026-01-19T10:30"}, "starten på en måleperiode"),
        ({"start": "2026-01-20T12:00"}, "ikke er over ennå"),
        ({"reason": "x" * 501}, "høyst 500 tegn"),
    ]
    for change, message in refused:
        page = client.post(f"/console/mp/{OSLO_MP}/edit", data={**good, **change})
        assert page.status_code == 400, change
        assert message in page.text, change
    forged = client.post(f"/console/mp/{OSLO_MP}/edit", data={**good, "csrf": "forged"})
    assert forged.status_code == 403
    no_meter = client.post(f"/console/mp/{CABIN_MP}/edit", data=good)
    assert no_meter.status_code == 400
    assert "ingen måler" in no_meter.text
    assert client.post("/console/mp/707057500000000999/edit", data=good).status_code == 404

    assert _value(url, HOUR_EDITED_S) == before
    assert _rows(url, sa.select(value_edits)) == []
    assert _rows(url, sa.select(access_log).where(access_log.c.action == "edit_value")) == []


def test_an_edit_with_a_reason_changes_the_value_and_is_audited(console):
    client, url, made = console
    csrf = _log_in(client, "operator")
    done = client.post(f"/console/mp/{OSLO_MP}/edit", data={
        "csrf": csrf, "start": "2026-01-19T10:00", "import_kwh": " 2,5 ", "export_kwh": "",
        "reason": "Målerbytte, avlest sluttstand"})  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/mp/{OSLO_MP}?edited=1"
    assert _value(url, HOUR_EDITED_S) == (2500, "estimated", "manual")
    c = value_edits.c
    (edit,) = _rows(url, sa.select(c.edited_at_s, c.edited_by, c.start_at_s, c.old_import_wh,
                                   c.new_import_wh, c.old_status, c.reason))  # fmt: skip
    assert tuple(edit) == (NOW_S, "operator@example.no", HOUR_EDITED_S, 1500, 2500, "measured",
                           "Målerbytte, avlest sluttstand")  # fmt: skip
    a = access_log.c
    (logged,) = _rows(url, sa.select(a.at_s, a.account_id, a.metering_point_id, a.customer_id)
                      .where(a.action == "edit_value"))  # fmt: skip
    assert tuple(logged) == (NOW_S, made["operator"].account_id, OSLO_MP, "C1")
    page = client.get(done.headers["location"])
    assert "Verdien er endret" in page.text
    assert "Målerbytte, avlest sluttstand" in page.text
    assert f'<tr data-start="{HOUR_EDITED_S}">' in page.text


def test_what_is_typed_comes_back_escaped(console):
    client, _, _ = console
    _log_in(client, "administrator")
    script = '<script>alert("x")</script>'
    page = client.get("/console/search", params={"q": script})
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    hit = client.get("/console/search", params={"q": "onerror"})
    assert re.findall(r'<tr data-mp="([0-9]+)">', hit.text) == [MARKUP_MP]
    assert MARKUP_NAME not in hit.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.text
    assert MARKUP_NAME not in client.get(f"/console/mp/{MARKUP_MP}").text
    log = client.get("/console/audit")
    assert "<script>" not in log.text
    assert "&lt;script&gt;" in log.text


def test_the_access_log_service_guards_itself(store_url):
    store = open_store(store_url)
    try:
        audit = SqlAuditStore(store)
        who = create_account(SqlAccountStore(store), "drift@example.no", PASSWORD, "operator",
                             None, now_s=1)  # fmt: skip
        with pytest.raises(ValueError, match="lower-case name"):
            record_access(audit, who, "View!", now_s=5)
        record_access(audit, who, "view_metering_point", metering_point_id=OSLO_MP,
                      customer_id="C1", detail="x" * (MAX_DETAIL + 100), now_s=5)  # fmt: skip
        with pytest.raises(NotAllowed):
            list_accesses(audit, who)
        admin = Account(who.account_id + 1, "admin@example.no", "administrator", None)
        with pytest.raises(ValueError, match="positive"):
            list_accesses(audit, admin, limit=0)
        (entry,) = list_accesses(audit, admin, customer_id="C1")
        assert entry.email == "drift@example.no"
        assert (entry.record.at_s, entry.record.action) == (5, "view_metering_point")
        assert len(entry.record.detail) == MAX_DETAIL
        assert list_accesses(audit, admin, account_id=admin.account_id) == []
        assert list_accesses(audit, admin, metering_point_id=TROMSO_MP) == []
    finally:
        store.close()

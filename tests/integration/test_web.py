"""The portal over HTTP (FastAPI's test client), on SQLite and PostgreSQL: log-in, CSRF,
rate limits, and a customer who sees their own metering points and the numbers the service
computes, and nobody else's."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.accounts import create_account, log_in
from openams.services.invoice import format_kwh, format_nok
from openams.services.month_to_date import month_to_date
from openams.services.vee import local_day_bounds
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.web import create_app
from openams.web.app import LOGINS_PER_MINUTE, SESSION_COOKIE
from tests.integration.test_settlement_store import OSLO_MP, TROMSO_MP, _seed
from tests.unit.domain.test_settlement import TARIFF, TAXES

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = local_day_bounds(date(2026, 1, 20))[0] + 12 * 3600


@pytest.fixture
def client(store_url):
    store = open_store(store_url)
    try:
        _seed(store)
        accounts = SqlAccountStore(store)
        create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        create_account(accounts, "c2@example.no", PASSWORD, "customer", "C2", now_s=1)
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
    finally:
        store.close()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, taxes=TAXES, clock=lambda: NOW_S)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client, store_url


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


def _log_in(client: TestClient, email: str, password: str = PASSWORD):
    form = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf": _csrf(form.text)})  # fmt: skip


def test_anonymous_visitors_get_the_login_page_only(client):
    http, _ = client
    assert http.get("/").headers["location"] == "/login"
    page = http.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text
    assert http.get("/no-such-page").status_code == 404


def test_a_customer_sees_their_month_as_the_service_computes_it(client):
    http, url = client
    response = _log_in(http, "C1@example.no")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    page = http.get("/")
    assert page.status_code == 200
    assert OSLO_MP in page.text
    assert TROMSO_MP not in page.text  # customer C2's
    store = open_store(url)
    try:
        seen = month_to_date(SqlSettlementStore(store), SqlPriceStore(store), OSLO_MP, TARIFF,
                             TAXES, now_s=NOW_S)  # fmt: skip
    finally:
        store.close()
    assert seen is not None
    energy = re.search(r'data-field="energy">([^<]+)<', page.text).group(1)
    cost = re.search(r'data-field="cost">([^<]+)<', page.text).group(1)
    assert energy == format_kwh(seen.settlement.energy_kwh)
    assert cost == format_nok(seen.settlement.total_nok)
    step = re.search(r'data-field="step">([^<]+)<', page.text).group(1)
    assert step.startswith(f"{seen.settlement.capacity_step} kW")
    assert len(re.findall(r'data-field="cheap"', page.text)) == 3


def test_the_other_customer_sees_only_their_own(client):
    http, _ = client
    _log_in(http, "c2@example.no")
    page = http.get("/")
    assert TROMSO_MP in page.text
    assert OSLO_MP not in page.text
    assert http.get("/console").status_code == 403  # the console is the staff's


def test_wrong_passwords_forms_without_their_token_and_floods_are_refused(client):
    http, _ = client
    refused = _log_in(http, "c1@example.no", "not the password")
    assert refused.status_code == 401
    assert "Feil e-post eller passord." in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    forged = http.post("/login", data={"email": "c1@example.no", "password": PASSWORD,
                                       "csrf": "guessed"})  # fmt: skip
    assert forged.status_code == 403
    for _ in range(LOGINS_PER_MINUTE):
        last = _log_in(http, "nobody@example.no", "whatever it is")
    assert last.status_code == 429
    assert "For mange forsøk" in last.text


def test_logging_out_needs_the_sessions_token_and_ends_it(client):
    http, _ = client
    _log_in(http, "drift@example.no")
    assert http.get("/").headers["location"] == "/console"
    console = http.get("/console")
    assert "Driftskonsoll" in console.text
    assert http.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert http.get("/console").status_code == 200  # still logged in
    out = http.post("/logout", data={"csrf": _csrf(console.text)})
    assert out.headers["location"] == "/login"
    assert http.get("/").headers["location"] == "/login"


def test_ams_accounts_add_then_log_in(store_url, monkeypatch, capsys):
    from openams.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["accounts", "add", "Ny@Example.no", "--role", "customer", "--customer", "C9",
                 "--password-stdin", "--db", store_url]) == 0  # fmt: skip
    assert "ny@example.no, customer of customer C9" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["accounts", "add", "b@example.no", "--role", "operator", "--password-stdin",
                 "--db", store_url]) == 2  # fmt: skip
    assert "at least 10 characters" in capsys.readouterr().err
    store = open_store(store_url)
    try:
        assert log_in(SqlAccountStore(store), "ny@example.no", PASSWORD, now_s=5).account.role == (
            "customer")  # fmt: skip
    finally:
        store.close()


def test_ams_serve_serves_the_portal_beside_the_headend(tmp_path):
    url = f"sqlite:///{tmp_path / 'openams.db'}"
    open_store(url).close()
    tariff = str(resources.files("openams") / "data" / "tariffs" / "elvia_2026.toml")
    env = {**os.environ, "OPENAMS_KEK": "00" * 32}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from openams.cli import main; sys.exit(main())",
         "serve", "--db", url, "--tcp", "127.0.0.1:0", "--host", "127.0.0.2", "--port", "0",
         "--tariff", tariff, "--vee-every", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        address = None
        for _ in range(10):
            line = process.stdout.readline()
            if line.startswith("portal at "):
                address = line.split()[-1]
                break
        assert address is not None
        assert address.startswith("http://127.0.0.2:")  # --host and --port over --web's
        with urllib.request.urlopen(address + "login", timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert 'name="password"' in response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        if process.stdout is not None:
            process.stdout.close()


def test_ams_serve_can_serve_the_portal_from_more_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'openams.db'}"
    open_store(url).close()
    tariff = str(resources.files("openams") / "data" / "tariffs" / "elvia_2026.toml")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from openams.cli import main; sys.exit(main())",
         "serve", "--db", url, "--tcp", "127.0.0.1:0", "--port", "0", "--web-processes", "3",
         "--tariff", tariff, "--vee-every", "0"],
        env={**os.environ, "OPENAMS_KEK": "00" * 32}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        while line and not line.startswith("portal at "):
            line = process.stdout.readline()
        assert line.endswith("(3 processes)\n"), line
        address = line.split()[2]
        children = _children(process.pid)
        assert len(children) >= 2  # the two further portal processes
        for _ in range(30):  # new connections, spread over the processes by the kernel
            with urllib.request.urlopen(address + "login", timeout=10) as response:  # noqa: S310
                assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        if process.stdout is not None:
            process.stdout.close()
    deadline = time.monotonic() + 10  # the spawn start method's helper leaves last
    while [pid for pid in children if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]  # none left


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting for its parent does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found


def test_ams_serve_refuses_a_portal_address_with_the_portal_off(tmp_path):
    url = f"sqlite:///{tmp_path / 'openams.db'}"
    answer = subprocess.run(
        [sys.executable, "-c", "import sys; from openams.cli import main; sys.exit(main())",
         "serve", "--db", url, "--web", "off", "--port", "8080"],
        capture_output=True, text=True, env={**os.environ, "OPENAMS_KEK": "00" * 32},
        timeout=60, check=False,
    )  # fmt: skip
    assert answer.returncode == 2
    assert "--web is off" in answer.stderr
    assert "Traceback" not in answer.stderr

"""Log-in by e-mailed link over HTTP, on SQLite and PostgreSQL: the link in the outbox logs in
the right customer once, within 15 minutes, after a button press; an unknown address gets the
same page; forms need their token; requests are limited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from openams.config import Settings
from openams.services.login_links import LINK_FOR_S, LINKS_PER_ADDRESS, LINKS_WINDOW_S
from openams.store import open_store
from openams.store.schema import login_links
from openams.web import create_app
from openams.web.app import SESSION_COOKIE
from openams.web.contact import LINK_REQUESTS_PER_CLIENT
from tests.integration.test_contact import Clock, _another, _csrf, _field, _outbox, seed
from tests.unit.domain.test_settlement import TARIFF

LINK = re.compile(r"(https?://[^/\s]+)/login/link/([A-Za-z0-9_-]+)")


@pytest.fixture
def portal(store_url):
    seed(store_url)
    clock = Clock()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, clock=clock)
    with TestClient(app, follow_redirects=False) as http:
        yield http, store_url, clock


def _ask(http: TestClient, email: str):
    form = http.get("/login/link")
    assert form.status_code == 200
    return http.post("/login/link", data={"email": email, "csrf": _csrf(form.text)})


def _token(url: str, to: str) -> str:
    sent = _outbox(url, to)
    assert sent, f"no mail to {to}"
    return LINK.search(sent[0].message.text).group(2)


def _use(http: TestClient, token: str):
    """Open the link and press the button (when there is one)."""
    page = http.get(f"/login/link/{token}")
    if page.status_code != 200:
        return page
    return http.post(f"/login/link/{token}", data={"csrf": _csrf(page.text)})


def test_the_link_in_the_mail_logs_the_customer_in_once(portal):
    http, url, _ = portal
    asked = _ask(http, " C1@Example.no ")
    assert asked.status_code == 200
    assert "Hvis adressen hører til en konto" in asked.text
    [sent] = _outbox(url)
    assert sent.message.to == "c1@example.no"
    assert sent.message.subject == "Innloggingslenke til Min side"
    assert "15 minutter" in sent.message.text
    base, token = LINK.search(sent.message.text).groups()
    assert base == "http://testserver"

    # Opening the link (as a mail scanner would) only shows a button.
    page = http.get(f"/login/link/{token}")
    assert page.status_code == 200
    assert "Logg meg inn" in page.text
    assert http.get(f"/login/link/{token}").status_code == 200  # not used up by looking
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in page.headers["cache-control"]
    assert SESSION_COOKIE not in page.headers.get("set-cookie", "")
    assert http.get("/").headers["location"] == "/login"
    done = _use(http, token)
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    cookie = done.headers["set-cookie"].lower()
    assert SESSION_COOKIE in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    contact = http.get("/contact")  # logged in as C1, and only C1
    assert contact.status_code == 200
    assert _field(contact.text, "email") == "kari@example.no"

    again = _use(_another(http), token)
    assert again.status_code == 404
    assert "allerede brukt" in again.text
    assert SESSION_COOKIE not in again.headers.get("set-cookie", "")


def test_only_the_hash_of_the_token_is_kept(portal):
    http, url, _ = portal
    _ask(http, "c1@example.no")
    token = _token(url, "c1@example.no")
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            rows = [tuple(r) for r in connection.execute(login_links.select())]
    finally:
        store.close()
    assert len(rows) == 1
    assert token not in str(rows)


def test_an_unknown_address_gets_the_same_page_and_no_mail(portal):
    http, url, _ = portal
    known = _ask(http, "c1@example.no")
    unknown = _ask(http, "nobody@example.no")
    staff = _ask(http, "drift@example.no")  # staff log in with their password only
    malformed = _ask(http, "not an address")
    for other in (unknown, staff, malformed):
        assert other.status_code == known.status_code == 200
        assert other.text == known.text
    assert [m.message.to for m in _outbox(url)] == ["c1@example.no"]


def test_an_expired_link_is_refused(portal):
    http, url, clock = portal
    _ask(http, "c1@example.no")
    token = _token(url, "c1@example.no")
    page = http.get(f"/login/link/{token}")  # opened in time, the button pressed too late
    clock.now_s += LINK_FOR_S
    refused = http.post(f"/login/link/{token}", data={"csrf": _csrf(page.text)})
    assert refused.status_code == 404
    assert "utløpt" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert http.get("/").headers["location"] == "/login"
    assert _use(http, token).status_code == 404
    assert _use(http, "made-up-token-made-up-token").status_code == 404
    assert _use(http, "%3Cscript%3E").status_code == 404


def test_using_a_link_uses_up_the_accounts_other_links(portal):
    http, url, _ = portal
    _ask(http, "c1@example.no")
    _ask(http, "c1@example.no")
    second, first = (LINK.search(m.message.text).group(2) for m in _outbox(url))
    assert _use(http, second).status_code == 303
    assert _use(_another(http), first).status_code == 404


def test_the_forms_need_their_token(portal):
    http, url, _ = portal
    forged = http.post("/login/link", data={"email": "c1@example.no", "csrf": "guessed"})
    assert forged.status_code == 403
    assert _outbox(url) == []
    _ask(http, "c1@example.no")
    token = _token(url, "c1@example.no")
    stranger = _another(http)  # a cross-site form: no cookie of ours
    assert stranger.post(f"/login/link/{token}", data={"csrf": "guessed"}).status_code == 403
    assert _use(http, token).status_code == 303  # the link was not used up


def test_requests_are_limited_per_address_and_per_client(portal):
    http, url, clock = portal
    for _ in range(LINKS_PER_ADDRESS + 1):
        assert _ask(http, "c1@example.no").status_code == 200  # the same page every time
    assert len(_outbox(url)) == LINKS_PER_ADDRESS
    clock.now_s += LINKS_WINDOW_S
    _ask(http, "c1@example.no")
    assert len(_outbox(url)) == LINKS_PER_ADDRESS + 1
    for _ in range(LINK_REQUESTS_PER_CLIENT - 1):  # the client's window began anew too
        assert _ask(http, "nobody@example.no").status_code == 200
    flooded = _ask(http, "c2@example.no")
    assert flooded.status_code == 429
    assert "For mange forespørsler" in flooded.text
    assert _outbox(url, "c2@example.no") == []


def test_english_readers_get_english_pages_and_mail(portal):
    http, url, _ = portal
    http.cookies.set("openams_lang", "en")
    assert "Get a log-in link by e-mail" in http.get("/login").text
    asked = _ask(http, "c1@example.no")
    assert "we have now sent a log-in link" in asked.text
    assert _outbox(url)[0].message.subject == "Your log-in link"
    assert "15 minutes" in _outbox(url)[0].message.text
    assert "Log me in" in http.get(f"/login/link/{_token(url, 'c1@example.no')}").text


def test_the_log_in_page_offers_a_link(portal):
    http, _, _ = portal
    assert 'href="/login/link"' in http.get("/login").text

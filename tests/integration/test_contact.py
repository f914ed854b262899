"""A customer's contact details over HTTP, on SQLite and PostgreSQL: the confirmation link in
the outbox, confirming, expired and reused links, bad input, CSRF, nobody else's details;
``ams outbox``; and the SMTP mailer against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from openams.cli import main
from openams.config import Settings
from openams.errors import MailError
from openams.services.accounts import create_account
from openams.services.contact import CONFIRM_FOR_S
from openams.services.mail import Message, SmtpMailer, parse_smtp_url
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.outbox import SqlOutboxStore
from openams.store.schema import customers, email_confirmations
from openams.web import create_app
from tests.unit.domain.test_settlement import TARIFF

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
NOW_S = 1_768_910_400  # 2026-01-20 12:00 UTC
LINK = re.compile(r"(https?://[^/\s]+)/contact/confirm/([A-Za-z0-9_-]+)")


def seed(url: str) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as connection:
            connection.execute(customers.insert(), [
                {"customer_id": "C1", "name": "Kari Nordmann", "mobile": "+4791234567",
                 "email": "kari@example.no"},
                {"customer_id": "C2", "name": "Per Hansen", "mobile": "+4741111111",
                 "email": "per@example.no"},
            ])  # fmt: skip
        accounts = SqlAccountStore(store)
        create_account(accounts, "c1@example.no", PASSWORD, "customer", "C1", now_s=1)
        create_account(accounts, "c2@example.no", PASSWORD, "customer", "C2", now_s=1)
        create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
    finally:
        store.close()


class Clock:
    def __init__(self) -> None:
        self.now_s = float(NOW_S)

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def portal(store_url):
    seed(store_url)
    clock = Clock()
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, clock=clock)
    with TestClient(app, follow_redirects=False) as http:
        yield http, store_url, clock


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


def _log_in(http: TestClient, email: str) -> None:
    form = http.get("/login")
    done = http.post("/login", data={"email": email, "password": PASSWORD,
                                     "csrf": _csrf(form.text)})  # fmt: skip
    assert done.status_code == 303


def _another(http: TestClient) -> TestClient:
    """A second browser on the running application (its own cookies)."""
    return TestClient(http.app, follow_redirects=False)


def _field(page: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', page)
    assert found, page
    return found.group(1)


def _outbox(url: str, to: str | None = None):
    store = open_store(url)
    try:
        return SqlOutboxStore(store).messages(to=to)
    finally:
        store.close()


def _stored(url: str, customer_id: str) -> tuple[str, str]:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            row = connection.execute(
                sa.select(customers.c.mobile, customers.c.email)
                .where(customers.c.customer_id == customer_id)
            ).one()  # fmt: skip
            return row[0], row[1]
    finally:
        store.close()


def _change(http: TestClient, mobile: str, email: str, csrf: str | None = None):
    if csrf is None:
        csrf = _csrf(http.get("/contact").text)
    return http.post("/contact", data={"csrf": csrf, "mobile": mobile, "email": email})


def test_a_new_address_is_confirmed_by_the_link_in_the_outbox(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    page = http.get("/contact")
    assert page.status_code == 200
    assert (_field(page.text, "mobile"), _field(page.text, "email")) == (
        "+4791234567", "kari@example.no")  # fmt: skip
    changed = _change(http, "+47 915 55 555", "Kari.Ny@Example.no")
    assert changed.status_code == 200
    assert "Vi har sendt en lenke til den nye adressen" in changed.text
    [sent] = _outbox(url)
    assert sent.message.to == "kari.ny@example.no"
    assert sent.message.subject == "Bekreft ny e-postadresse"
    # The mobile number is stored at once; the old address stays in use until the link.
    assert _stored(url, "C1") == ("+4791555555", "kari@example.no")
    assert "kari.ny@example.no" in _field(changed.text, "pending")
    assert _field(changed.text, "email") == "kari@example.no"

    base, token = LINK.search(sent.message.text).groups()
    assert base == "http://testserver"
    stranger = _another(http)  # no session needed
    opened = stranger.get(f"/contact/confirm/{token}")
    assert opened.status_code == 200
    assert "E-postadressen er bekreftet" in opened.text
    assert opened.headers["referrer-policy"] == "no-referrer"
    again = stranger.get(f"/contact/confirm/{token}")
    assert again.status_code == 404
    assert "allerede brukt" in again.text
    assert _stored(url, "C1") == ("+4791555555", "kari.ny@example.no")
    page = http.get("/contact")
    assert _field(page.text, "email") == "kari.ny@example.no"
    assert 'data-field="pending"' not in page.text


def test_only_the_hash_of_the_token_is_kept(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    _change(http, "+4791234567", "ny@example.no")
    token = LINK.search(_outbox(url)[0].message.text).group(2)
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            rows = [tuple(r) for r in connection.execute(email_confirmations.select())]
    finally:
        store.close()
    assert len(rows) == 1
    assert token not in str(rows)


def test_an_expired_link_is_refused_and_changes_nothing(portal):
    http, url, clock = portal
    _log_in(http, "c1@example.no")
    _change(http, "+4791234567", "ny@example.no")
    token = LINK.search(_outbox(url)[0].message.text).group(2)
    clock.now_s += CONFIRM_FOR_S
    refused = http.get(f"/contact/confirm/{token}")
    assert refused.status_code == 404
    assert "utløpt" in refused.text
    assert _stored(url, "C1")[1] == "kari@example.no"
    assert http.get("/contact/confirm/made-up-token-made-up-token").status_code == 404
    assert http.get("/contact/confirm/%3Cscript%3E").status_code == 404


def test_a_newer_change_makes_the_older_link_useless(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    _change(http, "+4791234567", "first@example.no")
    _change(http, "+4791234567", "second@example.no")
    second, first = _outbox(url)
    assert http.get(LINK.search(first.message.text).group(0)).status_code == 404
    assert http.get(LINK.search(second.message.text).group(0)).status_code == 200
    assert _stored(url, "C1")[1] == "second@example.no"


def test_bad_input_gets_clear_messages_and_stores_nothing(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    refused = _change(http, "1234 5678", "<script>alert(1)</script>")
    assert refused.status_code == 400
    assert "Mobilnummeret må ha 8 siffer" in refused.text
    assert "E-postadressen ser ikke riktig ut" in refused.text
    assert "<script>alert(1)</script>" not in refused.text
    assert "&lt;script&gt;" in refused.text  # what was typed comes back, escaped
    assert "Traceback" not in refused.text
    assert _stored(url, "C1") == ("+4791234567", "kari@example.no")
    assert _outbox(url) == []
    too_long = _change(http, "+4791234567", "a" * 300 + "@example.no")
    assert too_long.status_code == 400
    assert "E-postadressen ser ikke riktig ut" in too_long.text
    assert _outbox(url) == []


def test_a_form_without_the_sessions_token_is_refused(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    assert _change(http, "41555555", "ny@example.no", csrf="forged").status_code == 403
    assert http.post("/contact", data={"mobile": "41555555"}).status_code == 403
    assert _stored(url, "C1") == ("+4791234567", "kari@example.no")
    assert _outbox(url) == []


def test_each_customer_sees_and_changes_only_their_own(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    _change(http, "+4791234567", "kari.ny@example.no")
    other = _another(http)
    _log_in(other, "c2@example.no")
    page = other.get("/contact")
    assert (_field(page.text, "mobile"), _field(page.text, "email")) == (
        "+4741111111", "per@example.no")  # fmt: skip
    assert "kari" not in page.text
    assert "9123" not in page.text
    _change(other, "99 99 99 99", "per@example.no")
    assert _stored(url, "C1") == ("+4791234567", "kari@example.no")
    assert _stored(url, "C2") == ("+4799999999", "per@example.no")
    anonymous = _another(http)
    assert anonymous.get("/contact").headers["location"] == "/login"
    assert anonymous.post("/contact", data={"mobile": "41555555"}).status_code == 303
    _log_in(anonymous, "drift@example.no")
    assert anonymous.get("/contact").status_code == 403


def test_english_readers_get_english_pages_and_mail(portal):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    http.cookies.set("openams_lang", "en")
    page = http.get("/contact")
    assert "Contact details" in page.text
    assert "Mobile number" in page.text
    refused = _change(http, "12", "kari@example.no")
    assert "The mobile number must have 8 digits" in refused.text
    done = _change(http, "+4791234567", "ny@example.no")
    assert "We have sent a link to the new address" in done.text
    assert _outbox(url)[0].message.subject == "Confirm your new e-mail address"


def test_ams_outbox_lists_newest_first(portal, capsys):
    http, url, _ = portal
    _log_in(http, "c1@example.no")
    _change(http, "+4791234567", "first@example.no")
    _change(http, "+4791234567", "second@example.no")
    assert main(["outbox", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines] == ["second@example.no:", "first@example.no:"]
    assert "Bekreft ny e-postadresse" in lines[0]
    assert main(["outbox", "--db", url, "--to", "first@example.no", "--show"]) == 0
    out = capsys.readouterr().out
    assert "second@example.no" not in out
    assert "/contact/confirm/" in out
    assert main(["outbox", "--db", url, "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


# ---- a real SMTP server ------------------------------------------------------------------


class Collect:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server():
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def test_the_link_arrives_through_a_real_smtp_server(store_url, smtp_server):
    handler, port = smtp_server
    seed(store_url)
    settings = Settings(db_url=store_url,
                        smtp_url=f"smtp://127.0.0.1:{port}?from=noreply@example.no",
                        public_url="https://min.example.no")  # fmt: skip
    app = create_app(settings, tariff=TARIFF, clock=Clock())
    with TestClient(app, follow_redirects=False) as http:
        _log_in(http, "c1@example.no")
        assert _change(http, "+4791234567", "ny@example.no").status_code == 200
        [envelope] = handler.envelopes
        assert envelope.rcpt_tos == ["ny@example.no"]
        assert envelope.mail_from == "noreply@example.no"
        received = message_from_bytes(envelope.original_content, policy=policy.default)
        assert received["To"] == "ny@example.no"
        assert received["Subject"] == "Bekreft ny e-postadresse"
        base, token = LINK.search(received.get_content()).groups()
        assert base == "https://min.example.no"  # the configured address, not the request's
        assert http.get(f"/contact/confirm/{token}").status_code == 200
    assert _outbox(store_url) == []  # sent, not written to the outbox
    assert _stored(store_url, "C1")[1] == "ny@example.no"


def test_a_refused_connection_gives_a_clear_error(store_url):
    port = _free_port()  # nothing listens there
    mailer = SmtpMailer(parse_smtp_url(f"smtp://ams:hemmelig@127.0.0.1:{port}?timeout=5"))
    with pytest.raises(MailError, match="connection was refused") as refused:
        mailer.send(Message("kari@example.no", "Emne", "Tekst"))
    assert f"127.0.0.1:{port}" in str(refused.value)
    assert "hemmelig" not in str(refused.value)
    assert "kari@example.no" not in str(refused.value)

    seed(store_url)
    app = create_app(Settings(db_url=store_url), tariff=TARIFF, clock=Clock(),
                     mailer=mailer)  # fmt: skip
    with TestClient(app, follow_redirects=False) as http:
        _log_in(http, "c1@example.no")
        failed = _change(http, "41555555", "ny@example.no")
        assert failed.status_code == 503
        assert "Vi fikk ikke sendt e-posten" in failed.text
        assert 'data-field="pending"' not in failed.text
    assert _stored(store_url, "C1") == ("+4791234567", "kari@example.no")


# ---- the English texts -------------------------------------------------------------------


def _page_texts() -> set[str]:
    """Every bokmål text of these pages: the templates' ``_()`` and the route module's
    messages (its sentences, apart from docstrings)."""
    import ast
    from importlib import resources

    from openams.web import contact as routes

    folder = resources.files("openams") / "web" / "templates"
    texts = {"Få en innloggingslenke på e-post"}  # the line on the log-in page
    for name in ("contact.html.j2", "login_link.html.j2"):
        texts |= set(re.findall(r'_\("([^"]+)"', (folder / name).read_text(encoding="utf-8")))
    tree = ast.parse(resources.files("openams").joinpath("web/contact.py").read_text("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body and isinstance(node.body[0], ast.Expr)
    }  # fmt: skip
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings and node.value.endswith(".")):  # fmt: skip
            texts.add(node.value)
    assert routes.add_routes is not None
    return texts


def test_every_text_of_these_pages_has_its_english():
    from openams.web.i18n import catalog

    texts = _page_texts()
    assert "Mobilnummeret er lagret." in texts
    assert "Lenken er ugyldig, utløpt eller allerede brukt." in texts
    missing = sorted(t for t in texts if t not in catalog("en"))
    assert not missing, missing

"""The mail server's URL, and the outbox mailer over an in-memory store."""

from __future__ import annotations

import pytest

from openams.config import load_settings
from openams.errors import InputError
from openams.services.mail import (
    DEFAULT_TIMEOUT_S,
    Message,
    OutboxMailer,
    SmtpMailer,
    SmtpSettings,
    mailer_from_url,
    parse_smtp_url,
)


def test_a_full_url():
    s = parse_smtp_url("smtp://ams%40example.no:p%40ss:w0rd@mail.example.no:587"
                       "?starttls=1&from=noreply@example.no&timeout=5")  # fmt: skip
    assert s == SmtpSettings(
        "mail.example.no", 587, "noreply@example.no", "ams@example.no", "p@ss:w0rd",
        starttls=True, implicit_tls=False, timeout_s=5.0,
    )  # fmt: skip
    assert "p@ss" not in repr(s)


def test_defaults_of_smtp_and_smtps():
    plain = parse_smtp_url("smtp://127.0.0.1")
    assert (plain.port, plain.sender, plain.username, plain.starttls, plain.timeout_s) == (
        25, "noreply@127.0.0.1", None, False, DEFAULT_TIMEOUT_S)  # fmt: skip
    tls = parse_smtp_url("smtps://mail.example.no")
    assert (tls.port, tls.implicit_tls) == (465, True)


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://mail.example.no", "smtp:// or smtps://"), ("mail.example.no", "smtp://"),
     ("smtp://", "names no host"), ("smtp://u:secret@host:99999", "port"),
     ("smtp://u:secret@host:abc", "port"), ("smtp://u:secret@host?starttls=maybe", "starttls"),
     ("smtp://u:secret@host?timeout=0", "timeout"), ("smtp://u:secret@host?timeout=x", "timeout"),
     ("smtp://u:secret@host?from=nobody", "from")],
)  # fmt: skip
def test_a_malformed_url_is_refused_without_repeating_it(url, message):
    with pytest.raises(InputError, match=message) as refused:
        parse_smtp_url(url)
    assert "secret" not in str(refused.value)
    assert refused.value.source == "OPENAMS_SMTP_URL"


def test_the_settings_choose_smtp_or_the_outbox():
    settings = load_settings(environ={"OPENAMS_SMTP_URL": "smtp://u:secret@mail.example.no"})
    assert "secret" not in repr(settings)
    assert isinstance(mailer_from_url(settings.smtp_url, list, lambda: 0.0), SmtpMailer)
    assert load_settings(environ={"OPENAMS_SMTP_URL": " "}).smtp_url is None
    assert load_settings(environ={}).public_url is None


class MemoryOutbox:
    def __init__(self):
        self.kept = []

    def add_message(self, message, now_s):
        self.kept.append((now_s, message))
        return len(self.kept)

    def messages(self, *, to=None, limit=100):
        return self.kept[::-1][:limit]


def test_without_a_server_messages_go_to_the_outbox():
    outbox = MemoryOutbox()
    message = Message("kari@example.no", "Emne", "Tekst")
    OutboxMailer(outbox, lambda: 1234.5).send(message)
    mailer_from_url(None, lambda: outbox, lambda: 99.0).send(message)
    assert outbox.kept == [(1234, message), (99, message)]

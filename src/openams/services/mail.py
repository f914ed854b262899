"""Sending e-mail: the :class:`Mailer` port, the outbox and an SMTP server.

Two mailers implement the port:

* :class:`OutboxMailer` writes each message to the ``outbox`` table (through an
  :class:`OutboxStore`). It is the default: the demo and the tests read the table, and
  ``ams outbox`` prints it.
* :class:`SmtpMailer` hands each message to an SMTP server (standard library ``smtplib``),
  configured with a URL: ``smtp[s]://[user:password@]host[:port][?starttls=1&from=ADDRESS
  &timeout=SECONDS]`` (``OPENAMS_SMTP_URL``, :mod:`openams.config`).

Invariants:
    * A failure to send raises :class:`~openams.errors.MailError`, naming the server and the
      reason. It never contains the password, a recipient or anything of the message.
    * A mailer sends exactly what it is given: the texts of a message are written (in the
      reader's language) by the service that sends it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from openams.errors import InputError, MailError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Mailer",
    "Message",
    "OutboxMailer",
    "OutboxStore",
    "SentMessage",
    "SmtpMailer",
    "SmtpSettings",
    "mailer_from_url",
    "parse_smtp_url",
]

#: Seconds to wait for the mail server before giving up.
DEFAULT_TIMEOUT_S: Final = 10.0
_PORTS: Final = {"smtp": 25, "smtps": 465}
_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Message:
    """One e-mail to one recipient.

    Attributes:
        to: The recipient's address.
        subject: The subject line.
        text: The body as plain text.
        html: The body as HTML, sent beside the text when given.
    """

    to: str
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message as kept in the outbox.

    Attributes:
        message_id: Its number in the outbox.
        created_at_s: When it was written, epoch seconds.
        message: The message.
    """

    message_id: int
    created_at_s: int
    message: Message


class Mailer(Protocol):
    """Sends e-mail."""

    def send(self, message: Message) -> None:
        """Send ``message``; :class:`~openams.errors.MailError` if it cannot be sent."""
        ...


class OutboxStore(Protocol):
    """Where the outbox is kept."""

    def add_message(self, message: Message, now_s: int) -> int:
        """Keep ``message``; its number in the outbox."""
        ...

    def messages(self, *, to: str | None = None, limit: int = 100) -> Sequence[SentMessage]:
        """The latest messages, newest first, only those to ``to`` when given."""
        ...


class OutboxMailer:
    """A mailer that writes each message to the outbox instead of sending it."""

    def __init__(self, store: OutboxStore, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def send(self, message: Message) -> None:
        """Write ``message`` to the outbox."""
        self.store.add_message(message, int(self.clock()))


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the mail server.

    Attributes:
        host: Its host name or address.
        port: Its port (25 for ``smtp://``, 465 for ``smtps://`` unless given).
        sender: The ``From`` address (default ``noreply@`` and the host).
        username: The user to log in as; no log-in when ``None``.
        password: The password of ``username`` (never shown).
        starttls: Upgrade the connection with STARTTLS before logging in.
        implicit_tls: Speak TLS from the start (``smtps://``).
        timeout_s: Seconds to wait for the server. [s]
    """

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    implicit_tls: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S


def _flag(query: dict[str, list[str]], name: str, source: str) -> bool:
    value = query.get(name, ["0"])[-1].lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{name} is 1 or 0", source=source)


def parse_smtp_url(url: str, *, source: str = "OPENAMS_SMTP_URL") -> SmtpSettings:
    """Read the mail server's settings from a URL.

    ``smtp://user:password@mail.example.no:587?starttls=1&from=noreply@example.no``; the user
    and password are percent-encoded; ``smtps://`` speaks TLS from the start.

    Args:
        url: The URL.
        source: Where the URL came from, for error messages.

    Raises:
        InputError: The URL is malformed; the message never repeats it (it may hold a
            password).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in _PORTS:
        raise InputError("the mail server's URL begins with smtp:// or smtps://", source=source)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InputError("the mail server's port is not a number", source=source) from None
    if not host:
        raise InputError("the mail server's URL names no host", source=source)
    query = parse_qs(parts.query)
    timeout_text = query.get("timeout", [str(DEFAULT_TIMEOUT_S)])[-1]
    try:
        timeout_s = float(timeout_text)
    except ValueError:
        timeout_s = -1.0
    if not 0 < timeout_s <= 600:
        raise InputError("timeout is a number of seconds, at most 600", source=source)
    sender = query.get("from", [f"noreply@{host}"])[-1]
    if "@" not in sender or any(c.isspace() or ord(c) < 0x20 for c in sender):
        raise InputError("from is an e-mail address", source=source)
    return SmtpSettings(
        host=host,
        port=port or _PORTS[parts.scheme],
        sender=sender,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        starttls=_flag(query, "starttls", source),
        implicit_tls=parts.scheme == "smtps",
        timeout_s=timeout_s,
    )


def _ascii_address(address: str) -> str:
    """``address`` with an internationalised domain in its ASCII (IDNA) form."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def _reason(exc: Exception) -> str:
    """A short reason for a failure, without what the server echoed back (which may quote
    an address or the message)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the log-in (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the server refused the recipient"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered with code {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the server does not offer what was asked (STARTTLS or log-in)"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


class SmtpMailer:
    """A mailer that hands each message to an SMTP server, one connection per message."""

    def __init__(self, settings: SmtpSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        self.settings = settings
        self.clock = clock

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = _ascii_address(message.to)
        email["Subject"] = message.subject
        email["Date"] = format_datetime(self.clock())
        email["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2])
        email.set_content(message.text)
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: Message) -> None:
        """Send ``message`` through the server.

        Raises:
            MailError: The server cannot be reached, TLS or log-in fails, or the server
                refuses the message.
        """
        s = self.settings
        email = self._email(message)
        context = ssl.create_default_context()
        try:
            if s.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s,
                                                        context=context)  # fmt: skip
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with client:
                if s.starttls:
                    client.starttls(context=context)
                if s.username is not None:
                    client.login(s.username, s.password or "")
                client.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"could not send e-mail through {s.host}:{s.port}: {_reason(exc)}"
            ) from exc


def mailer_from_url(url: str | None, outbox: Callable[[], OutboxStore],
                    clock: Callable[[], float]) -> Mailer:  # fmt: skip
    """The mailer of the settings: SMTP when a URL is given, else the outbox.

    Args:
        url: The mail server's URL (``OPENAMS_SMTP_URL``), or ``None``.
        outbox: Gives the outbox store when a message is written (the store may be opened
            after the mailer is made).
        clock: Now, epoch seconds (for the outbox).

    Raises:
        InputError: The URL is malformed.
    """
    if url:
        return SmtpMailer(parse_smtp_url(url))
    return _LateOutboxMailer(outbox, clock)


class _LateOutboxMailer:
    """An :class:`OutboxMailer` over a store found when a message is sent."""

    def __init__(self, outbox: Callable[[], OutboxStore], clock: Callable[[], float]) -> None:
        self.outbox = outbox
        self.clock = clock

    def send(self, message: Message) -> None:
        OutboxMailer(self.outbox(), self.clock).send(message)

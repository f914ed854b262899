"""Log-in by a one-time link sent by e-mail.

A customer gives their log-in address; when a customer account has it, a link
(``base_url`` + :data:`LINK_PATH` + token) is e-mailed to it. Opening the link (and pressing
the button on the page, so that a mail scanner that fetches links does not use it up) opens a
session as a log-in with the password does (:func:`openams.services.accounts.start_session`).

Invariants:
    * The answer to a request is the same whether the address has an account or not, and
      whether a link was sent or held back by the limit; a failure of the mail server is
      not told either (it is logged without the address).
    * A link works for :data:`LINK_FOR_S`, once; using it uses up the account's other links.
      Only the SHA-256 of its token is stored.
    * At most :data:`LINKS_PER_ADDRESS` links are sent to an account in
      :data:`LINKS_WINDOW_S`. The limit per client address is the web layer's.
    * Only customer accounts log in by link: staff, who see every customer, need their
      password.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

from openams.errors import MailError

from .accounts import Account, AccountStore, Session, start_session
from .links import LinkRefused, link_to, new_token, token_hash
from .mail import Mailer, Message

__all__ = [
    "LINKS_PER_ADDRESS",
    "LINKS_WINDOW_S",
    "LINK_FOR_S",
    "LINK_PATH",
    "LoginLinkStore",
    "link_is_live",
    "log_in_with_link",
    "request_login_link",
]

#: How long a log-in link works: 15 minutes. [s]
LINK_FOR_S: Final = 15 * 60
#: Links sent to one account at most per :data:`LINKS_WINDOW_S`.
LINKS_PER_ADDRESS: Final = 3
#: The window of :data:`LINKS_PER_ADDRESS`: an hour. [s]
LINKS_WINDOW_S: Final = 3600
#: Where a log-in link points, the token after it.
LINK_PATH: Final = "/login/link/"
#: The roles that may log in by link.
_ROLES: Final = ("customer",)
_MAX_EMAIL: Final = 254

_log = logging.getLogger(__name__)


class LoginLinkStore(Protocol):
    """Where log-in links are kept (their hashes)."""

    def add_login_link(self, token_hash: str, account_id: int, now_s: int,
                       expires_at_s: int) -> None:  # fmt: skip
        """Keep a link."""
        ...

    def links_since(self, account_id: int, since_s: int) -> int:
        """How many links were made for the account after ``since_s``."""
        ...

    def login_link_live(self, token_hash: str, now_s: int) -> bool:
        """Whether a link is known, unexpired and unused (without using it)."""
        ...

    def use_login_link(self, token_hash: str, now_s: int) -> Account | None:
        """Use a live, unused link and every other link of its account; the account, or
        ``None`` for an unknown, expired or used link."""
        ...


_TEXTS: Final = {
    "nb": (
        "Innloggingslenke til Min side",
        "Hei!\n\n"
        "Du har bedt om å logge inn uten passord. Åpne lenken og trykk på «Logg inn»:\n"
        "{link}\n\n"
        "Lenken gjelder i 15 minutter og kan brukes én gang. Har du ikke bedt om den, kan du "
        "se bort fra e-posten; ingen kommer inn uten lenken.\n",
    ),
    "en": (
        "Your log-in link",
        "Hello,\n\n"
        "You asked to log in without a password. Open the link and press «Log in»:\n"
        "{link}\n\n"
        "The link works for 15 minutes and only once. If you did not ask for it, you can "
        "ignore this e-mail; nobody gets in without the link.\n",
    ),
}


def request_login_link(
    accounts: AccountStore,
    links: LoginLinkStore,
    mailer: Mailer,
    email: str,
    *,
    base_url: str,
    language: str,
    now_s: int,
) -> None:
    """E-mail a log-in link to ``email`` if it is a customer account's and the account has
    not had too many lately. Tells nothing either way (see the module's invariants)."""
    address = email.strip().lower()
    if not address or len(address) > _MAX_EMAIL:
        return
    found = accounts.account_by_email(address)
    if found is None or found.account.role not in _ROLES:
        return
    account_id = found.account.account_id
    if links.links_since(account_id, now_s - LINKS_WINDOW_S) >= LINKS_PER_ADDRESS:
        return
    token, hashed = new_token()
    links.add_login_link(hashed, account_id, now_s, now_s + LINK_FOR_S)
    subject, text = _TEXTS.get(language, _TEXTS["nb"])
    link = link_to(base_url, LINK_PATH, token)
    try:
        mailer.send(Message(found.account.email, subject, text.format(link=link)))
    except MailError as exc:
        _log.warning("a log-in link was not sent: %s", exc)


def link_is_live(links: LoginLinkStore, token: str, *, now_s: int) -> bool:
    """Whether a log-in link would still work, without using it up (for the page that shows
    the button)."""
    try:
        return links.login_link_live(token_hash(token), now_s)
    except LinkRefused:
        return False


def log_in_with_link(
    accounts: AccountStore, links: LoginLinkStore, token: str, *, now_s: int
) -> Session:
    """Use a log-in link: a session for its account.

    Raises:
        LinkRefused: The link is unknown, expired or used already, or its account may no
            longer log in by link.
    """
    account = links.use_login_link(token_hash(token), now_s)
    if account is None or account.role not in _ROLES:
        raise LinkRefused("the link is unknown, expired or used already")
    return start_session(accounts, account, now_s=now_s)

"""Accounts, log-in and sessions for the portal and the console.

Roles: ``customer`` (sees only the metering points of its customer), ``operator``,
``installer`` and ``administrator``. Passwords are kept as argon2id hashes. A log-in gives a
session: a random token for the browser's cookie, of which only its SHA-256 is stored, and a
CSRF token that every form posts back. Five failed log-ins in a row lock the account for 15
minutes; the lock is told apart from a wrong password only after the right one is given,
so that the lock does not reveal which e-mail addresses exist.

Invariants:
    * No password, token or hash ever leaves this module but the session's own tokens,
      returned once to be set as the cookie.
    * Messages to users never say whether an e-mail address is known.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openams.errors import InputError, OpenAMSError

__all__ = [
    "LOCK_AFTER",
    "LOCK_FOR_S",
    "ROLES",
    "SESSION_FOR_S",
    "Account",
    "AccountStore",
    "LoginRefused",
    "Session",
    "StoredAccount",
    "create_account",
    "csrf_matches",
    "log_in",
    "log_out",
    "session_for",
    "start_session",
]

ROLES: Final = ("customer", "operator", "installer", "administrator")
LOCK_AFTER: Final = 5
LOCK_FOR_S: Final = 15 * 60
SESSION_FOR_S: Final = 8 * 3600
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MIN_PASSWORD = 10
_HASHER = PasswordHasher()


class LoginRefused(OpenAMSError):
    """The e-mail and password do not open an account (or it is locked)."""

    code = "login_refused"


@dataclass(frozen=True, slots=True)
class Account:
    """A person who logs in.

    Attributes:
        account_id: Its number.
        email: The e-mail address it logs in with (lower case).
        role: One of :data:`ROLES`.
        customer_id: For a customer, whose metering points it sees; else ``None``.
    """

    account_id: int
    email: str
    role: str
    customer_id: str | None


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """An account as kept, with what log-in needs."""

    account: Account
    password_hash: str
    failed_logins: int
    locked_until_s: int


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser.

    Attributes:
        token: The cookie's value (only its hash is stored).
        csrf: The token every form of this session posts back.
        account: Whose session it is.
        expires_at_s: When it ends, epoch seconds.
    """

    token: str
    csrf: str
    account: Account
    expires_at_s: int


class AccountStore(Protocol):
    """Where accounts and sessions are kept."""

    def add_account(self, email: str, password_hash: str, role: str,
                    customer_id: str | None, now_s: int) -> Account:  # fmt: skip
        """Add an account; :class:`InputError` if the e-mail is taken."""
        ...

    def account_by_email(self, email: str) -> StoredAccount | None:
        """The account of an e-mail address."""
        ...

    def set_login_state(self, account_id: int, failed_logins: int, locked_until_s: int) -> None:
        """Record failed log-ins and the lock."""
        ...

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """Replace the hash (after the parameters of argon2 changed)."""
        ...

    def add_session(self, token_hash: str, csrf: str, account_id: int, expires_at_s: int) -> None:
        """Keep a session."""
        ...

    def session(self, token_hash: str) -> tuple[str, Account, int] | None:
        """The CSRF token, account and expiry of a session."""
        ...

    def drop_session(self, token_hash: str) -> None:
        """End a session."""
        ...


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def create_account(
    store: AccountStore, email: str, password: str, role: str, customer_id: str | None,
    *, now_s: int,
) -> Account:  # fmt: skip
    """Add an account with a hashed password.

    Raises:
        InputError: a malformed e-mail, a short password, an unknown role, a customer
            account without a customer (or another role with one), or an e-mail in use.
    """
    email = _normal_email(email)
    if not _EMAIL.fullmatch(email):
        raise InputError(f"{email!r} is not an e-mail address")
    if len(password) < _MIN_PASSWORD:
        raise InputError(f"a password has at least {_MIN_PASSWORD} characters")
    if role not in ROLES:
        raise InputError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    if (role == "customer") != (customer_id is not None):
        raise InputError("a customer account names its customer, and only a customer account")
    return store.add_account(email, _HASHER.hash(password), role, customer_id, now_s)


def log_in(store: AccountStore, email: str, password: str, *, now_s: int) -> Session:
    """Check the e-mail and password and open a session.

    Raises:
        LoginRefused: unknown e-mail, wrong password, or the account is locked (said only
            when the password was right).
    """
    found = store.account_by_email(_normal_email(email))
    if found is None:
        _HASHER.hash(password)  # as slow as a known account: the timing tells nothing
        raise LoginRefused("wrong e-mail or password")
    try:
        _HASHER.verify(found.password_hash, password)
    except (VerificationError, InvalidHashError):
        failed = found.failed_logins + 1
        locked = now_s + LOCK_FOR_S if failed >= LOCK_AFTER else found.locked_until_s
        store.set_login_state(found.account.account_id, failed, locked)
        raise LoginRefused("wrong e-mail or password") from None
    if found.locked_until_s > now_s:
        raise LoginRefused("too many failed log-ins: the account is locked for a while")
    store.set_login_state(found.account.account_id, 0, 0)
    if _HASHER.check_needs_rehash(found.password_hash):
        store.set_password_hash(found.account.account_id, _HASHER.hash(password))
    return start_session(store, found.account, now_s=now_s)


def start_session(store: AccountStore, account: Account, *, now_s: int) -> Session:
    """Open a session for an account whose holder has proved who they are (a password, a
    one-time link or an identity provider)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now_s + SESSION_FOR_S
    store.add_session(_token_hash(token), csrf, account.account_id, expires)
    return Session(token, csrf, account, expires)


def session_for(store: AccountStore, token: str | None, *, now_s: int) -> Session | None:
    """The live session of a cookie's token, or ``None``."""
    if not token:
        return None
    found = store.session(_token_hash(token))
    if found is None:
        return None
    csrf, account, expires = found
    if expires <= now_s:
        store.drop_session(_token_hash(token))
        return None
    return Session(token, csrf, account, expires)


def log_out(store: AccountStore, token: str) -> None:
    """End the session of a cookie's token."""
    store.drop_session(_token_hash(token))


def csrf_matches(session: Session, posted: str | None) -> bool:
    """Whether a form's CSRF token is the session's (in constant time; any text may be
    posted, so the two are compared as UTF-8 bytes)."""
    return posted is not None and secrets.compare_digest(session.csrf.encode(), posted.encode())

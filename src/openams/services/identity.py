"""Log-in through an OpenID Connect identity provider (ID-porten, BankID): the adapter point.

The portal starts a log-in with :func:`begin_identity_login`, which gives the provider's
authorization URL and the ``state`` and ``nonce`` to keep in the browser's (signed or
HTTP-only) cookie. The provider sends the browser back with a ``code`` and the ``state``;
:func:`finish_identity_login` checks the state, has the provider exchange the code for
verified claims, finds the account and opens a session as a password log-in does.

An :class:`IdentityProvider` adapter does the network part: it builds the authorization URL
(with PKCE if it likes), exchanges the code at the token endpoint and verifies the ID token
(signature against the provider's keys, issuer, audience, expiry and the nonce). OpenAMS has
no such adapter yet; the tests use an in-process fake.

Which account? In this order:

1. The national identity number (``pid``, as ID-porten and BankID give it), when it has been
   linked to an account (:func:`link_identity`, for instance once the customer has logged in
   with a password or a link). The store keeps an HMAC-SHA256 of the number under a site
   key, never the number: an identity number has so few possible values (11 digits, with
   check digits and a date) that a plain or salted hash could be reversed by trying them
   all; without the key, a copy of the table cannot be matched to anyone.
2. Else an e-mail address the provider says it has verified, when it is a customer account's
   log-in address.

Anything else is refused. The identity number is never logged, shown or put in a message:
:class:`VerifiedClaims` leaves it out of its ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final, Protocol

from openams.errors import OpenAMSError

from .accounts import Account, AccountStore, Session, start_session

__all__ = [
    "PID",
    "IdentityProvider",
    "IdentityRefused",
    "IdentityRequest",
    "IdentityStore",
    "VerifiedClaims",
    "begin_identity_login",
    "finish_identity_login",
    "identity_hash",
    "link_identity",
]

#: The kind of identity of a national identity number.
PID: Final = "pid"
_MIN_KEY: Final = 16
_EMAIL_ROLES: Final = ("customer",)


class IdentityRefused(OpenAMSError):
    """The identity provider's answer does not open an account."""

    code = "identity_refused"


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    """What the provider vouches for, from a verified ID token.

    Attributes:
        issuer: The provider (the ID token's ``iss``).
        subject: The provider's id of the person (``sub``).
        pid: The Norwegian national identity number, if given (ID-porten's ``pid``).
        email: An e-mail address, if given.
        email_verified: Whether the provider has verified ``email``.
    """

    issuer: str
    subject: str
    pid: str | None = field(default=None, repr=False)
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class IdentityRequest:
    """A log-in begun at the provider.

    Attributes:
        url: Where to send the browser.
        state: Comes back with the browser; must match (against cross-site requests).
        nonce: Must be in the ID token (against replayed tokens).
    """

    url: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)


class IdentityProvider(Protocol):
    """An OpenID Connect provider (the network adapter)."""

    def authorization_url(self, *, state: str, nonce: str) -> str:
        """The provider's page that asks the person to log in."""
        ...

    def exchange(self, code: str, *, nonce: str) -> VerifiedClaims:
        """Exchange ``code`` for an ID token, verify it and return its claims.

        Raises:
            IdentityRefused: The code is unknown or the token fails verification (its
                signature, issuer, audience, expiry or nonce).
        """
        ...


class IdentityStore(Protocol):
    """Where identities linked to accounts are kept (keyed hashes only)."""

    def account_of_identity(self, kind: str, identity_hash: str) -> Account | None:
        """The account an identity is linked to."""
        ...

    def link_identity(self, kind: str, identity_hash: str, account_id: int, now_s: int) -> None:
        """Link an identity to an account (replacing an earlier link of the identity)."""
        ...


def identity_hash(key: bytes, kind: str, value: str) -> str:
    """The keyed hash of an identity as stored: HMAC-SHA256 under the site's key.

    Raises:
        ValueError: The key is shorter than 16 bytes.
    """
    if len(key) < _MIN_KEY:
        raise ValueError(f"the identity key has at least {_MIN_KEY} bytes")
    return hmac.new(key, f"{kind}:{value.strip()}".encode(), hashlib.sha256).hexdigest()


def begin_identity_login(provider: IdentityProvider) -> IdentityRequest:
    """Start a log-in: the authorization URL with a fresh ``state`` and ``nonce``."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    return IdentityRequest(provider.authorization_url(state=state, nonce=nonce), state, nonce)


def link_identity(identities: IdentityStore, account: Account, claims: VerifiedClaims,
                  *, key: bytes, now_s: int) -> None:  # fmt: skip
    """Link the identity number of ``claims`` to ``account``, so that it logs in there.

    Raises:
        IdentityRefused: The claims carry no identity number.
    """
    if not claims.pid:
        raise IdentityRefused("the provider gave no national identity number")
    identities.link_identity(PID, identity_hash(key, PID, claims.pid), account.account_id, now_s)


def _account_for(claims: VerifiedClaims, identities: IdentityStore, accounts: AccountStore,
                 key: bytes) -> Account:  # fmt: skip
    if claims.pid:
        linked = identities.account_of_identity(PID, identity_hash(key, PID, claims.pid))
        if linked is not None:
            return linked
    if claims.email and claims.email_verified:
        found = accounts.account_by_email(claims.email.strip().lower())
        if found is not None and found.account.role in _EMAIL_ROLES:
            return found.account
    raise IdentityRefused("no account for this identity")


def finish_identity_login(
    provider: IdentityProvider,
    identities: IdentityStore,
    accounts: AccountStore,
    *,
    code: str,
    state: str,
    begun: IdentityRequest,
    key: bytes,
    now_s: int,
) -> Session:
    """Finish a log-in the provider sent the browser back from.

    Args:
        provider: The provider the log-in was begun at.
        identities: The linked identities.
        accounts: The accounts (for the session).
        code: The ``code`` the browser brought back.
        state: The ``state`` the browser brought back.
        begun: What :func:`begin_identity_login` gave (kept in the browser's cookie).
        key: The site's key of identity hashes (at least 16 bytes, kept like the
            key-encrypting key).
        now_s: Now, epoch seconds.

    Raises:
        IdentityRefused: The state does not match, the provider refuses the code, or the
            identity has no account.
    """
    if not secrets.compare_digest(state.encode(), begun.state.encode()):
        raise IdentityRefused("the state does not match the log-in begun")
    claims = provider.exchange(code, nonce=begun.nonce)
    return start_session(accounts, _account_for(claims, identities, accounts, key), now_s=now_s)

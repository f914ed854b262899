"""Bearer tokens for the REST API: a customer's grant to an energy-management supplier, or a
token of the grid company's own staff.

A token is a random string shown once when it is made; the store keeps only its SHA-256. It
has scopes (what it may read), an expiry, and, when a customer made it, the customer whose
metering points are all it can reach. A customer lists and revokes their grants; a revoked or
expired token opens nothing.

Invariants:
    * A customer's token never reaches another customer's metering points: its customer is
      fixed when it is made, from the customer's own account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final, Protocol

from openams.errors import InputError

from .accounts import Account

__all__ = [
    "MAX_DAYS",
    "SCOPES",
    "ApiToken",
    "TokenStore",
    "authenticate",
    "grant_token",
    "revoke_token",
]

#: What a token may read.
SCOPES: Final = ("points:read", "values:read", "prices:read", "settlement:read")
#: The longest a token may live. [days]
MAX_DAYS: Final = 366
_LABEL = re.compile(r"[\w .,&()'-]{1,80}")


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as kept (without the token itself).

    Attributes:
        token_id: Its number.
        account_id: Who made it.
        customer_id: The customer whose metering points it reaches; ``None`` for staff.
        label: Who it is for, such as the supplier's name.
        scopes: What it may read.
        created_at_s: When it was made.
        expires_at_s: When it stops working.
        revoked_at_s: When it was revoked, if it was.
    """

    token_id: int
    account_id: int
    customer_id: str | None
    label: str
    scopes: frozenset[str]
    created_at_s: int
    expires_at_s: int
    revoked_at_s: int | None = None

    def live(self, now_s: int) -> bool:
        """Whether it opens anything at ``now_s``."""
        return self.revoked_at_s is None and now_s < self.expires_at_s


class TokenStore(Protocol):
    """Where tokens are kept."""

    def add_token(self, token_hash: str, token: ApiToken) -> ApiToken:
        """Keep a token (its ``token_id`` is assigned)."""
        ...

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token of a hash."""
        ...

    def tokens_of(self, account_id: int) -> list[ApiToken]:
        """The tokens an account made, newest first."""
        ...

    def revoke(self, token_id: int, account_id: int, now_s: int) -> bool:
        """Revoke an account's own token; whether one was."""
        ...


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grant_token(
    store: TokenStore, owner: Account, label: str, scopes: set[str], days: int, *, now_s: int
) -> tuple[str, ApiToken]:
    """Make a token; the token string (shown once) and what is kept.

    Raises:
        InputError: a label that is empty, too long or has odd characters, an unknown
            scope, no scope, or a lifetime outside 1 to :data:`MAX_DAYS` days.
    """
    label = label.strip()
    if not _LABEL.fullmatch(label):
        raise InputError("a label is 1 to 80 letters, digits, spaces or . , & ( ) ' -")
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise InputError(f"scopes are some of {', '.join(SCOPES)}")
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"a token lives 1 to {MAX_DAYS} days, not {days}")
    customer = owner.customer_id if owner.role == "customer" else None
    token = "oams_" + secrets.token_urlsafe(32)
    kept = ApiToken(0, owner.account_id, customer, label, frozenset(scopes), now_s,
                    now_s + days * 86_400)  # fmt: skip
    return token, store.add_token(_hash(token), kept)


def authenticate(store: TokenStore, header: str | None, *, now_s: int) -> ApiToken | None:
    """The live token of an ``Authorization: Bearer ...`` header, or ``None``."""
    if not header or not header.startswith("Bearer "):
        return None
    found = store.token_by_hash(_hash(header.removeprefix("Bearer ").strip()))
    return found if found is not None and found.live(now_s) else None


def revoke_token(store: TokenStore, owner: Account, token_id: int, *, now_s: int) -> bool:
    """Revoke one of the owner's tokens; whether it was theirs and live."""
    return store.revoke(token_id, owner.account_id, now_s)

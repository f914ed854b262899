"""The access log: who looked at or changed which customer's data, and when.

Personal data law asks a grid company to know who opened a customer's data (and to tell the
customer on request). The console records every view of a metering point, every search (its
results name customers) and every value edit here; value edits are besides audited value by
value in :mod:`openams.services.edits`.

Invariants:
    * The log is only appended to; nothing here changes or deletes a row.
    * Only administrators read it (:func:`list_accesses`).
    * Nothing of it goes to the application's log: the rows stay in the store, where access
      is controlled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Protocol

from openams.errors import OpenAMSError

from .accounts import Account

__all__ = [
    "ACTIONS",
    "MAX_DETAIL",
    "AccessEntry",
    "AccessRecord",
    "AuditStore",
    "NotAllowed",
    "list_accesses",
    "record_access",
]

#: The actions the console records (others may add their own names).
ACTIONS: Final = ("view_metering_point", "search", "edit_value")
#: The longest detail kept; longer ones are cut. [characters]
MAX_DETAIL: Final = 500
_ACTION = re.compile(r"[a-z][a-z0-9_]{0,63}")


class NotAllowed(OpenAMSError):
    """The account's role may not do this."""

    code = "not_allowed"


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One access, as recorded.

    Attributes:
        at_s: When, epoch seconds.
        account_id: Who (the account's number).
        action: What, such as ``view_metering_point``.
        metering_point_id: Whose metering point, if one.
        customer_id: Whose data, if known.
        detail: What else tells the access apart (a search's text, the value edited).
    """

    at_s: int
    account_id: int
    action: str
    metering_point_id: str | None
    customer_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """A row of the log as read back, with the e-mail of the account (``None`` if gone)."""

    access_id: int
    record: AccessRecord
    email: str | None


class AuditStore(Protocol):
    """Where the access log is kept."""

    def add_access(self, record: AccessRecord) -> int:
        """Append a row; its number."""
        ...

    def accesses(
        self,
        *,
        metering_point_id: str | None,
        customer_id: str | None,
        account_id: int | None,
        limit: int,
    ) -> list[AccessEntry]:
        """The newest rows first, of the metering point, customer or account if given."""
        ...


def record_access(
    store: AuditStore,
    account: Account,
    action: str,
    *,
    metering_point_id: str | None = None,
    customer_id: str | None = None,
    detail: str = "",
    now_s: int,
) -> AccessRecord:
    """Write down that ``account`` did ``action`` on a customer's data, now.

    Raises:
        ValueError: ``action`` is not a lower-case name (a caller's mistake).
    """
    if not _ACTION.fullmatch(action):
        raise ValueError(f"an action is a lower-case name, not {action!r}")
    record = AccessRecord(
        now_s, account.account_id, action, metering_point_id, customer_id, detail[:MAX_DETAIL]
    )
    store.add_access(record)
    return record


def list_accesses(
    store: AuditStore,
    viewer: Account,
    *,
    metering_point_id: str | None = None,
    customer_id: str | None = None,
    account_id: int | None = None,
    limit: int = 200,
) -> list[AccessEntry]:
    """The log, newest first, for an administrator: all of it, or one metering point's,
    customer's or account's rows.

    Raises:
        NotAllowed: ``viewer`` is not an administrator.
        ValueError: ``limit`` is not positive.
    """
    if viewer.role != "administrator":
        raise NotAllowed("only administrators read the access log")
    if limit < 1:
        raise ValueError("limit must be positive")
    return store.accesses(
        metering_point_id=metering_point_id,
        customer_id=customer_id,
        account_id=account_id,
        limit=limit,
    )

"""Linked identities' side of the store: the adapter behind
:class:`openams.services.identity.IdentityStore`."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from openams.services.accounts import Account

from .engine import Store
from .schema import accounts, identity_links

__all__ = ["SqlIdentityStore"]

_I = identity_links.c
_A = accounts.c


class SqlIdentityStore:
    """Identities linked to accounts in a :class:`Store` (keyed hashes only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def account_of_identity(self, kind: str, identity_hash: str) -> Account | None:
        """The account an identity is linked to."""
        query = (
            select(_A.account_id, _A.email, _A.role, _A.customer_id)
            .join(accounts, _A.account_id == _I.account_id)
            .where(_I.kind == kind, _I.identity_hash == identity_hash)
        )
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        account_id, email, role, customer_id = row
        return Account(account_id, email, role, customer_id)

    def link_identity(self, kind: str, identity_hash: str, account_id: int, now_s: int) -> None:
        """Link an identity to an account (replacing an earlier link of the identity)."""
        with self.store.engine.begin() as connection:
            connection.execute(
                delete(identity_links)
                .where(_I.kind == kind, _I.identity_hash == identity_hash)
            )  # fmt: skip
            connection.execute(
                insert(identity_links).values(kind=kind, identity_hash=identity_hash,
                                              account_id=account_id, created_at_s=now_s)
            )  # fmt: skip

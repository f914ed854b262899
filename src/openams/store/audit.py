"""The access log in the store: the adapter behind :class:`openams.services.audit.AuditStore`."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert, select

from openams.services.audit import AccessEntry, AccessRecord

from .engine import Store, StoreError
from .schema import access_log, accounts

__all__ = ["SqlAuditStore"]

_L = access_log.c


class SqlAuditStore:
    """The access log in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_access(self, record: AccessRecord) -> int:
        """Append a row; its number."""
        with self.store.engine.begin() as connection:
            result = connection.execute(insert(access_log).values(asdict(record)))
            key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert gives its key
            raise StoreError("the access was not recorded")
        return int(key[0])

    def accesses(
        self,
        *,
        metering_point_id: str | None,
        customer_id: str | None,
        account_id: int | None,
        limit: int,
    ) -> list[AccessEntry]:
        """The newest rows first, of the metering point, customer or account if given."""
        query = (
            select(_L.access_id, _L.at_s, _L.account_id, _L.action, _L.metering_point_id,
                   _L.customer_id, _L.detail, accounts.c.email)
            .join(accounts, accounts.c.account_id == _L.account_id, isouter=True)
            .order_by(_L.access_id.desc())
            .limit(limit)
        )  # fmt: skip
        if metering_point_id is not None:
            query = query.where(_L.metering_point_id == metering_point_id)
        if customer_id is not None:
            query = query.where(_L.customer_id == customer_id)
        if account_id is not None:
            query = query.where(_L.account_id == account_id)
        with self.store.engine.connect() as connection:
            return [
                AccessEntry(access_id, AccessRecord(*fields), email)
                for access_id, *fields, email in connection.execute(query)
            ]

"""The quarantine in the store: the adapter behind
:class:`openams.services.quarantine.QuarantineStore`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from openams.services.quarantine import QuarantineItem

from .engine import Store
from .schema import quarantine

__all__ = ["SqlQuarantineStore"]


class SqlQuarantineStore:
    """Quarantined pushes in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def items(
        self, *, reason: str | None = None, ids: Sequence[int] = (), resolved: bool = False,
        limit: int | None = None,
    ) -> list[QuarantineItem]:  # fmt: skip
        """Quarantined pushes, oldest first (unresolved ones unless ``resolved``)."""
        query = select(quarantine).order_by(quarantine.c.quarantine_id)
        if not resolved:
            query = query.where(quarantine.c.resolved == 0)
        if reason is not None:
            query = query.where(quarantine.c.reason == reason)
        if ids:
            query = query.where(quarantine.c.quarantine_id.in_(list(ids)))
        if limit is not None:
            query = query.limit(limit)
        with self.store.engine.connect() as connection:
            return [
                QuarantineItem(
                    r.quarantine_id, r.received_at_s, r.channel, r.source, r.reason, r.message,
                    bytes(r.system_title) if r.system_title is not None else None, bytes(r.raw),
                    r.retried_at_s, bool(r.resolved),
                )
                for r in connection.execute(query)
            ]  # fmt: skip

    def mark(self, resolved: Sequence[int], retried: Sequence[int], at_s: int) -> None:
        """Record a retry."""
        with self.store.engine.begin() as connection:
            if resolved:
                connection.execute(
                    update(quarantine)
                    .where(quarantine.c.quarantine_id.in_(list(resolved)))
                    .values(resolved=1, retried_at_s=at_s)
                )
            if retried:
                connection.execute(
                    update(quarantine)
                    .where(quarantine.c.quarantine_id.in_(list(retried)))
                    .values(retried_at_s=at_s)
                )

"""HAN port requests in the store: the adapter behind
:class:`openams.services.han_requests.HanRequestStore`.

One open request per metering point is kept by a partial unique index (migration 0008): of
two requests made at the same moment, the second insert fails and gives back the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from openams.domain.han_requests import REQUESTED, HanRequest

from .engine import Store, StoreError
from .schema import customers, han_requests
from .settlement import SqlSettlementStore

__all__ = ["SqlHanRequestStore"]

_H = han_requests.c
_COLUMNS = (_H.request_id, _H.metering_point_id, _H.customer_id, _H.requested_at_s,
            _H.deadline_day, _H.status, _H.closed_at_s, _H.closed_by, _H.reason)  # fmt: skip


def _request(row: Any) -> HanRequest:
    request_id, mp, customer, requested, deadline, status, closed_at, closed_by, reason = row
    return HanRequest(request_id, mp, customer, requested, date.fromisoformat(deadline), status,
                      closed_at, closed_by, reason)  # fmt: skip


def _open_of(connection: Connection, metering_point_id: str) -> HanRequest | None:
    query = select(*_COLUMNS).where(_H.metering_point_id == metering_point_id,
                                    _H.status == REQUESTED)  # fmt: skip
    row = connection.execute(query).first()
    return None if row is None else _request(row)


class SqlHanRequestStore:
    """HAN port requests in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def points_of_customer(self, customer_id: str) -> list[str]:
        """The metering points supplied to a customer now, in id order (as the portal's)."""
        return SqlSettlementStore(self.store).points_of_customer(customer_id)

    def add_request(self, request: HanRequest) -> HanRequest:
        """Keep a new open request; if the metering point has an open one, that one."""
        row = {"metering_point_id": request.metering_point_id,
               "customer_id": request.customer_id, "requested_at_s": request.requested_at_s,
               "deadline_day": request.deadline.isoformat(), "status": REQUESTED,
               "closed_at_s": None, "closed_by": None, "reason": ""}  # fmt: skip
        try:
            with self.store.engine.begin() as connection:
                existing = _open_of(connection, request.metering_point_id)
                if existing is not None:
                    return existing
                key = connection.execute(insert(han_requests).values(row)).inserted_primary_key
        except IntegrityError as exc:  # another request for the point got in first
            with self.store.engine.connect() as connection:
                existing = _open_of(connection, request.metering_point_id)
            if existing is None:
                raise StoreError("the request could not be kept") from exc
            return existing
        if key is None:  # pragma: no cover - an insert gives its key
            raise StoreError("the request was not kept")
        return HanRequest(int(key[0]), request.metering_point_id, request.customer_id,
                          request.requested_at_s, request.deadline)  # fmt: skip

    def request(self, request_id: int) -> HanRequest | None:
        """The request of a number."""
        with self.store.engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(_H.request_id == request_id)).first()
        return None if row is None else _request(row)

    def requests_of_points(
        self, metering_point_ids: Sequence[str], customer_id: str
    ) -> list[HanRequest]:
        """The requests on these metering points that are open or ``customer_id`` made,
        newest first."""
        query = (
            select(*_COLUMNS)
            .where(_H.metering_point_id.in_(list(metering_point_ids)),
                   or_(_H.status == REQUESTED, _H.customer_id == customer_id))
            .order_by(_H.request_id.desc())
        )  # fmt: skip
        with self.store.engine.connect() as connection:
            return [_request(row) for row in connection.execute(query)]

    def open_requests(self, limit: int) -> list[tuple[HanRequest, str]]:
        """The open requests, earliest deadline first, then oldest, with the customer's
        name (empty if the customer is unknown)."""
        query = (
            select(*_COLUMNS, func.coalesce(customers.c.name, ""))
            .join(customers, customers.c.customer_id == _H.customer_id, isouter=True)
            .where(_H.status == REQUESTED)
            .order_by(_H.deadline_day, _H.request_id)
            .limit(limit)
        )
        with self.store.engine.connect() as connection:
            return [(_request(row[:-1]), row[-1]) for row in connection.execute(query)]

    def save_closed(self, request: HanRequest) -> bool:
        """Store a request's closing if it is still open; whether it was."""
        where = and_(_H.request_id == request.request_id, _H.status == REQUESTED)
        values = {"status": request.status, "closed_at_s": request.closed_at_s,
                  "closed_by": request.closed_by, "reason": request.reason}  # fmt: skip
        with self.store.engine.begin() as connection:
            result = connection.execute(update(han_requests).where(where).values(values))
        return bool(result.rowcount)

    def count_open(self, today: date) -> tuple[int, int]:
        """Open requests, and those of them whose deadline day is before ``today``."""
        late = case((_H.deadline_day < today.isoformat(), 1), else_=0)
        query = select(func.count(), func.coalesce(func.sum(late), 0)).where(_H.status == REQUESTED)
        with self.store.engine.connect() as connection:
            open_count, overdue = connection.execute(query).one()
        return int(open_count), int(overdue)

"""What is held about a customer, read for the customer: the adapter behind
:class:`openams.services.customer_data.CustomerDataStore`.

Invariants:
    * No query here selects a password hash, a session, a wrapped meter key, the
      key-encrypting key's id or a meter's invocation counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, select

from openams.services.customer_data import (
    AccountInfo,
    CustomerRecord,
    MeterInfo,
    PointRecord,
    RunRecord,
)
from openams.services.settlement import SupplyPeriod
from openams.services.values import StoredValue

from .engine import Store
from .schema import accounts, customers, metering_points, meters, settlements, supply_periods
from .settlement import settlement_from_json
from .values import SqlValueStore

__all__ = ["SqlCustomerDataStore"]


class SqlCustomerDataStore:
    """Customers' data in a :class:`Store`, read only."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def customer(self, customer_id: str) -> CustomerRecord | None:
        """The customer, if known."""
        c = customers.c
        query = select(c.customer_id, c.name, c.mobile, c.email).where(c.customer_id == customer_id)
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else CustomerRecord(*row)

    def points(self, ids: Sequence[str]) -> list[PointRecord]:
        """These metering points, in id order."""
        c = metering_points.c
        query = (
            select(*(c[name] for name in PointRecord.__dataclass_fields__))
            .where(c.metering_point_id.in_(list(ids)))
            .order_by(c.metering_point_id)
        )
        with self.store.engine.connect() as connection:
            return [PointRecord(**row._asdict()) for row in connection.execute(query)]

    def points_of_customer(self, customer_id: str) -> list[str]:
        """The metering points whose customer they are now, in id order."""
        c = metering_points.c
        query = (
            select(c.metering_point_id)
            .where(c.customer_id == customer_id)
            .order_by(c.metering_point_id)
        )
        with self.store.engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

    def supply_periods_of_customer(self, customer_id: str) -> list[SupplyPeriod]:
        """The supply periods billing the customer, anywhere."""
        return self._periods(supply_periods.c.customer_id == customer_id)

    def supply_periods_of_points(self, ids: Sequence[str]) -> list[SupplyPeriod]:
        """Every supply period of these metering points, whoever they bill."""
        return self._periods(supply_periods.c.metering_point_id.in_(list(ids)))

    def _periods(self, where: ColumnElement[bool]) -> list[SupplyPeriod]:
        c = supply_periods.c
        query = (
            select(c.metering_point_id, c.from_day, c.to_day, c.customer_id, c.norgespris)
            .where(where)
            .order_by(c.metering_point_id, c.from_day)
        )
        with self.store.engine.connect() as connection:
            return [
                SupplyPeriod(
                    mp,
                    date.fromisoformat(start),
                    None if end is None else date.fromisoformat(end),
                    customer,
                    bool(norgespris),
                )
                for mp, start, end, customer, norgespris in connection.execute(query)
            ]

    def meters(self, ids: Sequence[str]) -> list[MeterInfo]:
        """The meters at these metering points, without keys."""
        c = meters.c
        query = (
            select(*(c[name] for name in MeterInfo.__dataclass_fields__))
            .where(c.metering_point_id.in_(list(ids)))
            .order_by(c.metering_point_id, c.meter_id)
        )
        with self.store.engine.connect() as connection:
            return [MeterInfo(**row._asdict()) for row in connection.execute(query)]

    def accounts(self, customer_id: str) -> list[AccountInfo]:
        """The customer's log-ins, without password hashes."""
        c = accounts.c
        query = (
            select(c.email, c.role, c.created_at_s)
            .where(c.customer_id == customer_id)
            .order_by(c.account_id)
        )
        with self.store.engine.connect() as connection:
            return [AccountInfo(*row) for row in connection.execute(query)]

    def runs_of_customer(self, customer_id: str) -> list[RunRecord]:
        """Every run billing the customer, by metering point, supply and version."""
        c = settlements.c
        query = (
            select(c.billed, c.company, c.settled_at_s)
            .where(c.customer_id == customer_id)
            .order_by(c.metering_point_id, c.first_day, c.version)
        )
        with self.store.engine.connect() as connection:
            return [
                RunRecord(settlement_from_json(billed), company, settled_at_s)
                for billed, company, settled_at_s in connection.execute(query)
            ]

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> list[StoredValue]:
        """Stored values of the metering point starting in ``[start_s, end_s)``."""
        return SqlValueStore(self.store).values(metering_point_id, start_s, end_s)

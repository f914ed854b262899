"""The console's view of settlement runs: the adapter behind
:class:`openams.services.settlement_overview.SettlementOverviewStore`.

A month's amount is summed by the database in whole øre: every run's total is stored as
exact decimal text with two decimals, so removing the point gives øre. A total written any
other way (none is, but the text is not constrained) is summed exactly in Python instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, case, cast, distinct, func, select

from openams.domain.settlement_types import Settlement
from openams.services.settlement_overview import MonthSummary

from .engine import Store
from .schema import settlements
from .settlement import settlement_from_json

__all__ = ["SqlSettlementOverviewStore"]

_TWO_DECIMALS = "%.__"


class SqlSettlementOverviewStore:
    """Settlement runs by month, in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _summaries(self, month: str | None) -> list[MonthSummary]:
        c = settlements.c
        plain = c.total_nok.like(_TWO_DECIMALS)
        ore = cast(func.replace(c.total_nok, ".", ""), BigInteger)
        query = (
            select(
                c.month,
                func.count(distinct(c.metering_point_id)),
                func.sum(case((c.kind == "settlement", 1), else_=0)),
                func.sum(case((c.kind == "settlement", 0), else_=1)),
                func.max(c.settled_at_s),
                func.sum(case((plain, ore), else_=0)),
                func.sum(case((plain, 0), else_=1)),
            )
            .group_by(c.month)
            .order_by(c.month.desc())
        )
        if month is not None:
            query = query.where(c.month == month)
        out = []
        with self.store.engine.connect() as connection:
            for row in connection.execute(query).all():
                billed = Decimal(int(row[5] or 0)).scaleb(-2)
                if row[6]:
                    others = select(c.total_nok).where(c.month == row[0], ~plain)
                    billed += sum(
                        (Decimal(text) for (text,) in connection.execute(others)), Decimal(0)
                    )
                out.append(
                    MonthSummary(row[0], int(row[1]), int(row[2]), int(row[3]), billed, int(row[4]))
                )
        return out

    def month_summaries(self) -> list[MonthSummary]:
        """Every month with a run, newest first."""
        return self._summaries(None)

    def month_summary(self, month: str) -> MonthSummary | None:
        """One month's summary; None when nothing is settled for it."""
        found = self._summaries(month)
        return found[0] if found else None

    def month_page(
        self, month: str, order: str, offset: int, limit: int
    ) -> list[tuple[Settlement, int]]:
        """``limit`` runs of the month from ``offset``: by amount (largest first) or by
        metering point, then by part of the month and version."""
        c = settlements.c
        keys: list[Any] = [c.metering_point_id, c.first_day, c.version]
        if order == "amount":
            keys.insert(0, cast(c.total_nok, Numeric).desc())
        query = (
            select(c.billed, c.settled_at_s)
            .where(c.month == month)
            .order_by(*keys)
            .offset(offset)
            .limit(limit)
        )
        with self.store.engine.connect() as connection:
            return [
                (settlement_from_json(text), int(at_s)) for text, at_s in connection.execute(query)
            ]

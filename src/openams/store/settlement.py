"""Settlement's side of the store: the adapter behind
:class:`openams.services.settlement.SettlementStore`.

Runs are stored as JSON with every number as exact decimal text, so a run read back is
equal to the run saved (the re-settlement compares against it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select

from openams.domain.settlement import HourArrays
from openams.domain.settlement_types import DayUse, Line, PeakHour, Settlement
from openams.domain.tariff import Tariff
from openams.services.settlement import (
    MeteringPointInfo,
    SupplyPeriod,
)

from .engine import Store
from .schema import customers, metering_points, settlements, supply_periods
from .usage import month_arrays, refresh_daily_usage, values_arrays

__all__ = ["BilledRun", "SqlSettlementStore", "settlement_from_json", "settlement_to_json"]

_QUARTERS_PER_HOUR = 4

# The reads of every portal page, built once (a statement built anew costs more than the
# lookup it makes).
_MP = metering_points.c
_POINTS = select(
    _MP.metering_point_id, _MP.customer_id, _MP.customer_type, _MP.postcode, _MP.municipality,
    _MP.area,
).order_by(_MP.metering_point_id)  # fmt: skip
_POINT = _POINTS.where(_MP.metering_point_id == bindparam("metering_point_id"))
_POINTS_OF_CUSTOMER = (
    select(_MP.metering_point_id)
    .where(_MP.customer_id == bindparam("customer_id"))
    .order_by(_MP.metering_point_id)
)
_SP = supply_periods.c
_SUPPLY_PERIODS = select(_SP.metering_point_id, _SP.from_day, _SP.to_day, _SP.customer_id,
                         _SP.norgespris).where(
    _SP.metering_point_id.in_(bindparam("ids", expanding=True)),
    _SP.from_day <= bindparam("last"),
    (_SP.to_day.is_(None)) | (_SP.to_day >= bindparam("first")),
)  # fmt: skip


def settlement_to_json(s: Settlement) -> str:
    """A settlement as JSON with exact decimal text (see :func:`settlement_from_json`)."""
    data = {
        "metering_point_id": s.metering_point_id,
        "customer_id": s.customer_id,
        "month": s.month,
        "first_day": s.first_day.isoformat(),
        "last_day": s.last_day.isoformat(),
        "capacity_kw": str(s.capacity_kw),
        "capacity_step": s.capacity_step,
        "peak_hours": [[p.day.isoformat(), p.hour, str(p.kwh), p.estimated] for p in s.peak_hours],
        "energy_kwh": str(s.energy_kwh),
        "estimated_kwh": str(s.estimated_kwh),
        "export_kwh": str(s.export_kwh),
        "missing_hours": s.missing_hours,
        "lines": [
            [
                ln.code,
                ln.text,
                str(ln.quantity),
                ln.unit,
                str(ln.unit_price),
                str(ln.amount),
                str(ln.estimated_kwh),
            ]
            for ln in s.lines
        ],
        "total_nok": str(s.total_nok),
        "days": [
            [
                d.day.isoformat(),
                str(d.kwh),
                None if d.spot_nok_per_kwh is None else str(d.spot_nok_per_kwh),
            ]
            for d in s.days
        ],
        "version": s.version,
        "kind": s.kind,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def settlement_from_json(text: str) -> Settlement:
    """The settlement :func:`settlement_to_json` wrote."""
    d: dict[str, Any] = json.loads(text)
    return Settlement(
        metering_point_id=d["metering_point_id"],
        customer_id=d["customer_id"],
        month=d["month"],
        first_day=date.fromisoformat(d["first_day"]),
        last_day=date.fromisoformat(d["last_day"]),
        capacity_kw=Decimal(d["capacity_kw"]),
        capacity_step=d["capacity_step"],
        peak_hours=tuple(
            PeakHour(date.fromisoformat(day), hour, Decimal(kwh), est)
            for day, hour, kwh, est in d["peak_hours"]
        ),
        energy_kwh=Decimal(d["energy_kwh"]),
        estimated_kwh=Decimal(d["estimated_kwh"]),
        export_kwh=Decimal(d["export_kwh"]),
        missing_hours=d["missing_hours"],
        lines=tuple(
            Line(code, text_, Decimal(q), unit, Decimal(p), Decimal(a), Decimal(e))
            for code, text_, q, unit, p, a, e in d["lines"]
        ),
        total_nok=Decimal(d["total_nok"]),
        days=tuple(
            DayUse(date.fromisoformat(day), Decimal(kwh), None if spot is None else Decimal(spot))
            for day, kwh, spot in d["days"]
        ),
        version=d["version"],
        kind=d["kind"],
    )


@dataclass(frozen=True, slots=True)
class BilledRun:
    """A run as billed, with who bills whom, for invoices."""

    settlement: Settlement
    company: str
    customer_name: str
    street: str
    postcode: str
    municipality: str


class SqlSettlementStore:
    """Metering points, hourly values and settlement runs in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def metering_points(self, metering_point_id: str | None) -> list[MeteringPointInfo]:
        """All metering points (or the one), in id order."""
        query, params = (_POINTS, {}) if metering_point_id is None else (
            _POINT, {"metering_point_id": metering_point_id})  # fmt: skip
        with self.store.engine.connect() as connection:
            return [MeteringPointInfo(*row) for row in connection.execute(query, params)]

    def points_of_customer(self, customer_id: str | None) -> list[str]:
        """The metering points supplied to a customer now, in id order."""
        with self.store.engine.connect() as connection:
            found = connection.execute(_POINTS_OF_CUSTOMER, {"customer_id": customer_id})
            return [row[0] for row in found]

    def supply_periods(self, ids: Sequence[str], first: date, last: date) -> list[SupplyPeriod]:
        """Supply periods of the metering points overlapping ``first`` .. ``last``."""
        params = {"ids": list(ids), "first": first.isoformat(), "last": last.isoformat()}
        with self.store.engine.connect() as connection:
            return [
                SupplyPeriod(
                    mp,
                    date.fromisoformat(start),
                    None if end is None else date.fromisoformat(end),
                    customer,
                    bool(norgespris),
                )
                for mp, start, end, customer, norgespris in connection.execute(
                    _SUPPLY_PERIODS, params
                )
            ]

    def save_supply(self, period: SupplyPeriod) -> None:
        """Insert or replace a supply period (by metering point and first day)."""
        c = supply_periods.c
        with self.store.engine.begin() as connection:
            connection.execute(
                supply_periods.delete().where(
                    c.metering_point_id == period.metering_point_id,
                    c.from_day == period.from_day.isoformat(),
                )
            )
            connection.execute(
                insert(supply_periods).values(
                    metering_point_id=period.metering_point_id,
                    from_day=period.from_day.isoformat(),
                    to_day=None if period.to_day is None else period.to_day.isoformat(),
                    customer_id=period.customer_id,
                    norgespris=int(period.norgespris),
                )
            )

    def latest_arrays(self, ids: Sequence[str], first: date, last: date) -> dict[str, HourArrays]:
        """The interval values stored now (validated or not) of ``first`` .. ``last``, by id."""
        with self.store.engine.connect() as connection:
            return values_arrays(connection, ids, first, last)

    def month_arrays(self, ids: Sequence[str], first: date, last: date) -> dict[str, HourArrays]:
        """The validated daily usage of ``first`` .. ``last``, by id (absent: no values)."""
        return month_arrays(self.store, ids, first, last)

    def refresh_usage(self, first: date, last: date, now_s: int) -> int:
        """Rebuild the daily usage of every metering point over ``first`` .. ``last`` from
        the interval values; how many rows were written."""
        ids = [p.metering_point_id for p in self.metering_points(None)]
        with self.store.engine.begin() as connection:
            return refresh_daily_usage(connection, ids, first, last, now_s)

    def last_runs(self, ids: Sequence[str], month: str) -> dict[tuple[str, date], Settlement]:
        """The latest full settlement of each supply of the month, by (id, first day)."""
        c = settlements.c
        latest = (
            select(c.metering_point_id, c.first_day, func.max(c.version).label("version"))
            .where(c.month == month, c.metering_point_id.in_(list(ids)))
            .group_by(c.metering_point_id, c.first_day)
            .subquery()
        )
        query = select(c.full, c.billed).join(
            latest,
            (c.metering_point_id == latest.c.metering_point_id)
            & (c.first_day == latest.c.first_day)
            & (c.version == latest.c.version),
        )
        out = {}
        with self.store.engine.connect() as connection:
            for full, billed in connection.execute(query):
                run = settlement_from_json(full or billed)  # empty: the same as billed
                out[(run.metering_point_id, run.first_day)] = run
        return out

    def save_runs(
        self, runs: Sequence[tuple[Settlement, Settlement]], tariff: Tariff, now_s: int
    ) -> None:
        """Keep runs as ``(billed, full)``."""
        rows = [
            {
                "metering_point_id": billed.metering_point_id,
                "first_day": billed.first_day.isoformat(),
                "version": billed.version,
                "month": billed.month,
                "customer_id": billed.customer_id,
                "kind": billed.kind,
                "company": tariff.company,
                "tariff": tariff.code,
                "total_nok": str(billed.total_nok),
                "billed": settlement_to_json(billed),
                "full": "" if full is billed else settlement_to_json(full),
                "settled_at_s": now_s,
            }
            for billed, full in runs
        ]
        with self.store.engine.begin() as connection:
            connection.execute(insert(settlements), rows)

    def runs(self, month: str, metering_point_id: str | None = None) -> list[Settlement]:
        """Every run billed for a month (or a metering point's month), in order."""
        c = settlements.c
        query = (
            select(c.billed)
            .where(c.month == month)
            .order_by(c.metering_point_id, c.first_day, c.version)
        )
        if metering_point_id is not None:
            query = query.where(c.metering_point_id == metering_point_id)
        with self.store.engine.connect() as connection:
            return [settlement_from_json(text) for (text,) in connection.execute(query)]

    def billed_runs(self, month: str, metering_point_id: str | None = None) -> list[BilledRun]:
        """Every run billed for a month with its company, customer and address, in order."""
        c, p, k = settlements.c, metering_points.c, customers.c
        query = (
            select(
                c.billed, c.company, k.name, p.street, p.house_number, p.postcode, p.municipality
            )
            .join(metering_points, p.metering_point_id == c.metering_point_id)
            .join(customers, k.customer_id == c.customer_id, isouter=True)
            .where(c.month == month)
            .order_by(c.metering_point_id, c.first_day, c.version)
        )
        if metering_point_id is not None:
            query = query.where(c.metering_point_id == metering_point_id)
        out = []
        with self.store.engine.connect() as connection:
            for text, company, name, street, number, postcode, municipality in connection.execute(
                query
            ):
                run = settlement_from_json(text)
                out.append(
                    BilledRun(
                        run,
                        company,
                        name or run.customer_id,
                        f"{street} {number}".strip(),
                        postcode,
                        municipality,
                    )
                )
        return out

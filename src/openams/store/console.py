"""The console's reads: the adapter behind :class:`openams.services.console.ConsoleStore`.

Every figure of the dashboard is one aggregate query, counted by the database.

Search is case-insensitive on both databases: both sides are lower-cased, and since SQLite's
``lower()`` knows only ASCII, the upper-case letters of Norwegian names (Æ, Ø, Å and a few
more) are replaced by their lower-case ones in SQL as well.

Register reads have no index on their arrival time (one more index would slow ingest);
pushes per minute therefore look only at reads whose meter clock is at most
:data:`LATE_READS_S` older than the minutes counted, through the index on the meter's clock.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    distinct,
    func,
    literal_column,
    or_,
    select,
)

from openams.services.console import (
    IntervalValue,
    MeterEvent,
    MeterInfo,
    PointDetail,
    PointHit,
    PointInfo,
    QuarantinedPush,
    RegisterRead,
    SearchQuery,
    SettlementRun,
)
from openams.services.edits import ValueEdit

from .engine import Store
from .schema import (
    customers,
    elhub_deliveries,
    events,
    interval_values,
    metering_points,
    meters,
    quarantine,
    register_reads,
    security_events,
    settlements,
    value_edits,
)
from .settlement import settlement_from_json

__all__ = ["LATE_READS_S", "SqlConsoleStore"]

#: How much older than its arrival a register read may be and still count as a push of
#: the minute it arrived in. [s]
LATE_READS_S: Final = 86_400
#: The most interval values of a metering point's page (a week of quarter-hours is 672).
_MAX_VALUES = 1_000
_UPPER_TO_LOWER = (("Æ", "æ"), ("Ø", "ø"), ("Å", "å"), ("Ä", "ä"), ("Ö", "ö"), ("Ü", "ü"),
                   ("É", "é"))  # fmt: skip
_MP, _K, _M = metering_points.c, customers.c, meters.c


def _folded(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    """``lower(expression)``, the Norwegian capitals included on SQLite too."""
    out: ColumnElement[Any] = func.lower(expression)
    for upper, lower in _UPPER_TO_LOWER:
        out = func.replace(out, upper, lower)
    return out


def _like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``\\`` as the escape character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(expression: ColumnElement[Any], folded: str) -> ColumnElement[bool]:
    return expression.like(f"%{_like_escaped(folded)}%", escape="\\")


def _per_minute(column: ColumnElement[int]) -> ColumnElement[int]:
    return (column // literal_column("60", BigInteger())).label("minute")


class SqlConsoleStore:
    """The console's reads in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _counts(self, query: Select[Any, int]) -> dict[Any, int]:
        with self.store.engine.connect() as connection:
            return {key: int(n) for key, n in connection.execute(query)}

    def meters_heard(self, since_s: int) -> tuple[int, int]:
        """Meters with a register read at or after ``since_s``, and all meters."""
        r = register_reads.c
        heard = select(func.count(distinct(r.meter_id))).where(r.read_at_s >= since_s)
        total = select(func.count()).select_from(meters)
        with self.store.engine.connect() as connection:
            return int(connection.execute(heard).scalar_one()), int(
                connection.execute(total).scalar_one()
            )

    def pushes_by_minute(self, first_minute: int, minutes: int) -> dict[int, int]:
        """Pushes received per epoch minute: register reads, event pushes, quarantined."""
        start_s, end_s = first_minute * 60, (first_minute + minutes) * 60
        r, e, q = register_reads.c, events.c, quarantine.c
        queries = [
            select(minute := _per_minute(r.received_at_s), func.count())
            .where(r.read_at_s >= start_s - LATE_READS_S, r.received_at_s >= start_s,
                   r.received_at_s < end_s)
            .group_by(minute),
        ]  # fmt: skip
        for column in (e.received_at_s, q.received_at_s):
            minute = _per_minute(column)
            queries.append(
                select(minute, func.count())
                .where(column >= start_s, column < end_s)
                .group_by(minute)
            )
        out: dict[int, int] = {}
        for query in queries:
            for at_minute, n in self._counts(query).items():
                out[int(at_minute)] = out.get(int(at_minute), 0) + n
        return out

    def quarantined_by_reason(self) -> dict[str, int]:
        """Unresolved quarantined pushes per reason."""
        q = quarantine.c
        return self._counts(
            select(q.reason, func.count()).where(q.resolved == 0).group_by(q.reason)
        )

    def elhub_delivered(self, day: str, listed: int) -> tuple[int, int, list[str]]:
        """Metering points with a meter, those with ``day``'s consumption sent to Elhub, and
        the first ``listed`` of those without."""
        d = elhub_deliveries.c
        sent = select(d.metering_point_id).where(d.day == day, d.direction == "consumption")
        expected = select(func.count(distinct(_M.metering_point_id)))
        delivered = select(func.count(distinct(d.metering_point_id))).where(
            d.day == day,
            d.direction == "consumption",
            d.metering_point_id.in_(select(_M.metering_point_id)),
        )
        missing = (
            select(_M.metering_point_id)
            .distinct()
            .where(_M.metering_point_id.not_in(sent))
            .order_by(_M.metering_point_id)
            .limit(listed)
        )
        with self.store.engine.connect() as connection:
            return (
                int(connection.execute(expected).scalar_one()),
                int(connection.execute(delivered).scalar_one()),
                list(connection.scalars(missing)),
            )

    def security_by_kind(self, since_s: int) -> dict[str, int]:
        """Security events at or after ``since_s`` per kind."""
        s = security_events.c
        return self._counts(select(s.kind, func.count()).where(s.at_s >= since_s).group_by(s.kind))

    def search(self, query: SearchQuery, limit: int) -> list[PointHit]:
        """Metering points by GSRN prefix, address, customer name or id, or meter id."""
        pattern = _like_escaped(query.folded)
        wanted: list[ColumnElement[bool]] = [
            func.lower(_MP.customer_id).like(f"{pattern}%", escape="\\"),
            _MP.metering_point_id.in_(
                select(_M.metering_point_id).where(_contains(func.lower(_M.meter_id), query.folded))
            ),
        ]
        if query.digits:
            wanted.append(_MP.metering_point_id.like(f"{query.digits}%"))
        if query.words:
            address = _folded(
                _MP.street + " " + _MP.house_number + " " + _MP.postcode + " " + _MP.municipality
            )
            name = _folded(_K.name)
            wanted.append(and_(*[_contains(address, word) for word in query.words]))
            wanted.append(and_(*[_contains(name, word) for word in query.words]))
        found = (
            select(_MP.metering_point_id, _MP.street, _MP.house_number, _MP.postcode,
                   _MP.municipality, _MP.customer_id, _K.name)
            .join(customers, _K.customer_id == _MP.customer_id, isouter=True)
            .where(or_(*wanted))
            .order_by(_MP.metering_point_id)
            .limit(limit)
        )  # fmt: skip
        with self.store.engine.connect() as connection:
            rows = connection.execute(found).all()
            owned: dict[str, list[str]] = {row[0]: [] for row in rows}
            if owned:
                for meter_id, point_id in connection.execute(
                    select(_M.meter_id, _M.metering_point_id)
                    .where(_M.metering_point_id.in_(list(owned)))
                    .order_by(_M.meter_id)
                ):
                    owned[point_id].append(meter_id)
        return [PointHit(*row, tuple(owned[row[0]])) for row in rows]

    def point_detail(
        self, metering_point_id: str, since_s: int, until_s: int, rows: int
    ) -> PointDetail | None:
        """The metering point with its values starting in ``[since_s, until_s)`` and at most
        ``rows`` of each other list, newest first; ``None`` for an unknown point."""
        point_query = (
            select(_MP.metering_point_id, _MP.transformer_id, _MP.customer_type, _MP.street,
                   _MP.house_number, _MP.postcode, _MP.municipality, _MP.area, _MP.main_fuse_a,
                   _MP.phases, _MP.grid_type, _MP.customer_id, _K.name, _K.mobile, _K.email)
            .join(customers, _K.customer_id == _MP.customer_id, isouter=True)
            .where(_MP.metering_point_id == metering_point_id)
        )  # fmt: skip
        meter_query = (
            select(_M.meter_id, _M.manufacturer, _M.meter_type, _M.phases, _M.push_interval_s,
                   _M.system_title)
            .where(_M.metering_point_id == metering_point_id)
            .order_by(_M.meter_id)
        )  # fmt: skip
        v, r, e, q = interval_values.c, register_reads.c, events.c, quarantine.c
        s, x = settlements.c, value_edits.c
        with self.store.engine.connect() as connection:
            row = connection.execute(point_query).first()
            if row is None:
                return None
            point = PointInfo(*list(row))
            own = [
                MeterInfo(m_id, maker, kind, phases, interval, bytes(title))
                for m_id, maker, kind, phases, interval, title in connection.execute(meter_query)
            ]
            ids = [m.meter_id for m in own]
            titles = [m.system_title for m in own]
            values = connection.execute(
                select(v.start_at_s, v.resolution_s, v.import_wh, v.export_wh, v.status,
                       v.validation, v.estimation, v.updated_at_s)
                .where(v.metering_point_id == metering_point_id, v.start_at_s >= since_s,
                       v.start_at_s < until_s)
                .order_by(v.start_at_s.desc(), v.resolution_s)
                .limit(_MAX_VALUES)
            )  # fmt: skip
            interval = tuple(IntervalValue(*value) for value in values)
            reads = connection.execute(
                select(r.meter_id, r.read_at_s, r.received_at_s, r.invocation_counter,
                       r.import_wh, r.export_wh)
                .where(r.meter_id.in_(ids))
                .order_by(r.read_at_s.desc(), r.meter_id)
                .limit(rows)
            )  # fmt: skip
            read_rows = tuple(RegisterRead(*read) for read in reads)
            found_events = connection.execute(
                select(e.meter_id, e.at_s, e.name, e.log, e.code, e.received_at_s)
                .where(or_(e.metering_point_id == metering_point_id, e.meter_id.in_(ids)))
                .order_by(e.at_s.desc(), e.event_id.desc())
                .limit(rows)
            )
            event_rows = tuple(MeterEvent(*event) for event in found_events)
            held = connection.execute(
                select(q.quarantine_id, q.received_at_s, q.channel, q.reason, q.message,
                       q.meter_id, q.raw, q.resolved)
                .where(or_(q.meter_id.in_(ids), q.system_title.in_(titles)))
                .order_by(q.quarantine_id.desc())
                .limit(rows)
            )  # fmt: skip
            held_rows = tuple(
                QuarantinedPush(qid, at_s, channel, reason, message, meter, bytes(raw),
                                bool(resolved))
                for qid, at_s, channel, reason, message, meter, raw, resolved in held
            )  # fmt: skip
            runs = connection.execute(
                select(s.billed, s.settled_at_s)
                .where(s.metering_point_id == metering_point_id)
                .order_by(s.month.desc(), s.first_day.desc(), s.version.desc())
                .limit(rows)
            )
            run_rows = tuple(SettlementRun(settlement_from_json(text), at_s) for text, at_s in runs)
            fields = [x[name] for name in ValueEdit.__dataclass_fields__]
            edits = connection.execute(
                select(*fields)
                .where(x.metering_point_id == metering_point_id)
                .order_by(x.edit_id.desc())
                .limit(rows)
            )
            edit_rows = tuple(ValueEdit(*edit) for edit in edits)
        return PointDetail(
            point, tuple(own), since_s, interval, read_rows, event_rows, held_rows, run_rows,
            edit_rows,
        )  # fmt: skip

"""Interval values for reading back and editing: the adapters behind
:class:`openams.services.values.ValueStore` and :class:`openams.services.edits.EditStore`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from openams.domain.estate import PUSH_INTERVALS_S
from openams.services.edits import StoredEdit, ValueEdit
from openams.services.values import StoredValue

from .engine import Store, ensure_month_partitions, fetch_rows_in
from .schema import interval_values, meters, value_edits
from .usage import local_day, refresh_daily_usage

__all__ = ["SqlEditStore", "SqlValueStore"]

_V = interval_values.c
# Built once: the values API reads with it on every request.
_VALUES = (
    select(_V.start_at_s, _V.resolution_s, _V.import_wh, _V.export_wh, _V.status)
    .where(
        _V.metering_point_id == bindparam("metering_point_id"),
        # every resolution there is, so that the primary key finds the period itself
        # instead of reading all of the metering point's values
        _V.resolution_s.in_(PUSH_INTERVALS_S),
        _V.start_at_s >= bindparam("start_s"),
        _V.start_at_s < bindparam("end_s"),
    )
    .order_by(_V.start_at_s, _V.resolution_s)
)


class SqlValueStore:
    """Interval values in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> list[StoredValue]:
        """Stored values of the metering point starting in ``[start_s, end_s)``."""
        return [StoredValue(*row) for row in self.value_rows(metering_point_id, start_s, end_s)]

    def value_rows(
        self, metering_point_id: str, start_s: int, end_s: int
    ) -> list[tuple[int, int, int | None, int | None, str]]:
        """:meth:`values` as plain rows in the order of :class:`StoredValue`'s fields (for
        the values API, which writes them straight out)."""
        params = {"metering_point_id": metering_point_id, "start_s": start_s, "end_s": end_s}
        with self.store.engine.connect() as connection:
            return fetch_rows_in(connection, _VALUES, params)


class SqlEditStore:
    """Manual edits and their audit in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def resolution_of(self, metering_point_id: str) -> int | None:
        """The finest push interval of the metering point's meters. [s]"""
        query = select(func.min(meters.c.push_interval_s)).where(
            meters.c.metering_point_id == metering_point_id
        )
        with self.store.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return int(found) if found is not None else None

    def current(self, metering_point_id: str, resolution_s: int, start_at_s: int) -> StoredEdit:
        """The value stored now."""
        c = interval_values.c
        query = select(c.import_wh, c.export_wh, c.status).where(
            c.metering_point_id == metering_point_id,
            c.resolution_s == resolution_s,
            c.start_at_s == start_at_s,
        )
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        return StoredEdit(row[0], row[1], row[2]) if row else StoredEdit(None, None, "missing")

    def apply_edit(self, edit: ValueEdit) -> None:
        """The new value (estimated, manual) and the audit row, together."""
        insert = (postgresql if self.store.dialect == "postgresql" else sqlite).insert
        row = {
            "metering_point_id": edit.metering_point_id, "resolution_s": edit.resolution_s,
            "start_at_s": edit.start_at_s, "import_wh": edit.new_import_wh,
            "export_wh": edit.new_export_wh, "status": edit.new_status,
            "validation": "manual_edit", "estimation": "manual",
            "updated_at_s": edit.edited_at_s,
        }  # fmt: skip
        day = datetime.fromtimestamp(edit.start_at_s, UTC).date()
        with self.store.engine.begin() as connection:
            ensure_month_partitions(connection, day, day)
            statement = insert(interval_values).values(row)
            keys = ("metering_point_id", "resolution_s", "start_at_s")
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=list(keys),
                    set_={k: v for k, v in row.items() if k not in keys},
                )
            )
            connection.execute(value_edits.insert(), asdict(edit))
            edited = local_day(edit.start_at_s)
            refresh_daily_usage(connection, [edit.metering_point_id], edited, edited,
                                edit.edited_at_s)  # fmt: skip

    def edits(self, metering_point_id: str | None) -> list[ValueEdit]:
        """The audit, oldest first."""
        query = select(*[value_edits.c[f] for f in ValueEdit.__dataclass_fields__]).order_by(
            value_edits.c.edit_id
        )
        if metering_point_id is not None:
            query = query.where(value_edits.c.metering_point_id == metering_point_id)
        with self.store.engine.connect() as connection:
            return [ValueEdit(*row) for row in connection.execute(query)]

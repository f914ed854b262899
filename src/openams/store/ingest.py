"""Ingest's side of the store: the adapter behind :class:`openams.services.ingest.IngestStore`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openams.dlms import KeyPair
from openams.domain.counters import CounterWindow
from openams.keyvault import KeyVault
from openams.services.ingest import IngestBatch, IntervalRow, MeterEntry, ReadRow

from .bulk import bulk_write
from .engine import Store, ensure_month_partitions
from .schema import events, meters, quarantine, register_reads, security_events

__all__ = ["SqlIngestStore"]


class SqlIngestStore:
    """Meters (keys unwrapped when first needed) and the batches of an ingest run."""

    def __init__(self, store: Store, vault: KeyVault) -> None:
        self.store = store
        self.vault = vault
        self._rows: dict[bytes, tuple[str, str, bytes, bytes, int, bytes | None]] = {}
        self._newest: dict[str, int] = {}
        self._keys: dict[bytes, KeyPair] = {}
        with store.engine.connect() as connection:
            for row in connection.execute(
                select(
                    meters.c.system_title, meters.c.meter_id, meters.c.metering_point_id,
                    meters.c.ek_wrapped, meters.c.ak_wrapped, meters.c.push_interval_s,
                    meters.c.counter_window,
                )
            ):  # fmt: skip
                self._rows[bytes(row[0])] = (row[1], row[2], bytes(row[3]), bytes(row[4]),
                                             row[5], row[6])  # fmt: skip
            # the highest counter stored per meter: a window behind it was not written before
            # a crash, and is rebuilt from the stored pushes
            self._top: dict[str, int] = {}
            for table in (register_reads, events):
                top = select(table.c.meter_id, func.max(table.c.invocation_counter))
                for meter_id, counter in connection.execute(top.group_by(table.c.meter_id)):
                    if counter is not None:
                        self._top[meter_id] = max(int(counter), self._top.get(meter_id, -1))
            newest = select(register_reads.c.meter_id, func.max(register_reads.c.read_at_s))
            for meter_id, at_s in connection.execute(newest.group_by(register_reads.c.meter_id)):
                self._newest[meter_id] = int(at_s)

    _READS = ReadRow._fields
    _INTERVALS = (*IntervalRow._fields, "status", "validation", "estimation", "updated_at_s")
    # a measured value replaces an estimate, even a final one; never a manual edit
    _INTERVALS_CONFLICT = (
        "ON CONFLICT (metering_point_id, resolution_s, start_at_s) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _INTERVALS[3:])
        + " WHERE interval_values.estimation IS NULL OR interval_values.estimation <> 'manual'"
    )

    def keys(self, system_title: bytes) -> KeyPair | None:
        """The keys of the meter with this system title, unwrapped once (no database)."""
        title = bytes(system_title)
        found = self._keys.get(title)
        if found is None:
            row = self._rows.get(title)
            if row is None:
                return None
            found = self._keys[title] = KeyPair(
                self.vault.unwrap(row[2]), self.vault.unwrap(row[3])
            )
        return found

    def meter(self, system_title: bytes) -> MeterEntry | None:
        """The meter with this system title, its keys unwrapped, or ``None``."""
        row = self._rows.get(bytes(system_title))
        keys = self.keys(system_title)
        if row is None or keys is None:
            return None
        meter_id, point, _, _, interval_s, stored = row
        window = CounterWindow.from_bytes(bytes(stored) if stored else None)
        top = self._top.get(meter_id)
        if top is not None and (window.highest is None or top > window.highest):
            window = self._rebuilt(meter_id, top, window.size)
        return MeterEntry(
            meter_id,
            point,
            interval_s,
            keys,
            window,
            self._newest.get(meter_id),
        )

    def _rebuilt(self, meter_id: str, top: int, size: int) -> CounterWindow:
        """The window of the counters of the meter's stored pushes."""
        window = CounterWindow(size=size)
        counters: set[int] = set()
        with self.store.engine.connect() as connection:
            for table in (register_reads, events):
                counters.update(
                    connection.scalars(
                        select(table.c.invocation_counter).where(
                            table.c.meter_id == meter_id,
                            table.c.invocation_counter > top - size,
                        )
                    )
                )
        for counter in sorted(counters):
            window.accept(counter)
        return window

    def arrivals(self, meter_id: str) -> dict[int, int]:
        """When each stored push of this meter arrived: invocation counter -> epoch s."""
        found: dict[int, int] = {}
        with self.store.engine.connect() as connection:
            for table in (register_reads, events):
                for counter, at_s in connection.execute(
                    select(table.c.invocation_counter, table.c.received_at_s).where(
                        table.c.meter_id == meter_id, table.c.invocation_counter.is_not(None)
                    )
                ):
                    found.setdefault(int(counter), int(at_s))
        return found

    def read_at(self, meter_id: str, read_at_s: int) -> ReadRow | None:
        """The stored register read of this meter at this clock time."""
        with self.store.engine.connect() as connection:
            row = connection.execute(
                select(register_reads).where(
                    register_reads.c.meter_id == meter_id,
                    register_reads.c.read_at_s == read_at_s,
                )
            ).first()
        return ReadRow(*row) if row is not None else None

    def save(self, batch: IngestBatch) -> None:
        """Commit the batch in one transaction."""
        insert = (postgresql if self.store.dialect == "postgresql" else sqlite).insert
        now_s = int(datetime.now(UTC).timestamp())
        with self.store.engine.begin() as connection:
            bulk_write(connection, "register_reads", self._READS, batch.reads,
                       "ON CONFLICT DO NOTHING")  # fmt: skip
            if batch.intervals:
                starts = [r.start_at_s for r in batch.intervals]
                ensure_month_partitions(
                    connection,
                    datetime.fromtimestamp(min(starts), UTC).date(),
                    datetime.fromtimestamp(max(starts), UTC).date(),
                )
                measured = ("measured", None, None, now_s)
                bulk_write(
                    connection, "interval_values", self._INTERVALS,
                    [(*row, *measured) for row in batch.intervals], self._INTERVALS_CONFLICT,
                    key_columns=3,
                )  # fmt: skip
            if batch.events:
                connection.execute(
                    insert(events).on_conflict_do_nothing(), [e._asdict() for e in batch.events]
                )
            for row, event in batch.quarantine:
                already = connection.execute(
                    select(quarantine.c.quarantine_id).where(
                        quarantine.c.source == row.source, quarantine.c.raw == row.raw
                    )
                ).first()
                if already is not None:  # the same push from the same place, ingested again
                    continue
                quarantine_id = connection.execute(
                    quarantine.insert().returning(quarantine.c.quarantine_id),
                    {**asdict(row), "resolved": 0},
                ).scalar_one()
                if event is not None:
                    connection.execute(
                        security_events.insert(),
                        {**asdict(event), "quarantine_id": quarantine_id},
                    )
            if batch.windows:
                connection.execute(
                    update(meters)
                    .where(meters.c.meter_id == bindparam("m"))
                    .values(counter_window=bindparam("w")),
                    [{"m": m, "w": w.to_bytes()} for m, w in batch.windows.items()],
                )

"""Bulk writes keep the conflict rules on both stores (PostgreSQL: COPY and INSERT ... SELECT)."""

from __future__ import annotations

import sqlalchemy as sa

from openams.store import open_store
from openams.store.bulk import bulk_write

T = 1_768_176_000  # 2026-01-12T00:00:00Z
READS = ("meter_id", "read_at_s", "received_at_s", "invocation_counter", "import_wh",
         "export_wh", "reactive_import_varh", "reactive_export_varh")  # fmt: skip
VALUES = ("metering_point_id", "resolution_s", "start_at_s", "import_wh", "status",
          "estimation", "updated_at_s")  # fmt: skip
UPSERT = (
    "ON CONFLICT (metering_point_id, resolution_s, start_at_s) DO UPDATE SET "
    "import_wh = excluded.import_wh, status = excluded.status, "
    "estimation = excluded.estimation, updated_at_s = excluded.updated_at_s "
    "WHERE interval_values.estimation IS NULL OR interval_values.estimation <> 'manual'"
)


def _rows(store, sql):
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.text(sql))]


def test_conflict_rules_hold_and_the_later_row_of_a_key_wins(store_url):
    store = open_store(store_url)
    try:
        first = [("m1", T, T + 10, 1, 100, 0, 0, 0), ("m1", T + 3600, T + 3610, 2, 200, 0, 0, 0)]
        again = [("m1", T, T + 99, 9, 999, 0, 0, 0), ("m1", T + 7200, T + 7210, 3, 300, 0, 0, 0)]
        with store.engine.begin() as connection:
            bulk_write(connection, "register_reads", READS, first, "ON CONFLICT DO NOTHING")
            # a second write in the same transaction: the first's rows are not sent twice
            bulk_write(connection, "register_reads", READS, again, "ON CONFLICT DO NOTHING")
        assert _rows(store, "SELECT read_at_s, import_wh FROM register_reads ORDER BY 1") == [
            (T, 100), (T + 3600, 200), (T + 7200, 300),
        ]  # fmt: skip
        values = [
            ("mp1", 3600, T, 5, "estimated", "history", 1),
            ("mp1", 3600, T + 3600, 7, "measured", "manual", 1),  # an edit, kept below
            ("mp1", 3600, T, 6, "measured", None, 2),  # the same key again: the later wins
        ]
        with store.engine.begin() as connection:
            bulk_write(connection, "interval_values", VALUES, values, UPSERT, key_columns=3)
            # later writes in the same transaction see only their own rows
            bulk_write(
                connection,
                "interval_values",
                VALUES,
                [("mp1", 3600, T, 4, "measured", None, 3)],
                UPSERT,
                key_columns=3,
            )
            bulk_write(connection, "interval_values", VALUES,
                       [("mp1", 3600, T + 3600, 8, "measured", None, 3)], UPSERT,
                       key_columns=3)  # fmt: skip
        assert _rows(
            store, "SELECT start_at_s, import_wh, status FROM interval_values ORDER BY 1"
        ) == [(T, 4, "measured"), (T + 3600, 7, "measured")]
    finally:
        store.close()

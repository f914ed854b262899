"""The store opens, migrates and holds the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from openams.store import ensure_month_partitions, open_store
from openams.store.engine import StoreError
from openams.store.schema import metadata


def test_a_new_store_has_every_table_and_column(store_url):
    store = open_store(store_url)
    try:
        inspector = sa.inspect(store.engine)
        for table in metadata.sorted_tables:
            columns = [c["name"] for c in inspector.get_columns(table.name)]
            assert columns == [c.name for c in table.columns], table.name
            primary = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert primary == [c.name for c in table.primary_key.columns], table.name
    finally:
        store.close()


def test_opening_again_migrates_nothing_and_keeps_rows(store_url):
    store = open_store(store_url)
    with store.engine.begin() as connection:
        connection.execute(
            metadata.tables["transformers"].insert(),
            {"transformer_id": "NS-1", "feeder_id": "F", "substation_id": "TS", "area": "NO1",
             "grid_type": "IT", "nominal_voltage_v": 230},
        )  # fmt: skip
    store.close()
    again = open_store(store_url)
    try:
        with again.engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM transformers")).scalar()
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert count == 1
            assert version.scalar() == "0010"
    finally:
        again.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(sa.exc.IntegrityError):
                connection.execute(
                    metadata.tables["meters"].insert(),
                    {"meter_id": "M", "metering_point_id": "nowhere", "manufacturer": "Aidon",
                     "meter_type": "6534", "phases": 3, "system_title": bytes(8),
                     "ek_wrapped": bytes(24), "ak_wrapped": bytes(24), "kek_id": "k",
                     "push_interval_s": 3600},
                )  # fmt: skip
    finally:
        store.close()


@pytest.mark.postgres
def test_values_are_partitioned_by_month_on_postgresql():
    from .conftest import _postgres_database

    gen = _postgres_database()
    url = next(gen)
    store = open_store(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        with store.engine.begin() as connection:
            made = ensure_month_partitions(connection, date(2025, 12, 15), date(2026, 2, 1))
            assert made == [
                "interval_values_y2025m12", "interval_values_y2026m01", "interval_values_y2026m02"
            ]  # fmt: skip
            assert ensure_month_partitions(connection, date(2026, 1, 1), date(2026, 1, 31)) == []
            connection.execute(
                metadata.tables["interval_values"].insert(),
                {"metering_point_id": "707057500000000017", "resolution_s": 3600,
                 "start_at_s": 1767225600, "status": "measured", "updated_at_s": 0},
            )  # fmt: skip
            where = connection.execute(
                sa.text("SELECT tableoid::regclass::text FROM interval_values")
            ).scalar()
            assert where == "interval_values_y2026m01"
    finally:
        store.close()
        for _ in gen:
            pass


def test_partitions_are_a_no_op_on_sqlite(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.begin() as connection:
        assert ensure_month_partitions(connection, date(2026, 1, 1), date(2026, 3, 1)) == []
    store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "cannot use the database URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot open the database"),
        ("sqlite:////nonexistent-dir/sub/x.db", "cannot open the database"),
    ],
)
def test_a_store_that_cannot_be_opened_is_a_clear_error(url, message):
    with pytest.raises(StoreError, match=message) as caught:
        open_store(url)
    assert "Traceback" not in str(caught.value)

"""The store's reads under every portal page: the right rows, found through an index.

On SQLite the test asks the query planner (EXPLAIN QUERY PLAN) about the very statements
the store runs: a read that scans a table, or reads all of a metering point's values for a
month of them, gets slow as the estate grows (bench/portal.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import event

from openams.domain.estate import Customer, MeteringPoint, Transformer
from openams.domain.prices import SpotPrice
from openams.services.vee import ValueRow, local_day_bounds
from openams.store import open_store
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.values import SqlValueStore
from openams.store.vee import SqlVeeStore

MP, OTHER = "707057500000000001", "707057500000000002"
DAY = date(2026, 1, 12)


def _estate(store) -> None:
    transformer = Transformer("T1", "F1", "S1", "NO1", "TN", 400)
    customers = [Customer("C1", "Kunde 1", "", ""), Customer("C2", "Kunde 2", "", "")]
    points = [
        MeteringPoint(
            mp, "T1", customer, "apartment", "Gate", "1", "0150", "Oslo", "NO1", 63, 3, "TN"
        )
        for mp, customer in ((MP, "C1"), (OTHER, "C2"))
    ]
    SqlEstateStore(store).save_estate([transformer], customers, points, [])


def _values(mp: str, first: date, days: int, resolution_s: int) -> list[ValueRow]:
    start_s = local_day_bounds(first)[0]
    end_s = local_day_bounds(first + timedelta(days=days - 1))[1]
    return [ValueRow(mp, resolution_s, s, 100, 0, None, None, "measured", None, None)
            for s in range(start_s, end_s, resolution_s)]  # fmt: skip


def _selects(store, call):
    """What ``call`` returns, and the query plan of each SELECT it ran."""
    seen = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        result = call()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    plans = []
    with store.engine.connect() as connection:
        for statement, parameters in seen:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append(" / ".join(str(row[-1]) for row in rows))
    return result, plans


def test_values_of_both_resolutions_come_in_time_order_from_the_primary_key(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        _estate(store)
        # hours until the meter was changed to one pushing quarter-hours, then quarters
        rows = _values(MP, DAY - timedelta(days=40), 42, 3600) + _values(
            MP, DAY + timedelta(2), 3, 900
        )
        rows += _values(OTHER, DAY, 1, 3600)
        SqlVeeStore(store).save_values(rows, 1)
        start_s, end_s = local_day_bounds(DAY)[0], local_day_bounds(DAY + timedelta(days=2))[1]
        got, plans = _selects(store, lambda: SqlValueStore(store).values(MP, start_s, end_s))
        assert [v.resolution_s for v in got] == [3600] * 48 + [900] * 96
        assert [v.start_at_s for v in got] == sorted(v.start_at_s for v in got)
        assert got[0].start_at_s == start_s
        assert got[-1].start_at_s == end_s - 900
        [plan] = plans
        assert "metering_point_id=? AND resolution_s=? AND start_at_s>? AND start_at_s<?" in plan
    finally:
        store.close()


def test_the_month_views_reads_use_an_index(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        _estate(store)
        SqlVeeStore(store).save_values(_values(MP, DAY - timedelta(days=11), 12, 3600), 1)
        SqlPriceStore(store).save_prices(
            [SpotPrice("NO1", s, 900, Decimal("50")) for s in range(*local_day_bounds(DAY), 900)],
            "p", 1,
        )  # fmt: skip
        settlements, prices = SqlSettlementStore(store), SqlPriceStore(store)

        def reads():
            return (
                settlements.points_of_customer("C1"),
                settlements.latest_arrays([MP], DAY - timedelta(days=11), DAY),
                prices.prices("NO1", *local_day_bounds(DAY)),
            )

        (points, arrays, spot), plans = _selects(store, reads)
        assert points == [MP]
        assert len(arrays[MP].import_wh) == 12 * 24
        assert (arrays[MP].import_wh == 100).all()
        assert len(spot) == 96
        assert "SCAN" not in " ".join(plans)
        assert "INDEX ix_metering_points_customer_id (customer_id=?)" in plans[0]
        assert "resolution_s=? AND start_at_s>? AND start_at_s<?" in plans[1]
        assert "zone=? AND resolution_s=? AND start_at_s>? AND start_at_s<?" in plans[2]
    finally:
        store.close()

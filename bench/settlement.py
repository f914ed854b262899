"""Settlement benchmark: a month of hourly values for 100,000 metering points, from the store.

Fills a store with an estate of metering points across the five bidding zones, their January
2026 hourly values as daily usage (what VEE keeps: one row per metering point and day,
744 hours each), the month's quarter-hour spot prices, and a Norgespris choice for every
tenth metering point. Then times ``settle_month`` end to end (read, settle, store every run),
and each part alone: reading the daily usage, settling the arrays, writing the runs. As a
baseline in the same run it times the plain hour-by-hour settlement (the test oracle) on a
sample of metering points read as hourly values, and extrapolates. Writes its section of
BENCHMARKS.md. Nothing here asserts a timing.

Usage: python bench/settlement.py [--points 100000] [--postgres URL | --no-postgres] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from _estate import estate
from _report import write_section

from openams.domain.estate import MeteringPoint
from openams.domain.prices import BIDDING_ZONES, ExchangeRate
from openams.domain.settlement import HourValue, Supply, settle_hours
from openams.domain.settlement_grid import hour_grid, month_prices
from openams.services.prices import hourly_prices_nok
from openams.services.settlement import SettleReport, SupplyPeriod, settle_month, supplies_in
from openams.services.tariff_files import default_taxes, example_tariff
from openams.sim.prices import generate_prices
from openams.store import Store, open_store
from openams.store.bulk import bulk_write
from openams.store.estate import SqlEstateStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.unit.domain.reference_settlement import settle as plain_settle  # noqa: E402

MONTH = "2026-01"
FIRST, LAST = date(2026, 1, 1), date(2026, 1, 31)
BATCH = 1000
SAMPLE = 500
HEADER = (
    "| store | supplies | read usage | settle (arrays) | write runs, rest | 1 process "
    "| **2 processes** | per second | second run | baseline (for all) |\n"
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
)


def _usage_rows(mps: list[MeteringPoint], now_s: int):
    """Daily usage rows, one batch of metering points at a time."""
    grid = hour_grid(FIRST, LAST)
    rng = np.random.default_rng(11)
    hour = grid.hour_of_day
    shape = 0.6 + 0.5 * np.exp(-((hour - 8) ** 2) / 6) + 0.8 * np.exp(-((hour - 19) ** 2) / 8)
    bounds = [*grid.day_starts.tolist(), grid.hours]
    for offset in range(0, len(mps), BATCH):
        chunk = mps[offset : offset + BATCH]
        scale = rng.uniform(300, 2500, size=(len(chunk), 1))
        imp = np.rint(scale * shape * rng.uniform(0.5, 1.6, size=(len(chunk), grid.hours)))
        imp = imp.astype(np.int64)
        imp[rng.random(imp.shape) < 0.002] = -1  # a missing hour now and then
        estimated = rng.random(imp.shape) < 0.01
        export = np.zeros_like(imp)
        rows = []
        for i, point in enumerate(chunk):
            if point.customer_type == "prosumer_solar":
                sunny = (hour >= 10) & (hour < 15)
                export[i, sunny] = imp[i, sunny] // 2
            for d, day in enumerate(grid.days):
                begin, end = bounds[d], bounds[d + 1]
                mask = sum(1 << k for k, flag in enumerate(estimated[i, begin:end]) if flag)
                packed = (imp[i, begin:end].astype("<i8").tobytes(),
                          export[i, begin:end].astype("<i8").tobytes())  # fmt: skip
                rows.append((point.metering_point_id, day.isoformat(), *packed, mask, now_s))
        yield rows


def _fill(store: Store, points: int) -> float:
    began = time.perf_counter()
    now_s = int(time.time())
    transformers, customers, mps = estate(points)
    SqlEstateStore(store).save_estate(transformers, customers, mps, [])
    prices = SqlPriceStore(store)
    prices.save_prices(generate_prices(BIDDING_ZONES, FIRST, 31, resolution_s=900, seed=3),
                       "simulated", now_s)  # fmt: skip
    prices.save_rates([ExchangeRate(FIRST + timedelta(days=n), Decimal("11.4235"))
                       for n in range(-7, 31)], "simulated", now_s)  # fmt: skip
    settlements = SqlSettlementStore(store)
    for point in mps[::10]:
        settlements.save_supply(SupplyPeriod(point.metering_point_id, date(2025, 10, 1), None,
                                             point.customer_id, True))  # fmt: skip
    columns = ("metering_point_id", "day", "import_wh", "export_wh", "estimated", "updated_at_s")
    for rows in _usage_rows(mps, now_s):
        with store.engine.begin() as connection:
            bulk_write(connection, "daily_usage", columns, rows, "")
        print(f"\r… filled {len(rows) // 31 + 0:,} more", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return time.perf_counter() - began


def _parts(store: Store) -> dict[str, float]:
    """Each part of a settlement run alone (the runs are written to a copy of the table)."""
    settlements = SqlSettlementStore(store)
    tariff, taxes = example_tariff("elvia_2026"), default_taxes()
    points = settlements.metering_points(None)
    grid = hour_grid(FIRST, LAST)
    priced = {}
    for area in BIDDING_ZONES:
        start_s = grid.start_s
        spot = {h.start_at_s: h.nok_per_kwh
                for h in hourly_prices_nok(SqlPriceStore(store), area, start_s,
                                           start_s + 3600 * grid.hours)
                if h.nok_per_kwh is not None}  # fmt: skip
        priced[area] = month_prices(spot, grid)
    read = compute = 0.0
    count = 0
    for offset in range(0, len(points), BATCH):
        chunk = points[offset : offset + BATCH]
        ids = [p.metering_point_id for p in chunk]
        began = time.perf_counter()
        periods = settlements.supply_periods(ids, FIRST, LAST)
        usage = settlements.month_arrays(ids, FIRST, LAST)
        read += time.perf_counter() - began
        began = time.perf_counter()
        for point in chunk:
            for supply in supplies_in(point, periods, FIRST, LAST):
                settle_hours(supply, usage[point.metering_point_id], priced[point.area], tariff,
                             taxes)  # fmt: skip
                count += 1
        compute += time.perf_counter() - began
    return {"read": read, "compute": compute, "supplies": float(count)}


def _baseline(store: Store) -> float:
    """Seconds per metering point-month of the plain hour-by-hour settlement, on a sample."""
    settlements = SqlSettlementStore(store)
    tariff, taxes = example_tariff("elvia_2026"), default_taxes()
    points = settlements.metering_points(None)[:SAMPLE]
    grid = hour_grid(FIRST, LAST)
    ids = [p.metering_point_id for p in points]
    usage = settlements.month_arrays(ids, FIRST, LAST)
    values = {}
    for mp, arrays in usage.items():
        values[mp] = [
            HourValue(grid.start_s + 3600 * n, None if wh < 0 else wh, int(ex), bool(es))
            for n, (wh, ex, es) in enumerate(zip(arrays.import_wh.tolist(),
                                                  arrays.export_wh.tolist(),
                                                  arrays.estimated.tolist(), strict=True))
        ]  # fmt: skip
    spot_of = {}
    for area in {p.area for p in points}:
        spot_of[area] = {h.start_at_s: h.nok_per_kwh
                         for h in hourly_prices_nok(SqlPriceStore(store), area, grid.start_s,
                                                    grid.start_s + 3600 * grid.hours)
                         if h.nok_per_kwh is not None}  # fmt: skip
    began = time.perf_counter()
    for point in points:
        supply = Supply(point.metering_point_id, point.customer_id, point.customer_type,
                        point.postcode, point.municipality, FIRST, LAST)  # fmt: skip
        plain_settle(supply, values[point.metering_point_id], spot_of[point.area], tariff, taxes)
    return (time.perf_counter() - began) / len(points)


def _measure(url: str, points: int) -> dict[str, float]:
    store = open_store(url)

    def open_stores() -> tuple[SqlSettlementStore, SqlPriceStore]:
        own = open_store(url, migrate=False)
        return SqlSettlementStore(own), SqlPriceStore(own)

    def month(workers: int) -> tuple[float, SettleReport]:
        began = time.perf_counter()
        report = settle_month(SqlSettlementStore(store), SqlPriceStore(store), MONTH,
                              example_tariff("elvia_2026"), default_taxes(),
                              now_s=int(time.time()), batch=BATCH, workers=workers,
                              open_stores=open_stores)  # fmt: skip
        return time.perf_counter() - began, report

    try:
        fill = _fill(store, points)
        with store.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        print("… parts", file=sys.stderr, flush=True)
        parts = _parts(store)
        baseline = _baseline(store)
        print("… settle_month, one process", file=sys.stderr, flush=True)
        total, report = month(1)
        with store.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM settlements"))
        print("… settle_month, two processes", file=sys.stderr, flush=True)
        total2, report2 = month(2)
        rerun, again = month(2)
    finally:
        store.close()
    if report.problems or again.billed or len(report2.billed) != len(report.billed):
        raise SystemExit(f"unexpected: {report.problems[:3]} {len(again.billed)}")
    return {
        "fill": fill, "total": total, "total2": total2, "rerun": rerun, "baseline": baseline,
        "billed": float(len(report.billed)), **parts,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "OPENAMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    results = {}
    with tempfile.TemporaryDirectory(prefix="openams-settle-") as tmp:
        print("… SQLite", file=sys.stderr, flush=True)
        results["SQLite (WAL)"] = _measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.points)
    if not args.no_postgres:
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"openams_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            print("… PostgreSQL", file=sys.stderr, flush=True)
            url = sa.engine.make_url(args.postgres).set(database=name)
            results["PostgreSQL 15"] = _measure(url.render_as_string(hide_password=False),
                                                args.points)  # fmt: skip
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    values = args.points * 744
    rows = "\n".join(
        f"| {store} | {r['billed']:,.0f} | {r['read']:.1f} s | {r['compute']:.1f} s | "
        f"{r['total'] - r['read'] - r['compute']:.1f} s | {r['total']:.1f} s | "
        f"**{r['total2']:.1f} s** | {r['billed'] / r['total2']:,.0f} | {r['rerun']:.1f} s | "
        f"{r['baseline'] * 1000:.2f} ms ({r['baseline'] * args.points:,.0f} s) |"
        for store, r in results.items()
    )
    best = min(r["total2"] for r in results.values())
    target = "met" if best <= 60 else "not met"
    text = f"""## Settlement: a month of {args.points:,} metering points

January 2026 (744 hours) of {args.points:,} metering points ({values / 1e6:,.1f} million hourly
values) across NO1-NO5, six customer types (prosumers with export), every tenth with
Norgespris, about 1 % estimated and 0.2 % missing hours, settled with the example tariff
`elvia_2026` and the state's rules from the store's daily usage (31 rows per metering point).
Generated by `bench/settlement.py` on {started:%Y-%m-%d %H:%M} UTC.

{HEADER}
{rows}

* Columns: supplies billed; reading the daily usage alone; settling the arrays alone; the
  rest of a one-process `settle_month` (earlier runs read, runs written as JSON);
  `settle_month` end to end in one process and with two worker processes (`ams settle`'s
  default here: one per core), each reading, settling and writing its own batches; supplies
  per second with two; a second run with two, which finds every bill unchanged and stores
  nothing; the baseline per metering point-month and, in brackets, extrapolated to all.
* Target: {args.points:,} metering point-months in 60 s on this 2-core machine — **{target}**
  (best of the stores, two processes).
* The parts are timed alone in the same run; `settle_month` also reads the earlier runs
  and stores every run (its lines and the month as computed, as JSON).
* Baseline in the same run: the plain hour-by-hour settlement (`tests/unit/domain/
  reference_settlement.py`, Decimals per hour) on {SAMPLE} metering points read as hourly
  values, per metering point-month and extrapolated to all; the array settlement gives
  the same bills (`tests/unit/domain/test_settlement_oracle.py`).
* Filling the store (not timed above): {min(r["fill"] for r in results.values()):.0f} s.
"""
    print(text)
    if not args.no_write:
        write_section(args.output, "settlement", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

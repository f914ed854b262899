"""VEE and Elhub export benchmark: one day of every metering point, on SQLite and PostgreSQL.

Makes an estate and two days of its pushes with the simulator (the default scenario: radio
loss, duplicates, late pushes; each meter at its own interval), imports and ingests them
without VEE, then times VEE of the second day (the first is its history) and the Elhub
export of that day (CollectedData messages written to a temporary directory). As a baseline
in the same run it times reading the day's values alone, the floor under any VEE. Writes its
section of BENCHMARKS.md. Nothing here asserts a timing.

Usage: python bench/vee.py [--meters 10000] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from _report import write_section

from openams.cli import main as ams
from openams.services.export import export_day
from openams.services.vee import local_day_bounds, run_vee
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet
from openams.store import open_store
from openams.store.export import SqlExportStore
from openams.store.vee import SqlVeeStore

ROOT = Path(__file__).resolve().parents[1]
FIRST = date(2026, 1, 12)
DAY = FIRST + timedelta(days=1)


def _measure(url: str, grid: Path, pushes: Path, out: Path) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):
        if ams(["meters", "import", str(grid), "--db", url]) != 0:
            raise SystemExit("estate import failed")
        ams(["ingest", str(pushes), "--db", url, "--quiet", "--no-vee"])
    store = open_store(url)
    try:
        start_s, end_s = local_day_bounds(DAY)
        now_s = local_day_bounds(DAY + timedelta(days=1))[0] + 6 * 3600
        began = time.perf_counter()
        values, _ = SqlExportStore(store).day_values(start_s, end_s)
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        report = run_vee(SqlVeeStore(store), [DAY], now_s=now_s)
        vee_s = time.perf_counter() - began

        def write(name: str, data: bytes) -> str:
            (out / name).write_bytes(data)
            return str(out / name)

        began = time.perf_counter()
        export = export_day(SqlExportStore(store), DAY, sender_gln="7080010000002",
                            write=write, now_s=now_s)  # fmt: skip
        export_s = time.perf_counter() - began
    finally:
        store.close()
    return {
        "read": read_s, "vee": vee_s, "export": export_s,
        "values": float(report.values), "stored": float(sum(len(v) for v in values.values())),
        "series": float(export.series_sent),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "OPENAMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENAMS_KEK", "00" * 32)
    started = datetime.now(UTC)
    results = {}
    with tempfile.TemporaryDirectory(prefix="openams-vee-") as tmp:
        folder = Path(tmp)
        write_grid(build_grid(meters=args.meters, area="NO1", seed=5), folder / "grid")
        run_fleet(RunSettings(folder / "grid", FIRST, 2), out=folder / "pushes.jsonl")
        print("… SQLite", file=sys.stderr, flush=True)
        (folder / "out-sqlite").mkdir()
        results["SQLite (WAL)"] = _measure(
            f"sqlite:///{folder / 'bench.db'}", folder / "grid", folder / "pushes.jsonl",
            folder / "out-sqlite",
        )  # fmt: skip
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"openams_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            print("… PostgreSQL", file=sys.stderr, flush=True)
            url = sa.engine.make_url(args.postgres).set(database=name)
            (folder / "out-pg").mkdir()
            results["PostgreSQL 15"] = _measure(
                url.render_as_string(hide_password=False), folder / "grid",
                folder / "pushes.jsonl", folder / "out-pg",
            )  # fmt: skip
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    rows = "\n".join(
        f"| {store} | {r['values']:,.0f} | {r['read']:.2f} s | {r['vee']:.2f} s | "
        f"{r['export']:.2f} s ({r['series']:,.0f} series) | **{r['vee'] + r['export']:.1f} s** |"
        for store, r in results.items()
    )
    best = min(r["vee"] + r["export"] for r in results.values())
    target = "met" if best <= 10 else "not met yet"
    text = f"""## Meter data management: VEE and the Elhub export

One local day ({DAY}) of {args.meters:,} simulated metering points, each at its own interval
(hourly or quarter-hourly; the default scenario's lost, duplicated and late pushes), ingested
beforehand without VEE; the day before is their history. VEE validates and estimates every
value of the day and writes it back; the export writes every series as CollectedData
messages. Generated by `bench/vee.py` on {started:%Y-%m-%d %H:%M} UTC.

| store | values | baseline: read the day | VEE | Elhub export | VEE + export |
|---|--:|--:|--:|--:|--:|
{rows}

* Target: VEE and export of 10,000 metering points x one day within 10 s on this 2-core
  machine — **{target}** (best of the stores).
* Baseline in the same run: reading the day's stored values, nothing else; VEE also reads
  the reads around the day, validates, estimates the gaps and writes every value back.
"""
    print(text)
    if not args.no_write:
        write_section(args.output, "vee", text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Ingest benchmark: the simulator's pushes through ``ams ingest`` into SQLite and PostgreSQL.

Makes an estate and a day of its hourly pushes with the simulator (default scenario: radio
loss, duplicates, late pushes), imports the estate, then times the ingest of the whole file
— read, decrypt, decode, counter window, register reads, interval values, events,
quarantine — on a fresh SQLite file and a fresh PostgreSQL database. As a
baseline in the same run it times decoding alone (``PushDecoder``) on the same pushes, the
ceiling of a single-process ingest. Writes its section of BENCHMARKS.md. Nothing here
asserts a timing.

Usage: python bench/ingest.py [--meters 10000] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from _report import write_section

from openams.cli import main as ams
from openams.dlms import KeyPair, PushDecoder
from openams.keyvault import KeyVault
from openams.services.ingest import BATCH, IngestBatch, MeterEntry, ReadRow, _run
from openams.services.pushes import decode_raw, read_push_lines
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet
from openams.store import open_store
from openams.store.ingest import SqlIngestStore

ROOT = Path(__file__).resolve().parents[1]


def _ingest(url: str, grid: Path, pushes: Path) -> tuple[float, str]:
    with contextlib.redirect_stdout(io.StringIO()):
        if ams(["meters", "import", str(grid), "--db", url]) != 0:
            raise SystemExit("estate import failed")
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        ams(["ingest", str(pushes), "--db", url, "--quiet", "--no-vee"])  # VEE: bench/vee.py
    return time.perf_counter() - started, out.getvalue().splitlines()[0]


def _keys(grid: Path) -> dict[bytes, KeyPair]:
    with (grid / "meters.csv").open() as fh:
        return {
            bytes.fromhex(r["system_title"]): KeyPair(bytes.fromhex(r["ek"]),
                                                      bytes.fromhex(r["ak"]))
            for r in csv.DictReader(fh)
        }  # fmt: skip


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


class _Kept:
    """An ingest store that keeps the batches instead of writing them (to time the state
    alone, then the writes alone)."""

    def __init__(self, inner: SqlIngestStore) -> None:
        self.inner = inner
        self.batches: list[IngestBatch] = []

    def keys(self, title: bytes) -> KeyPair | None:
        return self.inner.keys(title)

    def meter(self, title: bytes) -> MeterEntry | None:
        return self.inner.meter(title)

    def arrivals(self, meter_id: str) -> dict[int, int]:
        return self.inner.arrivals(meter_id)

    def read_at(self, meter_id: str, read_at_s: int) -> ReadRow | None:
        return self.inner.read_at(meter_id, read_at_s)

    def save(self, batch: IngestBatch) -> None:
        self.batches.append(batch)


def _components(grid: Path, pushes: Path, folder: Path) -> dict[str, float]:
    """Each part of an ingest alone, on one core, in pushes per second: reading the lines,
    decrypting and decoding, the use case's state (counter windows, reads, intervals) and
    the database writes (SQLite)."""
    count = sum(1 for _ in pushes.open())
    lines = pushes.read_text().splitlines()
    began = time.perf_counter()
    items = list(read_push_lines(lines, source="p", now_s=0))
    read_s = time.perf_counter() - began
    decoder = PushDecoder(keys=_keys(grid).get)
    began = time.perf_counter()
    decoded = [decode_raw(item.raw, decoder) for item in items]
    decode_s = time.perf_counter() - began
    url = f"sqlite:///{folder / 'parts.db'}"
    with contextlib.redirect_stdout(io.StringIO()):
        ams(["meters", "import", str(grid), "--db", url])
    store = open_store(url)
    try:
        vault = KeyVault(bytes.fromhex(os.environ["OPENAMS_KEK"]))
        kept = _Kept(SqlIngestStore(store, vault))
        began = time.perf_counter()
        _run(zip(items, decoded, strict=True), kept, 900, BATCH, None, None)
        state_s = time.perf_counter() - began
        writer = SqlIngestStore(store, vault)
        began = time.perf_counter()
        for batch in kept.batches:
            writer.save(batch)
        write_s = time.perf_counter() - began
    finally:
        store.close()
    return {
        "read": _rate(count, read_s), "decode": _rate(count, decode_s),
        "state": _rate(count, state_s), "write": _rate(count, write_s),
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
    with tempfile.TemporaryDirectory(prefix="openams-ingest-") as tmp:
        folder = Path(tmp)
        write_grid(build_grid(meters=args.meters, area="NO1", seed=3), folder / "grid")
        run_fleet(
            RunSettings(folder / "grid", date(2026, 1, 12), 1, interval_min=60),
            out=folder / "pushes.jsonl",
        )
        count = sum(1 for _ in (folder / "pushes.jsonl").open())
        print("… each part alone", file=sys.stderr, flush=True)
        parts = _components(folder / "grid", folder / "pushes.jsonl", folder)
        print("… SQLite", file=sys.stderr, flush=True)
        results["SQLite (WAL)"] = _ingest(
            f"sqlite:///{folder / 'bench.db'}", folder / "grid", folder / "pushes.jsonl"
        )
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"openams_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            print("… PostgreSQL", file=sys.stderr, flush=True)
            url = sa.engine.make_url(args.postgres).set(database=name)
            results["PostgreSQL 15"] = _ingest(
                url.render_as_string(hide_password=False), folder / "grid",
                folder / "pushes.jsonl",
            )  # fmt: skip
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    rows = "\n".join(
        f"| {store} | {seconds:.1f} s | **{count / seconds:,.0f}** | {summary} |"
        for store, (seconds, summary) in results.items()
    )
    best = max(count / seconds for seconds, _ in results.values())
    target = "met" if best >= 50_000 else "not met"
    names = {
        "read": "reading the lines (JSON Lines, hex)",
        "decode": "decrypting and decoding (`PushDecoder`)",
        "state": "the use case: counter windows, reads, interval values",
        "write": "the writes: register reads and interval values into SQLite",
    }
    micros = {k: 1e6 / v for k, v in parts.items()}
    total_us = sum(micros.values())
    ceiling = 2 * 1e6 / total_us
    budget = "\n".join(f"| {names[k]} | {parts[k]:,.0f} | {micros[k]:.1f} |" for k in names)
    text = f"""## Head-end: ingest

`ams ingest --no-vee` of one day of hourly pushes from {args.meters:,} simulated meters
({count:,} lines, default scenario) after `ams meters import`: one process keeping the state
and writing, with worker processes (one per core) reading the lines, decrypting and
decoding; VEE, which `ams ingest` runs afterwards by default, is timed in its own section
below. PostgreSQL is written with `COPY` into a staging table and one `INSERT ... SELECT`
per batch. Generated by `bench/ingest.py` on {started:%Y-%m-%d %H:%M} UTC.

| store | time | pushes/s | summary |
|---|--:|--:|---|
{rows}

* Target: at least 50,000 pushes/s end to end on this 2-core machine — **{target}**.

### Where a push's time goes (baseline in the same run)

Each part of the ingest timed alone on one core over the same pushes:

| part | pushes/s alone | µs of CPU per push |
|---|--:|--:|
{budget}
| **all parts** | | **{total_us:.1f}** |

Every push needs all four parts, so even with both cores busy all the time and no cost to
hand work between processes, this machine cannot ingest more than 2 cores ÷
{total_us:.1f} µs = **{ceiling:,.0f} pushes/s**. The 50,000 pushes/s target needs 40 µs of
CPU per push on 2 cores; decryption and decoding alone take a good part of that. The
measured rate above is the ceiling less the time the state-keeping process waits for the
database and the cost of passing pushes between processes. What would raise the ceiling:
more cores (reading and decoding scale with worker processes; the state can be split by
meter over several writers on PostgreSQL), not a faster single process.
"""
    print(text)
    if not args.no_write:
        write_section(args.output, "ingest", text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

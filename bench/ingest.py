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
import io
import json
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
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet

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


def _decode_only(grid: Path, pushes: Path) -> float:
    import csv

    with (grid / "meters.csv").open() as fh:
        keys = {
            bytes.fromhex(r["system_title"]): KeyPair(bytes.fromhex(r["ek"]),
                                                      bytes.fromhex(r["ak"]))
            for r in csv.DictReader(fh)
        }  # fmt: skip
    frames = [bytes.fromhex(json.loads(line)["hex"]) for line in pushes.open()]
    decoder = PushDecoder(keys=keys.get)
    started = time.perf_counter()
    for frame in frames:
        with contextlib.suppress(Exception):
            decoder.decode(frame)
    return len(frames) / (time.perf_counter() - started)


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
        decode_rate = _decode_only(folder / "grid", folder / "pushes.jsonl")
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
    target = "met" if best >= 50_000 else "not met yet"
    text = f"""## Head-end: ingest

`ams ingest --no-vee` of one day of hourly pushes from {args.meters:,} simulated meters
({count:,} lines, default scenario) after `ams meters import`: one writing process, with
worker processes (one per core) decrypting and decoding; VEE, which `ams ingest` runs
afterwards by default, is timed in its own section below. Generated by
`bench/ingest.py` on {started:%Y-%m-%d %H:%M} UTC.

| store | time | pushes/s | summary |
|---|--:|--:|---|
{rows}

* Target: at least 50,000 pushes/s end to end on this 2-core machine — **{target}**.
* Baseline in the same run: decoding alone (`PushDecoder`, decrypt and map, nothing
  stored) runs at {decode_rate:,.0f} pushes/s on one core. The writing process (counter
  windows, neighbouring reads, the database) is now the bottleneck.
"""
    print(text)
    if not args.no_write:
        write_section(args.output, "ingest", text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

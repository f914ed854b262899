"""Simulator generation benchmark: a month of hourly ciphered pushes for 10,000 meters.

Builds an estate with ``build_grid``, then times ``run_fleet`` writing JSON Lines (the
``ams sim run --out`` path), and reports pushes per second, wall time, the peak memory of
the writing process and of the workers, and the same for a shorter run so that one sees
whether memory grows with the number of days. As a baseline in the same run, it times the
straightforward way of making the same pushes one by one (``build_notification`` and
``encode_push`` per push) on a sample, so the figure can be compared with what a simple
simulator on the wire core would do. Writes its section of BENCHMARKS.md. Nothing here
asserts a timing.

Usage: python bench/sim.py [--meters 10000] [--days 30] [--workers 0] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from _report import write_section

from openams.dlms import Ciphering, MeterReading, build_notification, encode_push
from openams.sim import build_grid
from openams.sim.csvio import write_grid

ROOT = Path(__file__).resolve().parents[1]


def _child(args: argparse.Namespace, grid_dir: Path, days: int, out: Path) -> dict[str, float]:
    """One run in a fresh process, so that its peak memory is its own."""
    code = (
        "import json, resource, sys, time\n"
        "from datetime import date\nfrom pathlib import Path\n"
        "from openams.sim.run import RunSettings, run_fleet\n"
        f"s = RunSettings(grid_dir=Path({str(grid_dir)!r}), start=date(2026, 1, 1), "
        f"days={days}, interval_min=60, seed=1, workers={args.workers})\n"
        "t = time.perf_counter()\n"
        f"r = run_fleet(s, out=Path({str(out)!r}))\n"
        "w = time.perf_counter() - t\n"
        "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'seconds': w, 'pushes': r.pushes_written, "
        "'list_pushes': r.counts['list_pushes'], 'rss_main_mb': me / 1024, "
        "'rss_worker_mb': kids / 1024}))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, code written above
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _baseline(grid_dir: Path, count: int) -> float:
    """Pushes per second made one by one with the tree encoder and encode_push."""
    from openams.sim.csvio import read_grid

    grid = read_grid(grid_dir)
    oslo = ZoneInfo("Europe/Oslo")
    clock = datetime(2026, 1, 1, 1, tzinfo=oslo)
    meters = grid.meters[:count]
    started = time.perf_counter()
    for number, meter in enumerate(meters):
        reading = MeterReading(
            meter.meter_id, meter.meter_type, clock, meter.phases,
            power_import_w=1234 + number, energy_import_wh=12_345_670 + number,
        )  # fmt: skip
        apdu = build_notification(meter.style, 3, reading)
        encode_push(
            apdu,
            style=meter.style,
            ciphering=Ciphering(meter.system_title, number + 1, meter.ek, meter.ak),
        )
    return len(meters) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--short-days", type=int, default=5)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="openams-bench-") as tmp:
        folder = Path(tmp)
        grid = build_grid(meters=args.meters, area="NO1", seed=1)
        write_grid(grid, folder / "grid")
        print(f"… {args.meters} meters, {args.days} days", file=sys.stderr, flush=True)
        full = _child(args, folder / "grid", args.days, folder / "pushes.jsonl")
        size_mb = (folder / "pushes.jsonl").stat().st_size / 1e6
        (folder / "pushes.jsonl").unlink()
        print(f"… {args.meters} meters, {args.short_days} days", file=sys.stderr, flush=True)
        short = _child(args, folder / "grid", args.short_days, folder / "short.jsonl")
        half = argparse.Namespace(**{**vars(args), "meters": args.meters // 2})
        sub = build_grid(meters=half.meters, area="NO1", seed=1)
        write_grid(sub, folder / "half")
        print(f"… {half.meters} meters, {args.short_days} days", file=sys.stderr, flush=True)
        halved = _child(half, folder / "half", args.short_days, folder / "half.jsonl")
        baseline = _baseline(folder / "grid", 2000)
    rate = full["pushes"] / full["seconds"]
    cores = os.cpu_count()
    target = "met" if full["seconds"] <= 60 else "not met"
    text = f"""## Simulator: generating pushes

`ams sim run` writing JSON Lines: {args.meters:,} meters, {args.days} days from 2026-01-01,
hourly List 3, each push ciphered (security control 0x30) and HDLC-framed with its meter's
own keys, default scenario (radio loss, duplicates, late pushes and random faults).
Generated by `bench/sim.py` on {started:%Y-%m-%d %H:%M} UTC, {cores} cores,
`--workers {args.workers}` (0: one per core).

* Target: {args.meters:,} meters x {args.days} days (about {args.meters * args.days * 24:,}
  pushes) in at most 60 s on this 2-core machine — **{target}**: {full["seconds"]:.1f} s,
  {full["pushes"]:,.0f} pushes written, **{rate:,.0f} pushes/s**, {size_mb:,.0f} MB.
* Baseline in the same run: building each push with `build_notification` and
  `encode_push`, one by one on one core, makes {baseline:,.0f} pushes/s (before any
  consumption model or output) — {rate / baseline:.1f}x slower than the simulator.
* Memory (peak resident set): writing process {full["rss_main_mb"]:,.0f} MB, largest
  worker {full["rss_worker_mb"]:,.0f} MB for {args.days} days; for {args.short_days} days
  {short["rss_main_mb"]:,.0f} MB and {short["rss_worker_mb"]:,.0f} MB (flat in days);
  {half.meters:,} meters, {args.short_days} days: {halved["rss_main_mb"]:,.0f} MB and
  {halved["rss_worker_mb"]:,.0f} MB (state grows with the number of meters).

How: meters are grouped in blocks of 1,024; the consumption model, registers, radio
fates and wire numbers of a block-day are NumPy arrays; per push there remain one
`struct.pack` into the meter's compiled list template (`ListPacker.pack_wire`), one
AES-GCM call and a CRC (`PushSealer.seal`, CRC-16/X.25 through fastcrc), and the JSON line.
Each day is made by one worker process into a part file in arrival order while the other
carries the meters' state through it; the calling process copies the part files into the
output in order (`os.copy_file_range`). Reproduce with `.venv/bin/python bench/sim.py`
after `bash scripts/setup`; the {size_mb:,.0f} MB file is written to a temporary directory and
removed.
"""
    print(text)
    if not args.no_write:
        write_section(args.output, "sim", text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

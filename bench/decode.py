"""Push decoding throughput: OpenAMS against amshan, dlms-cosem and gurux-dlms, on one core.

A script, not a test: ``bash bench/run`` sets up ``.venv-bench`` (OpenAMS plus the peers in
``requirements-peers.txt``) and runs it; it prints a Markdown report and writes it to
``BENCHMARKS.md``. Nothing here asserts a timing.

Workloads, for each make (Aidon, Kaifa, Kamstrup), all framed in HDLC as the meters send
them:

* List 3 plain, List 3 ciphered (general-glo-ciphering, security control 0x30), List 2
  plain;
* pushes from ``--meters`` distinct meters (1,000 by default), each with its own meter id,
  system title and keys, ``--pushes`` pushes each with values varying from push to push,
  in arrival order (every meter's first push, then every meter's second, ...); every fifth
  meter is single-phase. Built with OpenAMS's own encoder (``build_notification`` and
  ``encode_push``), which writes each make's exact layout;
* the same number of pushes from one single meter, for OpenAMS only (the best case of its
  per-layout template cache).

Decoders: OpenAMS is one ``PushDecoder`` reused for every push and given each push's
``KeyPair``. The peers are called through ``bench/peers.py``, which does what a user of
each library would do with one push; per-key objects are made once per meter and reused.
amshan has no decryption, so its ciphered cells read "n/a (no decryption)".

Before timing, every decoder decodes every push once: a peer that raises on a push, or
decodes no value, is reported as failing for that workload and not timed; OpenAMS's values
must equal the readings the pushes were built from. Timing: ``time.perf_counter`` around
whole passes over the pushes (repeated until one run lasts ``--min-time``), garbage
collection off during a run (as ``timeit`` does), best of ``--repeats`` runs (3 when one
run lasts over two seconds, as the slowest peers' do).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import peers
from _report import write_section

from openams.dlms import (
    Ciphering,
    KeyPair,
    MeterReading,
    PushDecoder,
    build_notification,
    encode_push,
)

ROOT = Path(__file__).resolve().parents[1]
OSLO = ZoneInfo("Europe/Oslo")
STYLES = ("aidon", "kaifa", "kamstrup")
MAKE = {"aidon": "Aidon", "kaifa": "Kaifa", "kamstrup": "Kamstrup"}
FLAG = {"aidon": b"AMS", "kaifa": b"KFM", "kamstrup": b"KAM"}
METER_TYPE = {"aidon": "6534", "kaifa": "MA304H3E", "kamstrup": "6861111BN242101040"}
PEERS = ("amshan", "dlms_cosem", "gurux")
PEER_NAMES = {"amshan": "amshan", "dlms_cosem": "dlms-cosem", "gurux": "gurux-dlms"}
TARGETS = {"plain": 100_000, "ciphered": 60_000}


@dataclass(frozen=True)
class Workload:
    """One row of the table."""

    name: str
    list_number: int
    ciphered: bool


WORKLOADS = (
    Workload("List 3, plain", 3, False),
    Workload("List 3, ciphered", 3, True),
    Workload("List 2, plain", 2, False),
)


@dataclass
class Meter:
    """One simulated meter: identity and keys."""

    meter_id: str
    system_title: bytes
    keys: KeyPair
    phases: int
    counter: int


@dataclass
class PushSet:
    """Pushes of one make and workload, with what each was built from."""

    pushes: list[bytes] = field(default_factory=list)
    keys: list[KeyPair | None] = field(default_factory=list)
    meters: list[int] = field(default_factory=list)
    readings: list[MeterReading] = field(default_factory=list)


# --- building the pushes -------------------------------------------------------------------


def make_meters(style: str, count: int, rnd: random.Random) -> list[Meter]:
    return [
        Meter(
            meter_id=f"7359992{count:03d}{i:06d}"[:16],
            system_title=FLAG[style] + (0x100000 + i).to_bytes(5, "big"),
            keys=KeyPair(rnd.randbytes(16), rnd.randbytes(16)),
            phases=1 if i % 5 == 4 else 3,
            counter=rnd.randrange(1, 2**24),
        )
        for i in range(count)
    ]


def make_reading(
    style: str, meter: Meter, seq: int, list_number: int, rnd: random.Random
) -> MeterReading:
    """A reading whose values every list carries exactly (0.1 A, 1 V, 10 Wh steps)."""
    if list_number == 3:
        clock = datetime(2024, 3, 5, 0, 0, tzinfo=OSLO) + timedelta(hours=seq)
    else:
        clock = datetime(2024, 3, 5, 12, 0, tzinfo=OSLO) + timedelta(seconds=10 * seq + 3)
    return MeterReading(
        meter_id=meter.meter_id,
        meter_type=METER_TYPE[style],
        clock=clock,
        phases=meter.phases,
        power_import_w=rnd.randrange(0, 20_000),
        power_export_w=rnd.randrange(0, 5_000),
        reactive_import_var=rnd.randrange(0, 3_000),
        reactive_export_var=rnd.randrange(0, 1_000),
        current_l1_a=rnd.randrange(0, 800) / 10,
        current_l2_a=rnd.randrange(0, 800) / 10,
        current_l3_a=rnd.randrange(0, 800) / 10,
        voltage_l1_v=rnd.randrange(220, 246),
        voltage_l2_v=rnd.randrange(220, 246),
        voltage_l3_v=rnd.randrange(220, 246),
        energy_import_wh=rnd.randrange(0, 10**8) * 10,
        energy_export_wh=rnd.randrange(0, 10**6) * 10,
        energy_reactive_import_varh=rnd.randrange(0, 10**7) * 10,
        energy_reactive_export_varh=rnd.randrange(0, 10**6) * 10,
    )


def build_set(
    style: str, workload: Workload, meters: list[Meter], pushes_each: int, rnd: random.Random
) -> PushSet:
    """``pushes_each`` pushes from every meter, in arrival order."""
    out = PushSet()
    for seq in range(pushes_each):
        for index, meter in enumerate(meters):
            reading = make_reading(style, meter, seq, workload.list_number, rnd)
            notification = build_notification(style, workload.list_number, reading)
            ciphering = None
            if workload.ciphered:
                ciphering = Ciphering(
                    meter.system_title, meter.counter + seq, meter.keys.ek, meter.keys.ak
                )
            out.pushes.append(encode_push(notification, ciphering=ciphering, style=style))
            out.keys.append(meter.keys if workload.ciphered else None)
            out.meters.append(index)
            out.readings.append(reading)
    return out


def expected_values(style: str, list_number: int, r: MeterReading) -> dict[str, Any]:
    """``Push.values`` that a push built from ``r`` must decode to (exact readings)."""
    b = "1" if style == "kamstrup" else "0"

    def key(c: int, d: int) -> str:
        return f"1-{b}:{c}.{d}.0.255"

    out: dict[str, Any] = {}
    if style == "kamstrup":
        out["1-1:0.2.129.255"] = ("Kamstrup_V0001", None)
    out[key(1, 7)] = (r.power_import_w, "W")
    if list_number == 1:
        return out
    if style != "kamstrup":
        out["1-1:0.2.129.255"] = ("AIDON_V0001" if style == "aidon" else "KFM_001", None)
    if style == "kamstrup":
        out["1-1:0.0.5.255"] = (r.meter_id, None)
        out["1-1:96.1.1.255"] = (r.meter_type, None)
    else:
        out["0-0:96.1.0.255"] = (r.meter_id, None)
        out["0-0:96.1.7.255"] = (r.meter_type, None)
    out[key(2, 7)] = (r.power_export_w, "W")
    out[key(3, 7)] = (r.reactive_import_var, "var")
    out[key(4, 7)] = (r.reactive_export_var, "var")
    currents = (r.current_l1_a, r.current_l2_a, r.current_l3_a)[: r.phases]
    voltages = (r.voltage_l1_v, r.voltage_l2_v, r.voltage_l3_v)[: r.phases]
    for c, amps in zip((31, 51, 71), currents, strict=False):
        out[key(c, 7)] = (amps, "A")
    for c, volts in zip((32, 52, 72), voltages, strict=False):
        out[key(c, 7)] = (volts, "V")
    if list_number == 3:
        out["0-1:1.0.0.255" if style == "kamstrup" else "0-0:1.0.0.255"] = (r.clock, None)
        out[key(1, 8)] = (r.energy_import_wh, "Wh")
        out[key(2, 8)] = (r.energy_export_wh, "Wh")
        out[key(3, 8)] = (r.energy_reactive_import_varh, "varh")
        out[key(4, 8)] = (r.energy_reactive_export_varh, "varh")
    return out


# --- timing --------------------------------------------------------------------------------

Runner = Callable[[int], float]


def openams_runner(decoder: PushDecoder, items: Sequence[tuple[bytes, KeyPair | None]]) -> Runner:
    decode = decoder.decode

    def run(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            for push, keys in items:
                decode(push, keys=keys)
        return time.perf_counter() - start

    return run


def peer_runner(items: Sequence[tuple[bytes, peers.Decoder]]) -> Runner:
    def run(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            for push, decode in items:
                decode(push)
        return time.perf_counter() - start

    return run


LONG_RUN = 2.0  # seconds: runs this long are repeated only 3 times (the slow peers)


def measure(run: Runner, count: int, *, min_time: float, repeats: int) -> float:
    """Best pushes per second over ``repeats`` runs, each of at least ``min_time`` seconds.

    Runs longer than :data:`LONG_RUN` (only the slowest peers' passes) are repeated at most
    3 times, which keeps the whole benchmark within minutes.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        loops = 1
        elapsed = run(loops)  # also the warm-up
        while elapsed < min_time:
            loops = max(loops + 1, int(loops * min_time * 1.2 / max(elapsed, 1e-6)))
            elapsed = run(loops)
        best = elapsed
        if elapsed > LONG_RUN:
            repeats = min(repeats, 3)
        for _ in range(repeats - 1):
            best = min(best, run(loops))
    finally:
        if gc_was_enabled:
            gc.enable()
    return loops * count / best


# --- one workload --------------------------------------------------------------------------


@dataclass
class Cell:
    """One decoder's result for one workload: a rate, or why there is none."""

    rate: float | None = None
    note: str = ""
    values: int = 0


def verify_openams(data: PushSet, style: str, workload: Workload) -> int:
    """Decode every push once; every value must equal the reading. Returns the value count."""
    decoder = PushDecoder()
    total = 0
    for push, keys, reading in zip(data.pushes, data.keys, data.readings, strict=True):
        result = decoder.decode(push, keys=keys)
        expected = expected_values(style, workload.list_number, reading)
        if result.values != expected:
            raise SystemExit(
                f"OpenAMS decoded {MAKE[style]} {workload.name} wrongly:\n"
                f"  got      {result.values}\n  expected {expected}"
            )
        if result.meter_id != reading.meter_id and workload.list_number > 1:
            raise SystemExit(f"OpenAMS meter id {result.meter_id!r} != {reading.meter_id!r}")
        total += len(result.values)
    return total


def peer_items(
    peer: str, data: PushSet, meters: list[Meter], ciphered: bool
) -> tuple[list[tuple[bytes, peers.Decoder]] | None, str]:
    """``(push, decoder)`` pairs, one decoder per meter key (one in all for plain pushes)."""
    make = peers.MAKERS[peer]
    if not ciphered:
        shared = make(None, None)
        if shared is None:
            return None, peers.UNSUPPORTED.get(peer, "unsupported")
        return [(push, shared) for push in data.pushes], ""
    decoders: list[peers.Decoder] = []
    for meter in meters:
        decoder = make(meter.keys.ek, meter.keys.ak)
        if decoder is None:
            if peer == "amshan":
                return None, "n/a (no decryption)"
            return None, peers.UNSUPPORTED.get(peer, "unsupported")
        decoders.append(decoder)
    return [(push, decoders[m]) for push, m in zip(data.pushes, data.meters, strict=True)], ""


def verify_peer(items: Sequence[tuple[bytes, peers.Decoder]]) -> tuple[int, str]:
    """Decode every push once. Returns the value count, or 0 and why it failed."""
    total = 0
    failures = 0
    first = ""
    for push, decode in items:
        try:
            count = decode(push)
        except Exception as error:  # any failure of a peer is reported, not raised
            failures += 1
            first = first or f"{type(error).__name__}: {error}"
            continue
        if count <= 0:
            failures += 1
            first = first or "decoded no value"
            continue
        total += count
    if failures:
        return 0, f"fails on {failures:,}/{len(items):,} ({_short(first)})"
    return total, ""


def _short(text: str, limit: int = 48) -> str:
    """One short line for a table cell (bytes reprs and pipes taken out)."""
    text = re.sub(r"b'[^']*'|b\"[^\"]*\"", "…", " ".join(text.split())).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_workload(
    style: str,
    workload: Workload,
    args: argparse.Namespace,
    rnd: random.Random,
) -> dict[str, Cell]:
    meters = make_meters(style, args.meters, rnd)
    many = build_set(style, workload, meters, args.pushes, rnd)
    one = build_set(style, workload, meters[:1], args.meters * args.pushes, rnd)
    cells: dict[str, Cell] = {}
    for label, data in (("openams_many", many), ("openams_one", one)):
        values = verify_openams(data, style, workload)
        items = list(zip(data.pushes, data.keys, strict=True))
        rate = measure(
            openams_runner(PushDecoder(), items),
            len(items),
            min_time=args.min_time,
            repeats=args.repeats,
        )
        cells[label] = Cell(rate, values=values)
    for peer in PEERS:
        items, why = peer_items(peer, many, meters, workload.ciphered)
        if items is None:
            cells[peer] = Cell(note=why)
            continue
        values, why = verify_peer(items)
        if why:
            cells[peer] = Cell(note=why)
            continue
        rate = measure(peer_runner(items), len(items), min_time=args.min_time, repeats=args.repeats)
        cells[peer] = Cell(rate, values=values)
    return cells


# --- profile -------------------------------------------------------------------------------


def profile(args: argparse.Namespace, ciphered: bool, top: int) -> str:
    """cProfile of OpenAMS decoding List 3 of all three makes from many meters."""
    rnd = random.Random(7)
    items: list[tuple[bytes, KeyPair | None]] = []
    workload = Workload("List 3", 3, ciphered)
    for style in STYLES:
        meters = make_meters(style, args.meters, rnd)
        data = build_set(style, workload, meters, args.pushes, rnd)
        items += zip(data.pushes, data.keys, strict=True)
    decoder = PushDecoder()
    run = openams_runner(decoder, items)
    run(1)  # warm the template cache, as in the timed runs
    profiler = cProfile.Profile()
    profiler.enable()
    run(3)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    summary = next(line.strip() for line in lines if "function calls" in line)
    root = str(Path(sys.prefix))
    body = [line.replace(root + "/lib/python3.11/site-packages/", "") for line in lines[start:]]
    return "\n".join([f"{len(items) * 3:,} pushes; {summary}", "", *body]).rstrip()


# --- report --------------------------------------------------------------------------------


def _rate(cell: Cell) -> str:
    return f"{cell.rate:,.0f}" if cell.rate is not None else cell.note


def _peer_cell(ours: Cell, cell: Cell) -> str:
    if cell.rate is None or ours.rate is None:
        return cell.note
    return f"{cell.rate:,.0f} (**{ours.rate / cell.rate:,.1f}\N{MULTIPLICATION SIGN}**)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    out = {}
    for name in ("openams", "cryptography", "amshan", "dlms-cosem", "gurux-dlms"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def report(
    results: dict[tuple[str, str], dict[str, Cell]],
    args: argparse.Namespace,
    profiles: dict[str, str],
    started: datetime,
    seconds: float,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Push decoding throughput of the wire core, `openams.dlms.PushDecoder.decode`, on one",
        "core, against three other Python DLMS/COSEM decoders run on the same pushes in the",
        "same process. Figures are pushes per second (higher is better); the factor after a",
        "peer's figure is OpenAMS (1,000 meters) ÷ that peer. Generated by `bench/decode.py`",
        f"on {started:%Y-%m-%d %H:%M} UTC; see *How to reproduce* below.",
        "",
    ]
    lines += target_summary(results, args)
    header = (
        "| Make | Workload | OpenAMS, "
        f"{args.meters:,} meters | OpenAMS, 1 meter | amshan | dlms-cosem | gurux-dlms |"
    )
    lines += ["", "## Results", "", header, "|---|---|--:|--:|--:|--:|--:|"]
    for workload in WORKLOADS:
        for style in args.styles:
            cells = results[style, workload.name]
            ours = cells["openams_many"]
            row = [
                MAKE[style],
                workload.name,
                f"**{_rate(ours)}**",
                _rate(cells["openams_one"]),
                *(_peer_cell(ours, cells[peer]) for peer in PEERS),
            ]
            lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"Each workload has {args.meters * args.pushes:,} pushes, all HDLC-framed as the meters"
        " send them:",
        f"{args.pushes} from each of {args.meters:,} meters (own meter id, system title and keys;",
        "every fifth meter single-phase; values vary from push to push), in arrival order. The",
        "*1 meter* column decodes as many pushes from one meter. Ciphered means",
        "general-glo-ciphering with security control 0x30 (AES-128-GCM, 12-byte tag).",
        "",
        "What each decoder does with one push: OpenAMS checks HCS and FCS, decrypts and checks",
        "the tag, decodes the body and maps the list to scaled values with units and",
        "date-times (`Push.values`); one `PushDecoder` serves all meters and is given each",
        "push's `KeyPair`. amshan (`HdlcFrameReader` + `AutoDecoder`) checks the frame and",
        "maps the list to scaled fields. dlms-cosem (`UnnumberedInformationFrame`,",
        "`GeneralGlobalCipher.to_plain_apdu`, `DataNotification`, `parse_as_dlms_data`) checks",
        "the frame and the tag and decodes the body to typed values, without list mapping.",
        "gurux-dlms (`GXDLMSSecureClient.getData`, one client per meter) checks the frame,",
        "decrypts (with its own pure-Python AES-GCM, which is why its ciphered figures are so",
        "low) and decodes the body to values, without list mapping, and does **not** verify",
        "the GCM tag. See `bench/peers.py`.",
        "",
        "Cells without a figure: *n/a (no decryption)*: amshan has no DLMS decryption.",
        "*fails on N/M pushes*: the peer raised (or decoded nothing) on pushes of that form,",
        "so it was not timed. gurux-dlms and dlms-cosem cannot read Kaifa's HDLC pushes as",
        "Kaifa meters send them: gurux takes the I-frame control `0x10` for a reply and",
        "never completes the notification; dlms-cosem misparses the two-byte server address",
        "`02 01` and then reports a bad HCS (and neither reads the octet-string-tagged",
        "header date-time `09 0C` that follows; see `tests/interop/`).",
        "",
    ]
    if profiles:
        lines += [
            "## Where OpenAMS spends its time",
            "",
            "cProfile of `PushDecoder.decode` over List 3 pushes of all three makes from",
            f"{args.meters:,} meters each, template cache warm, sorted by own time (cProfile's",
            "overhead inflates small functions; the totals are not comparable with the table).",
            "The `convert` functions OpenAMS generates per list layout all share the name",
            "`<openams layout>:1(convert)`, and cProfile keeps the figures of only one of them.",
            "",
        ]
        for name, text in profiles.items():
            lines += [f"### {name}", "", "```text", text, "```", ""]
    info = versions()
    lines += [
        "## Machine",
        "",
        f"* CPU: {cpu_model()} ({os.cpu_count()} logical CPUs; one used)",
        f"* Python: {platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.release()}",
        "* Libraries: " + ", ".join(f"{name} {version}" for name, version in info.items()),
        f"* Date: {started:%Y-%m-%d %H:%M} UTC; the whole run took {seconds / 60:.1f} min",
        "* A shared, virtualised 2-core machine: other work may have run at the same time.",
        "  Best-of-N timing removes most but not all of that noise; compare ratios rather",
        "  than absolute figures across machines.",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "bash bench/run          # .venv-bench: pip install . -r bench/requirements-peers.txt",
        "bash bench/run --help   # options: --meters, --pushes, --repeats, --min-time, ...",
        "```",
        "",
        "The peers are installed only in `.venv-bench`; they are never dependencies of",
        "OpenAMS. Method: before timing, each decoder decodes every push once (a peer that",
        "raises or decodes no value is reported, not timed; OpenAMS's values must equal the",
        "readings the pushes were built from). Then `time.perf_counter` around whole passes",
        f"over the pushes, repeated until one run lasts at least {args.min_time} s, garbage",
        f"collection off during a run (as `timeit` does), best of {args.repeats} runs (of 3",
        f"for the slowest peers, whose runs last over {LONG_RUN:.0f} s).",
        f"Settings of this run: `{' '.join(sys.argv[1:]) or '(defaults)'}`.",
        "",
    ]
    return "\n".join(lines)


def target_summary(
    results: dict[tuple[str, str], dict[str, Cell]], args: argparse.Namespace
) -> list[str]:
    lines = ["## Targets", ""]
    checks = (("plain", "List 3, plain"), ("ciphered", "List 3, ciphered"))
    missed = False
    for kind, workload in checks:
        target = TARGETS[kind]
        rates = {s: results[s, workload]["openams_many"].rate or 0.0 for s in args.styles}
        worst = min(rates.values())
        verdict = "**met**" if worst >= target else "**missed**"
        missed |= worst < target
        detail = ", ".join(f"{MAKE[s]} {r:,.0f}" for s, r in rates.items())
        lines.append(
            f"* {workload} (HDLC, {args.meters:,} meters): target ≥ {target:,} pushes/s on one "
            f"core — {verdict} on this machine ({detail} pushes/s)."
        )
    if missed:
        lines += [
            "",
            "The targets are not met on this machine yet. The profile below shows where the",
            "time goes; these figures are what the code does today, not a goal reached.",
        ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=1000, help="distinct meters (1000)")
    parser.add_argument("--pushes", type=int, default=2, help="pushes per meter (2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, best kept (5)")
    parser.add_argument(
        "--min-time", type=float, default=0.5, help="least seconds per timed run (0.5)"
    )
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile section")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "BENCHMARKS.md", help="report file (BENCHMARKS.md)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    rnd = random.Random(2024)
    results: dict[tuple[str, str], dict[str, Cell]] = {}
    for workload in WORKLOADS:
        for style in args.styles:
            print(f"… {MAKE[style]}, {workload.name}", file=sys.stderr, flush=True)
            results[style, workload.name] = run_workload(style, workload, args, rnd)
    profiles = {}
    if not args.no_profile:
        profiles["Plain List 3"] = profile(args, ciphered=False, top=14)
        profiles["Ciphered List 3 (SC 0x30)"] = profile(args, ciphered=True, top=14)
    text = report(results, args, profiles, started, time.perf_counter() - clock)
    print(text)
    if not args.no_write:
        write_section(args.output, "decode", text)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

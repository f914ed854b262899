"""``ams sim run``: the fleet pushes for D days, to a file, a TCP head-end or an MQTT broker.

The run is cut into *units*: a few hours of one UTC day for every meter. Units are made in
worker processes (one per core) and written in order by the calling process, so the output
is in arrival order: each unit's pushes are sorted, and pushes that arrive after their unit
ends (duplicates, late pushes, replays) wait in a heap for the unit they arrive in. A worker
keeps its blocks of meters advancing day by day; a worker that skips a day (another worker
made it) still advances through it, without packing, so that registers and invocation
counters carry over. Memory stays flat: a unit and a day's arrays per block, whatever the
number of days.
"""

from __future__ import annotations

import bisect
import csv
import gc
import heapq
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

from openams.errors import InputError

from .csvio import read_grid
from .faults import FaultPlan, plan_faults, window_s
from .fleet import TRUTH_COLUMNS, Block, iso_z, truth_header
from .grid import Grid
from .scenario import DEFAULT_SCENARIO, Fault, Scenario, read_scenario
from .sinks import Pacer, PushSink
from .weather import DayWeather, day_weather

__all__ = ["RunSettings", "RunSummary", "run_fleet"]

_OSLO = ZoneInfo("Europe/Oslo")
DAY_S = 86_400
BLOCK_SIZE = 1024


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What to simulate.

    Attributes:
        grid_dir: The estate written by ``ams sim grid``.
        start: The first day (midnight, Europe/Oslo).
        days: Number of days.
        interval_min: 60 or 15 for every meter, or ``None`` for each meter's own.
        scenario_path: A scenario file, or ``None`` for the defaults.
        seed: Same seed, same pushes.
        framing: ``hdlc`` (as on the meter's port) or ``wrapper`` (IEC 62056-47, TCP).
        workers: Worker processes; 0 means one per core.
        unit_h: Hours per unit of work.
    """

    grid_dir: Path
    start: date
    days: int
    interval_min: int | None = None
    scenario_path: Path | None = None
    seed: int = 1
    framing: str = "hdlc"
    workers: int = 0
    unit_h: int = 4


@dataclass(slots=True)
class RunSummary:
    """What a run did."""

    meters: int = 0
    pushes_written: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary as the CLI prints it."""
        c = self.counts
        rate = self.pushes_written / self.seconds if self.seconds else 0.0
        faults = ", ".join(f"{n} {kind}" for kind, n in sorted(self.faults.items())) or "none"
        return [
            f"{self.meters} meters sent {c['list_pushes']} list pushes and {c['events']} "
            f"event pushes; {self.pushes_written} arrived in {self.seconds:.1f} s "
            f"({rate:,.0f} pushes/s)",
            f"radio: {c['lost']} lost, {c['duplicated']} duplicated, {c['late']} late; "
            f"{c['events_lost']} last gasps lost",
            f"attacks and defects: {c['replayed']} replayed, {c['corrupted']} corrupted, "
            f"{c['wrong_key']} with a wrong key",
            f"faults injected: {faults}",
        ]


@dataclass(slots=True)
class _Spec:
    grid: Grid
    scenario: Scenario
    plan: FaultPlan
    start_s: int
    end_s: int
    seed: int
    interval_s: int | None
    framing: str
    units: list[tuple[date, int, int]]  # one per UTC day
    slice_s: int
    truth: bool = True
    parts: Path = Path()


def _days(start_s: int, end_s: int) -> list[tuple[date, int, int]]:
    """One task per UTC day: (day, first second, last second + 1) within the run."""
    days = []
    day = datetime.fromtimestamp(start_s, UTC).date()
    last = datetime.fromtimestamp(end_s, UTC).date()
    while day <= last:
        d0 = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        days.append((day, max(d0, start_s), min(d0 + DAY_S, end_s + 1)))
        day += timedelta(days=1)
    return days


def _prepare(settings: RunSettings) -> _Spec:
    if settings.days < 1:
        raise InputError("days must be at least 1", source="--days")
    if settings.interval_min not in (None, 15, 60):
        raise InputError("the interval is 60 or 15 minutes", source="--interval")
    grid = read_grid(settings.grid_dir)
    if not grid.meters:
        raise InputError("the estate has no meters", source=str(settings.grid_dir))
    scenario = read_scenario(settings.scenario_path) if settings.scenario_path else DEFAULT_SCENARIO
    start = datetime(settings.start.year, settings.start.month, settings.start.day, tzinfo=_OSLO)
    last_day = settings.start + timedelta(days=settings.days)
    end = datetime(last_day.year, last_day.month, last_day.day, tzinfo=_OSLO)
    plan = plan_faults(scenario, grid, start, end, settings.seed)
    start_s, end_s = int(start.timestamp()), int(end.timestamp())
    return _Spec(
        grid=grid,
        scenario=scenario,
        plan=plan,
        start_s=start_s,
        end_s=end_s,
        seed=settings.seed,
        interval_s=settings.interval_min * 60 if settings.interval_min else None,
        framing=settings.framing,
        units=_days(start_s, end_s),
        slice_s=settings.unit_h * 3600,
    )


# --- the worker side ---------------------------------------------------------------------


def _block_count(spec: _Spec) -> int:
    return -(-len(spec.grid.meters) // BLOCK_SIZE)


def _block(spec: _Spec, number: int) -> Block:
    """Block ``number``: the meters ``1024 * number`` on, in grid order."""
    meters = spec.grid.meters[number * BLOCK_SIZE : (number + 1) * BLOCK_SIZE]
    points = {p.metering_point_id: p for p in spec.grid.metering_points}
    radio = spec.scenario.radio
    return Block(
        number,
        meters,
        [points[m.metering_point_id] for m in meters],
        seed=spec.seed,
        start_s=spec.start_s,
        end_s=spec.end_s,
        interval_s=spec.interval_s,
        framing=spec.framing,
        plan=spec.plan,
        radio=(
            radio.loss_rate,
            radio.duplicate_rate,
            radio.late_rate,
            radio.late_delay_h,
            radio.jitter_s,
        ),
    )


_SPEC: _Spec | None = None
_STATE: _Worker | None = None


class _Worker:
    """One process's blocks, advanced day by day."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.blocks = [_block(spec, number) for number in range(_block_count(spec))]
        for block in self.blocks:
            block.prepare()
        self.day: date | None = None
        # Blocks, packers and sealers live as long as the run: the cycle collector need not
        # scan them again and again while millions of short-lived lines come and go.
        gc.freeze()

    def unit(self, index: int) -> _Chunk:
        """Make day ``index``: its pushes to a part file, in arrival order, slice by slice."""
        spec = self.spec
        day, first_s, last_s = spec.units[index]
        current = self.day + timedelta(days=1) if self.day is not None else spec.units[0][0]
        while current < day:  # days made by other workers: carry the state through them
            weather = _weather(spec.grid.area, current, spec.seed)
            for block in self.blocks:
                block.advance(current, weather, full=False)
            current += timedelta(days=1)
        weather = _weather(spec.grid.area, day, spec.seed)
        frames = [block.advance(day, weather) for block in self.blocks]
        self.day = day
        stats: Counter[str] = Counter()
        incidents: list[bytes] = []
        arrivals = array("q")
        ends = array("q")
        waiting: list[tuple[int, int, bytes]] = []  # pushes arriving after their slice
        order = 0
        size = 0
        path = spec.parts / f"day-{index:05d}.jsonl"
        truth_path = spec.parts / f"truth-{index:05d}.csv"
        with path.open("wb") as out, truth_path.open("wb") as truth:
            for begin in range(first_s, last_s, spec.slice_s):
                end = min(begin + spec.slice_s, last_s)
                lines: list[tuple[int, bytes]] = []
                for block, frame in zip(self.blocks, frames, strict=True):
                    if frame is None:  # pragma: no cover - a full advance gives a frame
                        continue
                    block.stats.clear()
                    block.incidents.clear()
                    lines += block.pushes(frame, begin, end)
                    if spec.truth:
                        truth.write(block.truth_rows(frame, begin, end))
                    incidents += block.incidents
                    stats.update(block.stats)
                for pair in lines:
                    if pair[0] >= end:
                        heapq.heappush(waiting, (pair[0], order, pair[1]))
                        order += 1
                lines = [pair for pair in lines if pair[0] < end]
                while waiting and waiting[0][0] < end:
                    arrival, _, line = heapq.heappop(waiting)
                    lines.append((arrival, line))
                lines.sort(key=_arrival)
                for arrival, line in lines:
                    size += len(line)
                    ends.append(size)
                    arrivals.append(arrival)
                out.write(b"".join(line for _, line in lines))
        later = [(arrival, line) for arrival, _, line in sorted(waiting)]
        return _Chunk(index, path, arrivals, ends, later, truth_path, b"".join(incidents), stats)


class _Chunk(NamedTuple):
    """A day's output: its pushes in arrival order in a part file, and what arrives later."""

    day_index: int
    path: Path
    arrivals: array[int]
    ends: array[int]  # end offset of each line in the part file
    later: list[tuple[int, bytes]]
    truth_path: Path
    incidents: bytes
    stats: Counter[str]

    def segments(self, due: list[tuple[int, bytes]]) -> list[tuple[int, int] | bytes]:
        """The part file as (offset, length) runs with the ``due`` lines put in order."""
        pieces: list[tuple[int, int] | bytes] = []
        offset = 0
        for arrival, line in due:
            position = bisect.bisect_right(self.arrivals, arrival)
            cut = max(self.ends[position - 1] if position else 0, offset)
            if cut > offset:
                pieces.append((offset, cut - offset))
            pieces.append(line)
            offset = cut
        total = self.ends[-1] if self.ends else 0
        if total > offset:
            pieces.append((offset, total - offset))
        return pieces


_WEATHER: dict[tuple[str, date, int], DayWeather] = {}


def _weather(area: str, day: date, seed: int) -> DayWeather:
    key = (area, day, seed)
    if key not in _WEATHER:
        _WEATHER.clear()
        _WEATHER[key] = day_weather(area, day, seed)
    return _WEATHER[key]


def _work(index: int) -> _Chunk:
    global _STATE
    if _STATE is None:
        if _SPEC is None:  # set before the pool forks
            raise RuntimeError("no run is being prepared")
        _STATE = _Worker(_SPEC)
    return _STATE.unit(index)


# --- the writing side --------------------------------------------------------------------

Progress = Callable[[int, int, int], None]
"""Called after each unit: (units done, units in all, pushes written so far)."""


def run_fleet(
    settings: RunSettings,
    *,
    out: Path | None = None,
    sink: PushSink | None = None,
    pacer: Pacer | None = None,
    truth_dir: Path | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Run the fleet: pushes to ``out`` (JSON Lines) or ``sink``; ground truth to ``truth_dir``.

    Raises:
        InputError: a bad estate, scenario (with its line) or setting.
    """
    global _SPEC, _STATE
    began = time.perf_counter()
    spec = _prepare(settings)
    summary = RunSummary(meters=len(spec.grid.meters))
    for fault in spec.plan.faults:
        if _in_run(spec, fault):
            summary.faults[fault.spec.kind] += 1
    if truth_dir is not None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        _write_truth_tables(spec, truth_dir)
    workers = settings.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(spec.units)))
    spec.truth = truth_dir is not None
    parts = Path(tempfile.mkdtemp(prefix=".openams-parts-", dir=out.parent if out else None))
    spec.parts = parts
    _SPEC, _STATE = spec, None
    pending: list[tuple[int, int, bytes]] = []  # (arrival, order, line) after their day
    order = 0
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        with _Outputs(out, sink, pacer, truth_dir) as outputs:
            for chunk in _results(spec, workers):
                _, _, last_s = spec.units[chunk.day_index]
                summary.counts.update(chunk.stats)
                outputs.truth(chunk.truth_path, chunk.incidents)
                for arrival, line in chunk.later:
                    heapq.heappush(pending, (arrival, order, line))
                    order += 1
                due = []
                while pending and pending[0][0] < last_s:
                    arrival, _, line = heapq.heappop(pending)
                    due.append((arrival, line))
                outputs.pushes(chunk.path, chunk.segments(due))
                summary.pushes_written += len(chunk.arrivals) + len(due)
                chunk.path.unlink()
                chunk.truth_path.unlink()
                if progress is not None:
                    progress(chunk.day_index + 1, len(spec.units), summary.pushes_written)
            rest: list[tuple[int, int] | bytes] = [line for _, _, line in sorted(pending)]
            outputs.pushes(None, rest)
            summary.pushes_written += len(rest)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
        _SPEC = _STATE = None
        gc.unfreeze()
        gc.set_threshold(*threshold)
    summary.seconds = time.perf_counter() - began
    return summary


def _arrival(pair: tuple[int, bytes]) -> int:
    return pair[0]


def _results(spec: _Spec, workers: int) -> Any:
    """Unit results in order; at most two units per worker in flight."""
    if workers == 1:
        for index in range(len(spec.units)):
            yield _work(index)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        flight: deque[Any] = deque()
        for index in range(len(spec.units)):
            flight.append(pool.apply_async(_work, (index,)))
            if len(flight) >= 2 * workers:
                yield flight.popleft().get()
        while flight:
            yield flight.popleft().get()


class _Outputs:
    """Where the pushes and the truth go; part files are copied in by the kernel."""

    def __init__(
        self,
        out: Path | None,
        sink: PushSink | None,
        pacer: Pacer | None,
        truth_dir: Path | None,
    ) -> None:
        self.out_path = out
        self.sink = sink
        self.pacer = pacer
        self.truth_dir = truth_dir
        self.files: list[IO[bytes]] = []

    def __enter__(self) -> _Outputs:
        if self.out_path is not None:
            self.out = self._open(self.out_path)
        if self.truth_dir is not None:
            self.intervals = self._open(self.truth_dir / "intervals.csv")
            self.intervals.write(truth_header("intervals.csv"))
            self.incidents = self._open(self.truth_dir / "incidents.csv")
            self.incidents.write(truth_header("incidents.csv"))
        return self

    def _open(self, path: Path) -> IO[bytes]:
        try:
            handle = path.open("wb", buffering=0)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", source=str(path)) from None
        self.files.append(handle)
        return handle

    def __exit__(self, *exc: object) -> None:
        for handle in self.files:
            handle.close()
        if self.sink is not None:
            self.sink.close()

    def truth(self, part: Path, incidents: bytes) -> None:
        if self.truth_dir is not None:
            with part.open("rb") as source:
                _copy(source, self.intervals, 0, part.stat().st_size)
            self.incidents.write(incidents)

    def pushes(self, part: Path | None, pieces: list[tuple[int, int] | bytes]) -> None:
        """Write the part file's runs and the lines between them, in order."""
        source = part.open("rb") if part is not None else None
        try:
            for piece in pieces:
                if isinstance(piece, bytes):
                    self._lines(piece)
                elif source is not None:
                    offset, length = piece
                    if self.out_path is not None:
                        _copy(source, self.out, offset, length)
                    if self.sink is not None:
                        source.seek(offset)
                        self._send(source.read(length))
        finally:
            if source is not None:
                source.close()

    def _lines(self, lines: bytes) -> None:
        if self.out_path is not None:
            self.out.write(lines)
        if self.sink is not None:
            self._send(lines)

    def _send(self, lines: bytes) -> None:
        assert self.sink is not None  # noqa: S101 - only called with a sink
        for line in lines.splitlines():
            record = json.loads(line)
            at = datetime.fromisoformat(record["at"])
            if self.pacer is not None:
                self.pacer.wait_until(at)
            self.sink.send(at, record["meter_id"], bytes.fromhex(record["hex"]))


def _copy(source: IO[bytes], target: IO[bytes], offset: int, length: int) -> None:
    """Copy ``length`` bytes from ``offset`` of ``source`` to the end of ``target``."""
    while length > 0:
        try:
            done = os.copy_file_range(source.fileno(), target.fileno(), length, offset)
        except OSError:  # another file system or kernel: through user space
            source.seek(offset)
            target.write(source.read(length))
            return
        if done == 0:
            raise OSError("the part file ended early")
        offset += done
        length -= done


PROFILE_DAYS = 40


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One entry of a meter's load profile: its registers at an interval boundary.

    Attributes:
        clock: The boundary, as the meter's clock has it (aware, UTC).
        import_wh: Active energy import register A+, as recorded. [Wh]
        export_wh: Active energy export register A-. [Wh]
        reactive_import_varh: Reactive energy import register R+. [varh]
        reactive_export_varh: Reactive energy export register R-. [varh]
    """

    clock: datetime
    import_wh: int
    export_wh: int
    reactive_import_varh: int
    reactive_export_varh: int


def read_load_profile(settings: RunSettings, meter_id: str) -> list[ProfileEntry]:
    """The load profile a meter holds at the end of the run: its last 40 days.

    A meter records its registers at every interval boundary it had power, whether or not
    the push reached the head-end; this is what a head-end reads back to fill gaps. The
    entries are those the run made (same settings, same values), oldest first.

    Raises:
        InputError: an unknown meter, or a bad estate, scenario or setting.
    """
    spec = _prepare(settings)
    try:
        position = next(i for i, m in enumerate(spec.grid.meters) if m.meter_id == meter_id)
    except StopIteration:
        raise InputError(f"no meter {meter_id} in the estate", source="--meter") from None
    block = _block(spec, position // BLOCK_SIZE)
    row = next(i for i, m in enumerate(block.meters) if m.meter_id == meter_id)
    step = int(block.step[row])
    since_s = spec.end_s - PROFILE_DAYS * DAY_S
    entries = []
    for day, _, _ in spec.units:
        weather = _weather(spec.grid.area, day, spec.seed)
        d0 = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        if d0 + DAY_S <= since_s:
            block.advance(day, weather, full=False)
            continue
        frame = block.advance(day, weather)
        if frame is None:  # pragma: no cover - a full advance gives a frame
            continue
        for col in range(0, 96, step):
            at_s = d0 + 900 * col
            if (
                not (max(since_s, spec.start_s) <= at_s <= spec.end_s)
                or not frame.powered[row, col]
            ):
                continue
            registers = [int(v) for v in frame.true_wh[:, row, col]]
            registers[0] = int(frame.recorded_import_wh[row, col])
            entries.append(ProfileEntry(datetime.fromtimestamp(at_s, UTC), *registers))
    return entries


def _in_run(spec: _Spec, fault: Fault) -> bool:
    begin, end = window_s(fault)
    return begin <= spec.end_s and (end is None or end > spec.start_s)


def _write_truth_tables(spec: _Spec, folder: Path) -> None:
    """The truth known before the run: faults, where they strike, events, meters."""
    meters = {m.meter_id: m for m in spec.grid.meters}
    transformer_of = {p.metering_point_id: p.transformer_id for p in spec.grid.metering_points}

    def table(name: str, rows: Iterable[tuple[object, ...]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(TRUTH_COLUMNS[name])
            writer.writerows(rows)

    faults = spec.plan.faults
    table(
        "faults.csv",
        (
            (i, f.spec.kind, f.level, f.spec.target, iso_z(window_s(f)[0]),
             iso_z(end) if (end := window_s(f)[1]) is not None else "", len(f.meter_ids),
             json.dumps(dict(f.spec.params), sort_keys=True), spec.plan.origins[i])
            for i, f in enumerate(faults)
            if _in_run(spec, f)
        ),
    )  # fmt: skip
    table(
        "fault_meters.csv",
        (
            (i, meter_id, point, transformer_of[point])
            for i, f in enumerate(faults)
            if _in_run(spec, f)
            for meter_id in f.meter_ids
            for point in (meters[meter_id].metering_point_id,)
        ),
    )
    rows = []
    for meter_id, events in spec.plan.events.items():
        point = meters[meter_id].metering_point_id
        for event in events:
            if not spec.start_s <= event.at_s <= spec.end_s:
                continue
            silent = any(
                f.spec.kind == "silent"
                for _, f in spec.plan.touching(meter_id, event.at_s, event.at_s + 1)
            )
            rows.append(
                (iso_z(event.at_s), meter_id, point, transformer_of[point], event.name,
                 event.fault_id, int(not silent), int(event.lost and not silent))
            )  # fmt: skip
    table("events.csv", sorted(rows))
    meter_rows = []
    for number in range(_block_count(spec)):
        block = _block(spec, number)
        for row, meter in enumerate(block.meters):
            registers = [int(v) for v in block.initial_wh[:, row]]
            meter_rows.append(
                (meter.meter_id, meter.metering_point_id, int(block.step[row]) * 900,
                 iso_z(spec.start_s), iso_z(spec.end_s), *registers, int(block.counter[row]))
            )  # fmt: skip
    table("meters.csv", meter_rows)

"""The head-end's ingest: pushes in, register reads, interval values and events out.

Per push, in order:

1. **Decrypt and decode** with the meter's keys, found by its system title. A push that
   cannot be used goes to the quarantine with its raw bytes, channel, source and reason:
   ``no_key`` (unknown system title), ``auth_failed`` (the GCM tag does not verify),
   ``bad_frame`` / ``bad_apdu`` (malformed), ``unknown_layout``, ``no_clock``. Unknown
   meters and bad tags are also security events.
2. **Counter window** (:mod:`openams.domain.counters`): only an authenticated push may
   advance it. A counter never seen is new. A counter seen before is a *duplicate* when the
   first copy arrived within ``duplicate_window_s`` (radio networks repeat pushes), else a
   *replay*: quarantined and a security event. A counter below the window is a replay too.
3. **Store**: the register read as pushed; an event push as an event. Interval values are
   made from two reads of a meter one interval apart — whichever arrives first — so a push
   that arrives hours late fills its place. A register that went backwards gives no value.

Nothing is dropped: received = stored + duplicates + quarantined, and the report says so.
Everything of a batch (reads, values, events, quarantine, security events) is committed
together, so a crash between batches loses nothing and a restart stores nothing twice. The
counter windows are a cache of the counters of the stored pushes: written now and then and
at the end, and rebuilt by the store from the stored pushes when a crash left one behind.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from openams.dlms import (
    DecodeError,
    DlmsError,
    KeyPair,
    MissingKeyError,
    Push,
    PushDecoder,
    SecurityError,
    decode_ciphered_apdu,
    decode_event,
    unframe,
)
from openams.domain.counters import CounterVerdict, CounterWindow

__all__ = [
    "EventRow",
    "IncomingPush",
    "IngestBatch",
    "IngestReport",
    "IngestStore",
    "IntervalRow",
    "MeterEntry",
    "QuarantineRow",
    "ReadRow",
    "SecurityEventRow",
    "ingest",
    "read_push_lines",
]

BATCH = 10_000
#: Counter windows are written every this many batches and at the end: they are a cache of
#: the counters of the stored pushes, which the store rebuilds after a crash.
WINDOW_EVERY = 20


@dataclass(frozen=True, slots=True)
class IncomingPush:
    """A push as it reached the head-end."""

    raw: bytes
    received_at_s: int
    channel: str  # file, tcp, mqtt
    source: str  # file and line, peer address, topic
    problem: str | None = None  # the line could not even be read as a push (kept as text)


@dataclass(slots=True)
class MeterEntry:
    """What the head-end knows of a meter while ingesting."""

    meter_id: str
    metering_point_id: str
    push_interval_s: int
    keys: KeyPair
    window: CounterWindow
    newest_read_s: int | None = None  # the newest register read stored
    first_seen_s: dict[int, int] = field(default_factory=dict)  # counter -> first arrival
    arrivals_loaded: bool = False  # first_seen_s holds the stored pushes' arrivals too
    recent: dict[int, ReadRow] = field(default_factory=dict)  # the last reads, by clock


class ReadRow(NamedTuple):
    """A register read as pushed (the meter's clock, the four registers)."""

    meter_id: str
    read_at_s: int
    received_at_s: int
    invocation_counter: int | None
    import_wh: int | None
    export_wh: int | None
    reactive_import_varh: int | None
    reactive_export_varh: int | None


class IntervalRow(NamedTuple):
    """A measured interval value, from two register reads one interval apart."""

    metering_point_id: str
    resolution_s: int
    start_at_s: int
    import_wh: int | None
    export_wh: int | None
    reactive_import_varh: int | None
    reactive_export_varh: int | None


class EventRow(NamedTuple):
    """A meter event."""

    meter_id: str
    metering_point_id: str
    at_s: int
    name: str
    log: str
    code: int
    invocation_counter: int | None
    received_at_s: int


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """A push that could not be used, kept whole."""

    received_at_s: int
    channel: str
    source: str
    reason: str
    message: str
    system_title: bytes | None
    raw: bytes
    meter_id: str | None = None  # when the push could be decoded
    at_s: int | None = None  # the meter's clock in the push, when known


@dataclass(frozen=True, slots=True)
class SecurityEventRow:
    """A bad tag, a replay or an unknown system title (tied to its quarantine row)."""

    at_s: int
    kind: str
    system_title: bytes | None
    meter_id: str | None
    channel: str
    detail: str


@dataclass(slots=True)
class IngestBatch:
    """What one batch writes, all or nothing."""

    reads: list[ReadRow] = field(default_factory=list)
    intervals: list[IntervalRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    quarantine: list[tuple[QuarantineRow, SecurityEventRow | None]] = field(default_factory=list)
    windows: dict[str, CounterWindow] = field(default_factory=dict)  # meter id -> window


class IngestStore(Protocol):
    """Where ingest reads meters and writes what it made."""

    def meter(self, system_title: bytes) -> MeterEntry | None:
        """The meter with this system title, its keys unwrapped, or ``None``."""
        ...

    def keys(self, system_title: bytes) -> KeyPair | None:
        """The keys of the meter with this system title (no database access: worker
        processes call it)."""
        ...

    def arrivals(self, meter_id: str) -> dict[int, int]:
        """When each stored push of this meter arrived: invocation counter -> epoch s."""
        ...

    def read_at(self, meter_id: str, read_at_s: int) -> ReadRow | None:
        """The stored register read of this meter at this clock time, if any (reads of the
        batch being made are not asked for: the use case keeps them)."""
        ...

    def save(self, batch: IngestBatch) -> None:
        """Commit the batch in one transaction."""
        ...


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: ``received == stored + duplicates + quarantined``."""

    received: int = 0
    stored: int = 0
    events: int = 0
    duplicates: int = 0
    intervals: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    security_events: Counter[str] = field(default_factory=Counter)
    first_read_s: int | None = None  # the earliest and latest clocks of the lists received
    last_read_s: int | None = None  # (stored or duplicate): the days VEE should look at

    @property
    def quarantined_total(self) -> int:
        """Pushes quarantined, all reasons."""
        return sum(self.quarantined.values())


_AT_KEY = '{"at": "'
_HEX_KEY = '", "hex": "'
_SIMULATOR_HEAD = re.compile(r'\{"at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "meter_id": "[^"\\]*')
_REGISTERS = {"1.8.0": 0, "2.8.0": 1, "3.8.0": 2, "4.8.0": 3}
_OBIS = re.compile(r"\d+-\d+:(\d+\.\d+\.\d+)\.\d+")


_REGISTER_OF: dict[str, int | None] = {}  # OBIS text -> register index, learnt once


def _register_of(key: str) -> int | None:
    match = _OBIS.fullmatch(key)
    index = _REGISTERS.get(match.group(1)) if match else None
    if len(_REGISTER_OF) < 10_000:
        _REGISTER_OF[key] = index
    return index


def _registers(push: Push) -> list[int | None]:
    out: list[int | None] = [None, None, None, None]
    for key, (value, _unit) in push.values.items():
        index = _REGISTER_OF[key] if key in _REGISTER_OF else _register_of(key)
        if index is not None and isinstance(value, int):
            out[index] = value
    return out


def _system_title(raw: bytes) -> bytes | None:
    try:
        _, apdu = unframe(raw)
    except DlmsError:
        return None
    try:
        return bytes(decode_ciphered_apdu(apdu).system_title)
    except DlmsError:
        return None


class Decoded(NamedTuple):
    """What decoding made of a push: small, so that worker processes can hand it back."""

    error: str | None  # the quarantine reason when the push could not be decoded
    message: str
    system_title: bytes | None
    counter: int | None = None
    layout: str = ""
    time_s: int | None = None
    registers: tuple[int | None, ...] = (None, None, None, None)
    event: tuple[str, str, int, int] | None = None  # name, log, code, at (epoch s)


_SECURITY_REASONS = frozenset({"no_key", "auth_failed", "replay", "not_ciphered"})


def decode_raw(raw: bytes, decoder: PushDecoder) -> Decoded:
    """Decrypt and decode one push (no store, no state): the part worker processes run."""
    try:
        push = decoder.decode(raw)
    except MissingKeyError as exc:
        title = exc.system_title or _system_title(raw)
        message = f"no meter with system title {title.hex() if title else '?'}"
        return Decoded("no_key", message, title)
    except SecurityError as exc:
        return Decoded(exc.code, str(exc), _system_title(raw))
    except DecodeError as exc:
        return Decoded(exc.code, str(exc), _system_title(raw))
    event = decode_event(push)
    return Decoded(
        None,
        "",
        bytes(push.system_title) if push.system_title else None,
        push.invocation_counter,
        push.layout,
        int(push.time.timestamp()) if push.time is not None else None,
        tuple(_registers(push)),
        (event[0].name, event[0].log, event[0].code, int(event[1].timestamp()))
        if event is not None
        else None,
    )


class _Ingest:
    def __init__(self, store: IngestStore, duplicate_window_s: int) -> None:
        self.store = store
        self.duplicate_window_s = duplicate_window_s
        self.meters: dict[bytes, MeterEntry | None] = {}
        self.decoder = PushDecoder(keys=self._keys)
        self.report = IngestReport()
        self.outcome = ""
        self.touched: dict[str, CounterWindow] = {}  # windows moved since last persisted
        # the reads of the batch not yet committed, which the store cannot be asked for
        self.unsaved: dict[tuple[str, int], ReadRow] = {}

    def _entry(self, title: bytes) -> MeterEntry | None:
        if title not in self.meters:
            self.meters[title] = self.store.meter(title)
        return self.meters[title]

    def _keys(self, title: bytes) -> KeyPair | None:
        return self.store.keys(bytes(title))

    def _quarantine(
        self, batch: IngestBatch, item: IncomingPush, reason: str, message: str,
        title: bytes | None, meter_id: str | None = None, security: bool = False,
        at_s: int | None = None,
    ) -> None:  # fmt: skip
        row = QuarantineRow(
            item.received_at_s, item.channel, item.source, reason, message, title, item.raw,
            meter_id, at_s,
        )  # fmt: skip
        event = None
        if security:
            event = SecurityEventRow(
                item.received_at_s, reason, title, meter_id, item.channel, message
            )
            self.report.security_events[reason] += 1
        batch.quarantine.append((row, event))
        self.report.quarantined[reason] += 1
        self.outcome = reason

    def one(self, batch: IngestBatch, item: IncomingPush, decoded: Decoded | None = None) -> str:
        """Handle one push; its outcome: ``stored``, ``duplicate`` or the quarantine reason.

        ``decoded`` is the push already decoded (by a worker process), else it is decoded here.
        """
        self.report.received += 1
        if item.problem is not None:
            self._quarantine(batch, item, "bad_input", item.problem, None)
            return self.outcome
        if decoded is None:
            decoded = decode_raw(item.raw, self.decoder)
        title = decoded.system_title
        if decoded.error is not None:
            entry = self._entry(title) if title and decoded.error != "no_key" else None
            security = decoded.error in _SECURITY_REASONS
            self._quarantine(batch, item, decoded.error, decoded.message, title,
                             entry.meter_id if entry else None, security=security)  # fmt: skip
            return self.outcome
        entry = self._entry(title) if title else None
        if entry is None or decoded.counter is None:
            # a push in clear cannot be placed by its keys; the head-end insists on auth+enc
            self._quarantine(
                batch, item, "not_ciphered", "the push is not ciphered; refused by policy",
                title, security=True,
            )  # fmt: skip
            return self.outcome
        counter = decoded.counter
        at_s = decoded.time_s
        if at_s is not None and decoded.event is None:  # the days this ingest is about
            report = self.report
            if report.first_read_s is None or at_s < report.first_read_s:
                report.first_read_s = at_s
            if report.last_read_s is None or at_s > report.last_read_s:
                report.last_read_s = at_s
        verdict = entry.window.verdict(counter)
        if verdict is not CounterVerdict.NEW:
            if verdict is CounterVerdict.SEEN and not entry.arrivals_loaded:
                entry.first_seen_s = {**self.store.arrivals(entry.meter_id), **entry.first_seen_s}
                entry.arrivals_loaded = True
            first = entry.first_seen_s.get(counter)
            if first is not None and abs(item.received_at_s - first) <= self.duplicate_window_s:
                self.report.duplicates += 1
                return "duplicate"
            self._quarantine(
                batch, item, "replay",
                f"invocation counter {counter} of meter {entry.meter_id} was used before",
                title, entry.meter_id, security=True,
            )  # fmt: skip
            return self.outcome
        if decoded.event is not None:
            name, log, code, at_s = decoded.event
            batch.events.append(
                EventRow(entry.meter_id, entry.metering_point_id, at_s, name, log, code, counter,
                         item.received_at_s)
            )  # fmt: skip
            self.report.events += 1
        elif decoded.layout == "unknown":
            self._quarantine(
                batch, item, "unknown_layout", "a body this decoder does not map",
                title, entry.meter_id,
            )  # fmt: skip
            return self.outcome
        elif decoded.time_s is None:
            self._quarantine(
                batch, item, "no_clock", "a list without the meter's clock cannot be placed",
                title, entry.meter_id,
            )  # fmt: skip
            return self.outcome
        else:
            at_s = decoded.time_s
            if entry.newest_read_s is not None and at_s <= entry.newest_read_s:
                earlier = self._neighbour(entry, at_s)
                if earlier is not None and tuple(earlier[4:8]) != decoded.registers:
                    # another push said otherwise for this clock: keep both, trust neither
                    self._quarantine(
                        batch, item, "conflict",
                        f"meter {entry.meter_id} already sent other registers for "
                        f"{datetime.fromtimestamp(at_s, UTC).isoformat()}",
                        title, entry.meter_id, at_s=at_s,
                    )  # fmt: skip
                    entry.window.accept(counter)
                    entry.first_seen_s[counter] = item.received_at_s
                    self.touched[entry.meter_id] = entry.window
                    return self.outcome
            read = ReadRow(entry.meter_id, at_s, item.received_at_s, counter, *decoded.registers)
            batch.reads.append(read)
            self.unsaved[(entry.meter_id, at_s)] = read
            self._intervals(batch, entry, read)
            self._remember(entry, read)

        entry.window.accept(counter)
        entry.first_seen_s[counter] = item.received_at_s
        self.touched[entry.meter_id] = entry.window
        self.report.stored += 1
        return "stored"

    def _neighbour(self, entry: MeterEntry, at_s: int) -> ReadRow | None:
        found = entry.recent.get(at_s)
        if found is None and entry.newest_read_s is not None and at_s <= entry.newest_read_s:
            found = self.unsaved.get((entry.meter_id, at_s))
            if found is None:
                found = self.store.read_at(entry.meter_id, at_s)
        return found

    def _remember(self, entry: MeterEntry, read: ReadRow) -> None:
        entry.recent[read.read_at_s] = read
        if len(entry.recent) > 8:
            del entry.recent[next(iter(entry.recent))]  # the first remembered
        if entry.newest_read_s is None or read.read_at_s > entry.newest_read_s:
            entry.newest_read_s = read.read_at_s

    def _intervals(self, batch: IngestBatch, entry: MeterEntry, read: ReadRow) -> None:
        """Values between this read and the reads one interval before and after it (the
        meter's registered interval); gaps are estimation's business."""
        step = entry.push_interval_s
        at_s = read.read_at_s
        if at_s % step:
            return  # not on a boundary (a clock far off): a read, but no interval value
        newest = entry.newest_read_s
        before = self._neighbour(entry, at_s - step)
        after = self._neighbour(entry, at_s + step) if newest and at_s < newest else None
        for first, second in ((before, read), (read, after)):
            if first is None or second is None:
                continue
            values = [_difference(a, b) for a, b in zip(first[4:8], second[4:8], strict=True)]
            if -1 in values:
                continue  # a register went back: validation's business, no measured value
            batch.intervals.append(
                IntervalRow(entry.metering_point_id, step, first.read_at_s, *values)
            )
            self.report.intervals += 1


def _difference(before: int | None, after: int | None) -> int | None:
    """``after - before``; -1 when the register went back; ``None`` when either is unknown."""
    if before is None or after is None:
        return None
    return after - before if after >= before else -1


def ingest(
    items: Iterable[IncomingPush],
    store: IngestStore,
    *,
    duplicate_window_s: int = 900,
    batch_size: int = BATCH,
    progress: Callable[[IngestReport], None] | None = None,
    outcomes: list[str] | None = None,
    workers: int = 1,
) -> IngestReport:
    """Ingest ``items`` into ``store``, committing every ``batch_size`` pushes.

    ``outcomes``, when given, receives each push's outcome in order: ``stored``,
    ``duplicate`` or its quarantine reason. With ``workers`` above 1, pushes are decrypted
    and decoded in that many worker processes while this one keeps the counter windows and
    writes; the result is the same.
    """
    run = _Ingest(store, duplicate_window_s)
    batch = IngestBatch()
    pending = saved = 0
    for item, decoded in _decoded(items, store, workers):
        outcome = run.one(batch, item, decoded)
        if outcomes is not None:
            outcomes.append(outcome)
        pending += 1
        if pending >= batch_size:
            saved += 1
            if saved % WINDOW_EVERY == 0:
                batch.windows, run.touched = run.touched, {}
            store.save(batch)
            batch, pending = IngestBatch(), 0
            run.unsaved.clear()
            if progress is not None:
                progress(run.report)
    batch.windows, run.touched = run.touched, {}
    if pending or batch.windows:
        store.save(batch)
    if progress is not None:
        progress(run.report)
    return run.report


_CHUNK = 2000
_WORKER_DECODER: PushDecoder | None = None


def _decode_chunk(raws: list[bytes | None]) -> list[Decoded | None]:
    decoder = _WORKER_DECODER
    if decoder is None:  # pragma: no cover - set before the pool forks
        raise RuntimeError("no decoder in this worker")
    return [decode_raw(raw, decoder) if raw is not None else None for raw in raws]


def _decoded(
    items: Iterable[IncomingPush], store: IngestStore, workers: int
) -> Iterator[tuple[IncomingPush, Decoded | None]]:
    """The items with their decoding done ahead by worker processes (or ``None``: here)."""
    global _WORKER_DECODER
    if workers <= 1:
        for item in items:
            yield item, None
        return
    _WORKER_DECODER = PushDecoder(keys=store.keys)  # inherited by the forked workers
    chunks = _chunks(items)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            flight: deque[tuple[list[IncomingPush], Any]] = deque()
            for chunk in chunks:
                raws = [item.raw if item.problem is None else None for item in chunk]
                flight.append((chunk, pool.apply_async(_decode_chunk, (raws,))))
                if len(flight) >= 3 * workers:
                    done, result = flight.popleft()
                    yield from zip(done, result.get(), strict=True)
            while flight:
                done, result = flight.popleft()
                yield from zip(done, result.get(), strict=True)
    finally:
        _WORKER_DECODER = None


def _chunks(items: Iterable[IncomingPush]) -> Iterator[list[IncomingPush]]:
    chunk: list[IncomingPush] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_push_lines(
    lines: Iterable[str], *, source: str, now_s: int, channel: str = "file"
) -> Iterator[IncomingPush]:
    """Pushes from text lines: the simulator's JSON Lines (``{"at", "meter_id", "hex"}``) or
    bare hex, one push per line; blank lines and ``#`` comments skipped.

    A line's ``at`` is its arrival time; without one, ``now_s``. A line that is neither is
    still yielded, with its text as the raw bytes and the problem named, so that it is
    quarantined rather than lost.
    """
    times: dict[str, int] = {}  # a fleet sends in the same seconds: parse each once
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source}:{number}"
        received_s = now_s
        hex_at = text.find(_HEX_KEY, 36) if text.startswith(_AT_KEY) else -1
        if hex_at > 0 and text.endswith('"}') and _SIMULATOR_HEAD.fullmatch(text, 0, hex_at):
            # the simulator's own form, read without a JSON parser
            at = text[8:28]
            received_s = times.get(at) or times.setdefault(
                at, int(datetime.fromisoformat(at).timestamp())
            )
            try:
                raw = bytes.fromhex(text[hex_at + len(_HEX_KEY) : -2])
            except ValueError as exc:
                yield IncomingPush(text.encode(), now_s, channel, where, f"not a push: {exc}")
                continue
            yield IncomingPush(raw, received_s, channel, where)
            continue
        try:
            if text.startswith("{"):
                record = json.loads(text)
                if not isinstance(record, dict) or not isinstance(record.get("hex"), str):
                    raise ValueError('a JSON line needs a "hex" string')
                if "at" in record:
                    received_s = int(datetime.fromisoformat(str(record["at"])).timestamp())
                raw = bytes.fromhex(record["hex"])
            else:
                raw = bytes.fromhex(text.replace(" ", "").replace(":", ""))
        except (ValueError, TypeError) as exc:
            yield IncomingPush(text.encode(), now_s, channel, where, f"not a push: {exc}")
            continue
        yield IncomingPush(raw, received_s, channel, where)

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

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import sub
from typing import IO, Any, NamedTuple, Protocol

from openams.dlms import KeyPair, PushDecoder
from openams.domain.counters import CounterVerdict, CounterWindow

from .pushes import (
    Decoded,
    IncomingPush,
    decode_raw,
    decoded_items,
    decoded_lines,
    read_push_lines,
)

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
    "ingest_file",
    "read_push_lines",
]

BATCH = 10_000
#: Counter windows are written every this many batches and at the end: they are a cache of
#: the counters of the stored pushes, which the store rebuilds after a crash.
WINDOW_EVERY = 20


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


_SECURITY_REASONS = frozenset({"no_key", "auth_failed", "replay", "not_ciphered"})


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

    def one(
        self, batch: IngestBatch, item: IncomingPush,
        decoded: Decoded | tuple[Any, ...] | None = None,
    ) -> str:  # fmt: skip
        """Handle one push; its outcome: ``stored``, ``duplicate`` or the quarantine reason.

        ``decoded`` is the push already decoded (by a worker process, as a :class:`Decoded`
        or the plain tuple of its fields), else it is decoded here.
        """
        report = self.report
        report.received += 1
        if item.problem is not None:
            self._quarantine(batch, item, "bad_input", item.problem, None)
            return self.outcome
        if decoded is None:
            decoded = decode_raw(item.raw, self.decoder)
        error, message, title, counter, layout, at_s, registers, event = decoded
        if error is not None:
            entry = self._entry(title) if title and error != "no_key" else None
            security = error in _SECURITY_REASONS
            self._quarantine(batch, item, error, message, title,
                             entry.meter_id if entry else None, security=security)  # fmt: skip
            return self.outcome
        entry = self._entry(title) if title else None
        if entry is None or counter is None:
            # a push in clear cannot be placed by its keys; the head-end insists on auth+enc
            self._quarantine(
                batch, item, "not_ciphered", "the push is not ciphered; refused by policy",
                title, security=True,
            )  # fmt: skip
            return self.outcome
        if at_s is not None and event is None:  # the days this ingest is about
            if report.first_read_s is None or at_s < report.first_read_s:
                report.first_read_s = at_s
            if report.last_read_s is None or at_s > report.last_read_s:
                report.last_read_s = at_s
        window = entry.window
        verdict = window.verdict(counter)
        if verdict is not CounterVerdict.NEW:
            if verdict is CounterVerdict.SEEN and not entry.arrivals_loaded:
                entry.first_seen_s = {**self.store.arrivals(entry.meter_id), **entry.first_seen_s}
                entry.arrivals_loaded = True
            first = entry.first_seen_s.get(counter)
            if first is not None and abs(item.received_at_s - first) <= self.duplicate_window_s:
                report.duplicates += 1
                return "duplicate"
            self._quarantine(
                batch, item, "replay",
                f"invocation counter {counter} of meter {entry.meter_id} was used before",
                title, entry.meter_id, security=True,
            )  # fmt: skip
            return self.outcome
        if event is not None:
            name, log, code, at_s = event
            batch.events.append(
                EventRow(entry.meter_id, entry.metering_point_id, at_s, name, log, code, counter,
                         item.received_at_s)
            )  # fmt: skip
            report.events += 1
        elif layout == "unknown":
            self._quarantine(
                batch, item, "unknown_layout", "a body this decoder does not map",
                title, entry.meter_id,
            )  # fmt: skip
            return self.outcome
        elif at_s is None:
            self._quarantine(
                batch, item, "no_clock", "a list without the meter's clock cannot be placed",
                title, entry.meter_id,
            )  # fmt: skip
            return self.outcome
        else:
            newest = entry.newest_read_s
            if newest is not None and at_s <= newest:
                earlier = self._neighbour(entry, at_s)
                if earlier is not None and tuple(earlier[4:8]) != tuple(registers):
                    # another push said otherwise for this clock: keep both, trust neither
                    self._quarantine(
                        batch, item, "conflict",
                        f"meter {entry.meter_id} already sent other registers for "
                        f"{datetime.fromtimestamp(at_s, UTC).isoformat()}",
                        title, entry.meter_id, at_s=at_s,
                    )  # fmt: skip
                    self._accept(entry, counter, item.received_at_s)
                    return self.outcome
            read = ReadRow(entry.meter_id, at_s, item.received_at_s, counter, *registers)
            batch.reads.append(read)
            self.unsaved[(entry.meter_id, at_s)] = read
            self._intervals(batch, entry, read)
            recent = entry.recent
            recent[at_s] = read
            if len(recent) > 8:
                del recent[next(iter(recent))]  # the first remembered
            if newest is None or at_s > newest:
                entry.newest_read_s = at_s
        self._accept(entry, counter, item.received_at_s)
        report.stored += 1
        return "stored"

    def _accept(self, entry: MeterEntry, counter: int, received_at_s: int) -> None:
        entry.window.accept(counter)
        entry.first_seen_s[counter] = received_at_s
        self.touched[entry.meter_id] = entry.window

    def _neighbour(self, entry: MeterEntry, at_s: int) -> ReadRow | None:
        found = entry.recent.get(at_s)
        if found is None and entry.newest_read_s is not None and at_s <= entry.newest_read_s:
            key = (entry.meter_id, at_s)
            found = self.unsaved.get(key)
            if found is None:
                found = self.store.read_at(entry.meter_id, at_s)
        return found

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
            values: Sequence[int | None]
            try:  # all four registers known: the common case
                known: list[int] = list(map(sub, second[4:8], first[4:8]))
                back, values = min(known) < 0, known
            except TypeError:  # a register missing from either read
                values = [_difference(a, b) for a, b in zip(first[4:8], second[4:8], strict=True)]
                back = -1 in values
            if back:
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
    return _run(
        decoded_items(items, store.keys, workers), store, duplicate_window_s, batch_size,
        progress, outcomes,
    )  # fmt: skip


def ingest_file(
    fh: IO[bytes],
    store: IngestStore,
    *,
    source: str,
    now_s: int,
    duplicate_window_s: int = 900,
    batch_size: int = BATCH,
    progress: Callable[[IngestReport], None] | None = None,
    workers: int = 1,
) -> IngestReport:
    """Ingest a binary file of push lines (see :func:`read_push_lines`; ``source`` names it
    in the quarantine). With ``workers`` above 1 the worker processes read the lines too."""
    pairs = decoded_lines(fh, store.keys, workers, source=source, now_s=now_s)
    return _run(pairs, store, duplicate_window_s, batch_size, progress, None)


def _run(
    pairs: Iterable[tuple[IncomingPush, Decoded | tuple[Any, ...] | None]],
    store: IngestStore,
    duplicate_window_s: int,
    batch_size: int,
    progress: Callable[[IngestReport], None] | None,
    outcomes: list[str] | None,
) -> IngestReport:
    run = _Ingest(store, duplicate_window_s)
    batch = IngestBatch()
    pending = saved = 0
    one = run.one
    for item, decoded in pairs:
        outcome = one(batch, item, decoded)
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

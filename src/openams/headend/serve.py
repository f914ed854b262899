"""The running head-end: network channels in, one writer thread committing batches to the store.

::

    TCP listener (asyncio thread) ─┐
                                   ├─> queue ─> writer thread: ingest(batch) ─> commit ─> MQTT acks
    MQTT subscriber (paho thread) ─┘

The channels only put pushes in the queue. The writer takes a batch of up to ``batch_size``
pushes, or what came within ``flush_s`` of the first, and runs the ingest use case on it
(:func:`openams.services.ingest.ingest`), which commits the batch in one transaction; only then
are the MQTT messages of the batch acknowledged.

Invariants:
    * ``received == stored + duplicates + quarantined + waiting`` at every moment, and
      ``waiting == 0`` after a clean :meth:`Headend.stop`.
    * An MQTT message is acknowledged only after the batch holding it is committed. A crash
      loses no MQTT message: the broker sends the unacknowledged ones again, and those
      committed before the crash come out as duplicates, not as second rows.
    * A TCP push is in memory between its arrival and its batch's commit (at most
      ``flush_s`` plus one commit): TCP has no acknowledgement a meter could wait for.
    * The queue is bounded for TCP (reading pauses at ``max_backlog``) and for MQTT (the
      broker sends at most ``receive_maximum`` unacknowledged messages).
    * The database away is waited out: the batch is retried, with the meters' state reloaded
      from the store, until it commits or :meth:`Headend.stop` gives up on it.
    * VEE runs on a schedule (every ``vee_every_s``) over the local days the committed
      pushes are of, and once more at :meth:`Headend.stop`; a store away postpones it.
    * Logs carry counts and reasons only: no meter identifier, address, topic or key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from openams.dlms import KeyPair
from openams.errors import OpenAMSError
from openams.keyvault import KeyVault
from openams.services.ingest import (
    IncomingPush,
    IngestBatch,
    IngestReport,
    IngestStore,
    MeterEntry,
    ReadRow,
    ingest,
)
from openams.services.vee import days_between, run_vee
from openams.store import Store
from openams.store.ingest import SqlIngestStore
from openams.store.vee import SqlVeeStore

from .mqtt import Delivery, MqttSettings, MqttSubscriber
from .tcp import DEFAULT_HOST, DEFAULT_MAX_FRAME_SIZE, DEFAULT_PORT, TcpListener

__all__ = ["Headend", "HeadendError", "HeadendStats"]

log = logging.getLogger(__name__)

#: Failures of the database that are waited out (server away, locked, connection lost).
_STORE_AWAY = (OperationalError, InterfaceError, PoolTimeoutError)
_RELOAD_METERS_S = 300.0  # a meter registered while running is known within this
_PRUNE_S = 60.0


class HeadendError(OpenAMSError):
    """A channel of the head-end cannot start: a port taken, a broker away or refusing."""

    code = "headend_unavailable"


@dataclass(frozen=True, slots=True)
class HeadendStats:
    """The head-end's counters since :meth:`Headend.start`.

    Attributes:
        received: Pushes that reached the head-end (all channels).
        stored: Pushes stored: register reads and events.
        duplicates: Copies of pushes stored already, counted and not stored again.
        quarantined: Pushes quarantined, by reason.
        waiting: Pushes received and not yet committed.
        acknowledged: MQTT messages acknowledged to the broker.
        tcp_connections: TCP connections open now.
        mqtt_state: ``connected``, ``reconnecting`` or ``closed`` (``None`` without MQTT).
        batches: Batches committed.
        vee_runs: VEE runs done.
        vee_values: Values VEE validated or estimated.
    """

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: Mapping[str, int] = field(default_factory=dict)
    waiting: int = 0
    acknowledged: int = 0
    tcp_connections: int = 0
    mqtt_state: str | None = None
    batches: int = 0
    vee_runs: int = 0
    vee_values: int = 0

    @property
    def quarantined_total(self) -> int:
        """Pushes quarantined, all reasons."""
        return sum(self.quarantined.values())

    def line(self) -> str:
        """The status line: counts only, nothing about any meter."""
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.quarantined.items()))
        text = (
            f"pushes: {self.received:,} received, {self.stored:,} stored, "
            f"{self.duplicates:,} duplicates, {self.quarantined_total:,} quarantined"
            + (f" ({reasons})" if reasons else "")
            + f", {self.waiting:,} waiting; tcp: {self.tcp_connections:,} connections"
        )
        if self.mqtt_state is not None:
            text += f"; mqtt: {self.mqtt_state}, {self.acknowledged:,} acknowledged"
        if self.vee_runs:
            text += f"; vee: {self.vee_runs:,} runs, {self.vee_values:,} values"
        return text


class _Item(NamedTuple):
    push: IncomingPush
    delivery: Delivery | None


class _Queue:
    """Pushes between the channels and the writer; thread-safe."""

    def __init__(self) -> None:
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: _Item) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._items.append(item)
            self._cond.notify()
            return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def take(self, limit: int, wait_s: float, deliveries_limit: int) -> list[_Item] | None:
        """Up to ``limit`` items: waits for the first, then for ``wait_s`` at most; returns at
        once when ``deliveries_limit`` MQTT messages are in hand (the broker sends no more
        before some are acknowledged). ``None`` when closed and empty."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                return None
            deadline = time.monotonic() + wait_s
            batch: list[_Item] = []
            deliveries = 0
            while True:
                while self._items and len(batch) < limit:
                    item = self._items.popleft()
                    batch.append(item)
                    deliveries += item.delivery is not None
                left = deadline - time.monotonic()
                if len(batch) >= limit or deliveries >= deliveries_limit or self._closed:
                    return batch
                if left <= 0:
                    return batch
                self._cond.wait(left)


class _LiveMeters:
    """The ingest port between batches: each meter's entry (counter window, newest read, last
    reads, recent arrivals) is kept from one batch to the next, so that a copy arriving in a
    later batch is still a duplicate and a late push still finds its neighbours.

    After a failed batch everything is dropped and reloaded from the store, which then holds
    exactly what was committed.
    """

    def __init__(self, open_store: Callable[[], IngestStore], duplicate_window_s: int) -> None:
        self._open = open_store
        self._keep_s = 2 * duplicate_window_s
        self._inner: IngestStore | None = None
        self._loaded_at = 0.0
        self._entries: dict[bytes, MeterEntry] = {}
        self._pruned_at = time.monotonic()

    def _store(self) -> IngestStore:
        if self._inner is None:
            self._inner = self._open()
            self._loaded_at = time.monotonic()
        return self._inner

    def reset(self) -> None:
        self._inner = None
        self._entries.clear()

    def keys(self, system_title: bytes) -> KeyPair | None:
        title = bytes(system_title)
        found = self._store().keys(title)
        if found is None and time.monotonic() - self._loaded_at > _RELOAD_METERS_S:
            self._inner = None  # perhaps registered since: read the meters again
            found = self._store().keys(title)
        return found

    def meter(self, system_title: bytes) -> MeterEntry | None:
        title = bytes(system_title)
        entry = self._entries.get(title)
        if entry is None and self.keys(title) is not None:
            entry = self._store().meter(title)
            if entry is not None:
                self._entries[title] = entry
        return entry

    def arrivals(self, meter_id: str) -> dict[int, int]:
        return self._store().arrivals(meter_id)

    def read_at(self, meter_id: str, read_at_s: int) -> ReadRow | None:
        return self._store().read_at(meter_id, read_at_s)

    def save(self, batch: IngestBatch) -> None:
        self._store().save(batch)

    def prune(self, now_s: int) -> None:
        """Forget arrivals too old to make a duplicate of anything arriving from now on."""
        if time.monotonic() - self._pruned_at < _PRUNE_S:
            return
        self._pruned_at = time.monotonic()
        oldest = now_s - self._keep_s
        for entry in self._entries.values():
            if entry.first_seen_s and min(entry.first_seen_s.values()) < oldest:
                entry.first_seen_s = {c: t for c, t in entry.first_seen_s.items() if t >= oldest}


class _Abandoned(Exception):
    pass


class Headend:
    """The head-end: TCP and MQTT channels, one writer, counters.

    Args:
        store: The store to write to.
        vault: Unwraps the meters' keys.
        tcp: ``(host, port)`` to listen on for wrapper connections; ``None`` for no TCP.
        mqtt: The MQTT subscription; ``None`` for no MQTT.
        batch_size: Most pushes in one batch (one transaction).
        flush_s: Longest wait for a batch to fill after its first push. [s]
        max_frame_size: Bound on one TCP wrapper frame. [bytes]
        max_backlog: TCP reading pauses while this many pushes wait.
        duplicate_window_s: A copy of a push within this of the first is a duplicate. [s]
        clock: Wall clock for arrival times. [s since the epoch]
        vee_every_s: How often VEE runs over the days of the pushes committed since; ``None``
            for never (``ams vee run`` then). [s]
    """

    def __init__(
        self,
        store: Store,
        vault: KeyVault,
        *,
        tcp: tuple[str, int] | None = (DEFAULT_HOST, DEFAULT_PORT),
        mqtt: MqttSettings | None = None,
        batch_size: int = 1000,
        flush_s: float = 0.2,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_backlog: int = 20_000,
        duplicate_window_s: int = 900,
        clock: Callable[[], float] = time.time,
        vee_every_s: float | None = 300.0,
    ) -> None:
        if batch_size < 1 or not flush_s > 0 or max_backlog < 1:
            raise ValueError("batch_size, flush_s and max_backlog must be positive")
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.max_backlog = max_backlog
        self.duplicate_window_s = duplicate_window_s
        self._clock = clock
        self._meters = _LiveMeters(lambda: SqlIngestStore(store, vault), duplicate_window_s)
        self._queue = _Queue()
        self._lock = threading.Lock()
        self._received = 0
        self._report = IngestReport()
        self._batches = 0
        self._abandon = threading.Event()
        self._writer = threading.Thread(target=self._write, name="openams-writer", daemon=True)
        self._started = self._stopped = False
        self.failure: str | None = None
        self._store = store
        self.vee_every_s = vee_every_s
        self._vee_days: set[date] = set()
        self._vee_runs = self._vee_values = 0
        self._vee_stop = threading.Event()
        self._vee = threading.Thread(target=self._vee_loop, name="openams-vee", daemon=True)
        self.tcp = (
            TcpListener(tcp[0], tcp[1], self._from_tcp, busy=self._busy,
                        max_frame_size=max_frame_size, clock=clock)
            if tcp is not None else None
        )  # fmt: skip
        self.mqtt = MqttSubscriber(mqtt, self._from_mqtt, clock=clock) if mqtt else None

    @property
    def tcp_port(self) -> int | None:
        """The TCP port listened on once started (the one chosen for port 0), else ``None``."""
        if self.tcp is None or not self._started:
            return None
        try:
            return self.tcp.port
        except RuntimeError:  # it failed to start
            return None

    def start(self) -> None:
        """Start the writer, then the channels; returns once they accept pushes.

        Raises:
            HeadendError: the TCP address cannot be listened on, or the broker cannot be used.
        """
        if self._started:
            raise RuntimeError("the head-end was started already")
        self._writer.start()
        if self.vee_every_s is not None:
            self._vee.start()
        self._started = True
        try:
            if self.tcp is not None:
                try:
                    self.tcp.start()
                except OSError as exc:
                    reason = exc.strerror or str(exc) or type(exc).__name__
                    raise HeadendError(
                        f"cannot listen on {self.tcp.host}:{self.tcp.requested_port}: {reason}"
                    ) from exc
            if self.mqtt is not None:
                try:
                    self.mqtt.start()
                except ConnectionError as exc:
                    raise HeadendError(str(exc)) from exc
        except HeadendError:
            self.stop()
            raise

    def stop(self, timeout_s: float = 30.0) -> HeadendStats:
        """Close the channels, commit what was received, acknowledge it, stop. Idempotent.

        TCP connections are closed (meters reconnect to the next head-end); MQTT messages
        arriving meanwhile stay with the broker. If the store cannot take the last batches
        within ``timeout_s``, they are given up: MQTT messages come again at the next start,
        TCP pushes are lost and counted in ``waiting``.

        Returns:
            The final counters.
        """
        if not self._started or self._stopped:
            return self.stats()
        self._stopped = True
        if self.tcp is not None:
            self.tcp.stop()
        if self.mqtt is not None:
            self.mqtt.pause()
        self._queue.close()
        self._writer.join(timeout_s)
        if self._writer.is_alive():
            self._abandon.set()
            self._writer.join(timeout_s)
        if self.mqtt is not None:
            self.mqtt.close()
        self._vee_stop.set()
        if self._vee.is_alive():
            self._vee.join(timeout_s)
        if self.vee_every_s is not None:
            self._run_vee()  # the last pushes validated too
        final = self.stats()
        if final.waiting:
            log.error("stopped with %d pushes not committed", final.waiting)
        return final

    def stats(self) -> HeadendStats:
        """The counters now."""
        with self._lock:
            report = self._report
            done = report.received
            return HeadendStats(
                received=self._received,
                stored=report.stored,
                duplicates=report.duplicates,
                quarantined=dict(report.quarantined),
                waiting=self._received - done,
                acknowledged=self.mqtt.acknowledged if self.mqtt is not None else 0,
                tcp_connections=self.tcp.connections if self.tcp is not None else 0,
                mqtt_state=self._mqtt_state(),
                batches=self._batches,
                vee_runs=self._vee_runs,
                vee_values=self._vee_values,
            )

    def _mqtt_state(self) -> str | None:
        if self.mqtt is None:
            return None
        if self._stopped:
            return "closed"
        return "connected" if self.mqtt.connected else "reconnecting"

    # -- the channels' side (their threads) ---------------------------------------------------

    def _busy(self) -> bool:
        return len(self._queue) >= self.max_backlog

    def _from_tcp(self, push: IncomingPush) -> None:
        if self._queue.put(_Item(push, None)):
            with self._lock:
                self._received += 1
        else:  # after stop: the listener is closed by then, so this does not happen
            log.error("a TCP push arrived after the head-end stopped")

    def _from_mqtt(self, push: IncomingPush, delivery: Delivery) -> bool:
        if not self._queue.put(_Item(push, delivery)):
            return False
        with self._lock:
            self._received += 1
        return True

    # -- the writer's side --------------------------------------------------------------------

    def _write(self) -> None:
        deliveries_limit = self.mqtt.settings.receive_maximum if self.mqtt else self.batch_size
        try:
            while (batch := self._queue.take(self.batch_size, self.flush_s,
                                             deliveries_limit)) is not None:  # fmt: skip
                report = self._commit([item.push for item in batch])
                with self._lock:
                    _add(self._report, report)
                    self._batches += 1
                    if report.first_read_s is not None and report.last_read_s is not None:
                        self._vee_days.update(days_between(report.first_read_s,
                                                           report.last_read_s))  # fmt: skip
                if self.mqtt is not None:
                    self.mqtt.ack(item.delivery for item in batch if item.delivery is not None)
                self._meters.prune(int(self._clock()))
        except _Abandoned:
            log.error("gave up on the batches not committed")
        except Exception as exc:  # the writer thread's top: report it, the entry point exits
            self.failure = f"{type(exc).__name__}: {exc}"
            log.critical("the writer stopped: %s", type(exc).__name__)

    # -- VEE on a schedule ----------------------------------------------------------------------

    def _vee_loop(self) -> None:
        assert self.vee_every_s is not None  # noqa: S101 - only started with a schedule
        while not self._vee_stop.wait(self.vee_every_s):
            self._run_vee()

    def _run_vee(self) -> None:
        with self._lock:
            days, self._vee_days = sorted(self._vee_days), set()
        if not days:
            return
        try:
            report = run_vee(SqlVeeStore(self._store), days, now_s=int(self._clock()))
        except (OperationalError, InterfaceError, PoolTimeoutError):
            log.warning("VEE postponed: the store is away")
            with self._lock:
                self._vee_days.update(days)
            return
        except Exception as exc:  # keep the head-end running; the next run tries again
            log.error("VEE failed: %s", type(exc).__name__)
            return
        with self._lock:
            self._vee_runs += 1
            self._vee_values += report.values
        log.info("VEE of %d day(s): %d values", len(days), report.values)

    def _commit(self, pushes: list[IncomingPush]) -> IngestReport:
        """Ingest and commit ``pushes`` as one transaction, waiting out a database away; a push
        that makes the use case fail is found and quarantined as ``bad_input``."""
        delay_s = 0.5
        while True:
            try:
                return ingest(
                    pushes, self._meters,
                    duplicate_window_s=self.duplicate_window_s, batch_size=len(pushes) + 1,
                )  # fmt: skip
            except _STORE_AWAY as exc:
                self._meters.reset()  # what the failed batch did to the meters is undone
                log.error("the store did not take a batch of %d pushes (%s); again in %.1f s",
                          len(pushes), type(exc).__name__, delay_s)  # fmt: skip
                if self._abandon.wait(delay_s):
                    raise _Abandoned from exc
                delay_s = min(2 * delay_s, 30.0)
            except Exception as exc:  # a push the use case cannot handle: isolate it
                self._meters.reset()
                if len(pushes) > 1:
                    half = len(pushes) // 2
                    report = self._commit(pushes[:half])
                    _add(report, self._commit(pushes[half:]))
                    return report
                if pushes[0].problem is not None:
                    raise  # not even its quarantine can be written
                log.error("a push made ingest fail (%s); quarantined", type(exc).__name__)
                pushes = [replace(pushes[0], problem=f"ingest failed: {type(exc).__name__}")]


def _add(total: IngestReport, report: IngestReport) -> None:
    total.received += report.received
    total.stored += report.stored
    total.events += report.events
    total.duplicates += report.duplicates
    total.intervals += report.intervals
    total.quarantined.update(report.quarantined)
    total.security_events.update(report.security_events)

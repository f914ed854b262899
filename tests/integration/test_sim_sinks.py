"""The simulator's outputs over real loopback sockets and a real MQTT broker, and its pacing.

The TCP head-end here reads each connection with the wire core's ``PushStream`` and decodes
the ciphered pushes with the meters' keys, so "arrived intact" means: same bytes, tag verified.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from openams.dlms import (
    NEED_DATA,
    Ciphering,
    KeyPair,
    MeterReading,
    PushDecoder,
    PushReceived,
    PushRejected,
    PushStream,
    build_notification,
    encode_push,
)
from openams.errors import OpenAMSError
from openams.sim.sinks import (
    MqttSink,
    Pacer,
    SinkError,
    TcpSink,
    parse_endpoint,
    parse_speed,
)

T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
WAIT_S = 5.0


@dataclass(frozen=True)
class Meter:
    meter_id: str
    system_title: bytes
    keys: KeyPair


METERS = (
    Meter(
        "7359992890000011",
        bytes.fromhex("4149440000000011"),
        KeyPair(bytes(range(16)), bytes(range(16, 32))),
    ),
    Meter(
        "7359992890000022",
        bytes.fromhex("4149440000000022"),
        KeyPair(bytes(range(32, 48)), bytes(range(48, 64))),
    ),
    Meter(
        "7359992890000033",
        bytes.fromhex("4149440000000033"),
        KeyPair(bytes(range(64, 80)), bytes(range(80, 96))),
    ),
)
A, B, C = METERS
KEYS = {m.system_title: m.keys for m in METERS}


def make_push(meter: Meter, counter: int) -> bytes:
    """A ciphered List 2 push in wrapper framing; the power tells pushes apart."""
    reading = MeterReading(
        meter_id=meter.meter_id,
        meter_type="6534",
        clock=T0 + timedelta(seconds=10 * counter),
        power_import_w=1000 + counter,
    )
    ciphering = Ciphering(meter.system_title, counter, meter.keys.ek, meter.keys.ak)
    return encode_push(
        build_notification("aidon", 2, reading), framing="wrapper", ciphering=ciphering
    )


def eventually(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline_s = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline_s:
            return False
        time.sleep(0.01)
    return True


def unused_port() -> tuple[socket.socket, int]:
    """A port bound but not listening: connecting to it is refused until the socket closes."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, holder.getsockname()[1]


# -- a TCP head-end on loopback -----------------------------------------------------------------


@dataclass
class Connection:
    pushes: list[PushReceived] = field(default_factory=list)
    rejected: list[PushRejected] = field(default_factory=list)
    ended: bool = False


class HeadEnd:
    """Accepts on 127.0.0.1; decodes each connection's pushes with PushStream + PushDecoder.

    With ``hang_up_after=n`` it closes the first connection once n pushes came on it.
    """

    def __init__(self, *, hang_up_after: int | None = None) -> None:
        self.hang_up_after = hang_up_after
        self.connections: list[Connection] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            record = Connection()
            self.connections.append(record)
            worker = threading.Thread(
                target=self._serve, args=(conn, record, len(self.connections) == 1), daemon=True
            )
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, record: Connection, first: bool) -> None:
        stream = PushStream("wrapper", PushDecoder(keys=KEYS.get))
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    data = b""
                stream.receive_data(data)
                while (event := stream.next_event()) is not NEED_DATA:
                    if isinstance(event, PushReceived):
                        record.pushes.append(event)
                    elif isinstance(event, PushRejected):
                        record.rejected.append(event)
                    else:  # StreamClosed: the last event of a stream
                        break
                if not data:
                    break
                if first and self.hang_up_after == len(record.pushes):
                    break
            record.ended = True  # before the socket closes: the sink waits for that close

    def meter_ids(self) -> list[set[str | None]]:
        return [{p.push.meter_id for p in c.pushes} for c in self.connections]

    def pushes(self) -> int:
        return sum(len(c.pushes) for c in self.connections)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT_S)
        self._listener.close()


@pytest.fixture
def head_end() -> Iterator[Callable[..., HeadEnd]]:
    started: list[HeadEnd] = []

    def start(**kwargs: Any) -> HeadEnd:
        server = HeadEnd(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def test_every_push_arrives_intact_on_one_connection_per_meter(
    head_end: Callable[..., HeadEnd],
) -> None:
    server = head_end()
    sink = TcpSink("127.0.0.1", server.port, timeout_s=WAIT_S)
    sent: dict[str, list[bytes]] = {m.meter_id: [] for m in METERS}
    for counter in range(1, 5):
        for meter in METERS:
            frame = make_push(meter, counter)
            sink.send(T0 + timedelta(seconds=10 * counter), meter.meter_id, frame)
            sent[meter.meter_id].append(frame)
    assert sink.sent == 12
    assert sink.connects == 3
    assert sink.open_connections == 3
    sink.close()

    # close() returns once the head-end has read to the end and hung up
    assert all(c.ended for c in server.connections)
    assert len(server.connections) == 3
    assert sorted(server.meter_ids(), key=str) == [{m.meter_id} for m in METERS]
    for conn in server.connections:
        assert conn.rejected == []
        meter_id = conn.pushes[0].push.meter_id
        assert meter_id is not None
        assert [p.raw for p in conn.pushes] == sent[meter_id]
        assert [p.push.invocation_counter for p in conn.pushes] == [1, 2, 3, 4]
        powers = [p.push.values["1-0:1.7.0.255"][0] for p in conn.pushes]
        assert powers == [1001, 1002, 1003, 1004]


def test_the_least_recently_used_connection_is_closed_beyond_the_limit(
    head_end: Callable[..., HeadEnd],
) -> None:
    server = head_end()
    sink = TcpSink("127.0.0.1", server.port, max_connections=2, timeout_s=WAIT_S)
    # A stays in use, so C displaces B (not A, which a first-in-first-out rule would drop)
    for counter, meter in enumerate((A, B, A, C, A, B), start=1):
        sink.send(T0, meter.meter_id, make_push(meter, counter))
        assert sink.open_connections <= 2
    assert sink.connects == 4
    # the evicted connections (B's first, then C's) were closed by the sink, not by close()
    assert eventually(lambda: len(server.connections) == 4)
    assert eventually(lambda: server.connections[1].ended and server.connections[2].ended)
    assert not server.connections[0].ended
    assert not server.connections[3].ended
    sink.close()

    assert eventually(lambda: server.pushes() == 6)
    assert server.meter_ids() == [{A.meter_id}, {B.meter_id}, {C.meter_id}, {B.meter_id}]
    counters = [[p.push.invocation_counter for p in c.pushes] for c in server.connections]
    assert counters == [[1, 3, 5], [2], [4], [6]]


def test_a_refused_port_raises_sink_error_naming_the_address() -> None:
    holder, port = unused_port()
    with holder:
        sink = TcpSink("127.0.0.1", port, timeout_s=WAIT_S)
        with pytest.raises(SinkError) as caught:
            sink.send(T0, A.meter_id, make_push(A, 1))
    assert str(caught.value) == f"cannot reach the head-end at 127.0.0.1:{port}: connection refused"
    assert caught.value.target == f"127.0.0.1:{port}"
    assert isinstance(caught.value, OpenAMSError)
    assert sink.sent == 0
    sink.close()


def test_after_the_head_end_hangs_up_the_meter_reconnects(head_end: Callable[..., HeadEnd]) -> None:
    server = head_end(hang_up_after=1)
    sink = TcpSink("127.0.0.1", server.port, timeout_s=WAIT_S)
    sink.send(T0, A.meter_id, make_push(A, 1))
    assert eventually(lambda: bool(server.connections) and server.connections[0].ended)
    sink.send(T0, A.meter_id, make_push(A, 2))
    sink.send(T0, A.meter_id, make_push(A, 3))
    sink.close()

    assert sink.sent == 3
    assert sink.connects == 2
    assert eventually(lambda: server.pushes() == 3)
    counters = [[p.push.invocation_counter for p in c.pushes] for c in server.connections]
    assert counters == [[1], [2, 3]]


class Sponge:
    """Accepts on 127.0.0.1; never reads the first connection, reads and counts the others."""

    def __init__(self) -> None:
        self.received_bytes = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        held: list[socket.socket] = []
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not held:
                held.append(conn)
                continue
            reader = threading.Thread(target=self._read, args=(conn,), daemon=True)
            self._threads.append(reader)
            reader.start()
        for conn in held:
            conn.close()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(1 << 22)
                except TimeoutError:
                    continue
                if not data:
                    return
                self.received_bytes += len(data)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT_S)
        self._listener.close()


def test_a_write_that_times_out_is_retried_once_on_a_new_connection() -> None:
    sponge = Sponge()
    try:
        frame = bytes(48 << 20)  # more than loopback buffers hold: the unread write stalls
        sink = TcpSink("127.0.0.1", sponge.port, timeout_s=1.0)
        sink.send(T0, A.meter_id, frame)
        assert sink.sent == 1
        assert sink.connects == 2
        assert eventually(lambda: sponge.received_bytes == len(frame))
        sink.close()
    finally:
        sponge.close()


def test_a_write_that_fails_twice_raises_sink_error() -> None:
    # a listener that never accepts: the kernel completes the handshakes, nobody reads
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        sink = TcpSink("127.0.0.1", port, timeout_s=0.3)
        with pytest.raises(SinkError) as caught:
            sink.send(T0, A.meter_id, bytes(48 << 20))
        assert sink.connects == 2
        assert sink.sent == 0
        sink.close()
    assert str(caught.value) == (
        f"cannot send to the head-end at 127.0.0.1:{port} for meter {A.meter_id}: "
        "timed out after 0.3 s"
    )


def test_tcp_sink_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="port"):
        TcpSink("127.0.0.1", 0)
    with pytest.raises(ValueError, match="max_connections"):
        TcpSink("127.0.0.1", 4059, max_connections=0)
    with pytest.raises(ValueError, match="timeout_s"):
        TcpSink("127.0.0.1", 4059, timeout_s=0)


# -- MQTT ---------------------------------------------------------------------------------------


@pytest.fixture
def broker_url() -> str:
    """The test broker's URL; the test fails if a configured broker is missing."""
    configured = os.environ.get("OPENAMS_TEST_MQTT_URL")
    parts = urlsplit(configured or "mqtt://127.0.0.1:1883")
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    try:
        socket.create_connection((host, port), timeout=2.0).close()
    except OSError:
        if configured:
            pytest.fail(f"OPENAMS_TEST_MQTT_URL is set but no broker answers at {host}:{port}")
        pytest.skip(f"no MQTT broker at {host}:{port}; set OPENAMS_TEST_MQTT_URL")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


class Subscriber:
    """A paho client subscribed (QoS 1) to a topic filter, collecting what it receives."""

    def __init__(self, url: str, topic_filter: str) -> None:
        parts = urlsplit(url)
        self.messages: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if parts.username is not None:
            self._client.username_pw_set(parts.username, parts.password)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _c, _u, msg: self.messages.append(
            (msg.topic, bytes(msg.payload))
        )
        self._client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self._client.loop_start()
        self._client.subscribe(topic_filter, qos=1)
        assert self._subscribed.wait(WAIT_S), "no SUBACK from the broker"

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.mark.mqtt
def test_mqtt_publishes_each_push_to_its_meters_topic(broker_url: str) -> None:
    prefix = f"openams/test-{secrets.token_hex(6)}"
    subscriber = Subscriber(broker_url, f"{prefix}/#")
    try:
        sink = MqttSink(f"{broker_url}/{prefix}", timeout_s=WAIT_S)
        assert sink.topic_prefix == prefix
        sent: dict[str, list[bytes]] = {m.meter_id: [] for m in METERS}
        for counter in range(1, 4):
            for meter in METERS:
                frame = make_push(meter, counter)
                sink.send(T0, meter.meter_id, frame)
                sent[meter.meter_id].append(frame)
        sink.close()
        assert sink.acknowledged == sink.sent == 9

        assert eventually(lambda: len(subscriber.messages) == 9)
        received: dict[str, list[bytes]] = {}
        for topic, payload in subscriber.messages:
            received.setdefault(topic, []).append(payload)
        assert received == {f"{prefix}/{m}": frames for m, frames in sent.items()}
    finally:
        subscriber.close()


@pytest.mark.mqtt
def test_mqtt_close_returns_only_once_every_publish_is_acknowledged(broker_url: str) -> None:
    prefix = f"openams/test-{secrets.token_hex(6)}"
    sink = MqttSink(f"{broker_url}/{prefix}", timeout_s=WAIT_S, max_in_flight=50)
    frame = make_push(A, 1)
    for _ in range(500):
        sink.send(T0, A.meter_id, frame)
    sink.close()
    assert sink.sent == 500
    assert sink.acknowledged == 500


def test_mqtt_unreachable_broker_raises_sink_error() -> None:
    holder, port = unused_port()
    with holder, pytest.raises(SinkError) as caught:
        MqttSink(f"mqtt://127.0.0.1:{port}", timeout_s=WAIT_S)
    assert str(caught.value) == (
        f"cannot reach the MQTT broker at 127.0.0.1:{port}: connection refused"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:1883", "must look like mqtt://host"),
        ("mqtt://", "must look like mqtt://host"),
        ("mqtt://127.0.0.1:1883?x=1", "must look like mqtt://host"),
        ("127.0.0.1:1883", "must look like mqtt://host"),
        ("mqtt://127.0.0.1:70000", "bad port"),
        ("mqtt://127.0.0.1/a/#", "must not contain"),
    ],
)
def test_mqtt_bad_urls_raise_value_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MqttSink(url)


def _take_packet(buf: bytearray) -> tuple[int, bytes] | None:
    """One MQTT control packet off the front of ``buf``: (first byte, variable part)."""
    length, shift, pos = 0, 0, 1
    while True:
        if pos >= len(buf):
            return None
        length |= (buf[pos] & 0x7F) << shift
        shift += 7
        pos += 1
        if not buf[pos - 1] & 0x80:
            break
    if len(buf) < pos + length:
        return None
    packet = (buf[0], bytes(buf[pos : pos + length]))
    del buf[: pos + length]
    return packet


class HoldingBroker:
    """Just enough MQTT 3.1.1 for one client; PUBACKs are held back until ``release`` is set."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []
        self.release = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.02)
        buf = bytearray()
        held: list[bytes] = []
        while not self._stop.is_set():
            if self.release.is_set() and held:
                conn.sendall(b"".join(b"\x40\x02" + mid for mid in held))
                held.clear()
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            buf += data
            while (packet := _take_packet(buf)) is not None:
                kind, body = packet
                if kind >> 4 == 1:  # CONNECT -> CONNACK, accepted
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind >> 4 == 3:  # PUBLISH, QoS 1: topic, packet id, payload
                    n = int.from_bytes(body[:2], "big")
                    self.published.append((body[2 : 2 + n].decode(), body[4 + n :]))
                    held.append(body[2 + n : 4 + n])
                elif kind >> 4 == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
                elif kind >> 4 == 14:  # DISCONNECT
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        self._listener.close()


@pytest.fixture
def holding_broker() -> Iterator[HoldingBroker]:
    broker = HoldingBroker()
    yield broker
    broker.close()


def test_mqtt_close_waits_for_the_acknowledgements(holding_broker: HoldingBroker) -> None:
    sink = MqttSink(f"mqtt://127.0.0.1:{holding_broker.port}/p", timeout_s=WAIT_S)
    frames = [make_push(m, 1) for m in METERS]
    for meter, frame in zip(METERS, frames, strict=True):
        sink.send(T0, meter.meter_id, frame)
    assert eventually(lambda: len(holding_broker.published) == 3)
    assert holding_broker.published == [
        (f"p/{m.meter_id}", f) for m, f in zip(METERS, frames, strict=True)
    ]

    closer = threading.Thread(target=sink.close, daemon=True)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "close() returned while three publishes were unacknowledged"
    assert sink.acknowledged == 0
    holding_broker.release.set()
    closer.join(WAIT_S)
    assert not closer.is_alive()
    assert sink.acknowledged == 3


def test_mqtt_in_flight_messages_are_bounded_and_close_reports_the_unacknowledged(
    holding_broker: HoldingBroker,
) -> None:
    sink = MqttSink(f"mqtt://127.0.0.1:{holding_broker.port}", timeout_s=0.3, max_in_flight=2)
    sink.send(T0, A.meter_id, b"\x01")
    sink.send(T0, B.meter_id, b"\x02")
    with pytest.raises(SinkError, match=r"acknowledged none of the last 2 pushes within 0\.3 s"):
        sink.send(T0, C.meter_id, b"\x03")
    assert sink.sent == 2
    assert eventually(lambda: len(holding_broker.published) == 2)
    assert holding_broker.published[0] == (f"openams/push/{A.meter_id}", b"\x01")
    with pytest.raises(SinkError) as caught:
        sink.close()
    assert str(caught.value) == (
        f"the MQTT broker at 127.0.0.1:{holding_broker.port} did not acknowledge 2 of 2 "
        "pushes within 0.3 s"
    )


@pytest.mark.parametrize("meter_id", ["", "a/b", "a+", "a#"])
def test_mqtt_meter_ids_must_be_one_topic_level(
    holding_broker: HoldingBroker, meter_id: str
) -> None:
    sink = MqttSink(f"mqtt://127.0.0.1:{holding_broker.port}", timeout_s=WAIT_S)
    try:
        with pytest.raises(ValueError, match="one MQTT topic level"):
            sink.send(T0, meter_id, b"\x00")
        assert sink.sent == 0
    finally:
        sink.close()


# -- pacing -------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self, now_s: float = 1000.0) -> None:
        self.now_s = now_s
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now_s

    def sleep(self, duration_s: float) -> None:
        self.sleeps.append(duration_s)
        self.now_s += duration_s


def test_pacer_releases_each_push_at_origin_plus_simulated_time_over_speed() -> None:
    fake = FakeTime()
    pacer = Pacer(60.0, T0, clock=fake.clock, sleep=fake.sleep)
    pacer.wait_until(T0)  # the first call fixes the origin at 1000 s
    assert fake.sleeps == []
    fake.now_s += 0.25  # work done between pushes
    pacer.wait_until(T0 + timedelta(minutes=1))  # due at 1001 s
    assert fake.sleeps == [pytest.approx(0.75)]
    pacer.wait_until(T0 + timedelta(seconds=30))  # already past: no sleep
    assert len(fake.sleeps) == 1
    fake.now_s = 1010.0  # fell behind: push at 1002 s is released at once
    pacer.wait_until(T0 + timedelta(minutes=2))
    assert len(fake.sleeps) == 1
    pacer.wait_until(T0 + timedelta(minutes=11))  # due at 1011 s, not 1010 + 1
    assert fake.sleeps[-1] == pytest.approx(1.0)
    assert fake.now_s == pytest.approx(1011.0)


def test_pacer_first_call_later_than_start_waits_for_the_offset() -> None:
    fake = FakeTime()
    pacer = Pacer(2.0, T0, clock=fake.clock, sleep=fake.sleep)
    pacer.wait_until(T0 + timedelta(seconds=10))
    assert fake.sleeps == [pytest.approx(5.0)]


def test_pacer_at_max_speed_never_sleeps() -> None:
    fake = FakeTime()
    pacer = Pacer(None, T0, clock=fake.clock, sleep=fake.sleep)
    for hours in range(5):
        pacer.wait_until(T0 + timedelta(hours=hours))
    assert fake.sleeps == []


@pytest.mark.parametrize("speed", [0.0, -1.0, float("inf"), float("nan")])
def test_pacer_rejects_speeds_that_are_not_positive_and_finite(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        Pacer(speed, T0)


def test_pacer_real_clock_short_run() -> None:
    pacer = Pacer(100.0, T0)  # 10 simulated seconds take 0.1 s
    offsets_s = [0.0, 5.0, 10.0, 20.0]
    started_s = time.monotonic()
    elapsed_s = []
    for offset_s in offsets_s:
        pacer.wait_until(T0 + timedelta(seconds=offset_s))
        elapsed_s.append(time.monotonic() - started_s)
    for offset_s, took_s in zip(offsets_s, elapsed_s, strict=True):
        assert took_s >= offset_s / 100 - 0.002
    assert elapsed_s[-1] < 1.0


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speed"),
    [
        ("realtime", 1.0),
        ("RealTime", 1.0),
        ("x60", 60.0),
        ("60x", 60.0),
        (" x3600 ", 3600.0),
        ("x1", 1.0),
        ("x0.5", 0.5),
        ("2.5x", 2.5),
        ("max", None),
        ("MAX", None),
    ],
)
def test_parse_speed_accepts(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize(
    "text", ["", "60", "x", "x0", "0x", "x-5", "x60x", "fast", "x1e3", "xinf", "x 60", "60 x"]
)
def test_parse_speed_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"'realtime', 'max' or .* 'x60' or '60x'; got"):
        parse_speed(text)


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [
        ("127.0.0.1:4059", ("127.0.0.1", 4059)),
        ("localhost:1", ("localhost", 1)),
        ("headend.example.net:65535", ("headend.example.net", 65535)),
        ("[::1]:4059", ("::1", 4059)),
    ],
)
def test_parse_endpoint_accepts(text: str, endpoint: tuple[str, int]) -> None:
    assert parse_endpoint(text) == endpoint


@pytest.mark.parametrize(
    "text",
    ["4059", ":4059", "host:", "host:abc", "host: 4059", "::1:4059", "[]:4059", "a b:1", "h:+1"],
)
def test_parse_endpoint_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_endpoint(text)


@pytest.mark.parametrize("text", ["host:0", "host:65536"])
def test_parse_endpoint_rejects_ports_out_of_range(text: str) -> None:
    with pytest.raises(ValueError, match="1 to 65535"):
        parse_endpoint(text)

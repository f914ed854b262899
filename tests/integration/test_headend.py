"""The head-end on the network: the simulator pushes a day of 30 meters over TCP and MQTT, the
head-end ingests it, and the store holds the same register reads as ``ams ingest`` of the same
day from a file. A head-end killed mid-stream loses no MQTT message and stores none twice;
garbage on one TCP connection is quarantined and the others go on.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from openams.cli import main
from openams.dlms import WrapperFrame, unframe
from openams.headend import Garbage, Headend, MqttSettings, WrapperSplitter
from openams.keyvault import KeyVault
from openams.services.vee import local_day_bounds
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.store import open_store

from .test_sim_sinks import broker_url  # noqa: F401 - the broker fixture

KEK = bytes(range(7, 39))
DAY = ["--from", "2026-03-02", "--days", "1"]
WAIT_S = 30.0
# ``ams`` with ``serve`` registered, whether or not the command group has it yet
SERVE = (
    "import sys; from openams.cli import cli, main; from openams.cli.serve import serve_command;"
    " cli.add_command(serve_command); sys.exit(main(sys.argv[1:]))"
)


Start = Callable[..., Headend]


def eventually(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline_s = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline_s:
            return False
        time.sleep(0.02)
    return True


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    store = open_store(url, migrate=False)
    try:
        with store.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        store.close()


def _reads(url: str) -> list[tuple[str, int]]:
    return sorted(_query(url, "SELECT meter_id, read_at_s FROM register_reads"))


def _arrived(out: str) -> int:
    # "30 meters sent ... ; N arrived in ..."
    return int(out.split(" arrived in ")[0].rsplit(" ", 1)[1].replace(",", ""))


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thirty meters, and the day's pushes as ``ams sim run --out`` writes them."""
    folder = tmp_path_factory.mktemp("headend")
    write_grid(build_grid(meters=30, area="NO5", seed=21), folder / "grid")
    code = main(["sim", "run", "--grid", str(folder / "grid"), *DAY,
                 "--out", str(folder / "pushes.jsonl"), "--quiet"])  # fmt: skip
    assert code == 0
    return folder


@pytest.fixture(scope="module")
def reference(estate: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int]]:
    """The register reads of ``ams ingest`` of the day's file: what the network must give."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'reference.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAMS_KEK", KEK.hex())
        assert main(["meters", "import", str(estate / "grid"), "--db", url]) == 0
        assert main(["ingest", str(estate / "pushes.jsonl"), "--db", url, "--quiet"]) == 0
    reads = _reads(url)
    assert len(reads) > 30 * 23
    return reads


@pytest.fixture
def imported(estate: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``store_url`` with the estate's meters registered."""
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    assert main(["meters", "import", str(estate / "grid"), "--db", store_url]) == 0
    return store_url


@pytest.fixture
def running() -> Iterator[Start]:
    """Starts head-ends on the given store; stops them and closes the store afterwards."""
    started = []

    def start(url: str, **kwargs: Any) -> Headend:
        store = open_store(url)
        headend = Headend(store, KeyVault(KEK), **kwargs)
        started.append((headend, store))
        headend.start()
        return headend

    yield start
    for headend, store in started:
        headend.stop()
        store.close()


def _forget_session(url: str, client_id: str) -> None:
    """Drop a persistent session (and the messages it holds) from the broker."""
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, clean_start=True,
                   properties=properties)  # fmt: skip
    client.loop_start()
    connected.wait(5.0)
    client.disconnect()
    client.loop_stop()


def _pushes(estate: Path) -> list[tuple[str, bytes]]:
    """The day's pushes (meter id, frame) in arrival order."""
    with (estate / "pushes.jsonl").open() as fh:
        records = [json.loads(line) for line in fh]
    return [(r["meter_id"], bytes.fromhex(r["hex"])) for r in records]


# -- TCP ------------------------------------------------------------------------------------


def test_tcp_a_day_of_pushes_is_stored_as_from_the_file(
    estate: Path,
    imported: str,
    reference: list[tuple[str, int]],
    running: Start,
    capsys: pytest.CaptureFixture[str],
) -> None:
    headend = running(imported, tcp=("127.0.0.1", 0))
    capsys.readouterr()
    code = main(["sim", "run", "--grid", str(estate / "grid"), *DAY,
                 "--tcp", f"127.0.0.1:{headend.tcp_port}", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    arrived = _arrived(out)
    assert eventually(lambda: headend.stats().received >= arrived)
    stats = headend.stop()

    assert stats.received == arrived > 30 * 23
    assert stats.waiting == 0
    assert stats.received == stats.stored + stats.duplicates + stats.quarantined_total
    assert stats.quarantined_total == 0
    assert _reads(imported) == reference
    stored_rows = _query(imported, "SELECT (SELECT count(*) FROM register_reads) "
                                   "+ (SELECT count(*) FROM events)")  # fmt: skip
    assert stored_rows == [(stats.stored,)]


def _wrapped(frame: bytes) -> bytes:
    """A push of the file (HDLC) as a meter sends it over TCP (wrapper)."""
    _, apdu = unframe(frame)
    return WrapperFrame(1, 1, apdu).to_bytes()


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"\xde\xad" + bytes(range(256)) * 3, "not a wrapper frame"),
        (b"\x00\x01\x00\x01\x00\x01\xff\xff" + bytes(100), "over the bound"),
    ],
    ids=["bad-header", "over-the-bound"],
)
def test_tcp_garbage_is_quarantined_and_the_server_goes_on(
    estate: Path, imported: str, running: Start, garbage: bytes, reason: str
) -> None:
    headend = running(imported, tcp=("127.0.0.1", 0))
    pushes = [_wrapped(frame) for _, frame in _pushes(estate)[:3]]
    address = ("127.0.0.1", headend.tcp_port)
    with socket.create_connection(address, timeout=5) as good, \
            socket.create_connection(address, timeout=5) as bad:  # fmt: skip
        good.sendall(pushes[0])
        bad.sendall(garbage)
        assert bad.recv(1) == b""  # the head-end hung up on the garbage
        good.sendall(pushes[1][:20])  # a push in two pieces, as TCP may cut it
        time.sleep(0.05)
        good.sendall(pushes[1][20:])
        with socket.create_connection(address, timeout=5) as later:
            later.sendall(pushes[2])
            assert eventually(lambda: headend.stats().received == 4)
            assert eventually(lambda: headend.stats().waiting == 0)
        stats = headend.stats()
        assert stats.tcp_connections >= 1  # the good connection is still open
    assert stats.stored == 3
    assert dict(stats.quarantined) == {"bad_input": 1}
    [(channel, source, quarantined_reason, message, raw)] = _query(
        imported, "SELECT channel, source, reason, message, raw FROM quarantine"
    )
    assert (channel, quarantined_reason) == ("tcp", "bad_input")
    assert source.startswith("127.0.0.1:")
    assert reason in message
    assert bytes(raw) == garbage
    assert len(_reads(imported)) == 3


def test_a_connection_ending_inside_a_frame_is_quarantined(
    estate: Path, imported: str, running: Start
) -> None:
    headend = running(imported, tcp=("127.0.0.1", 0))
    push = _wrapped(_pushes(estate)[0][1])
    with socket.create_connection(("127.0.0.1", headend.tcp_port), timeout=5) as meter:
        meter.sendall(push + push[:30])
    assert eventually(lambda: headend.stats().received == 2)
    stats = headend.stop()
    assert (stats.stored, dict(stats.quarantined)) == (1, {"bad_input": 1})
    [(message, raw)] = _query(imported, "SELECT message, raw FROM quarantine")
    assert "ended inside a wrapper frame" in message
    assert bytes(raw) == push[:30]


def test_wrapper_splitter_cuts_frames_byte_by_byte() -> None:
    frames = [WrapperFrame(1, 1, bytes([n]) * (10 + n)).to_bytes() for n in range(5)]
    splitter = WrapperSplitter(max_frame_size=64)
    out: list[bytes | Garbage] = []
    for byte in b"".join(frames):
        splitter.receive_data(bytes([byte]))
        while (item := splitter.next_frame()) is not None:
            out.append(item)
    assert out == frames
    assert splitter.end() is None
    splitter.receive_data(WrapperFrame(1, 1, bytes(100)).to_bytes())
    item = splitter.next_frame()
    assert isinstance(item, Garbage)
    assert "over the bound of 64" in item.reason
    assert len(item.raw) == 64
    splitter.receive_data(frames[0])
    assert splitter.next_frame() is None  # out of step: nothing more comes out


# -- MQTT -----------------------------------------------------------------------------------


@pytest.fixture
def session(broker_url: str) -> Iterator[tuple[str, str, str]]:  # noqa: F811
    """A fresh topic prefix and client id; the broker forgets the session afterwards."""
    token = secrets.token_hex(6)
    client_id = f"openams-test-{token}"
    yield broker_url, f"openams/test-{token}", client_id
    _forget_session(broker_url, client_id)


@pytest.mark.mqtt
def test_mqtt_a_day_of_pushes_is_stored_as_from_the_file(
    estate: Path,
    imported: str,
    reference: list[tuple[str, int]],
    running: Start,
    session: tuple[str, str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, prefix, client_id = session
    settings = MqttSettings(f"{url}/{prefix}", client_id=client_id, session_expiry_s=300)
    assert settings.subscription == f"{prefix}/#"
    headend = running(imported, tcp=None, mqtt=settings)
    capsys.readouterr()
    code = main(["sim", "run", "--grid", str(estate / "grid"), *DAY,
                 "--mqtt", f"{url}/{prefix}", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    arrived = _arrived(out)
    assert eventually(lambda: headend.stats().acknowledged >= arrived)
    stats = headend.stop()

    assert stats.received == stats.acknowledged == arrived > 30 * 23
    assert stats.waiting == 0
    assert stats.received == stats.stored + stats.duplicates + stats.quarantined_total
    assert stats.quarantined_total == 0
    assert _reads(imported) == reference


@pytest.mark.mqtt
def test_mqtt_a_message_is_acknowledged_only_once_committed(
    estate: Path, estate_db: str, running: Start, session: tuple[str, str, str]
) -> None:
    """The database is locked for a while: the messages wait unacknowledged, then go in."""
    url, prefix, client_id = session
    settings = MqttSettings(f"{url}/{prefix}", client_id=client_id, session_expiry_s=300)
    headend = running(estate_db, tcp=None, mqtt=settings)
    pushes = _pushes(estate)[:5]
    blocker = open_store(estate_db, migrate=False)
    try:
        with blocker.engine.connect() as connection:
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
            _publish(url, [(f"{prefix}/{meter_id}", frame) for meter_id, frame in pushes])
            assert eventually(lambda: headend.stats().received == 5)
            time.sleep(0.5)  # several flush intervals: the writer is held up by the lock
            held = headend.stats()
            connection.exec_driver_sql("ROLLBACK")
    finally:
        blocker.close()
    assert (held.waiting, held.acknowledged, held.stored) == (5, 0, 0)
    assert eventually(lambda: headend.stats().acknowledged == 5)
    assert headend.stats().stored == 5
    assert len(_reads(estate_db)) == 5


@pytest.fixture
def estate_db(estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store with the estate's meters (a lock can be held on it)."""
    url = f"sqlite:///{tmp_path / 'openams.db'}"
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    assert main(["meters", "import", str(estate / "grid"), "--db", url]) == 0
    return url


def _publish(url: str, messages: list[tuple[str, bytes]], pause_s: float = 0.0) -> None:
    """Publish with QoS 1 and wait until the broker has acknowledged every message."""
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(100)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        infos = []
        for topic, payload in messages:
            infos.append(client.publish(topic, payload, qos=1))
            if pause_s:
                time.sleep(pause_s)
        for info in infos:
            info.wait_for_publish(WAIT_S)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


class _Served:
    """``ams serve`` in a child process, its output read line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout_s: float = WAIT_S) -> str:
        deadline_s = time.monotonic() + timeout_s
        while (left_s := deadline_s - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left_s)
            except queue.Empty:
                break
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; output: {''.join(self.output)}")

    def end(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(WAIT_S)
        self._reader.join(WAIT_S)
        return code

    def kill(self) -> None:
        """Kill it if it still runs; release its pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT_S)
        self._reader.join(WAIT_S)
        assert self.process.stdout is not None
        self.process.stdout.close()


def _counts(url: str) -> tuple[int, ...]:
    counts = (
        "SELECT (SELECT count(*) FROM register_reads), (SELECT count(*) FROM events), "
        "(SELECT count(*) FROM quarantine)"
    )
    return _query(url, counts)[0]


@pytest.mark.mqtt
def test_mqtt_a_killed_headend_loses_nothing_and_stores_nothing_twice(
    estate: Path, imported: str, reference: list[tuple[str, int]], session: tuple[str, str, str]
) -> None:
    url, prefix, client_id = session
    pushes = _pushes(estate)
    env = {**os.environ, "OPENAMS_KEK": KEK.hex(), "PYTHONUNBUFFERED": "1"}
    args = ["--db", imported, "--tcp", "off", "--mqtt", f"{url}/{prefix}",
            "--mqtt-client-id", client_id]  # fmt: skip
    first = _Served(args, env)
    try:
        first.wait_for("subscribed to")
        publisher = threading.Thread(
            target=_publish, args=(url, [(f"{prefix}/{m}", f) for m, f in pushes], 0.002)
        )
        publisher.start()
        # kill it while it is busy: some batches in, messages in flight
        assert eventually(lambda: _counts(imported)[0] >= 100)
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(WAIT_S) == -signal.SIGKILL
        partial = _counts(imported)[0]
        publisher.join(WAIT_S)  # the broker keeps the rest for the head-end's session
        assert not publisher.is_alive()
    finally:
        first.kill()
    assert 0 < partial < len(reference)

    second = _Served(args, env)
    try:
        second.wait_for("subscribed to")
        assert eventually(lambda: _counts(imported)[0] >= len(reference))
        time.sleep(1.0)  # whatever else was coming has come
        assert second.end(signal.SIGTERM) == 0, "".join(second.output)
    finally:
        second.kill()
    last = second.output[-1]
    assert last.startswith("stopped; pushes:"), last
    assert " 0 waiting" in last
    assert _reads(imported) == reference  # nothing lost, nothing twice
    assert _counts(imported) == (len(reference), 0, 0)


@pytest.mark.mqtt
def test_mqtt_committed_but_unacknowledged_messages_come_again_as_duplicates(
    estate: Path,
    estate_db: str,
    running: Start,
    session: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A head-end that dies after a commit and before its acknowledgements (here: one that
    never acknowledges): the broker sends the messages again, none is stored twice."""
    url, prefix, client_id = session
    settings = MqttSettings(f"{url}/{prefix}", client_id=client_id, session_expiry_s=300)
    first = running(estate_db, tcp=None, mqtt=settings)
    assert first.mqtt is not None
    monkeypatch.setattr(first.mqtt, "ack", lambda deliveries: 0)
    _publish(url, [(f"{prefix}/{meter_id}", frame) for meter_id, frame in _pushes(estate)[:20]])
    assert eventually(lambda: first.stats().received == 20 and first.stats().waiting == 0)
    assert first.stop().stored == 20

    second = running(estate_db, tcp=None, mqtt=settings)
    assert eventually(lambda: second.stats().acknowledged == 20)
    stats = second.stop()
    assert (stats.received, stats.stored, stats.duplicates) == (20, 0, 20)
    assert len(_reads(estate_db)) == 20


def test_vee_runs_on_a_schedule_over_the_days_received(
    estate: Path, imported: str, running: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    headend = running(imported, tcp=("127.0.0.1", 0), vee_every_s=0.2)
    capsys.readouterr()
    code = main(["sim", "run", "--grid", str(estate / "grid"), *DAY,
                 "--tcp", f"127.0.0.1:{headend.tcp_port}", "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    arrived = _arrived(out)
    assert eventually(lambda: headend.stats().received >= arrived)
    assert eventually(lambda: headend.stats().vee_runs >= 1)
    stats = headend.stop()
    assert stats.vee_values > 0
    assert "vee: " in stats.line()
    # every interval of the local day has a value with a status, none left missing
    day = date.fromisoformat(DAY[1])
    start_s, end_s = local_day_bounds(day)
    steps = dict(_query(imported, "SELECT metering_point_id, push_interval_s FROM meters"))
    assert len(steps) == 30
    counts = dict(_query(imported, "SELECT metering_point_id, count(*) FROM interval_values "  # noqa: S608
                                   f"WHERE start_at_s >= {start_s} AND start_at_s < {end_s} "
                                   "GROUP BY metering_point_id"))  # fmt: skip
    assert counts == {mp: (end_s - start_s) // step for mp, step in steps.items()}
    statuses = {s for (s,) in _query(imported, "SELECT DISTINCT status FROM interval_values "  # noqa: S608
                                               f"WHERE start_at_s >= {start_s} "
                                               f"AND start_at_s < {end_s}")}  # fmt: skip
    assert "missing" not in statuses
    assert "measured" in statuses

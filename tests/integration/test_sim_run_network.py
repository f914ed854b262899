"""``ams sim run --tcp`` and ``--mqtt``: a small fleet pushing to a head-end on loopback and
to the real MQTT broker, every push arriving intact and decodable."""

from __future__ import annotations

import csv
import secrets
import socket
import threading
import time
from collections import Counter

import pytest

from openams.cli import main
from openams.dlms import (
    NEED_DATA,
    KeyPair,
    PushDecoder,
    PushReceived,
    PushStream,
    StreamClosed,
)
from openams.sim import build_grid
from openams.sim.csvio import write_grid

from .test_sim_sinks import Subscriber, broker_url  # noqa: F401 - the broker fixture

WAIT_S = 10.0


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small") / "grid"
    write_grid(build_grid(meters=25, area="NO3", seed=5), folder)
    with (folder / "meters.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = {
        bytes.fromhex(r["system_title"]): KeyPair(bytes.fromhex(r["ek"]), bytes.fromhex(r["ak"]))
        for r in rows
    }
    return folder, keys, {r["meter_id"] for r in rows}


class HeadEnd:
    """Accepts wrapper connections on 127.0.0.1 and decodes what arrives on each."""

    def __init__(self, keys: dict[bytes, KeyPair]) -> None:
        self.keys = keys
        self.pushes: list[PushReceived] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        stream = PushStream("wrapper", PushDecoder(keys=self.keys.get))
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                stream.receive_data(data)
                while (event := stream.next_event()) is not NEED_DATA:
                    if isinstance(event, StreamClosed):
                        return
                    if isinstance(event, PushReceived):
                        with self._lock:
                            self.pushes.append(event)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT_S)
        self._listener.close()


def _summary_count(out: str) -> int:
    # "... pushes; N arrived in ..."
    return int(out.split(" arrived in ")[0].rsplit(" ", 1)[1].replace(",", ""))


def test_tcp_every_push_reaches_the_head_end(small, tmp_path, capsys):
    folder, keys, meter_ids = small
    head_end = HeadEnd(keys)
    try:
        code = main(["sim", "run", "--grid", str(folder), "--from", "2026-03-02", "--days", "1",
                     "--tcp", f"127.0.0.1:{head_end.port}", "--quiet"])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0, out
        sent = _summary_count(out)
        deadline = time.monotonic() + WAIT_S
        while len(head_end.pushes) < sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        head_end.close()
    assert len(head_end.pushes) == sent > 25 * 24
    assert {p.push.meter_id for p in head_end.pushes} == meter_ids
    assert head_end.connections == len(meter_ids)  # each meter its own connection
    assert all(p.push.security == "auth+enc" for p in head_end.pushes)


def test_tcp_head_end_away_is_a_clear_error(small, capsys):
    folder, _, _ = small
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["sim", "run", "--grid", str(folder), "--from", "2026-03-02", "--days", "1",
                 "--tcp", f"127.0.0.1:{port}", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"127.0.0.1:{port}" in err
    assert "Traceback" not in err


@pytest.mark.mqtt
def test_mqtt_every_push_on_its_meters_topic(small, broker_url, capsys):  # noqa: F811
    folder, keys, meter_ids = small
    prefix = f"openams/test-{secrets.token_hex(6)}"
    subscriber = Subscriber(broker_url, f"{prefix}/#")
    try:
        code = main(["sim", "run", "--grid", str(folder), "--from", "2026-03-02", "--days", "1",
                     "--mqtt", f"{broker_url}/{prefix}", "--quiet"])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0, out
        sent = _summary_count(out)
        deadline = time.monotonic() + WAIT_S
        while len(subscriber.messages) < sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        subscriber.close()
    assert len(subscriber.messages) == sent
    decoder = PushDecoder(keys=keys.get)
    topics = Counter()
    for topic, payload in subscriber.messages:
        push = decoder.decode(payload)
        assert topic == f"{prefix}/{push.meter_id}"
        topics[topic] += 1
    assert {t.rsplit("/", 1)[1] for t in topics} == meter_ids


def test_realtime_speed_paces_the_pushes(small, tmp_path, capsys):
    """At x3600 an hour of pushes takes about a second of wall time, not less."""
    folder, keys, _ = small
    head_end = HeadEnd(keys)
    began = time.monotonic()
    try:
        code = main(["sim", "run", "--grid", str(folder), "--from", "2026-03-02", "--days", "1",
                     "--tcp", f"127.0.0.1:{head_end.port}", "--speed", "x43200",
                     "--quiet"])  # fmt: skip
    finally:
        head_end.close()
    elapsed = time.monotonic() - began
    assert code == 0, capsys.readouterr()
    assert elapsed >= 1.5  # a day at 43,200x is two seconds of pacing

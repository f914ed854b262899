"""Where the simulated fleet's pushes go over the network, and how fast: TCP or MQTT.

A sink takes pushes one at a time, in send order, from a single thread::

    pacer = Pacer(parse_speed("x60"), start_at)
    sink = TcpSink(*parse_endpoint("127.0.0.1:4059"))
    for at, meter_id, frame in pushes:
        pacer.wait_until(at)
        sink.send(at, meter_id, frame)
    sink.close()

Invariants:
    * A sink never drops a push silently: :meth:`PushSink.send` either hands the frame on or
      raises :class:`SinkError`, and :meth:`PushSink.close` raises when pushes it accepted may
      not have arrived (a broker that did not acknowledge them).
    * Everything a sink holds is bounded: :class:`TcpSink` keeps at most ``max_connections``
      sockets, :class:`MqttSink` at most ``max_in_flight`` unacknowledged messages.
    * Errors for users are :class:`SinkError` with a one-line message naming the target;
      ``ValueError`` is only for bad arguments (a malformed URL, a negative timeout).

References:
    IEC 62056-47 (DLMS/COSEM over TCP: the wrapper frames :class:`TcpSink` carries).
    OASIS MQTT Version 3.1.1, clauses 3.3 (PUBLISH) and 4.3.2 (QoS 1 delivery).
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import selectors
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from openams.errors import OpenAMSError

__all__ = [
    "DEFAULT_MQTT_PORT",
    "DEFAULT_MQTT_PREFIX",
    "MqttSink",
    "Pacer",
    "PushSink",
    "SinkError",
    "TcpSink",
    "parse_endpoint",
    "parse_speed",
]

#: The MQTT port when the URL names none.
DEFAULT_MQTT_PORT = 1883
#: The topic prefix when the MQTT URL has no path; pushes go to ``{prefix}/{meter_id}``.
DEFAULT_MQTT_PREFIX = "openams/push"


class SinkError(OpenAMSError):
    """A push could not be delivered to its target.

    Attributes:
        target: What was being written to, as ``host:port``.
    """

    code = "sink_failed"

    def __init__(self, message: str, *, target: str) -> None:
        self.target = target
        super().__init__(message)


class PushSink(Protocol):
    """Where pushes go. One thread calls it, in send order.

    Attributes:
        sent: Pushes accepted so far.
    """

    sent: int

    def send(self, at: datetime, meter_id: str, frame: bytes) -> None:
        """Deliver one push.

        Args:
            at: When the meter sends it (simulated time); aware.
            meter_id: The meter's identifier.
            frame: The push exactly as it goes on the wire (framed, ciphered).

        Raises:
            SinkError: the target cannot be reached or written to.
        """

    def close(self) -> None:
        """Flush, wait for acknowledgements where the transport has them, release everything.

        Raises:
            SinkError: pushes already accepted may not have arrived.
        """


# -- arguments ----------------------------------------------------------------------------------

_SPEED = re.compile(r"x(?P<pre>\d+(?:\.\d+)?)|(?P<post>\d+(?:\.\d+)?)x")


def parse_speed(text: str) -> float | None:
    """Parse a replay speed: ``realtime``, ``x60`` or ``60x`` (sixty times), or ``max``.

    Returns:
        The factor of simulated time over wall time, or ``None`` for as fast as possible.

    Raises:
        ValueError: any other form, or a factor that is not positive.
    """
    word = text.strip().lower()
    if word == "realtime":
        return 1.0
    if word == "max":
        return None
    match = _SPEED.fullmatch(word)
    if match is not None:
        factor = float(match.group("pre") or match.group("post"))
        if factor > 0 and math.isfinite(factor):
            return factor
    raise ValueError(
        f"speed must be 'realtime', 'max' or a positive factor such as 'x60' or '60x'; got {text!r}"
    )


def parse_endpoint(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (an IPv6 host goes in brackets: ``[::1]:4059``).

    Raises:
        ValueError: not of that form, or the port is not 1 to 65535.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        bad_host = not host
    else:
        bad_host = not host or any(c in host for c in ":[] ")
    if not sep or bad_host or not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"expected HOST:PORT such as 127.0.0.1:4059; got {text!r}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"the port must be 1 to 65535; got {text!r}")
    return host, port


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(exc: BaseException, timeout_s: float) -> str:
    """A short, user-facing reason for a socket error (no errno, no traceback)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the peer"
    if isinstance(exc, BrokenPipeError):
        return "connection closed"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _check_timeout(timeout_s: float) -> None:
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError(f"timeout_s must be a positive number of seconds; got {timeout_s!r}")


# -- pacing -------------------------------------------------------------------------------------


class Pacer:
    """Holds the sender back so that simulated time runs ``speed`` times as fast as wall time.

    The wall-clock origin is taken at the first call of :meth:`wait_until`; a push at
    simulated time ``at`` is released at ``origin + (at - start) / speed``. A sender that falls
    behind is never made to sleep, so it catches up at full speed rather than drifting.

    Args:
        speed: Simulated seconds per wall-clock second; ``None`` never waits (``max``).
        start: The simulated time that corresponds to the origin.
        clock: Monotonic wall clock. [s]
        sleep: Sleeps for the given duration. [s]

    Raises:
        ValueError: a speed that is not a positive finite number.
    """

    def __init__(
        self,
        speed: float | None,
        start: datetime,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed is not None and not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive finite factor or None; got {speed!r}")
        self.speed = speed
        self.start = start
        self._clock = clock
        self._sleep = sleep
        self._origin_s: float | None = None

    def wait_until(self, at: datetime) -> None:
        """Sleep until the wall-clock moment that matches simulated time ``at``."""
        if self.speed is None:
            return
        now_s = self._clock()
        if self._origin_s is None:
            self._origin_s = now_s
        due_s = self._origin_s + (at - self.start).total_seconds() / self.speed
        if due_s > now_s:
            self._sleep(due_s - now_s)


# -- TCP ----------------------------------------------------------------------------------------

_DRAIN_READS = 16  # reads per liveness check; a head-end does not talk back to push meters


class TcpSink:
    """Sends each meter's pushes over its own TCP connection, as cellular meters do.

    A meter connects at its first push and keeps the connection. When ``max_connections`` are
    open, the least recently used one is closed to make room; that meter reconnects at its
    next push. Before each send the connection is checked for a close or reset by the
    head-end; a connection found closed, or a send that fails, is reopened once, and a
    second failure raises :class:`SinkError`. A write that failed part-way leaves a truncated
    frame on the old connection, which the head-end rejects; the whole push follows on the new
    one. A push written just before the head-end closes the connection can still be lost: TCP
    acknowledges bytes to the receiving kernel, not to the head-end software.

    Args:
        host: The head-end's host name or address.
        port: The head-end's TCP port.
        max_connections: Bound on open connections.
        timeout_s: Connect and send timeout; also how long :meth:`close` waits for the
            head-end to close its side. [s]

    Attributes:
        sent: Pushes written.
        connects: Connections opened, reconnections included.

    Raises:
        ValueError: bad arguments.
    """

    def __init__(
        self, host: str, port: int, *, max_connections: int = 256, timeout_s: float = 10.0
    ) -> None:
        if not host:
            raise ValueError("host must not be empty")
        if not 1 <= port <= 65535:
            raise ValueError(f"the port must be 1 to 65535; got {port}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        _check_timeout(timeout_s)
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self.target = _address(host, port)
        self.sent = 0
        self.connects = 0
        self._sockets: OrderedDict[str, socket.socket] = OrderedDict()
        self._closed = False

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return len(self._sockets)

    def send(self, at: datetime, meter_id: str, frame: bytes) -> None:
        """Write one push on the meter's connection, opening it if needed.

        Raises:
            SinkError: the head-end cannot be reached, or the push cannot be written after
                one reconnection.
        """
        if self._closed:
            raise RuntimeError("send on a closed TcpSink")
        sock = self._sockets.get(meter_id)
        if sock is not None:
            self._sockets.move_to_end(meter_id)
            if self._peer_closed(sock):
                self._drop(meter_id)
                sock = None
        if sock is None:
            sock = self._open(meter_id)
        try:
            sock.sendall(frame)
        except OSError:
            self._drop(meter_id)
            sock = self._open(meter_id)
            try:
                sock.sendall(frame)
            except OSError as exc:
                self._drop(meter_id)
                raise SinkError(
                    f"cannot send to the head-end at {self.target} for meter {meter_id}: "
                    f"{_reason(exc, self.timeout_s)}",
                    target=self.target,
                ) from exc
        self.sent += 1

    def close(self) -> None:
        """Close every connection, after the head-end has read what was sent.

        Each connection is half-closed first; then the sink waits (``timeout_s`` in all) for the
        head-end to close its side, which a head-end does once it has read to the end.
        """
        if self._closed:
            return
        self._closed = True
        sockets = list(self._sockets.values())
        self._sockets.clear()
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                try:
                    sock.shutdown(socket.SHUT_WR)
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ, sock)
                except OSError:
                    sock.close()
            deadline_s = time.monotonic() + self.timeout_s
            while selector.get_map() and (left_s := deadline_s - time.monotonic()) > 0:
                for key, _ in selector.select(left_s):
                    sock = key.data
                    try:
                        finished = not sock.recv(4096)
                    except BlockingIOError:
                        finished = False
                    except OSError:
                        finished = True
                    if finished:
                        selector.unregister(sock)
                        sock.close()
            for key in list(selector.get_map().values()):
                key.data.close()

    def _open(self, meter_id: str) -> socket.socket:
        while len(self._sockets) >= self.max_connections:
            _, oldest = self._sockets.popitem(last=False)
            _hang_up(oldest)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise SinkError(
                f"cannot reach the head-end at {self.target}: {_reason(exc, self.timeout_s)}",
                target=self.target,
            ) from exc
        with contextlib.suppress(OSError):  # one push, one segment, as a meter sends it
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sockets[meter_id] = sock
        self.connects += 1
        return sock

    def _drop(self, meter_id: str) -> None:
        sock = self._sockets.pop(meter_id, None)
        if sock is not None:
            sock.close()

    def _peer_closed(self, sock: socket.socket) -> bool:
        """True when the head-end closed or reset the connection; discards what it sent."""
        sock.settimeout(0.0)
        try:
            for _ in range(_DRAIN_READS):
                if not sock.recv(4096):
                    return True
        except BlockingIOError:
            pass
        except OSError:
            return True
        finally:
            sock.settimeout(self.timeout_s)
        return False


def _hang_up(sock: socket.socket) -> None:
    """Close gracefully: what was written is still delivered, then FIN."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    sock.close()


# -- MQTT ---------------------------------------------------------------------------------------

_TOPIC_FORBIDDEN = ("+", "#", "\x00")


def _parse_mqtt_url(url: str) -> tuple[SplitResult, str, int, str]:
    form = "mqtt://host[:port][/topic/prefix]"
    text = url.strip()
    if "#" in text:  # a URL would read it as a fragment; in a topic it is a wildcard
        raise ValueError(f"the MQTT topic prefix must not contain '+', '#' or NUL; got {url!r}")
    parts = urlsplit(text)
    if parts.scheme != "mqtt" or not parts.hostname or "?" in text:
        raise ValueError(f"the MQTT URL must look like {form}; got {url!r}")
    try:
        port = parts.port or DEFAULT_MQTT_PORT
    except ValueError:
        raise ValueError(f"the MQTT URL has a bad port (1 to 65535); got {url!r}") from None
    prefix = unquote(parts.path).strip("/") or DEFAULT_MQTT_PREFIX
    if any(c in prefix for c in _TOPIC_FORBIDDEN):
        raise ValueError(f"the MQTT topic prefix must not contain '+', '#' or NUL; got {url!r}")
    return parts, parts.hostname, port, prefix


class MqttSink:
    """Publishes each push to ``{prefix}/{meter_id}``, the raw frame as payload.

    The URL is ``mqtt://host[:port][/topic/prefix]`` (port 1883 and prefix ``openams/push``
    unless given; ``user:password@`` before the host logs in). Publishing runs on paho-mqtt's
    network thread; :meth:`send` blocks while ``max_in_flight`` messages await their
    acknowledgement, and :meth:`close` returns only once every message is acknowledged. If
    the connection drops, paho reconnects and sends the unacknowledged messages again.

    Args:
        url: Where the broker is, and the topic prefix.
        qos: MQTT quality of service: 1 (at least once; the default), 0 or 2.
        client_id: The MQTT client identifier; a random ``openams-sim-…`` one by default.
        timeout_s: Bound on connecting, on waiting for room in flight and on :meth:`close`. [s]
        max_in_flight: Bound on messages published and not yet acknowledged.

    Attributes:
        sent: Pushes handed to the MQTT client.
        acknowledged: Pushes the broker acknowledged (for QoS 0: written to the socket).
        topic_prefix: The prefix in front of each meter identifier.

    Raises:
        ValueError: a bad URL or argument.
        SinkError: the broker cannot be reached or refuses the connection.
    """

    def __init__(
        self,
        url: str,
        *,
        qos: int = 1,
        client_id: str | None = None,
        timeout_s: float = 10.0,
        max_in_flight: int = 100,
    ) -> None:
        parts, host, port, prefix = _parse_mqtt_url(url)
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2; got {qos!r}")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        _check_timeout(timeout_s)
        self.host = host
        self.port = port
        self.target = _address(host, port)
        self.topic_prefix = prefix
        self.qos = qos
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self.sent = 0
        self.acknowledged = 0
        self._cond = threading.Condition()
        self._connack: ReasonCode | None = None  # of the last CONNACK
        self._connected = False
        self._closed = False

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"openams-sim-{secrets.token_hex(6)}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.connect_timeout = timeout_s
        client.max_inflight_messages_set(max_in_flight)
        if parts.username is not None:
            password = unquote(parts.password) if parts.password is not None else None
            client.username_pw_set(unquote(parts.username), password)
        self._client = client
        try:
            client.connect(host, port, keepalive=60)
        except OSError as exc:
            raise SinkError(
                f"cannot reach the MQTT broker at {self.target}: {_reason(exc, timeout_s)}",
                target=self.target,
            ) from exc
        client.loop_start()
        connack = self._wait_for_connack()
        if connack is None or connack.is_failure:
            self._shut_down()
            if connack is None:
                why = f"did not answer within {timeout_s:g} s"
            else:
                why = f"refused the connection: {connack}"
            raise SinkError(f"the MQTT broker at {self.target} {why}", target=self.target)

    def _wait_for_connack(self) -> ReasonCode | None:
        with self._cond:
            self._cond.wait_for(lambda: self._connack is not None, self.timeout_s)
            return self._connack

    # paho calls these from its network thread
    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        with self._cond:
            self._connack = reason
            self._connected = not reason.is_failure
            self._cond.notify_all()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        with self._cond:
            self._connected = False
            self._cond.notify_all()

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _r: Any, _p: Any) -> None:
        with self._cond:
            self.acknowledged += 1
            self._cond.notify_all()

    def topic_for(self, meter_id: str) -> str:
        """The topic a meter's pushes go to.

        Raises:
            ValueError: the identifier is empty or holds ``/``, ``+``, ``#`` or NUL.
        """
        if not meter_id or "/" in meter_id or any(c in meter_id for c in _TOPIC_FORBIDDEN):
            raise ValueError(f"a meter id must be one MQTT topic level; got {meter_id!r}")
        return f"{self.topic_prefix}/{meter_id}"

    def send(self, at: datetime, meter_id: str, frame: bytes) -> None:
        """Publish one push; waits while ``max_in_flight`` messages are unacknowledged.

        Raises:
            ValueError: a meter id that cannot be a topic level.
            SinkError: no room in flight within ``timeout_s`` (the broker stopped
                acknowledging, or the connection is down).
        """
        if self._closed:
            raise RuntimeError("send on a closed MqttSink")
        topic = self.topic_for(meter_id)
        with self._cond:
            room = self._cond.wait_for(
                lambda: self.sent - self.acknowledged < self.max_in_flight, self.timeout_s
            )
            connected = self._connected
        if not room:
            raise SinkError(
                f"the MQTT broker at {self.target} acknowledged none of the last "
                f"{self.max_in_flight} pushes within {self.timeout_s:g} s"
                + ("" if connected else " (connection lost)"),
                target=self.target,
            )
        info = self._client.publish(topic, frame, qos=self.qos)
        # NO_CONN: paho keeps a QoS 1 or 2 message and sends it once reconnected
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not (
            info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and self.qos > 0
        ):
            raise SinkError(
                f"cannot publish to the MQTT broker at {self.target}: {mqtt.error_string(info.rc)}",
                target=self.target,
            )
        with self._cond:
            self.sent += 1

    def close(self) -> None:
        """Wait until the broker acknowledged every push, then disconnect.

        Raises:
            SinkError: pushes still unacknowledged after ``timeout_s``.
        """
        if self._closed:
            return
        self._closed = True
        try:
            with self._cond:
                done = self._cond.wait_for(lambda: self.acknowledged >= self.sent, self.timeout_s)
                missing = self.sent - self.acknowledged
            if not done:
                raise SinkError(
                    f"the MQTT broker at {self.target} did not acknowledge {missing} of "
                    f"{self.sent} pushes within {self.timeout_s:g} s",
                    target=self.target,
                )
        finally:
            self._shut_down()

    def _shut_down(self) -> None:
        self._closed = True
        self._client.disconnect()
        self._client.loop_stop()

"""The head-end's MQTT channel: pushes published by meters or gateways, QoS 1, acked late.

Each message is one push, its payload the frame as the meter sent it, its topic (for instance
``openams/push/<meter_id>``) the source. The subscriber hands every message on as an
:class:`~openams.services.ingest.IncomingPush` (channel ``mqtt``) with a :class:`Delivery`, and
acknowledges it only when told that the batch holding it is committed (:meth:`MqttSubscriber.ack`).

Invariants:
    * A message is acknowledged (PUBACK) only after it is in the store. Until then the broker
      keeps it in the head-end's session, and sends it again when the head-end reconnects
      after a crash or a lost connection: MQTT 5 with Clean Start 0, a fixed client
      identifier and a session expiry interval, so that the session outlives the connection.
    * An acknowledgement is sent only on the connection that delivered the message. A message
      delivered on an earlier connection comes again on the new one (same session) and is
      acknowledged after that copy is committed; ingest counts the copy as a duplicate.
    * The broker sends at most ``receive_maximum`` unacknowledged messages (MQTT 5 Receive
      Maximum): that bounds what the head-end holds for this channel.
    * After :meth:`MqttSubscriber.pause` no message is handed on or acknowledged: those that
      still arrive stay with the broker for the next run.
    * Errors of the broker (away, refusing) are raised as :class:`ConnectionError` with a
      one-line message naming the broker; no password appears in any message or ``repr``.

References:
    OASIS MQTT Version 5.0, clauses 3.1.2.4 (Clean Start), 3.1.2.11.2 (Session Expiry
    Interval), 3.3.4 (PUBLISH actions, Receive Maximum), 4.4 (message delivery retry) and
    4.8.2 (shared subscriptions).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from openams.services.ingest import IncomingPush

__all__ = [
    "CHANNEL",
    "DEFAULT_MQTT_PORT",
    "DEFAULT_RECEIVE_MAXIMUM",
    "DEFAULT_SESSION_EXPIRY_S",
    "DEFAULT_TOPIC_FILTER",
    "Delivery",
    "MqttSettings",
    "MqttSubscriber",
    "default_client_id",
]

log = logging.getLogger(__name__)

#: The channel name of pushes that came over MQTT.
CHANNEL = "mqtt"
DEFAULT_MQTT_PORT = 1883
#: What the head-end subscribes to unless told otherwise: the simulator's default prefix.
DEFAULT_TOPIC_FILTER = "openams/push/#"
#: Unacknowledged messages the broker may send at once (MQTT 5 Receive Maximum).
DEFAULT_RECEIVE_MAXIMUM = 5000
#: How long the broker keeps the session, and the messages for it, while the head-end is away.
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
#: Bound on one message; a larger one is quarantined with its first bytes only. [bytes]
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024


def default_client_id() -> str:
    """``openams-headend-<host name>``: fixed for a machine, so that its session survives."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"openams-headend-{host}"[:64]


@dataclass(frozen=True, slots=True, repr=False)
class MqttSettings:
    """Where and how the head-end subscribes.

    Args:
        url: ``mqtt://[user[:password]@]host[:port][/prefix]``. A path is a topic prefix:
            without ``topic_filter``, the head-end subscribes to ``prefix/#``.
        topic_filter: The topic filter; default ``prefix/#`` from the URL, else
            :data:`DEFAULT_TOPIC_FILTER`.
        group: Share the subscription with the other head-ends of this group
            (``$share/GROUP/filter``): the broker gives each message to one of them.
        client_id: The MQTT client identifier; fixed, one per head-end (default
            :func:`default_client_id`). The session, and the messages not yet acknowledged,
            belong to it.
        receive_maximum: Unacknowledged messages the broker may send at once.
        session_expiry_s: How long the broker keeps the session after a disconnection. [s]
        max_message_size: Bound on one message. [bytes]
        timeout_s: Bound on connecting and subscribing. [s]

    Raises:
        ValueError: a malformed URL, filter or group, or a bound out of range.
    """

    url: str
    topic_filter: str | None = None
    group: str | None = None
    client_id: str | None = None
    receive_maximum: int = DEFAULT_RECEIVE_MAXIMUM
    session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    timeout_s: float = 10.0
    host: str = field(init=False, repr=False)
    port: int = field(init=False, repr=False)
    username: str | None = field(init=False, repr=False)
    password: str | None = field(init=False, repr=False)
    prefix: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        form = "mqtt://[user[:password]@]host[:port][/topic/prefix]"
        text = self.url.strip()
        parts = urlsplit(text)
        if parts.scheme != "mqtt" or not parts.hostname or "?" in text or "#" in text:
            raise ValueError(f"the MQTT URL must look like {form}; got {_hide(text)!r}")
        try:
            port = parts.port or DEFAULT_MQTT_PORT
        except ValueError:
            raise ValueError(f"the MQTT URL has a bad port: {_hide(text)!r}") from None
        prefix = unquote(parts.path).strip("/")
        if "+" in prefix or "\x00" in prefix:
            raise ValueError("the MQTT topic prefix must not contain '+', '#' or NUL")
        topic_filter = self.topic_filter or (f"{prefix}/#" if prefix else DEFAULT_TOPIC_FILTER)
        _check_filter(topic_filter)
        if self.group is not None and (not self.group or any(c in self.group for c in "/+#\x00")):
            raise ValueError(f"an MQTT share group is one topic level; got {self.group!r}")
        if not 1 <= self.receive_maximum <= 65535:
            raise ValueError("receive_maximum must be 1 to 65535")
        if not 0 < self.session_expiry_s <= 0xFFFFFFFF:
            raise ValueError("session_expiry_s must be a positive number of seconds")
        if self.max_message_size < 1 or not self.timeout_s > 0:
            raise ValueError("max_message_size and timeout_s must be positive")
        set_ = object.__setattr__  # a frozen dataclass filling its derived fields
        set_(self, "topic_filter", topic_filter)
        set_(self, "host", parts.hostname)
        set_(self, "port", port)
        set_(self, "username", unquote(parts.username) if parts.username is not None else None)
        set_(self, "password", unquote(parts.password) if parts.password is not None else None)
        set_(self, "prefix", prefix)
        set_(self, "client_id", self.client_id or default_client_id())

    def __repr__(self) -> str:
        return (
            f"MqttSettings(url={_hide(self.url)!r}, topic_filter={self.topic_filter!r}, "
            f"group={self.group!r}, client_id={self.client_id!r})"
        )

    @property
    def target(self) -> str:
        """``host:port`` of the broker."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def subscription(self) -> str:
        """The filter as subscribed: ``$share/GROUP/filter`` with a group."""
        topic_filter = self.topic_filter or DEFAULT_TOPIC_FILTER
        return f"$share/{self.group}/{topic_filter}" if self.group else topic_filter


def _hide(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.partition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{hostpart}"


def _check_filter(topic_filter: str) -> None:
    levels = topic_filter.split("/")
    bad = (
        not topic_filter
        or "\x00" in topic_filter
        or topic_filter.startswith("$")
        or any(("#" in level and level != "#") or ("+" in level and level != "+")
               for level in levels)
        or "#" in levels[:-1]
    )  # fmt: skip
    if bad:
        raise ValueError(f"not an MQTT topic filter: {topic_filter!r}")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What acknowledging one message takes: its connection, packet identifier and QoS."""

    connection: int
    mid: int
    qos: int


class MqttSubscriber:
    """Subscribes with QoS 1 and hands each message on; acknowledges when told to.

    Args:
        settings: Broker, filter, group and bounds.
        submit: Takes each push with its delivery; returns ``False`` when it cannot take it
            any more (stopping): the message is then left to the broker. Called on paho's
            network thread; must not block for long.
        clock: Wall clock for arrival times. [s since the epoch]

    Attributes:
        received: Messages handed on.
        acknowledged: Messages acknowledged.
        connects: Connections made, reconnections included.
    """

    def __init__(
        self,
        settings: MqttSettings,
        submit: Callable[[IncomingPush, Delivery], bool],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.received = 0
        self.acknowledged = 0
        self.connects = 0
        self._submit = submit
        self._clock = clock
        self._cond = threading.Condition()
        self._connection = 0  # counts CONNACKs; a delivery is acknowledged on its own one
        self._connected = False
        self._connack: ReasonCode | None = None
        self._suback: list[ReasonCode] | None = None
        self._paused = False
        self._started = False
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id or default_client_id(),
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.connect_timeout = settings.timeout_s
        client.reconnect_delay_set(1, 30)
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        self._client = client

    @property
    def connected(self) -> bool:
        """Connected to the broker now."""
        with self._cond:
            return self._connected

    def start(self) -> None:
        """Connect, subscribe; returns once the broker confirmed the subscription.

        Raises:
            ConnectionError: the broker cannot be reached, refuses the connection or the
                subscription, or does not answer within ``timeout_s``.
        """
        settings = self.settings
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = settings.session_expiry_s
        properties.ReceiveMaximum = settings.receive_maximum
        try:
            self._client.connect(
                settings.host, settings.port, keepalive=30, clean_start=False,
                properties=properties,
            )  # fmt: skip
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise ConnectionError(
                f"cannot reach the MQTT broker at {settings.target}: {reason}"
            ) from exc
        self._started = True
        self._client.loop_start()
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    (self._connack is not None and self._connack.is_failure)
                    or self._suback is not None
                ),
                settings.timeout_s,
            )
            connack, suback = self._connack, self._suback
        why = None
        if connack is None:
            why = f"did not answer within {settings.timeout_s:g} s"
        elif connack.is_failure:
            why = f"refused the connection: {connack}"
        elif suback is None:
            why = f"did not confirm the subscription within {settings.timeout_s:g} s"
        elif any(code.is_failure for code in suback):
            why = f"refused the subscription to {settings.subscription}: {suback[0]}"
        if why is not None:
            self.close()
            raise ConnectionError(f"the MQTT broker at {settings.target} {why}")

    def pause(self) -> None:
        """Hand on no more messages; those that still come stay with the broker."""
        with self._cond:
            self._paused = True

    def ack(self, deliveries: Iterable[Delivery]) -> int:
        """Acknowledge committed messages; those of an earlier connection are skipped (the
        broker sent them again on this one).

        Returns:
            How many acknowledgements were sent.
        """
        with self._cond:
            current = self._connection if self._connected else -1
        sent = 0
        for delivery in deliveries:
            if delivery.qos == 0 or delivery.connection != current:
                continue
            if self._client.ack(delivery.mid, delivery.qos) == MQTTErrorCode.MQTT_ERR_SUCCESS:
                sent += 1
        with self._cond:
            self.acknowledged += sent
        return sent

    def close(self) -> None:
        """Disconnect, keeping the session (and what it holds) at the broker. Idempotent."""
        self.pause()
        if not self._started:
            return
        self._started = False
        self._client.disconnect()
        self._client.loop_stop()

    # paho calls these from its network thread
    def _on_connect(
        self, _c: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        with self._cond:
            self._connack = reason
            if reason.is_failure:
                self._cond.notify_all()
                return
            self._connection += 1
            self._connected = True
            self.connects += 1
        log.info("connected to the MQTT broker at %s (session present: %s)",
                 self.settings.target, bool(getattr(flags, "session_present", False)))  # fmt: skip
        self._client.subscribe(self.settings.subscription, options=SubscribeOptions(qos=1))

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        with self._cond:
            self._suback = list(codes)
            self._cond.notify_all()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
            self._cond.notify_all()
        if was and not self._paused:
            log.warning("lost the MQTT broker at %s (%s); reconnecting", self.settings.target,
                        reason)  # fmt: skip

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            if self._paused:
                return  # not acknowledged: the broker sends it again at the next connection
            connection = self._connection
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers refuse such topics; kept apart all the same
            topic = "(a topic that is not UTF-8)"
        payload = bytes(message.payload)
        problem = None
        limit = self.settings.max_message_size
        if len(payload) > limit:
            problem = f"an MQTT message of {len(payload)} bytes is over the bound of {limit}"
            payload = payload[:limit]
        push = IncomingPush(payload, int(self._clock()), CHANNEL, topic, problem)
        if self._submit(push, Delivery(connection, message.mid, message.qos)):
            with self._cond:
                self.received += 1

"""The head-end's network channels: meters' pushes over TCP and MQTT into the store.

:class:`Headend` runs them: a TCP listener for IEC 62056-47 wrapper connections
(:mod:`openams.headend.tcp`), an MQTT subscriber that acknowledges a message only once it is
committed (:mod:`openams.headend.mqtt`), and one writer thread feeding the ingest use case
(:mod:`openams.headend.serve`). See docs/headend.md.
"""

from __future__ import annotations

from .mqtt import DEFAULT_TOPIC_FILTER, Delivery, MqttSettings, MqttSubscriber
from .serve import Headend, HeadendError, HeadendStats
from .tcp import (
    DEFAULT_HOST,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_PORT,
    Garbage,
    TcpListener,
    WrapperSplitter,
    parse_listen_address,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_PORT",
    "DEFAULT_TOPIC_FILTER",
    "Delivery",
    "Garbage",
    "Headend",
    "HeadendError",
    "HeadendStats",
    "MqttSettings",
    "MqttSubscriber",
    "TcpListener",
    "WrapperSplitter",
    "parse_listen_address",
]

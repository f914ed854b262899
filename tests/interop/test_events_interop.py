"""Event pushes built by OpenAMS read alike with gurux-dlms and dlms-cosem.

For every event, in each manufacturer's header style, plain and ciphered (security control
0x30), each peer must decode the body to the tree OpenAMS built, and an independent reading
of that tree (OBIS code and value pairs, the COSEM date-time read field by field) must give
the event code, meter id and clock that :func:`openams.dlms.decode_event` gives. dlms-cosem
checks the GCM tag, so the ciphered pushes it reads also show that the tag is right.
"""

from __future__ import annotations

import dataclasses
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openams.dlms import (
    EVENTS,
    Ciphering,
    DataNotification,
    KeyPair,
    MeterEvent,
    PushDecoder,
    build_event_notification,
    decode_event,
    encode_push,
)

from . import _dlms_cosem, _gurux
from ._reference import AK, EK, OSLO, PEER_HDLC_STYLE, STYLES, SYSTEM_TITLES, obis_text

pytestmark = pytest.mark.interop

PEERS = {"gurux": _gurux, "dlms_cosem": _dlms_cosem}
METER = "7359992890941742"
CLOCK = datetime(2024, 10, 27, 2, 30, 15, tzinfo=OSLO, fold=1)  # the repeated hour, +01:00


def _peer_form(style: str, event: MeterEvent) -> DataNotification:
    """Kaifa's tagged header date-time is read by neither peer (see the adapters): untag it."""
    return dataclasses.replace(build_event_notification(style, event), date_time_tagged=False)


def _cosem_time(raw: bytes) -> datetime:
    """A 12-byte COSEM date-time with a stated deviation, read field by field."""
    year, month, day, _, hour, minute, second, hundredths, deviation, _ = struct.unpack(
        ">HBBBBBBBhB", raw
    )
    offset = timezone(timedelta(minutes=-deviation))
    return datetime(year, month, day, hour, minute, second, hundredths * 10_000, tzinfo=offset)


def _read_event(plain: Any) -> tuple[str, int, str, datetime]:
    """``(event code object, code, meter id, clock)`` from a peer's plain body tree."""
    assert isinstance(plain, list)
    assert len(plain) == 6
    pairs = {obis_text(plain[i]): plain[i + 1] for i in range(0, 6, 2)}
    logs = [key for key in pairs if key.startswith("0-0:96.11.")]
    assert len(logs) == 1
    return logs[0], pairs[logs[0]], pairs["0-0:96.1.0.255"], _cosem_time(pairs["0-0:1.0.0.255"])


def _check(style: str, name: str, event: MeterEvent, framing: str, counter: int | None) -> None:
    ciphering = None if counter is None else Ciphering(SYSTEM_TITLES[style], counter, EK, AK)
    frame = encode_push(
        _peer_form(style, event),
        framing=framing,
        ciphering=ciphering,
        style=PEER_HDLC_STYLE[style],
    )
    keys = None if counter is None else KeyPair(EK, AK)
    ek, ak = (None, None) if counter is None else (EK, AK)
    push = PushDecoder().decode(frame, keys=keys)
    found = decode_event(push)
    assert found is not None
    code, when = found
    assert code == EVENTS[name]
    expected = (code.log_obis, code.code, METER, event.clock.astimezone(UTC))
    for peer_name, peer in PEERS.items():
        info = peer.decode_push_info(frame, ek, ak)
        log, value, meter_id, clock = _read_event(info.body)
        assert (log, value, meter_id, clock.astimezone(UTC)) == expected, peer_name
        assert push.values[log] == (value, None), peer_name
        assert when.astimezone(UTC) == clock.astimezone(UTC), peer_name
        if style == "aidon":
            assert info.date_time is None, peer_name
        else:  # the header carries the same wall clock as the clock object
            assert info.date_time is not None
            wall = info.date_time.replace(tzinfo=None)
            assert wall == clock.replace(tzinfo=None), peer_name


@pytest.mark.parametrize("counter", [None, 0x0000_0042], ids=["plain", "ciphered"])
@pytest.mark.parametrize("framing", ["hdlc", "wrapper", "apdu"])
@pytest.mark.parametrize("style", STYLES)
def test_earth_fault_decodes_alike(style: str, framing: str, counter: int | None) -> None:
    event = MeterEvent(METER, CLOCK, "earth_fault_detected")
    _check(style, "earth_fault_detected", event, framing, counter)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_decodes_alike(name: str) -> None:
    _check("aidon", name, MeterEvent(METER, CLOCK, name), "hdlc", 7)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    style=st.sampled_from(STYLES),
    name=st.sampled_from(sorted(EVENTS)),
    instant=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    counter=st.none() | st.integers(0, 2**32 - 1),
)
def test_generated_events_decode_alike(
    style: str, name: str, instant: datetime, counter: int | None
) -> None:
    clock = instant.replace(microsecond=0).astimezone(OSLO)
    _check(style, name, MeterEvent(METER, clock, name), "hdlc", counter)

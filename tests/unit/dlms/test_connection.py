"""PushStream: a byte stream in arbitrary chunks gives exactly the pushes sent, in order."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openams.dlms import (
    NEED_DATA,
    Ciphering,
    DecryptionError,
    KeyPair,
    LocalProtocolError,
    MeterReading,
    PushDecoder,
    PushReceived,
    PushRejected,
    PushStream,
    ReplayError,
    ReplayGuard,
    StreamClosed,
    build_notification,
    encode_push,
)

KEYS = KeyPair(bytes(range(16)), bytes(range(16, 32)))
TITLE = b"KFM\x10\x20\x00\x00\x01"
OSLO = ZoneInfo("Europe/Oslo")


def _push(style: str, counter: int, framing: str, **kw) -> bytes:
    reading = MeterReading(
        "7359992890941742",
        "6534",
        datetime(2026, 3, 1, counter % 24, tzinfo=OSLO),
        energy_import_wh=1000 * counter,
        power_import_w=counter,
    )
    return encode_push(
        build_notification(style, 3, reading),
        framing=framing,
        style=style,
        ciphering=Ciphering(TITLE, counter, KEYS.ek, KEYS.ak),
        **kw,
    )


def _drain(stream: PushStream) -> list:
    events = []
    while True:
        event = stream.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, StreamClosed):
            return events


def _feed(stream: PushStream, data: bytes, cuts: list[int]) -> list:
    events = []
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        stream.receive_data(data[start:end])
        events += _drain(stream)
    stream.receive_data(b"")
    return events + _drain(stream)


@settings(max_examples=40)
@given(
    framing=st.sampled_from(["wrapper", "hdlc", "mbus"]),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    segment=st.sampled_from([60, 120, 2000]),
)
def test_chunked_stream_gives_every_push_in_order(framing, cuts, segment):
    extra = {"max_info_length": segment} if framing == "hdlc" else {}
    pushes = [
        _push(s, n, framing, **extra) for n, s in enumerate(["aidon", "kaifa", "kamstrup"], 1)
    ]
    stream = PushStream(framing, PushDecoder(keys=lambda title: KEYS))
    events = _feed(stream, b"".join(pushes), cuts)
    received = [e for e in events if isinstance(e, PushReceived)]
    assert [e.push.invocation_counter for e in received] == [1, 2, 3]
    assert [e.raw for e in received] == pushes
    assert not [e for e in events if isinstance(e, PushRejected)]
    assert isinstance(events[-1], StreamClosed)
    assert stream.next_event() == StreamClosed()


def test_noise_and_bad_frames_are_rejected_with_their_bytes_not_dropped():
    good = _push("aidon", 1, "hdlc")
    bad = bytearray(_push("aidon", 2, "hdlc"))
    bad[20] ^= 0xFF
    stream = PushStream("hdlc", PushDecoder(keys=lambda title: KEYS))
    events = _feed(stream, b"\x00\x11" + good + bytes(bad) + good[:30], [])
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["PushRejected", "PushReceived", "PushRejected", "PushRejected", "StreamClosed"]
    assert events[0].raw == b"\x00\x11"
    assert events[2].raw == bytes(bad)
    assert events[2].error.code == "bad_frame"
    assert events[3].raw == good[:30]


def test_replayed_push_in_a_stream_is_rejected():
    first = _push("kamstrup", 5, "wrapper")
    stream = PushStream("wrapper", PushDecoder(keys=lambda t: KEYS, replay_guard=ReplayGuard()))
    events = _feed(stream, first + _push("kamstrup", 6, "wrapper") + first, [])
    assert [type(e).__name__ for e in events[:3]] == [
        "PushReceived",
        "PushReceived",
        "PushRejected",
    ]
    assert isinstance(events[2].error, ReplayError)
    assert events[2].error.code == "replay"
    assert events[2].raw == first


def test_wrapper_out_of_step_and_oversize_are_rejected():
    stream = PushStream("wrapper", PushDecoder(), max_push_size=100)
    stream.receive_data(b"\x00\x02" + bytes(10))
    [event] = _drain(stream)
    assert event.error.code == "bad_frame"
    stream.receive_data(b"\x00\x01\x00\x01\x00\x01\x10\x00" + bytes(20))
    [event] = _drain(stream)
    assert "4096" in str(event.error)


def test_unfinished_push_grows_past_the_bound_and_is_released():
    stream = PushStream("hdlc", PushDecoder(), max_push_size=300)
    frames = _push("aidon", 1, "hdlc", max_info_length=100)
    stream.receive_data(frames[:-10])
    stream.receive_data(b"\x7e\xa8\x70" + bytes(200))
    events = _drain(stream)
    assert events
    assert isinstance(events[-1], PushRejected)
    assert events[-1].error.code == "bad_frame"


def test_data_after_end_of_stream_is_a_local_protocol_error():
    stream = PushStream("mbus", PushDecoder())
    stream.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        stream.receive_data(b"\x68")
    with pytest.raises(ValueError, match="framing"):
        PushStream("serial", PushDecoder())


def test_replay_guard_keeps_the_highest_counter_per_meter():
    guard = ReplayGuard({b"A" * 8: 10})
    guard.accept(b"A" * 8, 11)
    guard.accept(b"B" * 8, 1)
    with pytest.raises(ReplayError) as info:
        guard.check(b"A" * 8, 11)
    assert info.value.last_invocation_counter == 11
    assert guard.last(b"A" * 8) == 11
    assert guard.snapshot() == {b"A" * 8: 11, b"B" * 8: 1}


def test_forged_push_does_not_move_the_counter():
    guard = ReplayGuard()
    decoder = PushDecoder(keys=lambda t: KEYS, replay_guard=guard)
    decoder.decode(_push("aidon", 5, "apdu"))
    forged = bytearray(_push("aidon", 1000, "apdu"))
    forged[-1] ^= 1
    with pytest.raises(DecryptionError) as info:
        decoder.decode(bytes(forged))
    assert info.value.code == "auth_failed"
    assert guard.last(TITLE) == 5
    decoder.decode(_push("aidon", 6, "apdu"))
    assert guard.last(TITLE) == 6

"""PushStream framing edge cases: fill flags, shared flags, noise, malformed starts.

(``test_connection.py`` covers the stream's main behaviour; these are the framing corners.)
"""

from __future__ import annotations

from datetime import datetime

from openams.dlms import (
    NEED_DATA,
    MeterReading,
    PushDecoder,
    PushReceived,
    PushRejected,
    PushStream,
    build_notification,
    encode_hdlc_frames,
    encode_push,
)

from .strategies import OSLO

READING = MeterReading("7359992912345678", "6534", datetime(2024, 1, 15, 17, tzinfo=OSLO))


def _events(framing: str, data: bytes) -> list:
    stream = PushStream(framing, PushDecoder())
    stream.receive_data(data)
    stream.receive_data(b"")
    events = []
    while (event := stream.next_event()) is not NEED_DATA:
        events.append(event)
        if type(event).__name__ == "StreamClosed":
            break
    return events


def _push(list_number: int, framing: str = "hdlc") -> bytes:
    return encode_push(build_notification("aidon", list_number, READING), framing=framing)


def test_need_data_names_itself():
    assert repr(NEED_DATA) == "NEED_DATA"


def test_hdlc_fill_flags_between_pushes_are_skipped():
    events = _events("hdlc", _push(1) + b"\x7e\x7e\x7e" + _push(2))
    assert [type(e).__name__ for e in events] == ["PushReceived", "PushReceived", "StreamClosed"]
    assert events[1].raw == _push(2)


def test_hdlc_not_a_type_3_frame_is_rejected_and_the_stream_recovers():
    events = _events("hdlc", b"\x7e\x10\x05\x00" + _push(1))
    kinds = [type(e).__name__ for e in events]
    assert kinds[-2:] == ["PushReceived", "StreamClosed"]
    rejected = [e for e in events if isinstance(e, PushRejected)]
    assert b"".join(e.raw for e in rejected) == b"\x7e\x10\x05\x00"
    assert {e.error.code for e in rejected} == {"bad_frame"}


def test_mbus_noise_and_a_malformed_start_are_rejected_with_their_bytes():
    good = _push(2, "mbus")
    events = _events("mbus", b"\x00\x01" + good + b"\x68\x05\x06\x68" + good)
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["PushRejected", "PushReceived"]
    assert events[0].raw == b"\x00\x01"
    assert kinds[-2:] == ["PushReceived", "StreamClosed"]
    assert any(
        "malformed M-Bus start" in str(e.error) for e in events if isinstance(e, PushRejected)
    )


def test_hdlc_pushes_sharing_a_flag_are_both_received():
    """IEC 62056-46 lets the closing flag of one frame open the next (``decode_hdlc_frames``
    reads such input); a stream of them must not lose the second push."""
    first, second = _push(1), _push(2)
    events = _events("hdlc", first + second[1:])
    received = [e for e in events if isinstance(e, PushReceived)]
    assert [e.push.values for e in received] == [
        PushDecoder().decode(first).values,
        PushDecoder().decode(second).values,
    ]


def test_segmented_hdlc_push_with_shared_flags_is_received():
    notification = build_notification("aidon", 3, READING)
    frames = encode_hdlc_frames(b"\xe6\xe7\x00" + notification.to_bytes(), max_info_length=80)
    shared = frames.replace(b"\x7e\x7e", b"\x7e")
    assert len(shared) < len(frames)
    events = _events("hdlc", shared)
    assert [type(e).__name__ for e in events] == ["PushReceived", "StreamClosed"]


def test_a_wrapper_frame_split_after_its_header_waits_for_the_rest():
    push = _push(1, "wrapper")
    stream = PushStream("wrapper", PushDecoder())
    stream.receive_data(push[:12])  # the 8-byte header and a little of the body
    assert stream.next_event() is NEED_DATA
    stream.receive_data(push[12:])
    event = stream.next_event()
    assert isinstance(event, PushReceived)
    assert event.raw == push

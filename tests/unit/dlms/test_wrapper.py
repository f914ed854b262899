"""IEC 62056-47 wrapper frames: the eight-byte header, round trips, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import FrameError, WrapperFrame, decode_wrapper_frame

from .strategies import PROPERTY

# Written by hand from IEC 62056-47: management logical device (wPort 1) to client wPort 16,
# carrying a three-byte APDU.
HAND_FRAME = bytes.fromhex(
    "00 01"  # version 1
    "00 01"  # source wPort
    "00 10"  # destination wPort
    "00 03"  # length of the APDU
    "0f 00 00"  # APDU
)


def test_hand_written_frame_round_trips():
    frame, end = decode_wrapper_frame(HAND_FRAME)
    assert frame == WrapperFrame(1, 16, b"\x0f\x00\x00")
    assert end == len(HAND_FRAME)
    assert frame.to_bytes() == HAND_FRAME


def test_decode_at_an_offset_returns_the_end_of_the_frame():
    raw = b"\xff\xff" + HAND_FRAME + HAND_FRAME
    frame, end = decode_wrapper_frame(raw, 2)
    assert frame.apdu == b"\x0f\x00\x00"
    assert end == 2 + len(HAND_FRAME)


@pytest.mark.parametrize(
    ("raw", "tag", "message"),
    [
        (HAND_FRAME[:7], "wrapper", "header truncated"),
        (b"\x00\x02" + HAND_FRAME[2:], "version", "wrapper version 2 is not 1"),
        (HAND_FRAME[:-1], "length", "declares 3 bytes but only 2 follow"),
    ],
)
def test_broken_frames_raise_frame_error(raw, tag, message):
    with pytest.raises(FrameError, match=message) as info:
        decode_wrapper_frame(raw)
    assert info.value.offset == 0
    assert info.value.tag == tag


def test_frame_carries_at_most_65535_bytes():
    assert len(WrapperFrame(1, 1, bytes(0xFFFF)).to_bytes()) == 8 + 0xFFFF
    with pytest.raises(ValueError, match="65535"):
        WrapperFrame(1, 1, bytes(0x10000)).to_bytes()


@PROPERTY
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=600))
def test_round_trip(source, dest, apdu):
    frame = WrapperFrame(source, dest, apdu)
    raw = frame.to_bytes()
    assert decode_wrapper_frame(raw) == (frame, len(raw))


@PROPERTY
@given(st.binary(max_size=40))
def test_arbitrary_bytes_raise_only_frame_error(raw):
    try:
        frame, end = decode_wrapper_frame(raw)
    except FrameError:
        pass
    else:
        assert end == 8 + len(frame.apdu) <= len(raw)

"""M-Bus long frames carrying DLMS segments: round trips, checksums, lengths, sequence."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import FrameError, MbusFrame, decode_mbus_frames, encode_mbus_frames

from .strategies import PROPERTY

# One long frame written by hand from EN 13757-2: SND_UD (C = 0x53) to the broadcast address,
# CI 0x10 (segment 0, the last), TSAPs 01/67, carrying the four-byte APDU "0F 00 00 00".
HAND_FRAME = bytes.fromhex(
    "68"  # start
    "09 09"  # L twice: C, A, CI, two TSAPs and four APDU bytes
    "68"  # start again
    "53"  # C: SND_UD
    "ff"  # A: broadcast
    "10"  # CI: last segment (bit 4), sequence number 0
    "01 67"  # source and destination TSAP
    "0f 00 00 00"  # the APDU segment
    "d9"  # checksum: (0x53 + 0xFF + 0x10 + 0x01 + 0x67 + 0x0F) mod 256 = 0x1D9 mod 256
    "16"  # stop
)


def test_hand_written_frame_decodes():
    frames, apdu = decode_mbus_frames(HAND_FRAME)
    assert frames == [MbusFrame(0x53, 0xFF, 0x10, b"\x01\x67\x0f\x00\x00\x00")]
    assert apdu == b"\x0f\x00\x00\x00"
    assert encode_mbus_frames(b"\x0f\x00\x00\x00") == HAND_FRAME


def test_long_apdu_is_split_into_numbered_segments():
    apdu = bytes(range(256)) * 2
    raw = encode_mbus_frames(apdu, max_segment=200)
    frames, back = decode_mbus_frames(raw)
    assert back == apdu
    assert [f.ci for f in frames] == [0x00, 0x01, 0x12]
    assert [len(f.data) - 2 for f in frames] == [200, 200, 112]


def test_empty_apdu_is_one_segment():
    frames, apdu = decode_mbus_frames(encode_mbus_frames(b""))
    assert apdu == b""
    assert [f.ci for f in frames] == [0x10]


@pytest.mark.parametrize("max_segment", [0, 248])
def test_encode_refuses_segment_sizes_outside_1_to_247(max_segment):
    with pytest.raises(ValueError, match="max_segment"):
        encode_mbus_frames(b"x", max_segment=max_segment)


def test_encode_refuses_more_than_sixteen_segments():
    with pytest.raises(ValueError, match="16 M-Bus segments"):
        encode_mbus_frames(bytes(17), max_segment=1)


def test_frame_holds_at_most_252_data_bytes():
    assert len(MbusFrame(0x53, 0xFF, 0x10, bytes(252)).to_bytes()) == 4 + 255 + 2
    with pytest.raises(ValueError, match="252"):
        MbusFrame(0x53, 0xFF, 0x10, bytes(253)).to_bytes()


def _set(raw: bytes, at: int, value: int) -> bytes:
    return raw[:at] + bytes((value,)) + raw[at + 1 :]


def _frame(ci: int, data: bytes = b"\x01\x67\x0f") -> bytes:
    return MbusFrame(0x53, 0xFF, ci, data).to_bytes()


@pytest.mark.parametrize(
    ("raw", "offset", "tag", "message"),
    [
        (b"", 0, None, "no M-Bus frame"),
        (b"\x68\x09\x09", 0, "start", "must start with 68 L L 68"),
        (_set(HAND_FRAME, 3, 0x69), 0, "start", "must start with 68 L L 68"),
        (_set(HAND_FRAME, 2, 0x08), 0, "length", "length bytes differ"),
        (bytes.fromhex("68 02 02 68 53 ff 52 16"), 0, "length", "too short"),
        (HAND_FRAME[:-1], 0, "length", "declares 9 bytes"),
        (_set(HAND_FRAME, 13, 0xDA), 0, "checksum", "checksum does not match"),
        (_set(HAND_FRAME, 6, 0x11), 0, "checksum", "checksum does not match"),
        (_set(HAND_FRAME, 14, 0x17), 14, "stop", "stop byte 0x16 missing"),
        (_frame(0x20), 0, "ci", "CI 0x20 does not carry DLMS segments"),
        (_frame(0x11), 0, "ci", "out of sequence"),
        (_frame(0x00) + _frame(0x12), 12, "ci", "out of sequence"),
        (_frame(0x10, b"\x01"), 0, "tsap", "lacks its TSAP bytes"),
        (_frame(0x00), 12, "ci", "end before the last segment"),
        (_frame(0x10) + _frame(0x11), 12, None, "bytes after the last M-Bus segment"),
        (HAND_FRAME + b"\x00", 15, None, "bytes after the last M-Bus segment"),
    ],
)
def test_broken_frames_raise_frame_error(raw, offset, tag, message):
    with pytest.raises(FrameError, match=message) as info:
        decode_mbus_frames(raw)
    assert info.value.offset == offset
    assert info.value.tag == tag


@PROPERTY
@given(st.binary(max_size=16 * 60), st.integers(60, 247), st.integers(0, 255), st.integers(0, 255))
def test_round_trip(apdu, max_segment, stsap, dtsap):
    raw = encode_mbus_frames(apdu, stsap=stsap, dtsap=dtsap, max_segment=max_segment)
    frames, back = decode_mbus_frames(raw)
    assert back == apdu
    assert all(f.data[:2] == bytes((stsap, dtsap)) for f in frames)
    assert [f.ci & 0x0F for f in frames] == list(range(len(frames)))
    assert [bool(f.ci & 0x10) for f in frames] == [False] * (len(frames) - 1) + [True]


@PROPERTY
@given(st.binary(max_size=120).map(lambda b: b"\x68" + b))
def test_arbitrary_bytes_raise_only_frame_error(raw):
    with contextlib.suppress(FrameError):
        decode_mbus_frames(raw)


@PROPERTY
@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_single_bit_flip_in_the_frame_is_detected(apdu, data):
    raw = bytearray(encode_mbus_frames(apdu))
    bit = data.draw(st.integers(0, 8 * len(raw) - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(FrameError):
        decode_mbus_frames(bytes(raw))

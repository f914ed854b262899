"""HDLC frame format type 3: CRC, addresses, round trips, segmentation, every framing error."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    FrameError,
    HdlcFrame,
    crc16_x25,
    decode_hdlc_frame,
    decode_hdlc_frames,
    encode_hdlc_frames,
)
from openams.dlms._hdlc import encode_hdlc_address, single_frame_info
from tests.vectors import green_book as gb

from .strategies import PROPERTY


def _frame(body: bytes) -> bytes:
    """Flags and FCS around ``body`` (format field to the end of the information)."""
    return b"\x7e" + body + crc16_x25(body).to_bytes(2, "little") + b"\x7e"


def _with_hcs(header: bytes) -> bytes:
    return header + crc16_x25(header).to_bytes(2, "little")


def _build(fields: bytes, info: bytes = b"") -> bytes:
    """A frame with a correct length, HCS and FCS around address and control ``fields``."""
    length = 2 + len(fields) + (2 + len(info) if info else 0) + 2
    header = (0xA000 | length).to_bytes(2, "big") + fields
    return _frame(_with_hcs(header) + info if info else header)


# --- CRC-16/X.25 -----------------------------------------------------------------------------


def test_crc16_x25_check_value():
    # the catalogue check value of CRC-16/IBM-SDLC (X.25): CRC of ASCII "123456789"
    assert crc16_x25(gb.CRC_CHECK_INPUT) == gb.CRC_CHECK_VALUE == 0x906E


@pytest.mark.parametrize(
    ("raw", "fields"), [(gb.SNRM, gb.SNRM_FIELDS), (gb.DISC, gb.DISC_FIELDS)], ids=["snrm", "disc"]
)
def test_link_frames_from_the_standard(raw, fields):
    frame, close = decode_hdlc_frame(raw)
    assert frame == HdlcFrame(**fields)
    assert close == len(raw) - 1
    assert frame.to_bytes() == raw


def test_crc16_x25_of_nothing_is_zero():
    # init 0xFFFF, xorout 0xFFFF: no data, no change
    assert crc16_x25(b"") == 0x0000


def test_crc16_x25_residue_over_data_and_its_fcs():
    # appending the FCS (low byte first) gives the constant "good FCS" residue 0xF0B8,
    # i.e. 0x0F47 after the final xor
    data = b"\xa0\x07\x03\x21\x93"
    framed = data + crc16_x25(data).to_bytes(2, "little")
    assert crc16_x25(framed) == 0x0F47


# --- addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size", "encoded"),
    [
        (0x20, 1, "41"),  # Aidon's destination: 0x20 << 1 | 1
        (0x01, 1, "03"),
        (0x7F, 1, "ff"),
        (0x0441, 2, "10 83"),  # upper 7 bits, then lower 7 bits with the end bit
        (0x3FFF, 2, "fe ff"),
        (0x0FFFFFFF, 4, "fe fe fe ff"),
        (0, 4, "00 00 00 01"),
    ],
)
def test_address_encoding_carries_seven_bits_per_byte(value, size, encoded):
    assert encode_hdlc_address(value, size) == bytes.fromhex(encoded)


@pytest.mark.parametrize(("value", "size"), [(0x80, 1), (-1, 1), (1 << 14, 2), (0, 3)])
def test_address_encoding_refuses_what_does_not_fit(value, size):
    with pytest.raises(ValueError, match="address"):
        encode_hdlc_address(value, size)


# --- frames --------------------------------------------------------------------------------

# A frame written by hand from IEC 62056-46: UI frame (control 0x13) from server 0x0441
# (two-byte address 10 83) to client 0x20 (41), information "E6 E7 00 0F".
HAND_FRAME = (
    bytes.fromhex(
        "7e"  # opening flag
        "a0 0e"  # frame format: type 3 (0xA), S = 0, length 14 (every byte between the flags)
        "41"  # destination address, one byte, end bit set
        "10 83"  # source address, two bytes, end bit on the second
        "13"  # control: UI with poll/final
    )
    + _with_hcs(bytes.fromhex("a0 0e 41 10 83 13"))[-2:]
)  # HCS over format..control, LSB first


def _hand_frame() -> bytes:
    body = HAND_FRAME[1:] + bytes.fromhex("e6 e7 00 0f")
    return b"\x7e" + body + crc16_x25(body).to_bytes(2, "little") + b"\x7e"


def test_hand_written_frame_decodes():
    raw = _hand_frame()
    assert len(raw) == 16  # 14 between the flags
    frame, close = decode_hdlc_frame(raw)
    assert frame == HdlcFrame(b"\x41", b"\x10\x83", 0x13, b"\xe6\xe7\x00\x0f", False)
    assert close == len(raw) - 1
    assert frame.to_bytes() == raw


@pytest.mark.parametrize("dest", [b"\x41", b"\x02\x21", b"\x00\x02\x00\x21"])
@pytest.mark.parametrize("src", [b"\x03", b"\x08\x83", b"\x02\x00\x00\x01"])
@pytest.mark.parametrize("info", [b"", b"\x01", b"\xe6\xe7\x00" + bytes(range(200))])
@pytest.mark.parametrize("segmented", [False, True])
def test_frames_round_trip_with_one_two_and_four_byte_addresses(dest, src, info, segmented):
    frame = HdlcFrame(dest, src, 0x13, info, segmented)
    raw = frame.to_bytes()
    length = len(raw) - 2
    assert raw[0] == raw[-1] == 0x7E
    assert int.from_bytes(raw[1:3], "big") == 0xA000 | (0x800 if segmented else 0) | length
    assert decode_hdlc_frame(raw) == (frame, len(raw) - 1)
    assert decode_hdlc_frames(raw) == [frame]


def test_frame_without_information_has_no_hcs():
    raw = HdlcFrame(b"\x41", b"\x03", 0x53, b"").to_bytes()
    # flag, format (2), dest, src, control, FCS (2), flag: the SNRM/DISC shape
    assert len(raw) == 9
    assert raw[1:3] == b"\xa0\x07"


def test_frame_longer_than_the_length_field_cannot_be_built():
    with pytest.raises(ValueError, match="11-bit"):
        HdlcFrame(b"\x41", b"\x03", 0x13, bytes(0x7FF)).to_bytes()


def test_decode_at_an_offset():
    raw = HdlcFrame(b"\x41", b"\x03", 0x13, b"abc").to_bytes()
    assert decode_hdlc_frame(b"junk" + raw, 4) == (decode_hdlc_frame(raw)[0], 4 + len(raw) - 1)


# --- several frames ------------------------------------------------------------------------


def test_segmented_push_is_split_and_each_frame_decodes():
    info = bytes(range(256)) * 2
    raw = encode_hdlc_frames(info, max_info_length=100)
    frames = decode_hdlc_frames(raw)
    assert [len(f.info) for f in frames] == [100] * 5 + [12]
    assert [f.segmented for f in frames] == [True] * 5 + [False]
    assert b"".join(f.info for f in frames) == info
    assert {(f.dest_address, f.src_address, f.control) for f in frames} == {
        (b"\x41", b"\x08\x83", 0x13)
    }


def test_encode_without_information_gives_one_frame_without_info():
    frames = decode_hdlc_frames(encode_hdlc_frames(b""))
    assert frames == [HdlcFrame(b"\x41", b"\x08\x83", 0x13, b"", False)]


def test_encode_refuses_a_non_positive_information_length():
    with pytest.raises(ValueError, match="max_info_length"):
        encode_hdlc_frames(b"abc", max_info_length=0)


def test_frames_may_share_one_flag():
    one = HdlcFrame(b"\x41", b"\x03", 0x13, b"first", True).to_bytes()
    two = HdlcFrame(b"\x41", b"\x03", 0x13, b"second").to_bytes()
    frames = decode_hdlc_frames(one + two[1:])  # the closing flag of one opens two
    assert [f.info for f in frames] == [b"first", b"second"]


def test_line_noise_after_the_last_frame_is_ignored():
    raw = HdlcFrame(b"\x41", b"\x03", 0x13, b"payload").to_bytes()
    assert decode_hdlc_frames(raw + b"\x00\x13\x37") == decode_hdlc_frames(raw)


def test_empty_input_holds_no_frame():
    with pytest.raises(FrameError, match="no HDLC frame"):
        decode_hdlc_frames(b"")


# --- errors --------------------------------------------------------------------------------

GOOD = HdlcFrame(b"\x41", b"\x08\x83", 0x13, b"\xe6\xe7\x00\x0f\x01\x02").to_bytes()


def _replace(raw: bytes, at: int, value: int) -> bytes:
    return raw[:at] + bytes((value,)) + raw[at + 1 :]


@pytest.mark.parametrize(
    ("raw", "tag", "message"),
    [
        (_replace(GOOD, 0, 0x7F), "flag", "must start with flag"),
        (b"\x7e\xa0", None, "truncated in its format field"),
        (_replace(GOOD, 1, 0x90), "format", "not HDLC frame format type 3"),
        (GOOD[:-3], "length", "declares 16 bytes but only 14 follow"),
        (_replace(GOOD, len(GOOD) - 1, 0x00), None, "closing flag missing"),
        (_replace(GOOD, len(GOOD) - 2, GOOD[-2] ^ 0x01), "fcs", "FCS does not match"),
        (_replace(GOOD, 3, GOOD[3] ^ 0x04), "fcs", "FCS does not match"),
    ],
)
def test_broken_frames_raise_frame_error(raw, tag, message):
    with pytest.raises(FrameError, match=message) as info:
        decode_hdlc_frames(raw)
    assert info.value.offset == 0
    assert info.value.tag == tag
    assert info.value.code == "bad_frame"


def test_bad_hcs_with_good_fcs_is_refused():
    header = bytes.fromhex("a0 0e 41 08 83 13")
    body = header + b"\x00\x00" + b"\xe6\xe7\x00\x0f"  # HCS zeroed, FCS computed over it
    with pytest.raises(FrameError, match="HCS does not match") as info:
        decode_hdlc_frame(_frame(body))
    assert info.value.tag == "hcs"


def test_one_byte_between_control_and_fcs_is_a_truncated_hcs():
    body = bytes.fromhex("a0 08 41 03 13 00")
    with pytest.raises(FrameError, match="truncated in its HCS"):
        decode_hdlc_frame(_frame(body))


def test_frame_too_short_for_control_and_fcs():
    body = bytes.fromhex("a0 06 41 03")  # addresses, then the FCS: no control byte
    with pytest.raises(FrameError, match="too short for its control field"):
        decode_hdlc_frame(_frame(body))


@pytest.mark.parametrize(
    ("fields", "which"),
    [
        ("02 04 06 08 0a 0c 13", "destination"),  # no end bit within four bytes
        ("02 04 07 03 13", "destination"),  # a three-byte address
        ("41 02 04 07 13", "source"),  # a three-byte source address
        ("41 02 04 06 08 0a 13", "source"),
    ],
)
def test_malformed_addresses_are_refused(fields, which):
    raw = _build(bytes.fromhex(fields), b"\x0f")
    with pytest.raises(FrameError, match=f"malformed HDLC {which} address") as info:
        decode_hdlc_frame(raw)
    assert info.value.tag == "address"


def test_frame_ending_inside_the_source_address_is_refused():
    body = bytes.fromhex("a0 06 41 02")  # the source address never ends before the FCS
    with pytest.raises(FrameError, match="malformed HDLC source address"):
        decode_hdlc_frame(_frame(body))


def test_error_in_a_later_frame_reports_that_frames_offset():
    first = HdlcFrame(b"\x41", b"\x03", 0x13, b"one", True).to_bytes()
    second = bytearray(HdlcFrame(b"\x41", b"\x03", 0x13, b"two").to_bytes())
    second[-2] ^= 0xFF
    with pytest.raises(FrameError, match="FCS") as info:
        decode_hdlc_frames(first + bytes(second))
    assert info.value.offset == len(first)


def test_header_caches_stay_bounded_and_correct():
    # more distinct headers than the caches hold; each is still checked correctly, by the full
    # decoder and by the fast path
    for dest in range(17):
        for control in range(256):
            raw = HdlcFrame(encode_hdlc_address(dest), b"\x03", control, b"\x01").to_bytes()
            assert decode_hdlc_frame(raw)[0].control == control
            assert single_frame_info(raw) == b"\x01"
    bad = bytearray(HdlcFrame(b"\x41", b"\x03", 0x13, b"\x01").to_bytes())
    bad[7] ^= 0x01  # HCS
    bad[-3:-1] = crc16_x25(bytes(bad[1:-3])).to_bytes(2, "little")
    with pytest.raises(FrameError, match="HCS"):
        decode_hdlc_frame(bytes(bad))


# --- the single-frame fast path agrees with the full decoder ---------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        GOOD,
        encode_hdlc_frames(b"\xe6\xe7\x00" + bytes(300), max_info_length=100),
        HdlcFrame(b"\x41", b"\x03", 0x13, b"").to_bytes(),
        _replace(GOOD, len(GOOD) - 2, 0),
        _replace(GOOD, 7, 0),  # HCS
        GOOD[:-1] + b"\x00",
        GOOD + GOOD,
    ],
)
def test_fast_path_returns_info_only_for_one_good_unsegmented_frame(raw):
    info = single_frame_info(raw)
    try:
        frames = decode_hdlc_frames(raw)
    except FrameError:
        assert info is None
        return
    if len(frames) == 1 and not frames[0].segmented and frames[0].info:
        assert info == frames[0].info
    else:
        assert info is None


def test_fast_path_refuses_addresses_longer_than_four_bytes():
    assert single_frame_info(_build(bytes.fromhex("02 04 06 08 0a 41 03 13"), bytes(4))) is None
    assert single_frame_info(_build(bytes.fromhex("41 02 04 06 08 0a 13"), bytes(4))) is None


@pytest.mark.parametrize("fields", ["02 04 07 03 13", "41 02 04 07 13"])
def test_fast_path_refuses_three_byte_addresses_like_the_full_decoder(fields):
    """Addresses are 1, 2 or 4 bytes (IEC 62056-46); both paths must refuse three."""
    raw = _build(bytes.fromhex(fields), b"\xe6\xe7\x00\x0f" + bytes(8))
    with pytest.raises(FrameError, match="address"):
        decode_hdlc_frames(raw)
    assert single_frame_info(raw) is None


# --- properties ----------------------------------------------------------------------------

addresses = st.sampled_from([1, 2, 4]).flatmap(
    lambda size: st.integers(0, (1 << (7 * size)) - 1).map(lambda v: encode_hdlc_address(v, size))
)
frames = st.builds(
    HdlcFrame,
    addresses,
    addresses,
    st.integers(0, 255),
    st.binary(max_size=300),
    st.booleans(),
)


@PROPERTY
@given(frames)
def test_frame_round_trip(frame):
    raw = frame.to_bytes()
    assert decode_hdlc_frame(raw) == (frame, len(raw) - 1)


@PROPERTY
@given(st.binary(max_size=1500), st.integers(1, 400), addresses, addresses)
def test_segmentation_round_trip(info, max_info, dest, src):
    raw = encode_hdlc_frames(info, dest_address=dest, src_address=src, max_info_length=max_info)
    decoded = decode_hdlc_frames(raw)
    assert b"".join(f.info for f in decoded) == info
    assert all(f.segmented for f in decoded[:-1])
    assert not decoded[-1].segmented
    assert all(len(f.info) <= max_info for f in decoded)


@PROPERTY
@given(st.binary(max_size=80).map(lambda b: b"\x7e" + b))
def test_arbitrary_bytes_raise_only_frame_error(raw):
    with contextlib.suppress(FrameError):
        decode_hdlc_frames(raw)
    single_frame_info(raw)  # never raises: None or the info field


@PROPERTY
@given(frames, st.data())
def test_any_single_bit_flip_is_detected(frame, data):
    raw = frame.to_bytes()
    bit = data.draw(st.integers(0, 8 * len(raw) - 1))
    mutated = bytearray(raw)
    mutated[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(FrameError):
        decode_hdlc_frames(bytes(mutated))
    assert single_frame_info(bytes(mutated)) is None


@given(st.binary(max_size=600))
def test_crc16_x25_equals_the_portable_computation(data):
    """fastcrc, where installed, and the crc_hqx form give the same CRC."""
    from openams.dlms._hdlc import _portable_crc16_x25

    assert crc16_x25(data) == _portable_crc16_x25(data)
    assert crc16_x25(memoryview(data)) == _portable_crc16_x25(memoryview(data))

"""From the bytes of one push to a Push: framing detection, bounds, block transfer, errors."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    ApduError,
    CipheredApdu,
    Ciphering,
    Data,
    DataNotification,
    DataType,
    DecryptionError,
    DlmsError,
    FrameError,
    GeneralBlockTransfer,
    HdlcFrame,
    InputTooLarge,
    KeyPair,
    MeterReading,
    MissingKeyError,
    PushDecoder,
    ReplayError,
    ReplayGuard,
    WrapperFrame,
    build_notification,
    crc16_x25,
    decode_push,
    encode_hdlc_frames,
    encode_mbus_frames,
    encode_push,
    unframe,
)
from openams.dlms._push import DEFAULT_MAX_PUSH_SIZE
from tests.vectors import aidon_6534, green_book, kaifa_ma304h3e

from .strategies import PROPERTY

READING = MeterReading(**kaifa_ma304h3e.READING)
NOTIFICATION = build_notification("kaifa", 2, READING)
APDU = NOTIFICATION.to_bytes()
LLC = b"\xe6\xe7\x00"


def _gbt(apdu: bytes, size: int) -> list[bytes]:
    chunks = [apdu[i : i + size] for i in range(0, len(apdu), size)]
    return [
        GeneralBlockTransfer(i == len(chunks) - 1, True, 1, i + 1, 0, chunk).to_bytes()
        for i, chunk in enumerate(chunks)
    ]


def _hdlc(info: bytes, segmented: bool = False) -> bytes:
    return HdlcFrame(b"\x41", b"\x08\x83", 0x13, info, segmented).to_bytes()


# --- framing detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "framing"),
    [
        (encode_hdlc_frames(LLC + APDU), "hdlc"),
        (encode_hdlc_frames(b"\xe6\xe6\x00" + APDU), "hdlc"),  # a client's LLC header
        (encode_hdlc_frames(APDU), "hdlc"),  # no LLC header at all
        (encode_hdlc_frames(LLC + APDU, max_info_length=40), "hdlc"),  # segmented
        (encode_mbus_frames(APDU), "mbus"),
        (encode_mbus_frames(APDU, max_segment=50), "mbus"),
        (WrapperFrame(1, 16, APDU).to_bytes(), "wrapper"),
        (LLC + APDU, "llc"),
        (b"\xe6\xe6\x00" + APDU, "llc"),
        (APDU, "apdu"),
    ],
    ids=[
        "hdlc",
        "hdlc-client-llc",
        "hdlc-no-llc",
        "hdlc-segmented",
        "mbus",
        "mbus-segmented",
        "wrapper",
        "llc",
        "llc-client",
        "apdu",
    ],
)
def test_framing_is_recognised_by_its_first_bytes(raw, framing):
    assert unframe(raw) == (framing, APDU)
    push = PushDecoder().decode(raw)
    assert push.framing == framing
    assert push.layout == "kaifa"
    assert push.values["1-0:31.7.0.255"] == (6.789, "A")


def test_hdlc_with_a_general_block_transfer_in_each_frame():
    blocks = _gbt(APDU, 50)
    raw = b"".join(_hdlc(LLC + block) for block in blocks)
    assert len(blocks) > 2
    assert unframe(raw) == ("hdlc", APDU)
    # a single frame carrying a single block takes the same path
    one = _hdlc(LLC + _gbt(APDU, 1000)[0])
    assert unframe(one) == ("hdlc", APDU)


def test_hdlc_blocks_without_llc_and_segmented_blocks():
    blocks = _gbt(APDU, 60)
    raw = b"".join(encode_hdlc_frames(block, max_info_length=25) for block in blocks)
    assert unframe(raw) == ("hdlc", APDU)


def test_raw_and_llc_general_block_transfer_of_one_block():
    (block,) = _gbt(APDU, 1000)
    assert unframe(block) == ("apdu", APDU)
    assert unframe(LLC + block) == ("llc", APDU)


def test_general_block_transfer_carrying_a_ciphered_push():
    cipher = Ciphering(green_book.SYSTEM_TITLE, 3, green_book.EK, green_book.AK)
    ciphered = encode_push(NOTIFICATION, framing="apdu", ciphering=cipher)
    raw = b"".join(_hdlc(LLC + block) for block in _gbt(ciphered, 40))
    push = PushDecoder().decode(raw, keys=KeyPair(green_book.EK, green_book.AK))
    assert push.values["1-0:1.7.0.255"] == (3456, "W")
    assert push.invocation_counter == 3


@pytest.mark.parametrize(
    "data",
    [bytearray(APDU), memoryview(LLC + APDU), bytearray(encode_hdlc_frames(LLC + APDU))],
    ids=["bytearray", "memoryview", "hdlc-bytearray"],
)
def test_bytes_like_input(data):
    assert PushDecoder().decode(data).values["1-0:1.7.0.255"] == (3456, "W")


# --- framing errors --------------------------------------------------------------------------


def test_empty_input():
    with pytest.raises(FrameError, match="empty input"):
        unframe(b"")


def test_input_larger_than_the_bound_is_refused_before_parsing():
    decoder = PushDecoder(max_push_size=100)
    assert len(APDU) < 200
    with pytest.raises(InputTooLarge, match="exceeds the limit of 100") as info:
        decoder.decode(b"\x7e" + bytes(100))  # would be a broken frame, but is never parsed
    assert info.value.code == "bad_frame"
    assert PushDecoder().max_push_size == DEFAULT_MAX_PUSH_SIZE
    with pytest.raises(InputTooLarge):
        PushDecoder().decode(bytes(DEFAULT_MAX_PUSH_SIZE + 1))
    assert PushDecoder(max_push_size=len(APDU)).decode(APDU).layout == "kaifa"


@pytest.mark.parametrize(
    "raw",
    [
        _hdlc(LLC + APDU) + _hdlc(LLC + APDU),
        _hdlc(LLC + APDU) + _hdlc(LLC + APDU)[1:],  # sharing a flag
    ],
    ids=["two-frames", "shared-flag"],
)
def test_two_pushes_in_one_input_are_refused(raw):
    with pytest.raises(FrameError, match="holds 2 pushes"):
        unframe(raw)


def test_segmented_hdlc_push_that_ends_early():
    raw = encode_hdlc_frames(LLC + APDU, max_info_length=40)
    frames = raw.split(b"\x7e\x7e")
    truncated = b"\x7e\x7e".join(frames[:2]) + b"\x7e"
    with pytest.raises(FrameError, match="ends before its last frame"):
        unframe(truncated)


def test_hdlc_frames_without_information():
    raw = HdlcFrame(b"\x41", b"\x03", 0x13, b"").to_bytes()
    with pytest.raises(FrameError, match="carry no information field"):
        unframe(raw)
    with pytest.raises(FrameError, match="carry no information field"):
        unframe(_hdlc(LLC))  # an LLC header and nothing after it


def test_truncated_general_block_transfer():
    blocks = _gbt(APDU, 50)
    raw = b"".join(_hdlc(LLC + block) for block in blocks[:-1])
    with pytest.raises(ApduError, match="before its last block"):
        unframe(raw)
    with pytest.raises(ApduError, match="before its last block"):
        unframe(blocks[0])


def test_general_block_transfer_interrupted_by_another_apdu():
    blocks = _gbt(APDU, 50)
    raw = _hdlc(LLC + blocks[0]) + _hdlc(LLC + APDU) + _hdlc(LLC + blocks[1])
    with pytest.raises(ApduError, match="interrupted by another APDU"):
        unframe(raw)


def test_general_block_transfer_out_of_order():
    blocks = _gbt(APDU, 50)
    raw = b"".join(_hdlc(LLC + block) for block in (blocks[1], blocks[0], *blocks[2:]))
    with pytest.raises(ApduError, match="block 1 where 3 was due"):
        unframe(raw)


def test_wrapper_with_trailing_bytes_is_refused():
    with pytest.raises(FrameError, match="1 bytes after the wrapper frame"):
        unframe(WrapperFrame(1, 16, APDU).to_bytes() + b"\x00")


def test_broken_hdlc_frame_is_refused_by_both_paths():
    raw = bytearray(encode_hdlc_frames(LLC + APDU))
    raw[-2] ^= 0xFF
    with pytest.raises(FrameError, match="FCS"):
        unframe(bytes(raw))


def test_hdlc_three_byte_address_is_refused():
    """IEC 62056-46 addresses are 1, 2 or 4 bytes; a push framed with a three-byte address is
    not a valid frame, whether or not it is the only frame of the push."""
    body = bytes.fromhex("a0 00 02 04 07 03 13")
    info = LLC + APDU
    length = len(body) + 2 + len(info) + 2
    header = (0xA000 | length).to_bytes(2, "big") + body[2:]
    body = header + crc16_x25(header).to_bytes(2, "little") + info
    raw = b"\x7e" + body + crc16_x25(body).to_bytes(2, "little") + b"\x7e"
    with pytest.raises(FrameError, match="address"):
        unframe(raw + _hdlc(LLC + APDU))  # two frames: the full decoder reads the first
    with pytest.raises(FrameError, match="address"):
        unframe(raw)


# --- APDU errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (LLC, ApduError, "empty APDU"),
        (bytes.fromhex("c0 01 00 0008 0000010000ff 02 00"), ApduError, "0xc0 is not a data-notif"),
        (APDU[:-1], ApduError, "truncated"),
        (APDU + b"\x00", ApduError, "1 bytes after the notification body"),
        (bytes.fromhex("0f 00000000 05 00"), ApduError, "date-time field starts with 0x05"),
        (bytes.fromhex("0f 00000000 0c 07e8"), ApduError, "date-time truncated"),
        (bytes.fromhex("0f 00000000 00 07"), ApduError, "unknown A-XDR data type tag 0x07"),
        (bytes.fromhex("0f 00000000 00 02 03 00"), ApduError, "structure of 3 elements"),
        (bytes.fromhex("0f 00000000 00 09 81"), ApduError, "length field truncated"),
        (bytes.fromhex("0f 00000000 00 09 05 00"), ApduError, "octet-string of 5 bytes"),
        (bytes.fromhex("0f 00000000 00 04 11 00"), ApduError, "bit-string of 3 bytes"),
        (bytes.fromhex("0f 00000000 00 19 00"), ApduError, "date-time of 12 bytes"),
        (bytes.fromhex("0f 00000000 00 02 02 09 00"), ApduError, "data tag missing"),
        (bytes.fromhex("0f 00000000 00 06 00"), ApduError, "double-long-unsigned truncated"),
        (bytes.fromhex("0f 00000000"), ApduError, "not a data-notification"),
    ],
)
def test_malformed_apdus_raise_apdu_error(raw, error, message):
    with pytest.raises(error, match=message):
        PushDecoder().decode(raw)


def test_nesting_bound_holds_on_the_push_path():
    deep = bytes.fromhex("0f 00000000 00") + b"\x01\x01" * 40 + b"\x00"
    with pytest.raises(ApduError, match="nesting deeper than 32"):
        PushDecoder().decode(deep)


def test_malformed_date_time_leaf_in_a_list_is_apdu_error():
    bad = bytearray(build_notification("kaifa", 3, READING).to_bytes())
    clock_at = bad.rindex(bytes.fromhex("09 0c 07 e8")) + 4
    bad[clock_at] = 13  # month 13 in the List 3 clock
    with pytest.raises(ApduError, match="special value"):
        PushDecoder().decode(bytes(bad))


@pytest.mark.parametrize("sc", [0x00, 0x20])
def test_ciphered_envelope_with_empty_content(sc):
    raw = CipheredApdu(0xDB, green_book.SYSTEM_TITLE, sc, 1, b"").to_bytes()
    with pytest.raises(ApduError, match="ciphered content is empty"):
        PushDecoder().decode(raw, keys=KeyPair(green_book.EK))


def test_general_ciphering_envelope_is_read():
    key = green_book.EK
    sealed = encode_push(
        NOTIFICATION,
        framing="apdu",
        ciphering=Ciphering(green_book.SYSTEM_TITLE, 5, key, green_book.AK),
    )
    glo = CipheredApdu(0xDB, sealed[2:10], sealed[11], int.from_bytes(sealed[12:16]), sealed[16:])
    assert glo.to_bytes() == sealed
    general = CipheredApdu(0xDD, glo.system_title, 0x30, 5, glo.payload).to_bytes()
    push = PushDecoder().decode(general, keys=KeyPair(key, green_book.AK))
    assert push.values["1-0:1.7.0.255"] == (3456, "W")
    assert push.system_title == green_book.SYSTEM_TITLE


def test_ciphered_push_without_keys():
    raw = encode_push(
        NOTIFICATION,
        ciphering=Ciphering(green_book.SYSTEM_TITLE, 1, green_book.EK, green_book.AK),
    )
    with pytest.raises(MissingKeyError):
        decode_push(raw)


# --- the Push record -------------------------------------------------------------------------


def test_decode_push_with_a_zone_name():
    raw = encode_push(build_notification("kaifa", 1, READING))
    oslo = decode_push(raw)
    helsinki = decode_push(raw, tz="Europe/Helsinki")
    assert oslo.time.utcoffset().total_seconds() == 7200
    assert helsinki.time.utcoffset().total_seconds() == 3 * 3600
    assert PushDecoder(tz=ZoneInfo("UTC")).decode(raw).time.isoformat().endswith("+00:00")


def test_decoder_refuses_an_unknown_zone():
    with pytest.raises(ValueError, match="unknown time zone"):
        PushDecoder(tz="Mars/Olympus_Mons")


def test_push_to_dict():
    cipher = Ciphering(b"KFM\x10\x20\x00\x00\x01", 0x1234, green_book.EK, green_book.AK)
    raw = encode_push(build_notification("kaifa", 3, READING), ciphering=cipher)
    push = PushDecoder().decode(raw, keys=KeyPair(green_book.EK, green_book.AK))
    as_dict = push.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["framing"] == "hdlc"
    assert as_dict["layout"] == "kaifa"
    assert as_dict["manufacturer"] == "Kaifa"
    assert as_dict["list_id"] == "KFM_001"
    assert as_dict["meter_id"] == READING.meter_id
    assert as_dict["meter_type"] == READING.meter_type
    assert as_dict["system_title"] == "4b464d1020000001"
    assert as_dict["invocation_counter"] == 0x1234
    assert as_dict["security"] == "auth+enc"
    assert as_dict["time"] == "2024-06-10T08:30:10+02:00"
    assert as_dict["header_time"] == "2024-06-10T08:30:10+02:00"
    assert as_dict["values"]["1-0:31.7.0.255"] == {"value": 6.789, "unit": "A"}
    assert as_dict["values"]["0-0:1.0.0.255"] == {
        "value": "2024-06-10T08:30:10+02:00",
        "unit": None,
    }


def test_plain_push_to_dict_has_no_security():
    push = PushDecoder().decode(aidon_6534.LIST_1)
    as_dict = push.to_dict()
    assert (as_dict["security"], as_dict["system_title"], as_dict["invocation_counter"]) == (
        "none",
        None,
        None,
    )
    assert as_dict["time"] is None
    assert as_dict["header_time"] is None
    assert push.security == "none"


def test_hand_built_notification_is_read_by_the_generic_decoder():
    push = PushDecoder().decode(green_book.DATA_NOTIFICATION)
    assert (push.framing, push.layout, push.manufacturer) == ("apdu", "obis", None)
    assert push.values == {"1-0:1.8.0.255": (green_book.DATA_NOTIFICATION_VALUE, None)}
    # a generic push states its deviation, and it is trusted
    assert push.header_time.isoformat() == green_book.DATA_NOTIFICATION_ISO
    assert push.time == push.header_time


def test_unknown_push_keeps_the_tree_and_header_time():
    body = Data(DataType.ARRAY, (Data(DataType.UNSIGNED, 1),))
    when = bytes.fromhex("07e8 01 0f 01 11 00 00 00 0000 00")
    push = PushDecoder().decode(DataNotification(1, when, body).to_bytes())
    assert push.layout == "unknown"
    assert push.tree == body
    assert push.header_time == datetime(2024, 1, 15, 17, tzinfo=UTC)
    assert push.to_dict()["values"] == {}


# --- properties ------------------------------------------------------------------------------

PUSHES = [
    encode_push(build_notification(style, n, READING), framing=framing, style=style)
    for style in ("aidon", "kaifa", "kamstrup")
    for n in (1, 3)
    for framing in ("hdlc", "mbus", "wrapper", "llc", "apdu")
]


@PROPERTY
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_push_or_a_dlms_error(raw):
    with contextlib.suppress(DlmsError):
        PushDecoder().decode(raw)


@PROPERTY
@given(
    st.sampled_from([b"", b"\x7e\xa0", b"\x68", b"\x00\x01", LLC, b"\x0f", b"\xdb\x08", b"\xe0"]),
    st.binary(max_size=120),
)
def test_arbitrary_bytes_after_each_framing_prefix_give_a_push_or_a_dlms_error(prefix, rest):
    with contextlib.suppress(DlmsError):
        PushDecoder().decode(prefix + rest, keys=KeyPair(bytes(16), bytes(16)))


@PROPERTY
@given(st.sampled_from(PUSHES), st.data())
def test_mutated_pushes_give_a_push_or_a_dlms_error(raw, data):
    raw = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["set", "delete", "insert"]))
        if action == "set":
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[at]
        else:
            raw.insert(at, data.draw(st.integers(0, 255)))
        if not raw:
            break
    decoder = PushDecoder()
    for _ in range(2):  # the second time through the compiled template, if one was made
        with contextlib.suppress(DlmsError):
            decoder.decode(bytes(raw))


# --- replay protection -----------------------------------------------------------------------

TITLE = b"KFM\x10\x20\x00\x00\x01"
KEYS = KeyPair(green_book.EK, green_book.AK)


def _sealed(counter: int, sc: int = 0x30) -> bytes:
    cipher = Ciphering(TITLE, counter, green_book.EK, green_book.AK, sc)
    return encode_push(build_notification("kaifa", 1, READING), ciphering=cipher)


def test_replay_guard_refuses_a_counter_that_does_not_increase():
    guard = ReplayGuard()
    decoder = PushDecoder(keys={TITLE: KEYS}.get, replay_guard=guard)
    assert decoder.decode(_sealed(10)).invocation_counter == 10
    assert decoder.decode(_sealed(12)).invocation_counter == 12
    for counter in (12, 11):
        with pytest.raises(ReplayError) as info:
            decoder.decode(_sealed(counter))
        assert (info.value.invocation_counter, info.value.last_invocation_counter) == (counter, 12)
        assert info.value.code == "replay"
    assert guard.last(TITLE) == 12


def test_replay_guard_is_not_moved_by_a_push_that_fails_authentication():
    guard = ReplayGuard({TITLE: 5})
    decoder = PushDecoder(keys={TITLE: KEYS}.get, replay_guard=guard)
    forged = bytearray(_sealed(1000))
    forged[-4] ^= 0x01  # inside the tag (before the FCS and the flag)
    forged[-3:-1] = crc16_x25(bytes(forged[1:-3])).to_bytes(2, "little")
    with pytest.raises(DecryptionError):
        decoder.decode(bytes(forged))
    assert guard.last(TITLE) == 5
    assert decoder.decode(_sealed(6)).invocation_counter == 6


def test_without_a_guard_counters_are_not_checked():
    decoder = PushDecoder(keys={TITLE: KEYS}.get)
    assert decoder.decode(_sealed(3)).invocation_counter == 3
    assert decoder.decode(_sealed(3)).invocation_counter == 3


@pytest.mark.parametrize(
    ("sc", "content"),
    [
        (0x00, build_notification("kaifa", 1, READING).to_bytes()),  # a push in clear
        (0x20, b"anything at all"),  # "encrypted", no tag: garbage that will not even parse
    ],
    ids=["sc-00", "sc-20"],
)
def test_an_unauthenticated_push_cannot_lock_the_meter_out(sc, content):
    """Replay protection must not let anyone without the keys move a meter's counter forward
    (the rule in ``_replay``'s docstring): SC 0x00 and 0x20 carry no tag, so their counter is
    whatever the sender likes. Both envelopes here are made without any key."""
    guard = ReplayGuard()
    decoder = PushDecoder(keys={TITLE: KEYS}.get, replay_guard=guard)
    decoder.decode(_sealed(10))
    forged = CipheredApdu(0xDB, TITLE, sc, 0xFFFFFFFF, content).to_bytes()
    with contextlib.suppress(DlmsError):
        decoder.decode(forged)
    assert decoder.decode(_sealed(11)).invocation_counter == 11

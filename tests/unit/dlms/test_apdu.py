"""The pushed APDUs: data-notification, the ciphering envelopes, general-block-transfer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    ApduError,
    CipheredApdu,
    Data,
    DataNotification,
    DataType,
    GeneralBlockTransfer,
    decode_ciphered_apdu,
    decode_data_notification,
    decode_general_block_transfer,
    reassemble_blocks,
)
from openams.dlms._apdu import split_glo_ciphering
from tests.vectors import green_book as gb

from .strategies import PROPERTY, data_trees, invocation_counters, system_titles

CLOCK = bytes.fromhex("07e8 03 05 02 0e 00 00 ff 8000 00")  # 2024-03-05 Tue 14:00:00
BODY = Data(DataType.STRUCTURE, (Data(DataType.DOUBLE_LONG_UNSIGNED, 1234),))
BODY_BYTES = bytes.fromhex("02 01 06 00 00 04 d2")

# --- data-notification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "date_time", "tagged"),
    [
        # tag, long-invoke-id-and-priority, date-time absent, body
        ("0f 40000000 00" + BODY_BYTES.hex(), None, False),
        # date-time present: length 0C and twelve bytes (the Green Book's form)
        ("0f 00000001 0c" + CLOCK.hex() + BODY_BYTES.hex(), CLOCK, False),
        # date-time tagged as an octet-string 09 0C (early Kaifa firmware)
        ("0f 40000000 09 0c" + CLOCK.hex() + BODY_BYTES.hex(), CLOCK, True),
    ],
)
def test_data_notification_date_time_forms(raw, date_time, tagged):
    raw = bytes.fromhex(raw)
    notification = decode_data_notification(raw)
    assert notification.date_time == date_time
    assert notification.date_time_tagged is tagged
    assert notification.body == BODY
    assert notification.to_bytes() == raw


def test_hand_built_data_notification_from_the_asn1():
    notification = decode_data_notification(gb.DATA_NOTIFICATION)
    assert notification.long_invoke_id_and_priority == gb.DATA_NOTIFICATION_INVOKE_ID
    assert notification.body == Data(
        DataType.STRUCTURE,
        (
            Data(DataType.OCTET_STRING, gb.DATA_NOTIFICATION_OBIS),
            Data(DataType.DOUBLE_LONG_UNSIGNED, gb.DATA_NOTIFICATION_VALUE),
        ),
    )
    assert notification.to_bytes() == gb.DATA_NOTIFICATION


def test_invoke_id_and_priority_is_the_four_bytes_after_the_tag():
    raw = bytes.fromhex("0f c0 00 12 34 00 00")
    assert decode_data_notification(raw).long_invoke_id_and_priority == 0xC0001234


@pytest.mark.parametrize(
    ("raw", "offset", "message"),
    [
        ("", 0, "not a data-notification"),
        ("0f 00000000 00", 0, "not a data-notification"),  # too short for a body
        ("0e 00000000 00 00", 0, "not a data-notification"),
        ("0f 00000000 0d 00", 5, "date-time field starts with 0x0d"),
        ("0f 00000000 09 0b" + CLOCK.hex() + "00", 5, "date-time field starts with 0x09"),
        ("0f 00000000 0c 07e8 03", 5, "date-time truncated"),
        ("0f 00000000 09 0c 07e8 03", 5, "date-time truncated"),
        ("0f 00000000 00 11 01 00", 8, "1 bytes after the notification body"),
        ("0f 00000000 00 12 01", 6, "long-unsigned truncated"),
    ],
)
def test_malformed_data_notification_raises_apdu_error(raw, offset, message):
    with pytest.raises(ApduError, match=message) as info:
        decode_data_notification(bytes.fromhex(raw))
    assert info.value.offset == offset


def test_data_notification_refuses_a_date_time_that_is_not_twelve_bytes():
    with pytest.raises(ValueError, match="12 bytes"):
        DataNotification(0, b"\x00" * 11, BODY).to_bytes()


@PROPERTY
@given(
    st.integers(0, 0xFFFFFFFF),
    st.none() | st.binary(min_size=12, max_size=12),
    st.booleans(),
    data_trees(max_leaves=12),
)
def test_data_notification_round_trip(invoke, date_time, tagged, body):
    notification = DataNotification(invoke, date_time, body, tagged and date_time is not None)
    assert decode_data_notification(notification.to_bytes()) == notification


# --- ciphering envelopes -------------------------------------------------------------------

TITLE = bytes.fromhex("4b464d 1020000001")  # FLAG id "KFM", then the serial
PAYLOAD = bytes(range(20))


@pytest.mark.parametrize("tag", [0xDB, 0xDC])
def test_glo_and_ded_envelopes_written_by_hand(tag):
    raw = (
        bytes((tag,))
        + bytes.fromhex(
            "08 4b464d1020000001"  # system-title: length 8 and the title
            "19"  # ciphered-content length: 1 + 4 + 20
            "30"  # security control: authenticated and encrypted, suite 0
            "00000102"  # invocation counter 258
        )
        + PAYLOAD
    )
    apdu = decode_ciphered_apdu(raw)
    assert apdu == CipheredApdu(tag, TITLE, 0x30, 258, PAYLOAD)
    assert apdu.to_bytes() == raw


@pytest.mark.parametrize(
    ("size", "length_field"), [(0x7A, "7f"), (0x7B, "81 80"), (300, "82 01 31")]
)
def test_envelope_length_forms(size, length_field):
    apdu = CipheredApdu(0xDB, TITLE, 0x30, 7, bytes(size))
    raw = apdu.to_bytes()
    assert raw[10 : 10 + len(bytes.fromhex(length_field))] == bytes.fromhex(length_field)
    assert decode_ciphered_apdu(raw) == apdu
    assert split_glo_ciphering(raw) == (TITLE, 0x30, 7, bytes(size))


def test_envelope_with_a_non_minimal_length_form_decodes():
    # 0x83 (three length bytes) is legal BER though no meter needs it; the fast path leaves it
    # to the full decoder
    raw = bytes.fromhex("db 08 4b464d1020000001 83 000019 30 00000102") + PAYLOAD
    assert split_glo_ciphering(raw) is None
    assert decode_ciphered_apdu(raw) == CipheredApdu(0xDB, TITLE, 0x30, 258, PAYLOAD)


GENERAL_CIPHERING = bytes.fromhex(
    "dd"  # general-ciphering
    "02 0a0b"  # transaction-id
    "08 4b464d1020000001"  # originator-system-title
    "08 0102030405060708"  # recipient-system-title
    "00"  # date-time: empty
    "01 ff"  # other-information
    "00"  # key-info: absent
    "09 30 00000005 aabbccdd"  # ciphered-content: SC, IC, payload
)


def test_general_ciphering_envelope_written_by_hand():
    apdu = decode_ciphered_apdu(GENERAL_CIPHERING)
    assert apdu == CipheredApdu(
        0xDD,
        TITLE,
        0x30,
        5,
        bytes.fromhex("aabbccdd"),
        transaction_id=b"\x0a\x0b",
        recipient_system_title=bytes.fromhex("0102030405060708"),
        date_time=b"",
        other_information=b"\xff",
        key_info=None,
    )
    assert apdu.to_bytes() == GENERAL_CIPHERING


def test_general_ciphering_with_an_identified_key():
    raw = GENERAL_CIPHERING.replace(
        bytes.fromhex("01 ff 00 09"), bytes.fromhex("01 ff 01 00 02 09")
    )
    apdu = decode_ciphered_apdu(raw)
    assert apdu.key_info == b"\x00\x02"  # identified-key, key-id 2
    assert apdu.to_bytes() == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "not a ciphered APDU"),
        ("0f 00", "not a ciphered APDU"),
        ("db 08 4b464d10", "system-title truncated"),
        ("db 07 4b464d10200000 05 3000000001", "system title is 7 bytes, not 8"),
        ("db 08 4b464d1020000001 04 30000000", "lacks its security header"),
        ("db 08 4b464d1020000001 09 3000000001", "ciphered-content truncated"),
        ("db 08 4b464d1020000001 05 3000000001 00", "1 bytes after the ciphered content"),
        ("db 08 4b464d1020000001 85 0000000005", "unsupported BER length form"),
        ("dd 00 08 4b464d1020000001 00 00 00", "truncated before key-info"),
        ("dd 00 08 4b464d1020000001 00 00 00 02 05 3000000001", "key-info form not supported"),
        ("dd 00 08 4b464d1020000001 00 00 00 01 01", "key-info form not supported"),
        ("dd 00 08 4b464d1020000001 00 00 00 01 00", "key-info form not supported"),
        ("dd 00 08 4b464d1020000001 00 00", "length field missing"),
    ],
)
def test_malformed_envelopes_raise_apdu_error(raw, message):
    with pytest.raises(ApduError, match=message):
        decode_ciphered_apdu(bytes.fromhex(raw))


@PROPERTY
@given(
    st.sampled_from([0xDB, 0xDC]),
    system_titles,
    st.integers(0, 255),
    invocation_counters,
    st.binary(max_size=400),
)
def test_glo_and_ded_round_trip(tag, title, sc, ic, payload):
    apdu = CipheredApdu(tag, title, sc, ic, payload)
    raw = apdu.to_bytes()
    assert decode_ciphered_apdu(raw) == apdu
    assert split_glo_ciphering(raw) == (title, sc, ic, payload)


octets = st.binary(max_size=20)


@PROPERTY
@given(
    octets,
    system_titles,
    octets,
    octets,
    octets,
    st.none() | st.binary(min_size=1, max_size=1).map(lambda k: b"\x00" + k),
    st.integers(0, 255),
    invocation_counters,
    st.binary(max_size=200),
)
def test_general_ciphering_round_trip(tid, title, recipient, when, other, key_info, sc, ic, body):
    apdu = CipheredApdu(0xDD, title, sc, ic, body, tid, recipient, when, other, key_info)
    raw = apdu.to_bytes()
    assert decode_ciphered_apdu(raw) == apdu
    assert split_glo_ciphering(raw) is None


@PROPERTY
@given(st.sampled_from([b"\xdb", b"\xdc", b"\xdd"]), st.binary(max_size=60))
def test_arbitrary_envelopes_decode_or_raise_apdu_error(tag, rest):
    try:
        apdu = decode_ciphered_apdu(tag + rest)
    except ApduError:
        pass
    else:
        assert len(apdu.system_title) == 8


# --- general-block-transfer ----------------------------------------------------------------


def test_general_block_transfer_written_by_hand():
    raw = bytes.fromhex(
        "e0"  # general-block-transfer
        "c1"  # block-control: last-block, streaming, window 1
        "0002"  # block-number 2
        "0000"  # block-number-ack 0
        "03 0f0000"  # block-data
    )
    block = decode_general_block_transfer(raw)
    assert block == GeneralBlockTransfer(True, True, 1, 2, 0, b"\x0f\x00\x00")
    assert block.to_bytes() == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("e0 80 0001 0000", "not a general-block-transfer"),
        ("e1 80 0001 0000 00", "not a general-block-transfer"),
        ("e0 80 0001 0000 05 0102", "block-data truncated"),
        ("e0 80 0001 0000 01 01 02", "1 bytes after the block data"),
    ],
)
def test_malformed_general_block_transfer_raises_apdu_error(raw, message):
    with pytest.raises(ApduError, match=message):
        decode_general_block_transfer(bytes.fromhex(raw))


def _blocks(data: bytes, size: int, first: int = 1) -> list[GeneralBlockTransfer]:
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    return [
        GeneralBlockTransfer(i == len(chunks) - 1, True, 1, first + i, 0, chunk)
        for i, chunk in enumerate(chunks)
    ]


def test_blocks_reassemble_in_order():
    data = bytes(range(100))
    assert reassemble_blocks(_blocks(data, 30)) == data
    assert reassemble_blocks(_blocks(data, 30, first=7)) == data


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([], "no general-block-transfer blocks"),
        (_blocks(bytes(90), 30)[:2], "ends after block 2, before its last block"),
        ([_blocks(bytes(90), 30)[0], *_blocks(bytes(90), 30)], "block 1 where 2 was due"),
        ([_blocks(bytes(90), 30)[0], _blocks(bytes(90), 30)[2]], "block 3 where 2 was due"),
        (
            [GeneralBlockTransfer(True, True, 1, 1, 0, b"a"), *_blocks(b"bc", 1, first=2)],
            "last-block flag out of place",
        ),
    ],
)
def test_reassembly_errors(blocks, message):
    with pytest.raises(ApduError, match=message):
        reassemble_blocks(blocks)


@PROPERTY
@given(
    st.booleans(),
    st.booleans(),
    st.integers(0, 63),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.binary(max_size=300),
)
def test_general_block_transfer_round_trip(last, streaming, window, number, ack, data):
    block = GeneralBlockTransfer(last, streaming, window, number, ack, data)
    assert decode_general_block_transfer(block.to_bytes()) == block


@PROPERTY
@given(st.binary(min_size=1, max_size=500), st.integers(1, 60))
def test_split_blocks_reassemble_to_the_apdu(data, size):
    blocks = [decode_general_block_transfer(b.to_bytes()) for b in _blocks(data, size)]
    assert reassemble_blocks(blocks) == data

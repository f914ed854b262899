"""A-XDR ``Data``: every type, BER lengths, error offsets, round trips, hostile input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    ApduError,
    Data,
    DataType,
    DecodeError,
    decode_data,
    decode_length,
    encode_data,
    encode_length,
)
from openams.dlms._axdr import MAX_DEPTH

from .strategies import PROPERTY, data_trees

D = DataType

# (Data, its encoding written by hand from the Blue Book type table)
EXAMPLES = [
    (Data(D.NULL_DATA, None), "00"),
    (Data(D.BOOLEAN, True), "03 01"),
    (Data(D.BOOLEAN, False), "03 00"),
    (Data(D.BIT_STRING, "1011"), "04 04 b0"),
    (Data(D.BIT_STRING, "101100001"), "04 09 b0 80"),
    (Data(D.BIT_STRING, ""), "04 00"),
    (Data(D.DOUBLE_LONG, -2), "05 ff ff ff fe"),
    (Data(D.DOUBLE_LONG_UNSIGNED, 0x12345678), "06 12 34 56 78"),
    (Data(D.OCTET_STRING, b"\x01\x00\x01\x08\x00\xff"), "09 06 01 00 01 08 00 ff"),
    (Data(D.OCTET_STRING, b""), "09 00"),
    (Data(D.VISIBLE_STRING, "AIDON_V0001"), "0a 0b 41 49 44 4f 4e 5f 56 30 30 30 31"),
    (Data(D.VISIBLE_STRING, "Ø"), "0a 01 d8"),  # visible-string bytes are read as Latin-1
    (Data(D.UTF8_STRING, "Ø"), "0c 02 c3 98"),
    (Data(D.BCD, 0x12), "0d 12"),
    (Data(D.INTEGER, -1), "0f ff"),
    (Data(D.LONG, -300), "10 fe d4"),
    (Data(D.UNSIGNED, 200), "11 c8"),
    (Data(D.LONG_UNSIGNED, 2301), "12 08 fd"),
    (Data(D.LONG64, -(1 << 63)), "14 80 00 00 00 00 00 00 00"),
    (Data(D.LONG64_UNSIGNED, (1 << 64) - 1), "15 ff ff ff ff ff ff ff ff"),
    (Data(D.ENUM, 30), "16 1e"),
    (Data(D.FLOAT32, 1.5), "17 3f c0 00 00"),
    (Data(D.FLOAT64, -2.0), "18 c0 00 00 00 00 00 00 00"),
    (
        Data(D.DATE_TIME, bytes.fromhex("07e8030502 0e0000ff 800000")),
        "19 07e8030502 0e0000ff 800000",
    ),
    (Data(D.DATE, bytes.fromhex("07e80305 02")), "1a 07e8030502"),
    (Data(D.TIME, bytes.fromhex("0e000000")), "1b 0e000000"),
    (Data(D.ARRAY, ()), "01 00"),
    (
        Data(D.STRUCTURE, (Data(D.INTEGER, -1), Data(D.ENUM, 33))),  # scaler -1, unit A
        "02 02 0f ff 16 21",
    ),
    (
        Data(D.ARRAY, (Data(D.STRUCTURE, (Data(D.NULL_DATA, None),)), Data(D.UNSIGNED, 1))),
        "01 02 02 01 00 11 01",
    ),
]


@pytest.mark.parametrize(("data", "encoded"), EXAMPLES, ids=lambda x: getattr(x, "type", x))
def test_every_type_encodes_and_decodes_as_the_standard_writes_it(data, encoded):
    raw = bytes.fromhex(encoded)
    assert encode_data(data) == raw
    assert decode_data(raw) == (data, len(raw))


def test_examples_cover_every_data_type():
    assert {data.type for data, _ in EXAMPLES} == set(DataType)


def test_decode_starts_at_offset_and_returns_the_end():
    raw = b"\xaa\xbb" + bytes.fromhex("12 08 fd") + b"\xcc"
    assert decode_data(raw, 2) == (Data(D.LONG_UNSIGNED, 2301), 5)


def test_boolean_reads_any_nonzero_byte_as_true():
    assert decode_data(b"\x03\x7f") == (Data(D.BOOLEAN, True), 2)


def test_bit_string_ignores_the_padding_bits():
    # nine bits: 1011 0000 1; the seven padding bits of the second byte are set but not read
    assert decode_data(bytes.fromhex("04 09 b0 ff"))[0] == Data(D.BIT_STRING, "101100001")


def test_float32_nan_keeps_its_bits():
    raw = bytes.fromhex("17 7f c0 00 00")
    data, _ = decode_data(raw)
    assert math.isnan(data.value)
    assert encode_data(data) == raw


def test_to_python_and_to_json_name_the_types():
    tree = Data(
        D.STRUCTURE,
        (Data(D.OCTET_STRING, b"\x01\xff"), Data(D.ARRAY, (Data(D.LONG, -3),)), Data(D.ENUM, 1)),
    )
    assert tree.to_python() == [b"\x01\xff", [-3], 1]
    assert tree.to_json() == {
        "structure": [{"octet-string": "01ff"}, {"array": [{"long": -3}]}, {"enum": 1}]
    }
    assert D.DOUBLE_LONG_UNSIGNED.label == "double-long-unsigned"


# --- BER lengths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (0x7F, "7f"),
        (0x80, "81 80"),
        (0xFF, "81 ff"),
        (0x100, "82 01 00"),
        (0xFFFF, "82 ff ff"),
        (0x10000, "83 01 00 00"),
        (0x01000000, "84 01 00 00 00"),
        (0xFFFFFFFF, "84 ff ff ff ff"),
    ],
)
def test_ber_length_uses_the_shortest_form(length, encoded):
    raw = bytes.fromhex(encoded)
    assert encode_length(length) == raw
    assert decode_length(raw, 0) == (length, len(raw))


def test_ber_length_reads_long_forms_that_are_not_the_shortest():
    assert decode_length(bytes.fromhex("84 00 00 00 05"), 0) == (5, 5)
    assert decode_length(bytes.fromhex("ff 82 00 05"), 1) == (5, 4)


@pytest.mark.parametrize("length", [-1, 1 << 32])
def test_encode_length_refuses_lengths_that_do_not_fit(length):
    with pytest.raises(ValueError, match="length"):
        encode_length(length)


@pytest.mark.parametrize(
    ("raw", "offset", "message"),
    [
        ("", 0, "length field missing"),
        ("80", 0, "unsupported BER length form 0x80"),
        ("85 00 00 00 00 01", 0, "unsupported BER length form 0x85"),
        ("aa 82 01", 1, "length field truncated"),
    ],
)
def test_bad_ber_length_raises_with_its_offset(raw, offset, message):
    with pytest.raises(ApduError, match=message) as info:
        decode_length(bytes.fromhex(raw), offset)
    assert info.value.offset == offset


@pytest.mark.parametrize(
    ("count", "length_field"),
    [(200, "81 c8"), (300, "82 01 2c"), (70_000, "83 01 11 70")],
)
def test_long_octet_strings_and_arrays_use_the_long_length_forms(count, length_field):
    octets = Data(D.OCTET_STRING, bytes(count))
    raw = encode_data(octets)
    assert raw.startswith(b"\x09" + bytes.fromhex(length_field))
    assert decode_data(raw) == (octets, len(raw))
    array = Data(D.ARRAY, (Data(D.NULL_DATA, None),) * count)
    raw = encode_data(array)
    assert raw.startswith(b"\x01" + bytes.fromhex(length_field))
    assert decode_data(raw) == (array, len(raw))


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "offset", "tag", "message"),
    [
        ("", 0, None, "data tag missing"),
        ("07", 0, 7, "unknown A-XDR data type tag 0x07"),
        ("ff", 0, 0xFF, "unknown A-XDR data type tag 0xff"),
        ("06 00 00 01", 0, 6, "double-long-unsigned truncated"),
        ("12 01", 0, 0x12, "long-unsigned truncated"),
        ("03", 0, 3, "boolean of 1 bytes truncated"),
        ("19 07 e8", 0, 0x19, "date-time of 12 bytes truncated"),
        ("09 05 01 02", 0, 9, "octet-string of 5 bytes truncated"),
        ("04 09 b0", 0, 4, "bit-string of 2 bytes truncated"),
        ("0c 02 c3 28", 0, 0x0C, "utf8-string is not valid UTF-8"),
        ("02 05 11 01", 0, 2, "structure of 5 elements cannot fit in 2 bytes"),
        ("01 84 ff ff ff ff 00", 0, 1, "array of 4294967295 elements cannot fit"),
        ("09 81", 1, "length", "length field truncated"),
    ],
)
def test_malformed_data_raises_apdu_error_with_offset_and_tag(raw, offset, tag, message):
    with pytest.raises(ApduError, match=message) as info:
        decode_data(bytes.fromhex(raw))
    assert info.value.offset == offset
    assert info.value.tag == tag
    assert info.value.code == "bad_apdu"


def test_error_inside_a_structure_reports_the_inner_offset():
    # structure of two: a good unsigned at 2, then a truncated long-unsigned at 4
    with pytest.raises(ApduError) as info:
        decode_data(bytes.fromhex("02 02 11 05 12 01"))
    assert info.value.offset == 4
    assert "at offset 4" in str(info.value)


def _nested(depth: int) -> bytes:
    return b"\x01\x01" * depth + b"\x00"


def test_nesting_up_to_the_bound_decodes():
    data, end = decode_data(_nested(MAX_DEPTH))
    assert end == 2 * MAX_DEPTH + 1
    for _ in range(MAX_DEPTH):
        assert data.type is D.ARRAY
        (data,) = data.value
    assert data == Data(D.NULL_DATA, None)


def test_nesting_deeper_than_the_bound_is_refused_without_recursion_error():
    with pytest.raises(ApduError, match=f"nesting deeper than {MAX_DEPTH}") as info:
        decode_data(_nested(MAX_DEPTH + 1))
    assert info.value.offset == 2 * MAX_DEPTH
    with pytest.raises(ApduError, match="nesting"):
        decode_data(b"\x02\x01" * 100_000)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (Data(D.UNSIGNED, 256), "does not fit unsigned"),
        (Data(D.INTEGER, -129), "does not fit integer"),
        (Data(D.LONG_UNSIGNED, -1), "does not fit long-unsigned"),
        (Data(D.DOUBLE_LONG, 1 << 31), "does not fit double-long"),
        (Data(D.LONG64_UNSIGNED, 1 << 64), "does not fit long64-unsigned"),
        (Data(D.BIT_STRING, "10a1"), "string of 0 and 1"),
        (Data(D.DATE_TIME, b"\x00" * 11), "date-time must be 12 bytes, got 11"),
        (Data(D.DATE, b"\x00" * 6), "date must be 5 bytes"),
        (Data(D.TIME, b""), "time must be 4 bytes"),
    ],
)
def test_encode_refuses_values_that_do_not_fit_their_type(data, message):
    with pytest.raises(ValueError, match=message):
        encode_data(data)


def test_visible_string_outside_latin1_cannot_be_encoded():
    with pytest.raises(UnicodeEncodeError):
        encode_data(Data(D.VISIBLE_STRING, "€"))


def test_decode_errors_belong_to_the_decode_family():
    assert issubclass(ApduError, DecodeError)


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(data_trees())
def test_decode_inverts_encode(data):
    raw = encode_data(data)
    assert decode_data(raw) == (data, len(raw))


@PROPERTY
@given(data_trees(), st.binary(max_size=4), st.binary(max_size=4))
def test_decode_reads_exactly_one_value_amid_other_bytes(data, before, after):
    raw = encode_data(data)
    assert decode_data(before + raw + after, len(before)) == (data, len(before) + len(raw))


@PROPERTY
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_apdu_error(raw):
    try:
        data, end = decode_data(raw)
    except ApduError as exc:
        error = exc
    else:
        assert 0 < end <= len(raw)
        # whatever decodes re-encodes to something that decodes to the same value (repr, so
        # that NaN compares equal to itself)
        again = encode_data(data)
        assert repr(decode_data(again)) == repr((data, len(again)))
        return
    assert error.offset is not None
    assert 0 <= error.offset <= len(raw)


@PROPERTY
@given(data_trees(max_leaves=10), st.data())
def test_truncated_encodings_raise_apdu_error(data, draw):
    raw = encode_data(data)
    cut = draw.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(ApduError):
        decode_data(raw[:cut])

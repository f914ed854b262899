"""A-XDR encoding of COSEM ``Data``: decode and encode.

Every value a push carries is a ``Data`` CHOICE, one tag byte followed by its content::

    Data ::= CHOICE {
        null-data            [0]  NULL,
        array                [1]  SEQUENCE OF Data,      -- count, then elements
        structure            [2]  SEQUENCE OF Data,      -- count, then elements
        boolean              [3]  BOOLEAN,
        bit-string           [4]  BIT STRING,            -- length in bits, then bytes
        double-long          [5]  Integer32,
        double-long-unsigned [6]  Unsigned32,
        octet-string         [9]  OCTET STRING,
        visible-string       [10] VisibleString,
        utf8-string          [12] UTF8String,
        bcd                  [13] Integer8,
        integer              [15] Integer8,
        long                 [16] Integer16,
        unsigned             [17] Unsigned8,
        long-unsigned        [18] Unsigned16,
        long64               [20] Integer64,
        long64-unsigned      [21] Unsigned64,
        enum                 [22] Unsigned8,
        float32              [23] OCTET STRING (SIZE(4)),
        float64              [24] OCTET STRING (SIZE(8)),
        date-time            [25] OCTET STRING (SIZE(12)),
        date                 [26] OCTET STRING (SIZE(5)),
        time                 [27] OCTET STRING (SIZE(4))
    }

Counts and lengths use the BER length form: one byte below 0x80, else 0x81..0x84 followed by
that many length bytes. Integers are big-endian two's complement.

Invariants:
    * ``decode_data(encode_data(d)) == (d, len(encoded))`` for every ``Data`` this module builds.
    * Malformed input raises :class:`ApduError` (with the offset), never another exception.
    * Nesting deeper than :data:`MAX_DEPTH` is rejected, so hostile input cannot exhaust the
      stack; counts are checked against the bytes left, so it cannot exhaust memory either.

References:
    IEC 62056-6-2 (DLMS UA Blue Book), clause 4.1.5 "Common data types";
    IEC 62056-5-3 (DLMS UA Green Book), clause 9.5 "A-XDR encoding".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ._errors import ApduError

__all__ = [
    "MAX_DEPTH",
    "Data",
    "DataType",
    "decode_data",
    "decode_length",
    "encode_data",
    "encode_length",
]

#: Deepest nesting of arrays and structures accepted.
MAX_DEPTH = 32


class DataType(IntEnum):
    """The tag of each ``Data`` choice."""

    NULL_DATA = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27

    @property
    def label(self) -> str:
        """The name used in the standard, such as ``double-long-unsigned``."""
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Data:
    """One decoded ``Data`` value, keeping its type so that it re-encodes byte for byte.

    Attributes:
        type: The A-XDR type tag.
        value: ``None`` for null-data; a ``tuple`` of :class:`Data` for array and structure;
            ``bool`` for boolean; ``str`` of ``0``/``1`` for bit-string; ``int`` for the integer
            types, bcd and enum; ``bytes`` for octet-string, date-time, date and time; ``str``
            for visible- and utf8-string; ``float`` for float32/float64.
    """

    type: DataType
    value: Any

    def to_python(self) -> Any:
        """Plain Python value: lists for array/structure, bytes, str, int, float, bool."""
        if self.type in _CONTAINERS:
            return [item.to_python() for item in self.value]
        return self.value

    def to_json(self) -> Any:
        """A JSON-ready tree naming each type, bytes as lower-case hex."""
        if self.type in _CONTAINERS:
            return {self.type.label: [item.to_json() for item in self.value]}
        value = self.value
        if isinstance(value, bytes):
            value = value.hex()
        return {self.type.label: value}


_CONTAINERS = frozenset({DataType.ARRAY, DataType.STRUCTURE})

# Fixed-size types: tag -> (struct format, size)
_FIXED: dict[int, struct.Struct] = {
    DataType.DOUBLE_LONG: struct.Struct(">i"),
    DataType.DOUBLE_LONG_UNSIGNED: struct.Struct(">I"),
    DataType.BCD: struct.Struct(">b"),
    DataType.INTEGER: struct.Struct(">b"),
    DataType.LONG: struct.Struct(">h"),
    DataType.UNSIGNED: struct.Struct(">B"),
    DataType.LONG_UNSIGNED: struct.Struct(">H"),
    DataType.LONG64: struct.Struct(">q"),
    DataType.LONG64_UNSIGNED: struct.Struct(">Q"),
    DataType.ENUM: struct.Struct(">B"),
    DataType.FLOAT32: struct.Struct(">f"),
    DataType.FLOAT64: struct.Struct(">d"),
}
_FIXED_OCTETS: dict[int, int] = {
    DataType.BOOLEAN: 1,
    DataType.DATE_TIME: 12,
    DataType.DATE: 5,
    DataType.TIME: 4,
}
_TYPES = {int(t): t for t in DataType}


def decode_length(buf: bytes, offset: int) -> tuple[int, int]:
    """Decode a BER length (or element count) at ``offset``.

    Returns:
        ``(length, offset after the length field)``.

    Raises:
        ApduError: truncated input or a length form longer than four bytes.
    """
    try:
        first = buf[offset]
    except IndexError:
        raise ApduError("length field missing: input ends", offset=offset) from None
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ApduError(f"unsupported BER length form 0x{first:02x}", offset=offset, tag="length")
    end = offset + 1 + count
    if end > len(buf):
        raise ApduError("length field truncated", offset=offset, tag="length")
    return int.from_bytes(buf[offset + 1 : end], "big"), end


def encode_length(length: int) -> bytes:
    """Encode a BER length (or element count), the shortest form."""
    if length < 0:
        raise ValueError("length must be non-negative")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > 4:
        raise ValueError("length does not fit in four bytes")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def decode_data(buf: bytes, offset: int = 0, *, _depth: int = 0) -> tuple[Data, int]:
    """Decode one ``Data`` value at ``offset``.

    Args:
        buf: The bytes holding the value.
        offset: Where the tag byte is.

    Returns:
        ``(data, offset after the value)``.

    Raises:
        ApduError: the bytes are not a well-formed ``Data`` value.
    """
    try:
        tag = buf[offset]
    except IndexError:
        raise ApduError("data tag missing: input ends", offset=offset) from None
    dtype = _TYPES.get(tag)
    if dtype is None:
        raise ApduError(f"unknown A-XDR data type tag 0x{tag:02x}", offset=offset, tag=tag)
    pos = offset + 1
    fixed = _FIXED.get(dtype)
    if fixed is not None:
        end = pos + fixed.size
        if end > len(buf):
            raise ApduError(f"{dtype.label} truncated", offset=offset, tag=tag)
        return Data(dtype, fixed.unpack_from(buf, pos)[0]), end
    if dtype in _CONTAINERS:
        if _depth >= MAX_DEPTH:
            raise ApduError(f"nesting deeper than {MAX_DEPTH}", offset=offset, tag=tag)
        count, pos = decode_length(buf, pos)
        if count > len(buf) - pos:
            raise ApduError(
                f"{dtype.label} of {count} elements cannot fit in {len(buf) - pos} bytes",
                offset=offset,
                tag=tag,
            )
        items = []
        for _ in range(count):
            item, pos = decode_data(buf, pos, _depth=_depth + 1)
            items.append(item)
        return Data(dtype, tuple(items)), pos
    if dtype is DataType.NULL_DATA:
        return Data(dtype, None), pos
    size = _FIXED_OCTETS.get(dtype)
    if size is None:
        size, pos = decode_length(buf, pos)
        if dtype is DataType.BIT_STRING:
            nbits = size
            size = (nbits + 7) // 8
    end = pos + size
    if end > len(buf):
        raise ApduError(f"{dtype.label} of {size} bytes truncated", offset=offset, tag=tag)
    raw = bytes(buf[pos:end])
    if dtype is DataType.BOOLEAN:
        return Data(dtype, raw != b"\x00"), end
    if dtype is DataType.VISIBLE_STRING:
        return Data(dtype, raw.decode("latin-1")), end
    if dtype is DataType.UTF8_STRING:
        try:
            return Data(dtype, raw.decode("utf-8")), end
        except UnicodeDecodeError as exc:
            raise ApduError("utf8-string is not valid UTF-8", offset=offset, tag=tag) from exc
    if dtype is DataType.BIT_STRING:
        bits = "".join(f"{b:08b}" for b in raw)[:nbits]
        return Data(dtype, bits), end
    return Data(dtype, raw), end


def encode_data(data: Data) -> bytes:
    """Encode one ``Data`` value (tag and content).

    Raises:
        ValueError: the value does not fit its type.
    """
    dtype = data.type
    tag = bytes((dtype,))
    value = data.value
    fixed = _FIXED.get(dtype)
    if fixed is not None:
        try:
            return tag + fixed.pack(value)
        except struct.error as exc:
            raise ValueError(f"{value!r} does not fit {dtype.label}") from exc
    if dtype in _CONTAINERS:
        return tag + encode_length(len(value)) + b"".join(encode_data(v) for v in value)
    if dtype is DataType.NULL_DATA:
        return tag
    if dtype is DataType.BOOLEAN:
        return tag + (b"\x01" if value else b"\x00")
    if dtype is DataType.BIT_STRING:
        bits = str(value)
        if bits.strip("01"):
            raise ValueError("bit-string value must be a string of 0 and 1")
        padded = bits + "0" * (-len(bits) % 8)
        raw = int(padded, 2).to_bytes(len(padded) // 8, "big") if padded else b""
        return tag + encode_length(len(bits)) + raw
    if dtype is DataType.VISIBLE_STRING:
        raw = value.encode("latin-1")
    elif dtype is DataType.UTF8_STRING:
        raw = value.encode("utf-8")
    else:
        raw = bytes(value)
    size = _FIXED_OCTETS.get(dtype)
    if size is not None:
        if len(raw) != size:
            raise ValueError(f"{dtype.label} must be {size} bytes, got {len(raw)}")
        return tag + raw
    return tag + encode_length(len(raw)) + raw

"""The APDUs a meter pushes: data-notification, the ciphering envelopes, general-block-transfer.

::

    DATA-NOTIFICATION ::= [15] SEQUENCE {
        long-invoke-id-and-priority  Unsigned32,
        date-time                    OCTET STRING,   -- 00 absent | 0C + 12 bytes
        notification-body            Data
    }
    general-glo-ciphering [219] / general-ded-ciphering [220] ::= SEQUENCE {
        system-title                 OCTET STRING,   -- 08 + 8 bytes
        ciphered-content             OCTET STRING    -- SC (1) | IC (4) | ciphertext | tag
    }
    general-ciphering [221] ::= SEQUENCE {
        transaction-id, originator-system-title, recipient-system-title,
        date-time, other-information    OCTET STRING,
        key-info                     Key-Info OPTIONAL,
        ciphered-content             OCTET STRING
    }
    general-block-transfer [224] ::= SEQUENCE {
        block-control (last-block:1, streaming:1, window:6)  Unsigned8,
        block-number Unsigned16, block-number-ack Unsigned16,
        block-data OCTET STRING
    }

Meters disagree on the data-notification date-time: absent as ``00``, present as ``0C`` and
twelve bytes (the Green Book's examples), or tagged as an octet-string ``09 0C`` (early Kaifa
firmware). All three are read; the second is written unless the tagged form is asked for.

References:
    IEC 62056-5-3 (DLMS UA Green Book), clause 9.3 "xDLMS APDUs" and 9.6 "ASN.1 of APDUs";
    clause 9.2.7.2.4 "general-block-transfer".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ._axdr import Data, decode_data, decode_length, encode_data, encode_length
from ._errors import ApduError

__all__ = [
    "TAG_DATA_NOTIFICATION",
    "TAG_GENERAL_BLOCK_TRANSFER",
    "TAG_GENERAL_CIPHERING",
    "TAG_GENERAL_DED_CIPHERING",
    "TAG_GENERAL_GLO_CIPHERING",
    "CipheredApdu",
    "DataNotification",
    "GeneralBlockTransfer",
    "decode_ciphered_apdu",
    "decode_data_notification",
    "decode_general_block_transfer",
    "reassemble_blocks",
]

TAG_DATA_NOTIFICATION = 0x0F
TAG_GENERAL_GLO_CIPHERING = 0xDB
TAG_GENERAL_DED_CIPHERING = 0xDC
TAG_GENERAL_CIPHERING = 0xDD
TAG_GENERAL_BLOCK_TRANSFER = 0xE0
CIPHERING_TAGS = frozenset({TAG_GENERAL_GLO_CIPHERING, TAG_GENERAL_DED_CIPHERING, 0xDD})


@dataclass(frozen=True, slots=True)
class DataNotification:
    """A data-notification APDU: how a meter pushes its lists.

    Attributes:
        long_invoke_id_and_priority: Invoke id (bits 0..23) and flags (bits 24..31).
        date_time: The 12-byte COSEM date-time of the push, or ``None`` when absent.
        body: The notification body, usually a structure or an array of structures.
        date_time_tagged: The date-time was (or is to be) sent tagged as ``09 0C``.
    """

    long_invoke_id_and_priority: int
    date_time: bytes | None
    body: Data
    date_time_tagged: bool = False

    def to_bytes(self) -> bytes:
        """The APDU, tag included."""
        out = bytes((TAG_DATA_NOTIFICATION,)) + self.long_invoke_id_and_priority.to_bytes(4, "big")
        if self.date_time is None:
            out += b"\x00"
        else:
            if len(self.date_time) != 12:
                raise ValueError("date_time must be 12 bytes")
            out += (b"\x09\x0c" if self.date_time_tagged else b"\x0c") + self.date_time
        return out + encode_data(self.body)


def decode_data_notification(apdu: bytes) -> DataNotification:
    """Decode a data-notification APDU (its tag 0x0F included).

    Raises:
        ApduError: wrong tag, truncated, or trailing bytes after the body.
    """
    if len(apdu) < 7 or apdu[0] != TAG_DATA_NOTIFICATION:
        raise ApduError("not a data-notification APDU", offset=0, tag=apdu[0] if apdu else None)
    invoke = int.from_bytes(apdu[1:5], "big")
    marker = apdu[5]
    tagged = False
    if marker == 0x00:
        date_time = None
        pos = 6
    elif marker == 0x0C:
        date_time = bytes(apdu[6:18])
        pos = 18
    elif marker == 0x09 and apdu[6] == 0x0C:
        date_time = bytes(apdu[7:19])
        pos = 19
        tagged = True
    else:
        raise ApduError(
            f"data-notification date-time field starts with 0x{marker:02x}",
            offset=5,
            tag="date-time",
        )
    if date_time is not None and len(date_time) != 12:
        raise ApduError("data-notification date-time truncated", offset=5, tag="date-time")
    body, end = decode_data(apdu, pos)
    if end != len(apdu):
        raise ApduError(f"{len(apdu) - end} bytes after the notification body", offset=end)
    return DataNotification(invoke, date_time, body, tagged)


@dataclass(frozen=True, slots=True)
class CipheredApdu:
    """A general-glo-, general-ded- or general-ciphering APDU.

    Attributes:
        tag: 0xDB (glo), 0xDC (ded) or 0xDD (general-ciphering).
        system_title: The originator's 8-byte system title (the meter's).
        security_control: Suite (bits 0..3), authentication (0x10), encryption (0x20),
            key set (0x40), compression (0x80).
        invocation_counter: The frame counter, part of the GCM initialisation vector.
        payload: The bytes after the invocation counter: ciphertext (or plaintext) and tag.
        transaction_id: general-ciphering only.
        recipient_system_title: general-ciphering only.
        date_time: general-ciphering only.
        other_information: general-ciphering only.
        key_info: general-ciphering only: the encoded Key-Info, or ``None`` when absent.
    """

    tag: int
    system_title: bytes
    security_control: int
    invocation_counter: int
    payload: bytes
    transaction_id: bytes = b""
    recipient_system_title: bytes = b""
    date_time: bytes = b""
    other_information: bytes = b""
    key_info: bytes | None = None

    def to_bytes(self) -> bytes:
        """The APDU, tag included."""
        content = (
            bytes((self.security_control,)) + self.invocation_counter.to_bytes(4, "big")
        ) + self.payload
        if self.tag == TAG_GENERAL_CIPHERING:
            out = bytes((self.tag,))
            for field in (
                self.transaction_id,
                self.system_title,
                self.recipient_system_title,
                self.date_time,
                self.other_information,
            ):
                out += encode_length(len(field)) + field
            out += b"\x00" if self.key_info is None else b"\x01" + self.key_info
            return out + encode_length(len(content)) + content
        head = bytes((self.tag,)) + encode_length(len(self.system_title)) + self.system_title
        return head + encode_length(len(content)) + content


def _octets(apdu: bytes, pos: int, what: str) -> tuple[bytes, int]:
    length, pos = decode_length(apdu, pos)
    end = pos + length
    if end > len(apdu):
        raise ApduError(f"{what} truncated", offset=pos, tag=what)
    return bytes(apdu[pos:end]), end


_SC_IC = struct.Struct(">BI")


def split_glo_ciphering(apdu: bytes) -> tuple[bytes, int, int, bytes] | None:
    """``(system title, SC, IC, payload)`` of a well-formed general-glo/ded-ciphering APDU.

    The fast path for the common case (8-byte title, 1..3-byte length); ``None`` for anything
    else, which :func:`decode_ciphered_apdu` then reads or reports.
    """
    n = len(apdu)
    if n < 16 or apdu[1] != 8 or (apdu[0] != 0xDB and apdu[0] != 0xDC):
        return None
    first = apdu[10]
    if first < 0x80:
        length, pos = first, 11
    elif first == 0x81:
        length, pos = apdu[11], 12
    elif first == 0x82:
        length, pos = (apdu[11] << 8) | apdu[12], 13
    else:
        return None
    if length < 5 or pos + length != n:
        return None
    sc, ic = _SC_IC.unpack_from(apdu, pos)
    return apdu[2:10], sc, ic, apdu[pos + 5 :]


def decode_ciphered_apdu(apdu: bytes) -> CipheredApdu:
    """Decode the envelope of a ciphered APDU (the content stays ciphered).

    Raises:
        ApduError: not a ciphering APDU, or truncated.
    """
    if not apdu or apdu[0] not in CIPHERING_TAGS:
        raise ApduError("not a ciphered APDU", offset=0, tag=apdu[0] if apdu else None)
    tag = apdu[0]
    fast = split_glo_ciphering(apdu)
    if fast is not None:
        return CipheredApdu(tag, *fast)
    extra: dict[str, bytes | None] = {}
    if tag == TAG_GENERAL_CIPHERING:
        pos = 1
        fields = []
        for name in (
            "transaction-id",
            "originator-system-title",
            "recipient-system-title",
            "date-time",
            "other-information",
        ):
            value, pos = _octets(apdu, pos, name)
            fields.append(value)
        transaction_id, title, recipient, date_time, other = fields
        if pos >= len(apdu):
            raise ApduError("general-ciphering truncated before key-info", offset=pos)
        if apdu[pos] == 0x00:
            key_info = None
            pos += 1
        elif apdu[pos] == 0x01 and pos + 3 <= len(apdu) and apdu[pos + 1] == 0x00:
            key_info = bytes(apdu[pos + 1 : pos + 3])  # identified-key: choice 0, key-id
            pos += 3
        else:
            raise ApduError("general-ciphering key-info form not supported", offset=pos)
        extra = {
            "transaction_id": transaction_id,
            "recipient_system_title": recipient,
            "date_time": date_time,
            "other_information": other,
            "key_info": key_info,
        }
    else:
        title, pos = _octets(apdu, 1, "system-title")
    content, end = _octets(apdu, pos, "ciphered-content")
    if end != len(apdu):
        raise ApduError(f"{len(apdu) - end} bytes after the ciphered content", offset=end)
    if len(title) != 8:
        raise ApduError(f"system title is {len(title)} bytes, not 8", offset=1, tag="system-title")
    if len(content) < 5:
        raise ApduError("ciphered content lacks its security header", offset=pos)
    sc, ic = _SC_IC.unpack_from(content)
    return CipheredApdu(tag, title, sc, ic, content[5:], **extra)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class GeneralBlockTransfer:
    """One general-block-transfer block.

    Attributes:
        last_block: This block completes the APDU.
        streaming: The sender streams blocks without waiting for acknowledgement.
        window: The window size.
        block_number: Number of this block, from 1.
        block_number_ack: Highest block the sender acknowledges.
        block_data: This block's part of the APDU.
    """

    last_block: bool
    streaming: bool
    window: int
    block_number: int
    block_number_ack: int
    block_data: bytes

    def to_bytes(self) -> bytes:
        """The APDU, tag included."""
        control = (0x80 if self.last_block else 0) | (0x40 if self.streaming else 0)
        control |= self.window & 0x3F
        return (
            struct.pack(
                ">BBHH",
                TAG_GENERAL_BLOCK_TRANSFER,
                control,
                self.block_number,
                self.block_number_ack,
            )
            + encode_length(len(self.block_data))
            + self.block_data
        )


def decode_general_block_transfer(apdu: bytes) -> GeneralBlockTransfer:
    """Decode one general-block-transfer APDU.

    Raises:
        ApduError: wrong tag, truncated, or trailing bytes.
    """
    if len(apdu) < 7 or apdu[0] != TAG_GENERAL_BLOCK_TRANSFER:
        raise ApduError("not a general-block-transfer APDU", offset=0)
    _, control, number, ack = struct.unpack_from(">BBHH", apdu)
    data, end = _octets(apdu, 6, "block-data")
    if end != len(apdu):
        raise ApduError(f"{len(apdu) - end} bytes after the block data", offset=end)
    return GeneralBlockTransfer(
        bool(control & 0x80), bool(control & 0x40), control & 0x3F, number, ack, data
    )


def reassemble_blocks(blocks: list[GeneralBlockTransfer]) -> bytes:
    """Join the blocks of one APDU, checking their numbering.

    Raises:
        ApduError: blocks missing, out of order, or the last block not marked.
    """
    if not blocks:
        raise ApduError("no general-block-transfer blocks")
    first = blocks[0].block_number
    if not blocks[-1].last_block:
        raise ApduError(
            f"general-block-transfer ends after block {blocks[-1].block_number}, "
            "before its last block"
        )
    for i, block in enumerate(blocks):
        if block.block_number != first + i:
            raise ApduError(
                f"general-block-transfer block {block.block_number} where {first + i} was due"
            )
        if block.last_block != (i == len(blocks) - 1):
            raise ApduError("general-block-transfer last-block flag out of place")
    return b"".join(b.block_data for b in blocks)

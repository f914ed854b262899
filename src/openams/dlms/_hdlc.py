"""HDLC frame format type 3, as meters frame their pushes on the HAN port and over serial links.

::

    7E | frame format (2) | dest. address (1,2,4) | src. address (1,2,4) | control (1)
       | HCS (2)          | information (n)        | FCS (2)                | 7E

    frame format = 1010 S LLL LLLLLLLL   (type 3, segmentation bit S, 11-bit length)

The length counts every byte between the flags. HCS covers frame format to control, FCS covers
frame format to the end of the information field; both are CRC-16/X.25, low byte first. An
address is one, two or four bytes; the last byte of an address has its low bit set. The HCS is
absent when the frame has no information field.

A push longer than the link's maximum information length is split over several frames with S
set on all but the last; their information fields are concatenated. The LLC header
(``E6 E7 00`` from a server, ``E6 E6 00`` from a client) opens the first information field.

Invariants:
    * A frame is returned only if both checksums verify.
    * Malformed input raises :class:`FrameError` with the offset of the frame.

References:
    IEC 62056-46 (DLMS UA Green Book, clause 8.4 "HDLC frame format type 3");
    ISO/IEC 13239 for the FCS.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import FrameError

__all__ = [
    "FLAG",
    "LLC_CLIENT",
    "LLC_SERVER",
    "HdlcFrame",
    "crc16_x25",
    "decode_hdlc_frame",
    "decode_hdlc_frames",
    "encode_hdlc_address",
    "encode_hdlc_frames",
    "single_frame_info",
]

FLAG = 0x7E
LLC_SERVER = b"\xe6\xe7\x00"
LLC_CLIENT = b"\xe6\xe6\x00"

#: Frames longer than this (11-bit length field) cannot exist.
MAX_FRAME_LENGTH = 0x7FF

# CRC-16/X.25 is the reflected form of the CCITT polynomial that ``binascii.crc_hqx`` computes
# in C without reflection. Reversing the bits of every byte (``bytes.translate``, also in C),
# running crc_hqx and reversing the 16-bit result gives the reflected CRC: the portable way,
# about 3 ns a byte. fastcrc (MIT, compiled) does the same table-free at about 0.25 ns a byte;
# it is used when installed, and the tests hold the two to the same results.
_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _portable_crc16_x25(data: bytes | memoryview) -> int:
    crc = binascii.crc_hqx(bytes(data).translate(_REV8), 0xFFFF)
    return ((_REV8[crc & 0xFF] << 8) | _REV8[crc >> 8]) ^ 0xFFFF


_crc: Callable[[bytes | memoryview], int]
try:
    from fastcrc.crc16 import ibm_sdlc

    _crc = ibm_sdlc
except ImportError:  # pragma: no cover - fastcrc ships wheels for the platforms we test on
    _crc = _portable_crc16_x25


def crc16_x25(data: bytes | memoryview) -> int:
    """CRC-16/X.25 (poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF) of ``data``."""
    return int(_crc(data))


# The CRC over a frame *and its correct FCS* is a constant (the "good FCS" residue, 0xF0B8
# before the final inversion).
_GOOD_RESIDUE = 0x0F47


@dataclass(frozen=True, slots=True)
class HdlcFrame:
    """One HDLC frame.

    Attributes:
        dest_address: The destination address bytes as sent (low bit set on the last byte).
        src_address: The source address bytes as sent.
        control: The control field (0x13 is UI with the poll/final bit, typical for pushes).
        info: The information field (empty for frames without one).
        segmented: The segmentation bit: more frames of the same push follow.
    """

    dest_address: bytes
    src_address: bytes
    control: int
    info: bytes
    segmented: bool = False

    def to_bytes(self) -> bytes:
        """The frame with its flags, HCS and FCS."""
        header_len = 2 + len(self.dest_address) + len(self.src_address) + 1
        length = header_len + 2 + (len(self.info) + 2 if self.info else 0)
        if length > MAX_FRAME_LENGTH:
            raise ValueError(f"HDLC frame of {length} bytes exceeds the 11-bit length field")
        fmt = 0xA000 | (0x0800 if self.segmented else 0) | length
        header = fmt.to_bytes(2, "big") + self.dest_address + self.src_address
        header += bytes((self.control,))
        body = header + crc16_x25(header).to_bytes(2, "little") + self.info if self.info else header
        return b"\x7e" + body + crc16_x25(body).to_bytes(2, "little") + b"\x7e"


def encode_hdlc_address(value: int, size: int = 1) -> bytes:
    """The address field for ``value`` in ``size`` (1, 2 or 4) bytes.

    Each byte carries seven address bits; the low bit marks the last byte.
    """
    if size not in (1, 2, 4):
        raise ValueError("an HDLC address is 1, 2 or 4 bytes")
    if not 0 <= value < (1 << (7 * size)):
        raise ValueError(f"address {value} does not fit in {size} bytes")
    out = bytearray()
    for i in reversed(range(size)):
        out.append(((value >> (7 * i)) & 0x7F) << 1)
    out[-1] |= 1
    return bytes(out)


def _address_end_or_none(buf: bytes, pos: int, limit: int) -> int | None:
    """End of the address at ``pos``, or ``None``.

    The byte with its low bit set closes an address; it is 1, 2 or 4 bytes long and must end
    before ``limit``.
    """
    for i in range(pos, min(pos + 4, limit)):
        if buf[i] & 1:
            return None if i - pos == 2 else i + 1  # three-byte addresses do not exist
    return None


def _address_end(buf: bytes, pos: int, limit: int, frame_at: int, which: str) -> int:
    end = _address_end_or_none(buf, pos, limit)
    if end is None:
        raise FrameError(f"malformed HDLC {which} address", offset=frame_at, tag="address")
    return end


_HCS_OK: dict[bytes, bool] = {}  # headers recur push after push: verify each once


def _hcs_ok(header_and_hcs: bytes) -> bool:
    ok = _HCS_OK.get(header_and_hcs)
    if ok is None:
        ok = crc16_x25(header_and_hcs[:-2]) == int.from_bytes(header_and_hcs[-2:], "little")
        if len(_HCS_OK) > 4096:
            _HCS_OK.clear()
        _HCS_OK[header_and_hcs] = ok
    return ok


def decode_hdlc_frame(buf: bytes, offset: int = 0) -> tuple[HdlcFrame, int]:
    """Decode the frame whose opening flag is at ``offset``.

    Returns:
        ``(frame, offset of its closing flag)``. The closing flag may open the next frame.

    Raises:
        FrameError: missing flags, a length that does not fit, or a bad HCS/FCS.
    """
    n = len(buf)
    if offset + 3 > n or buf[offset] != FLAG:
        if offset < n and buf[offset] == FLAG:
            raise FrameError("HDLC frame truncated in its format field", offset=offset)
        raise FrameError("HDLC frame must start with flag 0x7E", offset=offset, tag="flag")
    fmt = (buf[offset + 1] << 8) | buf[offset + 2]
    if fmt >> 12 != 0xA:
        raise FrameError(
            f"not HDLC frame format type 3 (format field 0x{fmt:04x})", offset=offset, tag="format"
        )
    length = fmt & 0x7FF
    close = offset + 1 + length
    if close >= n:
        raise FrameError(
            f"HDLC frame declares {length} bytes but only {n - offset - 1} follow, "
            "closing flag included",
            offset=offset,
            tag="length",
        )
    if buf[close] != FLAG:
        raise FrameError("HDLC closing flag missing where the length says", offset=offset)
    start = offset + 1
    pos = _address_end(buf, start + 2, close, offset, "destination")
    src_end = _address_end(buf, pos, close, offset, "source")
    fcs_at = close - 2
    if src_end + 1 > fcs_at:
        raise FrameError("HDLC frame too short for its control field and FCS", offset=offset)
    body = buf[start:fcs_at]
    if crc16_x25(body) != (buf[fcs_at] | (buf[fcs_at + 1] << 8)):
        raise FrameError("HDLC FCS does not match (corrupted frame)", offset=offset, tag="fcs")
    header_end = src_end + 1
    if header_end == fcs_at:
        info = b""
    else:
        if header_end + 2 > fcs_at:
            raise FrameError("HDLC frame truncated in its HCS", offset=offset, tag="hcs")
        if not _hcs_ok(bytes(buf[start : header_end + 2])):
            raise FrameError("HDLC HCS does not match", offset=offset, tag="hcs")
        info = bytes(body[header_end + 2 - start :])
    frame = HdlcFrame(
        bytes(buf[start + 2 : pos]), bytes(buf[pos:src_end]), buf[src_end], info, bool(fmt & 0x800)
    )
    return frame, close


_HEADERS: dict[bytes, int] = {}  # first 9 bytes of a verified frame -> where its info starts
_HEADER_KEY = 9  # flag, format, 1-byte and 2-byte addresses, control and HCS fit in 9 bytes


def single_frame_info(data: bytes) -> bytes | None:
    """The information field of ``data`` if it is exactly one good, unsegmented frame.

    The fast path for the common push. Returns ``None`` for anything else (more frames,
    segmentation, a bad checksum), and the caller falls back to :func:`decode_hdlc_frames`,
    which reports what is wrong. A meter's header (format, addresses, control, HCS) is the
    same push after push, so a header that verified once is remembered by its first bytes.
    """
    n = len(data)
    if n < 12 or data[0] != FLAG or data[-1] != FLAG:
        return None
    info_at = _HEADERS.get(data[:_HEADER_KEY])
    if info_at is None:
        info_at = _verify_header(data, n)
        if info_at is None:
            return None
    elif ((data[1] & 0x07) << 8) | data[2] != n - 2:
        return None
    # The FCS check, written for speed: the CRC over the frame *and its FCS* leaves a fixed
    # residue when the FCS is right (this is the hottest line of a head-end).
    if _crc(memoryview(data)[1 : n - 1]) != _GOOD_RESIDUE:
        return None
    return data[info_at : n - 3]


def _verify_header(data: bytes, n: int) -> int | None:
    fmt = (data[1] << 8) | data[2]
    if fmt & 0xF800 != 0xA000 or fmt & 0x7FF != n - 2:
        return None
    i = _address_end_or_none(data, 3, n - 3)
    if i is None:
        return None
    j = _address_end_or_none(data, i, n - 3)
    if j is None:
        return None
    j -= 1
    info_at = j + 4  # control and HCS follow the source address
    if info_at > n - 3 or not _hcs_ok(data[1:info_at]):
        return None
    if info_at <= _HEADER_KEY:
        if len(_HEADERS) > 4096:
            _HEADERS.clear()
        _HEADERS[data[:_HEADER_KEY]] = info_at
    return info_at


def decode_hdlc_frames(buf: bytes) -> list[HdlcFrame]:
    """Decode back-to-back frames (each with its own flags, or sharing one flag between them).

    Bytes after the last frame's closing flag that cannot open another frame are line noise
    (serial captures end with them) and are ignored.

    Raises:
        FrameError: any frame is malformed.
    """
    frames = []
    pos = 0
    n = len(buf)
    while pos < n:
        frame, close = decode_hdlc_frame(buf, pos)
        frames.append(frame)
        nxt = close + 1
        if nxt >= n:
            break
        if buf[nxt] == FLAG:
            pos = nxt
        elif buf[nxt] >> 4 == 0xA:
            pos = close  # the closing flag opens the next frame
        else:
            break  # line noise after the closing flag (seen on serial captures): not a frame
    if not frames:
        raise FrameError("no HDLC frame in input", offset=0)
    return frames


def encode_hdlc_frames(
    info: bytes,
    *,
    dest_address: bytes = b"\x41",
    src_address: bytes = b"\x08\x83",
    control: int = 0x13,
    max_info_length: int = 0x7FF - 14,
) -> bytes:
    """Frame ``info`` (LLC header and APDU) in one or more frames, segmenting as needed."""
    if max_info_length < 1:
        raise ValueError("max_info_length must be positive")
    chunks = [info[i : i + max_info_length] for i in range(0, len(info), max_info_length)] or [b""]
    out = []
    for i, chunk in enumerate(chunks):
        frame = HdlcFrame(dest_address, src_address, control, chunk, i < len(chunks) - 1)
        out.append(frame.to_bytes())
    return b"".join(out)

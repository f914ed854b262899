"""M-Bus long frames carrying DLMS, as the Austrian and Polish Kaifa and Sagemcom meters send.

::

    68 | L | L | 68 | C | A | CI | STSAP | DTSAP | APDU segment ... | CS | 16

``L`` counts C through the end of the data, ``CS`` is the sum of those bytes modulo 256. With
DLMS the CI field 0x00..0x1F numbers the segments of one APDU: the low nibble is the sequence
number and bit 4 marks the last segment. Each segment carries the transport service access
points (source and destination TSAP, one byte each) before its part of the APDU.

References:
    EN 13757-2 (M-Bus link layer), clause 5 "long frame";
    IEC 62056-7-6 (DLMS UA Green Book, "3-layer connection-oriented profile for M-Bus").
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import FrameError

__all__ = ["MbusFrame", "decode_mbus_frames", "encode_mbus_frames"]

START = 0x68
STOP = 0x16


@dataclass(frozen=True, slots=True)
class MbusFrame:
    """One M-Bus long frame.

    Attributes:
        control: The C field (0x53 for SND_UD from the meter's HAN port).
        address: The A field (0xFF broadcast).
        ci: The control-information field.
        data: The bytes after the CI field.
    """

    control: int
    address: int
    ci: int
    data: bytes

    def to_bytes(self) -> bytes:
        """The frame with start bytes, lengths, checksum and stop byte."""
        body = bytes((self.control, self.address, self.ci)) + self.data
        if len(body) > 255:
            raise ValueError("an M-Bus long frame holds at most 252 data bytes")
        n = len(body)
        return bytes((START, n, n, START)) + body + bytes((sum(body) & 0xFF, STOP))


def decode_mbus_frames(buf: bytes) -> tuple[list[MbusFrame], bytes]:
    """Decode back-to-back long frames and reassemble the DLMS APDU they carry.

    Returns:
        ``(frames, apdu)``.

    Raises:
        FrameError: a malformed frame, a bad checksum, or segments out of sequence.
    """
    frames: list[MbusFrame] = []
    segments: list[bytes] = []
    pos = 0
    n = len(buf)
    last = False
    while pos < n:
        if last:
            raise FrameError("bytes after the last M-Bus segment", offset=pos)
        if pos + 4 > n or buf[pos] != START or buf[pos + 3] != START:
            raise FrameError("M-Bus long frame must start with 68 L L 68", offset=pos, tag="start")
        length = buf[pos + 1]
        if buf[pos + 2] != length:
            raise FrameError("M-Bus length bytes differ", offset=pos, tag="length")
        if length < 3:
            raise FrameError("M-Bus long frame too short", offset=pos, tag="length")
        end = pos + 4 + length
        if end + 2 > n:
            raise FrameError(
                f"M-Bus frame declares {length} bytes but only {n - pos - 6} follow",
                offset=pos,
                tag="length",
            )
        body = buf[pos + 4 : end]
        if sum(body) & 0xFF != buf[end]:
            raise FrameError("M-Bus checksum does not match", offset=pos, tag="checksum")
        if buf[end + 1] != STOP:
            raise FrameError("M-Bus stop byte 0x16 missing", offset=end + 1, tag="stop")
        frame = MbusFrame(body[0], body[1], body[2], bytes(body[3:]))
        if frame.ci > 0x1F:
            raise FrameError(
                f"M-Bus CI 0x{frame.ci:02x} does not carry DLMS segments", offset=pos, tag="ci"
            )
        if frame.ci & 0x0F != len(frames) & 0x0F:
            raise FrameError("M-Bus segment out of sequence", offset=pos, tag="ci")
        if len(frame.data) < 2:
            raise FrameError("M-Bus segment lacks its TSAP bytes", offset=pos, tag="tsap")
        frames.append(frame)
        segments.append(frame.data[2:])
        last = bool(frame.ci & 0x10)
        pos = end + 2
    if not frames:
        raise FrameError("no M-Bus frame in input", offset=0)
    if not last:
        raise FrameError("M-Bus segments end before the last segment", offset=n, tag="ci")
    return frames, b"".join(segments)


def encode_mbus_frames(
    apdu: bytes,
    *,
    control: int = 0x53,
    address: int = 0xFF,
    stsap: int = 0x01,
    dtsap: int = 0x67,
    max_segment: int = 245,
) -> bytes:
    """Split ``apdu`` into numbered M-Bus long frames."""
    if not 1 <= max_segment <= 247:
        raise ValueError("max_segment must be 1..247")
    chunks = [apdu[i : i + max_segment] for i in range(0, len(apdu), max_segment)] or [b""]
    if len(chunks) > 16:
        raise ValueError("an APDU spans at most 16 M-Bus segments")
    out = []
    for i, chunk in enumerate(chunks):
        ci = i | (0x10 if i == len(chunks) - 1 else 0)
        out.append(MbusFrame(control, address, ci, bytes((stsap, dtsap)) + chunk).to_bytes())
    return b"".join(out)

"""IEC 62056-47 wrapper frames: DLMS over TCP or UDP.

::

    version (2) = 0x0001 | source wPort (2) | destination wPort (2) | length (2) | APDU

References:
    IEC 62056-47 / DLMS UA Green Book, clause 7.3.3 "The wrapper protocol data unit".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ._errors import FrameError

__all__ = ["WRAPPER_HEADER_SIZE", "WRAPPER_VERSION", "WrapperFrame", "decode_wrapper_frame"]

WRAPPER_VERSION = 1
WRAPPER_HEADER_SIZE = 8
_HEADER = struct.Struct(">HHHH")


@dataclass(frozen=True, slots=True)
class WrapperFrame:
    """One wrapper frame.

    Attributes:
        source_wport: The sender's wPort (1 = management logical device of a meter).
        dest_wport: The receiver's wPort.
        apdu: The APDU carried.
    """

    source_wport: int
    dest_wport: int
    apdu: bytes

    def to_bytes(self) -> bytes:
        """The frame with its eight-byte header."""
        if len(self.apdu) > 0xFFFF:
            raise ValueError("a wrapper frame carries at most 65535 bytes")
        header = _HEADER.pack(WRAPPER_VERSION, self.source_wport, self.dest_wport, len(self.apdu))
        return header + self.apdu


def decode_wrapper_frame(buf: bytes, offset: int = 0) -> tuple[WrapperFrame, int]:
    """Decode the wrapper frame at ``offset``.

    Returns:
        ``(frame, offset after it)``.

    Raises:
        FrameError: wrong version or fewer bytes than the length field says.
    """
    if len(buf) - offset < WRAPPER_HEADER_SIZE:
        raise FrameError("wrapper header truncated", offset=offset, tag="wrapper")
    version, src, dst, length = _HEADER.unpack_from(buf, offset)
    if version != WRAPPER_VERSION:
        raise FrameError(f"wrapper version {version} is not 1", offset=offset, tag="version")
    end = offset + WRAPPER_HEADER_SIZE + length
    if end > len(buf):
        raise FrameError(
            f"wrapper frame declares {length} bytes but only "
            f"{len(buf) - offset - WRAPPER_HEADER_SIZE} follow",
            offset=offset,
            tag="length",
        )
    return WrapperFrame(src, dst, bytes(buf[offset + WRAPPER_HEADER_SIZE : end])), end

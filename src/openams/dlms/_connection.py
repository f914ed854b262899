"""A sans-I/O receiver for a stream of pushes: bytes in, events out.

The head-end's TCP listener and serial readers own the sockets; this object owns the
protocol. Feed it whatever arrived with :meth:`PushStream.receive_data` (``b""`` at end of
stream) and drain :meth:`PushStream.next_event` until it returns :data:`NEED_DATA`::

    stream = PushStream("wrapper", PushDecoder(keys=lookup))
    stream.receive_data(chunk)
    while (event := stream.next_event()) is not NEED_DATA:
        ...  # PushReceived, PushRejected or StreamClosed

Rule 1: nothing is dropped silently. Bytes that cannot be a push (line noise, a frame with a
bad checksum, a push that fails to decrypt) come out as :class:`PushRejected` with the raw
bytes and the error, so the caller can quarantine them.

Rule 2: memory is bounded. A push that grows past ``max_push_size`` without completing is
rejected and its bytes released.

The states form a table (h11 style): receiving data is allowed only while ``OPEN``.

References:
    IEC 62056-46 (HDLC), IEC 62056-47 (wrapper), EN 13757-2 (M-Bus).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ._errors import DlmsError, FrameError, InputTooLarge, LocalProtocolError
from ._push import Push, PushDecoder
from ._wrapper import WRAPPER_HEADER_SIZE, WRAPPER_VERSION

__all__ = [
    "NEED_DATA",
    "PushReceived",
    "PushRejected",
    "PushStream",
    "StreamClosed",
    "StreamState",
]


class StreamState(Enum):
    """States of a :class:`PushStream`."""

    OPEN = "open"
    CLOSING = "closing"  # end of stream seen, events still to drain
    CLOSED = "closed"


class _Sentinel:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`PushStream.next_event` when more bytes are needed.
NEED_DATA = _Sentinel()


@dataclass(frozen=True, slots=True)
class PushReceived:
    """A push decoded.

    Attributes:
        push: The decoded push.
        raw: Its bytes as received (all its frames).
    """

    push: Push
    raw: bytes


@dataclass(frozen=True, slots=True)
class PushRejected:
    """Bytes that could not be used, with the reason.

    Attributes:
        error: What was wrong (``error.code`` is the quarantine reason).
        raw: The bytes concerned.
    """

    error: DlmsError
    raw: bytes


@dataclass(frozen=True, slots=True)
class StreamClosed:
    """The stream ended; no more events follow."""


# (state, input) -> next state. Inputs: "data", "eof", "drained".
_TRANSITIONS: dict[tuple[StreamState, str], StreamState] = {
    (StreamState.OPEN, "data"): StreamState.OPEN,
    (StreamState.OPEN, "eof"): StreamState.CLOSING,
    (StreamState.CLOSING, "drained"): StreamState.CLOSED,
}

_FRAMINGS = ("wrapper", "hdlc", "mbus")


class PushStream:
    """Splits a byte stream into pushes and decodes them.

    Args:
        framing: ``wrapper`` (TCP, IEC 62056-47), ``hdlc`` (serial/HAN) or ``mbus``.
        decoder: The decoder (keys, time zone, replay guard).
        max_push_size: Bound on one push's bytes. [bytes]
    """

    def __init__(
        self, framing: str, decoder: PushDecoder, *, max_push_size: int | None = None
    ) -> None:
        if framing not in _FRAMINGS:
            raise ValueError(f"framing must be one of {_FRAMINGS}")
        self.framing = framing
        self.decoder = decoder
        self.max_push_size = max_push_size or decoder.max_push_size
        self.state = StreamState.OPEN
        self._buf = bytearray()
        self._pending: list[bytes] = []  # frames of a segmented push so far

    def _move(self, event: str) -> None:
        nxt = _TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise LocalProtocolError(f"cannot take {event!r} in state {self.state.value}")
        self.state = nxt

    def receive_data(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the peer closed the stream.

        Raises:
            LocalProtocolError: data after the end of the stream.
        """
        if data:
            self._move("data")
            self._buf += data
        else:
            self._move("eof")

    def next_event(self) -> PushReceived | PushRejected | StreamClosed | _Sentinel:
        """The next event, or :data:`NEED_DATA`."""
        if self.state is StreamState.CLOSED:
            return StreamClosed()
        event = {"wrapper": self._next_wrapper, "hdlc": self._next_hdlc, "mbus": self._next_mbus}[
            self.framing
        ]()
        if event is not NEED_DATA:
            return event
        if self.state is StreamState.CLOSING:
            if self.framing == "hdlc" and self._buf == b"\x7e":
                self._buf.clear()  # the closing flag of the last frame
            leftover = b"".join(self._pending) + bytes(self._buf)
            self._buf.clear()
            self._pending.clear()
            if leftover:
                return PushRejected(FrameError("stream ended inside a push", offset=0), leftover)
            self._move("drained")
            return StreamClosed()
        if len(self._buf) + sum(map(len, self._pending)) > self.max_push_size:
            raw = b"".join(self._pending) + bytes(self._buf)
            self._buf.clear()
            self._pending.clear()
            return PushRejected(
                InputTooLarge(f"more than {self.max_push_size} bytes without a complete push"),
                raw,
            )
        return NEED_DATA

    def _decode(self, raw: bytes) -> PushReceived | PushRejected:
        try:
            return PushReceived(self.decoder.decode(raw), raw)
        except DlmsError as exc:
            return PushRejected(exc, raw)

    def _take(self, n: int) -> bytes:
        chunk = bytes(self._buf[:n])
        del self._buf[:n]
        return chunk

    # -- IEC 62056-47 wrapper ------------------------------------------------------------------

    def _next_wrapper(self) -> PushReceived | PushRejected | _Sentinel:
        buf = self._buf
        if len(buf) < WRAPPER_HEADER_SIZE:
            return NEED_DATA
        version = int.from_bytes(buf[:2], "big")
        length = int.from_bytes(buf[6:8], "big")
        if version != WRAPPER_VERSION:
            # the stream is out of step: nothing after this point can be trusted
            return PushRejected(
                FrameError(f"wrapper version {version} is not 1; stream out of step"),
                self._take(len(buf)),
            )
        if WRAPPER_HEADER_SIZE + length > self.max_push_size:
            return PushRejected(
                InputTooLarge(f"wrapper frame announces {length} bytes"), self._take(len(buf))
            )
        if len(buf) < WRAPPER_HEADER_SIZE + length:
            return NEED_DATA
        return self._decode(self._take(WRAPPER_HEADER_SIZE + length))

    # -- HDLC ------------------------------------------------------------------------------------

    def _next_hdlc(self) -> PushReceived | PushRejected | _Sentinel:
        buf = self._buf
        while buf[:2] == b"\x7e\x7e":  # inter-frame fill flags
            del buf[0]
        if buf and buf[0] != 0x7E:
            flag = buf.find(b"\x7e")
            noise = self._take(len(buf) if flag < 0 else flag)
            return PushRejected(FrameError("bytes outside an HDLC frame", offset=0), noise)
        if len(buf) < 3:
            return NEED_DATA
        length = ((buf[1] << 8) | buf[2]) & 0x7FF
        if buf[1] >> 4 != 0xA or length < 7:
            return PushRejected(
                FrameError("not an HDLC frame format type 3", offset=0), self._take(1)
            )
        if len(buf) < length + 2:
            return NEED_DATA
        if buf[length + 1] != 0x7E:
            return PushRejected(
                FrameError("HDLC closing flag missing where the length says", offset=0),
                self._take(1),
            )
        frame = bytes(buf[: length + 2])
        del buf[: length + 1]  # the closing flag stays: it may open the next frame
        self._pending.append(frame)
        if frame[1] & 0x08:  # segmentation bit: more frames of this push follow
            return NEED_DATA if not self._buf else self._next_hdlc()
        raw = b"".join(self._pending)
        self._pending.clear()
        return self._decode(raw)

    # -- M-Bus -----------------------------------------------------------------------------------

    def _next_mbus(self) -> PushReceived | PushRejected | _Sentinel:
        buf = self._buf
        if buf and buf[0] != 0x68:
            start = buf.find(b"\x68")
            noise = self._take(len(buf) if start < 0 else start)
            return PushRejected(FrameError("bytes outside an M-Bus frame", offset=0), noise)
        if len(buf) < 4:
            return NEED_DATA
        length = buf[1]
        if buf[2] != length or buf[3] != 0x68:
            return PushRejected(FrameError("malformed M-Bus start", offset=0), self._take(1))
        if len(buf) < length + 6:
            return NEED_DATA
        frame = self._take(length + 6)
        self._pending.append(frame)
        ci = frame[6] if length >= 3 else 0x10
        if ci <= 0x1F and not ci & 0x10:
            return NEED_DATA if not self._buf else self._next_mbus()
        raw = b"".join(self._pending)
        self._pending.clear()
        return self._decode(raw)

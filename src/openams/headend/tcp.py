"""The head-end's TCP channel: IEC 62056-47 wrapper frames, one connection per meter.

A meter opens a connection and sends its pushes over it, one wrapper frame each, for as long
as it keeps the connection open (hours, days). The listener cuts each connection's byte stream
into whole frames with :class:`WrapperSplitter` and hands every frame on as an
:class:`~openams.services.ingest.IncomingPush` (channel ``tcp``, source ``ip:port``); it never
decodes, decrypts or stores anything itself: the writer does (:mod:`openams.headend.serve`).

Invariants:
    * Nothing is dropped silently. Bytes that cannot be a wrapper frame (a header whose
      version is not 1, a frame announcing more than ``max_frame_size`` bytes, a connection
      that ends inside a frame) are handed on as a push with its ``problem`` named, so that
      ingest quarantines them as ``bad_input`` with their raw bytes. After a bad header the
      stream is out of step, so that connection is closed; the listener goes on.
    * Memory is bounded: a connection holds at most ``max_frame_size`` bytes of an unfinished
      frame plus one read; at most ``max_connections`` connections are open; reading pauses
      while the head-end says it is busy (its queue is long), so TCP pushes back on meters.
    * All asyncio code runs on the listener's own event loop thread; :meth:`TcpListener.start`
      and :meth:`TcpListener.stop` are called from any other thread.

References:
    IEC 62056-47 / DLMS UA Green Book, clause 7.3.3 "The wrapper protocol data unit".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from openams.services.ingest import IncomingPush

__all__ = [
    "CHANNEL",
    "DEFAULT_HOST",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_PORT",
    "Garbage",
    "TcpListener",
    "WrapperSplitter",
    "parse_listen_address",
]

log = logging.getLogger(__name__)

#: The channel name of pushes that came over TCP.
CHANNEL = "tcp"
#: Where the listener listens unless told otherwise (the IANA port of DLMS/COSEM over TCP).
DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - a head-end listens for meters on every interface
DEFAULT_PORT = 4059
#: Bound on one wrapper frame, header included; a meter's push is well under 2 KiB. [bytes]
DEFAULT_MAX_FRAME_SIZE = 16 * 1024

#   version (2) = 0x0001 | source wPort (2) | destination wPort (2) | length (2) | APDU
_HEADER = struct.Struct(">HHHH")
_VERSION = 1
_READ_SIZE = 64 * 1024
_BUSY_PAUSE_S = 0.01


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes of a connection that cannot be a wrapper frame.

    Attributes:
        raw: The bytes, at most ``max_frame_size`` of them.
        reason: Why they are not a frame (for the quarantine's message).
    """

    raw: bytes
    reason: str


class WrapperSplitter:
    """Cuts a byte stream into whole wrapper frames, without decoding them. Sans-I/O.

    Feed what arrived with :meth:`receive_data`, then call :meth:`next_frame` until it returns
    ``None``; at the end of the stream call :meth:`end`. After a :class:`Garbage` the stream is
    out of step and the splitter yields nothing more.

    Args:
        max_frame_size: Bound on one frame, its eight-byte header included. [bytes]

    Raises:
        ValueError: a bound too small for a header and one byte.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if max_frame_size <= _HEADER.size:
            raise ValueError(f"max_frame_size must be more than {_HEADER.size} bytes")
        self.max_frame_size = max_frame_size
        self.failed = False
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes held of a frame not yet complete. [bytes]"""
        return len(self._buf)

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the connection (ignored once the stream is out of step)."""
        if not self.failed:
            self._buf += data

    def next_frame(self) -> bytes | Garbage | None:
        """The next whole frame (header and APDU), :class:`Garbage`, or ``None`` for more data."""
        buf = self._buf
        if self.failed or len(buf) < _HEADER.size:
            return None
        version, _source, _destination, length = _HEADER.unpack_from(buf)
        if version != _VERSION:
            return self._fail(f"not a wrapper frame: version {version}, not {_VERSION}")
        size = _HEADER.size + length
        if size > self.max_frame_size:
            return self._fail(
                f"a wrapper frame of {size} bytes is over the bound of {self.max_frame_size}"
            )
        if len(buf) < size:
            return None
        frame = bytes(buf[:size])
        del buf[:size]
        return frame

    def end(self) -> Garbage | None:
        """The stream ended: the bytes of an unfinished frame, if there are any."""
        if not self._buf:
            return None
        return self._fail(f"the connection ended inside a wrapper frame ({len(self._buf)} bytes)")

    def _fail(self, reason: str) -> Garbage:
        raw = bytes(self._buf[: self.max_frame_size])
        if len(self._buf) > self.max_frame_size:
            reason += f"; the first {self.max_frame_size} bytes kept"
        self._buf.clear()
        self.failed = True
        return Garbage(raw, reason)


def parse_listen_address(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` to listen on (an IPv6 host in brackets: ``[::]:4059``).

    Port 0 asks the system for a free port.

    Raises:
        ValueError: not of that form, or a port outside 0 to 65535.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or " " in host or not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"expected HOST:PORT such as 0.0.0.0:4059; got {text!r}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"the port must be 0 to 65535; got {text!r}")
    return host, port


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TcpListener:
    """An asyncio server for meters' wrapper connections, on a thread of its own.

    Args:
        host: Address to listen on.
        port: Port to listen on; 0 for any free one (see :attr:`port` once started).
        submit: Takes each push; called on the listener's thread, must not block.
        busy: While it returns ``True``, no connection is read (backpressure).
        max_frame_size: Bound on one wrapper frame. [bytes]
        max_connections: Bound on connections open at once; more are closed at once.
        idle_timeout_s: A connection silent this long is closed (the meter reconnects at its
            next push); ``None`` never. [s]
        clock: Wall clock for arrival times. [s since the epoch]

    Attributes:
        accepted: Connections accepted so far.
        refused: Connections closed at once because ``max_connections`` were open.
        garbage: Connections closed because their bytes were not wrapper frames.
    """

    def __init__(
        self,
        host: str,
        port: int,
        submit: Callable[[IncomingPush], None],
        *,
        busy: Callable[[], bool] = lambda: False,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_connections: int = 10_000,
        idle_timeout_s: float | None = 3 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        WrapperSplitter(max_frame_size)  # checks the bound
        self.host = host
        self.requested_port = port
        self.max_frame_size = max_frame_size
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self.accepted = 0
        self.refused = 0
        self.garbage = 0
        self._submit = submit
        self._busy = busy
        self._clock = clock
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port listened on.

        Raises:
            RuntimeError: not started.
        """
        if self._port is None:
            raise RuntimeError("the TCP listener is not started")
        return self._port

    @property
    def address(self) -> str:
        """``host:port`` listened on."""
        return _address(self.host, self.port)

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._tasks)

    def start(self, timeout_s: float = 10.0) -> None:
        """Bind and listen; returns once connections are accepted.

        Raises:
            OSError: the address cannot be listened on (taken, not local, not allowed).
            RuntimeError: started twice.
        """
        if self._loop is not None:
            raise RuntimeError("the TCP listener was started already")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="openams-tcp", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._open(), loop).result(timeout_s)
        except BaseException:
            self._end_loop()
            raise

    def stop(self, grace_s: float = 0.5, timeout_s: float = 10.0) -> None:
        """Stop accepting, read for ``grace_s`` what is on its way, then close every connection.

        The bytes of a frame left unfinished are handed on as a problem push. Idempotent.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(grace_s), loop).result(timeout_s)
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.requested_port, backlog=1024, reuse_address=True
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self, grace_s: float) -> None:
        server = self._server
        if server is None:
            return
        server.close()
        if self._tasks and grace_s > 0:
            await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or len(self._tasks) >= self.max_connections:
            self.refused += 1
            writer.close()
            return
        self._tasks.add(task)
        self.accepted += 1
        peer = writer.get_extra_info("peername")
        source = _address(str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else "?"
        sock = writer.get_extra_info("socket")
        if sock is not None:  # a meter that vanished without a FIN is found by keepalive
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        splitter = WrapperSplitter(self.max_frame_size)
        try:
            await self._read(reader, splitter, source)
        finally:
            leftover = splitter.end()
            if leftover is not None:
                self._hand_on(leftover.raw, source, leftover.reason)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _read(
        self, reader: asyncio.StreamReader, splitter: WrapperSplitter, source: str
    ) -> None:
        while True:
            while self._busy():
                await asyncio.sleep(_BUSY_PAUSE_S)
            try:
                data = await asyncio.wait_for(reader.read(_READ_SIZE), self.idle_timeout_s)
            except TimeoutError:
                return  # idle: the meter reconnects at its next push
            except OSError:
                return  # reset by the peer; what was read is handed on
            if not data:
                return
            splitter.receive_data(data)
            while (item := splitter.next_frame()) is not None:
                if isinstance(item, Garbage):
                    self.garbage += 1
                    self._hand_on(item.raw, source, item.reason)
                    return  # the stream is out of step: nothing after this can be trusted
                self._hand_on(item, source, None)

    def _hand_on(self, raw: bytes, source: str, problem: str | None) -> None:
        self._submit(IncomingPush(raw, int(self._clock()), CHANNEL, source, problem))

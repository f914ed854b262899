"""Pushes in: reading them from lines, and decrypting and decoding them, in worker processes
when there are cores to spare.

This is the stateless half of ingest (:mod:`openams.services.ingest` keeps the counter
windows and makes the rows). :func:`decode_raw` turns one push into a small
:class:`Decoded`; :func:`decoded_items` and :func:`decoded_lines` feed ingest pushes with
their decoding done ahead. With ``workers`` above 1 the work is shipped to that many forked
processes in chunks of :data:`CHUNK` pushes: for a file, the worker also reads the lines, so
that the process keeping the state does little more than the state.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, NamedTuple

from openams.dlms import (
    EVENTS,
    DecodeError,
    DlmsError,
    KeyPair,
    MissingKeyError,
    Push,
    PushDecoder,
    SecurityError,
    decode_ciphered_apdu,
    decode_event,
    unframe,
)

__all__ = [
    "CHUNK",
    "Decoded",
    "IncomingPush",
    "decode_raw",
    "decoded_items",
    "decoded_lines",
    "read_push_lines",
]

#: Pushes per job handed to a worker process.
CHUNK = 2000

Keys = Callable[[bytes], KeyPair | None]


@dataclass(frozen=True, slots=True)
class IncomingPush:
    """A push as it reached the head-end."""

    raw: bytes
    received_at_s: int
    channel: str  # file, tcp, mqtt
    source: str  # file and line, peer address, topic
    problem: str | None = None  # the line could not even be read as a push (kept as text)


_AT_KEY = '{"at": "'
_HEX_KEY = '", "hex": "'
_SIMULATOR_HEAD = re.compile(r'\{"at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "meter_id": "[^"\\]*')
_REGISTERS = {"1.8.0": 0, "2.8.0": 1, "3.8.0": 2, "4.8.0": 3}
_OBIS = re.compile(r"\d+-\d+:(\d+\.\d+\.\d+)\.\d+")


_REGISTER_OF: dict[str, int | None] = {}  # OBIS text -> register index, learnt once


def _register_of(key: str) -> int | None:
    match = _OBIS.fullmatch(key)
    index = _REGISTERS.get(match.group(1)) if match else None
    if len(_REGISTER_OF) < 10_000:
        _REGISTER_OF[key] = index
    return index


#: Per set of keys a push carries (a list layout as a meter sends it): which keys are the
#: four registers, and whether any could hold an event code. Learnt once per layout.
_PLANS: dict[tuple[str, ...], tuple[tuple[tuple[str, int], ...], bool]] = {}
_EVENT_LOGS = frozenset(event.log_obis for event in EVENTS.values())


def _plan(keys: tuple[str, ...]) -> tuple[tuple[tuple[str, int], ...], bool]:
    registers = []
    for key in keys:
        index = _REGISTER_OF[key] if key in _REGISTER_OF else _register_of(key)
        if index is not None:
            registers.append((key, index))
    plan = (tuple(registers), not _EVENT_LOGS.isdisjoint(keys))
    if len(_PLANS) < 1000:
        _PLANS[keys] = plan
    return plan


def _registers(push: Push) -> tuple[list[int | None], bool]:
    """The four registers a push carries (``None`` where it has not), and whether it may be
    an event push."""
    values = push.values
    keys = tuple(values)
    registers, events = _PLANS.get(keys) or _plan(keys)
    out: list[int | None] = [None, None, None, None]
    for key, index in registers:
        value = values[key][0]
        if isinstance(value, int):
            out[index] = value
    return out, events


def _system_title(raw: bytes) -> bytes | None:
    try:
        _, apdu = unframe(raw)
    except DlmsError:
        return None
    try:
        return bytes(decode_ciphered_apdu(apdu).system_title)
    except DlmsError:
        return None


class Decoded(NamedTuple):
    """What decoding made of a push: small, so that worker processes can hand it back."""

    error: str | None  # the quarantine reason when the push could not be decoded
    message: str
    system_title: bytes | None
    counter: int | None = None
    layout: str = ""
    time_s: int | None = None
    registers: tuple[int | None, ...] = (None, None, None, None)
    event: tuple[str, str, int, int] | None = None  # name, log, code, at (epoch s)


_SECURITY_REASONS = frozenset({"no_key", "auth_failed", "replay", "not_ciphered"})


def decode_raw(raw: bytes, decoder: PushDecoder) -> Decoded:
    """Decrypt and decode one push (no store, no state): the part worker processes run."""
    try:
        push = decoder.decode(raw)
    except MissingKeyError as exc:
        title = exc.system_title or _system_title(raw)
        message = f"no meter with system title {title.hex() if title else '?'}"
        return Decoded("no_key", message, title)
    except SecurityError as exc:
        return Decoded(exc.code, str(exc), _system_title(raw))
    except DecodeError as exc:
        return Decoded(exc.code, str(exc), _system_title(raw))
    registers, may_be_event = _registers(push)
    event = decode_event(push) if may_be_event else None
    return Decoded(
        None,
        "",
        bytes(push.system_title) if push.system_title else None,
        push.invocation_counter,
        push.layout,
        int(push.time.timestamp()) if push.time is not None else None,
        tuple(registers),
        (event[0].name, event[0].log, event[0].code, int(event[1].timestamp()))
        if event is not None
        else None,
    )


_WORKER_DECODER: PushDecoder | None = None


def _decoder() -> PushDecoder:
    if _WORKER_DECODER is None:  # pragma: no cover - set before the pool forks
        raise RuntimeError("no decoder in this worker")
    return _WORKER_DECODER


def _decode_chunk(raws: list[bytes | None]) -> list[tuple[Any, ...] | None]:
    decoder = _decoder()
    return [tuple(decode_raw(raw, decoder)) if raw is not None else None for raw in raws]


def _read_and_decode(
    job: tuple[list[bytes], int, str, int, str],
) -> list[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """A worker's share of a file: its lines read as pushes and decoded (plain tuples, which
    cross the pipe faster than objects)."""
    decoder = _decoder()
    lines, first_line, source, now_s, channel = job
    text = [line.decode("utf-8", errors="replace") for line in lines]
    out: list[tuple[tuple[Any, ...], tuple[Any, ...] | None]] = []
    for item in read_push_lines(
        text, source=source, now_s=now_s, channel=channel, first_line=first_line
    ):
        fields = (item.raw, item.received_at_s, item.channel, item.source, item.problem)
        decoded = tuple(decode_raw(item.raw, decoder)) if item.problem is None else None
        out.append((fields, decoded))
    return out


def _pipelined(
    jobs: Iterable[tuple[Any, Any]],
    work: Callable[[Any], list[Any]],
    keys: Keys,
    workers: int,
) -> Iterator[tuple[Any, list[Any]]]:
    """Each job's context with what a worker made of its payload, in order, a few jobs
    ahead of the consumer."""
    global _WORKER_DECODER
    _WORKER_DECODER = PushDecoder(keys=keys)  # inherited by the forked workers
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            flight: deque[tuple[Any, Any]] = deque()
            for context, payload in jobs:
                flight.append((context, pool.apply_async(work, (payload,))))
                if len(flight) >= 3 * workers:
                    done, result = flight.popleft()
                    yield done, result.get()
            while flight:
                done, result = flight.popleft()
                yield done, result.get()
    finally:
        _WORKER_DECODER = None


def decoded_items(
    items: Iterable[IncomingPush], keys: Keys, workers: int
) -> Iterator[tuple[IncomingPush, Decoded | tuple[Any, ...] | None]]:
    """The items with their decoding done ahead by worker processes (or ``None``: to be
    decoded by the consumer)."""
    if workers <= 1:
        for item in items:
            yield item, None
        return

    def jobs() -> Iterator[tuple[list[IncomingPush], list[bytes | None]]]:
        for chunk in _chunks(items):
            yield chunk, [item.raw if item.problem is None else None for item in chunk]

    for chunk, results in _pipelined(jobs(), _decode_chunk, keys, workers):
        yield from zip(chunk, results, strict=True)


def decoded_lines(
    fh: IO[bytes], keys: Keys, workers: int, *, source: str, now_s: int, channel: str = "file"
) -> Iterator[tuple[IncomingPush, Decoded | tuple[Any, ...] | None]]:
    """The pushes of a binary file of lines (see :func:`read_push_lines`), each with its
    decoding; with ``workers`` above 1 the lines are read and decoded by worker processes."""
    if workers <= 1:
        text = (line.decode("utf-8", errors="replace") for line in fh)
        for item in read_push_lines(text, source=source, now_s=now_s, channel=channel):
            yield item, None
        return

    def jobs() -> Iterator[tuple[None, tuple[list[bytes], int, str, int, str]]]:
        number = 1
        while True:
            lines = fh.readlines(CHUNK * 700)  # about CHUNK of the simulator's lines
            if not lines:
                return
            yield None, (lines, number, source, now_s, channel)
            number += len(lines)

    for _, results in _pipelined(jobs(), _read_and_decode, keys, workers):
        for fields, decoded in results:
            yield IncomingPush(*fields), decoded


def _chunks(items: Iterable[IncomingPush]) -> Iterator[list[IncomingPush]]:
    chunk: list[IncomingPush] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_push_lines(
    lines: Iterable[str], *, source: str, now_s: int, channel: str = "file",
    first_line: int = 1,
) -> Iterator[IncomingPush]:  # fmt: skip
    """Pushes from text lines: the simulator's JSON Lines (``{"at", "meter_id", "hex"}``) or
    bare hex, one push per line; blank lines and ``#`` comments skipped.

    A line's ``at`` is its arrival time; without one, ``now_s``. A line that is neither is
    still yielded, with its text as the raw bytes and the problem named, so that it is
    quarantined rather than lost.
    """
    times: dict[str, int] = {}  # a fleet sends in the same seconds: parse each once
    for number, line in enumerate(lines, first_line):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source}:{number}"
        received_s = now_s
        hex_at = text.find(_HEX_KEY, 36) if text.startswith(_AT_KEY) else -1
        if hex_at > 0 and text.endswith('"}') and _SIMULATOR_HEAD.fullmatch(text, 0, hex_at):
            # the simulator's own form, read without a JSON parser
            at = text[8:28]
            received_s = times.get(at) or times.setdefault(
                at, int(datetime.fromisoformat(at).timestamp())
            )
            try:
                raw = bytes.fromhex(text[hex_at + len(_HEX_KEY) : -2])
            except ValueError as exc:
                yield IncomingPush(text.encode(), now_s, channel, where, f"not a push: {exc}")
                continue
            yield IncomingPush(raw, received_s, channel, where)
            continue
        try:
            if text.startswith("{"):
                record = json.loads(text)
                if not isinstance(record, dict) or not isinstance(record.get("hex"), str):
                    raise ValueError('a JSON line needs a "hex" string')
                if "at" in record:
                    received_s = int(datetime.fromisoformat(str(record["at"])).timestamp())
                raw = bytes.fromhex(record["hex"])
            else:
                raw = bytes.fromhex(text.replace(" ", "").replace(":", ""))
        except (ValueError, TypeError) as exc:
            yield IncomingPush(text.encode(), now_s, channel, where, f"not a push: {exc}")
            continue
        yield IncomingPush(raw, received_s, channel, where)

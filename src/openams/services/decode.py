"""Decoding pushes given as hex text, one push per line (the ``ams decode`` use case).

Each input line holds one push as hexadecimal (all HDLC frames of a segmented push may share
the line); spaces and colons are ignored; empty lines and lines starting with ``#`` are
skipped. Each push gives one result dictionary, in input order, in the stable form documented
in docs/cli.md: ``{"ok": true, "line": N, ...}`` or ``{"ok": false, "line": N, "error": ...}``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openams.dlms import DlmsError, KeyPair, Push, PushDecoder
from openams.errors import InputError

__all__ = ["decode_hex_lines", "parse_hex_line", "parse_keys_csv", "push_result"]

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_KEY_COLUMNS = ("system_title", "ek", "ak")


def parse_hex_line(text: str) -> bytes:
    """The bytes of one hex line (spaces, tabs and colons ignored).

    Raises:
        InputError: a character that is not a hex digit, or an odd number of digits.
    """
    digits = text.replace(" ", "").replace(":", "").replace("\t", "").strip()
    bad = next((c for c in digits if c not in _HEX_DIGITS), None)
    if bad is not None:
        raise InputError(f"not hexadecimal: character {bad!r}")
    if len(digits) % 2:
        raise InputError(f"odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits)


def _key(text: str, what: str, source: str, line: int, size: int) -> bytes:
    try:
        value = parse_hex_line(text)
    except InputError as exc:
        raise InputError(f"{what}: {exc}", source=source, line=line) from None
    if len(value) != size:
        raise InputError(
            f"{what} must be {size} bytes ({2 * size} hex digits), got {len(value)}",
            source=source,
            line=line,
        )
    return value


def parse_keys_csv(text: str, *, source: str = "keys.csv") -> dict[bytes, KeyPair]:
    """Meter keys from CSV text with the header ``system_title,ek,ak`` (hex values).

    Raises:
        InputError: a missing column, a malformed value or a duplicated system title, naming
            the file and line.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in _KEY_COLUMNS[:2] if c not in header]
    if missing:
        raise InputError(
            f"header must name system_title,ek,ak; missing {', '.join(missing)}",
            source=source,
            line=1,
        )
    reader.fieldnames = header
    keys: dict[bytes, KeyPair] = {}
    for row in reader:
        line = reader.line_num
        title = _key(row.get("system_title") or "", "system_title", source, line, 8)
        ek = _key(row.get("ek") or "", "ek", source, line, 16)
        ak_text = (row.get("ak") or "").strip()
        ak = _key(ak_text, "ak", source, line, 16) if ak_text else None
        if title in keys:
            raise InputError(f"system title {title.hex()} listed twice", source=source, line=line)
        keys[title] = KeyPair(ek, ak)
    return keys


def push_result(push: Push, line: int) -> dict[str, Any]:
    """The result dictionary of a decoded push (see docs/cli.md)."""
    if push.layout == "unknown":
        return {
            "ok": False,
            "line": line,
            "error": {
                "code": "unknown_layout",
                "message": "the push decoded, but its body is not a list this decoder maps",
            },
        }
    record = push.to_dict()
    return {
        "ok": True,
        "line": line,
        **{key: record[key] for key in _RESULT_FIELDS},
        "values": record["values"],
    }


_RESULT_FIELDS = (
    "framing",
    "manufacturer",
    "list_id",
    "meter_id",
    "system_title",
    "invocation_counter",
    "security",
    "time",
)


def _error(line: int, code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "line": line, "error": {"code": code, "message": message}}


def decode_hex_lines(lines: Iterable[str], decoder: PushDecoder) -> Iterator[dict[str, Any]]:
    """Decode each push line; yield one result dictionary per push, in order."""
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = parse_hex_line(stripped)
        except InputError as exc:
            yield _error(number, "bad_frame", str(exc))
            continue
        try:
            push = decoder.decode(data)
        except DlmsError as exc:
            yield _error(number, exc.code, str(exc))
            continue
        yield push_result(push, number)

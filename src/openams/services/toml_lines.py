"""Where things are in a TOML text: the line of every table, key and array element, and
the line of a syntax error, for messages that name ``file:line``.

``tomllib`` gives a line only for syntax errors; a file that parses but breaks a rule of its
format (a scenario, a tariff) is reported at the line of the key concerned, found here by
scanning the text, which ``tomllib`` has already accepted as valid TOML.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from typing import Final

__all__ = ["KeyPath", "key_lines", "syntax_error"]

KeyPath = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_DOTTED = rf"{_BARE}(?:[ \t]*\.[ \t]*{_BARE})*"
_HEADER: Final = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_DOTTED})[ \t]*\]\]?[ \t]*(?:#.*)?$")
_KEY: Final = re.compile(rf"[ \t]*({_DOTTED})[ \t]*=")
_TOML_AT: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END: Final = re.compile(r"\s*\(at end of document\)$")


class _ValueScan:
    """Follows one key's value across lines: strings, brackets and top-level array elements."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote = ""  # '"""' or "'''" while inside a multi-line string
        self.path: KeyPath = ()
        self.index = 0
        self.expect_element = False

    @property
    def inside(self) -> bool:
        return bool(self.quote) or self.depth > 0

    def start(self, path: KeyPath) -> None:
        self.path, self.depth, self.index, self.expect_element = path, 0, 0, False

    def feed(self, line: str, pos: int, number: int, lines: dict[KeyPath, int]) -> None:
        n = len(line)
        while pos < n:
            if self.quote:
                end = line.find(self.quote, pos)
                if end < 0:
                    return
                pos, self.quote = end + 3, ""
                continue
            char = line[pos]
            if char in " \t\r":
                pos += 1
                continue
            if char == "#":
                return
            if self.depth == 1 and self.expect_element and char not in ",]":
                lines.setdefault((*self.path, self.index), number)
                self.index += 1
                self.expect_element = False
            if char in "\"'":
                if line.startswith(char * 3, pos):
                    self.quote = char * 3
                    pos += 3
                else:
                    pos = _string_end(line, pos + 1, char)
                continue
            if char in "[{":
                self.depth += 1
                if self.depth == 1 and char == "[":
                    self.expect_element = True
            elif char in "]}":
                self.depth -= 1
            elif char == "," and self.depth == 1:
                self.expect_element = True
            pos += 1


def _string_end(line: str, pos: int, quote: str) -> int:
    """The position just after a one-line string that started before ``pos``."""
    n = len(line)
    while pos < n:
        if quote == '"' and line[pos] == "\\":
            pos += 2
            continue
        if line[pos] == quote:
            return pos + 1
        pos += 1
    return n


def _names(dotted: str) -> list[str]:
    return [part.strip() for part in dotted.split(".")]


def key_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every table header, key and array element of a TOML text.

    Args:
        text: The text of a TOML document that ``tomllib`` has parsed without error.

    Returns:
        Key path -> line; for a key given more than once in a path, its first line.
    """
    lines: dict[KeyPath, int] = {}
    counts: dict[KeyPath, int] = defaultdict(int)
    table: KeyPath = ()
    scan = _ValueScan()
    for number, line in enumerate(text.split("\n"), 1):  # lines as tomllib counts them
        if scan.inside:
            scan.feed(line, 0, number, lines)
            continue
        header = _HEADER.match(line)
        if header:
            names = _names(header.group(2))
            resolved: list[str | int] = []
            for position, name in enumerate(names, 1):
                resolved.append(name)
                prefix = tuple(resolved)
                lines.setdefault(prefix, number)
                if position == len(names) and header.group(1) == "[[":
                    resolved.append(counts[prefix])
                    counts[prefix] += 1
                elif prefix in counts:
                    resolved.append(counts[prefix] - 1)
            table = tuple(resolved)
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = table
            for name in _names(key.group(1)):
                path = (*path, name)
                lines.setdefault(path, number)
            scan.start(path)
            scan.feed(line, key.end(), number, lines)
    return lines


def syntax_error(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int | None]:
    """The message and line of a syntax error in ``text``, worded for users."""
    message = str(exc)
    at = _TOML_AT.search(message)
    if at:
        return f"invalid TOML: {message[: at.start()]} (column {at.group(2)})", int(at.group(1))
    at_end = _TOML_AT_END.search(message)
    if at_end:
        line = text.rstrip().count("\n") + 1
        return f"invalid TOML: {message[: at_end.start()]} (at the end of the file)", line
    return f"invalid TOML: {message}", None

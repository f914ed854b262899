"""What the tariff and taxes readers share: key lines, syntax errors, typed values.

``tomllib`` gives a line number only for a syntax error. A file that parses but says
something wrong (a misspelt key, an hour of 25) still deserves its line, so
:func:`~openams.services.toml_lines.key_lines` scans the text once more and maps every key
path to the line it is on::

    [[period]]                      ("period", 0)                   -> 1
    valid_from = 2026-01-01         ("period", 0, "valid_from")     -> 2
    steps = [                       ("period", 0, "steps")          -> 3
      {from_kw = 0, to_kw = 2, ...},  ("period", 0, "steps", 0)     -> 4
    ]
    [[period.energy]]               ("period", 0, "energy", 0)      -> 6

The n-th ``[[name]]`` of its parent (counting from 0) is the path ``(..., "name", n)``; the
elements of an array written over several lines get their own lines. Keys inside inline
tables and quoted keys are not tracked: a problem there is reported at the line of the
nearest key that is (:meth:`Reader.line`).

Money and other exact quantities are written as strings (``"0.3589"``) or integers. A TOML
float is refused, because by the time ``tomllib`` hands it over as a binary float, digits
may already be lost.

Invariants:
    * Pure: text in, values or problems out; no file, network or clock.
    * A :class:`Reader` collects every problem it meets rather than stopping at the first.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

from openams.errors import InputError

from .toml_lines import KeyPath, key_lines, syntax_error

__all__ = ["KeyPath", "Reader", "dotted", "key_lines", "parse_toml", "show"]

_DECIMAL: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_FLOAT_HINT: Final = 'write prices as strings, such as "0.3589", so no digits are lost'


def parse_toml(text: str, source: str) -> dict[str, object]:
    """Parse a TOML text; a syntax error becomes an :class:`InputError` with its line.

    Raises:
        InputError: The text is not valid TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = syntax_error(exc, text)
        raise InputError(message, source=source, line=line) from exc


def show(value: object) -> str:
    """A value as a message names it: as written in TOML, or its kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def dotted(path: KeyPath) -> str:
    """A key path as a message names it, without array positions: ``period.energy.hours``."""
    return ".".join(part for part in path if isinstance(part, str))


class Reader:
    """Reads the values of a parsed document, collecting problems with their lines.

    Every method that reads a value returns ``None`` when the value is wrong, after adding
    the problem to :attr:`problems`; callers go on with the next value.
    """

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = key_lines(text)
        self.problems: list[InputError] = []

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of the nearest enclosing key, header or element."""
        for size in range(len(path), 0, -1):
            found = self.lines.get(path[:size])
            if found is not None:
                return found
        return None

    def problem(self, message: str, path: KeyPath) -> None:
        """Record a problem at the line of ``path``."""
        self.problems.append(InputError(message, source=self.source, line=self.line(path)))

    def sorted_problems(self) -> list[InputError]:
        """The problems in line order (those without a line first)."""
        return sorted(self.problems, key=lambda error: error.line or 0)

    # --- tables ---

    def table(self, value: object, path: KeyPath) -> dict[str, object] | None:
        """``value`` if it is a table."""
        if isinstance(value, dict):
            return value
        self.problem(f"{dotted(path)} must be a table, got {show(value)}", path)
        return None

    def tables(
        self, value: object, path: KeyPath, header: str
    ) -> list[tuple[int, dict[str, object]]]:
        """The tables of an array of tables, with their positions (other elements reported)."""
        if not isinstance(value, list):
            self.problem(
                f"{dotted(path)} must be an array of tables: write each under {header}", path
            )
            return []
        found = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                found.append((index, item))
            else:
                self.problem(f"{dotted(path)} must hold tables, got {show(item)}", (*path, index))
        return found

    def keys(
        self,
        table: dict[str, object],
        path: KeyPath,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> bool:
        """Report unknown and missing keys of a table; whether none was missing."""
        for key in table:
            if key not in allowed:
                where = f"{dotted(path)}: " if dotted(path) else ""
                message = f"{where}unknown key {key!r}; allowed: {', '.join(allowed)}"
                close = difflib.get_close_matches(key, allowed, n=1)
                if close:
                    message += f" (did you mean {close[0]!r}?)"
                self.problem(message, (*path, key))
        complete = True
        for key in required:
            if key not in table:
                name = f"{dotted(path)}.{key}" if dotted(path) else key
                self.problem(f"missing key {name}", path)
                complete = False
        return complete

    # --- scalars ---

    def text(self, value: object, path: KeyPath, *, empty: bool = False) -> str | None:
        """A string (not empty unless ``empty``)."""
        if not isinstance(value, str):
            self.problem(f"{dotted(path)} must be a string, got {show(value)}", path)
            return None
        if not empty and not value.strip():
            self.problem(f"{dotted(path)} must not be empty", path)
            return None
        return value

    def integer(self, value: object, path: KeyPath, low: int, high: int) -> int | None:
        """A whole number from ``low`` to ``high``."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{dotted(path)} must be a whole number, got {show(value)}", path)
            return None
        if not low <= value <= high:
            self.problem(f"{dotted(path)} must be from {low} to {high}, got {value}", path)
            return None
        return value

    def decimal(
        self,
        value: object,
        path: KeyPath,
        *,
        low: Decimal | None = None,
        high: Decimal | None = None,
        above_low: bool = False,
    ) -> Decimal | None:
        """An exact number written as a string (``"0.3589"``) or an integer, within bounds.

        Args:
            value: The parsed value.
            path: Where it is.
            low: Smallest allowed value (or, with ``above_low``, the bound it must exceed).
            high: Largest allowed value.
            above_low: Whether ``low`` itself is refused.
        """
        name = dotted(path)
        if isinstance(value, float):
            self.problem(f"{name} is a TOML float: {_FLOAT_HINT}", path)
            return None
        number: Decimal | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            number = Decimal(value.strip())
        if number is None:
            self.problem(
                f'{name} must be a decimal number written as a string, such as "0.3589", '
                f"got {show(value)}",
                path,
            )
            return None
        if low is not None and (number < low or (above_low and number == low)):
            bound = "greater than" if above_low else "at least"
            self.problem(f"{name} must be {bound} {low}, got {number}", path)
            return None
        if high is not None and number > high:
            self.problem(f"{name} must be at most {high}, got {number}", path)
            return None
        return number

    def day(self, value: object, path: KeyPath) -> date | None:
        """A TOML local date such as ``2026-01-01`` (not a string, not a date-time)."""
        if isinstance(value, datetime) or not isinstance(value, date):
            self.problem(
                f"{dotted(path)} must be a date written without quotes, such as 2026-01-01, "
                f"got {show(value)}",
                path,
            )
            return None
        return value

    def array(self, value: object, path: KeyPath) -> list[object] | None:
        """A non-empty array."""
        if not isinstance(value, list):
            self.problem(f"{dotted(path)} must be an array, got {show(value)}", path)
            return None
        if not value:
            self.problem(f"{dotted(path)} must not be empty", path)
            return None
        return value

    def choices(
        self, value: object, path: KeyPath, allowed: tuple[str, ...]
    ) -> frozenset[str] | None:
        """A non-empty array of distinct strings, each one of ``allowed``."""
        items = self.array(value, path)
        if items is None:
            return None
        chosen: set[str] = set()
        good = True
        for index, item in enumerate(items):
            if not isinstance(item, str) or item not in allowed:
                self.problem(
                    f"{dotted(path)}: {show(item)} is not one of {', '.join(allowed)}",
                    (*path, index),
                )
                good = False
            elif item in chosen:
                self.problem(f"{dotted(path)}: {show(item)} is given twice", (*path, index))
                good = False
            else:
                chosen.add(item)
        return frozenset(chosen) if good else None

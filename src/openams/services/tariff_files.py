"""Reading grid tariffs and the state's taxes from TOML files, each problem named with its line.

Two kinds of file, told apart by their top-level keys:

* a **tariff file** (``company``, ``code``, ``name`` and one ``[[period]]`` per price
  period, each with its capacity steps and ``[[period.energy]]`` rates), read by
  :mod:`openams.services.tariff_files_tariff`; the packaged ``openams/data/tariffs/*.toml``
  are examples;
* a **taxes file** (``[regions.*]`` and the arrays of rules ``[[consumption_tax]]``,
  ``[[enova_fee]]``, ``[[vat]]``, ``[[support]]``, ``[[norgespris]]``), read by
  :mod:`openams.services.tariff_files_taxes`; the packaged ``openams/data/taxes.toml`` holds
  the national rules.

Both formats are described key by key in ``docs/tariffs.md``.

Invariants:
    * A file is read whole or refused: a tariff or rules are returned only when nothing is
      wrong; :func:`inspect_file` reports every problem found, each with its line.
    * A key the format does not know is a problem (a misspelt key is never ignored).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules
from openams.errors import InputError

from .tariff_files_tariff import parse_tariff
from .tariff_files_taxes import RULE_KINDS, parse_taxes
from .tariff_files_toml import Reader, parse_toml

__all__ = [
    "EXAMPLE_TARIFFS",
    "FileCheck",
    "check_file",
    "default_taxes",
    "example_tariff",
    "inspect_file",
    "inspect_text",
    "load_tariff",
    "load_tariff_file",
    "load_taxes",
    "load_taxes_file",
]

#: The example tariffs packaged in ``openams/data/tariffs`` (for demos and tests).
EXAMPLE_TARIFFS: Final = ("elvia_2026", "bkk_2026", "arva_2026")
_TAXES_SOURCE: Final = "openams/data/taxes.toml"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What reading a tariff or taxes file gave.

    Attributes:
        source: The file's name, as given.
        kind: ``"tariff"``, ``"taxes"``, or ``"unknown"`` when it is neither.
        tariff: The tariff, for a good tariff file.
        taxes: The rules, for a good taxes file.
        problems: Every problem found, in line order; empty for a good file.
    """

    source: str
    kind: str
    tariff: Tariff | None = None
    taxes: TaxRules | None = None
    problems: tuple[InputError, ...] = ()


def _kind(document: dict[str, object]) -> str:
    if "period" in document or "company" in document:
        return "tariff"
    if "regions" in document or any(kind in document for kind in RULE_KINDS):
        return "taxes"
    return "unknown"


def _check_text(text: str, source: str, expect: str | None = None) -> FileCheck:
    try:
        document = parse_toml(text.removeprefix("\ufeff"), source)
    except InputError as exc:
        return FileCheck(source, expect or "unknown", problems=(exc,))
    found = _kind(document)
    kind = expect or found
    reader = Reader(text.removeprefix("\ufeff"), source)
    tariff = taxes = None
    if expect is not None and found not in (expect, "unknown"):
        reader.problems.append(
            InputError(f"this is a {found} file, not a {expect} file", source=source)
        )
    elif kind == "tariff":
        tariff = parse_tariff(reader, document)
    elif kind == "taxes":
        taxes = parse_taxes(reader, document)
    else:
        reader.problems.append(
            InputError(
                "neither a tariff file (company, code, name and [[period]]) nor a taxes file "
                "([[consumption_tax]], [[enova_fee]], [[vat]], [[support]], [[norgespris]])",
                source=source,
            )
        )
    return FileCheck(source, kind, tariff, taxes, tuple(reader.sorted_problems()))


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("the file is not UTF-8 text", source=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc


def inspect_file(path: str | Path) -> FileCheck:
    """Read a tariff or taxes file (told apart by its top-level keys), reporting every problem.

    Args:
        path: The file.

    Returns:
        The tariff or the rules when the file is good, else its problems in line order.
    """
    try:
        text = _read(path)
    except InputError as exc:
        return FileCheck(str(path), "unknown", problems=(exc,))
    return _check_text(text, str(path))


def inspect_text(text: str, source: str) -> FileCheck:
    """Read the text of a tariff or taxes file; see :func:`inspect_file`.

    Args:
        text: The TOML text.
        source: The file's name, for messages.
    """
    return _check_text(text, source)


def check_file(path: str | Path) -> list[InputError]:
    """Every problem of a tariff or taxes file, in line order; empty when it is good."""
    return list(inspect_file(path).problems)


def load_tariff(text: str, source: str) -> Tariff:
    """A tariff from the text of a tariff file.

    Args:
        text: The TOML text.
        source: The file's name, for messages.

    Raises:
        InputError: The first problem of the file, with its line (:func:`inspect_file`
            gives them all).
    """
    check = _check_text(text, source, "tariff")
    if check.tariff is None:
        raise check.problems[0]
    return check.tariff


def load_tariff_file(path: str | Path) -> Tariff:
    """A tariff from a tariff file; see :func:`load_tariff`."""
    return load_tariff(_read(path), str(path))


def load_taxes(text: str, source: str) -> TaxRules:
    """The rules from the text of a taxes file.

    Raises:
        InputError: The first problem of the file, with its line.
    """
    check = _check_text(text, source, "taxes")
    if check.taxes is None:
        raise check.problems[0]
    return check.taxes


def load_taxes_file(path: str | Path) -> TaxRules:
    """The rules from a taxes file; see :func:`load_taxes`."""
    return load_taxes(_read(path), str(path))


@functools.cache
def default_taxes() -> TaxRules:
    """The national rules packaged with OpenAMS (``openams/data/taxes.toml``)."""
    text = resources.files("openams.data").joinpath("taxes.toml").read_text(encoding="utf-8")
    return load_taxes(text, _TAXES_SOURCE)


@functools.cache
def example_tariff(name: str) -> Tariff:
    """One of the packaged example tariffs (:data:`EXAMPLE_TARIFFS`).

    Raises:
        ValueError: ``name`` is not one of them.
    """
    if name not in EXAMPLE_TARIFFS:
        raise ValueError(f"no example tariff {name!r}; the examples: {', '.join(EXAMPLE_TARIFFS)}")
    folder = resources.files("openams.data").joinpath("tariffs")
    text = folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return load_tariff(text, f"openams/data/tariffs/{name}.toml")

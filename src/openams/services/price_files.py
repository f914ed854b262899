"""Reading day-ahead price files and Norges Bank exchange-rate files.

Three formats are read; :func:`parse_price_file` tells them apart by their first bytes and
header.

ENTSO-E A44 (XML)
    The Transparency Platform's day-ahead price document; see
    :mod:`openams.services.price_files_entsoe`. It is read whole or refused whole.

Nord Pool style CSV (defined here)::

    delivery_start;delivery_end;NO1 (EUR);NO5 (EUR)
    2026-01-12T00:00:00+01:00;2026-01-12T01:00:00+01:00;85,12;-1,05

    * The first non-blank line is the header. The separator is ``;`` when the header holds
      one, otherwise ``,``.
    * ``delivery_start`` and ``delivery_end`` (any case; a space may stand for the
      underscore) are ISO 8601 times with a UTC offset (``Z`` allowed). ``end - start`` is
      the market time unit, 3600 or 900 s, and the start lies on a boundary of its unit.
    * One price column per zone, named ``NOn (CUR)``: ``n`` from 1 to 5 (any subset, each
      zone once), ``CUR`` the currency, EUR or NOK. A column named like a price column of
      another zone or currency refuses the file; other columns are ignored.
    * Prices are per MWh, with a decimal point or a decimal comma, an optional sign and no
      thousands separator (with ``,`` as the separator a decimal comma must be quoted). An
      empty cell means no price for that zone and unit.

Norges Bank CSV
    The data API's SDMX CSV (``data.norges-bank.no/api/data/EXR/B.EUR.NOK.SP?format=csv``):
    ``;``-separated, with at least the columns ``BASE_CUR``, ``QUOTE_CUR``, ``TIME_PERIOD``
    (a date), ``OBS_VALUE`` (NOK for ``10**UNIT_MULT`` units of the base currency) and
    ``UNIT_MULT``; other columns are ignored and so are rows of another pair than EUR/NOK.
    A plain two-column form with the header ``date;EUR`` (NOK per EUR) is read too.

Invariants:
    * A CSV row is either read whole or reported as one :class:`InputError` naming its file
      and line; a bad row never stops the good rows around it. A second price of the same
      zone and unit (or a second rate of a day) is such a bad row.
    * A problem with the whole file (not UTF-8, no header, no known column, a broken XML
      document) raises :class:`InputError` and nothing of the file is returned.
    * Pure: bytes or text in, values out; no file, network or clock.

References:
    Norges Bank, "API for open data" (data.norges-bank.no), dataflow EXR.
    SDMX 2.1 cross-domain concepts: UNIT_MULT, the power of ten the value is given in.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from openams.domain.prices import BIDDING_ZONES, HOUR_S, QUARTER_S, ExchangeRate, SpotPrice
from openams.errors import InputError

from .price_files_entsoe import parse_a44_prices

__all__ = [
    "PriceFileResult",
    "parse_entsoe_a44",
    "parse_nordpool_csv",
    "parse_norges_bank_csv",
    "parse_price_file",
]

_CURRENCIES: Final = ("EUR", "NOK")
_UNITS: Final = {HOUR_S: "an hour", QUARTER_S: "a quarter-hour"}
_NORGES_BANK_COLUMNS: Final = ("BASE_CUR", "QUOTE_CUR", "TIME_PERIOD", "OBS_VALUE", "UNIT_MULT")
_PRICE_COLUMN = re.compile(r"(?P<zone>\S+)\s*\(\s*(?P<currency>[A-Za-z]{3})\s*\)")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNIT_MULT = re.compile(r"[0-9]{1,2}")
_SHOWN_MAX = 40


@dataclass(frozen=True, slots=True)
class PriceFileResult:
    """What a price or rate file gave: its values in file order and its rejected rows.

    Attributes:
        prices: The spot prices read (price files).
        rates: The exchange rates read (Norges Bank files).
        problems: One error per rejected CSV row, in line order, each with ``source`` and
            ``line``. Always empty for an XML document, which is read whole or refused.
    """

    prices: list[SpotPrice] = field(default_factory=list)
    rates: list[ExchangeRate] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Table:
    """The header and the non-blank rows of a CSV text, each row with its first line."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    problems: list[InputError]


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "...")


def _number(text: str) -> Decimal | None:
    """The value of a number written with a decimal point or comma, else None."""
    return Decimal(text.replace(",", ".")) if _NUMBER.fullmatch(text) else None


def _table(text: str, source: str) -> _Table:
    """Split CSV text into header and rows; a ``csv`` error ends the reading, reported."""
    text = text.removeprefix("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise InputError("the file is empty: no header", source=source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if ";" in first else ",")
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    problems: list[InputError] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(
                InputError(f"unreadable CSV, reading stops: {exc}", source=source, line=line)
            )
            break
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = [cell.strip() for cell in row], line
        else:
            rows.append((line, row))
    if header is None:
        raise InputError("no header", source=source, line=problems[0].line if problems else None)
    return _Table(header, header_line, rows, problems)


def _row_size_problem(row: list[str], header: list[str]) -> str | None:
    if len(row) == len(header):
        return None
    return f"{len(row)} fields where the header has {len(header)}"


# --- Nord Pool style CSV ---------------------------------------------------------------------


def _nordpool_columns(table: _Table, source: str) -> tuple[int, int, list[tuple[int, str, str]]]:
    """Indexes of delivery_start and delivery_end and (index, zone, currency) per price."""
    line = table.header_line
    names = [cell.lower().replace(" ", "_") for cell in table.header]
    for name in ("delivery_start", "delivery_end"):
        if names.count(name) != 1:
            said = "no" if name not in names else "more than one"
            raise InputError(f"the header has {said} {name} column", source=source, line=line)
    zones: list[tuple[int, str, str]] = []
    for index, cell in enumerate(table.header):
        match = _PRICE_COLUMN.fullmatch(cell)
        if match is None:
            continue
        zone, currency = match["zone"].upper(), match["currency"].upper()
        if zone not in BIDDING_ZONES:
            raise InputError(
                f"column {cell!r}: zone {zone} is not Norwegian; only NO1..NO5 are kept",
                source=source,
                line=line,
            )
        if currency not in _CURRENCIES:
            raise InputError(
                f"column {cell!r}: currency {currency} is not EUR or NOK", source=source, line=line
            )
        if any(z == zone for _, z, _ in zones):
            raise InputError(
                f"column {cell!r}: a second column for {zone}", source=source, line=line
            )
        zones.append((index, zone, currency))
    if not zones:
        raise InputError(
            "the header has no price column such as 'NO1 (EUR)'", source=source, line=line
        )
    return names.index("delivery_start"), names.index("delivery_end"), zones


def _aware_s(text: str, column: str, messages: list[str]) -> int | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        messages.append(f"{column} must be an ISO 8601 time with a UTC offset, not {_shown(text)}")
        return None
    return int(moment.timestamp())


def _nordpool_row(
    row: list[str], columns: tuple[int, int, list[tuple[int, str, str]]], header: list[str]
) -> tuple[list[SpotPrice], list[str]]:
    """The prices of one row, or the messages saying what is wrong with it."""
    start_index, end_index, zones = columns
    messages: list[str] = []
    start_s = _aware_s(row[start_index], "delivery_start", messages)
    end_s = _aware_s(row[end_index], "delivery_end", messages)
    resolution_s = 0
    if start_s is not None and end_s is not None:
        resolution_s = end_s - start_s
        if resolution_s not in _UNITS:
            messages.append(f"delivery_end - delivery_start is {resolution_s} s, not 3600 or 900")
        elif start_s % resolution_s:
            messages.append(f"delivery_start is not on {_UNITS[resolution_s]} boundary")
    amounts: list[tuple[str, str, Decimal]] = []
    for index, zone, currency in zones:
        cell = row[index].strip()
        amount = _number(cell)
        if amount is not None:
            amounts.append((zone, currency, amount))
        elif cell:
            messages.append(f"{header[index]} {_shown(cell)} is not a price")
    if messages or start_s is None:
        return [], messages
    return [SpotPrice(z, start_s, resolution_s, a, c) for z, c, a in amounts], []


def _nordpool(table: _Table, source: str) -> PriceFileResult:
    columns = _nordpool_columns(table, source)
    prices: list[SpotPrice] = []
    problems: list[InputError] = []
    first_line: dict[tuple[str, int, int], int] = {}
    for line, row in table.rows:
        size_problem = _row_size_problem(row, table.header)
        row_prices, messages = (
            ([], [size_problem]) if size_problem else _nordpool_row(row, columns, table.header)
        )
        for price in row_prices:
            key = (price.zone, price.resolution_s, price.start_at_s)
            if key in first_line:
                messages.append(
                    f"a second price for {price.zone} (first on line {first_line[key]})"
                )
        if messages:
            problems.append(InputError("; ".join(messages), source=source, line=line))
            continue
        for price in row_prices:
            first_line[(price.zone, price.resolution_s, price.start_at_s)] = line
        prices.extend(row_prices)
    return PriceFileResult(prices=prices, problems=problems + table.problems)


def parse_nordpool_csv(text: str, *, source: str) -> PriceFileResult:
    """Spot prices from a Nord Pool style CSV (the format in this module's docstring).

    Args:
        text: The file's text.
        source: The file name, for messages.

    Returns:
        The prices of the good rows (row by row, columns in header order) and one problem
        per bad row.

    Raises:
        InputError: no header, a header without delivery_start, delivery_end or a price
            column, or a price column of a zone outside NO1..NO5 or a currency other than
            EUR or NOK.
    """
    return _nordpool(_table(text, source), source)


# --- Norges Bank CSV -------------------------------------------------------------------------


def _is_plain_rates(header: list[str]) -> bool:
    return len(header) == 2 and header[0].lower() == "date" and header[1].upper() == "EUR"


def _day(text: str) -> date | None:
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _norges_bank(table: _Table, source: str) -> PriceFileResult:
    # SDMX CSV: FREQ;...;BASE_CUR;...;QUOTE_CUR;...;UNIT_MULT;...;TIME_PERIOD;OBS_VALUE
    header = [cell.upper() for cell in table.header]
    if _is_plain_rates(table.header):
        columns = {"TIME_PERIOD": 0, "OBS_VALUE": 1}
    else:
        missing = [name for name in _NORGES_BANK_COLUMNS if name not in header]
        if missing:
            raise InputError(
                f"not a Norges Bank rate file: no column {', '.join(missing)}",
                source=source,
                line=table.header_line,
            )
        columns = {name: header.index(name) for name in _NORGES_BANK_COLUMNS}
    rates: list[ExchangeRate] = []
    problems: list[InputError] = []
    first_line: dict[date, int] = {}
    for line, row in table.rows:
        size_problem = _row_size_problem(row, table.header)
        if size_problem:
            problems.append(InputError(size_problem, source=source, line=line))
            continue
        cell = {name: row[index].strip() for name, index in columns.items()}
        if cell.get("BASE_CUR", "EUR") != "EUR" or cell.get("QUOTE_CUR", "NOK") != "NOK":
            continue
        messages = []
        day = _day(cell["TIME_PERIOD"])
        if day is None:
            messages.append(
                f"TIME_PERIOD must be a date YYYY-MM-DD, not {_shown(cell['TIME_PERIOD'])}"
            )
        elif day in first_line:
            messages.append(f"a second rate for {day} (first on line {first_line[day]})")
        value = _number(cell["OBS_VALUE"])
        if value is None or value <= 0:
            messages.append(f"OBS_VALUE must be a positive number, not {_shown(cell['OBS_VALUE'])}")
        multiplier = cell.get("UNIT_MULT", "0")
        if not _UNIT_MULT.fullmatch(multiplier):
            messages.append(
                f"UNIT_MULT must be a whole number of 0 to 99, not {_shown(multiplier)}"
            )
        if messages or day is None or value is None:
            problems.append(InputError("; ".join(messages), source=source, line=line))
            continue
        first_line[day] = line
        rates.append(ExchangeRate(day, value.scaleb(-int(multiplier)), "EUR"))
    return PriceFileResult(rates=rates, problems=problems + table.problems)


def parse_norges_bank_csv(text: str, *, source: str) -> PriceFileResult:
    """EUR/NOK rates from Norges Bank's SDMX CSV (or the plain ``date;EUR`` form).

    Args:
        text: The file's text.
        source: The file name, for messages.

    Returns:
        One :class:`ExchangeRate` per good EUR/NOK row (NOK per EUR), and one problem per
        bad row; rows of other currency pairs are left out without a problem.

    Raises:
        InputError: no header, or a header without the columns BASE_CUR, QUOTE_CUR,
            TIME_PERIOD, OBS_VALUE and UNIT_MULT.
    """
    return _norges_bank(_table(text, source), source)


# --- any of them -----------------------------------------------------------------------------


def parse_entsoe_a44(data: bytes, *, source: str) -> PriceFileResult:
    """Spot prices from an ENTSO-E A44 day-ahead price document.

    Raises:
        InputError: the document is broken or holds no prices; see
            :func:`~openams.services.price_files_entsoe.parse_a44_prices`.
    """
    return PriceFileResult(prices=parse_a44_prices(data, source=source))


def parse_price_file(data: bytes, *, source: str) -> PriceFileResult:
    """Prices or rates from a file of any of the three formats, recognised by its content.

    XML (``<`` first, after an optional byte order mark and white space) is read as ENTSO-E
    A44; a CSV whose header has ``TIME_PERIOD`` and ``OBS_VALUE`` (or is ``date;EUR``) as
    Norges Bank rates; any other CSV as Nord Pool style prices.

    Raises:
        InputError: the file is not UTF-8 text, or the format's parser refuses the whole
            file.
    """
    if data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        return parse_entsoe_a44(data, source=source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("the file is not UTF-8 text", source=source, line=line) from None
    table = _table(text, source)
    header = {cell.upper() for cell in table.header}
    if {"TIME_PERIOD", "OBS_VALUE"} <= header or _is_plain_rates(table.header):
        return _norges_bank(table, source)
    return _nordpool(table, source)

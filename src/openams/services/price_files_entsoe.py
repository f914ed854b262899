"""Day-ahead prices from the ENTSO-E Transparency Platform's A44 price document.

The platform answers a day-ahead price query with a ``Publication_MarketDocument`` of type
A44, or, when it has nothing to send, with an ``Acknowledgement_MarketDocument`` whose
``Reason`` says why. A price document holds one ``TimeSeries`` per bidding zone and market
period; each series has one or more ``Period`` elements of equal-length units (PT60M until the
15-minute day-ahead market went live for delivery day 1 October 2025, PT15M since).

Invariants:
    * Elements are matched by local name, so any version of the document's namespace is read.
    * The whole document is accepted or refused: a broken series raises :class:`InputError`,
      naming the series and position, and no price of the file is returned.
    * Only the five Norwegian bidding zones are read; a series of another zone raises, so that
      a file meant for another zone cannot be half-read silently.
    * Pure: bytes in, prices out; the parser is ``defusedxml`` (no DTD, no entities).

References:
    ENTSO-E, "Transparency Platform RESTful API - user guide", day-ahead prices (article
    12.1.D, document type A44) and the acknowledgement document.
    IEC 62325-451-3, publication document; IEC 62325-451-1, acknowledgement document.
    ENTSO-E, "Implementation guide for curve types": A01 (sequential fixed size blocks, every
    position present) and A03 (variable sized blocks, a point holds until the next one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from openams.domain.prices import HOUR_S, QUARTER_S, SpotPrice
from openams.errors import InputError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element  # a type only, never a parser

__all__ = ["EIC_ZONES", "MAX_PERIOD_S", "parse_a44_prices"]

#: Energy Identification Codes of the Norwegian bidding zones.
EIC_ZONES: Final = {
    "10YNO-1--------2": "NO1",
    "10YNO-2--------T": "NO2",
    "10YNO-3--------J": "NO3",
    "10YNO-4--------9": "NO4",
    "10Y1001A1001A48H": "NO5",
}
#: The longest ``Period`` read (a year and a day); a market period is one day. [s]
MAX_PERIOD_S: Final = 367 * 86_400

# ISO 8601 durations the platform writes for the two market time units.
_RESOLUTIONS_S: Final = {"PT60M": HOUR_S, "PT1H": HOUR_S, "PT15M": QUARTER_S}
_CURRENCIES: Final = ("EUR", "NOK")
_CURVE_TYPES: Final = ("A01", "A03")
_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_POSITION = re.compile(r"[0-9]{1,9}")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element, name: str, where: str, source: str) -> str:
    """The stripped text of the required child ``name`` of ``element``."""
    child = _child(element, name)
    if child is None or not (child.text or "").strip():
        raise InputError(f"{where}: no {name}", source=source)
    return (child.text or "").strip()


def _utc_s(text: str, what: str, source: str) -> int:
    """Epoch seconds of a UTC time written like ``2026-01-11T23:00Z``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None or moment.utcoffset():
        raise InputError(
            f"{what} must be a UTC time like 2026-01-11T23:00Z, not {text!r}", source=source
        )
    return int(moment.astimezone(UTC).timestamp())


def _shown(at_s: int) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _refusal(root: Element, source: str) -> InputError:
    """The error for an acknowledgement: the platform's reasons, quoted."""
    reasons = [
        (reason_text.text or "").strip()
        for reason in root.iter()
        if _local(reason.tag) == "Reason"
        for reason_text in _children(reason, "text")
    ]
    said = "; ".join(r for r in reasons if r) or "no reason given"
    return InputError(f"ENTSO-E sent no prices but an acknowledgement: {said}", source=source)


def parse_a44_prices(data: bytes, *, source: str) -> list[SpotPrice]:
    """The prices of an A44 price document, in document order.

    Args:
        data: The XML document. [bytes]
        source: The file name, for messages.

    Returns:
        One :class:`SpotPrice` per market time unit and zone, in the document's currency
        (EUR/MWh as the platform publishes).

    Raises:
        InputError: malformed XML, an acknowledgement (no data; its reason is quoted), a
            document of another type, a zone outside NO1..NO5, an unsupported currency, unit,
            curve type or resolution, a bad price, or positions that do not fit their period.
    """
    try:
        root = fromstring(data.removeprefix(b"\xef\xbb\xbf").lstrip())
    except (ParseError, DefusedXmlException) as exc:
        raise InputError(f"not a well-formed XML document: {exc}", source=source) from None
    kind = _local(root.tag)
    if kind == "Acknowledgement_MarketDocument":
        raise _refusal(root, source)
    if kind != "Publication_MarketDocument":
        raise InputError(
            f"not an ENTSO-E price document: the root element is {kind}", source=source
        )
    doc_type = _text(root, "type", "the document", source)
    if doc_type != "A44":
        raise InputError(
            f"the document is of type {doc_type}, not A44 (day-ahead prices)", source=source
        )
    prices: list[SpotPrice] = []
    seen: set[tuple[str, int, int]] = set()
    for number, series in enumerate(_children(root, "TimeSeries"), start=1):
        for price in _series_prices(series, number, source):
            key = (price.zone, price.resolution_s, price.start_at_s)
            if key in seen:
                at = _shown(price.start_at_s)
                raise InputError(
                    f"TimeSeries {number}: a second price for {price.zone} at {at}", source=source
                )
            seen.add(key)
            prices.append(price)
    return prices


def _series_prices(series: Element, number: int, source: str) -> list[SpotPrice]:
    # <TimeSeries> mRID, businessType, in_Domain.mRID, out_Domain.mRID, currency_Unit.name,
    #   price_Measure_Unit.name, curveType, Period+ </TimeSeries>
    where = f"TimeSeries {number}"
    eic = _text(series, "in_Domain.mRID", where, source)
    out_eic = _text(series, "out_Domain.mRID", where, source)
    if out_eic != eic:
        raise InputError(f"{where}: in_Domain {eic} and out_Domain {out_eic} differ", source=source)
    zone = EIC_ZONES.get(eic)
    if zone is None:
        raise InputError(
            f"{where}: bidding zone {eic} is not Norwegian; only NO1..NO5 are kept", source=source
        )
    currency = _text(series, "currency_Unit.name", where, source)
    if currency not in _CURRENCIES:
        raise InputError(f"{where}: currency {currency} is not EUR or NOK", source=source)
    unit = _text(series, "price_Measure_Unit.name", where, source)
    if unit != "MWH":
        raise InputError(f"{where}: prices per {unit}, not per MWH", source=source)
    # A document without curveType predates A03 and lists every position (A01).
    has_curve = _child(series, "curveType") is not None
    curve = _text(series, "curveType", where, source) if has_curve else "A01"
    if curve not in _CURVE_TYPES:
        raise InputError(f"{where}: curve type {curve} is not A01 or A03", source=source)
    periods = list(_children(series, "Period"))
    if not periods:
        raise InputError(f"{where}: no Period", source=source)
    prices = []
    for period in periods:
        for start_at_s, resolution_s, amount in _period_points(period, curve, where, source):
            prices.append(SpotPrice(zone, start_at_s, resolution_s, amount, currency))
    return prices


def _period_points(
    period: Element, curve: str, where: str, source: str
) -> list[tuple[int, int, Decimal]]:
    """(start, resolution, price) of every unit of one period, omitted positions filled."""
    # <Period> <timeInterval><start/><end/></timeInterval> <resolution/>
    #   <Point><position/><price.amount/></Point>+ </Period>
    interval = _child(period, "timeInterval")
    if interval is None:
        raise InputError(f"{where}: a Period without timeInterval", source=source)
    start_s = _utc_s(_text(interval, "start", where, source), f"{where}: start", source)
    end_s = _utc_s(_text(interval, "end", where, source), f"{where}: end", source)
    written = _text(period, "resolution", where, source)
    resolution_s = _RESOLUTIONS_S.get(written)
    if resolution_s is None:
        raise InputError(f"{where}: resolution {written} is not PT60M or PT15M", source=source)
    length_s = end_s - start_s
    if length_s <= 0 or length_s > MAX_PERIOD_S:
        raise InputError(
            f"{where}: a period must end after its start, within {MAX_PERIOD_S // 86_400} days",
            source=source,
        )
    if start_s % resolution_s or length_s % resolution_s:
        raise InputError(f"{where}: the period is not whole units of {written}", source=source)
    units = length_s // resolution_s
    given: dict[int, Decimal] = {}
    for point in _children(period, "Point"):
        position_text = _text(point, "position", where, source)
        if not _POSITION.fullmatch(position_text) or not 1 <= int(position_text) <= units:
            raise InputError(
                f"{where}: position {position_text} is outside 1..{units} of its period",
                source=source,
            )
        position = int(position_text)
        if position in given:
            raise InputError(f"{where}: position {position} given twice", source=source)
        written_amount = _text(point, "price.amount", f"{where}, position {position}", source)
        if not _AMOUNT.fullmatch(written_amount):
            raise InputError(
                f"{where}, position {position}: price.amount {written_amount!r} is not a number",
                source=source,
            )
        given[position] = Decimal(written_amount)
    missing = [p for p in range(1, units + 1) if p not in given]
    if missing and (curve == "A01" or missing[0] == 1):
        raise InputError(
            f"{where}: position {missing[0]} of {units} is missing (curve type {curve})",
            source=source,
        )
    points = []
    amount = Decimal(0)
    for position in range(1, units + 1):
        amount = given.get(position, amount)  # A03: an omitted position repeats the last price
        points.append((start_s + (position - 1) * resolution_s, resolution_s, amount))
    return points

"""The Elhub ``CollectedData`` message: interval values from the grid company to Elhub.

A grid company, as metered data collector (role ``DDE``), reports the values of its
non-profiled metering points to Elhub in business process BRS-NO-313 with a ``CollectedData``
document of type ``E13``. This module writes such a document from our series and reads one
back; it does no I/O (bytes in, bytes out). docs/elhub-message.md shows the message and gives
the sources.

How our statuses are sent (Elhub's mapping of BIM elements to qualities):

========================  ================================================================
status                    in the message
========================  ================================================================
``measured``              ``<Observation Sequence="n"><Metered>q</Metered>``
``estimated``             ``<Estimated Quality="56" ...>q</Estimated>``
``final_estimated``       ``<Estimated Quality="81" ...>q</Estimated>``
``temporary``             ``<Temporary ...>q</Temporary>``
``missing``               no ``Observation`` for that position
``rejected``              never sent: the interval must be estimated first (VEE 4.1)
========================  ================================================================

Invariants:
    * A document written here validates against Elhub's CollectedData v2 schema as far as
      this module knows it: namespaces, element order, code lists and attributes, quantities
      ``decimal(15,3)`` from 0 up to 10^12 kWh, written with exactly 3 decimals.
    * A series has one value per interval of ``[start, end)``: 23, 24 or 25 hours, or 92,
      96 or 100 quarter-hours, for a Norwegian local day. Times are written in UTC with
      ``Z``; sub-second parts of the creation and registration times are dropped.
    * ``parse_collected_data(collected_data_xml(h, s)) == (h, list(s))``, with times in UTC.
    * Reading refuses a DOCTYPE or an entity declaration before the parser sees the bytes.
    * Every :class:`MessageError` names what is wrong: the header field, or the metering
      point and the position (1-based) of the value.

References:
    https://dok.elhub.no/Elhubstandard/collecteddata (message implementation guide),
    https://dok.elhub.no/Elhubstandard/16-metering-values-from-metered-data-collector,
    https://dok.elhub.no/Elhubstandard/notat-om-mapping-av-volum-og-kvalitet-mellom-eim-o,
    https://dok.elhub.no/Elhubstandard/4-0-krav-til-validering,
    https://dok.elhub.no/Elhubstandard/namespace.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from openams.domain.identifiers import is_valid_gsrn

__all__ = [
    "ELHUB_GLN",
    "ESTIMATION_CODE",
    "OBSERVATION_ELEMENTS",
    "QUALITY_CODES",
    "RESOLUTION_CODES",
    "STATUSES",
    "VALIDATION_CODE",
    "MessageError",
    "MessageHeader",
    "MeteringPointSeries",
    "ObservationValue",
    "collected_data_xml",
    "parse_collected_data",
]

#: Elhub's GLN, the juridical recipient of every message to Elhub.
ELHUB_GLN = "7080003824349"
#: Our value statuses, strongest first.
STATUSES = ("measured", "final_estimated", "estimated", "temporary", "rejected", "missing")
#: Status -> the ``Quality`` attribute of ``Estimated``: Elhub's quality codes for interval values.
QUALITY_CODES: dict[str, str] = {"estimated": "56", "final_estimated": "81"}
#: Status -> the element that carries the quantity inside ``Observation``.
OBSERVATION_ELEMENTS: dict[str, str] = {
    "measured": "Metered",
    "estimated": "Estimated",
    "final_estimated": "Estimated",
    "temporary": "Temporary",
}
#: ``resolution_s`` -> ``ResolutionDuration`` written.
RESOLUTION_CODES: dict[int, str] = {3600: "PT60M", 900: "PT15M"}
#: Validation method written on estimated and temporary values (the schema requires one).
VALIDATION_CODE = "V999"
#: Estimation method written on estimated values (the schema requires one).
ESTIMATION_CODE = "E001"

RSM = "urn:no:elhub:emif:metering:CollectedData:v2"
ABIE = "urn:no:elhub:emif:common:AggregatedBusinessInformationEntities:v2"
DOCUMENT_TYPE = "E13"
PROCESS = "BRS-NO-313"
ROLE = "DDE"
INDUSTRY = "23"  # electricity
ACTIVE_ENERGY = "8716867000030"
UNIT = "kWh"
_DIRECTIONS = {"consumption": "Out", "production": "In"}
_READ_RESOLUTIONS = {"PT60M": 3600, "PT1H": 3600, "PT15M": 900}
_READ_QUALITIES = {code: status for status, code in QUALITY_CODES.items()}
_MAX_SEQUENCE = 9999
_MAX_KWH = Decimal(10) ** 12
_MILLI = Decimal("0.001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_QUANTITY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,3})?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


class MessageError(ValueError):
    """A message cannot be written or read; the text names the field or value."""


@dataclass(frozen=True, slots=True)
class ObservationValue:
    """The value of one interval.

    Attributes:
        quantity_kwh: Active energy in the interval, ``None`` only when ``missing``. [kWh]
        status: One of :data:`STATUSES`.
    """

    quantity_kwh: Decimal | None
    status: str


@dataclass(frozen=True, slots=True)
class MeteringPointSeries:
    """The values of one metering point and direction over ``[start, end)``.

    Attributes:
        series_id: UUID (lower-case), unique per series and version.
        metering_point_id: GSRN, 18 digits.
        start: Start of the first interval (aware).
        end: End of the last interval, exclusive (aware).
        resolution_s: Length of an interval, 3600 or 900. [s]
        direction: ``consumption`` (A+, out of the grid) or ``production`` (A-, into it).
        values: One per interval, in time order.
        registered_at: When the grid company registered these values (aware).
    """

    series_id: str
    metering_point_id: str
    start: datetime
    end: datetime
    resolution_s: int
    direction: str
    values: tuple[ObservationValue, ...]
    registered_at: datetime


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """Who sends the message to whom, and when.

    Attributes:
        message_id: UUID (lower-case) of the document.
        created_at: When the document was made (aware).
        sender_gln: GLN of the grid company, metered data collector; physical and juridical
            sender.
        recipient_gln: GLN of the juridical recipient: Elhub.
    """

    message_id: str
    created_at: datetime
    sender_gln: str
    recipient_gln: str = ELHUB_GLN


# --- writing -----------------------------------------------------------------------------


def collected_data_xml(header: MessageHeader, series: Sequence[MeteringPointSeries]) -> bytes:
    """A BRS-NO-313 ``CollectedData`` document (UTF-8, with XML declaration).

    Raises:
        MessageError: a field of the header or of a series is not what Elhub accepts: a
            resolution other than 3600/900 s, a start or end off the resolution's boundaries,
            a number of values other than the intervals in the period, a quantity negative,
            over 10^12 kWh or with more than 3 decimals, a bad GSRN, GLN or UUID, an unknown
            status, a ``missing`` value with a quantity or another without one, a
            ``rejected`` value, a series with nothing to send, or no series at all.
    """
    _check_header(header)
    if not series:
        raise MessageError("a CollectedData message has at least one series")
    if len(series) > _MAX_SEQUENCE:
        raise MessageError(f"{len(series)} series; a message holds at most {_MAX_SEQUENCE}")
    seen: set[str] = set()
    for s in series:
        _check_series(s)
        if s.series_id in seen:
            raise MessageError(f"metering point {s.metering_point_id}: series_id repeated")
        seen.add(s.series_id)
    # Written as text: every value in it was checked above to be digits, a UUID, a time or
    # one of our own constants, so nothing needs escaping; this is the export's hot path.
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rsm:CollectedData xmlns:rsm="{RSM}" xmlns:abie="{ABIE}">',
    ]
    _write_header(out, header)
    for s in series:
        _write_series(out, s)
    out.append("</rsm:CollectedData>\n")
    return "\n".join(out).encode("utf-8")


def _leaf(name: str, text: str, depth: int, attributes: str = "") -> str:
    return f"{'  ' * depth}<abie:{name}{attributes}>{text}</abie:{name}>"


def _write_header(out: list[str], header: MessageHeader) -> None:
    out += [
        "  <rsm:Header>",
        _leaf("Identification", header.message_id, 2),
        _leaf("DocumentType", DOCUMENT_TYPE, 2, ' listAgencyIdentifier="260"'),
        _leaf("Creation", _utc_text(header.created_at), 2),
    ]
    for role, gln in (
        ("PhysicalSenderEnergyParty", header.sender_gln),
        ("JuridicalSenderEnergyParty", header.sender_gln),
        ("JuridicalRecipientEnergyParty", header.recipient_gln),
    ):
        out += [
            f"    <abie:{role}>",
            _leaf("Identification", gln, 3, ' schemeAgencyIdentifier="9"'),
            f"    </abie:{role}>",
        ]
    out += [
        "  </rsm:Header>",
        "  <rsm:ProcessEnergyContext>",
        _leaf("EnergyBusinessProcess", PROCESS, 2, ' listAgencyIdentifier="89"'),
        _leaf("EnergyBusinessProcessRole", ROLE, 2, ' listAgencyIdentifier="6"'),
        _leaf("EnergyIndustryClassification", INDUSTRY, 2),
        "  </rsm:ProcessEnergyContext>",
    ]


def _observation_open(status: str) -> str:
    """The opening tag of a value's element, with its quality and codes."""
    attributes = ""
    if status in QUALITY_CODES:
        attributes = (
            f' Quality="{QUALITY_CODES[status]}" ValidationCode="{VALIDATION_CODE}"'
            f' EstimationCode="{ESTIMATION_CODE}"'
        )
    elif status == "temporary":
        attributes = f' ValidationCode="{VALIDATION_CODE}"'
    return f"<abie:{OBSERVATION_ELEMENTS[status]}{attributes}>"


_OPEN = {status: _observation_open(status) for status in OBSERVATION_ELEMENTS}
_CLOSE = {status: f"</abie:{element}>" for status, element in OBSERVATION_ELEMENTS.items()}


def _write_series(out: list[str], s: MeteringPointSeries) -> None:
    out += [
        "  <rsm:PayloadEnergyTimeSeries>",
        _leaf("Identification", s.series_id, 2),
        _leaf("RegistrationDateTime", _utc_text(s.registered_at), 2),
        "    <abie:ObservationPeriodTimeSeriesPeriod>",
        _leaf("ResolutionDuration", RESOLUTION_CODES[s.resolution_s], 3),
        _leaf("Start", _utc_text(s.start), 3),
        _leaf("End", _utc_text(s.end), 3),
        "    </abie:ObservationPeriodTimeSeriesPeriod>",
        "    <abie:ProductIncludedProductCharacteristics>",
        _leaf("Identification", ACTIVE_ENERGY, 3, ' schemeAgencyIdentifier="9"'),
        _leaf("UnitType", UNIT, 3),
        "    </abie:ProductIncludedProductCharacteristics>",
        "    <abie:MPDetailMeasurementMeteringPointCharacteristic>",
        _leaf("Direction", _DIRECTIONS[s.direction], 3),
        "    </abie:MPDetailMeasurementMeteringPointCharacteristic>",
        "    <abie:MeteringPointUsedDomainLocation>",
        _leaf("Identification", s.metering_point_id, 3, ' schemeAgencyIdentifier="9"'),
        "    </abie:MeteringPointUsedDomainLocation>",
    ]
    known = _KNOWN
    for position, value in enumerate(s.values, start=1):
        if value.status == "missing" or value.quantity_kwh is None:
            continue  # nothing is sent for a missing interval
        found = known.get(id(value))
        body = found[1] if found is not None and found[0] is value else _body(value)
        out.append(f'    <abie:Observation Sequence="{position}">\n{body}\n    </abie:Observation>')
    out.append("  </rsm:PayloadEnergyTimeSeries>")


def _body(value: ObservationValue) -> str:
    """The element inside an observation: the value's kind, quality and quantity."""
    assert value.quantity_kwh is not None  # noqa: S101 - missing values are left out before
    status = value.status
    return f"      {_OPEN[status]}{_kwh_text(value.quantity_kwh)}{_CLOSE[status]}"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Values found valid already, by identity, with their element: values are immutable and
#: the export hands the same object for the same energy and status. The object is kept, so
#: its id is not reused while it is here.
_KNOWN: dict[int, tuple[ObservationValue, str]] = {}


@lru_cache(maxsize=1 << 16)
def _kwh_text(quantity_kwh: Decimal) -> str:
    # ``+ 0`` turns -0 into 0; the value was checked to have at most 3 decimals.
    return f"{quantity_kwh + 0:.3f}"


# --- checks ------------------------------------------------------------------------------


def _check_header(header: MessageHeader) -> None:
    _check_uuid(header.message_id, "header: message_id")
    _check_aware(header.created_at, "header: created_at")
    _check_gln(header.sender_gln, "header: sender_gln")
    _check_gln(header.recipient_gln, "header: recipient_gln")


def _check_series(s: MeteringPointSeries) -> None:
    if not (isinstance(s.metering_point_id, str) and is_valid_gsrn(s.metering_point_id)):
        raise MessageError(
            f"metering point {s.metering_point_id!r}: not a GSRN (18 digits with a GS1 check digit)"
        )
    where = f"metering point {s.metering_point_id}"
    _check_uuid(s.series_id, f"{where}: series_id")
    _check_aware(s.registered_at, f"{where}: registered_at")
    _check_aware(s.start, f"{where}: start")
    _check_aware(s.end, f"{where}: end")
    if type(s.resolution_s) is not int or s.resolution_s not in RESOLUTION_CODES:
        raise MessageError(f"{where}: resolution_s is {s.resolution_s!r}, not 3600 or 900")
    if s.direction not in _DIRECTIONS:
        raise MessageError(f"{where}: direction {s.direction!r} is not consumption/production")
    intervals = _intervals(s.start, s.end, s.resolution_s, where)
    if len(s.values) != intervals:
        raise MessageError(
            f"{where}: {len(s.values)} values for {intervals} intervals of "
            f"{s.resolution_s} s from {_utc_text(s.start)} to {_utc_text(s.end)}"
        )
    known = _KNOWN
    for position, value in enumerate(s.values, start=1):
        found = known.get(id(value))
        if found is not None and found[0] is value:
            continue  # this very value was checked before
        _check_value(value, f"{where}, position {position}")
        if value.status != "missing" and len(known) < 1 << 17:
            known[id(value)] = (value, _body(value))
    if all(v.status == "missing" for v in s.values):
        raise MessageError(f"{where}: every value is missing; there is nothing to send")


def _intervals(start: datetime, end: datetime, resolution_s: int, where: str) -> int:
    # In UTC: Python subtracts and compares datetimes that share a tzinfo by wall-clock time,
    # which gives a 23- or 25-hour local day 24 hours.
    step = timedelta(seconds=resolution_s)
    for name, moment in (("start", start), ("end", end)):
        if (moment.astimezone(UTC) - _EPOCH) % step:
            raise MessageError(
                f"{where}: {name} {moment.isoformat()} is not on a {resolution_s} s boundary"
            )
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise MessageError(f"{where}: end is not after start")
    intervals = (end - start) // step
    if intervals > _MAX_SEQUENCE:
        raise MessageError(f"{where}: {intervals} intervals; at most {_MAX_SEQUENCE} a series")
    return intervals


def _check_value(value: ObservationValue, where: str) -> None:
    status, quantity = value.status, value.quantity_kwh
    if status not in STATUSES:
        raise MessageError(f"{where}: unknown status {status!r}")
    if status == "rejected":
        raise MessageError(f"{where}: a rejected value is not sent to Elhub; estimate it first")
    if status == "missing":
        if quantity is not None:
            raise MessageError(f"{where}: a missing value has a quantity ({quantity})")
        return
    if quantity is None:
        raise MessageError(f"{where}: no quantity for a {status} value")
    if not isinstance(quantity, Decimal):
        raise MessageError(f"{where}: quantity_kwh is a {type(quantity).__name__}, not a Decimal")
    if not quantity.is_finite():
        raise MessageError(f"{where}: quantity {quantity} is not a number")
    if quantity < 0:
        raise MessageError(f"{where}: quantity {quantity} kWh is negative")
    if quantity >= _MAX_KWH:
        raise MessageError(f"{where}: quantity {quantity} kWh is not under 10^12 kWh")
    if quantity.quantize(_MILLI) != quantity:
        raise MessageError(f"{where}: quantity {quantity} kWh has more than 3 decimals")


def _check_uuid(text: object, where: str) -> None:
    if not (isinstance(text, str) and _UUID.fullmatch(text)):
        raise MessageError(f"{where} {text!r} is not a lower-case UUID")


def _check_gln(text: object, where: str) -> None:
    if not (isinstance(text, str) and _is_gln(text)):
        raise MessageError(f"{where} {text!r} is not a GLN (13 digits with a GS1 check digit)")


def _is_gln(text: str) -> bool:
    if len(text) != 13 or not (text.isascii() and text.isdigit()):
        return False
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(text[:12])))
    return -weighted % 10 == int(text[12])


def _check_aware(moment: object, where: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise MessageError(f"{where} is not an aware datetime")


# --- reading -----------------------------------------------------------------------------


def parse_collected_data(xml: bytes) -> tuple[MessageHeader, list[MeteringPointSeries]]:
    """The header and series of a BRS-NO-313 ``CollectedData`` document.

    Children may come in any order; elements this module does not use are ignored. Times
    come back in UTC; a position with no ``Observation`` comes back ``missing``.

    Raises:
        MessageError: the bytes are not UTF-8 XML, declare a DOCTYPE or entity, are not a
            CollectedData v2 document of type E13 for BRS-NO-313 from role DDE, or hold a
            value that :func:`collected_data_xml` would refuse.
    """
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise MessageError("a DOCTYPE or entity declaration is not accepted")
    try:
        # No DOCTYPE, so no entity can be declared: nothing external is loaded or expanded.
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError as exc:
        raise MessageError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{RSM}}}CollectedData":
        raise MessageError(f"the root element is {root.tag}, not {{{RSM}}}CollectedData")
    header = _read_header(_one(root, RSM, "Header", "document"))
    _read_context(_one(root, RSM, "ProcessEnergyContext", "document"))
    payloads = root.findall(f"{{{RSM}}}PayloadEnergyTimeSeries")
    if not payloads:
        raise MessageError("document: no PayloadEnergyTimeSeries")
    series = [_read_series(p, n) for n, p in enumerate(payloads, start=1)]
    seen: set[str] = set()
    for s in series:
        if s.series_id in seen:
            raise MessageError(f"metering point {s.metering_point_id}: series_id repeated")
        seen.add(s.series_id)
    return header, series


def _read_header(head: ET.Element) -> MessageHeader:
    where = "Header"
    document_type = _one(head, ABIE, "DocumentType", where)
    if _text(document_type) != DOCUMENT_TYPE:
        raise MessageError(f"Header: DocumentType is {_text(document_type)!r}, not E13")
    header = MessageHeader(
        message_id=_text(_one(head, ABIE, "Identification", where)),
        created_at=_read_time(_one(head, ABIE, "Creation", where), "Header: Creation"),
        sender_gln=_party(head, "JuridicalSenderEnergyParty"),
        recipient_gln=_party(head, "JuridicalRecipientEnergyParty"),
    )
    _check_header(header)
    return header


def _party(head: ET.Element, role: str) -> str:
    party = _one(head, ABIE, role, "Header")
    return _text(_one(party, ABIE, "Identification", f"Header: {role}"))


def _read_context(context: ET.Element) -> None:
    where = "ProcessEnergyContext"
    process = _text(_one(context, ABIE, "EnergyBusinessProcess", where))
    if process != PROCESS:
        raise MessageError(f"{where}: EnergyBusinessProcess is {process!r}, not {PROCESS}")
    role = _text(_one(context, ABIE, "EnergyBusinessProcessRole", where))
    if role != ROLE:
        raise MessageError(f"{where}: EnergyBusinessProcessRole is {role!r}, not {ROLE}")


def _read_series(payload: ET.Element, number: int) -> MeteringPointSeries:
    where = f"PayloadEnergyTimeSeries {number}"
    point = _one(payload, ABIE, "MeteringPointUsedDomainLocation", where)
    mp_id = _text(_one(point, ABIE, "Identification", where))
    where = f"metering point {mp_id}"
    period = _one(payload, ABIE, "ObservationPeriodTimeSeriesPeriod", where)
    code = _text(_one(period, ABIE, "ResolutionDuration", where))
    if code not in _READ_RESOLUTIONS:
        raise MessageError(f"{where}: ResolutionDuration {code!r} is not PT60M, PT1H or PT15M")
    resolution_s = _READ_RESOLUTIONS[code]
    start = _read_time(_one(period, ABIE, "Start", where), f"{where}: Start")
    end = _read_time(_one(period, ABIE, "End", where), f"{where}: End")
    product = _one(payload, ABIE, "ProductIncludedProductCharacteristics", where)
    if _text(_one(product, ABIE, "Identification", where)) != ACTIVE_ENERGY:
        raise MessageError(f"{where}: the product is not active energy ({ACTIVE_ENERGY})")
    if _text(_one(product, ABIE, "UnitType", where)) != UNIT:
        raise MessageError(f"{where}: the unit is not {UNIT}")
    detail = _one(payload, ABIE, "MPDetailMeasurementMeteringPointCharacteristic", where)
    flow = _text(_one(detail, ABIE, "Direction", where))
    directions = {code: name for name, code in _DIRECTIONS.items()}
    if flow not in directions:
        raise MessageError(f"{where}: Direction {flow!r} is not In or Out")
    values = [ObservationValue(None, "missing")] * _intervals(start, end, resolution_s, where)
    for observation in payload.findall(f"{{{ABIE}}}Observation"):
        position, value = _read_observation(observation, where)
        if not 1 <= position <= len(values):
            raise MessageError(f"{where}, position {position}: outside the period")
        if values[position - 1].status != "missing":
            raise MessageError(f"{where}, position {position}: given twice")
        values[position - 1] = value
    series = MeteringPointSeries(
        series_id=_text(_one(payload, ABIE, "Identification", where)),
        metering_point_id=mp_id,
        start=start,
        end=end,
        resolution_s=resolution_s,
        direction=directions[flow],
        values=tuple(values),
        registered_at=_read_time(
            _one(payload, ABIE, "RegistrationDateTime", where), f"{where}: RegistrationDateTime"
        ),
    )
    _check_series(series)
    return series


def _read_observation(observation: ET.Element, where: str) -> tuple[int, ObservationValue]:
    sequence = observation.get("Sequence", "")
    if not (sequence.isascii() and sequence.isdigit() and len(sequence) <= 4):
        raise MessageError(f"{where}: Observation Sequence {sequence!r} is not 0 to 9999")
    position = int(sequence)
    where = f"{where}, position {position}"
    children = [c for c in observation if isinstance(c.tag, str)]
    if len(children) != 1:
        raise MessageError(f"{where}: an Observation holds exactly one quantity element")
    (child,) = children
    kind = child.tag.removeprefix(f"{{{ABIE}}}")
    if kind == "Metered":
        status = "measured"
    elif kind == "Temporary":
        status = "temporary"
    elif kind == "Estimated":
        quality = child.get("Quality", "")
        if quality not in _READ_QUALITIES:
            raise MessageError(f"{where}: Estimated Quality {quality!r} is not 56 or 81")
        status = _READ_QUALITIES[quality]
    else:
        raise MessageError(f"{where}: {child.tag} is not Metered, Estimated or Temporary")
    quantity = (child.text or "").strip()
    if not _QUANTITY.fullmatch(quantity):
        raise MessageError(f"{where}: quantity {quantity!r} is not a decimal(15,3) in kWh")
    return position, ObservationValue(Decimal(quantity), status)


def _one(parent: ET.Element, namespace: str, name: str, where: str) -> ET.Element:
    found = parent.findall(f"{{{namespace}}}{name}")
    if len(found) != 1:
        raise MessageError(f"{where}: {len(found)} {name} elements, not one")
    return found[0]


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def _read_time(element: ET.Element, where: str) -> datetime:
    text = _text(element)
    if not _DATETIME.fullmatch(text):
        raise MessageError(f"{where} {text!r} is not YYYY-MM-DDTHH:MM:SS with Z or an offset")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MessageError(f"{where} {text!r} is not a valid time") from None
    return moment.astimezone(UTC)

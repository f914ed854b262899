"""Meter events: the event codes, and event pushes built and read the way the lists are.

A meter logs an event as a code in one of its event logs; the code is the value of the log's
*event code object* (interface class 1, Data) at the moment of capture. OpenAMS numbers its
events as the Dutch smart-meter requirements (DSMR 5, "SMR 5") do, one table per log:

============================== ================= ======================================
log                            event code object codes used here
============================== ================= ======================================
Standard event log             0-0:96.11.0.255   1, 2 power down/up; 4, 5 clock adjusted
Fraud detection log            0-0:96.11.1.255   40..45 covers, strong DC field
Power quality event log        0-0:96.11.5.255   77..85 under/over/normal voltage,
                                                 246/247 earth fault (manufacturer range)
============================== ================= ======================================

DSMR has no earth-fault event (Dutch low-voltage grids are not IT grids); OpenAMS puts it in
the range DSMR leaves to manufacturers (230..249), in the power quality log. docs/events.md
has the whole table, its sources and the codes that could not be confirmed against the
standard's text.

An event push is a data-notification with the header of the meter's manufacturer (invoke
id, header date-time as its lists have them) and an IDIS-style body, a structure of OBIS code
and value pairs::

    structure {
        octet-string 0-0:96.1.0.255,  visible-string meter id,
        octet-string 0-0:1.0.0.255,   octet-string clock (12-byte COSEM date-time),
        octet-string <log's event code object>, unsigned event code
    }

The generic OBIS decoder reads it (``layout == "obis"``): the code under its OBIS key, the
clock as ``Push.time``, the meter id as ``Push.meter_id``. :func:`decode_event` turns such a
push back into the event.

Invariants:
    * Every code fits an ``unsigned`` (0..255) and is unique within its log.
    * The clock is sent as Europe/Oslo wall-clock time (or the zone given) *with* its
      deviation and daylight-saving status, to the hundredth of a second, so that the event's
      instant survives the round trip, the repeated autumn hour included, whatever zone the
      head-end decodes with.
    * :func:`decode_event` never raises for a decoded push: anything that is not an event
      push gives ``None``.

References:
    Netbeheer Nederland, DSMR 5 (SMR 5) P3 Companion Standard: Standard event log,
    Fraud detection log and Power quality event log, and their event code tables;
    IEC 62056-6-2 (DLMS UA Blue Book), interface class 1 "Data" and clause 4.1.6.1 "Date and
    time formats".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import MappingProxyType

from ._apdu import DataNotification
from ._axdr import Data, DataType
from ._cosem_datetime import encode_cosem_datetime, zone
from ._obis import Obis
from ._record import Push

__all__ = [
    "EVENTS",
    "EventCode",
    "MeterEvent",
    "build_event_notification",
    "decode_event",
    "event_by_code",
]

_STANDARD = "0-0:96.11.0.255"
_FRAUD = "0-0:96.11.1.255"
_POWER_QUALITY = "0-0:96.11.5.255"

_DSMR = "DSMR 5 (SMR 5) P3"
_REF_STANDARD = f"{_DSMR}, Standard event log 0-0:99.98.0.255"
_REF_FRAUD = f"{_DSMR}, Fraud detection log 0-0:99.98.1.255"
_REF_QUALITY = f"{_DSMR}, Power quality event log 0-0:99.98.5.255"
_REF_EARTH = f"OpenAMS, in the {_DSMR} manufacturer-specific range 230-249"


@dataclass(frozen=True, slots=True)
class EventCode:
    """One event of a meter's event log.

    Attributes:
        name: OpenAMS's name for the event (the key in :data:`EVENTS`).
        code: The event code, the value of the log's event code object. [0..255]
        log_obis: The event code object that carries the code (``0-0:96.11.0.255``).
        log: ``standard``, ``fraud`` or ``power_quality``.
        text: What happened, in English.
        reference: The document and table the code comes from.

    Raises:
        ValueError: the code does not fit an ``unsigned``, or ``log_obis`` is no OBIS code.
    """

    name: str
    code: int
    log_obis: str
    log: str
    text: str
    reference: str

    def __post_init__(self) -> None:
        if not 0 <= self.code <= 0xFF:
            raise ValueError("an event code is an unsigned (0..255)")
        if str(Obis.parse(self.log_obis)) != self.log_obis:
            raise ValueError(f"write log_obis in full A-B:C.D.E.F form, not {self.log_obis!r}")


def _events(*codes: EventCode) -> Mapping[str, EventCode]:
    return MappingProxyType({event.name: event for event in codes})


#: Every event OpenAMS sends or recognises, by name.
EVENTS: Mapping[str, EventCode] = _events(
    EventCode("power_down", 1, _STANDARD, "standard", "Power down", _REF_STANDARD),
    EventCode("power_up", 2, _STANDARD, "standard", "Power up", _REF_STANDARD),
    EventCode(
        "clock_adjusted_old",
        4,
        _STANDARD,
        "standard",
        "Clock adjusted (old date/time)",
        _REF_STANDARD,
    ),
    EventCode(
        "clock_adjusted",
        5,
        _STANDARD,
        "standard",
        "Clock adjusted (new date/time)",
        _REF_STANDARD,
    ),
    EventCode("terminal_cover_opened", 40, _FRAUD, "fraud", "Terminal cover removed", _REF_FRAUD),
    EventCode("terminal_cover_closed", 41, _FRAUD, "fraud", "Terminal cover closed", _REF_FRAUD),
    EventCode(
        "magnetic_field_detected", 42, _FRAUD, "fraud", "Strong DC field detected", _REF_FRAUD
    ),
    EventCode("magnetic_field_gone", 43, _FRAUD, "fraud", "No strong DC field anymore", _REF_FRAUD),
    EventCode("meter_cover_opened", 44, _FRAUD, "fraud", "Meter cover removed", _REF_FRAUD),
    EventCode("meter_cover_closed", 45, _FRAUD, "fraud", "Meter cover closed", _REF_FRAUD),
    *(
        EventCode(
            f"undervoltage_l{phase}",
            76 + phase,
            _POWER_QUALITY,
            "power_quality",
            f"Under voltage L{phase}",
            _REF_QUALITY,
        )
        for phase in (1, 2, 3)
    ),
    *(
        EventCode(
            f"overvoltage_l{phase}",
            79 + phase,
            _POWER_QUALITY,
            "power_quality",
            f"Over voltage L{phase}",
            _REF_QUALITY,
        )
        for phase in (1, 2, 3)
    ),
    EventCode(
        "voltage_normal", 83, _POWER_QUALITY, "power_quality", "Voltage L1 normal", _REF_QUALITY
    ),
    *(
        EventCode(
            f"voltage_normal_l{phase}",
            82 + phase,
            _POWER_QUALITY,
            "power_quality",
            f"Voltage L{phase} normal",
            _REF_QUALITY,
        )
        for phase in (2, 3)
    ),
    EventCode(
        "earth_fault_detected",
        246,
        _POWER_QUALITY,
        "power_quality",
        "Earth fault detected (IT grid: insulation to earth lost)",
        _REF_EARTH,
    ),
    EventCode(
        "earth_fault_cleared",
        247,
        _POWER_QUALITY,
        "power_quality",
        "Earth fault cleared",
        _REF_EARTH,
    ),
)

_BY_CODE: dict[tuple[str, int], EventCode] = {(e.log_obis, e.code): e for e in EVENTS.values()}
_LOGS = frozenset(event.log_obis for event in EVENTS.values())


def event_by_code(log_obis: str, code: int) -> EventCode | None:
    """The event that ``code`` stands for in the log of event code object ``log_obis``.

    Args:
        log_obis: The event code object, ``A-B:C.D.E.F`` (``F`` may be left out).
        code: The event code.

    Returns:
        ``None`` when OpenAMS does not know the code in that log.

    Raises:
        ValueError: ``log_obis`` is not an OBIS code.
    """
    return _BY_CODE.get((str(Obis.parse(log_obis)), code))


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """An event as the meter pushes it.

    Attributes:
        meter_id: The meter's identifier (GS1 number or serial), printable ASCII.
        clock: When it happened; aware. Sent to the hundredth of a second.
        name: The event, a key of :data:`EVENTS`.

    Raises:
        ValueError: unknown event name, naive clock, or a meter id that is not printable
            ASCII of 1 to 64 characters.
    """

    meter_id: str
    clock: datetime
    name: str

    def __post_init__(self) -> None:
        if self.name not in EVENTS:
            raise ValueError(f"unknown event {self.name!r}; known: {sorted(EVENTS)}")
        if self.clock.utcoffset() is None:
            raise ValueError("clock must be an aware datetime")
        meter_id = self.meter_id
        if not (0 < len(meter_id) <= 64 and meter_id.isascii() and meter_id.isprintable()):
            raise ValueError("meter_id must be 1 to 64 printable ASCII characters")


#: Data-notification header per manufacturer: invoke id and how the header date-time is
#: sent (``None`` absent, ``False`` as ``0C`` + 12 bytes, ``True`` tagged ``09 0C``), as
#: each manufacturer's lists send it.
_HEADERS: dict[str, tuple[int, bool | None]] = {
    "aidon": (0x40000000, None),
    "kaifa": (0x40000000, True),
    "kamstrup": (0x00000000, False),
}
_METER_ID = Data(DataType.OCTET_STRING, Obis(0, 0, 96, 1, 0).to_bytes())  # device ID 1
_CLOCK = Data(DataType.OCTET_STRING, Obis(0, 0, 1, 0, 0).to_bytes())  # the clock object


def build_event_notification(
    style: str, event: MeterEvent, *, tz: str | tzinfo = "Europe/Oslo"
) -> DataNotification:
    """The data-notification a ``style`` meter pushes for ``event``.

    Args:
        style: ``aidon``, ``kaifa`` or ``kamstrup``: whose header conventions to follow.
        event: What happened, where and when.
        tz: The zone whose wall-clock time the meter keeps.

    Raises:
        ValueError: unknown style or zone.
    """
    try:
        invoke_id, tagged = _HEADERS[style]
    except KeyError:
        raise ValueError(f"unknown style {style!r}; known: {sorted(_HEADERS)}") from None
    code = EVENTS[event.name]
    local = event.clock.astimezone(zone(tz) if isinstance(tz, str) else tz)
    clock = encode_cosem_datetime(local)  # wall clock, deviation, daylight-saving bit
    body = Data(
        DataType.STRUCTURE,
        (
            _METER_ID,
            Data(DataType.VISIBLE_STRING, event.meter_id),
            _CLOCK,
            Data(DataType.OCTET_STRING, clock),
            Data(DataType.OCTET_STRING, Obis.parse(code.log_obis).to_bytes()),
            Data(DataType.UNSIGNED, code.code),
        ),
    )
    if tagged is None:
        return DataNotification(invoke_id, None, body)
    return DataNotification(invoke_id, clock, body, tagged)


def decode_event(push: Push) -> tuple[EventCode, datetime] | None:
    """The event an event push carries, and when it happened.

    Args:
        push: Any decoded push.

    Returns:
        ``(event, time)`` for a push whose values hold a known event code under its event
        code object (the first such value, in push order) and that has a time; ``None`` for
        the lists and anything else.
    """
    if push.time is None:
        return None
    for key, (value, _unit) in push.values.items():
        if key in _LOGS and type(value) is int:
            event = _BY_CODE.get((key, value))
            if event is not None:
                return event, push.time
    return None

"""COSEM date-time: twelve bytes of wall-clock fields, a deviation and a clock status.

::

    date-time = year (2) | month | day-of-month | day-of-week | hour | minute | second
              | hundredths | deviation (2, signed) | clock status

0xFF (0xFFFF for the year) means "not specified"; the deviation 0x8000 means "not specified".
The deviation is the number of minutes *UTC lies ahead of local time*, so Central European
Time is sent as -60 and summer time as -120: the UTC offset is ``-deviation``. Bit 7 of the
clock status (0x80) is "daylight saving active"; bits 0..3 flag an invalid or doubtful clock.

**The rule for meters that do not state their offset truthfully.** Norwegian meters send
local wall-clock time, and many send the deviation as 0x8000 (Kamstrup), 0 (Aidon) or -60 all
year (Kaifa), with a status that does not follow summer time. For those pushes the deviation
and the status are ignored and the wall-clock fields are read as local time in the configured
zone (Europe/Oslo by default):

* a wall-clock time that occurs twice (the last hour of summer time) is taken as its first
  occurrence, summer time, unless the caller trusts the status byte and it says otherwise;
* a wall-clock time that does not exist (the first hour of summer time) is kept as written,
  with the offset in force before the change (02:30 on the spring day is 02:30+01:00, the same
  instant as 03:30+02:00).

Pushes from meters that state a deviation (``trust_deviation``) are read with that offset.

References:
    IEC 62056-6-2 (DLMS UA Blue Book), clause 4.1.6.1 "Date and time formats".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from ._errors import ApduError

__all__ = [
    "DEVIATION_NOT_SPECIFIED",
    "CosemDateTime",
    "datetime_from_cosem",
    "encode_cosem_datetime",
]

DEVIATION_NOT_SPECIFIED = -0x8000
STATUS_DAYLIGHT_SAVING = 0x80
_FIELDS = struct.Struct(">HBBBBBBBhB")


@dataclass(frozen=True, slots=True)
class CosemDateTime:
    """The fields of a COSEM date-time, as sent (0xFF/0xFFFF/-0x8000 for "not specified").

    Attributes:
        year: Year, 0xFFFF if not specified.
        month: 1..12; 0xFD end and 0xFE begin of daylight saving; 0xFF not specified.
        day: Day of month 1..31; 0xFD second-last, 0xFE last day; 0xFF not specified.
        weekday: 1 (Monday) .. 7 (Sunday), 0xFF not specified.
        hour: 0..23, 0xFF not specified.
        minute: 0..59, 0xFF not specified.
        second: 0..59, 0xFF not specified.
        hundredths: 0..99, 0xFF not specified.
        deviation_min: Minutes UTC is ahead of local time; -0x8000 not specified. [min]
        status: Clock status bits, 0xFF not specified.
    """

    year: int
    month: int
    day: int
    weekday: int
    hour: int
    minute: int
    second: int
    hundredths: int
    deviation_min: int
    status: int

    @classmethod
    def from_bytes(cls, raw: bytes) -> CosemDateTime:
        """The fields of a 12-byte date-time.

        Raises:
            ApduError: ``raw`` is not 12 bytes.
        """
        if len(raw) != 12:
            raise ApduError(f"a COSEM date-time is 12 bytes, got {len(raw)}", tag="date-time")
        return cls(*_FIELDS.unpack(raw))

    def to_bytes(self) -> bytes:
        """The 12-byte encoding."""
        return _FIELDS.pack(
            self.year,
            self.month,
            self.day,
            self.weekday,
            self.hour,
            self.minute,
            self.second,
            self.hundredths,
            self.deviation_min,
            self.status,
        )

    @property
    def daylight_saving(self) -> bool | None:
        """The daylight-saving bit, or ``None`` when the status is not specified."""
        if self.status == 0xFF:
            return None
        return bool(self.status & STATUS_DAYLIGHT_SAVING)

    def to_datetime(self, tz: tzinfo, *, trust_deviation: bool = True) -> datetime | None:
        """An aware datetime, following the rule in the module docstring.

        Args:
            tz: Zone for wall-clock times whose offset is not stated or not trusted.
            trust_deviation: Use a specified deviation (and status) as sent.

        Returns:
            ``None`` when the date or time of day is not specified.

        Raises:
            ApduError: a field is out of range (month 13, hour 25, 30 February...).
        """
        if 0xFF in (self.month, self.day, self.hour) or self.year == 0xFFFF:
            return None
        if self.month > 12 or self.day > 31:
            raise ApduError(
                f"date-time month {self.month} / day {self.day} is a special value, "
                "not a point in time",
                tag="date-time",
            )
        minute = 0 if self.minute == 0xFF else self.minute
        second = 0 if self.second == 0xFF else self.second
        micro = 0 if self.hundredths == 0xFF else self.hundredths * 10_000
        try:
            naive = datetime(self.year, self.month, self.day, self.hour, minute, second, micro)
        except ValueError as exc:
            raise ApduError(f"date-time fields out of range: {exc}", tag="date-time") from exc
        if trust_deviation and self.deviation_min != DEVIATION_NOT_SPECIFIED:
            if not -840 <= self.deviation_min <= 840:
                raise ApduError(
                    f"date-time deviation {self.deviation_min} min is out of range",
                    tag="date-time",
                )
            return naive.replace(tzinfo=_fixed_zone(-self.deviation_min))
        first = naive.replace(tzinfo=tz)
        if trust_deviation and self.status != 0xFF and not self.status & STATUS_DAYLIGHT_SAVING:
            later = naive.replace(tzinfo=tz, fold=1)
            first_offset, later_offset = first.utcoffset(), later.utcoffset()
            if (
                first_offset is not None
                and later_offset is not None
                and first_offset > later_offset
            ):
                return later  # a repeated hour said to be standard time: its second occurrence
        return first


@lru_cache(maxsize=64)
def _fixed_zone(offset_min: int) -> tzinfo:
    if offset_min == 0:
        return UTC
    return timezone(timedelta(minutes=offset_min))


@lru_cache(maxsize=4096)
def datetime_from_cosem(raw: bytes, tz: tzinfo, trust_deviation: bool) -> datetime | None:
    """Decode a 12-byte date-time into an aware datetime (cached: pushes share their clocks).

    Raises:
        ApduError: wrong length or fields out of range.
    """
    return CosemDateTime.from_bytes(raw).to_datetime(tz, trust_deviation=trust_deviation)


def encode_cosem_datetime(
    value: datetime,
    *,
    deviation: bool = True,
    status: int | None = None,
) -> bytes:
    """Encode an aware datetime in its own offset.

    Args:
        value: The time; its wall-clock fields and offset are sent.
        deviation: Send the deviation (``-utcoffset``); otherwise 0x8000 "not specified".
        status: The clock status byte; by default the daylight-saving bit follows ``value``.
    """
    if value.tzinfo is None:
        raise ValueError("encode_cosem_datetime needs an aware datetime")
    offset = value.utcoffset()
    assert offset is not None  # noqa: S101 - aware datetimes have an offset
    dst = value.dst()
    if status is None:
        status = STATUS_DAYLIGHT_SAVING if dst else 0
    dev = -int(offset.total_seconds() // 60) if deviation else DEVIATION_NOT_SPECIFIED
    return CosemDateTime(
        value.year,
        value.month,
        value.day,
        value.isoweekday(),
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 10_000,
        dev,
        status,
    ).to_bytes()


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Oslo``).

    Raises:
        ValueError: unknown zone name.
    """
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc

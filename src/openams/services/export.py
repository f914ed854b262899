"""The Elhub delivery of a day (``ams export elhub``) and its report.

For local day D every metering point gets a complete series: 23, 24 or 25 hourly values (or
92, 96 or 100 quarter-hours), kWh with three decimals, a status per value — consumption (A+)
for every point, production (A-) for points that feed in. Series go out in
``CollectedData`` messages (:mod:`openams.services.elhub_message`) of at most 9,999 series.

Each series sent is recorded with a digest of its values and statuses. Exporting the day
again sends only the series that changed since — a late push, a new estimate, a manual edit —
as the next version of that series (a correction); the rest is not sent twice.

The delivery report says, for the 07:00 deadline of D + 1, which points are complete (every
value measured), estimated (every value there, some estimated) and missing (values Elhub will
not get: a value that could be neither measured nor estimated).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple, Protocol

from .batch import gc_paused
from .elhub_message import (
    MessageHeader,
    MeteringPointSeries,
    ObservationValue,
    collected_data_xml,
)
from .vee import OSLO, local_day_bounds

__all__ = [
    "DeliveryLine",
    "DeliveryRecord",
    "ExportReport",
    "ExportStore",
    "deadline_of",
    "export_day",
]

MAX_SERIES = 9_999


class DeliveryRecord(NamedTuple):
    """One series sent: which version of which point's day, in which file."""

    metering_point_id: str
    day: str
    direction: str
    version: int
    digest: str
    series_id: str
    message_id: str
    file: str
    delivered_at_s: int


class ExportStore(Protocol):
    """Where the values and the record of deliveries are."""

    def export_points(self) -> list[tuple[str, int, str]]:
        """Every metering point with a meter: id, interval length [s], customer type."""
        ...

    def day_values(
        self, start_s: int, end_s: int
    ) -> tuple[dict[str, dict[int, tuple[int | None, int | None, str]]], set[str]]:
        """Values starting in ``[start_s, end_s)``: point -> start -> (import, export,
        status); and the points that fed energy into the grid in that time."""
        ...

    def last_versions(self, day: str) -> dict[tuple[str, str], tuple[int, str]]:
        """The latest version and digest sent of each (point, direction) of the day."""
        ...

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> None:
        """Remember what was sent (one transaction)."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """One metering point's day in the delivery report.

    Attributes:
        state: ``complete`` (all measured), ``estimated`` (all there, some estimated) or
            ``missing`` (some values Elhub does not get).
        version: The latest version sent of its consumption series.
    """

    metering_point_id: str
    intervals: int
    measured: int
    estimated: int
    missing: int
    state: str
    version: int


@dataclass(slots=True)
class ExportReport:
    """What an export did and how the day stands."""

    day: date
    deadline: datetime
    exported_at: datetime
    files: list[str] = field(default_factory=list)
    series_sent: int = 0
    corrections: int = 0  # of them, versions after the first
    unchanged: int = 0  # series not sent again: Elhub has them as they are
    lines: list[DeliveryLine] = field(default_factory=list)

    @property
    def on_time(self) -> bool:
        """Whether this export was made before the deadline."""
        return self.exported_at <= self.deadline

    def counts(self) -> dict[str, int]:
        """Metering points per state."""
        out = {"complete": 0, "estimated": 0, "missing": 0}
        for line in self.lines:
            out[line.state] += 1
        return out

    def as_json(self) -> dict[str, object]:
        """The report as plain JSON values."""
        return {
            "day": self.day.isoformat(),
            "deadline": self.deadline.isoformat(),
            "exported_at": self.exported_at.isoformat(),
            "on_time": self.on_time,
            "files": self.files,
            "series_sent": self.series_sent,
            "corrections": self.corrections,
            "unchanged": self.unchanged,
            "metering_points": self.counts(),
            "lines": [
                {
                    "metering_point_id": x.metering_point_id,
                    "state": x.state,
                    "intervals": x.intervals,
                    "measured": x.measured,
                    "estimated": x.estimated,
                    "missing": x.missing,
                    "version": x.version,
                }
                for x in self.lines
            ],
        }


def deadline_of(day: date) -> datetime:
    """Elhub's deadline for day D: 07:00 local time on D + 1."""
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, 7, tzinfo=OSLO)


_MISSING = ObservationValue(None, "missing")
_GONE: tuple[int | None, str] = (None, "missing")


def _piece(wh: int | None, status: str) -> tuple[int | None, str]:
    """What is sent for a stored value: a rejected or unknown one is missing."""
    return _GONE if wh is None or status in ("missing", "rejected") else (wh, status)


@lru_cache(maxsize=1 << 17)
def _observation(wh: int | None, status: str) -> ObservationValue:
    """A value in kWh with exactly three decimals (exact: a shift of the exponent); values
    are immutable, so one object serves every interval with the same energy and status."""
    if wh is None:
        return _MISSING
    return ObservationValue(Decimal(wh).scaleb(-3), status)


def export_day(
    store: ExportStore,
    day: date,
    *,
    sender_gln: str,
    write: Callable[[str, bytes], str],
    now_s: int,
    resend: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Export day D's series that Elhub does not have yet (all of them with ``resend``).

    ``write(name, data)`` stores one message atomically and returns where it went.

    Raises:
        MessageError: a series Elhub would refuse (a bug, not an input problem).
    """
    with gc_paused():
        return _export_day(store, day, sender_gln=sender_gln, write=write, now_s=now_s,
                           resend=resend, progress=progress)  # fmt: skip


def _export_day(
    store: ExportStore,
    day: date,
    *,
    sender_gln: str,
    write: Callable[[str, bytes], str],
    now_s: int,
    resend: bool,
    progress: Callable[[int, int], None] | None,
) -> ExportReport:
    start_s, end_s = local_day_bounds(day)
    now = datetime.fromtimestamp(now_s, UTC)
    report = ExportReport(day, deadline_of(day), now.astimezone(OSLO))
    values, exporters = store.day_values(start_s, end_s)
    sent = store.last_versions(day.isoformat())
    start, end = datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC)
    pending: list[tuple[MeteringPointSeries, DeliveryRecord]] = []
    points = store.export_points()
    for number, (mp, step, customer_type) in enumerate(points, 1):
        stored = values.get(mp, {})
        directions = ["consumption"]
        if "prosumer" in customer_type or mp in exporters:
            directions.append("production")
        counts = {"measured": 0, "estimated": 0, "missing": 0}
        version_of_point = 0
        found = [stored.get(t) for t in range(start_s, end_s, step)]
        for direction in directions:
            # what the digest is made of: the energy and status sent for each interval
            pieces = (
                [_piece(f[0], f[2]) if f is not None else _GONE for f in found]
                if direction == "consumption"
                else [_piece(f[1], f[2]) if f is not None else _GONE for f in found]
            )
            observations = [_observation(wh, status) for wh, status in pieces]
            statuses = [status for _, status in pieces]
            missing = statuses.count("missing")
            if direction == "consumption":
                measured = statuses.count("measured")
                counts["measured"] += measured
                counts["missing"] += missing
                counts["estimated"] += len(statuses) - measured - missing
            if missing == len(statuses):
                continue  # nothing to send: Elhub takes no empty series
            digest = hashlib.sha256(repr(pieces).encode()).hexdigest()
            last = sent.get((mp, direction))
            if last is not None and last[1] == digest and not resend:
                report.unchanged += 1
                if direction == "consumption":
                    version_of_point = last[0]
                continue
            version = (last[0] if last else 0) + 1
            if direction == "consumption":
                version_of_point = version
            series_id = str(uuid.uuid4())
            series = MeteringPointSeries(
                series_id, mp, start, end, step, direction, tuple(observations), now
            )
            pending.append((series, DeliveryRecord(mp, day.isoformat(), direction, version,
                                                   digest, series_id, "", "", now_s)))  # fmt: skip
            if version > 1:
                report.corrections += 1
        intervals = sum(counts.values())
        state = "missing" if counts["missing"] else ("estimated" if counts["estimated"]
                                                     else "complete")  # fmt: skip
        report.lines.append(DeliveryLine(mp, intervals, counts["measured"],
                                         counts["estimated"], counts["missing"], state,
                                         version_of_point))  # fmt: skip
        if progress is not None and number % 1000 == 0:
            progress(number, len(points))
    records: list[DeliveryRecord] = []
    for part, i in enumerate(range(0, len(pending), MAX_SERIES), 1):
        chunk = pending[i : i + MAX_SERIES]
        message_id = str(uuid.uuid4())
        header = MessageHeader(message_id, now, sender_gln)
        data = collected_data_xml(header, [series for series, _ in chunk])
        name = f"CollectedData-{day.isoformat()}-{now:%Y%m%dT%H%M%SZ}-{part:03d}.xml"
        where = write(name, data)
        report.files.append(where)
        records += [r._replace(message_id=message_id, file=where) for _, r in chunk]
    store.record_deliveries(records)
    report.series_sent = len(records)
    if progress is not None:
        progress(len(points), len(points))
    return report

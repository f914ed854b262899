"""Validation, estimation and editing (VEE): from register reads to values Elhub can take.

VEE works per metering point over a *window* (local days) and looks a little beyond it, the
*horizon*, to see runs and gaps that cross midnight. Per metering point:

1. **Reads.** A read whose clock is in the future is refused (``future``); one off the
   interval boundary gives no value; a read that another push contradicted
   (``conflicting_duplicate``) is not trusted; and when the meter's clock is off — the
   earliest arrival of a day's pushes is more than ``clock_tolerance_s`` before or after the
   clock they carry — none of that day's reads is (``clock_off``).
2. **Values.** Two trusted reads one interval apart give a measured value, unless a register
   went back (``register_decreased``) or the energy is more than the main fuse lets through
   (``above_fuse``). A run of zero consumption long enough, where the point's history expects
   consumption, is a stuck register (``stuck_register``).
3. **Estimation.** Every interval without an accepted value belongs to a gap. When trusted
   reads close both ends of the gap and no register fault lies inside, the register
   difference is shared out over the gap in the shape of the point's history (or its
   customer type's profile of the day, or evenly): the estimates sum exactly to the register
   difference (``register_difference``, status ``estimated``). Otherwise each interval gets
   the history's expected value (``history`` or ``type_profile``): ``estimated`` when the
   meter has been heard from after the gap, ``temporary`` while it has not.
4. **Final.** Once a day is ``final_after_days`` old, its estimates become
   ``final_estimated`` and VEE leaves them alone; so it does with manual edits
   (estimation ``manual``). Measured values from late pushes still replace them.

The validation that failed and the estimation method are kept with every value.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from .batch import gc_paused

__all__ = [
    "Checked",
    "FixedValue",
    "PointInfo",
    "Profile",
    "Read",
    "StoredRow",
    "ValueRow",
    "VeeReport",
    "VeeSettings",
    "VeeStore",
    "check_point",
    "days_between",
    "estimate_point",
    "local_day_bounds",
    "run_vee",
    "share_out",
    "vee_point",
]

OSLO = ZoneInfo("Europe/Oslo")
STATUSES = ("measured", "estimated", "final_estimated", "temporary", "rejected", "missing")
#: Faults that make the register difference across them untrustworthy.
REGISTER_FAULTS = frozenset({"register_decreased", "above_fuse", "stuck_register"})

Registers = tuple[int | None, int | None, int | None, int | None]
Expected = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class VeeSettings:
    """The thresholds of VEE.

    Attributes:
        clock_tolerance_s: How far a meter's clock may be from the head-end's. [s]
        future_tolerance_s: How far in the future a read may claim to be. [s]
        stuck_min_s: The shortest run of zero consumption taken as a stuck register. [s]
        stuck_min_expected_wh: ... when the history expects at least this much in it. [Wh]
        history_days: Days of measured values the history profile is made of. [d]
        final_after_days: Estimates of day D become final on day D + this. [d]
        gap_search_days: How far beyond the horizon a gap's closing read is looked for. [d]
        context_s: How far beyond the window VEE looks. [s]
    """

    clock_tolerance_s: int = 60
    future_tolerance_s: int = 300
    stuck_min_s: int = 6 * 3600
    stuck_min_expected_wh: int = 1000
    history_days: int = 28
    final_after_days: int = 5
    gap_search_days: int = 31
    context_s: int = 6 * 3600


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What VEE needs of a metering point."""

    metering_point_id: str
    customer_type: str
    resolution_s: int
    fuse_limit_w: float


class Read(NamedTuple):
    """A register read: the meter's clock, when it arrived, the four registers [Wh, varh]."""

    at_s: int
    received_at_s: int
    registers: Registers


class FixedValue(NamedTuple):
    """A stored value VEE must not change (a manual edit or a final estimate)."""

    status: str
    estimation: str | None


class StoredRow(NamedTuple):
    """An interval value as stored: the four quantities, status, validation, estimation."""

    import_wh: int | None
    export_wh: int | None
    reactive_import_varh: int | None
    reactive_export_varh: int | None
    status: str
    validation: str | None
    estimation: str | None

    @property
    def fixed(self) -> bool:
        """A manual edit or a final estimate: VEE leaves it."""
        return self.status == "final_estimated" or self.estimation == "manual"


class ValueRow(NamedTuple):
    """An interval value as VEE leaves it."""

    metering_point_id: str
    resolution_s: int
    start_at_s: int
    import_wh: int | None
    export_wh: int | None
    reactive_import_varh: int | None
    reactive_export_varh: int | None
    status: str
    validation: str | None
    estimation: str | None


class VeeStore(Protocol):
    """Where VEE reads and writes."""

    def points(self) -> list[PointInfo]:
        """Every metering point with a meter."""
        ...

    def reads(self, start_s: int, end_s: int) -> dict[str, list[Read]]:
        """Reads with clocks in ``[start_s, end_s]`` per metering point, by clock."""
        ...

    def read_before(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None:
        """The latest read at or before ``at_s`` and not before ``limit_s``."""
        ...

    def read_after(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None:
        """The first read at or after ``at_s`` and not after ``limit_s``."""
        ...

    def stored(self, start_s: int, end_s: int) -> dict[str, dict[int, StoredRow]]:
        """The values starting in ``[start_s, end_s)`` that are not ``measured``, as stored
        now (a measured value is the difference of its two reads, as ingest wrote it)."""
        ...

    def histories(
        self, points: Sequence[tuple[str, int]], start_s: int, end_s: int
    ) -> dict[str, list[tuple[int, int | None, int | None, int | None, int | None]]]:
        """Measured values of these (metering point, interval length) starting in
        ``[start_s, end_s)``: per point, start and the four quantities."""
        ...

    def counts(self, start_s: int, end_s: int) -> dict[str, int]:
        """How many values each point has starting in ``[start_s, end_s)``."""
        ...

    def conflicts(self, start_s: int, end_s: int) -> dict[str, set[int]]:
        """Clocks of reads contradicted by another push, per metering point."""
        ...

    def save_values(
        self, rows: Sequence[ValueRow], now_s: int, *, day: date | None = None,
        ids: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """Write the values (one transaction). With ``day``: VEE has looked at that whole
        day of the metering points ``ids``, whose daily usage is rewritten with it."""
        ...

    def finalise(self, before_s: int, now_s: int, since_s: int | None = None) -> int:
        """Estimates starting in ``[since_s, before_s)`` become final; how many did."""
        ...


@dataclass(slots=True)
class VeeReport:
    """What a VEE run did."""

    days: list[date] = field(default_factory=list)
    points: int = 0
    values: int = 0
    by_status: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_validation: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_estimation: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    finalised: int = 0


def local_day_bounds(day: date) -> tuple[int, int]:
    """The local (Europe/Oslo) day as ``[start_s, end_s)``: 23, 24 or 25 hours."""
    start = datetime(day.year, day.month, day.day, tzinfo=OSLO)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=OSLO)
    return int(start.timestamp()), int(end.timestamp())


def days_between(first_s: int, last_s: int) -> list[date]:
    """The local days of register reads from ``first_s`` to ``last_s``: a read at midnight
    closes the day before it."""
    first = datetime.fromtimestamp(first_s, UTC).astimezone(OSLO).date()
    last = datetime.fromtimestamp(max(first_s, last_s - 1), UTC).astimezone(OSLO).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- the shape of consumption ---------------------------------------------------------------

_OFFSETS: dict[int, tuple[int, int]] = {}  # UTC hour -> (local offset s, local weekday)


def _local(at_s: int) -> tuple[int, int]:
    """Seconds since local midnight and the local weekday (0 = Monday) of an instant."""
    hour = at_s // 3600
    known = _OFFSETS.get(hour)
    if known is None:
        local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(OSLO)
        offset = local.utcoffset()
        known = (int(offset.total_seconds()) if offset else 0, local.weekday())
        if len(_OFFSETS) > 200_000:
            _OFFSETS.clear()
        _OFFSETS[hour] = known
    offset_s, _ = known
    local_s = at_s + offset_s
    return local_s % 86_400, (local_s // 86_400 + 3) % 7  # 1970-01-01 was a Thursday


class Profile:
    """Expected energy per interval by local time of day, weekdays and weekends apart."""

    def __init__(
        self,
        resolution_s: int,
        rows: Iterable[tuple[int, Sequence[int | None]]],
        *,
        own: bool = True,
    ) -> None:
        self.resolution_s = resolution_s
        self.own = own  # the point's own history, not its customer type's
        sums: dict[tuple[int, int], list[float]] = {}
        for start_s, quantities in rows:
            seconds, weekday = _local(start_s)
            key = (1 if weekday >= 5 else 0, seconds // resolution_s)
            acc = sums.get(key)
            if acc is None:
                acc = sums[key] = [0.0, 0.0, 0.0, 0.0, 0.0]
            a, b, c, d = quantities
            acc[0] += a or 0
            acc[1] += b or 0
            acc[2] += c or 0
            acc[3] += d or 0
            acc[4] += 1
        self.samples = int(sum(acc[4] for acc in sums.values()))
        self._by_key: dict[tuple[int, int], Expected] = {}
        by_slot: dict[int, list[float]] = {}
        for (kind, slot), acc in sums.items():
            n = acc[4]
            self._by_key[(kind, slot)] = (acc[0] / n, acc[1] / n, acc[2] / n, acc[3] / n)
            both = by_slot.setdefault(slot, [0.0, 0.0, 0.0, 0.0, 0.0])
            for i in range(5):
                both[i] += acc[i]
        self._by_slot = {s: (a[0] / a[4], a[1] / a[4], a[2] / a[4], a[3] / a[4])
                         for s, a in by_slot.items()}  # fmt: skip
        self._mean: Expected = (0.0, 0.0, 0.0, 0.0)
        if self.samples:
            total = [sum(acc[i] for acc in sums.values()) / self.samples for i in range(4)]
            self._mean = (total[0], total[1], total[2], total[3])

    def __bool__(self) -> bool:
        return self.samples > 0

    def expected(self, start_s: int) -> Expected:
        """Expected energy of the interval starting at ``start_s``. [Wh, varh]"""
        seconds, weekday = _local(start_s)
        slot = seconds // self.resolution_s
        found = self._by_key.get((1 if weekday >= 5 else 0, slot))
        if found is None:
            found = self._by_slot.get(slot, self._mean)
        return found


def share_out(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` shared out in proportion to ``weights``, in whole units summing to it
    exactly (largest remainders first; even shares when every weight is zero)."""
    n = len(weights)
    if n == 0:
        return []
    clean = [w if w > 0 and math.isfinite(w) else 0.0 for w in weights]
    weight_sum = sum(clean)
    if weight_sum <= 0:
        clean, weight_sum = [1.0] * n, float(n)
    exact = [total * w / weight_sum for w in clean]
    out = [math.floor(x) for x in exact]
    left = total - sum(out)
    order = sorted(range(n), key=lambda i: (out[i] - exact[i], i))  # largest remainder first
    for i in order[: max(0, left)]:
        out[i] += 1
    return out


# --- one metering point ---------------------------------------------------------------------


class _Bounds(Protocol):
    def read_before(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None: ...
    def read_after(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None: ...


def _diff(a: Registers, b: Registers) -> tuple[list[int | None], bool]:
    values: list[int | None] = []
    backwards = False
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            values.append(None)
        else:
            values.append(y - x)
            backwards = backwards or y < x
    return values, backwards


@dataclass(slots=True)
class Checked:
    """A point's reads and values over the horizon after validation (the first pass)."""

    horizon: tuple[int, int]
    now_s: int  # no value is made for an interval that has not ended by then
    trusted: dict[int, Read]
    distrust: dict[int, str]  # clock -> why the read there is not trusted
    values: dict[int, list[int | None]]  # interval start -> the four register differences
    reason: dict[int, str]  # interval start -> why it has no accepted value
    measured: int = 0  # measured values in the window, once estimated
    flat: bool = True  # the import register stood still between two reads somewhere


def check_point(
    point: PointInfo,
    reads: Sequence[Read],
    window: tuple[int, int],
    *,
    now_s: int,
    settings: VeeSettings,
    fixed: dict[int, FixedValue] | None = None,
    conflicts: set[int] | None = None,
) -> Checked:
    """The first pass: which reads are trusted, and each interval's value or why it has none
    (every validation but the stuck register, which needs the point's shape)."""
    step = point.resolution_s
    start_s, end_s = window
    h0 = start_s - settings.context_s // step * step
    h1 = end_s + settings.context_s // step * step
    fixed = fixed or {}
    conflicts = conflicts or set()
    # which reads are trusted
    trusted: dict[int, Read] = {}
    distrust: dict[int, str] = {}
    leads: dict[int, list[int]] = {}
    future_s = now_s + settings.future_tolerance_s
    for read in reads:
        at = read.at_s
        if at > future_s:
            distrust[at] = "future"
        elif at % step:
            continue  # off the boundary: a read, but not one an interval can start or end at
        elif at in conflicts:
            distrust[at] = "conflicting_duplicate"
        else:
            trusted[at] = read
            leads.setdefault(at // 86_400, []).append(read.received_at_s - at)
    tolerance = settings.clock_tolerance_s
    for utc_day, day_leads in leads.items():
        if len(day_leads) < 4:
            continue
        day_leads.sort()
        earliest, median = day_leads[0], day_leads[len(day_leads) // 2]
        # ahead: a push cannot arrive before its clock says it was made; behind: every push
        # of the day arrives about equally late (pushes replayed from an archive do not)
        if earliest < -tolerance or (earliest > tolerance and median - earliest <= 600):
            for at in [a for a in trusted if a // 86_400 == utc_day]:
                del trusted[at]
                distrust[at] = "clock_off"
    # a value from each two trusted reads one interval apart
    fuse_wh = point.fuse_limit_w * step / 3600.0
    values: dict[int, list[int | None]] = {}
    reason: dict[int, str] = {}
    flat = False  # the import register stood still between two reads somewhere
    previous_t, previous = -1, None
    for t in sorted(trusted):
        read = trusted[t]
        if previous is not None:
            ra: Any = previous.registers
            rb: Any = read.registers
            if ra[0] == rb[0]:
                flat = True
            if t - previous_t == step and previous_t not in fixed:
                try:  # the common case, every register known
                    diff: list[int | None] = [rb[0] - ra[0], rb[1] - ra[1], rb[2] - ra[2],
                                              rb[3] - ra[3]]  # fmt: skip
                    backwards = ra[0] > rb[0] or ra[1] > rb[1] or ra[2] > rb[2] or ra[3] > rb[3]
                except TypeError:
                    diff, backwards = _diff(ra, rb)
                if backwards:
                    reason[previous_t] = "register_decreased"
                elif (diff[0] or 0) > fuse_wh or (diff[1] or 0) > fuse_wh:
                    reason[previous_t] = "above_fuse"
                values[previous_t] = diff
        previous_t, previous = t, read
    # every other interval of the horizon: the reason it has no value
    for t in range(h0, h1, step):
        if t not in values and t not in fixed:
            reason[t] = distrust.get(t) or distrust.get(t + step) or "no_reading"
    values = {t: v for t, v in values.items() if h0 <= t < h1}
    return Checked((h0, h1), now_s, trusted, distrust, values, reason, flat=flat)


def estimate_point(
    point: PointInfo,
    checked: Checked,
    window: tuple[int, int],
    *,
    settings: VeeSettings,
    bounds: _Bounds,
    profile: Callable[[PointInfo], Profile | None],
    fixed: dict[int, FixedValue] | None = None,
    measured_rows: bool = True,
) -> list[ValueRow]:
    """The second pass: stuck registers, then a row for every interval of ``window`` but
    the fixed ones — measured, or estimated with its gap (written whole). Without
    ``measured_rows`` the measured values are only counted (``checked.measured``)."""
    step = point.resolution_s
    start_s, end_s = window[0], min(window[1], checked.now_s // step * step)
    window = (start_s, max(start_s, end_s))
    h0, h1 = checked.horizon
    fixed = fixed or {}
    values, reason = checked.values, checked.reason
    if checked.flat:
        _stuck_runs(point, checked.trusted, reason, settings, profile)
    rows: list[ValueRow] = []
    mp = point.metering_point_id
    measured = 0
    t = h0
    while t < h1:
        if t in fixed:
            t += step
            continue
        if t not in reason:
            if start_s <= t < end_s:
                measured += 1
                if measured_rows:
                    v = values[t]
                    rows.append(
                        ValueRow(mp, step, t, v[0], v[1], v[2], v[3], "measured", None, None)
                    )
            t += step
            continue
        g0 = t  # a gap ends at the next trusted read: each part has its own ends
        t += step
        while t < h1 and t in reason and t not in fixed and t not in checked.trusted:
            t += step
        if t > start_s and g0 < end_s:
            rows += _fill_gap(point, g0, t, (h0, h1), window, checked.trusted,
                              checked.distrust, values, reason, settings, bounds,
                              profile)  # fmt: skip
    checked.measured = measured
    return rows


def vee_point(
    point: PointInfo,
    reads: Sequence[Read],
    window: tuple[int, int],
    *,
    now_s: int,
    settings: VeeSettings,
    bounds: _Bounds,
    profile: Callable[[PointInfo], Profile | None],
    fixed: dict[int, FixedValue] | None = None,
    conflicts: set[int] | None = None,
) -> list[ValueRow]:
    """VEE of one metering point: a row for every interval of ``window`` but the fixed ones.

    ``reads`` are the point's reads over the horizon (the window and ``context_s`` around
    it), by clock. ``profile`` gives the point's expected shape when it is needed (its
    history, else its type's profile, else ``None``).
    """
    checked = check_point(point, reads, window, now_s=now_s, settings=settings, fixed=fixed,
                          conflicts=conflicts)  # fmt: skip
    return estimate_point(point, checked, window, settings=settings, bounds=bounds,
                          profile=profile, fixed=fixed)  # fmt: skip


def _stuck_runs(
    point: PointInfo,
    trusted: dict[int, Read],
    reason: dict[int, str],
    settings: VeeSettings,
    profile: Callable[[PointInfo], Profile | None],
) -> None:
    """Spans where the import register did not move, across lost reads too, long enough
    and where the history expects consumption: every interval in them is stuck."""
    step = point.resolution_s
    ordered = sorted((r for r in trusted.values() if r.registers[0] is not None),
                     key=lambda r: r.at_s)  # fmt: skip
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1].registers[0] == ordered[i].registers[0]:
            j += 1
        first, last = ordered[i].at_s, ordered[j].at_s
        if last - first >= settings.stuck_min_s:
            shape = profile(point)
            span = range(first, last, step)
            expected = sum(shape.expected(t)[0] for t in span) if shape else 0.0
            if expected >= settings.stuck_min_expected_wh:
                for t in span:
                    reason[t] = "stuck_register"
        i = j + 1


def _fill_gap(
    point: PointInfo,
    g0: int,
    g1: int,
    horizon: tuple[int, int],
    window: tuple[int, int],
    trusted: dict[int, Read],
    distrust: dict[int, str],
    values: dict[int, list[int | None]],
    reason: dict[int, str],
    settings: VeeSettings,
    bounds: _Bounds,
    profile: Callable[[PointInfo], Profile | None],
) -> list[ValueRow]:
    step = point.resolution_s
    mp = point.metering_point_id
    search_s = settings.gap_search_days * 86_400
    register_fault = any(reason[t] in REGISTER_FAULTS for t in range(g0, g1, step))
    opening = trusted.get(g0)
    if opening is None and g0 == horizon[0] and g0 not in distrust:
        opening = bounds.read_before(mp, g0, g0 - search_s)
        if opening is not None and opening.at_s % step:
            opening = None
    closing = trusted.get(g1)
    if closing is None and g1 == horizon[1] and g1 not in distrust:
        closing = bounds.read_after(mp, g1, g1 + search_s)
        if closing is not None and closing.at_s % step:
            closing = None
    # without a read before, the point may not have been metered yet; without one after,
    # the time after the window may not have come: stay inside the window then
    first = opening.at_s if opening is not None else max(g0, window[0])
    last = closing.at_s if closing is not None else min(g1, window[1])
    if last <= first:
        return []
    starts = list(range(first, last, step))
    shape = profile(point)
    expected = [shape.expected(s) if shape else (0.0, 0.0, 0.0, 0.0) for s in starts]
    estimates: list[list[int | None]]
    if opening is not None and closing is not None and not register_fault:
        diff, backwards = _diff(opening.registers, closing.registers)
        most_wh = point.fuse_limit_w * step / 3600.0 * len(starts)
        if (diff[0] or 0) > most_wh or (diff[1] or 0) > most_wh:
            for t in range(g0, g1, step):  # more than the fuse lets through: a register fault
                reason[t] = "above_fuse"
        elif not backwards:
            columns: list[list[int | None]] = [
                list(share_out(d, [e[i] for e in expected])) if d is not None
                else [None] * len(starts)
                for i, d in enumerate(diff)
            ]  # fmt: skip
            estimates = [list(row) for row in zip(*columns, strict=True)]
            return _rows(point, starts, estimates, reason, "estimated", "register_difference")
    if not shape:
        out = []
        for s in starts:
            v = values.get(s) or [None, None, None, None]
            status = "rejected" if s in values else "missing"
            out.append(ValueRow(mp, step, s, v[0], v[1], v[2], v[3], status,
                                reason.get(s, "no_reading"), None))  # fmt: skip
        return out
    # heard from after the gap: this estimate is as good as it will get; else temporary
    heard_after = closing is not None or any(a > last for a in trusted)
    estimates = [[round(e[0]), round(e[1]), round(e[2]), round(e[3])] for e in expected]
    status = "estimated" if heard_after else "temporary"
    return _rows(point, starts, estimates, reason, status,
                 "history" if shape.own else "type_profile")  # fmt: skip


def _rows(
    point: PointInfo,
    starts: list[int],
    estimates: list[list[int | None]],
    reason: dict[int, str],
    status: str,
    method: str,
) -> list[ValueRow]:
    """Rows of the whole gap, inside the window or not: one gap, one consistent estimate."""
    mp, step = point.metering_point_id, point.resolution_s
    return [
        ValueRow(mp, step, s, e[0], e[1], e[2], e[3], status, reason.get(s, "no_reading"), method)
        for s, e in zip(starts, estimates, strict=True)
    ]


# --- a run over days ------------------------------------------------------------------------


def run_vee(
    store: VeeStore,
    days: Sequence[date],
    *,
    now_s: int,
    settings: VeeSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VeeReport:
    """VEE of every metering point over each of ``days``, then finalisation of estimates
    ``final_after_days`` old (relative to ``now_s``)."""
    with gc_paused():
        return _run_vee(store, days, now_s=now_s, settings=settings or VeeSettings(),
                        progress=progress)  # fmt: skip


def _run_vee(
    store: VeeStore,
    days: Sequence[date],
    *,
    now_s: int,
    settings: VeeSettings,
    progress: Callable[[int, int], None] | None,
) -> VeeReport:
    report = VeeReport(days=sorted(set(days)))
    points = store.points()
    report.points = len(points)
    for number, day in enumerate(report.days, 1):
        window = local_day_bounds(day)
        context = settings.context_s
        reads = store.reads(window[0] - context, window[1] + context)
        stored = store.stored(*window)
        fixed = {
            mp: {t: FixedValue(v.status, v.estimation) for t, v in by_start.items() if v.fixed}
            for mp, by_start in stored.items()
        }
        conflicts = store.conflicts(window[0] - context, window[1] + context)
        checked = {
            p.metering_point_id: check_point(
                p, reads.get(p.metering_point_id, ()), window, now_s=now_s, settings=settings,
                fixed=fixed.get(p.metering_point_id),
                conflicts=conflicts.get(p.metering_point_id),
            )
            for p in points
        }  # fmt: skip
        del reads
        shape = _Shapes(store, points, checked, window, settings)
        # a measured value is not written again: ingest wrote it from the same two reads;
        # but a point with fewer values stored than its day has gets all of its values
        counts = store.counts(*window)
        changed: list[ValueRow] = []
        for point in points:
            mp = point.metering_point_id
            step = point.resolution_s
            intervals = len(range(window[0], min(window[1], now_s // step * step), step))
            whole = counts.get(mp, 0) < intervals
            found = checked[mp]
            rows = estimate_point(point, found, window, settings=settings, bounds=store,
                                  profile=shape, fixed=fixed.get(mp),
                                  measured_rows=whole)  # fmt: skip
            report.by_status["measured"] += found.measured
            report.values += found.measured
            mine = stored.get(mp, {})
            for row in rows:
                if row.status != "measured":
                    report.values += 1
                    report.by_status[row.status] += 1
                    if row.validation:
                        report.by_validation[row.validation] += 1
                    if row.estimation:
                        report.by_estimation[row.estimation] += 1
                if mine.get(row.start_at_s) != row[3:]:  # what is stored already stays
                    changed.append(row)
        store.save_values(changed, now_s, day=day, ids=[p.metering_point_id for p in points])
        if progress is not None:
            progress(number, len(report.days))
    before_s = final_before_s(now_s, settings)
    since_s = before_s - 62 * 86_400  # a daily run has finalised what is older
    if report.days:
        since_s = min(since_s, local_day_bounds(report.days[0])[0] - 31 * 86_400)
    report.finalised = store.finalise(before_s, now_s, since_s)
    return report


class _Shapes:
    """Each point's expected shape, looked up when first needed: its own history of
    measured values, else its customer type's profile of the window."""

    def __init__(
        self,
        store: VeeStore,
        points: Sequence[PointInfo],
        checked: dict[str, Checked],
        window: tuple[int, int],
        settings: VeeSettings,
    ) -> None:
        self.store, self.points, self.checked = store, points, checked
        self.window, self.settings = window, settings
        self.types: dict[tuple[str, int], Profile] | None = None
        self.known: dict[str, Profile | None] = {}
        self.prefetched = False

    def __call__(self, point: PointInfo) -> Profile | None:
        mp = point.metering_point_id
        if mp not in self.known:
            if not self.prefetched:  # at once for every point with a gap in the window
                self.prefetched = True
                first, last = self.window
                self._load([
                    p for p in self.points
                    if any(first <= t < last for t in self.checked[p.metering_point_id].reason)
                ])  # fmt: skip
            if mp not in self.known:
                self._load([point])
        return self.known[mp]

    def _load(self, points: Sequence[PointInfo]) -> None:
        begin = self.window[0] - self.settings.history_days * 86_400
        found = self.store.histories(
            [(p.metering_point_id, p.resolution_s) for p in points], begin, self.window[0]
        )
        for point in points:
            mp = point.metering_point_id
            own = Profile(point.resolution_s, ((r[0], r[1:]) for r in found.get(mp, ())))
            if own.samples >= 24 * 3600 // point.resolution_s:
                self.known[mp] = own
            else:
                if self.types is None:
                    self.types = _type_profiles(self.points, self.checked, self.window)
                self.known[mp] = self.types.get((point.customer_type, point.resolution_s))


def final_before_s(now_s: int, settings: VeeSettings) -> int:
    """Values starting before this instant are of days old enough to be final."""
    today = datetime.fromtimestamp(now_s, UTC).astimezone(OSLO).date()
    return local_day_bounds(today - timedelta(days=settings.final_after_days - 1))[0]


_TYPE_SAMPLE = 300


def _type_profiles(
    points: Sequence[PointInfo], checked: dict[str, Checked], window: tuple[int, int]
) -> dict[tuple[str, int], Profile]:
    """Each customer type's mean shape over the window, from its points' accepted values
    (first averaged per interval over the type's points, then made a profile)."""
    sums: dict[tuple[str, int], dict[int, list[float]]] = {}
    taken: dict[tuple[str, int], int] = {}
    first, last = window
    for point in points:
        found = checked.get(point.metering_point_id)
        key = (point.customer_type, point.resolution_s)
        if found is None or taken.get(key, 0) >= _TYPE_SAMPLE:
            continue  # a few hundred points make the type's shape well enough
        taken[key] = taken.get(key, 0) + 1
        by_start = sums.setdefault(key, {})
        reason = found.reason
        for t, v in found.values.items():
            if first <= t < last and t not in reason:
                acc = by_start.get(t)
                if acc is None:
                    acc = by_start[t] = [0.0, 0.0, 0.0, 0.0, 0.0]
                acc[0] += v[0] or 0
                acc[1] += v[1] or 0
                acc[2] += v[2] or 0
                acc[3] += v[3] or 0
                acc[4] += 1
    out = {}
    for key, by_start in sums.items():
        means = [(t, [int(a[i] / a[4]) for i in range(4)]) for t, a in by_start.items()]
        profile = Profile(key[1], means, own=False)
        if profile:
            out[key] = profile
    return out

"""The hours of a settlement period and what each of them costs, computed once per month.

Settling 100,000 metering points of a month asks the same questions again and again: which
local day and clock hour is this hour, which energy rate applies, which tax, what is the
support per kWh. The answers depend on the days settled, the tariff, the rules and the
place, not on the metering point, so they are computed here once, as arrays over the hours,
and cached. :mod:`openams.domain.settlement` then settles a metering point with a few array
operations.

Money stays exact: per-hour amounts per kWh are Decimals, and where they are summed against
kWh they are turned into integers at a common scale (:class:`ScaledUnits`), whose dot
product with integer Wh is exact.

Invariants:
    * Pure: no clock, no I/O. Cached results are immutable (arrays are read-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from .tariff import Tariff, TariffPeriod
from .taxes import Rule, TaxRules

__all__ = [
    "HourGrid",
    "MonthPrices",
    "RateIndex",
    "ScaledUnits",
    "SupportUnits",
    "hour_grid",
    "month_prices",
    "rate_index",
    "rule_index",
    "support_units",
]

OSLO = ZoneInfo("Europe/Oslo")
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_UNIT_PRICE = Decimal("0.0001")
_SPLIT = 10**6  # scaled units are split in two parts below this, so products stay in int64
_MAX_SCALE = 18


_A = TypeVar("_A", bound=np.ndarray[Any, Any])


def _frozen(array: _A) -> _A:
    array.setflags(write=False)
    return array


def _day_start_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())


@dataclass(frozen=True, slots=True, eq=False)
class HourGrid:
    """The hours from the start of ``first`` to the end of ``last`` (local days).

    Attributes:
        first: First local day.
        last: Last local day (included).
        start_s: Start of the first hour, epoch seconds.
        days: The local days, in order.
        day_starts: Index of each day's first hour.
        day_of_hour: For each hour, the index of its day in ``days``.
        hour_of_day: For each hour, its local clock hour (0 to 23; the repeated hour of the
            last Sunday of October appears twice as 2).
    """

    first: date
    last: date
    start_s: int
    days: tuple[date, ...]
    day_starts: IntArray
    day_of_hour: IntArray
    hour_of_day: IntArray

    @property
    def hours(self) -> int:
        """How many hours: 24 a day, one less or more on the daylight-saving days."""
        return len(self.day_of_hour)

    @property
    def bounds(self) -> list[int]:
        """Each day's first hour, then the number of hours.

        Day ``d`` is the hours ``bounds[d]:bounds[d + 1]``.
        """
        return [*self.day_starts.tolist(), self.hours]

    def index_of(self, start_s: int) -> int | None:
        """The index of the hour starting at ``start_s``, or ``None`` outside the grid."""
        offset, rest = divmod(start_s - self.start_s, 3600)
        return offset if not rest and 0 <= offset < self.hours else None


@lru_cache(maxsize=128)
def hour_grid(first: date, last: date) -> HourGrid:
    """The :class:`HourGrid` of ``first`` .. ``last`` (cached)."""
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    start_s = _day_start_s(first)
    end_s = _day_start_s(last + timedelta(days=1))
    day_of_hour: list[int] = []
    hour_of_day: list[int] = []
    day_starts: list[int] = []
    index = -1
    for hour_s in range(start_s, end_s, 3600):
        local = datetime.fromtimestamp(hour_s, UTC).astimezone(OSLO)
        if index < 0 or local.date() != days[index]:
            index += 1
            day_starts.append(len(day_of_hour))
        day_of_hour.append(index)
        hour_of_day.append(local.hour)
    return HourGrid(
        first,
        last,
        start_s,
        tuple(days),
        _frozen(np.array(day_starts, dtype=np.int64)),
        _frozen(np.array(day_of_hour, dtype=np.int64)),
        _frozen(np.array(hour_of_day, dtype=np.int64)),
    )


@dataclass(frozen=True, slots=True, eq=False)
class MonthPrices:
    """An area's spot prices over a grid: per hour (``None`` without a price) and per day."""

    spot: tuple[Decimal | None, ...]
    day_average: tuple[Decimal | None, ...]


def month_prices(spot_nok_per_kwh: Mapping[int, Decimal], grid: HourGrid) -> MonthPrices:
    """The prices of the grid's hours, and each day's plain average over its priced hours."""
    spot = tuple(spot_nok_per_kwh.get(grid.start_s + 3600 * n) for n in range(grid.hours))
    averages: list[Decimal | None] = []
    bounds = [*grid.day_starts.tolist(), grid.hours]
    for begin, end in pairwise(bounds):
        found = [p for p in spot[begin:end] if p is not None]
        averages.append(
            (sum(found, Decimal(0)) / len(found)).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)
            if found
            else None
        )
    return MonthPrices(spot, tuple(averages))


@dataclass(frozen=True, slots=True, eq=False)
class RateIndex:
    """Per hour, an index into ``keys``: what applies in that hour (-1: nothing)."""

    index: IntArray
    keys: tuple[tuple[object, ...], ...]


def periods_of(grid: HourGrid, tariff: Tariff) -> tuple[TariffPeriod | None, ...]:
    """The tariff period of each day of the grid (``None`` where the tariff has none)."""
    return _periods(grid.first, grid.last, tariff)


@lru_cache(maxsize=64)
def _periods(first: date, last: date, tariff: Tariff) -> tuple[TariffPeriod | None, ...]:
    return tuple(tariff.period_on(day) for day in hour_grid(first, last).days)


@lru_cache(maxsize=64)
def _rate_index(first: date, last: date, tariff: Tariff) -> RateIndex:
    grid = hour_grid(first, last)
    periods = _periods(first, last, tariff)
    keys: dict[tuple[object, ...], int] = {}
    index = np.full(grid.hours, -1, dtype=np.int64)
    for n, (day_index, hour) in enumerate(zip(grid.day_of_hour, grid.hour_of_day, strict=True)):
        period = periods[int(day_index)]
        if period is None:
            continue
        rate = period.rate_for(grid.days[int(day_index)], int(hour))
        key = (rate.code, rate.text, rate.nok_per_kwh)
        index[n] = keys.setdefault(key, len(keys))
    return RateIndex(_frozen(index), tuple(keys))


def rate_index(grid: HourGrid, tariff: Tariff) -> RateIndex:
    """Per hour, the energy rate as ``(code, text, NOK/kWh)`` (cached per grid and tariff)."""
    return _rate_index(grid.first, grid.last, tariff)


def export_index(grid: HourGrid, tariff: Tariff) -> RateIndex:
    """Per hour, the export price as ``(NOK/kWh,)``."""
    return _export_index(grid.first, grid.last, tariff)


@lru_cache(maxsize=64)
def _export_index(first: date, last: date, tariff: Tariff) -> RateIndex:
    grid = hour_grid(first, last)
    periods = _periods(first, last, tariff)
    keys: dict[tuple[object, ...], int] = {}
    per_day = [
        -1 if p is None else keys.setdefault((p.export_nok_per_kwh,), len(keys)) for p in periods
    ]
    index = np.array(per_day, dtype=np.int64)[grid.day_of_hour]
    return RateIndex(_frozen(index), tuple(keys))


Where = tuple[str, str, str]  # customer type, postcode, municipality


def rule_index(
    grid: HourGrid, rules: tuple[Rule, ...], where: Where
) -> tuple[IntArray, tuple[Rule | None, ...]]:
    """Per hour, an index into the day's rule (the first of ``rules`` that applies).

    Returns:
        The index per hour (-1 where no rule applies) and the rule of each day.
    """
    index, of_day, _ = _rule_index(grid.first, grid.last, rules, where)
    return index, of_day


@lru_cache(maxsize=4096)
def _rule_index(
    first: date, last: date, rules: tuple[Rule, ...], where: Where
) -> tuple[IntArray, tuple[Rule | None, ...], tuple[int, ...]]:
    grid = hour_grid(first, last)
    of_day = tuple(next((r for r in rules if r.applies(d, *where)), None) for d in grid.days)
    per_day = tuple(-1 if r is None else rules.index(r) for r in of_day)
    index = np.array(per_day, dtype=np.int64)[grid.day_of_hour]
    return _frozen(index), of_day, per_day


@dataclass(frozen=True, slots=True, eq=False)
class ScaledUnits:
    """Decimal amounts per kWh as integers ``hi * 10**6 + lo`` at scale ``10**scale``.

    ``sum(wh * unit)`` is ``(wh @ hi) * 10**6 + wh @ lo`` at scale ``10**(scale + 3)`` NOK,
    exact while ``|hi|`` and Wh stay below 10**9 (checked by :func:`scaled`).
    """

    hi: IntArray
    lo: IntArray
    scale: int

    def dot(self, wh: IntArray) -> Decimal:
        """The exact sum of ``wh[h] / 1000 * unit[h]`` over the hours, in NOK."""
        total = int(wh @ self.hi) * _SPLIT + int(wh @ self.lo)
        return Decimal(total).scaleb(-(self.scale + 3))


def scaled(units: Sequence[Decimal]) -> ScaledUnits | None:
    """Integers for exact sums against Wh, or ``None`` when the units need too many digits."""
    scale = 0
    for unit in units:
        exponent = unit.as_tuple().exponent
        if not isinstance(exponent, int):
            return None
        scale = max(scale, -exponent)
    if scale > _MAX_SCALE:
        return None
    as_int = [int(unit.scaleb(scale)) for unit in units]
    hi = np.array([value // _SPLIT for value in as_int], dtype=object)
    if any(abs(value) >= 10**9 for value in hi):
        return None
    lo = [value % _SPLIT for value in as_int]
    return ScaledUnits(
        _frozen(np.array(hi.tolist(), dtype=np.int64)),
        _frozen(np.array(lo, dtype=np.int64)),
        scale,
    )


@dataclass(frozen=True, slots=True, eq=False)
class SupportUnits:
    """Per hour, what support or Norgespris pays per kWh, for one place and kind of supply.

    Attributes:
        applies: Hours whose day has a rule: they count towards the monthly cap.
        priced: Hours that also have a spot price: they are paid.
        units: The amount per kWh of each hour (0 where not priced): negative a credit.
        scaled: ``units`` as integers, or ``None`` to sum them as Decimals.
        caps_wh: The monthly cap in Wh of each day's rule, ``None`` for no cap.
        first_price: Norgespris of the first day with a rule (for the line's text).
        same_cap: Whether every day with a rule has the same cap (one cumulative sum).
    """

    applies: BoolArray
    priced: BoolArray
    units: tuple[Decimal, ...]
    scaled: ScaledUnits | None
    caps_wh: tuple[int | None, ...]
    first_price: Decimal | None
    same_cap: bool


def support_units(
    grid: HourGrid, prices: MonthPrices, taxes: TaxRules, where: Where, norgespris: bool
) -> SupportUnits:
    """Support (or Norgespris) per kWh and hour for a place (see the module).

    Cached by the prices object (the same object for every metering point of an area), the
    rules, the place and the choice of Norgespris.
    """
    rules = taxes.norgespris if norgespris else taxes.support
    _, _, per_day = _rule_index(grid.first, grid.last, rules, where)
    return _support_units(grid.first, grid.last, prices, rules, per_day, norgespris)


@lru_cache(maxsize=1024)
def _support_units(
    first: date,
    last: date,
    prices: MonthPrices,
    rules: tuple[Rule, ...],
    per_day: tuple[int, ...],
    norgespris: bool,
) -> SupportUnits:
    grid = hour_grid(first, last)
    of_day = tuple(None if k < 0 else rules[k] for k in per_day)
    applies = np.zeros(grid.hours, dtype=np.bool_)
    priced = np.zeros(grid.hours, dtype=np.bool_)
    units: list[Decimal] = []
    for n, day_index in enumerate(grid.day_of_hour.tolist()):
        rule = of_day[day_index]
        spot = prices.spot[n]
        unit = Decimal(0)
        if rule is not None:
            applies[n] = True
            if spot is not None:
                priced[n] = True
                if norgespris:
                    unit = rule.value - spot
                else:
                    share = rule.share if rule.share is not None else Decimal(1)
                    unit = -share * max(Decimal(0), spot - rule.value)
        units.append(unit)
    caps = tuple(None if r is None or r.cap_kwh is None else int(r.cap_kwh * 1000) for r in of_day)
    first_price = next((r.value for r in of_day if r is not None), None)
    same_cap = len({cap for cap, r in zip(caps, of_day, strict=True) if r is not None}) <= 1
    return SupportUnits(
        _frozen(applies), _frozen(priced), tuple(units), scaled(units), caps, first_price, same_cap
    )

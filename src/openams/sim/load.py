"""Consumption of the simulated metering points, a quarter-hour at a time, one day per call.

``LoadModel(points, seed, block).day(day, weather)`` gives each point's active and reactive
energy in the 96 quarter-hours of a UTC day. People live by the clock on the wall, so the
behaviour follows local time (Europe/Oslo, with daylight saving time): time of day, weekdays,
public holidays (:mod:`openams.domain.calendar`), school holidays and seasons.

Each point is the sum of the components its customer type has:

    =================  =====================================================================
    customer type      components
    =================  =====================================================================
    detached_house     base load, space heating, water heater, EV charging (35 %)
    apartment          base load, space heating (little where the block has central heating),
                       water heater, EV charging (8 %)
    prosumer_solar     a detached house (EV charging 50 %) and a PV system of 4-15 kWp
    farm               the farmhouse, plus barn base load and morning and evening barn work
    cabin              frost guard while empty; heating, base load and hot water when occupied
    small_business     base load, opening hours with lighting and ventilation, heating
    =================  =====================================================================

Invariants:
    * The result depends on ``points``, ``seed``, ``block``, ``day`` and ``weather`` only, never
      on which days were computed before or in which order. The randomness comes from
      ``numpy.random.default_rng`` streams keyed by what they describe (dates as ordinals):
      ``[seed, block, 0]`` for the points' parameters, ``[seed, block, day]`` for a UTC day's
      noise, ``[seed, block, local date, 1]`` for a local date's events (water heater cycles,
      EV sessions) and ``[seed, block, first free day, 2]`` for the cabin stays in a stretch of
      free days. An event that crosses midnight UTC is the same event seen from both days.
    * All values are finite and non-negative. The mean power of a quarter-hour never exceeds
      what the main fuse lets through, in either direction: ``sqrt(3) U I`` for three phases
      (U = 400 V on TN, 230 V on IT grids) and ``230 V x I`` for one phase.
    * Export is non-zero only for ``prosumer_solar`` points and only while the sun shines.
    * Work is vectorised over the points: loops run over components, never over points.

The computation runs in float32 and returns float64 arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from ..domain.calendar import easter_sunday, is_public_holiday
from ..domain.estate import main_fuse_limit_w
from .grid import MeteringPoint
from .weather import QUARTERS_PER_DAY, DayWeather

__all__ = ["CUSTOMER_ORDER", "DayLoad", "LoadModel", "fuse_limit_w"]

F32: TypeAlias = npt.NDArray[np.float32]
F64: TypeAlias = npt.NDArray[np.float64]
I64: TypeAlias = npt.NDArray[np.int64]

_F = np.float32
_OSLO = ZoneInfo("Europe/Oslo")
_QUARTER_H = 0.25

#: Customer types in the order the model groups them internally.
CUSTOMER_ORDER = (
    "detached_house",
    "prosumer_solar",
    "farm",
    "apartment",
    "cabin",
    "small_business",
)
_DETACHED, _PROSUMER, _FARM, _APARTMENT, _CABIN, _BUSINESS = range(len(CUSTOMER_ORDER))

# Day kinds of a local date, for the daily profiles.
_WORKDAY, _SATURDAY, _SUNDAY = 0, 1, 2

# Winter school holiday (vinterferie), ISO week number, per price area.
_WINTER_BREAK_WEEK = {"NO1": 8, "NO2": 8, "NO3": 9, "NO4": 10, "NO5": 9}

# Hourly shapes, local time, hour 0 to 23, for workdays, Saturdays and Sundays or holidays.
# Household base load: low at night, breakfast, cooking peak 16-19, evening.
_HOUSEHOLD_BASE = (
    (0.55, 0.45, 0.42, 0.40, 0.40, 0.45, 0.75, 1.05, 0.95, 0.75, 0.70, 0.72,
     0.78, 0.75, 0.78, 0.95, 1.40, 1.75, 1.70, 1.45, 1.35, 1.25, 1.05, 0.75),
    (0.65, 0.50, 0.45, 0.42, 0.40, 0.40, 0.45, 0.60, 0.85, 1.10, 1.20, 1.20,
     1.20, 1.10, 1.05, 1.10, 1.40, 1.65, 1.60, 1.40, 1.35, 1.30, 1.15, 0.90),
    (0.70, 0.55, 0.45, 0.42, 0.40, 0.40, 0.45, 0.55, 0.80, 1.05, 1.20, 1.25,
     1.25, 1.15, 1.10, 1.20, 1.50, 1.70, 1.60, 1.40, 1.30, 1.20, 0.95, 0.70),
)  # fmt: skip
_HOUSEHOLD_BASE_LEVEL = (1.0, 1.12, 1.1)  # weekends are spent more at home
# Comfort heating: night setback, morning and evening comfort, a little less while at work.
_HOUSEHOLD_HEAT = (
    (0.82, 0.82, 0.82, 0.82, 0.82, 0.95, 1.15, 1.18, 1.08, 0.95, 0.92, 0.92,
     0.92, 0.92, 0.95, 1.00, 1.10, 1.12, 1.12, 1.12, 1.12, 1.10, 1.00, 0.88),
    (0.85, 0.82, 0.82, 0.82, 0.82, 0.82, 0.90, 1.00, 1.15, 1.10, 1.08, 1.08,
     1.08, 1.08, 1.08, 1.08, 1.10, 1.12, 1.12, 1.12, 1.12, 1.10, 1.02, 0.90),
    (0.85, 0.82, 0.82, 0.82, 0.82, 0.82, 0.90, 1.00, 1.15, 1.10, 1.08, 1.08,
     1.08, 1.08, 1.08, 1.08, 1.10, 1.12, 1.12, 1.12, 1.12, 1.05, 0.95, 0.88),
)  # fmt: skip
# Base load by local month, January to December: lighting in the dark months, holidays in July.
_MONTH_BASE = (1.18, 1.12, 1.04, 0.96, 0.90, 0.85, 0.72, 0.86, 0.95, 1.04, 1.13, 1.20)
# Hot-water use by local month: colder inlet water in winter, holidays in July.
_MONTH_HOT_WATER = (1.10, 1.10, 1.06, 1.02, 0.96, 0.92, 0.78, 0.90, 0.97, 1.02, 1.06, 1.10)
# Chance that a cabin is used in a stretch of free days, by kind of stretch.
_STAY_CHANCE = {
    "easter": 0.65,
    "christmas": 0.5,
    "winter_break": 0.45,
    "july": 0.45,
    "long_weekend": 0.35,
}
# Chance for an ordinary weekend, by month (dark November lowest, late-winter skiing highest).
_WEEKEND_STAY_CHANCE = (0.22, 0.3, 0.32, 0.28, 0.25, 0.3, 0.3, 0.28, 0.25, 0.18, 0.12, 0.16)
_NOISE_ROWS = 256


def fuse_limit_w(point: MeteringPoint) -> float:
    """The largest mean power the main fuse lets through at a metering point
    (:func:`openams.domain.estate.main_fuse_limit_w`). [W]"""
    return main_fuse_limit_w(point.phases, point.grid_type, point.main_fuse_a)


@dataclass(frozen=True, slots=True, eq=False)
class DayLoad:
    """Energy of each metering point in each quarter-hour of a UTC day.

    Each array has shape ``(len(points), 96)``: row ``i`` is ``points[i]``, column ``q`` the
    quarter-hour from ``00:00 + 15 q min`` UTC. All values are finite and non-negative.

    Attributes:
        import_wh: Active energy imported, A+ (1.8.0). [Wh]
        export_wh: Active energy exported, A- (2.8.0). [Wh]
        reactive_import_varh: Reactive energy imported, R+ (3.8.0). [varh]
        reactive_export_varh: Reactive energy exported, R- (4.8.0). [varh]
    """

    import_wh: F64
    export_wh: F64
    reactive_import_varh: F64
    reactive_export_varh: F64


# --- local clock -----------------------------------------------------------------------------


def _day_kind(local: date) -> int:
    if local.weekday() == 6 or is_public_holiday(local):
        return _SUNDAY
    return _SATURDAY if local.weekday() == 5 else _WORKDAY


def _hourly_to_quarters(hourly: Sequence[float]) -> F64:
    """Quarter-hour values from hourly ones, linear between the hours' midpoints, periodic."""
    quarter_mid_h = (np.arange(QUARTERS_PER_DAY) + 0.5) * _QUARTER_H
    values: F64 = np.interp(quarter_mid_h, np.arange(24) + 0.5, np.asarray(hourly), period=24.0)
    values /= values.mean()
    return values


_BASE_Q = np.array(
    [
        _hourly_to_quarters(shape) * level
        for shape, level in zip(_HOUSEHOLD_BASE, _HOUSEHOLD_BASE_LEVEL, strict=True)
    ]
)
_HEAT_Q = np.array([_hourly_to_quarters(shape) for shape in _HOUSEHOLD_HEAT])


def _month_value(table: Sequence[float], local: date) -> float:
    """A monthly value at a local date, linear between mid-months."""
    year_fraction = (local.timetuple().tm_yday - 0.5) / 365.25
    middles = (np.arange(12) + 0.5) / 12.0
    return float(np.interp(year_fraction, middles, np.asarray(table), period=1.0))


@lru_cache(maxsize=1024)
def _local_midnight_h(utc_day: date, local: date) -> float:
    """Local midnight starting ``local``, in hours from 00:00 UTC of ``utc_day``."""
    midnight = datetime(local.year, local.month, local.day, tzinfo=_OSLO)
    start = datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC)
    return (midnight - start).total_seconds() / 3600.0


@dataclass(frozen=True, slots=True)
class _Clock:
    """Where the quarter-hours of a UTC day fall in local time."""

    slot: I64  # local quarter of the day, 0..95, by wall clock
    base: F32  # household base-load shape, mean about 1
    heat: F32  # household heating shape, mean about 1
    month_base: float  # base-load factor of the month
    kind_today: int  # day kind of the local date that starts in this UTC day
    midnight_h: tuple[float, float]  # local midnights of yesterday and today [h from 00:00 UTC]


@lru_cache(maxsize=512)
def _clock(day: date) -> _Clock:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    locals_ = [
        (start + timedelta(minutes=15 * q)).astimezone(_OSLO) for q in range(QUARTERS_PER_DAY)
    ]
    slot = np.array([t.hour * 4 + t.minute // 15 for t in locals_], dtype=np.int64)
    tomorrow = np.array([t.date() != day for t in locals_])
    kinds = (_day_kind(day), _day_kind(day + timedelta(days=1)))
    kind = np.where(tomorrow, kinds[1], kinds[0]).astype(np.int64)
    return _Clock(
        slot=slot,
        base=_BASE_Q[kind, slot].astype(_F),
        heat=_HEAT_Q[kind, slot].astype(_F),
        month_base=_month_value(_MONTH_BASE, day),
        kind_today=kinds[0],
        midnight_h=(_local_midnight_h(day, day - timedelta(days=1)), _local_midnight_h(day, day)),
    )


# --- cabin stays -----------------------------------------------------------------------------


def _free_kind(d: date, area: str, easter: date) -> str | None:
    """Why a date is free for a cabin trip, or None on an ordinary workday."""
    if easter - timedelta(days=8) <= d <= easter + timedelta(days=1):
        return "easter"
    if (d.month == 12 and d.day >= 24) or (d.month == 1 and d.day == 1):
        return "christmas"
    if d.isocalendar().week == _WINTER_BREAK_WEEK.get(area, 9) and d.month <= 3:
        return "winter_break"
    if d.month == 7:
        return "july"
    if d.weekday() >= 5 or is_public_holiday(d):
        return "weekend"
    return None


@dataclass(frozen=True, slots=True)
class _Stretch:
    first: date
    last: date
    chance: float


@lru_cache(maxsize=16)
def _stretches(area: str, year: int) -> tuple[_Stretch, ...]:
    """Stretches of consecutive free days around a year, cut at Saturdays when long."""
    first, last = date(year - 1, 12, 1), date(year + 1, 1, 31)
    runs: list[list[tuple[date, str]]] = []
    d = first
    current: list[tuple[date, str]] = []
    while d <= last:
        kind = _free_kind(d, area, easter_sunday(d.year))
        if kind is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((d, kind))
        d += timedelta(days=1)
    if current:
        runs.append(current)
    stretches: list[_Stretch] = []
    for run in runs:
        pieces: list[list[tuple[date, str]]] = [[]]
        for entry in run:
            if len(run) > 11 and entry[0].weekday() == 5 and pieces[-1]:
                pieces.append([])
            pieces[-1].append(entry)
        for piece in pieces:
            kinds = {kind for _, kind in piece}
            special = [k for k in _STAY_CHANCE if k in kinds]
            if special:
                chance = _STAY_CHANCE[special[0]]
            elif len(piece) >= 3:
                chance = _STAY_CHANCE["long_weekend"]
            else:
                chance = _WEEKEND_STAY_CHANCE[piece[0][0].month - 1]
            stretches.append(_Stretch(piece[0][0], piece[-1][0], chance))
    return tuple(stretches)


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LocalEvents:
    """Events of one local date, for the dwelling rows: times in local wall-clock hours."""

    hot_water_wh: F32
    morning_h: F32
    evening_h: F32
    standby_h: F32
    ev_kwh: F32  # energy of the EV session that evening, 0 when none
    ev_start_h: F32


@dataclass(frozen=True, slots=True)
class _Stay:
    """Who uses a stretch of free days, arriving and leaving when, per cabin row."""

    occupied: npt.NDArray[np.bool_]
    arrive_h: F64  # from local midnight of the stretch's first day
    depart_h: F64  # from local midnight of the stretch's last day


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> F64:
    return median * np.exp(sigma * rng.standard_normal(n))


def _coverage(start_q: F32, end_q: F32, first: int, last: int) -> F32:
    """Share of each quarter ``first..last-1`` covered by ``[start_q, end_q)`` (in quarters)."""
    index = np.arange(first, last, dtype=_F)
    covered: F32 = np.subtract(end_q[:, None], index)
    np.clip(covered, 0.0, 1.0, out=covered)
    before: F32 = np.subtract(start_q[:, None], index)
    np.clip(before, 0.0, 1.0, out=before)
    covered -= before
    return covered


def _add_pulses(out_w: F32, rows: slice | I64, power_w: F32, start_h: F32, end_h: F32) -> None:
    """Add rectangular pulses of ``power_w`` over ``[start_h, end_h)`` hours from 00:00 UTC."""
    if power_w.size == 0:
        return
    start_q = (start_h / _QUARTER_H).astype(_F)
    end_q = (np.maximum(end_h, start_h) / _QUARTER_H).astype(_F)
    first = max(0, math.floor(float(start_q.min())))
    last = min(QUARTERS_PER_DAY, math.ceil(float(end_q.max())))
    if first >= last:
        return
    covered = _coverage(start_q, end_q, first, last)
    covered *= power_w[:, None]
    out_w[rows, first:last] += covered


class LoadModel:
    """The consumption of a block of metering points.

    Args:
        points: The block's metering points (the engine uses blocks of up to 1024).
        seed: Seed of the estate; non-negative.
        block: Number of the block; non-negative. Points' parameters differ between blocks.

    Raises:
        ValueError: a negative seed or block, or an unknown customer type.
    """

    def __init__(self, points: Sequence[MeteringPoint], seed: int, block: int) -> None:
        if seed < 0 or block < 0:
            raise ValueError("seed and block must not be negative")
        unknown = {p.customer_type for p in points} - set(CUSTOMER_ORDER)
        if unknown:
            raise ValueError(f"unknown customer type(s): {', '.join(sorted(unknown))}")
        self._seed = seed
        self._block = block
        self._n = len(points)
        group = np.array([CUSTOMER_ORDER.index(p.customer_type) for p in points], dtype=np.int64)
        # Internal row order groups the customer types; ``_order[i]`` is the point in row i.
        self._order = np.argsort(group, kind="stable")
        self._rows_of_points = np.argsort(self._order)
        counts = np.bincount(group, minlength=len(CUSTOMER_ORDER))
        edges = np.concatenate([[0], np.cumsum(counts)]).tolist()
        self._slices = [slice(edges[g], edges[g + 1]) for g in range(len(CUSTOMER_ORDER))]
        self._dwellings = slice(0, edges[_CABIN])  # the houses and the apartments
        kind = group[self._order]
        ordered = [points[i] for i in self._order.tolist()]
        self._areas = sorted({p.area for p in points})
        self._cabin_area = np.array(
            [self._areas.index(p.area) for p in ordered if p.customer_type == "cabin"],
            dtype=np.int64,
        )
        limit_w = np.array([fuse_limit_w(p) for p in ordered], dtype=np.float64)
        three_phase = np.array([p.phases == 3 for p in ordered], dtype=bool)
        fuse_a = np.array([p.main_fuse_a for p in ordered], dtype=np.float64)
        # In float32, rounded down, so that the float64 energy never exceeds the fuse's.
        self._limit_w = np.nextafter(limit_w.astype(_F), _F(0.0))
        self._draw_parameters(kind, limit_w, three_phase, fuse_a)
        self._events: dict[date, _LocalEvents] = {}
        self._stays: dict[date, _Stay] = {}

    # -- parameters, once per block ------------------------------------------------------------

    def _draw_parameters(
        self, kind: I64, limit_w: F64, three_phase: npt.NDArray[np.bool_], fuse_a: F64
    ) -> None:
        rng = np.random.default_rng([self._seed, self._block, 0])
        n = self._n

        def pick(values: dict[int, float], default: float = 0.0) -> F64:
            table = np.full(len(CUSTOMER_ORDER), default)
            for index, value in values.items():
                table[index] = value
            return table[kind]

        def f32(values: F64) -> F32:
            return values.astype(_F)

        # Draws are made for all points, in the points' own order, then put in row order, so a
        # point's parameters do not depend on the other points' customer types.
        def draw(values: F64) -> F64:
            return values[self._order]

        house = np.isin(kind, (_DETACHED, _PROSUMER, _FARM))
        apartment = kind == _APARTMENT
        house_size = np.sqrt(fuse_a / 50.0)
        flat_size = np.sqrt(fuse_a / 32.0)
        size = np.where(house, house_size, np.where(apartment, flat_size, 1.0))

        # Base load (appliances, lighting, cooking). [W]
        base_median = pick({_DETACHED: 480.0, _PROSUMER: 480.0, _FARM: 520.0, _APARTMENT: 270.0})
        self._base_w = f32(base_median * size * draw(_lognormal(rng, 1.0, 0.3, n)))

        # Space heating: heat loss coefficient, balance temperature, heat-pump coverage.
        heat_median = pick({_DETACHED: 145.0, _PROSUMER: 145.0, _FARM: 170.0, _APARTMENT: 50.0})
        heat_w_k = heat_median * size * draw(_lognormal(rng, 1.0, 0.3, n))
        central = draw(rng.random(n)) < 0.35  # apartment blocks with water-borne heating
        heat_w_k = np.where(apartment & central, 0.2 * heat_w_k, heat_w_k)
        self._heat_w_k = f32(heat_w_k)
        balance_low = np.where(apartment, 14.0, 15.0)
        self._balance_c = f32(balance_low + 2.0 * draw(rng.random(n)))
        hp_share = pick({_DETACHED: 0.55, _PROSUMER: 0.6, _FARM: 0.35, _APARTMENT: 0.1})
        has_hp = draw(rng.random(n)) < hp_share
        self._hp_cover = f32(np.where(has_hp, 0.5 + 0.3 * draw(rng.random(n)), 0.0))

        # Water heater: daily energy, element power, when it reheats besides morning and evening.
        wh_low = np.where(house, 7.0, 4.5)
        wh_span = np.where(house, 5.0, 3.5)
        self._hot_water_kwh = f32(wh_low + wh_span * draw(rng.random(n)))
        self._hot_water_w = f32(np.where(house & (draw(rng.random(n)) < 0.25), 3000.0, 2000.0))
        self._night_standby = draw(rng.random(n)) < 0.5
        self._wake_h = f32(draw(rng.uniform(-0.75, 0.75, n)))

        # EV charging: who has one, at what power, how often, how much.
        ev_share = pick({_DETACHED: 0.35, _PROSUMER: 0.5, _FARM: 0.25, _APARTMENT: 0.08})
        has_ev = draw(rng.random(n)) < ev_share
        charger = draw(rng.random(n))
        ev_w = np.where(charger < 0.35, 3600.0, np.where(charger < 0.7, 7400.0, 11000.0))
        ev_w = np.where(~three_phase & (ev_w > 7400.0), 7400.0, ev_w)
        # The charger leaves room under the main fuse: step down while above 60 % of it.
        ev_w = np.where((ev_w == 11000.0) & (ev_w > 0.6 * limit_w), 7400.0, ev_w)
        ev_w = np.where((ev_w == 7400.0) & (ev_w > 0.6 * limit_w), 3600.0, ev_w)
        self._ev_rows = np.flatnonzero(has_ev)
        self._ev_w = f32(ev_w[self._ev_rows])
        self._ev_chance = f32(draw(rng.uniform(0.25, 0.55, n))[self._ev_rows])
        self._ev_kwh = f32(draw(rng.uniform(10.0, 20.0, n))[self._ev_rows])
        self._ev_timer = draw(rng.random(n))[self._ev_rows] < 0.3

        # Farm: barn base load and barn work, in proportion to the main fuse. [W]
        farm = self._slices[_FARM]
        self._barn_base_w = f32((0.04 + 0.06 * draw(rng.random(n))) * limit_w)[farm]
        self._barn_work_w = f32((0.10 + 0.12 * draw(rng.random(n))) * limit_w)[farm]
        self._milking_h = f32(5.25 + 1.25 * draw(rng.random(n)))[farm]

        # Prosumer: PV peak power and how well the roof faces the sun.
        prosumer = self._slices[_PROSUMER]
        self._pv_kwp = f32(draw(rng.triangular(4.0, 8.0, 15.0, n)))[prosumer]
        self._pv_factor = f32(draw(rng.uniform(0.8, 1.0, n)))[prosumer]

        # Cabin: frost guard while empty, comfort heating and use while occupied.
        cabin = self._slices[_CABIN]
        self._guard_w_k = f32(draw(rng.uniform(25.0, 45.0, n)))[cabin]
        self._guard_c = f32(draw(rng.uniform(6.0, 10.0, n)))[cabin]
        self._guard_max_w = f32(draw(rng.uniform(300.0, 800.0, n)))[cabin]
        self._cabin_heat_w_k = f32(draw(rng.uniform(50.0, 100.0, n)))[cabin]
        self._cabin_use_w = f32(draw(rng.uniform(300.0, 600.0, n)))[cabin]
        self._cabin_standby_w = f32(draw(rng.uniform(40.0, 120.0, n)))[cabin]
        self._preheat_h = np.where(draw(rng.random(n)) < 0.5, draw(rng.uniform(3.0, 8.0, n)), 0.0)[
            cabin
        ]

        # Small business: opening hours, open and closed load, heating, in proportion to fuse.
        business = self._slices[_BUSINESS]
        self._closed_w = f32((0.06 + 0.06 * draw(rng.random(n))) * limit_w)[business]
        self._open_w = f32((0.18 + 0.2 * draw(rng.random(n))) * limit_w)[business]
        self._opens_h = f32(6.5 + 2.5 * draw(rng.random(n)))[business]
        self._closes_h = f32(15.5 + 2.5 * draw(rng.random(n)))[business]
        self._saturday_open = (draw(rng.random(n)) < 0.4)[business]
        design_w = (0.12 + 0.13 * draw(rng.random(n))) * limit_w
        self._business_heat_w_k = f32(design_w / (15.0 + 20.0))[business]

        # Reactive power: tan(phi) of the load and capacitive electronics. [var]
        tan_low = pick({_FARM: 0.15, _BUSINESS: 0.15}, default=0.05)
        tan_span = pick({_FARM: 0.2, _BUSINESS: 0.2}, default=0.15)
        tan_phi = tan_low + tan_span * draw(rng.random(n))
        cap_var = pick({_FARM: 120.0, _BUSINESS: 200.0, _CABIN: 15.0}, default=35.0)
        cap_var = cap_var * draw(rng.uniform(0.3, 1.7, n))
        self._tan_phi = f32(tan_phi)
        self._cap_var = f32(cap_var)

        # Per-quarter noise, rows picked anew each day: appliances switching (skewed), and
        # thermostats cycling (mild).
        self._appliance_noise = f32(
            _lognormal(rng, 1.0, 0.45, _NOISE_ROWS * QUARTERS_PER_DAY).reshape(_NOISE_ROWS, -1)
            / math.exp(0.45**2 / 2)
        )
        self._thermostat_noise = f32(
            1.0 + 0.12 * rng.standard_normal((_NOISE_ROWS, QUARTERS_PER_DAY))
        )

    # -- randomness keyed by local date and by cabin stay ----------------------------------------

    def _local_events(self, local: date) -> _LocalEvents:
        events = self._events.get(local)
        if events is not None:
            return events
        rng = np.random.default_rng([self._seed, self._block, local.toordinal(), 1])
        dwellings = self._dwellings
        n = dwellings.stop
        workday = _day_kind(local) == _WORKDAY
        hot_water_wh = (
            self._hot_water_kwh[dwellings]
            * 1000.0
            * _month_value(_MONTH_HOT_WATER, local)
            * _lognormal(rng, 1.0, 0.15, n)
        )
        morning_h = (6.25 if workday else 8.0) + self._wake_h[dwellings] + rng.uniform(-0.5, 2.0, n)
        evening_h = rng.uniform(18.0, 22.0, n)
        standby_h = np.where(
            self._night_standby[dwellings], rng.uniform(2.0, 4.5, n), rng.uniform(12.5, 16.0, n)
        )
        m = self._ev_rows.size
        plugged = rng.random(m) < self._ev_chance * (1.0 if workday else 0.8)
        winter = 0.5 * (1.0 + math.cos(2.0 * math.pi * (local.timetuple().tm_yday - 15) / 365.25))
        ev_kwh = np.clip(
            self._ev_kwh * _lognormal(rng, 1.0, 0.35, m) * (1.0 + 0.25 * winter), 8.0, 30.0
        )
        ev_start_h = np.where(
            self._ev_timer, rng.uniform(22.0, 23.5, m), rng.uniform(16.0, 20.5, m)
        )
        events = _LocalEvents(
            hot_water_wh=hot_water_wh.astype(_F),
            morning_h=morning_h.astype(_F),
            evening_h=evening_h.astype(_F),
            standby_h=standby_h.astype(_F),
            ev_kwh=np.where(plugged, ev_kwh, 0.0).astype(_F),
            ev_start_h=ev_start_h.astype(_F),
        )
        if len(self._events) >= 4:
            del self._events[min(self._events)]
        self._events[local] = events
        return events

    def _stay(self, stretch: _Stretch) -> _Stay:
        stay = self._stays.get(stretch.first)
        if stay is not None:
            return stay
        rng = np.random.default_rng([self._seed, self._block, stretch.first.toordinal(), 2])
        n = self._cabin_area.size
        length_d = (stretch.last - stretch.first).days + 1
        slack_d = length_d // 3 + 1 if length_d >= 5 else 1
        occupied = rng.random(n) < stretch.chance
        late_d = rng.integers(0, slack_d, n)
        early_d = rng.integers(0, slack_d, n)
        # Arrive on the evening before the first free day, leave in the afternoon of the last.
        arrive_h = (late_d - 1) * 24.0 + rng.uniform(16.0, 21.0, n)
        depart_h = -early_d * 24.0 + rng.uniform(13.0, 19.0, n)
        stay = _Stay(occupied, arrive_h, depart_h)
        if len(self._stays) >= 8:
            del self._stays[min(self._stays)]
        self._stays[stretch.first] = stay
        return stay

    def _occupancy(self, day: date) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Which cabins are occupied, and which are being heated up for guests, per quarter."""
        n = self._cabin_area.size
        occupied = np.zeros((n, QUARTERS_PER_DAY), dtype=bool)
        preheating = np.zeros((n, QUARTERS_PER_DAY), dtype=bool)
        if n == 0:
            return occupied, preheating
        middle_h = (np.arange(QUARTERS_PER_DAY) + 0.5) * _QUARTER_H
        for area_number, area in enumerate(self._areas):
            in_area = self._cabin_area == area_number
            if not in_area.any():
                continue
            for stretch in _stretches(area, day.year):
                if stretch.first - timedelta(days=2) > day or stretch.last < day - timedelta(
                    days=1
                ):
                    continue
                stay = self._stay(stretch)
                arrive_h = _local_midnight_h(day, stretch.first) + stay.arrive_h
                depart_h = _local_midnight_h(day, stretch.last) + stay.depart_h
                guests = stay.occupied & in_area
                after_arrival = middle_h >= arrive_h[:, None]
                occupied |= after_arrival & (middle_h < depart_h[:, None]) & guests[:, None]
                preheating |= (
                    ~after_arrival
                    & (middle_h >= (arrive_h - self._preheat_h)[:, None])
                    & guests[:, None]
                )
        return occupied, preheating & ~occupied

    # -- one day ----------------------------------------------------------------------------------

    def day(self, day: date, weather: DayWeather) -> DayLoad:
        """The energy of every point in each quarter-hour of a UTC day.

        Args:
            day: The UTC day.
            weather: The weather of that day at the points' price area.

        Returns:
            Active and reactive energy per point and quarter-hour, rows in the order of
            ``points``.

        Raises:
            ValueError: ``weather`` is for another day.
        """
        if weather.day != day:
            raise ValueError(f"weather is for {weather.day}, not {day}")
        n = self._n
        clock = _clock(day)
        temperature_c = weather.temperature_c.astype(_F)
        irradiance_w_m2 = weather.irradiance_w_m2.astype(_F)
        # Sun through the windows warms the house a little.
        indoor_gain_c = temperature_c + 0.003 * irradiance_w_m2
        cop = np.clip(2.9 + 0.075 * temperature_c, 1.3, 4.2)
        heat_pump_saving = (1.0 - 1.0 / cop).astype(_F)

        rng = np.random.default_rng([self._seed, self._block, day.toordinal()])
        appliance_rows = rng.integers(0, _NOISE_ROWS, n)
        thermostat_rows = rng.integers(0, _NOISE_ROWS, n)
        base_level = _lognormal(rng, 1.0, 0.12, n).astype(_F)
        heat_level = _lognormal(rng, 1.0, 0.06, n).astype(_F)

        power_w = np.empty((n, QUARTERS_PER_DAY), dtype=_F)
        dwellings = self._dwellings
        self._dwelling_base(power_w, clock, base_level, appliance_rows)
        heat_w = np.subtract(self._balance_c[dwellings, None], indoor_gain_c)
        np.maximum(heat_w, 0.0, out=heat_w)
        heat_w *= (self._heat_w_k[dwellings] * heat_level[dwellings])[:, None]
        heat_w *= 1.0 - self._hp_cover[dwellings, None] * heat_pump_saving
        heat_w *= clock.heat
        heat_w *= self._thermostat_noise[thermostat_rows[dwellings]]
        power_w[dwellings] += heat_w
        self._hot_water(power_w, day, clock)
        self._ev(power_w, day, clock)
        self._farm(power_w, clock, thermostat_rows)
        self._cabins(power_w, day, clock, temperature_c, indoor_gain_c, appliance_rows)
        self._businesses(power_w, clock, indoor_gain_c, heat_pump_saving, thermostat_rows)
        export_w = self._solar(power_w, irradiance_w_m2)
        return self._result(power_w, export_w)

    def _dwelling_base(
        self, power_w: F32, clock: _Clock, base_level: F32, appliance_rows: I64
    ) -> None:
        dwellings = self._dwellings
        level_w = self._base_w[dwellings] * base_level[dwellings] * _F(clock.month_base)
        np.multiply(level_w[:, None], clock.base, out=power_w[dwellings])
        power_w[dwellings] *= self._appliance_noise[appliance_rows[dwellings]]

    def _hot_water(self, power_w: F32, day: date, clock: _Clock) -> None:
        """Reheat after the morning and the evening use, and once more for standing losses."""
        events = self._local_events(day)
        dwellings = self._dwellings
        element_w = self._hot_water_w[dwellings]
        midnight_h = _F(clock.midnight_h[1])
        for share, start_h in (
            (0.35, events.morning_h),
            (0.45, events.evening_h),
            (0.2, events.standby_h),
        ):
            duration_h = share * events.hot_water_wh / element_w
            # The day's reheats end before midnight, so none spills into the next local date.
            start_h = np.minimum(start_h, 23.75 - duration_h) + midnight_h
            _add_pulses(power_w, dwellings, element_w, start_h, start_h + duration_h)

    def _ev(self, power_w: F32, day: date, clock: _Clock) -> None:
        """Charging sessions of yesterday evening (into the night) and of this evening."""
        for offset, midnight_h in ((-1, clock.midnight_h[0]), (0, clock.midnight_h[1])):
            events = self._local_events(day + timedelta(days=offset))
            start_h = events.ev_start_h + _F(midnight_h)
            duration_h = events.ev_kwh * 1000.0 / self._ev_w
            _add_pulses(power_w, self._ev_rows, self._ev_w, start_h, start_h + duration_h)

    def _farm(self, power_w: F32, clock: _Clock, thermostat_rows: I64) -> None:
        """Barn base load (ventilation, milk cooling), morning and evening barn work, every day."""
        farm = self._slices[_FARM]
        if farm.start == farm.stop:
            return
        power_w[farm] += self._barn_base_w[:, None] * self._thermostat_noise[thermostat_rows[farm]]
        for later_h in (0.0, 10.5):
            start_h = self._milking_h + _F(clock.midnight_h[1] + later_h)
            _add_pulses(power_w, farm, self._barn_work_w, start_h, start_h + 2.5)

    def _cabins(
        self,
        power_w: F32,
        day: date,
        clock: _Clock,
        temperature_c: F32,
        indoor_gain_c: F32,
        appliance_rows: I64,
    ) -> None:
        cabins = self._slices[_CABIN]
        if cabins.start == cabins.stop:
            return
        occupied, preheating = self._occupancy(day)
        guard_w = np.subtract(self._guard_c[:, None], temperature_c)
        guard_w *= self._guard_w_k[:, None]
        np.clip(guard_w, 0.0, self._guard_max_w[:, None], out=guard_w)
        comfort_w = np.maximum(18.0 - indoor_gain_c, 0.0) * self._cabin_heat_w_k[:, None]
        comfort_w *= _HEAT_Q[_SATURDAY, clock.slot].astype(_F)
        use_w = self._cabin_use_w[:, None] * _BASE_Q[_SATURDAY, clock.slot].astype(_F)
        use_w *= self._appliance_noise[appliance_rows[cabins]]
        cabin_w = np.where(occupied, comfort_w + use_w, np.where(preheating, comfort_w, guard_w))
        cabin_w += self._cabin_standby_w[:, None]
        power_w[cabins] = cabin_w

    def _businesses(
        self,
        power_w: F32,
        clock: _Clock,
        indoor_gain_c: F32,
        heat_pump_saving: F32,
        thermostat_rows: I64,
    ) -> None:
        """Closed-hours load, opening hours with lighting and ventilation, heating with setback."""
        business = self._slices[_BUSINESS]
        if business.start == business.stop:
            return
        midnight_h = _F(clock.midnight_h[1])
        opens_h, closes_h = self._opens_h, self._closes_h
        if clock.kind_today == _SATURDAY:
            opens_h = np.where(self._saturday_open, _F(10.0), _F(24.0))
            closes_h = np.where(self._saturday_open, _F(15.0), _F(24.0))
        elif clock.kind_today == _SUNDAY:
            opens_h = closes_h = np.full_like(self._opens_h, 24.0)
        start_q = (opens_h + midnight_h) / _QUARTER_H
        end_q = (closes_h + midnight_h) / _QUARTER_H
        open_share = _coverage(start_q, end_q, 0, QUARTERS_PER_DAY)
        # Ventilation starts an hour before opening (and not at all on a closed day).
        warm_up_q = np.where(end_q > start_q, start_q - 4.0, start_q)
        warm_up = _coverage(warm_up_q, start_q, 0, QUARTERS_PER_DAY)
        activity = open_share + 0.5 * warm_up
        business_w = activity * self._open_w[:, None]
        business_w += self._closed_w[:, None] * self._thermostat_noise[thermostat_rows[business]]
        heat_w = np.maximum(15.0 - indoor_gain_c, 0.0) * self._business_heat_w_k[:, None]
        heat_w *= 0.7 + 0.45 * activity
        heat_w *= 1.0 - 0.3 * heat_pump_saving
        business_w += heat_w
        power_w[business] = business_w

    def _solar(self, power_w: F32, irradiance_w_m2: F32) -> F32:
        """Net the prosumers' PV output against their load; returns their export. [W]"""
        prosumer = self._slices[_PROSUMER]
        # kWp x (G / 1000 W/m²) x 1000 W/kWp, with a performance ratio of 0.95 for a tilted,
        # mostly south-facing roof.
        pv_w = (0.95 * self._pv_kwp * self._pv_factor)[:, None] * irradiance_w_m2
        np.minimum(pv_w, 1000.0 * self._pv_kwp[:, None], out=pv_w)
        net_w = power_w[prosumer] - pv_w
        np.maximum(net_w, 0.0, out=power_w[prosumer])
        np.negative(net_w, out=net_w)
        np.maximum(net_w, 0.0, out=net_w)
        return net_w

    def _result(self, power_w: F32, export_w: F32) -> DayLoad:
        """Clip to the main fuse, add reactive energy, put rows in the points' order, in Wh."""
        np.minimum(power_w, self._limit_w[:, None], out=power_w)
        prosumer = self._slices[_PROSUMER]
        np.minimum(export_w, self._limit_w[prosumer, None], out=export_w)
        # Net reactive power: inductive with the load, capacitive from electronics. [var]
        reactive_var = power_w * self._tan_phi[:, None]
        reactive_var -= self._cap_var[:, None]
        capacitive_var = np.negative(reactive_var)
        np.maximum(capacitive_var, 0.0, out=capacitive_var)
        np.maximum(reactive_var, 0.0, out=reactive_var)

        def energy(values_w: F32) -> F64:
            out: F64 = np.empty(values_w.shape, dtype=np.float64)
            np.multiply(values_w[self._rows_of_points], _QUARTER_H, out=out)
            return out

        export_wh = np.zeros((self._n, QUARTERS_PER_DAY), dtype=np.float64)
        export_wh[self._order[prosumer]] = export_w * _QUARTER_H
        return DayLoad(energy(power_w), export_wh, energy(reactive_var), energy(capacitive_var))

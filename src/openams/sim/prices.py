"""Synthetic day-ahead spot prices for the Norwegian bidding zones, for the demo and the tests.

The price of a zone in an hour (EUR/MWh) is the product of

    * a seasonal level: the zone's long-run mean times ``1 + a cos(2 pi (f - f0))``, highest
      around 10 January and lowest around 10 July (``f`` is the fraction of the year);
    * slow random variation, shared the way the market shares it: a Nordic part over about a
      month (reservoir levels, fuel and carbon prices), a regional part over about twelve days,
      wind over about two days, and a small part of the zone's own;
    * a cold response in the heating season: each degree the day's mean temperature at the
      region's weather place (:mod:`openams.sim.weather`) lies below normal raises the price by
      3.5 %, fully in deep winter, fading to nothing by mid-April and mid-October;
    * a daily shape in local time (a trough at night, a peak in the morning on workdays and one
      in the evening, larger in winter, and in summer a dip at midday from solar power on the
      continent), scaled by the zone, then normalised so that it averages 1 over the day;
    * a day factor: 1.03 Monday to Friday, 0.95 on Saturday, 0.90 on Sundays and public
      holidays (:func:`openams.domain.calendar.is_public_holiday`), which averages 1 over a week;
    * hour-to-hour noise, correlated within the day (AR(1), coefficient 0.7).

Rare events of a region then change some hours of all its zones. A spike lifts one to four
hours at the evening or morning peak to about 2 to 7 times their price: some 10 days a year in
the south and 4 in the north, most in winter and more in cold spells. A negative spell sets two
to six hours at midday (solar power) or at night (wind, low demand) a little below zero, mostly
by less than 5 EUR/MWh, and pulls the hour on either side towards zero: some 10 days a year in
the south and 6 in the north, in the summer half-year, more often at weekends and on holidays.

    ====  ======  ========  =====  ======  ==============================================
    zone  mean    seasonal  shape  spread  rationale
    ====  ======  ========  =====  ======  ==============================================
    NO1   52      0.45      1.0    1.0     south-east, Oslo: coupled to Sweden and the south
    NO2   58      0.45      1.1    1.1     south-west: cables to the continent and Britain
    NO3   32      0.35      0.6    0.8     mid-Norway: a surplus, often priced with NO4/SE2
    NO4   20      0.35      0.5    0.8     north: the largest surplus, the lowest prices
    NO5   49      0.45      0.9    1.0     west, Bergen: usually close to NO1
    ====  ======  ========  =====  ======  ==============================================

``mean`` is the long-run mean [EUR/MWh], ``seasonal`` the relative half-amplitude of the
seasonal cycle, ``shape`` the scale of the daily shape and ``spread`` that of the regional and
hourly noise and of the events. The figures are rounded and approximate, set near the yearly
means of 2023 and 2024 (roughly 40 to 80 EUR/MWh in NO1, NO2 and NO5, 25 to 40 in NO3 and 15 to
30 in NO4), with winter months in the south mostly at 60 to 100 and summer months at 10 to 40.
The south (NO1, NO2, NO5; weather place Oslo) and the north (NO3, NO4; weather place Trondheim)
are the two regions.

Invariants:
    * ``generate_prices`` depends on its arguments only. The price of a zone on a day is
      computed from that day alone: the randomness comes from ``numpy.random.default_rng``
      streams keyed by what they describe (dates as ordinals): ``[seed, key, layer, anchor]``
      for the slow noise (key 0 for the Nordic part, 10 + region for the regional parts, the
      zone number for the zone's own), ``[seed, 10 + region, 6, day]`` for a region's events
      and ``[seed, zone number, 5 or 7, day]`` for the hourly and quarter-hour noise.
    * Market time units follow the local (Europe/Oslo) day: 23, 24 or 25 hours.
    * A quarter-hour's price is its hour's price plus a wiggle whose four values sum to zero
      before rounding (a ramp along the hour's slope and some noise), so the four quarters
      average the hour's price to within 0.01 EUR/MWh after rounding.
    * Prices are rounded to 0.01 EUR/MWh, as the market publishes them.

References:
    Nord Pool day-ahead prices by bidding zone; NVE, *Kraftsituasjonen* quarterly reports
    (seasonal levels and zone differences).
    Nord Pool exchange message 108/2009: 1,400 EUR/MWh in two hours of 17 December 2009 in NO2
    and NO3 after cold weather and a nuclear outage (a spike well beyond the model's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from ..domain.calendar import is_public_holiday
from ..domain.prices import BIDDING_ZONES, HOUR_S, QUARTER_S, SpotPrice
from .weather import PLACES, day_weather

__all__ = ["generate_prices"]

FloatArray: TypeAlias = npt.NDArray[np.float64]

_OSLO = ZoneInfo("Europe/Oslo")
_DAY_S = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_YEAR_ORIGIN = date(2000, 1, 1).toordinal()
_TROPICAL_YEAR_D = 365.2425
_WINTER_PEAK = 0.027  # year fraction of the seasonal peak, about 10 January
_COLD_PER_C = 0.035  # relative price rise per degree below normal, in deep winter

# Noise layers: (layer number, anchor spacing [d], standard deviation of the log price).
_NORDIC = (1, 30.0, 0.20)
_REGIONAL = (2, 12.0, 0.12)
_WIND = (3, 2.0, 0.16)
_LOCAL = (4, 3.0, 0.05)
_HOURLY_LAYER, _EVENT_LAYER, _QUARTER_LAYER = 5, 6, 7
_HOURLY_SPREAD = 0.05
_HOURLY_AR = 0.7
# Interpolating between anchors with smoothstep keeps 0.743 of their variance on average.
_SMOOTH_VARIANCE = 0.743


@dataclass(frozen=True, slots=True)
class _Region:
    number: int
    weather_area: str
    spike_rate: float  # chance of a spike per day, in deep winter at normal temperature
    negative_rate: float  # chance of a negative spell per day, in midsummer on a workday
    solar_dip: float  # relative midday dip in midsummer


@dataclass(frozen=True, slots=True)
class _Zone:
    number: int
    region: _Region
    mean: float
    seasonal: float
    shape: float
    spread: float


_SOUTH = _Region(1, "NO1", 0.05, 0.06, 0.30)
_NORTH = _Region(2, "NO3", 0.02, 0.03, 0.10)
_ZONES = {
    "NO1": _Zone(1, _SOUTH, 52.0, 0.45, 1.0, 1.0),
    "NO2": _Zone(2, _SOUTH, 58.0, 0.45, 1.1, 1.1),
    "NO3": _Zone(3, _NORTH, 32.0, 0.35, 0.6, 0.8),
    "NO4": _Zone(4, _NORTH, 20.0, 0.35, 0.5, 0.8),
    "NO5": _Zone(5, _SOUTH, 49.0, 0.45, 0.9, 1.0),
}
# Fraction of the year at the middle of each month, for the monthly normal temperatures.
_MID_MONTH = (np.arange(12) + 0.5) / 12


@lru_cache(maxsize=8192)
def _anchor(seed: int, key: int, layer: int, index: int) -> float:
    return float(np.random.default_rng([seed, key, layer, index]).standard_normal())


def _noise(seed: int, key: int, layer: tuple[int, float, float], t_d: FloatArray) -> FloatArray:
    """A layer's smooth noise at ``t_d`` (date ordinals): smoothstep between its anchors."""
    number, spacing_d, sigma = layer
    position = t_d / spacing_d
    cell = np.floor(position)
    first = int(cell.min())
    values: FloatArray = np.array(
        [_anchor(seed, key, number, i) for i in range(first, int(cell.max()) + 2)]
    )
    index = (cell - first).astype(np.int64)
    u = position - cell
    step = u * u * (3.0 - 2.0 * u)
    return sigma * (values[index] + (values[index + 1] - values[index]) * step)


@lru_cache(maxsize=4096)
def _temperature_anomaly_c(area: str, day: date, seed: int) -> float:
    """The day's mean temperature at the area's weather place minus the normal. [°C]"""
    weather = day_weather(area, day, seed)
    fraction = ((day.toordinal() + 0.5 - _YEAR_ORIGIN) / _TROPICAL_YEAR_D) % 1.0
    normal_c = np.interp(fraction, _MID_MONTH, np.array(PLACES[area].normal_c), period=1.0)
    return float(weather.temperature_c.mean() - normal_c)


@lru_cache(maxsize=4096)
def _event_draws(seed: int, region: int, ordinal: int) -> tuple[float, ...]:
    return tuple(np.random.default_rng([seed, 10 + region, _EVENT_LAYER, ordinal]).random(8))


def _bump(clock_h: FloatArray, centre_h: float, width_h: float) -> FloatArray:
    return np.exp(-0.5 * ((clock_h - centre_h) / width_h) ** 2)


def _local_hours(day: date) -> tuple[int, FloatArray]:
    """Epoch second of the local day's start and the local clock time of each hour's middle."""
    start_s = int(datetime.combine(day, time(), _OSLO).timestamp())
    end_s = int(datetime.combine(day + timedelta(days=1), time(), _OSLO).timestamp())
    clock_h = [datetime.fromtimestamp(s, _OSLO).hour + 0.5 for s in range(start_s, end_s, HOUR_S)]
    return start_s, np.array(clock_h)


def _hourly(zone: _Zone, day: date, seed: int) -> tuple[int, FloatArray]:
    """Epoch second of the day's start and the unrounded price of each hour. [EUR/MWh]"""
    region = zone.region
    start_s, clock_h = _local_hours(day)
    hours = clock_h.size
    t_d = _EPOCH_ORDINAL + (start_s + HOUR_S * (np.arange(hours) + 0.5)) / _DAY_S
    fraction = ((t_d - _YEAR_ORIGIN) / _TROPICAL_YEAR_D) % 1.0
    winter = 0.5 * (1.0 + np.cos(2.0 * math.pi * (fraction - _WINTER_PEAK)))
    heating = float(np.clip((winter.mean() - 0.5) / 0.4, 0.0, 1.0))
    anomaly_c = _temperature_anomaly_c(region.weather_area, day, seed) if heating else 0.0

    regional = 10 + region.number
    log_noise = (
        _noise(seed, 0, _NORDIC, t_d)
        + zone.spread
        * (_noise(seed, regional, _REGIONAL, t_d) + _noise(seed, regional, _WIND, t_d))
        + _noise(seed, zone.number, _LOCAL, t_d)
    )
    variance = _NORDIC[2] ** 2 + zone.spread**2 * (_REGIONAL[2] ** 2 + _WIND[2] ** 2)
    variance = _SMOOTH_VARIANCE * (variance + _LOCAL[2] ** 2)
    rng = np.random.default_rng([seed, zone.number, _HOURLY_LAYER, day.toordinal()])
    shocks = rng.standard_normal(hours)
    ar = np.empty(hours)
    ar[0] = shocks[0]
    for i in range(1, hours):
        ar[i] = _HOURLY_AR * ar[i - 1] + math.sqrt(1.0 - _HOURLY_AR**2) * shocks[i]
    hourly_sigma = _HOURLY_SPREAD * zone.spread
    log_noise += hourly_sigma * ar - 0.5 * (variance + hourly_sigma**2)

    weekday = day.weekday()
    free = weekday == 6 or is_public_holiday(day)
    day_factor = 0.90 if free else 0.95 if weekday == 5 else 1.03
    shape = 1.0 + zone.shape * (
        (0.22 if weekday < 5 and not free else 0.08) * _bump(clock_h, 8.5, 1.4)
        + (0.15 + 0.12 * winter) * _bump(clock_h, 18.5, 2.0)
        - 0.22 * _bump(clock_h, 3.5, 2.2)
        - region.solar_dip * (1.0 - winter) * _bump(clock_h, 13.0, 2.5)
    )
    level = zone.mean * (1.0 + zone.seasonal * (2.0 * winter - 1.0))
    cold = np.exp(-_COLD_PER_C * heating * anomaly_c)
    price = level * day_factor * shape / shape.mean() * cold * np.exp(log_noise)

    spike_u, spike_at, spike_h, spike_x, neg_u, neg_at, neg_h, neg_x = _event_draws(
        seed, region.number, day.toordinal()
    )
    zone_u = rng.random(2)
    spike_chance = region.spike_rate * (0.2 + 0.8 * heating) * (1.0 + max(0.0, -anomaly_c) / 5)
    if spike_u < spike_chance:
        length_h = 1 + int(4 * spike_h)
        offset_h = clock_h - (18.5 if spike_at < 0.7 else 8.5) + length_h / 2
        window = (offset_h >= 0) & (offset_h < length_h)
        factor = 1.0 + (1.5 + 4.0 * spike_x) * zone.spread * (0.7 + 0.3 * zone_u[0])
        price[window] *= factor
    summer = 1.0 - float(winter.mean())
    neg_chance = region.negative_rate * summer**2 * (1.0 if weekday < 5 and not free else 1.6)
    if neg_u < neg_chance:
        length_h = 2 + int(5 * neg_h)
        offset_h = clock_h - (13.0 if neg_at < 0.6 else 3.5) + length_h / 2
        price[(offset_h >= -1) & (offset_h < length_h + 1)] *= 0.35
        window = (offset_h >= 0) & (offset_h < length_h)
        depth = (0.5 + 10.0 * neg_x**2) * zone.spread * (0.5 + zone_u[1])
        price[window] = -(0.01 + depth * (0.6 + 0.4 * rng.random(int(window.sum()))))
    return start_s, price


def _quarters(zone: _Zone, day: date, seed: int, hourly: FloatArray) -> FloatArray:
    """Four unrounded quarter-hour prices per hour, averaging exactly the hour's price."""
    slope = np.gradient(hourly) if hourly.size > 1 else np.zeros_like(hourly)
    ramp = np.outer(slope, (np.arange(4) - 1.5) / 4)
    rng = np.random.default_rng([seed, zone.number, _QUARTER_LAYER, day.toordinal()])
    wiggle = rng.standard_normal((hourly.size, 4)) * (0.02 * np.abs(hourly) + 0.3)[:, None]
    wiggle -= wiggle.mean(axis=1, keepdims=True)
    return (hourly[:, None] + ramp + wiggle).ravel()


def generate_prices(
    zones: Sequence[str], first: date, days: int, *, resolution_s: int = HOUR_S, seed: int = 0
) -> list[SpotPrice]:
    """Synthetic day-ahead prices for every market time unit of some local days.

    Args:
        zones: Bidding zones, ``NO1`` .. ``NO5``; each is generated once, whatever the order.
        first: The first local (Europe/Oslo) day.
        days: How many days, from ``first`` on.
        resolution_s: 3600 for hourly prices, 900 for quarter-hour prices. [s]
        seed: Non-negative; the same seed gives the same prices (and, through
            :func:`openams.sim.weather.day_weather`, cold spells in the same weather).

    Returns:
        The prices in EUR/MWh, rounded to 0.01, sorted by zone and then by time: 23, 24 or 25
        hours (92, 96 or 100 quarter-hours) for each zone and day.

    Raises:
        ValueError: an unknown zone or resolution, a negative ``days`` or ``seed``.
    """
    unknown = sorted(set(zones) - set(BIDDING_ZONES))
    if unknown:
        raise ValueError(f"unknown bidding zones {unknown}")
    if resolution_s not in (HOUR_S, QUARTER_S):
        raise ValueError(f"a market time unit is 3600 or 900 s, not {resolution_s}")
    if days < 0 or seed < 0:
        raise ValueError("days and seed must not be negative")
    out: list[SpotPrice] = []
    for name in sorted(set(zones)):
        zone = _ZONES[name]
        for offset in range(days):
            day = first + timedelta(days=offset)
            start_s, values = _hourly(zone, day, seed)
            if resolution_s == QUARTER_S:
                values = _quarters(zone, day, seed, values)
            rounded = np.round(values, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
            out.extend(
                SpotPrice(name, start_s + i * resolution_s, resolution_s, Decimal(f"{v:.2f}"))
                for i, v in enumerate(rounded.tolist())
            )
    return out

"""Synthetic weather for the simulator: temperature, cloud cover and solar irradiance.

One representative place per price area stands for the whole area: NO1 Oslo, NO2 Kristiansand,
NO3 Trondheim, NO4 Tromsø, NO5 Bergen. A day's weather is the sum of

    * a seasonal cycle through the place's monthly normal temperatures;
    * a daily cycle, warmest mid-afternoon solar time, larger in summer and under clear skies;
    * multi-day weather: smooth noise on two time scales (about five days and one and a half
      days), larger in winter, and now and then a winter cold spell of several days with clear
      skies (nights of -15 to -25 C in Oslo, Trondheim and Tromsø, about -10 C in Bergen);
    * cloud cover from smooth noise on two time scales (half a day and three hours);
    * global horizontal irradiance from the sun's elevation at the place (clear-sky model of
      Haurwitz), reduced for cloud cover (Kasten and Czeplak).

Invariants:
    * ``day_weather(area, day, seed)`` depends on its arguments only. Nothing is carried from one
      day to the next: the slow parts are smooth curves through random anchors, each drawn from
      ``numpy.random.default_rng([seed, area number, layer, anchor index])``. A day computed alone
      equals the same day computed in a sequence, and the series is continuous across midnight.
    * Quarter-hour ``i`` of a day is ``[00:00 + 15 i min, 00:00 + 15 (i + 1) min)`` UTC; its
      values are those at its midpoint.
    * Irradiance is zero whenever the sun's centre is below the horizon (no refraction).

References:
    B. Haurwitz, "Insolation in relation to cloud type", J. Meteorology 3 (1946) — clear-sky
    global horizontal irradiance ``1098 cos(z) exp(-0.057 / cos(z))`` W/m².
    F. Kasten and G. Czeplak, "Solar and terrestrial radiation dependent on the amount and type
    of cloud", Solar Energy 24 (1980) — ``G = G_clear (1 - 0.75 C^3.4)``.
    J. W. Spencer, "Fourier series representation of the position of the sun", Search 2 (1971) —
    declination and equation of time, as used in NOAA's solar position notes.
    Norwegian Meteorological Institute, monthly normals 1991-2020 (seklima.met.no), rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["PLACES", "QUARTERS_PER_DAY", "DayWeather", "Place", "day_weather"]

FloatArray: TypeAlias = npt.NDArray[np.float64]

#: Quarter-hours in a UTC day.
QUARTERS_PER_DAY = 96

_TROPICAL_YEAR_D = 365.2425
_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
# Mid-month positions, as fractions of a (non-leap) year, for the monthly normals.
_MID_MONTH = (
    np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
    / 365.0
)
_SUMMER_PEAK = 0.47  # year fraction of the June solstice
_WINTER_PEAK = 0.04  # year fraction of mid-January, the coldest part of the year

# Noise layers: (layer number, anchor spacing [d]).
_SLOW = (1, 5.0)
_SYNOPTIC = (2, 1.5)
_CLOUD_SLOW = (3, 0.5)
_CLOUD_FAST = (4, 0.125)
# Noise in logit space pulls the mean cloud cover towards one half; this offset restores it.
_CLOUD_BIAS = 0.8
_CLOUD_SLOW_SPREAD = 1.9
_CLOUD_FAST_SPREAD = 0.9
_COLD_SPELL_LAYER = 5
_COLD_SPELL_SLOT_D = 9
_COLD_SPELL_CHANCE = 0.3  # per slot, in the depth of winter
# A spell lasts five days on average with a raised-cosine shape (mean 1/2): the share of time
# an average spell takes out of a slot, used to keep the long-run mean at the normal.
_COLD_SPELL_SHARE = _COLD_SPELL_CHANCE * 5.0 * 0.5 / _COLD_SPELL_SLOT_D


@dataclass(frozen=True, slots=True)
class Place:
    """The representative place of a price area and its climate.

    Attributes:
        name: Place name.
        latitude_deg: Latitude, north positive. [°]
        longitude_deg: Longitude, east positive. [°]
        normal_c: Monthly normal temperatures, January to December. [°C]
        half_range_c: Half the mean daily temperature range in December and in June. [°C]
        anomaly_c: Standard deviation of the multi-day temperature anomaly in summer; winter's
            is 60 % larger. [°C]
        cold_spell_c: Smallest and largest drop of a mid-winter cold spell below normal. [°C]
        cloud_cover: Mean cloud cover in winter and in summer. [0..1]
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    normal_c: tuple[float, ...]
    half_range_c: tuple[float, float]
    anomaly_c: float
    cold_spell_c: tuple[float, float]
    cloud_cover: tuple[float, float]


#: The representative place of each price area.
PLACES: dict[str, Place] = {
    "NO1": Place(
        "Oslo",
        59.94,
        10.72,
        (-2.3, -2.0, 1.0, 5.7, 10.6, 14.7, 17.2, 16.0, 11.7, 6.1, 1.8, -1.7),
        (1.6, 4.8),
        2.3,
        (8.0, 17.0),
        (0.72, 0.55),
    ),
    "NO2": Place(
        "Kristiansand",
        58.20,
        8.08,
        (0.3, -0.1, 2.2, 6.2, 10.6, 14.3, 16.9, 16.4, 12.9, 8.0, 4.2, 1.2),
        (1.8, 4.2),
        2.0,
        (6.0, 12.0),
        (0.70, 0.55),
    ),
    "NO3": Place(
        "Trondheim",
        63.46,
        10.94,
        (-1.7, -1.5, 0.9, 4.8, 9.0, 12.5, 15.3, 14.7, 10.9, 5.8, 2.1, -0.9),
        (1.8, 4.5),
        2.3,
        (7.0, 15.0),
        (0.77, 0.65),
    ),
    "NO4": Place(
        "Tromsø",
        69.65,
        18.94,
        (-3.5, -3.6, -2.3, 0.7, 4.8, 9.0, 12.3, 11.4, 7.7, 3.1, -0.5, -2.6),
        (0.8, 2.8),
        2.1,
        (7.0, 13.0),
        (0.78, 0.70),
    ),
    "NO5": Place(
        "Bergen",
        60.38,
        5.33,
        (2.5, 2.3, 3.8, 6.9, 10.4, 13.3, 15.4, 15.2, 12.5, 8.6, 5.3, 3.0),
        (1.2, 3.2),
        1.6,
        (5.0, 10.0),
        (0.85, 0.74),
    ),
}
_AREA_NUMBER = {area: number for number, area in enumerate(sorted(PLACES), 1)}


@dataclass(frozen=True, slots=True, eq=False)
class DayWeather:
    """The weather of one UTC day at a price area's representative place.

    Each array has 96 read-only values, one per quarter-hour from 00:00 UTC of ``day``.
    Compare two of them array by array (``numpy.array_equal``): ``==`` is identity.

    Attributes:
        day: The UTC day.
        temperature_c: Air temperature. [°C]
        cloud_cover: Cloud cover fraction. [0..1]
        irradiance_w_m2: Global horizontal irradiance. [W/m²]
    """

    day: date
    temperature_c: FloatArray
    cloud_cover: FloatArray
    irradiance_w_m2: FloatArray


def _anchors(seed: int, area_number: int, layer: int, first: int, count: int) -> FloatArray:
    """Standard normal anchor values ``first .. first + count - 1`` of one noise layer."""
    values = [
        np.random.default_rng([seed, area_number, layer, index]).standard_normal()
        for index in range(first, first + count)
    ]
    return np.array(values, dtype=np.float64)


def _smooth_noise(
    seed: int, area_number: int, layer: tuple[int, float], t_d: FloatArray
) -> FloatArray:
    """Catmull-Rom curve through the layer's anchors at ``t_d`` (days, as date ordinals).

    The curve passes through each anchor and has a continuous slope; its spread is about 0.8
    of the anchors' standard deviation.
    """
    number, spacing_d = layer
    position = t_d / spacing_d
    cell = np.floor(position).astype(np.int64)
    first = int(cell.min()) - 1
    values = _anchors(seed, area_number, number, first, int(cell.max()) - first + 3)
    u = position - cell
    i = cell - first
    p0, p1, p2, p3 = values[i - 1], values[i], values[i + 1], values[i + 2]
    return 0.5 * (
        2.0 * p1
        + (p2 - p0) * u
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * u**2
        + (3.0 * (p1 - p2) + p3 - p0) * u**3
    )


def _winterness(year_fraction: FloatArray) -> FloatArray:
    """1 in mid-January, 0 in mid-July, smooth in between."""
    return 0.5 * (1.0 + np.cos(2.0 * math.pi * (year_fraction - _WINTER_PEAK)))


def _spell_weight(year_fraction: FloatArray) -> FloatArray:
    """How strong and likely cold spells are: 0 from April to October, 1 in deep winter."""
    return np.clip((_winterness(year_fraction) - 0.45) / 0.45, 0.0, 1.0)


def _cold_spells(seed: int, area_number: int, place: Place, t_d: FloatArray) -> FloatArray:
    """The temperature drop from cold spells at ``t_d``, zero or negative. [°C]

    Time is cut into slots of nine days; in each slot a spell happens with a chance that grows
    towards mid-winter, starts within the slot's first four days and lasts three to seven days.
    A spell has a raised-cosine shape, so it sets in and eases off over a day or two.
    """
    slot_first = int(t_d.min()) // _COLD_SPELL_SLOT_D - 2
    slot_last = int(t_d.max()) // _COLD_SPELL_SLOT_D
    depth_c = np.zeros_like(t_d)
    low_c, high_c = place.cold_spell_c
    for slot in range(slot_first, slot_last + 1):
        rng = np.random.default_rng([seed, area_number, _COLD_SPELL_LAYER, slot])
        chance, start_d, length_d, strength = rng.random(4)
        start = slot * _COLD_SPELL_SLOT_D + 4.0 * start_d
        length = 3.0 + 4.0 * length_d
        centre_fraction = ((start + length / 2 - _EPOCH_ORDINAL) / _TROPICAL_YEAR_D) % 1.0
        weight = float(_spell_weight(np.array([centre_fraction]))[0])
        if chance >= _COLD_SPELL_CHANCE * weight:
            continue
        phase = np.clip((t_d - start) / length, 0.0, 1.0)
        drop_c = -(low_c + (high_c - low_c) * strength) * weight
        depth_c = np.minimum(depth_c, drop_c * np.sin(math.pi * phase) ** 2)
    return depth_c


def _sun_cos_zenith(place: Place, t_d: FloatArray, year_fraction: FloatArray) -> FloatArray:
    """Cosine of the sun's zenith angle at the place at ``t_d`` (UTC)."""
    gamma = 2.0 * math.pi * year_fraction
    declination = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    equation_of_time_min = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    utc_h = (t_d % 1.0) * 24.0
    solar_h = utc_h + place.longitude_deg / 15.0 + equation_of_time_min / 60.0
    hour_angle = np.radians(15.0 * (solar_h - 12.0))
    latitude = math.radians(place.latitude_deg)
    return math.sin(latitude) * np.sin(declination) + math.cos(latitude) * np.cos(
        declination
    ) * np.cos(hour_angle)


def day_weather(area: str, day: date, seed: int) -> DayWeather:
    """The weather of one UTC day in a price area, per quarter-hour.

    Args:
        area: Price area, ``"NO1"`` to ``"NO5"``.
        day: The UTC day.
        seed: Seed of the weather; the same seed gives the same weather. Non-negative.

    Returns:
        Temperature, cloud cover and global horizontal irradiance at the midpoints of the
        day's 96 quarter-hours.

    Raises:
        ValueError: unknown area or a negative seed.
    """
    place = PLACES.get(area)
    if place is None:
        raise ValueError(f"unknown price area {area!r}; one of {', '.join(sorted(PLACES))}")
    if seed < 0:
        raise ValueError("seed must not be negative")
    number = _AREA_NUMBER[area]
    t_d = day.toordinal() + (np.arange(QUARTERS_PER_DAY) + 0.5) / QUARTERS_PER_DAY
    year_fraction = ((t_d - _EPOCH_ORDINAL) / _TROPICAL_YEAR_D) % 1.0
    winter = _winterness(year_fraction)
    summer = 0.5 * (1.0 + np.cos(2.0 * math.pi * (year_fraction - _SUMMER_PEAK)))

    spell_c = _cold_spells(seed, number, place, t_d)
    spell_weight = np.clip(-spell_c / place.cold_spell_c[0], 0.0, 1.0)

    winter_cloud, summer_cloud = place.cloud_cover
    mean_cloud = winter_cloud + (summer_cloud - winter_cloud) * summer
    cloud_logit = (
        np.log(mean_cloud / (1.0 - mean_cloud))
        + _CLOUD_BIAS
        + _CLOUD_SLOW_SPREAD * _smooth_noise(seed, number, _CLOUD_SLOW, t_d)
        + _CLOUD_FAST_SPREAD * _smooth_noise(seed, number, _CLOUD_FAST, t_d)
        - 2.5 * spell_weight
    )
    cloud = 1.0 / (1.0 + np.exp(-cloud_logit))

    cos_zenith = _sun_cos_zenith(place, t_d, year_fraction)
    solar_h = (t_d % 1.0) * 24.0 + place.longitude_deg / 15.0
    daily_shape = np.cos(2.0 * math.pi * (solar_h - 15.0) / 24.0)
    low_c, high_c = place.half_range_c
    half_range_c = (low_c + (high_c - low_c) * summer) * (1.3 - 0.6 * cloud)

    normal_c = np.interp(year_fraction, _MID_MONTH, np.array(place.normal_c), period=1.0)
    anomaly_c = (
        place.anomaly_c
        * (1.0 + 0.6 * winter)
        * (
            0.8 * _smooth_noise(seed, number, _SLOW, t_d)
            + 0.7 * _smooth_noise(seed, number, _SYNOPTIC, t_d)
        )
    )
    # Clear winter skies let the ground cool; clear summer skies let it warm.
    radiative_c = (2.5 * summer - 3.0 * winter) * (mean_cloud - cloud)
    # The normals include the cold spells: lift the rest by the spells' long-run mean.
    spell_mean_c = _COLD_SPELL_SHARE * _spell_weight(year_fraction) * sum(place.cold_spell_c) / 2
    temperature_c = (
        normal_c + spell_mean_c + half_range_c * daily_shape + anomaly_c + radiative_c + spell_c
    )

    cz = np.maximum(cos_zenith, 1e-3)
    clear_sky_w_m2 = np.where(cos_zenith > 0.0, 1098.0 * cz * np.exp(-0.057 / cz), 0.0)
    irradiance_w_m2 = clear_sky_w_m2 * (1.0 - 0.75 * cloud**3.4)

    arrays = (temperature_c, cloud, irradiance_w_m2)
    for array in arrays:
        array.setflags(write=False)
    return DayWeather(day, *arrays)

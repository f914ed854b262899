from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from openams.sim.weather import PLACES, QUARTERS_PER_DAY, DayWeather, day_weather

AREAS = sorted(PLACES)


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def _month_mean_c(area: str, year: int, month: int, seed: int) -> float:
    first = date(year, month, 1)
    days = [d for d in _days(first, 31) if d.month == month]
    return float(np.mean([day_weather(area, d, seed).temperature_c for d in days]))


def test_shapes_types_and_ranges():
    weather = day_weather("NO1", date(2025, 3, 14), seed=1)
    assert isinstance(weather, DayWeather)
    assert weather.day == date(2025, 3, 14)
    for values in (weather.temperature_c, weather.cloud_cover, weather.irradiance_w_m2):
        assert values.shape == (QUARTERS_PER_DAY,)
        assert values.dtype == np.float64
        assert np.isfinite(values).all()
        assert not values.flags.writeable
    assert ((weather.cloud_cover >= 0) & (weather.cloud_cover <= 1)).all()
    assert (weather.irradiance_w_m2 >= 0).all()
    assert -30 < weather.temperature_c.min() <= weather.temperature_c.max() < 25


@pytest.mark.parametrize("area", AREAS)
def test_january_is_colder_than_july(area):
    january_c = _month_mean_c(area, 2025, 1, seed=3)
    july_c = _month_mean_c(area, 2025, 7, seed=3)
    assert july_c - january_c > 8
    normal = PLACES[area].normal_c
    assert abs(july_c - normal[6]) < 4
    assert abs(january_c - normal[0]) < 7


def test_coast_is_milder_than_inland_in_winter():
    bergen = [_month_mean_c("NO5", 2025, month, seed=5) for month in (1, 2)]
    oslo = [_month_mean_c("NO1", 2025, month, seed=5) for month in (1, 2)]
    assert np.mean(bergen) > np.mean(oslo) + 2


def test_a_day_alone_equals_the_same_day_in_a_sequence():
    days = _days(date(2025, 1, 10), 8)
    in_sequence = [day_weather("NO3", d, seed=9) for d in days]
    day_weather("NO1", date(2031, 6, 1), seed=2)  # unrelated work in between
    alone = day_weather("NO3", days[-1], seed=9)
    last = in_sequence[-1]
    assert np.array_equal(alone.temperature_c, last.temperature_c)
    assert np.array_equal(alone.cloud_cover, last.cloud_cover)
    assert np.array_equal(alone.irradiance_w_m2, last.irradiance_w_m2)


def test_seed_and_area_change_the_weather():
    day = date(2025, 2, 3)
    base = day_weather("NO1", day, seed=1).temperature_c
    assert not np.array_equal(base, day_weather("NO1", day, seed=2).temperature_c)
    assert not np.array_equal(base, day_weather("NO2", day, seed=1).temperature_c)


@pytest.mark.parametrize(("area", "first"), [("NO1", date(2025, 1, 1)), ("NO4", date(2025, 6, 1))])
def test_continuous_across_midnight(area, first):
    weathers = [day_weather(area, d, seed=4) for d in _days(first, 40)]
    temperature_c = np.concatenate([w.temperature_c for w in weathers])
    cloud = np.concatenate([w.cloud_cover for w in weathers])
    steps_c = np.abs(np.diff(temperature_c))
    midnight = np.arange(QUARTERS_PER_DAY, temperature_c.size, QUARTERS_PER_DAY) - 1
    assert steps_c[midnight].max() < 0.8
    assert steps_c.max() < 1.0
    assert np.abs(np.diff(cloud))[midnight].max() < 0.2


def test_weather_moves_over_days():
    daily_c = [
        day_weather("NO1", d, seed=4).temperature_c.mean() for d in _days(date(2025, 1, 1), 60)
    ]
    assert np.std(daily_c) > 2.0
    assert np.max(np.abs(np.diff(daily_c))) < 8.0


def test_winters_have_cold_spells_inland_but_not_on_the_coast():
    oslo_c, bergen_c = [], []
    for seed in (1, 2, 3):
        for d in _days(date(2025, 12, 1), 90):
            oslo_c.append(day_weather("NO1", d, seed).temperature_c.min())
            bergen_c.append(day_weather("NO5", d, seed).temperature_c.min())
    assert -30 < min(oslo_c) < -12
    assert min(bergen_c) > min(oslo_c)
    assert min(bergen_c) > -16


def test_daily_range_is_larger_in_summer():
    def mean_range_c(month: int) -> float:
        days = _days(date(2025, month, 1), 28)
        return float(np.mean([np.ptp(day_weather("NO1", d, 6).temperature_c) for d in days]))

    assert mean_range_c(6) > 1.5 * mean_range_c(12)


def test_no_irradiance_at_night():
    for d in _days(date(2025, 1, 1), 365)[::7]:
        weather = day_weather("NO1", d, seed=2)
        # 22:00-01:30 UTC: the sun is below the horizon in Oslo all year round.
        assert (weather.irradiance_w_m2[:6] == 0).all()
        assert (weather.irradiance_w_m2[88:] == 0).all()


def test_polar_night_in_tromso():
    for d in _days(date(2025, 12, 1), 38):
        assert (day_weather("NO4", d, seed=2).irradiance_w_m2 == 0).all(), d


def test_midnight_sun_in_tromso():
    weather = day_weather("NO4", date(2025, 6, 21), seed=2)
    assert (weather.irradiance_w_m2 > 0).all()


def test_sun_at_noon_in_june_everywhere():
    for area in AREAS:
        for d in _days(date(2025, 6, 10), 20):
            irradiance = day_weather(area, d, seed=8).irradiance_w_m2
            noon = irradiance[40:52]  # 10:00-13:00 UTC
            assert noon.min() > 80
        assert irradiance.max() < 1000


def test_oslo_annual_irradiance_is_plausible():
    days = _days(date(2025, 1, 1), 365)
    total_kwh_m2 = sum(day_weather("NO1", d, 1).irradiance_w_m2.sum() for d in days) / 4000
    assert 800 < total_kwh_m2 < 1100


def test_bad_arguments():
    with pytest.raises(ValueError, match="price area"):
        day_weather("SE3", date(2025, 1, 1), 1)
    with pytest.raises(ValueError, match="seed"):
        day_weather("NO1", date(2025, 1, 1), -1)

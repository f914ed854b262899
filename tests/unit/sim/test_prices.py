from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import fmean, median
from zoneinfo import ZoneInfo

import pytest

from openams.domain.calendar import is_public_holiday
from openams.domain.prices import BIDDING_ZONES, HOUR_S, QUARTER_S, SpotPrice, hourly_prices
from openams.sim.prices import generate_prices

OSLO = ZoneInfo("Europe/Oslo")
SEED = 7


@pytest.fixture(scope="module")
def year() -> dict[str, list[SpotPrice]]:
    """A year of hourly prices for every zone, by zone."""
    by_zone: dict[str, list[SpotPrice]] = defaultdict(list)
    for price in generate_prices(BIDDING_ZONES, date(2026, 1, 1), 365, seed=SEED):
        by_zone[price.zone].append(price)
    return dict(by_zone)


def _local(price: SpotPrice) -> datetime:
    return datetime.fromtimestamp(price.start_at_s, OSLO)


def _mean(prices: list[SpotPrice]) -> float:
    return fmean(float(p.price_per_mwh) for p in prices)


def test_the_same_arguments_give_the_same_prices():
    first = generate_prices(["NO2", "NO4"], date(2026, 2, 1), 3, seed=3)
    again = generate_prices(["NO2", "NO4"], date(2026, 2, 1), 3, seed=3)
    other = generate_prices(["NO2", "NO4"], date(2026, 2, 1), 3, seed=4)
    assert first == again
    assert first != other


@pytest.mark.parametrize("resolution_s", [HOUR_S, QUARTER_S])
def test_a_day_alone_equals_the_same_day_in_a_longer_run(resolution_s):
    day = date(2026, 1, 20)
    run = generate_prices(
        ["NO1", "NO3"], date(2026, 1, 5), 30, resolution_s=resolution_s, seed=SEED
    )
    generate_prices(["NO5"], date(2031, 7, 1), 2, seed=1)  # unrelated work in between
    alone = generate_prices(["NO3"], day, 1, resolution_s=resolution_s, seed=SEED)
    same_day = [p for p in run if p.zone == "NO3" and _local(p).date() == day]
    assert alone == same_day
    assert len(alone) == 24 * HOUR_S // resolution_s


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 6, 10), 24), (date(2026, 10, 25), 25)],
)
@pytest.mark.parametrize("resolution_s", [HOUR_S, QUARTER_S])
def test_units_follow_the_local_day(day, hours, resolution_s):
    prices = generate_prices(["NO1"], day, 1, resolution_s=resolution_s)
    assert len(prices) == hours * HOUR_S // resolution_s
    assert _local(prices[0]).date() == day
    assert (_local(prices[0]).hour, _local(prices[0]).minute) == (0, 0)
    end_s = prices[-1].start_at_s + resolution_s
    end = datetime.fromtimestamp(end_s, OSLO)
    assert (end.date(), end.hour, end.minute) == (day + timedelta(days=1), 0, 0)
    starts = [p.start_at_s for p in prices]
    assert starts == list(range(starts[0], end_s, resolution_s))
    assert {p.resolution_s for p in prices} == {resolution_s}


def test_sorted_by_zone_then_time_and_each_zone_once():
    prices = generate_prices(["NO5", "NO1", "NO3", "NO1"], date(2026, 4, 1), 2)
    keys = [(p.zone, p.start_at_s) for p in prices]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys) == 3 * 48
    assert [p.zone for p in prices[::48]] == ["NO1", "NO3", "NO5"]


def test_prices_are_decimals_with_two_decimals_in_eur(year):
    for prices in year.values():
        for price in prices:
            assert type(price.price_per_mwh) is Decimal
            assert price.price_per_mwh == price.price_per_mwh.quantize(Decimal("0.01"))
            assert price.price_per_mwh.as_tuple().exponent == -2
            assert price.currency == "EUR"


def test_winter_is_dearer_than_summer_in_no1(year):
    winter = [p for p in year["NO1"] if _local(p).month in (1, 2, 12)]
    summer = [p for p in year["NO1"] if _local(p).month in (6, 7, 8)]
    assert _mean(winter) > 1.5 * _mean(summer)


def test_the_north_is_cheaper_than_the_south(year):
    means = {zone: _mean(prices) for zone, prices in year.items()}
    assert means["NO4"] < means["NO3"] < min(means["NO1"], means["NO2"], means["NO5"])
    assert means["NO4"] < 0.6 * means["NO1"]
    assert 30 < means["NO1"] < 90
    assert 10 < means["NO4"] < 35


def test_workdays_are_dearer_than_weekends_and_holidays(year):
    workdays: list[SpotPrice] = []
    free: list[SpotPrice] = []
    for price in year["NO1"]:
        day = _local(price).date()
        is_free = day.weekday() >= 5 or is_public_holiday(day)
        (free if is_free else workdays).append(price)
    assert _mean(workdays) > 1.05 * _mean(free)


def test_evening_peak_above_night_trough(year):
    evening = [p for p in year["NO1"] if _local(p).hour in (17, 18, 19)]
    night = [p for p in year["NO1"] if _local(p).hour in (2, 3, 4)]
    assert _mean(evening) > 1.2 * _mean(night)


def test_negative_hours_and_spikes_happen_but_rarely(year):
    negative = spikes = 0
    for prices in year.values():
        values = [p.price_per_mwh for p in prices]
        level = median(values)
        zone_negative = sum(1 for v in values if v < 0)
        zone_spikes = sum(1 for v in values if v > 3 * level)
        assert zone_negative < 0.03 * len(values)
        assert zone_spikes < 0.03 * len(values)
        negative += zone_negative
        spikes += zone_spikes
    assert negative >= 1
    assert spikes >= 1


def test_quarter_hours_average_to_the_hour():
    first, days = date(2026, 1, 12), 10  # includes the cold of January
    hourly = generate_prices(BIDDING_ZONES, first, days, seed=SEED)
    quarters = generate_prices(BIDDING_ZONES, first, days, resolution_s=QUARTER_S, seed=SEED)
    averaged = hourly_prices(quarters)
    assert [(p.zone, p.start_at_s) for p in averaged] == [(p.zone, p.start_at_s) for p in hourly]
    for hour, average in zip(hourly, averaged, strict=True):
        assert abs(average.price_per_mwh - hour.price_per_mwh) <= Decimal("0.01")


def test_quarter_hours_vary_within_the_hour():
    quarters = generate_prices(["NO1"], date(2026, 11, 3), 1, resolution_s=QUARTER_S)
    changed = sum(
        1
        for a, b in zip(quarters[::4], quarters[1::4], strict=True)
        if a.price_per_mwh != b.price_per_mwh
    )
    assert changed > 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"zones": ["NO6"]}, "unknown bidding zones"),
        ({"resolution_s": 1800}, "3600 or 900"),
        ({"days": -1}, "must not be negative"),
        ({"seed": -1}, "must not be negative"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"zones": ["NO1"], "first": date(2026, 1, 1), "days": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        generate_prices(**arguments)


def test_no_days_gives_no_prices():
    assert generate_prices(["NO1"], date(2026, 1, 1), 0) == []

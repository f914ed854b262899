from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from openams.sim.grid import MeteringPoint
from openams.sim.load import CUSTOMER_ORDER, DayLoad, LoadModel, fuse_limit_w
from openams.sim.weather import QUARTERS_PER_DAY, day_weather

OSLO = ZoneInfo("Europe/Oslo")
YEAR = 2025
PER_TYPE = 50
FUSES_A = {
    "detached_house": (40, 50, 63),
    "apartment": (25, 32, 40),
    "cabin": (25, 32, 40),
    "farm": (50, 63),
    "small_business": (40, 50, 63),
    "prosumer_solar": (40, 50, 63),
}
# Annual import per customer type, plausible for Norway (mean over the points). [MWh]
ANNUAL_MWH = {
    "detached_house": (15, 25),
    "apartment": (5, 9),
    "cabin": (2, 6),
    "farm": (25, 60),
    "small_business": (30, 120),
    "prosumer_solar": (8, 22),
}


def _point(number: int, kind: str, fuse_a: int, phases: int, grid_type: str) -> MeteringPoint:
    return MeteringPoint(
        f"7070575000{number:07d}0",
        "NS-NO1-00001",
        f"C{number:08d}",
        kind,
        "Storgata",
        "1",
        "0150",
        "Oslo",
        "NO1",
        fuse_a,
        phases,
        grid_type,
    )


def _points(per_type: int = PER_TYPE) -> list[MeteringPoint]:
    """Customer types interleaved, with every fuse, both phase counts and both grid types."""
    points: list[MeteringPoint] = []
    for i in range(per_type):
        for kind in CUSTOMER_ORDER:
            fuses = FUSES_A[kind]
            phases = 3 if kind in ("farm", "small_business") or i % 3 else 1
            grid_type = "TN" if i % 4 == 0 else "IT"
            points.append(_point(len(points), kind, fuses[i % len(fuses)], phases, grid_type))
    return points


def _local_hours(day: date) -> np.ndarray:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return np.array([(start + timedelta(minutes=15 * q)).astimezone(OSLO).hour for q in range(96)])


@dataclass
class Year:
    """A year of a few hundred points, reduced to what the tests look at."""

    points: list[MeteringPoint]
    kinds: np.ndarray
    limit_wh: np.ndarray
    annual_wh: np.ndarray
    monthly_wh: np.ndarray  # (12, points)
    export_wh: np.ndarray
    monthly_export_wh: np.ndarray
    reactive_import_varh: np.ndarray
    reactive_export_varh: np.ndarray
    peak_ratio: float = 0.0  # highest quarter-hour energy over the fuse's
    peak_export_ratio: float = 0.0
    all_finite_and_non_negative: bool = True
    export_in_the_dark_wh: float = 0.0
    export_outside_prosumers_wh: float = 0.0
    apartment_by_local_hour_wh: np.ndarray = field(default_factory=lambda: np.zeros(24))
    days: dict[date, DayLoad] = field(default_factory=dict)


KEEP_DAYS = {
    date(YEAR, 1, 14),  # ordinary winter Tuesdays
    date(YEAR, 1, 21),
    date(YEAR, 1, 28),
    date(YEAR, 2, 4),
    date(YEAR, 1, 18),  # ordinary winter Saturdays
    date(YEAR, 1, 25),
    date(YEAR, 2, 1),
    date(YEAR, 2, 8),
    date(YEAR, 2, 19),  # Wednesday of the winter school holiday (week 8 in NO1)
    date(YEAR, 4, 16),  # Wednesday before Easter
    date(YEAR, 3, 4),  # a Tuesday and a Sunday in March
    date(YEAR, 3, 9),
}


@pytest.fixture(scope="module")
def year() -> Year:
    points = _points()
    n = len(points)
    model = LoadModel(points, seed=21, block=3)
    kinds = np.array([p.customer_type for p in points])
    result = Year(
        points=points,
        kinds=kinds,
        limit_wh=np.array([fuse_limit_w(p) for p in points]) / 4,
        annual_wh=np.zeros(n),
        monthly_wh=np.zeros((12, n)),
        export_wh=np.zeros(n),
        monthly_export_wh=np.zeros((12, n)),
        reactive_import_varh=np.zeros(n),
        reactive_export_varh=np.zeros(n),
    )
    apartments = kinds == "apartment"
    prosumers = kinds == "prosumer_solar"
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        weather = day_weather("NO1", day, seed=21)
        load = model.day(day, weather)
        arrays = (
            load.import_wh,
            load.export_wh,
            load.reactive_import_varh,
            load.reactive_export_varh,
        )
        for values in arrays:
            assert values.shape == (n, QUARTERS_PER_DAY)
            assert values.dtype == np.float64
            if not (np.isfinite(values).all() and (values >= 0).all()):
                result.all_finite_and_non_negative = False
        result.annual_wh += load.import_wh.sum(axis=1)
        result.monthly_wh[day.month - 1] += load.import_wh.sum(axis=1)
        result.export_wh += load.export_wh.sum(axis=1)
        result.monthly_export_wh[day.month - 1] += load.export_wh.sum(axis=1)
        result.reactive_import_varh += load.reactive_import_varh.sum(axis=1)
        result.reactive_export_varh += load.reactive_export_varh.sum(axis=1)
        result.peak_ratio = max(
            result.peak_ratio, float((load.import_wh / result.limit_wh[:, None]).max())
        )
        result.peak_export_ratio = max(
            result.peak_export_ratio, float((load.export_wh / result.limit_wh[:, None]).max())
        )
        result.export_in_the_dark_wh += float(load.export_wh[:, weather.irradiance_w_m2 == 0].sum())
        result.export_outside_prosumers_wh += float(load.export_wh[~prosumers].sum())
        np.add.at(
            result.apartment_by_local_hour_wh,
            _local_hours(day),
            load.import_wh[apartments].mean(axis=0),
        )
        if day in KEEP_DAYS:
            result.days[day] = load
        day += timedelta(days=1)
    return result


def _mean_kw(load: DayLoad, rows: np.ndarray) -> np.ndarray:
    """Each selected point's mean power over the day. [kW]"""
    mean_kw: np.ndarray = load.import_wh[rows].sum(axis=1) / 24 / 1000
    return mean_kw


def test_every_value_is_finite_and_non_negative(year):
    assert year.all_finite_and_non_negative


def test_never_above_the_main_fuse(year):
    assert year.peak_ratio <= 1.0
    assert year.peak_export_ratio <= 1.0
    assert year.peak_ratio > 0.5  # the limit is near enough to matter


def test_clipped_at_the_main_fuse_when_the_fuse_is_small():
    # A detached house behind a 10 A single-phase fuse (2.3 kW) in January: often clipped.
    point = _point(1, "detached_house", 10, 1, "IT")
    model = LoadModel([point] * 20, seed=1, block=0)
    day = date(YEAR, 1, 20)
    load = model.day(day, day_weather("NO1", day, 1))
    limit_wh = 230 * 10 / 4
    assert load.import_wh.max() <= limit_wh
    assert (load.import_wh > limit_wh * (1 - 1e-6)).sum() > 100


@pytest.mark.parametrize("kind", CUSTOMER_ORDER)
def test_annual_energy_is_plausible(year, kind):
    low, high = ANNUAL_MWH[kind]
    annual_mwh = year.annual_wh[year.kinds == kind] / 1e6
    assert low <= annual_mwh.mean() <= high
    assert low <= np.median(annual_mwh) <= high
    assert annual_mwh.min() > 0.3 * low


def test_houses_vary(year):
    annual_mwh = year.annual_wh[year.kinds == "detached_house"] / 1e6
    assert annual_mwh.std() > 1.5


@pytest.mark.parametrize("kind", ["detached_house", "apartment", "prosumer_solar"])
def test_january_is_at_least_twice_july_for_heated_homes(year, kind):
    rows = year.kinds == kind
    assert year.monthly_wh[0, rows].sum() >= 2 * year.monthly_wh[6, rows].sum()


def test_summer_lower_than_winter_for_everyone(year):
    for kind in CUSTOMER_ORDER:
        rows = year.kinds == kind
        assert year.monthly_wh[0, rows].sum() > year.monthly_wh[6, rows].sum(), kind


def test_prosumers_import_less_in_summer_and_export_on_sunny_days(year):
    prosumers = year.kinds == "prosumer_solar"
    houses = year.kinds == "detached_house"
    june_july = year.monthly_wh[5:7, prosumers].sum()
    house_june_july = year.monthly_wh[5:7, houses].sum()
    assert june_july < 0.75 * house_june_july
    assert june_july < 0.3 * year.monthly_wh[np.ix_([0, 11], prosumers)].sum()
    exported = year.monthly_export_wh[:, prosumers].sum(axis=1)
    assert exported[5] > 10 * exported[11]
    assert (year.export_wh[prosumers] > 1e6).all()  # each exports more than a MWh a year


def test_export_only_for_prosumers_and_only_in_daylight(year):
    assert year.export_outside_prosumers_wh == 0
    assert year.export_in_the_dark_wh == 0
    assert (year.export_wh[year.kinds != "prosumer_solar"] == 0).all()


def test_reactive_energy_is_a_share_of_active(year):
    share = year.reactive_import_varh / year.annual_wh
    assert ((share > 0.01) & (share < 0.4)).all()
    assert year.reactive_export_varh.sum() > 0
    assert year.reactive_export_varh.sum() < 0.1 * year.reactive_import_varh.sum()


def test_apartments_use_more_in_the_evening_than_at_night(year):
    by_hour = year.apartment_by_local_hour_wh
    evening = by_hour[17:21].mean()
    night = by_hour[2:6].mean()
    assert evening > 1.6 * night
    assert by_hour[18] > by_hour[11]


def test_cabins_idle_on_winter_tuesdays_but_used_on_weekends(year):
    cabins = year.kinds == "cabin"
    tuesdays = [date(YEAR, 1, 14), date(YEAR, 1, 21), date(YEAR, 1, 28), date(YEAR, 2, 4)]
    saturdays = [date(YEAR, 1, 18), date(YEAR, 1, 25), date(YEAR, 2, 1), date(YEAR, 2, 8)]
    tuesday_used = [(_mean_kw(year.days[d], cabins) > 1.0).mean() for d in tuesdays]
    saturday_used = [(_mean_kw(year.days[d], cabins) > 1.0).mean() for d in saturdays]
    assert max(tuesday_used) <= 0.05
    assert np.mean(saturday_used) >= 0.12
    assert np.median(_mean_kw(year.days[tuesdays[0]], cabins)) < 0.8
    winter_break = (_mean_kw(year.days[date(YEAR, 2, 19)], cabins) > 1.0).mean()
    easter = (_mean_kw(year.days[date(YEAR, 4, 16)], cabins) > 0.6).mean()
    ordinary_march = (_mean_kw(year.days[date(YEAR, 3, 4)], cabins) > 0.6).mean()
    assert winter_break >= 0.2
    assert easter >= 0.3 > ordinary_march


def test_businesses_busier_on_weekday_daytime_than_on_sunday(year):
    business = year.kinds == "small_business"
    tuesday, sunday = year.days[date(YEAR, 3, 4)], year.days[date(YEAR, 3, 9)]
    daytime = (_local_hours(date(YEAR, 3, 4)) >= 10) & (_local_hours(date(YEAR, 3, 4)) < 14)
    weekday_kw = tuesday.import_wh[np.ix_(business, daytime)].mean()
    sunday_kw = sunday.import_wh[np.ix_(business, daytime)].mean()
    assert weekday_kw > 2 * sunday_kw
    night = _local_hours(date(YEAR, 3, 4)) == 3
    assert (
        tuesday.import_wh[np.ix_(business, daytime)].mean()
        > 2 * tuesday.import_wh[np.ix_(business, night)].mean()
    )


def test_farms_work_in_the_barn_morning_and_evening(year):
    farms = year.kinds == "farm"
    load = year.days[date(YEAR, 3, 9)]  # a Sunday: the animals do not know
    hours = _local_hours(date(YEAR, 3, 9))
    by_hour = np.array([load.import_wh[np.ix_(farms, hours == h)].mean() for h in range(1, 24)])
    assert by_hour[6 - 1] > 1.3 * by_hour[12 - 1]
    assert by_hour[17 - 1] > 1.3 * by_hour[12 - 1]


def test_a_day_alone_equals_the_same_day_after_others():
    points = _points(8)
    first = date(YEAR, 1, 1)
    days = [first + timedelta(days=i) for i in range(20)]
    in_sequence = LoadModel(points, seed=5, block=2)
    for d in days:
        last = in_sequence.day(d, day_weather("NO1", d, 5))
    alone = LoadModel(points, seed=5, block=2).day(days[-1], day_weather("NO1", days[-1], 5))
    for name in ("import_wh", "export_wh", "reactive_import_varh", "reactive_export_varh"):
        assert np.array_equal(getattr(alone, name), getattr(last, name)), name
    # and backwards, out of order, again
    again = in_sequence.day(days[3], day_weather("NO1", days[3], 5))
    fresh = LoadModel(points, seed=5, block=2).day(days[3], day_weather("NO1", days[3], 5))
    assert np.array_equal(again.import_wh, fresh.import_wh)


def test_seed_and_block_change_the_load():
    points = _points(4)
    day = date(YEAR, 2, 2)
    weather = day_weather("NO1", day, 1)
    base = LoadModel(points, seed=1, block=0).day(day, weather).import_wh
    assert not np.array_equal(base, LoadModel(points, seed=2, block=0).day(day, weather).import_wh)
    assert not np.array_equal(base, LoadModel(points, seed=1, block=1).day(day, weather).import_wh)


def test_rows_follow_the_points():
    points = _points(6)
    day = date(YEAR, 6, 20)
    load = LoadModel(points, seed=3, block=0).day(day, day_weather("NO1", day, 3))
    kinds = np.array([p.customer_type for p in points])
    exporting = load.export_wh.sum(axis=1) > 0
    assert set(kinds[exporting]) == {"prosumer_solar"}
    assert exporting[kinds == "prosumer_solar"].all()


def test_daylight_saving_days_have_96_quarters():
    points = _points(3)
    kinds = np.array([p.customer_type for p in points])
    model = LoadModel(points, seed=3, block=0)
    for day in (date(YEAR, 3, 30), date(YEAR, 10, 26)):
        load = model.day(day, day_weather("NO1", day, 3))
        assert load.import_wh.shape == (len(points), 96)
        assert (load.import_wh[kinds != "prosumer_solar"] > 0).all()


def test_no_points():
    load = LoadModel([], seed=1, block=0).day(
        date(YEAR, 1, 1), day_weather("NO1", date(YEAR, 1, 1), 1)
    )
    assert load.import_wh.shape == (0, 96)


def test_bad_arguments():
    point = _point(1, "detached_house", 50, 3, "TN")
    with pytest.raises(ValueError, match="customer type"):
        LoadModel([replace(point, customer_type="castle")], seed=1, block=0)
    with pytest.raises(ValueError, match="negative"):
        LoadModel([point], seed=-1, block=0)
    with pytest.raises(ValueError, match="weather"):
        LoadModel([point], seed=1, block=0).day(
            date(YEAR, 1, 2), day_weather("NO1", date(YEAR, 1, 1), 1)
        )


@pytest.mark.parametrize(
    ("phases", "grid_type", "fuse_a", "expected_w"),
    [
        (3, "TN", 63, 3**0.5 * 400 * 63),
        (3, "IT", 40, 3**0.5 * 230 * 40),
        (1, "IT", 25, 230 * 25),
        (1, "TN", 32, 230 * 32),
    ],
)
def test_fuse_limit(phases, grid_type, fuse_a, expected_w):
    point = _point(1, "apartment", fuse_a, phases, grid_type)
    assert fuse_limit_w(point) == pytest.approx(expected_w)

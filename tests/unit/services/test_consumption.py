"""The consumption chart's series: local days of 23, 24 or 25 hours, quarter-hours where
metered, sums that equal the hours under them, estimates marked, the year before, and only
the days the customer was supplied."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.services.consumption import (
    MAX_DAYS,
    PeriodRefused,
    chart_position_s,
    consumption,
    default_resolution,
    last_year,
    period_problem,
)
from openams.services.values import StoredValue

OSLO = ZoneInfo("Europe/Oslo")
MP = "707057500000000017"
STATUSES = ("measured", "estimated", "final_estimated", "temporary", "rejected", "missing")


class FakeStore:
    def __init__(self, values):
        self.stored = values
        self.calls = 0

    def values(self, metering_point_id, start_s, end_s):
        assert metering_point_id == MP
        self.calls += 1
        return [v for v in self.stored if start_s <= v.start_at_s < end_s]


def _midnight_s(day):
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())


def _intervals(first, last, step_s, wh=1000, status="measured"):
    start, end = _midnight_s(first), _midnight_s(last + timedelta(days=1))
    return [StoredValue(t, step_s, wh, 0, status) for t in range(start, end, step_s)]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 3, 30), 24), (date(2026, 10, 25), 25)],
)
def test_a_local_day_has_23_24_or_25_hours_and_its_sum(day, hours):
    store = FakeStore(_intervals(day, day, 3600))
    series = consumption(store, MP, day, day, "hour")
    assert len(series.points) == hours
    assert series.points[0].start == datetime(day.year, day.month, day.day, tzinfo=OSLO)
    assert series.points[-1].end == datetime(day.year, day.month, day.day, tzinfo=OSLO) + (
        timedelta(days=1)
    )
    (total,) = consumption(store, MP, day, day, "day").points
    assert (total.import_wh, total.intervals, total.missing) == (1000 * hours, hours, 0)
    assert total.start == datetime(day.year, day.month, day.day, tzinfo=OSLO)
    assert total.end.date() == day + timedelta(days=1)


def test_quarter_hours_where_metered_and_hours_from_them():
    day = date(2026, 10, 25)
    stored = _intervals(day, day, 900, wh=250)
    # 02:00-02:15 of the second (winter-time) pass is estimated; one quarter at 05 rejected
    second_pass = _midnight_s(day) + 3 * 3600
    stored = [
        StoredValue(v.start_at_s, 900, 300, 0, "estimated")
        if v.start_at_s == second_pass
        else StoredValue(v.start_at_s, 900, 250, 0, "rejected")
        if v.start_at_s == _midnight_s(day) + 6 * 3600 + 900
        else v
        for v in stored
    ]
    store = FakeStore(stored)
    quarters = consumption(store, MP, day, day, "quarter")
    assert quarters.quarter_metered
    assert len(quarters.points) == 100
    assert [p.estimated for p in quarters.points].count(True) == 1
    assert quarters.missing == 1
    hours = consumption(store, MP, day, day, "hour")
    assert len(hours.points) == 25
    repeated = hours.points[3]  # 02:00-03:00 winter time, the hour told twice
    assert (repeated.start.hour, repeated.start.fold) == (2, 1)
    assert (repeated.import_wh, repeated.estimated_wh) == (1050, 300)
    assert hours.points[6].import_wh is None  # a rejected quarter spoils its hour
    assert hours.missing == 1
    assert hours.estimated_wh == quarters.estimated_wh == 300


def test_quarter_hours_are_refused_where_not_metered_but_follow_the_push_interval():
    day = date(2026, 1, 12)
    store = FakeStore(_intervals(day, day, 3600))
    with pytest.raises(PeriodRefused) as refused:
        consumption(store, MP, day, day, "quarter")
    assert refused.value.code == "no_quarters"
    pushed = consumption(store, MP, day, day, "quarter", push_interval_s=900)
    assert len(pushed.points) == 96
    assert all(p.import_wh is None for p in pushed.points)  # metered, not yet stored


@pytest.mark.parametrize(
    ("first", "last", "resolution", "code"),
    [
        (date(2026, 1, 2), date(2026, 1, 1), "hour", "order"),
        (date(2025, 1, 1), date(2026, 2, 5), "day", "too_long"),
        (date(2026, 1, 1), date(2026, 2, 5), "quarter", "quarter_too_long"),
        (date(2026, 1, 1), date(2026, 1, 1), "week", "resolution"),
        (date(2026, 1, 1), date(2026, 1, 1), "<script>", "resolution"),
    ],
)
def test_periods_that_cannot_be_shown_are_refused(first, last, resolution, code):
    assert period_problem(first, last, resolution, quarter_metered=True) == code
    with pytest.raises(PeriodRefused) as refused:
        consumption(FakeStore([]), MP, first, last, resolution, push_interval_s=900)
    assert refused.value.code == code
    assert isinstance(refused.value, ValueError)


def test_the_longest_period_is_accepted():
    first = date(2025, 1, 1)
    last = first + timedelta(days=MAX_DAYS - 1)
    assert period_problem(first, last, "month", quarter_metered=False) is None
    assert period_problem(first, last + timedelta(days=1), "month", quarter_metered=False) == (
        "too_long"
    )


def test_the_default_resolution_follows_the_length():
    day = date(2026, 1, 1)
    assert default_resolution(day, day, quarter_metered=True) == "quarter"
    assert default_resolution(day, day + timedelta(days=6), quarter_metered=False) == "hour"
    assert default_resolution(day, day + timedelta(days=30), quarter_metered=True) == "day"
    assert default_resolution(day, day + timedelta(days=200), quarter_metered=True) == "month"
    store = FakeStore(_intervals(day, day + timedelta(days=1), 3600))
    assert consumption(store, MP, day, day + timedelta(days=1), None).resolution == "hour"


def test_last_year_is_the_same_days_and_29_february_becomes_the_28th():
    assert last_year(date(2026, 1, 5), date(2026, 1, 11)) == (date(2025, 1, 5), date(2025, 1, 11))
    assert last_year(date(2028, 2, 1), date(2028, 2, 29)) == (date(2027, 2, 1), date(2027, 2, 28))


def test_the_year_before_is_read_and_summed_the_same_way():
    stored = _intervals(date(2025, 1, 1), date(2025, 1, 31), 3600, wh=800)
    stored += _intervals(date(2026, 1, 1), date(2026, 1, 10), 3600, wh=1000)
    store = FakeStore(stored)
    found = consumption(store, MP, date(2026, 1, 1), date(2026, 1, 10), "day")
    assert (found.last_year_first, found.last_year_last) == (date(2025, 1, 1), date(2025, 1, 10))
    assert [p.import_wh for p in found.last_year] == [800 * 24] * 10
    assert found.last_year_import_wh == 800 * 240
    assert found.import_wh == 1000 * 240
    empty = consumption(FakeStore(stored[744:]), MP, date(2026, 1, 1), date(2026, 1, 10), "day")
    assert empty.last_year_import_wh is None
    assert empty.last_year_import_kwh is None


def test_months_are_clipped_to_the_period():
    store = FakeStore(_intervals(date(2025, 12, 1), date(2026, 2, 28), 3600))
    found = consumption(store, MP, date(2025, 12, 20), date(2026, 2, 3), "month")
    assert [(p.start.date(), p.end.date()) for p in found.points] == [
        (date(2025, 12, 20), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 2, 4)),
    ]
    assert [p.import_wh for p in found.points] == [12 * 24_000, 31 * 24_000, 3 * 24_000]


def test_only_the_days_the_customer_was_supplied_are_shown():
    stored = _intervals(date(2025, 1, 1), date(2025, 1, 31), 3600)
    stored += _intervals(date(2026, 1, 1), date(2026, 1, 31), 3600)
    store = FakeStore(stored)
    supplied = ((date(2025, 1, 20), date(2026, 1, 15)),)  # moved in on 20 January 2025
    found = consumption(store, MP, date(2026, 1, 10), date(2026, 1, 25), "day", supplied=supplied)
    assert [p.start.date() for p in found.points] == [date(2026, 1, d) for d in range(10, 16)]
    assert [p.start.date() for p in found.last_year] == [date(2025, 1, d) for d in range(20, 26)]
    months = consumption(store, MP, date(2026, 1, 1), date(2026, 1, 31), "month", supplied=())
    assert months.points == months.last_year == ()


def test_chart_positions_follow_the_wall_clock_and_fit_the_repeated_hour():
    day = date(2026, 10, 25)
    store = FakeStore(_intervals(day, day, 3600))
    points = consumption(store, MP, day, day, "hour").points
    positions = [(chart_position_s(p.start), chart_position_s(p.end)) for p in points]
    assert all(a < b for a, b in positions)
    assert all(positions[i][1] == positions[i + 1][0] for i in range(len(positions) - 1))
    assert positions[-1][1] - positions[0][0] == 86_400  # 25 hours on one day of the axis
    assert [b - a for a, b in positions].count(1800) == 2  # the hour told twice, halved
    spring = consumption(FakeStore(_intervals(date(2026, 3, 29), date(2026, 3, 29), 3600)),
                         MP, date(2026, 3, 29), date(2026, 3, 29), "hour").points  # fmt: skip
    gap = [chart_position_s(p.start) % 86_400 // 3600 for p in spring]
    assert 2 not in gap  # 02:00-03:00 does not exist on that day
    assert chart_position_s(datetime(2026, 1, 20, 17, tzinfo=OSLO)) == int(
        datetime(2026, 1, 20, 17).replace(tzinfo=ZoneInfo("UTC")).timestamp()
    )


@st.composite
def _stored(draw):
    first = draw(st.dates(date(2025, 1, 1), date(2026, 12, 31)))
    days = draw(st.integers(1, 40))
    last = first + timedelta(days=days - 1)
    step_s = draw(st.sampled_from([900, 3600]))
    start, end = _midnight_s(first), _midnight_s(last + timedelta(days=1))
    count = (end - start) // step_s
    present = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=count, max_size=count))
    amounts = draw(st.lists(st.integers(0, 20_000), min_size=count, max_size=count))
    values = [
        StoredValue(start + i * step_s, step_s, wh, 0, status)
        for i, (here, status, wh) in enumerate(zip(present, statuses, amounts, strict=True))
        if here
    ]
    return first, last, step_s, values


@given(_stored())
def test_days_and_months_sum_the_hours_under_them(case):
    first, last, step_s, values = case
    store = FakeStore(values)
    push = step_s if values else None
    hours = consumption(store, MP, first, last, "hour", push_interval_s=push)
    expected_hours = (_midnight_s(last + timedelta(days=1)) - _midnight_s(first)) // 3600
    assert len(hours.points) == expected_hours
    for resolution in ("day", "month"):
        coarse = consumption(store, MP, first, last, resolution, push_interval_s=push)
        assert coarse.import_wh == hours.import_wh
        assert coarse.estimated_wh == hours.estimated_wh
        assert coarse.missing == hours.missing
        assert sum(p.intervals for p in coarse.points) == expected_hours
        assert coarse.points[0].start == datetime(first.year, first.month, first.day, tzinfo=OSLO)
        assert coarse.points[-1].end.date() == last + timedelta(days=1)
        for point in coarse.points:
            assert point.estimated_wh <= (point.import_wh or 0)
    days = consumption(store, MP, first, last, "day", push_interval_s=push)
    assert len(days.points) == (last - first).days + 1
    for day in days.points:
        under = [h for h in hours.points if h.start.date() == day.start.date()]
        assert day.intervals == len(under) in (23, 24, 25)
        known = [h.import_wh for h in under if h.import_wh is not None]
        assert day.import_wh == (sum(known) if known else None)
    if step_s == 900 and values and (last - first).days < 31:
        quarters = consumption(store, MP, first, last, "quarter")
        assert len(quarters.points) == 4 * expected_hours
        usable = {
            v.start_at_s: v.import_wh for v in values if v.status not in ("missing", "rejected")
        }
        for hour in hours.points:
            start_s = int(hour.start.timestamp())
            parts = [usable.get(start_s + 900 * q) for q in range(4)]
            expected = sum(parts) if all(p is not None for p in parts) else None
            assert hour.import_wh == expected

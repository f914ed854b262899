"""Reading values back: every interval of local days, sums, and the weakest status."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from openams.services.values import StoredValue, read_values

OSLO = ZoneInfo("Europe/Oslo")


class FakeStore:
    def __init__(self, values):
        self.stored = values

    def values(self, metering_point_id, start_s, end_s):
        assert metering_point_id == "707057500000000017"
        return [v for v in self.stored if start_s <= v.start_at_s < end_s]


def _s(*args):
    return int(datetime(*args, tzinfo=OSLO).timestamp())


def _hours(day, wh=1000, status="measured"):
    start = _s(day.year, day.month, day.day)
    end = _s(day.year, day.month, day.day + 1)
    return [StoredValue(t, 3600, wh, 0, status) for t in range(start, end, 3600)]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 3, 30), 24), (date(2026, 10, 25), 25)],
)
def test_a_local_day_has_23_24_or_25_hours(day, hours):
    series = read_values(FakeStore(_hours(day)), "707057500000000017", day, day, "hour")
    assert len(series) == hours
    assert all(v.status == "measured" and v.import_wh == 1000 for v in series)
    (total,) = read_values(FakeStore(_hours(day)), "707057500000000017", day, day, "day")
    assert total.import_wh == 1000 * hours
    assert total.start == datetime(day.year, day.month, day.day, tzinfo=OSLO)


def test_missing_intervals_are_in_the_series_and_spoil_the_sum():
    day = date(2026, 1, 12)
    stored = _hours(day)
    stored[7] = StoredValue(stored[7].start_at_s, 3600, 900, 0, "estimated")
    del stored[5]
    series = read_values(FakeStore(stored), "707057500000000017", day, day, "hour")
    assert [v.status for v in series].count("missing") == 1
    assert series[5].import_wh is None
    assert series[7].status == "estimated"
    (total,) = read_values(FakeStore(stored), "707057500000000017", day, day, "day")
    assert total.status == "missing"
    assert total.import_wh is None


def test_hours_are_sums_of_quarter_hours_with_the_weakest_status():
    day = date(2026, 1, 12)
    start = _s(2026, 1, 12)
    stored = [StoredValue(start + 900 * i, 900, 250 + i, 1, "measured") for i in range(96)]
    stored[2] = StoredValue(stored[2].start_at_s, 900, 252, 1, "estimated")
    hours = read_values(FakeStore(stored), "707057500000000017", day, day, "hour")
    assert len(hours) == 24
    assert hours[0].import_wh == 250 + 251 + 252 + 253
    assert hours[0].export_wh == 4
    assert hours[0].status == "estimated"
    assert hours[1].status == "measured"
    quarters = read_values(FakeStore(stored), "707057500000000017", day, day, "quarter")
    assert len(quarters) == 96


def test_bad_arguments():
    with pytest.raises(ValueError, match="resolution"):
        read_values(FakeStore([]), "707057500000000017", date(2026, 1, 1), date(2026, 1, 1), "x")
    with pytest.raises(ValueError, match="ends before"):
        read_values(FakeStore([]), "707057500000000017", date(2026, 1, 2), date(2026, 1, 1),
                    "hour")  # fmt: skip

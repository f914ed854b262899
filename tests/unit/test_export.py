"""The Elhub export of one day, over a store held in memory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from openams.domain.identifiers import gsrn_check_digit
from openams.services.elhub_message import parse_collected_data
from openams.services.export import MAX_SERIES, deadline_of, export_day
from openams.services.vee import local_day_bounds

GLN = "7080010000002"
HOURLY, QUARTERLY, SOLAR = "707057500000000018", "707057500000000025", "707057500000000032"


class MemoryStore:
    def __init__(self, points, values):
        self.points, self.values, self.sent = points, values, []

    def export_points(self):
        return self.points

    def day_values(self, start_s, end_s):
        values = {mp: {t: v for t, v in by.items() if start_s <= t < end_s}
                  for mp, by in self.values.items()}  # fmt: skip
        return values, {mp for mp, by in values.items() if any(v[1] for v in by.values())}

    def last_versions(self, day):
        out = {}
        for r in self.sent:
            if r.day == day:
                out[(r.metering_point_id, r.direction)] = (r.version, r.digest)
        return out

    def record_deliveries(self, records):
        self.sent += records


def _store(day, *, drop=()):
    start_s, end_s = local_day_bounds(day)
    values = {HOURLY: {}, QUARTERLY: {}, SOLAR: {}}
    for t in range(start_s, end_s, 3600):
        if t not in drop:
            values[HOURLY][t] = (1234, 0, "measured")
        values[SOLAR][t] = (100, 2500, "estimated" if t == start_s else "measured")
    for t in range(start_s, end_s, 900):
        values[QUARTERLY][t] = (250, 0, "temporary")
    points = [(HOURLY, 3600, "detached_house"), (QUARTERLY, 900, "apartment"),
              (SOLAR, 3600, "prosumer_solar")]  # fmt: skip
    return MemoryStore(points, values)


def _export(store, day, files):
    def write(name, data):
        files[name] = data
        return name

    return export_day(store, day, sender_gln=GLN, write=write, now_s=local_day_bounds(day)[1])


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 1, 8), 24)]
)
def test_daylight_saving_days_have_23_or_25_hours_and_92_or_100_quarters(day, hours):
    files = {}
    report = _export(_store(day), day, files)
    (name,) = files
    _, series = parse_collected_data(files[name])
    lengths = {(s.metering_point_id, s.direction): len(s.values) for s in series}
    assert lengths == {
        (HOURLY, "consumption"): hours, (QUARTERLY, "consumption"): 4 * hours,
        (SOLAR, "consumption"): hours, (SOLAR, "production"): hours,
    }  # fmt: skip
    solar_out = next(s for s in series if s.direction == "production")
    assert {v.quantity_kwh for v in solar_out.values} == {Decimal("2.500")}
    assert report.counts() == {"complete": 1, "estimated": 2, "missing": 0}
    assert report.on_time


def test_a_point_with_lost_values_is_reported_missing_and_the_values_left_out():
    day = date(2026, 1, 8)
    start_s, _ = local_day_bounds(day)
    files = {}
    report = _export(_store(day, drop={start_s + 3 * 3600}), day, files)
    line = next(x for x in report.lines if x.metering_point_id == HOURLY)
    assert (line.state, line.measured, line.missing) == ("missing", 23, 1)
    _, series = parse_collected_data(next(iter(files.values())))
    hourly = next(s for s in series if s.metering_point_id == HOURLY)
    assert hourly.values[3].status == "missing"
    assert hourly.values[3].quantity_kwh is None


def test_a_second_export_sends_only_what_changed_as_the_next_version():
    day = date(2026, 1, 8)
    store, files = _store(day), {}
    first = _export(store, day, files)
    assert (first.series_sent, first.corrections) == (4, 0)
    second = _export(store, day, files)
    assert (second.series_sent, second.unchanged) == (0, 4)
    start_s, _ = local_day_bounds(day)
    store.values[HOURLY][start_s] = (999, 0, "estimated")
    third = _export(store, day, files)
    assert (third.series_sent, third.corrections) == (1, 1)
    assert [r.version for r in store.sent if r.metering_point_id == HOURLY] == [1, 2]


def test_messages_hold_at_most_9999_series():
    day = date(2026, 1, 8)
    start_s, end_s = local_day_bounds(day)
    points = [(f"7070575{i:010d}", 3600, "apartment") for i in range(MAX_SERIES + 2)]
    points = [(p[:17] + str(gsrn_check_digit(p[:17])), s, k) for p, s, k in points]
    values = {p: dict.fromkeys(range(start_s, end_s, 3600), (10, 0, "measured"))
              for p, _, _ in points}  # fmt: skip
    files = {}
    report = _export(MemoryStore(points, values), day, files)
    assert len(files) == 2
    assert report.series_sent == MAX_SERIES + 2


def test_the_deadline_is_seven_in_the_morning_after():
    assert deadline_of(date(2026, 3, 28)).isoformat() == "2026-03-29T07:00:00+02:00"

"""VEE of one metering point, against hand-made register reads."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.services.vee import (
    FixedValue,
    PointInfo,
    Profile,
    Read,
    VeeSettings,
    final_before_s,
    local_day_bounds,
    share_out,
    vee_point,
)

DAY = date(2026, 1, 14)  # a Wednesday
START_S, END_S = local_day_bounds(DAY)
H = 3600
SETTINGS = VeeSettings()
POINT = PointInfo("707057500000000018", "detached_house", H, 230.0 * 25)  # 5.75 kW
CONTEXT = SETTINGS.context_s


class Bounds:
    """Reads beyond the horizon, as a store would find them."""

    def __init__(self, reads=()):
        self.reads = sorted(reads)
        self.asked = []

    def read_before(self, mp, at_s, limit_s):
        self.asked.append(("before", at_s))
        found = [r for r in self.reads if limit_s <= r.at_s <= at_s]
        return found[-1] if found else None

    def read_after(self, mp, at_s, limit_s):
        self.asked.append(("after", at_s))
        found = [r for r in self.reads if at_s <= r.at_s <= limit_s]
        return found[0] if found else None


def hourly(energy_wh, start_s=START_S - CONTEXT, end_s=END_S + CONTEXT, first_wh=1_000_000):
    """Reads every hour from start to end (inclusive), the import register advancing by
    ``energy_wh(t)`` in the hour starting at t; export a tenth of it."""
    reads, register = [], first_wh
    for t in range(start_s, end_s + H, H):
        reads.append(Read(t, t + 15, (register, register // 10, register // 2, 7)))
        register += energy_wh(t)
    return reads


def flat_profile(wh=1000.0):
    rows = [(START_S - 86_400 * d + H * h, (int(wh), 0, 0, 0)) for d in range(1, 8)
            for h in range(24)]  # fmt: skip
    return Profile(H, rows)


def evening_profile():
    """A week of history: 500 Wh an hour, 2,500 Wh from 17 to 21 local time."""
    rows = []
    for d in range(1, 8):
        for h in range(24):
            at = START_S - 86_400 * d + H * h
            rows.append((at, (2500 if 17 <= h < 21 else 500, 0, 0, 0)))
    return Profile(H, rows)


def run(reads, *, profile=None, now_s=END_S + 7 * H, bounds=None, **kw):
    return vee_point(
        POINT, reads, (START_S, END_S), now_s=now_s, settings=SETTINGS,
        bounds=bounds or Bounds(), profile=lambda _p: profile, **kw,
    )  # fmt: skip


def by_start(rows):
    return {r.start_at_s: r for r in rows}


def test_every_interval_with_both_reads_is_measured_and_exact():
    rows = run(hourly(lambda t: 700 + (t // H) % 5))
    assert [r.start_at_s for r in rows] == list(range(START_S, END_S, H))
    assert all(r.status == "measured" and r.validation is None for r in rows)
    assert [r.import_wh for r in rows] == [700 + (t // H) % 5 for t in range(START_S, END_S, H)]
    assert rows[0].export_wh is not None


def test_a_lost_push_is_estimated_from_the_register_difference_in_the_history_shape():
    reads = hourly(lambda t: 500 if (t - START_S) // H % 24 not in (17, 18) else 2500)
    lost = START_S + 18 * H  # the read at 18:00 local never arrived
    reads = [r for r in reads if r.at_s != lost]
    rows = by_start(run(reads, profile=evening_profile()))
    a, b = rows[START_S + 17 * H], rows[START_S + 18 * H]
    assert (a.status, a.estimation, a.validation) == ("estimated", "register_difference",
                                                      "no_reading")  # fmt: skip
    assert b.status == "estimated"
    assert a.import_wh + b.import_wh == 5000  # exactly the register difference
    assert rows[START_S + 16 * H].status == "measured"


def test_the_shape_follows_the_history_when_the_hours_differ():
    reads = hourly(lambda t: 1000)
    gone = {START_S + 16 * H, START_S + 17 * H}  # reads at 16:00 and 17:00 lost
    rows = by_start(run([r for r in reads if r.at_s not in gone], profile=evening_profile()))
    values = [rows[START_S + h * H].import_wh for h in (15, 16, 17)]
    assert sum(values) == 3000
    # history: 500, 500, 2500 -> shares 1/7, 1/7, 5/7
    assert values == [429, 428, 2143] or values == [428, 429, 2143]


def test_without_a_closing_read_the_values_are_temporary_from_history():
    silent_from = START_S + 20 * H
    reads = [r for r in hourly(lambda t: 1000) if r.at_s <= silent_from]
    rows = by_start(run(reads, profile=flat_profile(800.0)))
    late = [rows[t] for t in range(silent_from, END_S, H)]
    assert {r.status for r in late} == {"temporary"}
    assert {r.estimation for r in late} == {"history"}
    assert {r.import_wh for r in late} == {800}
    assert rows[silent_from - H].status == "measured"


def test_when_the_closing_read_arrives_temporary_values_become_exact_estimates():
    reads = hourly(lambda t: 1000)
    gap = range(START_S + 20 * H + H, END_S + CONTEXT + H, H)  # silent until the next day
    later = [r for r in reads if r.at_s not in gap]
    opening = next(r for r in reads if r.at_s == START_S + 20 * H)
    closing_s = END_S + CONTEXT + 5 * H
    hours = (closing_s - opening.at_s) // H
    closing = Read(closing_s, 0, (opening.registers[0] + 1500 * hours + 7, *opening.registers[1:]))
    bounds = Bounds([closing])
    rows = by_start(run(later, profile=flat_profile(), bounds=bounds))
    gap_rows = [r for t, r in rows.items() if t >= START_S + 20 * H]
    assert {r.status for r in gap_rows} == {"estimated"}
    assert {r.estimation for r in gap_rows} == {"register_difference"}
    assert ("after", END_S + CONTEXT) in bounds.asked
    # the whole gap is written, beyond the day too: one gap, one estimate
    assert max(rows) == closing.at_s - H
    assert sum(r.import_wh for r in gap_rows) == 1500 * hours + 7


def test_a_register_difference_the_fuse_cannot_carry_is_not_shared_out():
    reads = hourly(lambda t: 1000)
    gap = range(START_S + 10 * H, START_S + 14 * H, H)
    lost = [r for r in reads if r.at_s not in gap]
    jump = 10_000_000
    lost = [r._replace(registers=(r.registers[0] + jump, *r.registers[1:]))
            if r.at_s >= START_S + 14 * H else r for r in lost]  # fmt: skip
    rows = by_start(run(lost, profile=flat_profile(900.0)))
    gap_rows = [rows[t] for t in range(START_S + 9 * H, START_S + 14 * H, H)]
    assert {r.validation for r in gap_rows} == {"above_fuse"}
    assert {(r.status, r.estimation, r.import_wh) for r in gap_rows} == {
        ("estimated", "history", 900)
    }


def test_a_jumping_register_is_above_the_fuse_and_estimated_from_history():
    jump_at = START_S + 11 * H
    reads = hourly(lambda t: 1000 + (10_000_000 if t == jump_at else 0))
    rows = by_start(run(reads, profile=flat_profile(900.0)))
    jumped = rows[jump_at]
    assert (jumped.status, jumped.validation, jumped.estimation) == (
        "estimated", "above_fuse", "history"
    )  # fmt: skip
    assert jumped.import_wh == 900
    assert rows[jump_at + H].status == "measured"


def test_a_register_going_back_is_not_measured():
    back_at = START_S + 5 * H
    reads = hourly(lambda t: -5000 if t == back_at else 1000)
    rows = by_start(run(reads, profile=flat_profile()))
    assert rows[back_at].validation == "register_decreased"
    assert rows[back_at].status == "estimated"
    assert rows[back_at].import_wh >= 0


def test_a_long_zero_run_where_history_expects_consumption_is_a_stuck_register():
    stuck = range(START_S + 2 * H, START_S + 12 * H, H)
    rows = by_start(run(hourly(lambda t: 0 if t in stuck else 1000), profile=flat_profile()))
    assert {rows[t].validation for t in stuck} == {"stuck_register"}
    assert {rows[t].status for t in stuck} == {"estimated"}
    assert {rows[t].estimation for t in stuck} == {"history"}
    assert rows[START_S + 13 * H].status == "measured"


def test_a_zero_run_where_history_is_zero_too_stays_measured():
    rows = run(hourly(lambda t: 0), profile=flat_profile(0.0))
    assert {r.status for r in rows} == {"measured"}
    short = range(START_S + 2 * H, START_S + 4 * H, H)  # two hours: too short to be stuck
    rows = by_start(run(hourly(lambda t: 0 if t in short else 1000), profile=flat_profile()))
    assert {rows[t].status for t in short} == {"measured"}


def test_a_clock_running_ahead_distrusts_the_days_reads():
    ahead = [r._replace(received_at_s=r.at_s - 300) for r in hourly(lambda t: 1000)]
    rows = run(ahead, profile=flat_profile(), now_s=END_S + 2 * CONTEXT)
    assert {r.validation for r in rows} == {"clock_off"}
    assert {r.status for r in rows} == {"temporary"}


def test_a_clock_within_tolerance_is_trusted():
    close = [r._replace(received_at_s=r.at_s - 40) for r in hourly(lambda t: 1000)]
    assert {r.status for r in run(close, profile=flat_profile())} == {"measured"}


def test_no_value_is_made_for_what_has_not_ended_and_future_reads_close_no_gap():
    now_s = START_S + 10 * H + 30
    silent = range(START_S + 8 * H + H, START_S + 10 * H + H, H)  # 09:00 and 10:00 lost
    reads = [r for r in hourly(lambda t: 1000) if r.at_s not in silent]
    rows = by_start(run(reads, profile=flat_profile(), now_s=now_s))
    assert max(rows) == START_S + 9 * H  # the hour 09-10 has ended, 10-11 has not
    assert rows[START_S + 7 * H].status == "measured"
    # the read "from" 11:00 cannot close the gap: the values stay temporary
    gap = [rows[START_S + 8 * H], rows[START_S + 9 * H]]
    assert {(r.status, r.estimation) for r in gap} == {("temporary", "history")}


def test_reads_contradicted_by_another_push_are_not_trusted():
    at = START_S + 6 * H
    rows = by_start(run(hourly(lambda t: 1000), profile=flat_profile(), conflicts={at}))
    assert rows[at - H].validation == "conflicting_duplicate"
    assert rows[at].validation == "conflicting_duplicate"
    assert rows[at - H].import_wh + rows[at].import_wh == 2000  # still the register difference
    assert rows[at - H].estimation == "register_difference"


def test_manual_edits_and_final_values_are_left_alone():
    fixed = {START_S + 3 * H: FixedValue("estimated", "manual"),
             START_S + 4 * H: FixedValue("final_estimated", "history")}  # fmt: skip
    rows = by_start(run(hourly(lambda t: 1000), fixed=fixed))
    assert START_S + 3 * H not in rows
    assert START_S + 4 * H not in rows
    assert len(rows) == 22


def test_without_any_shape_an_unusable_value_is_rejected_and_a_lost_one_missing():
    jump_at = START_S + 11 * H
    reads = hourly(lambda t: 1000 + (10_000_000 if t == jump_at else 0))
    reads = [r for r in reads if r.at_s != START_S + 20 * H]
    rows = by_start(run(reads, profile=None))
    assert (rows[jump_at].status, rows[jump_at].validation) == ("rejected", "above_fuse")
    assert rows[jump_at].import_wh == 10_001_000
    # the lost read is bounded by two good ones: shared out evenly
    assert rows[START_S + 19 * H].status == "estimated"
    assert rows[START_S + 19 * H].import_wh + rows[START_S + 20 * H].import_wh == 2000


def test_a_gap_from_before_the_horizon_is_bounded_by_the_read_before_it():
    reads = hourly(lambda t: 1000)
    opening = Read(START_S - CONTEXT - 6 * H, 0, (reads[0].registers[0] - 6000, 0, 0, 0))
    late = [r for r in reads if r.at_s >= START_S + 2 * H]
    rows = by_start(run(late, profile=flat_profile(), bounds=Bounds([opening])))
    assert min(rows) == opening.at_s
    expected = next(r for r in reads if r.at_s == START_S + 2 * H).registers[0]
    gap = [r for t, r in rows.items() if t < START_S + 2 * H]
    assert sum(r.import_wh for r in gap) == expected - opening.registers[0]
    assert {r.status for r in gap} == {"estimated"}


def test_a_quarter_hour_point_gets_96_values():
    point = PointInfo("707057500000000025", "apartment", 900, 230.0 * 25)
    reads = [
        Read(t, t + 20, (t // 900, 0, 0, 0))
        for t in range(START_S - CONTEXT, END_S + CONTEXT + 1, 900)
    ]
    rows = vee_point(point, reads, (START_S, END_S), now_s=END_S + H, settings=SETTINGS,
                     bounds=Bounds(), profile=lambda _p: None)  # fmt: skip
    assert len(rows) == 96
    assert {r.import_wh for r in rows} == {1}


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (DAY, 24)]
)
def test_local_days_have_23_24_or_25_hours(day, hours):
    start, end = local_day_bounds(day)
    assert (end - start) // H == hours


def test_estimates_become_final_five_days_later():
    now_s = local_day_bounds(date(2026, 1, 19))[0] + 7 * H  # 19 January, 07:00
    assert final_before_s(now_s, SETTINGS) == local_day_bounds(date(2026, 1, 15))[0]


def test_profile_keeps_weekdays_and_weekends_apart():
    rows = []
    for d in range(14):
        at0 = START_S - 86_400 * (d + 1)
        weekday = date.fromordinal(DAY.toordinal() - d - 1).weekday()
        rows += [(at0 + H * h, (2000 if weekday >= 5 else 1000, 0, 0, 0)) for h in range(24)]
    profile = Profile(H, rows)
    saturday = local_day_bounds(date(2026, 1, 17))[0]
    assert profile.expected(START_S + 5 * H)[0] == 1000
    assert profile.expected(saturday + 5 * H)[0] == 2000


@given(
    st.integers(0, 10**9),
    st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=200),
)
def test_share_out_sums_exactly_and_follows_the_weights(total, weights):
    parts = share_out(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    weight_sum = sum(weights)
    if weight_sum > 0:
        for p, w in zip(parts, weights, strict=True):
            assert abs(p - total * w / weight_sum) < 1.0 + 1e-6 * total
    else:
        assert max(parts) - min(parts) <= 1

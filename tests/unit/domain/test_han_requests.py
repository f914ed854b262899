"""The HAN port deadline: three Norwegian working days after the local day of the request,
over weekends, Easter, Christmas, 17 May and the clock changes; and a request's transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.han_requests import (
    MAX_REASON,
    OPENED,
    REFUSED,
    WORKING_DAYS,
    HanRequestRefused,
    add_working_days,
    clean_reason,
    close_request,
    deadline_for,
    end_of_day_s,
    is_working_day,
    local_day,
    new_request,
)

OSLO = ZoneInfo("Europe/Oslo")
MP = "707057500000000011"


def _local(*parts: int) -> int:
    """Epoch seconds of a wall-clock time in Oslo."""
    return int(datetime(*parts, tzinfo=OSLO).timestamp())


@pytest.mark.parametrize(
    ("requested", "deadline"),
    [
        ((2026, 12, 4, 16, 0), date(2026, 12, 9)),  # Friday 16:00 -> Wednesday
        ((2026, 12, 7, 9, 0), date(2026, 12, 10)),  # Monday -> Thursday
        ((2026, 12, 8, 10, 0), date(2026, 12, 11)),  # Tuesday -> Friday
        ((2026, 12, 9, 10, 0), date(2026, 12, 14)),  # Wednesday -> Monday, over the weekend
        ((2026, 12, 5, 12, 0), date(2026, 12, 9)),  # Saturday -> Wednesday
        ((2026, 12, 6, 23, 59), date(2026, 12, 9)),  # Sunday, late -> Wednesday
        ((2026, 4, 2, 10, 0), date(2026, 4, 9)),  # Maundy Thursday -> after Easter Monday
        ((2025, 4, 16, 15, 0), date(2025, 4, 24)),  # Wednesday before Easter 2025
        ((2026, 12, 23, 12, 0), date(2026, 12, 29)),  # 24 Dec counts, 25/26 do not
        ((2026, 12, 22, 12, 0), date(2026, 12, 28)),  # Tue: 23, 24 (Christmas Eve), 28
        ((2026, 12, 30, 12, 0), date(2027, 1, 5)),  # 31 Dec counts, 1 Jan does not
        ((2026, 5, 14, 12, 0), date(2026, 5, 19)),  # on Ascension Day: Fri 15, Mon 18, Tue 19
        ((2027, 5, 14, 12, 0), date(2027, 5, 20)),  # Friday; Monday 17 May (also Whit Monday)
        ((2026, 5, 15, 12, 0), date(2026, 5, 20)),  # Friday; 17 May 2026 is a Sunday
        ((2026, 5, 22, 12, 0), date(2026, 5, 28)),  # Friday before Whit Monday (25 May)
    ],
)
def test_known_deadlines(requested, deadline):
    assert deadline_for(_local(*requested)) == deadline


def test_the_tuesday_before_easter_2026_skips_maundy_thursday_to_easter_monday():
    # Tuesday 31 March 2026: Wednesday 1 April, then (Maundy Thursday, Good Friday, the
    # weekend and Easter Monday skipped) Tuesday 7 and Wednesday 8 April.
    assert deadline_for(_local(2026, 3, 31, 10, 0)) == date(2026, 4, 8)


def test_the_day_of_the_request_is_the_local_day_not_the_utc_day():
    # Monday 19 January 2026, 23:30 in Oslo is 22:30 UTC the same day: Monday's request.
    monday_late = _local(2026, 1, 19, 23, 30)
    assert local_day(monday_late) == date(2026, 1, 19)
    assert deadline_for(monday_late) == date(2026, 1, 22)
    # 00:30 on the Tuesday in Oslo is still Monday in UTC, but it is Tuesday's request.
    tuesday_early = _local(2026, 1, 20, 0, 30)
    assert datetime.fromtimestamp(tuesday_early, UTC).date() == date(2026, 1, 19)
    assert deadline_for(tuesday_early) == date(2026, 1, 23)
    # in summer (UTC+2) 23:30 local is 21:30 UTC
    assert deadline_for(_local(2026, 6, 15, 23, 30)) == date(2026, 6, 18)
    assert deadline_for(_local(2026, 6, 16, 1, 30)) == date(2026, 6, 19)


def test_deadlines_around_the_clock_changes():
    # Summer time starts Sunday 29 March 2026 at 02:00; a request that Sunday evening
    assert deadline_for(_local(2026, 3, 29, 23, 0)) == date(2026, 4, 1)
    # Thursday 26 March -> Friday 27, Monday 30, Tuesday 31 March: due at local midnight,
    # which is 22:00 UTC in summer time
    request = new_request(MP, "C1", _local(2026, 3, 26, 12, 0))
    assert request.deadline == date(2026, 3, 31)
    assert request.due_at_s == _local(2026, 4, 1, 0, 0)
    assert datetime.fromtimestamp(request.due_at_s, UTC) == datetime(2026, 3, 31, 22, 0,
                                                                     tzinfo=UTC)  # fmt: skip
    # Summer time ends Sunday 25 October 2026 at 03:00: a request on Friday 23 October is
    # due by the end of Wednesday 28 October, midnight at 23:00 UTC
    autumn = new_request(MP, "C1", _local(2026, 10, 23, 16, 0))
    assert autumn.deadline == date(2026, 10, 28)
    assert datetime.fromtimestamp(autumn.due_at_s, UTC) == datetime(2026, 10, 28, 23, 0,
                                                                    tzinfo=UTC)  # fmt: skip


def test_a_day_with_the_clock_change_is_23_or_25_hours_long():
    assert end_of_day_s(date(2026, 3, 29)) - end_of_day_s(date(2026, 3, 28)) == 23 * 3600
    assert end_of_day_s(date(2026, 10, 25)) - end_of_day_s(date(2026, 10, 24)) == 25 * 3600


def test_overdue_from_the_first_second_after_the_deadline_day_while_open():
    request = new_request(MP, "C1", _local(2026, 12, 4, 16, 0))  # due end of Wednesday 9th
    assert not request.overdue(_local(2026, 12, 9, 23, 59, 59))
    assert request.overdue(_local(2026, 12, 10, 0, 0))
    closed = close_request(request, opened=True, reason="", closed_by="drift@example.no",
                           now_s=_local(2026, 12, 11, 9, 0))  # fmt: skip
    assert not closed.overdue(_local(2026, 12, 11, 9, 0))  # closed late, but closed


def test_working_days():
    assert is_working_day(date(2026, 12, 24))  # Christmas Eve is not a public holiday
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 5, 1))
    assert not is_working_day(date(2027, 5, 17))  # a Monday, but Constitution Day
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not is_working_day(date(2026, 12, 5))  # Saturday
    with pytest.raises(ValueError, match="positive"):
        add_working_days(date(2026, 1, 1), 0)


instants = st.integers(min_value=_local(2000, 1, 1, 0, 0), max_value=_local(2099, 12, 31, 23, 59))


@given(instants)
def test_the_deadline_is_a_working_day_exactly_three_working_days_after_the_request_day(at_s):
    day = local_day(at_s)
    deadline = deadline_for(at_s)
    assert is_working_day(deadline)
    between = [day + timedelta(days=n) for n in range(1, (deadline - day).days + 1)]
    assert sum(is_working_day(d) for d in between) == WORKING_DAYS
    assert (deadline - day).days <= 10  # even over Easter or Christmas


@given(instants)
def test_a_request_is_overdue_exactly_after_its_deadline_day(at_s):
    request = new_request(MP, "C1", at_s)
    assert not request.overdue(at_s)
    assert not request.overdue(request.due_at_s - 1)
    assert request.overdue(request.due_at_s)
    assert local_day(request.due_at_s - 1) == request.deadline
    assert local_day(request.due_at_s) == request.deadline + timedelta(days=1)


def test_a_request_is_opened_or_refused_once():
    request = new_request(MP, "C1", _local(2026, 12, 4, 16, 0))
    opened = close_request(request, opened=True, reason="  ", closed_by="drift@example.no",
                           now_s=_local(2026, 12, 7, 9, 0))  # fmt: skip
    assert (opened.status, opened.reason, opened.closed_by) == (OPENED, "", "drift@example.no")
    assert opened.closed_at_s == _local(2026, 12, 7, 9, 0)
    with pytest.raises(HanRequestRefused) as again:
        close_request(opened, opened=False, reason="for sent", closed_by="x", now_s=1)
    assert again.value.problem == "not_open"
    refused = close_request(request, opened=False, reason=" Måleren byttes i januar. ",
                            closed_by="drift@example.no", now_s=2)  # fmt: skip
    assert (refused.status, refused.reason) == (REFUSED, "Måleren byttes i januar.")
    assert not refused.is_open


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("", "reason"),
        (" \n\t ", "reason"),
        ("x" * (MAX_REASON + 1), "reason_too_long"),
        ("bell\x07", "reason_characters"),
        ("nul\x00", "reason_characters"),
    ],
)
def test_a_refusal_needs_a_clean_reason(reason, problem):
    request = new_request(MP, "C1", _local(2026, 12, 4, 16, 0))
    with pytest.raises(HanRequestRefused) as refused:
        close_request(request, opened=False, reason=reason, closed_by="x", now_s=1)
    assert refused.value.problem == problem


def test_a_reason_keeps_line_breaks_and_markup_as_text():
    assert clean_reason("Linje 1\nLinje 2", required=True) == "Linje 1\nLinje 2"
    assert clean_reason("<script>x</script>", required=True) == "<script>x</script>"
    assert clean_reason("", required=False) == ""
    assert clean_reason("x" * MAX_REASON, required=True) == "x" * MAX_REASON

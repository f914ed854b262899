from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import openams.domain as domain
from openams.domain import easter_sunday, is_public_holiday, norwegian_public_holidays

years = st.integers(min_value=1583, max_value=9999)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1818, date(1818, 3, 22)),  # the earliest possible date
        (1943, date(1943, 4, 25)),  # the latest possible date
        (2000, date(2000, 4, 23)),
        (2008, date(2008, 3, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_known_easter_sundays(year, expected):
    assert easter_sunday(year) == expected


@given(years)
def test_easter_is_a_sunday_between_22_march_and_25_april(year):
    easter = easter_sunday(year)
    assert easter.weekday() == 6
    assert date(year, 3, 22) <= easter <= date(year, 4, 25)


def test_holidays_of_2025():
    assert norwegian_public_holidays(2025) == {
        date(2025, 1, 1): "Nyttårsdag",
        date(2025, 4, 17): "Skjærtorsdag",
        date(2025, 4, 18): "Langfredag",
        date(2025, 4, 20): "1. påskedag",
        date(2025, 4, 21): "2. påskedag",
        date(2025, 5, 1): "Arbeidernes dag",
        date(2025, 5, 17): "Grunnlovsdag",
        date(2025, 5, 29): "Kristi himmelfartsdag",
        date(2025, 6, 8): "1. pinsedag",
        date(2025, 6, 9): "2. pinsedag",
        date(2025, 12, 25): "1. juledag",
        date(2025, 12, 26): "2. juledag",
    }


def test_a_shared_date_appears_once_with_both_names():
    holidays = norwegian_public_holidays(2008)  # Ascension Day fell on 1 May
    assert holidays[date(2008, 5, 1)] == "Arbeidernes dag / Kristi himmelfartsdag"
    assert len(holidays) == 11


@given(years)
def test_holidays_are_in_date_order_in_their_year_and_move_with_easter(year):
    holidays = norwegian_public_holidays(year)
    days = list(holidays)
    assert days == sorted(days)
    assert all(day.year == year for day in days)
    assert 11 <= len(days) <= 12
    easter = easter_sunday(year)
    by_name = {name: day for day, names in holidays.items() for name in names.split(" / ")}
    assert len(by_name) == 12
    assert by_name["Skjærtorsdag"] == easter - timedelta(days=3)
    assert by_name["Langfredag"].weekday() == 4
    assert by_name["2. påskedag"].weekday() == 0
    assert by_name["Kristi himmelfartsdag"].weekday() == 3
    assert by_name["1. pinsedag"] == easter + timedelta(days=49)
    assert by_name["2. pinsedag"].weekday() == 0
    assert by_name["Grunnlovsdag"] == date(year, 5, 17)


def test_result_is_a_fresh_dictionary():
    norwegian_public_holidays(2025).clear()
    assert len(norwegian_public_holidays(2025)) == 12


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 5, 17), True),
        (date(2026, 5, 17), True),
        (date(2025, 4, 18), True),  # Good Friday
        (date(2024, 5, 9), True),  # Ascension Day
        (date(2025, 12, 24), False),  # Christmas Eve is not a public holiday
        (date(2025, 12, 31), False),
        (date(2025, 5, 18), False),  # an ordinary Sunday
        (date(2025, 4, 22), False),
    ],
)
def test_is_public_holiday(day, expected):
    assert is_public_holiday(day) is expected


@given(st.dates(min_value=date(1583, 1, 1), max_value=date(9999, 12, 31)))
def test_is_public_holiday_agrees_with_the_list(day):
    assert is_public_holiday(day) == (day in norwegian_public_holidays(day.year))


@pytest.mark.parametrize("year", [1, 1582, 10000])
def test_years_outside_the_gregorian_computus_are_refused(year):
    with pytest.raises(ValueError, match="year"):
        easter_sunday(year)
    with pytest.raises(ValueError, match="year"):
        norwegian_public_holidays(year)


def test_is_public_holiday_refuses_dates_before_1583():
    with pytest.raises(ValueError, match="year"):
        is_public_holiday(date(1500, 5, 17))


def test_package_exports():
    assert domain.__all__ == sorted(domain.__all__)
    assert {"easter_sunday", "is_public_holiday", "norwegian_public_holidays"} <= set(
        domain.__all__
    )

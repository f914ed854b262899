"""Norwegian public holidays (*helligdager*).

Norway has twelve public holidays a year: five on fixed dates (1 January, 1 May, 17 May,
25 and 26 December) and seven that move with Easter (Maundy Thursday to Whit Monday). Easter
Sunday follows the Gregorian computus: the first Sunday after the ecclesiastical full moon
on or after 21 March, so it falls between 22 March and 25 April.

Invariants:
    * Pure: the functions read no clock and do no I/O; the same year gives the same holidays.
    * When two holidays share a date (1 May was also Ascension Day in 2008), the date appears
      once and its name joins both names with " / ".

References:
    Lov om helligdager og helligdagsfred (helligdagsfredloven), LOV-1995-02-24-12, § 2;
    lov om 1. og 17. mai som høgtidsdager, LOV-1947-04-26-1.
    Gregorian computus as tabulated by J. Meeus, *Astronomical Algorithms* (2nd ed.), ch. 8.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

__all__ = ["easter_sunday", "is_public_holiday", "norwegian_public_holidays"]

#: The first full year of the Gregorian calendar, before which the computus does not apply.
FIRST_GREGORIAN_YEAR = 1583
_LAST_YEAR = 9999

# Offsets from Easter Sunday, in days, of the holidays that move with it.
_EASTER_HOLIDAYS: tuple[tuple[int, str], ...] = (
    (-3, "Skjærtorsdag"),
    (-2, "Langfredag"),
    (0, "1. påskedag"),
    (1, "2. påskedag"),
    (39, "Kristi himmelfartsdag"),
    (49, "1. pinsedag"),
    (50, "2. pinsedag"),
)
# (month, day) of the holidays on fixed dates.
_FIXED_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "Nyttårsdag"),
    (5, 1, "Arbeidernes dag"),
    (5, 17, "Grunnlovsdag"),
    (12, 25, "1. juledag"),
    (12, 26, "2. juledag"),
)


def _check_year(year: int) -> None:
    if not FIRST_GREGORIAN_YEAR <= year <= _LAST_YEAR:
        raise ValueError(
            f"year must be between {FIRST_GREGORIAN_YEAR} and {_LAST_YEAR}, not {year}"
        )


def easter_sunday(year: int) -> date:
    """The date of Easter Sunday (*1. påskedag*) in the Gregorian calendar.

    Args:
        year: The year, 1583 to 9999.

    Returns:
        Easter Sunday of ``year``, a Sunday between 22 March and 25 April.

    Raises:
        ValueError: ``year`` is outside 1583 to 9999.
    """
    _check_year(year)
    golden = year % 19  # position in the 19-year Metonic cycle
    century, year_of_century = divmod(year, 100)
    skipped_leap_days, century_rest = divmod(century, 4)
    lunar_correction = (century - (century + 8) // 25 + 1) // 3
    # Days from 21 March to the ecclesiastical full moon (the epact, counted backwards).
    full_moon_days = (19 * golden + century - skipped_leap_days - lunar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    to_sunday = (32 + 2 * century_rest + 2 * leap_years - full_moon_days - year_rest) % 7
    late_correction = (golden + 11 * full_moon_days + 22 * to_sunday) // 451
    month, day_index = divmod(full_moon_days + to_sunday - 7 * late_correction + 114, 31)
    return date(year, month, day_index + 1)


@lru_cache(maxsize=64)
def _holidays(year: int) -> tuple[tuple[date, str], ...]:
    names: dict[date, list[str]] = {}
    for month, day, name in _FIXED_HOLIDAYS:
        names.setdefault(date(year, month, day), []).append(name)
    easter = easter_sunday(year)
    for offset_days, name in _EASTER_HOLIDAYS:
        names.setdefault(easter + timedelta(days=offset_days), []).append(name)
    return tuple((day, " / ".join(parts)) for day, parts in sorted(names.items()))


@lru_cache(maxsize=64)
def _holiday_dates(year: int) -> frozenset[date]:
    return frozenset(day for day, _ in _holidays(year))


def norwegian_public_holidays(year: int) -> dict[date, str]:
    """The Norwegian public holidays of a year, by date, in date order.

    Args:
        year: The year, 1583 to 9999.

    Returns:
        A new dictionary from each holiday's date to its Norwegian name, such as
        ``"Grunnlovsdag"`` for 17 May. Sundays are holidays of their own and are not listed,
        except Easter Sunday and Whit Sunday.

    Raises:
        ValueError: ``year`` is outside 1583 to 9999.
    """
    _check_year(year)
    return dict(_holidays(year))


def is_public_holiday(d: date) -> bool:
    """Whether a date is a Norwegian public holiday.

    Ordinary Sundays are not counted; test ``d.weekday() == 6`` for those.

    Args:
        d: The date.

    Returns:
        True when ``d`` is one of the twelve public holidays of its year.

    Raises:
        ValueError: the year of ``d`` is before 1583.
    """
    _check_year(d.year)
    return d in _holiday_dates(d.year)

"""The tariff model: steps, energy rates by hour and kind of day, periods, the capacity figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from openams.domain.tariff import (
    CapacityStep,
    EnergyRate,
    Tariff,
    TariffPeriod,
    capacity_figure,
    day_kind,
    default_steps,
    step_label,
)

STEPS = default_steps([D(n * 100) for n in range(1, 11)])
NIGHT = EnergyRate("night", "Natt", D("0.2"))
DAY = EnergyRate("day", "Dag", D("0.3"), frozenset({"workday"}), 6, 22)
LATE = EnergyRate("late", "Kveld", D("0.25"), frozenset({"workday", "weekend"}), 22, 2)
WINTER = EnergyRate("winter", "Vinter", D("0.35"), months=frozenset({1, 2}))


def test_steps_are_half_open_and_labelled_as_bills_print_them():
    period = TariffPeriod(date(2026, 1, 1), None, STEPS, (NIGHT,))
    assert period.step_for(D("4.999")).label == "2-5"
    assert period.step_for(D(5)).label == "5-10"
    assert period.step_for(D(250)).label == ">100"
    assert period.step_for(D(-1)).label == "0-2"  # a negative figure cannot happen; first step
    assert step_label(D("2.50"), D("5.0")) == "2.5-5"


def test_the_first_matching_rate_applies_and_hours_may_wrap_midnight():
    period = TariffPeriod(date(2026, 1, 1), None, STEPS, (DAY, LATE, WINTER, NIGHT))
    monday, saturday = date(2026, 3, 2), date(2026, 3, 7)
    assert period.rate_for(monday, 6).code == "day"
    assert period.rate_for(monday, 23).code == "late"
    assert period.rate_for(monday, 1).code == "late"  # 22 to 2 runs past midnight
    assert period.rate_for(monday, 2).code == "night"
    assert period.rate_for(saturday, 12).code == "night"
    assert period.rate_for(date(2026, 1, 3), 12).code == "winter"  # a Saturday in January
    # Ascension Day 2026 (14 May, a Thursday) is a holiday: no workday rate
    assert day_kind(date(2026, 5, 14)) == "holiday"
    assert period.rate_for(date(2026, 5, 14), 12).code == "night"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid_to": date(2026, 1, 1)}, "valid_to must be after valid_from"),
        ({"steps": ()}, "at least one capacity step"),
        ({"steps": STEPS[1:]}, "must start at 0 kW"),
        ({"steps": (STEPS[0], STEPS[2])}, "capacity step 5-10 must start where 0-2 ends"),
        ({"steps": STEPS[:-1]}, "last capacity step must have no upper bound"),
        ({"energy": ()}, "at least one energy rate"),
        ({"energy": (NIGHT, DAY)}, "the last energy rate (day) must apply to all"),
        ({"energy": (DAY, DAY, NIGHT)}, "energy rate code 'day' is used twice"),
    ],
)
def test_an_inconsistent_period_is_refused_with_the_reason(kwargs, message):
    fields = {"valid_from": date(2026, 1, 1), "valid_to": None, "steps": STEPS, "energy": (NIGHT,)}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TariffPeriod(**{**fields, **kwargs})


def test_periods_follow_each_other_and_a_gap_has_no_prices():
    first = TariffPeriod(date(2026, 1, 1), date(2026, 7, 1), STEPS, (NIGHT,))
    second = TariffPeriod(date(2026, 8, 1), None, STEPS, (DAY, NIGHT))
    tariff = Tariff("Nett AS", "H", "Husholdning", (first, second))
    assert tariff.period_on(date(2026, 6, 30)) is first
    assert tariff.period_on(date(2026, 7, 15)) is None
    assert tariff.period_on(date(2026, 8, 1)) is second
    assert tariff.period_on(date(2025, 12, 31)) is None
    with pytest.raises(ValueError, match="overlaps"):
        Tariff("Nett AS", "H", "Husholdning",
               (TariffPeriod(date(2026, 1, 1), None, STEPS, (NIGHT,)), second))  # fmt: skip
    with pytest.raises(ValueError, match="at least one period"):
        Tariff("Nett AS", "H", "Husholdning", ())
    with pytest.raises(ValueError, match="10 prices"):
        default_steps([D(1)])


def test_the_capacity_figure_takes_one_hour_per_day_the_top_three():
    hours = [
        (date(2026, 1, 5), 17, D("6")),
        (date(2026, 1, 5), 18, D("6.5")),  # the same day: only the higher counts
        (date(2026, 1, 6), 8, D("4")),
        (date(2026, 1, 7), 9, D("4")),
        (date(2026, 1, 8), 9, D("3")),
    ]
    figure, chosen = capacity_figure(hours)
    assert figure == (D("6.5") + 4 + 4) / 3
    assert [(d.day, h) for d, h, _ in chosen] == [(5, 18), (6, 8), (7, 9)]
    assert capacity_figure([]) == (D(0), [])
    two = capacity_figure(hours[:1] + hours[2:3])
    assert two[0] == 5  # fewer days than three: the average of those there are


def test_a_step_knows_what_it_contains():
    step = CapacityStep(D(5), D(10), D(300))
    assert step.contains(D(5))
    assert not step.contains(D(10))
    assert CapacityStep(D(100), None, D(1)).contains(D(10_000))

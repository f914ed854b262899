"""Grid tariffs (*nettleie*) as data: the capacity part, the energy part and a fixed part.

A grid company's household tariff since 1 July 2022 has

* a **capacity part** (*kapasitetsledd*): a monthly price chosen by the step the month's
  capacity figure falls in. The figure is the average of the three highest daily-maximum
  hours of the month, each on a different day (:func:`capacity_figure`). Steps are
  half-open, ``[from_kw, to_kw)``: exactly 5.000 kW is in the 5-10 step;
* an **energy part** (*energiledd*): a price per kWh that depends on the local hour, on
  whether the day is a workday, a weekend day or a public holiday, and sometimes on the
  month (winter and summer prices);
* sometimes a **fixed part** (*fastledd*) per month.

All prices here exclude VAT and the state's taxes (:mod:`openams.domain.taxes`), in NOK.
A tariff has validity periods; a price change starts a new period on the day it applies.

Invariants:
    * Money is :class:`~decimal.Decimal`; nothing here rounds.
    * Pure: no clock, no I/O. Hours are local (Europe/Oslo) hours of the day, 0 to 23.
    * A tariff that exists is consistent: its steps start at 0 kW and follow each other
      without gaps, the last one open-ended; its energy rates cover every hour of every day
      (the last rate matches all); its periods follow each other without overlap.

References:
    Forskrift om kontroll av nettvirksomhet (FOR-1999-03-11-302), § 14-2 and § 14-3
    (capacity-based tariffs for customers below 100 MWh a year, from 1 July 2022).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from .calendar import is_public_holiday

__all__ = [
    "DAY_KINDS",
    "DEFAULT_STEP_BOUNDS_KW",
    "CapacityStep",
    "EnergyRate",
    "Tariff",
    "TariffPeriod",
    "capacity_figure",
    "day_kind",
    "default_steps",
    "step_label",
]

#: What kind of day a local date is, as energy rates tell them apart.
DAY_KINDS: Final = ("workday", "weekend", "holiday")
#: The step bounds most Norwegian grid companies use. [kW]
DEFAULT_STEP_BOUNDS_KW: Final = (0, 2, 5, 10, 15, 20, 25, 50, 75, 100)
_ALL_DAYS: Final = frozenset(DAY_KINDS)
_ALL_MONTHS: Final = frozenset(range(1, 13))


def day_kind(day: date) -> str:
    """``holiday`` for a Norwegian public holiday, else ``weekend`` or ``workday``.

    A public holiday that falls on a Saturday or Sunday is a ``holiday``.
    """
    if is_public_holiday(day):
        return "holiday"
    return "weekend" if day.weekday() >= 5 else "workday"


def _kw_text(kw: Decimal | int) -> str:
    return format(Decimal(kw).normalize(), "f")


def step_label(from_kw: Decimal | int, to_kw: Decimal | int | None) -> str:
    """The step's name as bills print it: ``"5-10"``, or ``">100"`` for the open-ended one."""
    if to_kw is None:
        return f">{_kw_text(from_kw)}"
    return f"{_kw_text(from_kw)}-{_kw_text(to_kw)}"


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One step of the capacity part: ``[from_kw, to_kw)`` costs ``monthly_nok`` a month.

    Attributes:
        from_kw: Lower bound, included. [kW]
        to_kw: Upper bound, excluded; ``None`` for the last, open-ended step. [kW]
        monthly_nok: Price for a whole month, excluding VAT. [NOK]
    """

    from_kw: Decimal
    to_kw: Decimal | None
    monthly_nok: Decimal

    @property
    def label(self) -> str:
        """``"5-10"`` or ``">100"``."""
        return step_label(self.from_kw, self.to_kw)

    def contains(self, kw: Decimal) -> bool:
        """Whether a capacity figure falls in this step."""
        return self.from_kw <= kw and (self.to_kw is None or kw < self.to_kw)


@dataclass(frozen=True, slots=True)
class EnergyRate:
    """A price per kWh for some hours of some days.

    Attributes:
        code: Short name, unique in its period, such as ``day`` or ``night``.
        text: What the bill calls it, such as ``"Energiledd dag (06-22)"``.
        nok_per_kwh: Price, excluding VAT and taxes (may be 0). [NOK/kWh]
        days: The kinds of day it applies to (:data:`DAY_KINDS`).
        from_hour: First local hour it applies to, 0 to 23.
        to_hour: Local hour it stops at, 1 to 24; smaller than ``from_hour`` when it runs
            past midnight (22 to 6).
        months: The months it applies to, 1 to 12.
    """

    code: str
    text: str
    nok_per_kwh: Decimal
    days: frozenset[str] = _ALL_DAYS
    from_hour: int = 0
    to_hour: int = 24
    months: frozenset[int] = _ALL_MONTHS

    @property
    def matches_all(self) -> bool:
        """Whether the rate applies to every hour of every day of every month."""
        hours_all = self.from_hour == 0 and self.to_hour == 24
        return hours_all and self.days == _ALL_DAYS and self.months == _ALL_MONTHS

    def matches(self, kind: str, hour: int, month: int) -> bool:
        """Whether the rate applies to a local hour of a day of a kind, in a month."""
        if kind not in self.days or month not in self.months:
            return False
        if self.from_hour <= self.to_hour:
            return self.from_hour <= hour < self.to_hour
        return hour >= self.from_hour or hour < self.to_hour


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """The prices of a tariff from one day until (not including) another.

    Attributes:
        valid_from: First day the prices apply.
        valid_to: First day they no longer apply; ``None`` while they still do.
        steps: The capacity steps, from 0 kW upwards.
        energy: The energy rates; for an hour, the first that matches applies.
        fixed_monthly_nok: Fixed part per month, excluding VAT. [NOK]
        export_nok_per_kwh: Price per kWh fed into the grid (a producing customer's
            *innmatingstariff*); usually 0, negative for a payment to the customer.
            [NOK/kWh]
    """

    valid_from: date
    valid_to: date | None
    steps: tuple[CapacityStep, ...]
    energy: tuple[EnergyRate, ...]
    fixed_monthly_nok: Decimal = Decimal(0)
    export_nok_per_kwh: Decimal = Decimal(0)

    def __post_init__(self) -> None:  # noqa: D105 - checks the invariants
        for problem in self.problems():
            raise ValueError(problem)

    def problems(self) -> list[str]:
        """What makes the period inconsistent, in words (empty when it is fine)."""
        found = []
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            found.append("valid_to must be after valid_from")
        if not self.steps:
            found.append("a tariff needs at least one capacity step")
        else:
            if self.steps[0].from_kw != 0:
                found.append("the first capacity step must start at 0 kW")
            for before, after in zip(self.steps, self.steps[1:], strict=False):
                if before.to_kw != after.from_kw:
                    found.append(
                        f"capacity step {after.label} must start where {before.label} ends"
                    )
            if self.steps[-1].to_kw is not None:
                found.append("the last capacity step must have no upper bound")
        if not self.energy:
            found.append("a tariff needs at least one energy rate")
        elif not self.energy[-1].matches_all:
            found.append(
                f"the last energy rate ({self.energy[-1].code}) must apply to all hours, "
                "days and months"
            )
        codes = [rate.code for rate in self.energy]
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            found.append(f"energy rate code {code!r} is used twice")
        return found

    def covers(self, day: date) -> bool:
        """Whether the period's prices apply on a day."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def step_for(self, kw: Decimal) -> CapacityStep:
        """The capacity step a figure falls in (figures below 0 fall in the first)."""
        for step in self.steps:
            if step.contains(kw):
                return step
        return self.steps[0]

    def rate_for(self, day: date, hour: int) -> EnergyRate:
        """The energy rate of a local hour of a day."""
        kind = day_kind(day)
        for rate in self.energy:
            if rate.matches(kind, hour, day.month):
                return rate
        return self.energy[-1]  # pragma: no cover - the last rate matches all


@dataclass(frozen=True, slots=True)
class Tariff:
    """A grid company's tariff for one kind of customer, over time.

    Attributes:
        company: The grid company's name.
        code: The tariff's code, unique in the company, such as ``"H"``.
        name: The tariff's name, such as ``"Nettleie husholdning"``.
        periods: Price periods in date order, following each other without overlap.
        source: Where the prices were published.
    """

    company: str
    code: str
    name: str
    periods: tuple[TariffPeriod, ...]
    source: str = ""
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # noqa: D105 - checks the periods
        if not self.periods:
            raise ValueError("a tariff needs at least one period")
        for before, after in zip(self.periods, self.periods[1:], strict=False):
            if before.valid_to is None or before.valid_to > after.valid_from:
                raise ValueError(
                    f"the period from {before.valid_from} overlaps the one from {after.valid_from}"
                )
        object.__setattr__(self, "_starts", tuple(p.valid_from for p in self.periods))

    def period_on(self, day: date) -> TariffPeriod | None:
        """The period whose prices apply on a day, or ``None`` when none does."""
        for period in reversed(self.periods):
            if period.valid_from <= day:
                return period if period.covers(day) else None
        return None


def capacity_figure(
    hourly_kwh: Iterable[tuple[date, int, Decimal]], top: int = 3
) -> tuple[Decimal, list[tuple[date, int, Decimal]]]:
    """The capacity figure: the average of the highest daily-maximum hours, one per day.

    Each day's highest hour is taken (the earliest of equal ones), then the ``top``
    highest of those days (the earliest day of equal ones). With fewer days than ``top``,
    the average is over the days there are; with none, the figure is 0.

    Args:
        hourly_kwh: ``(local day, local hour, kWh drawn in that hour)``; for a one-hour
            interval, kWh is the mean power in kW.
        top: How many days count, 3 by Norwegian rules.

    Returns:
        The exact (unrounded) average in kW and the hours it came from, highest first.
    """
    best: dict[date, tuple[date, int, Decimal]] = {}
    for day, hour, kwh in hourly_kwh:
        held = best.get(day)
        if held is None or kwh > held[2] or (kwh == held[2] and hour < held[1]):
            best[day] = (day, hour, kwh)
    chosen = sorted(best.values(), key=lambda item: (-item[2], item[0]))[:top]
    if not chosen:
        return Decimal(0), []
    total = sum((kwh for _, _, kwh in chosen), Decimal(0))
    return total / len(chosen), chosen


def default_steps(monthly_nok: Sequence[Decimal]) -> tuple[CapacityStep, ...]:
    """Steps with the default bounds (:data:`DEFAULT_STEP_BOUNDS_KW`) and the given prices."""
    bounds = DEFAULT_STEP_BOUNDS_KW
    if len(monthly_nok) != len(bounds):
        raise ValueError(f"the default steps need {len(bounds)} prices")
    steps = []
    for index, price in enumerate(monthly_nok):
        upper = Decimal(bounds[index + 1]) if index + 1 < len(bounds) else None
        steps.append(CapacityStep(Decimal(bounds[index]), upper, price))
    return tuple(steps)

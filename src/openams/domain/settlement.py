"""Settlement (*avregning*) of one metering point for one month: from hourly values to a bill.

:func:`settle` takes the month's hourly values of a metering point, the hourly spot prices of
its price area, the grid company's tariff and the state's rules, and gives the bill's lines:

1. **fixed** and **capacity** parts: monthly prices, a share for a part-month
   (days supplied / days of the month). The capacity step comes from the capacity figure,
   the average of the three highest daily-maximum hours, each on a different day
   (:func:`openams.domain.tariff.capacity_figure`), over the days supplied.
2. **energy** part: each hour's kWh at the rate of its local hour, kind of day
   (workday, weekend, public holiday) and month; one line per rate and price.
3. **export**: kWh fed in, at the tariff's export price (a producing customer).
4. **consumption tax** and **Enova fee**: per kWh, where and when they apply.
5. **electricity support** (a credit): per hour, the share of the spot price above the
   threshold times the hour's kWh, for the month's first kWh up to the cap, in time order;
   or **Norgespris**: per hour, (Norgespris - spot) times the hour's kWh up to its cap.
6. **VAT**: the rate times the sum of the lines above, where it applies.

Rounding: every line's amount is rounded to øre, half up; VAT is computed on the sum of the
rounded lines; the total is the sum of the rounded lines. Quantities are exact (kWh to the
Wh). An hour of quarter-hour values is their sum (done by the caller); an hour without a
usable value is not billed and is counted in ``missing_hours``.

The work is done on arrays over the period's hours (:class:`HourArrays`), with everything
that depends only on the days, the tariff, the rules and the place computed once and cached
(:mod:`openams.domain.settlement_grid`); sums of kWh are integer Wh, sums of money exact.

Invariants:
    * Pure: no clock, no I/O. The result does not depend on the order of the values.
    * Money is :class:`~decimal.Decimal`; lines sum exactly to the total.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np

from .settlement_grid import (
    BoolArray,
    HourGrid,
    IntArray,
    MonthPrices,
    SupportUnits,
    export_index,
    hour_grid,
    month_prices,
    periods_of,
    rate_index,
    rule_index,
    support_units,
)
from .settlement_types import DayUse, Line, PeakHour, Settlement
from .tariff import Tariff, TariffPeriod
from .taxes import TaxRules

__all__ = [
    "HourArrays",
    "HourValue",
    "SettlementError",
    "Supply",
    "month_bounds",
    "settle",
    "settle_hours",
]

OSLO = ZoneInfo("Europe/Oslo")
_ORE = Decimal("0.01")
_KWH = Decimal("0.001")
_UNIT_PRICE = Decimal("0.0001")
_WH_PER_KWH = Decimal(1000)


class SettlementError(ValueError):
    """The month cannot be settled as asked (no tariff prices for a day, two values for an hour)."""


@dataclass(frozen=True, slots=True)
class Supply:
    """Who is billed for a metering point, where it is, and for which days of the month.

    Attributes:
        metering_point_id: The GSRN.
        customer_id: The customer billed.
        customer_type: As the estate names it (``detached_house``, ``cabin``, ...).
        postcode: Four-digit postcode (for regional taxes).
        municipality: Municipality name (for regional taxes).
        first_day: First day supplied in the month.
        last_day: Last day supplied in the month (included).
        norgespris: Whether the metering point has chosen Norgespris.
    """

    metering_point_id: str
    customer_id: str
    customer_type: str
    postcode: str
    municipality: str
    first_day: date
    last_day: date
    norgespris: bool = False


@dataclass(frozen=True, slots=True)
class HourValue:
    """An hour's validated values.

    Attributes:
        start_at_s: Start of the hour, epoch seconds (UTC).
        import_wh: Energy drawn; ``None`` when there is no usable value. [Wh]
        export_wh: Energy fed in. [Wh]
        estimated: Whether the value is estimated (not measured).
    """

    start_at_s: int
    import_wh: int | None
    export_wh: int | None = 0
    estimated: bool = False


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` month.

    Raises:
        ValueError: ``month`` is not ``YYYY-MM``.
    """
    try:
        year_text, month_text = month.split("-")
        year, number = int(year_text), int(month_text)
        first = date(year, number, 1)
    except ValueError:
        raise ValueError(f"a month is written YYYY-MM, not {month!r}") from None
    if len(year_text) != 4 or len(month_text) != 2:
        raise ValueError(f"a month is written YYYY-MM, not {month!r}")
    return first, date(year, number, calendar.monthrange(year, number)[1])


def _day_start_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())


def _ore(amount: Decimal) -> Decimal:
    return amount.quantize(_ORE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True, eq=False)
class HourArrays:
    """A metering point's values over the hours of a :class:`HourGrid`.

    Attributes:
        import_wh: Energy drawn per hour; -1 where there is no usable value. [Wh]
        export_wh: Energy fed in per hour (0 where none or unusable). [Wh]
        estimated: Whether each hour's value is estimated.
    """

    import_wh: IntArray
    export_wh: IntArray
    estimated: BoolArray

    @classmethod
    def empty(cls, hours: int) -> HourArrays:
        """No usable value in any of ``hours`` hours."""
        return cls(
            np.full(hours, -1, dtype=np.int64),
            np.zeros(hours, dtype=np.int64),
            np.zeros(hours, dtype=np.bool_),
        )

    def window(self, grid: HourGrid, first: date, last: date) -> HourArrays:
        """The hours of the days ``first`` .. ``last`` of ``grid`` (the grid these cover)."""
        bounds = [*grid.day_starts.tolist(), grid.hours]
        begin = bounds[(first - grid.first).days]
        end = bounds[(last - grid.first).days + 1]
        return HourArrays(
            self.import_wh[begin:end], self.export_wh[begin:end], self.estimated[begin:end]
        )

    @classmethod
    def from_values(cls, values: Iterable[HourValue], grid: HourGrid) -> HourArrays:
        """Arrays from hourly values; values outside the grid are ignored.

        Raises:
            SettlementError: two values for one hour.
        """
        arrays = cls.empty(grid.hours)
        imp, exp, est = arrays.import_wh, arrays.export_wh, arrays.estimated
        seen = np.zeros(grid.hours, dtype=np.bool_)
        for value in values:
            n = grid.index_of(value.start_at_s)
            if n is None:
                continue
            if seen[n]:
                raise SettlementError(f"two values for the hour starting at {value.start_at_s}")
            seen[n] = True
            if value.import_wh is not None:
                imp[n] = value.import_wh
                exp[n] = value.export_wh or 0
                est[n] = value.estimated
        return arrays


def _kwh(wh: int) -> Decimal:
    return Decimal(wh) / _WH_PER_KWH


def _kwh_line(code: str, text: str, unit_price: Decimal, wh: int, estimated_wh: int) -> Line:
    kwh = _kwh(wh)
    return Line(code, text, kwh, "kWh", unit_price, _ore(kwh * unit_price), _kwh(estimated_wh))


def _monthly_lines(
    code: str, text: str, prices: Mapping[Decimal, int], days_in_month: int, estimated: Decimal
) -> list[Line]:
    lines = []
    for monthly, days in prices.items():
        if days == days_in_month:
            lines.append(Line(code, text, Decimal(1), "month", monthly, monthly, estimated))
        else:
            per_day = (monthly / days_in_month).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)
            amount = _ore(monthly * days / days_in_month)
            lines.append(Line(code, text, Decimal(days), "day", per_day, amount, estimated))
    return lines


def _per_key_lines(
    code_of: Callable[[tuple[object, ...]], tuple[str, str, Decimal]],
    index: IntArray,
    keys: Sequence[tuple[object, ...]],
    wh: IntArray,
    estimated_wh: IntArray,
    counted: BoolArray,
) -> list[Line]:
    """One line per key present in the counted hours, in the order keys first appear."""
    present = np.where(counted, index, -1) + 1
    size = len(keys) + 1
    hours = np.bincount(present, minlength=size)[1:]
    found = hours.nonzero()[0].tolist()
    if not found:
        return []
    sums = np.bincount(present, weights=wh, minlength=size)[1:]
    est = np.bincount(present, weights=estimated_wh, minlength=size)[1:]
    if len(found) > 1:
        found.sort(key=lambda k: int(np.argmax(present == k + 1)))
    lines = []
    for k in found:
        code, text, price = code_of(keys[k])
        lines.append(_kwh_line(code, text, price, int(sums[k]), int(est[k])))
    return lines


def settle(
    supply: Supply,
    values: Iterable[HourValue],
    spot_nok_per_kwh: Mapping[int, Decimal],
    tariff: Tariff,
    taxes: TaxRules,
) -> Settlement:
    """Settle one metering point for the days of one month it was supplied.

    Args:
        supply: The metering point, its customer and the days supplied (in one month).
        values: The hourly values; those outside the days supplied are ignored.
        spot_nok_per_kwh: The area's hourly spot price by hour start (UTC epoch seconds),
            excluding VAT. Hours without a price get no support or Norgespris.
        tariff: The grid company's tariff.
        taxes: The state's taxes, VAT and support rules.

    Raises:
        SettlementError: the days are not within one month, the tariff has no prices for
            a day supplied, or two values share an hour.
    """
    grid = _grid(supply)
    arrays = HourArrays.from_values(values, grid)
    return settle_hours(supply, arrays, month_prices(spot_nok_per_kwh, grid), tariff, taxes)


def _grid(supply: Supply) -> HourGrid:
    first, last = supply.first_day, supply.last_day
    if (first.year, first.month) != (last.year, last.month) or last < first:
        raise SettlementError(f"{first}..{last} is not a part of one month")
    return hour_grid(first, last)


def settle_hours(
    supply: Supply,
    arrays: HourArrays,
    prices: MonthPrices,
    tariff: Tariff,
    taxes: TaxRules,
) -> Settlement:
    """:func:`settle` on arrays over the supply's hours (the fast path for many points).

    Args:
        supply: The metering point, its customer and the days supplied (in one month).
        arrays: Its values over ``hour_grid(supply.first_day, supply.last_day)``.
        prices: The area's prices over the same grid (:func:`month_prices`).
        tariff: The grid company's tariff.
        taxes: The state's rules.

    Raises:
        SettlementError: the days are not within one month or the tariff has no prices for
            a day supplied.
    """
    grid = _grid(supply)
    first, last = grid.first, grid.last
    periods = periods_of(grid, tariff)
    for day, period in zip(grid.days, periods, strict=True):
        if period is None:
            raise SettlementError(
                f"tariff {tariff.code} of {tariff.company} has no prices on {day}"
            )
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    where = (supply.customer_type, supply.postcode, supply.municipality)

    usable = arrays.import_wh >= 0
    imp = np.where(usable, arrays.import_wh, 0)
    est = arrays.estimated & usable
    imp_est = np.where(est, imp, 0)
    exp = np.where(usable, arrays.export_wh, 0)

    figure, peak_hours = _capacity(grid, arrays.import_wh, est)
    peak_estimated = sum((p.kwh for p in peak_hours if p.estimated), Decimal(0))
    step_prices: dict[Decimal, int] = defaultdict(int)
    fixed_prices: dict[Decimal, int] = defaultdict(int)
    days_of_period: dict[int, tuple[TariffPeriod, int]] = {}  # by identity: cheap to hash
    for period in periods:
        if period is not None:
            held = days_of_period.get(id(period), (period, 0))
            days_of_period[id(period)] = (period, held[1] + 1)
    step_label = periods[-1].step_for(figure).label if periods[-1] is not None else ""
    for period, count in days_of_period.values():
        step_prices[period.step_for(figure).monthly_nok] += count
        if period.fixed_monthly_nok:
            fixed_prices[period.fixed_monthly_nok] += count

    lines: list[Line] = []
    lines += _monthly_lines("fixed", "Fastledd", fixed_prices, days_in_month, Decimal(0))
    lines += _monthly_lines(
        "capacity",
        f"Kapasitetsledd trinn {step_label} kW",
        step_prices,
        days_in_month,
        peak_estimated,
    )
    rates = rate_index(grid, tariff)
    energy = _per_key_lines(
        lambda key: (f"energy_{key[0]}", str(key[1]), _dec(key[2])),
        rates.index, rates.keys, imp, imp_est, usable,
    )  # fmt: skip
    lines += sorted(energy, key=lambda line: line.code)
    exports = export_index(grid, tariff)
    lines += _per_key_lines(
        lambda key: ("export", "Innmating", _dec(key[0])),
        exports.index, exports.keys, exp, np.where(est, exp, 0), usable & (exp != 0),
    )  # fmt: skip
    for code, text, rules in (
        ("consumption_tax", "Forbruksavgift", taxes.consumption_tax),
        ("enova_fee", "Enovapåslag", taxes.enova_fee),
    ):
        index, _ = rule_index(grid, rules, where)
        keys = [(rule.value,) for rule in rules]
        found = _per_key_lines(_named(code, text), index, keys, imp, imp_est, usable)
        lines += _merged_by_price(found)

    units = support_units(grid, prices, taxes, where, supply.norgespris)
    lines += _support_lines(grid, units, imp, est, usable, supply.norgespris)

    vat_rule = taxes.vat_on(last, *where)
    if vat_rule is not None and vat_rule.value:
        base = sum((line.amount for line in lines), Decimal(0))
        rate_text = f"Merverdiavgift {vat_rule.value * 100:.0f} %"
        lines.append(
            Line("vat", rate_text, base, "NOK", vat_rule.value, _ore(base * vat_rule.value))
        )

    day_wh = np.add.reduceat(imp, grid.day_starts).tolist() if grid.hours else []
    days = tuple(map(DayUse, grid.days, map(_kwh, day_wh), prices.day_average))
    return Settlement(
        metering_point_id=supply.metering_point_id,
        customer_id=supply.customer_id,
        month=f"{first.year:04d}-{first.month:02d}",
        first_day=first,
        last_day=last,
        capacity_kw=figure.quantize(_KWH, rounding=ROUND_HALF_UP),
        capacity_step=step_label,
        peak_hours=peak_hours,
        energy_kwh=_kwh(int(imp.sum())),
        estimated_kwh=_kwh(int(imp_est.sum())),
        export_kwh=_kwh(int(exp.sum())),
        missing_hours=int(grid.hours - usable.sum()),
        lines=tuple(lines),
        total_nok=sum((line.amount for line in lines), Decimal(0)),
        days=days,
    )


def _named(code: str, text: str) -> Callable[[tuple[object, ...]], tuple[str, str, Decimal]]:
    return lambda key: (code, text, _dec(key[0]))


def _dec(value: object) -> Decimal:
    if not isinstance(value, Decimal):  # pragma: no cover - keys are built with Decimals
        raise TypeError(f"{value!r} is not a Decimal")
    return value


def _merged_by_price(lines: list[Line]) -> list[Line]:
    """Tax lines of the same price merged (rules of different days, same rate), by price."""
    merged: dict[Decimal, Line] = {}
    for line in lines:
        held = merged.get(line.unit_price)
        if held is None:
            merged[line.unit_price] = line
            continue
        quantity = held.quantity + line.quantity
        merged[line.unit_price] = Line(
            line.code, line.text, quantity, "kWh", line.unit_price,
            _ore(quantity * line.unit_price), held.estimated_kwh + line.estimated_kwh,
        )  # fmt: skip
    return [merged[price] for price in sorted(merged)]


def _capacity(
    grid: HourGrid, import_wh: IntArray, estimated: BoolArray
) -> tuple[Decimal, tuple[PeakHour, ...]]:
    """The capacity figure and its hours (see :func:`~openams.domain.tariff.capacity_figure`)."""
    if not grid.hours:
        return Decimal(0), ()
    maxima = np.maximum.reduceat(import_wh, grid.day_starts)
    order = np.argsort(-maxima, kind="stable")[:3].tolist()  # highest first, earliest of equal
    chosen = [d for d in order if maxima[d] >= 0]
    if not chosen:
        return Decimal(0), ()
    bounds = grid.bounds
    peaks = []
    for d in chosen:
        begin, end = bounds[d], bounds[d + 1]
        n = begin + int(np.argmax(import_wh[begin:end]))
        hour = int(grid.hour_of_day[n])
        same_hour = grid.hour_of_day[begin:end] == hour
        flagged = bool(np.any(estimated[begin:end] & same_hour))
        peaks.append(PeakHour(grid.days[d], hour, _kwh(int(maxima[d])), flagged))
    total = sum((p.kwh for p in peaks), Decimal(0))
    return total / len(peaks), tuple(peaks)


def _covered(grid: HourGrid, units: SupportUnits, imp: IntArray, usable: BoolArray) -> IntArray:
    """Wh of each hour within the monthly cap, counted in time order."""
    counted = units.applies & usable
    drawn = np.where(counted, imp, 0)
    if units.same_cap:
        cap = units.caps_wh[int(grid.day_of_hour[int(np.argmax(units.applies))])]
        if cap is None:
            return drawn
        before = np.cumsum(drawn) - drawn
        covered: IntArray = np.clip(cap - before, 0, drawn)
        return covered
    covered = np.zeros_like(drawn)  # the cap changes within the month: hour by hour
    used = 0
    for n in counted.nonzero()[0].tolist():
        cap = units.caps_wh[int(grid.day_of_hour[n])]
        take = int(drawn[n]) if cap is None else max(0, min(int(drawn[n]), cap - used))
        covered[n] = take
        used += take
    return covered


def _support_lines(
    grid: HourGrid,
    units: SupportUnits,
    imp: IntArray,
    est: BoolArray,
    usable: BoolArray,
    norgespris: bool,
) -> list[Line]:
    covered = np.where(units.priced, _covered(grid, units, imp, usable), 0)
    wh = int(covered.sum())
    estimated_wh = int(np.where(est, covered, 0).sum())
    if units.scaled is not None:
        amount = units.scaled.dot(covered)
    else:
        amount = sum(
            (_kwh(int(covered[n])) * units.units[n] for n in covered.nonzero()[0].tolist()),
            Decimal(0),
        )
    kwh = _kwh(wh)
    if norgespris:
        if not wh or units.first_price is None:
            return []
        text = f"Norgespris {units.first_price * 100:.0f} øre/kWh, oppgjør mot spotpris"
        code = "norgespris"
    else:
        if not amount:
            return []
        text, code = "Strømstøtte", "support"
    average = (amount / kwh).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)
    return [Line(code, text, kwh, "kWh", average, _ore(amount), _kwh(estimated_wh))]

"""A plain, hour-by-hour settlement: the oracle the array implementation is checked against.

It follows docs/settlement.md line by line with Decimals and dictionaries, with no arrays and
no caches; ``test_settlement_oracle.py`` checks that :func:`openams.domain.settlement.settle`
gives the same bill for any values.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from openams.domain.settlement import HourValue, SettlementError, Supply
from openams.domain.settlement_types import DayUse, Line, PeakHour, Settlement
from openams.domain.tariff import Tariff, TariffPeriod, capacity_figure
from openams.domain.taxes import Rule, TaxRules

__all__ = ["settle"]

OSLO = ZoneInfo("Europe/Oslo")
_ORE = Decimal("0.01")
_KWH = Decimal("0.001")
_UNIT_PRICE = Decimal("0.0001")
_WH_PER_KWH = Decimal(1000)


def _day_start_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())


def _ore(amount: Decimal) -> Decimal:
    return amount.quantize(_ORE, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class _Sum:
    kwh: Decimal = Decimal(0)
    estimated_kwh: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)

    def add(self, kwh: Decimal, estimated: bool, amount: Decimal) -> None:
        self.kwh += kwh
        self.amount += amount
        if estimated:
            self.estimated_kwh += kwh


def _kwh_line(code: str, text: str, unit_price: Decimal, total: _Sum) -> Line:
    return Line(
        code, text, total.kwh, "kWh", unit_price, _ore(total.kwh * unit_price), total.estimated_kwh
    )


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


def _capped(
    hours: list[tuple[int, date, Decimal, bool]],
    rule_of: Mapping[date, Rule | None],
    unit_amount: Mapping[int, Decimal | None],
) -> tuple[_Sum, int]:
    """Sum ``kwh x unit amount`` in time order until the rule's monthly cap is used up."""
    total = _Sum()
    used = Decimal(0)
    unpriced = 0
    for start_s, day, kwh, estimated in hours:
        rule = rule_of[day]
        if rule is None:
            continue
        cap = rule.cap_kwh
        covered = kwh if cap is None else max(Decimal(0), min(kwh, cap - used))
        used += covered
        if covered == 0:
            continue
        per_kwh = unit_amount.get(start_s)
        if per_kwh is None:
            unpriced += 1
            continue
        total.add(covered, estimated, covered * per_kwh)
    return total, unpriced


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
    first, last = supply.first_day, supply.last_day
    if (first.year, first.month) != (last.year, last.month) or last < first:
        raise SettlementError(f"{first}..{last} is not a part of one month")
    month = f"{first.year:04d}-{first.month:02d}"
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    start_s, end_s = _day_start_s(first), _day_start_s(last + timedelta(days=1))
    where = (supply.customer_type, supply.postcode, supply.municipality)

    periods: dict[date, TariffPeriod] = {}
    day = first
    while day <= last:
        period = tariff.period_on(day)
        if period is None:
            raise SettlementError(
                f"tariff {tariff.code} of {tariff.company} has no prices on {day}"
            )
        periods[day] = period
        day += timedelta(days=1)

    by_hour: dict[int, HourValue] = {}
    for given in values:
        if start_s <= given.start_at_s < end_s:
            if given.start_at_s in by_hour:
                raise SettlementError(f"two values for the hour starting at {given.start_at_s}")
            by_hour[given.start_at_s] = given

    hours: list[tuple[int, date, Decimal, bool]] = []  # (start, local day, kWh, estimated)
    peaks_in: list[tuple[date, int, Decimal]] = []
    estimated_at: set[tuple[date, int]] = set()
    energy: dict[tuple[str, str, Decimal], _Sum] = defaultdict(_Sum)
    export: dict[Decimal, _Sum] = defaultdict(_Sum)
    export_kwh = Decimal(0)
    missing = 0
    day_kwh: dict[date, Decimal] = defaultdict(Decimal)
    for hour_s in range(start_s, end_s, 3600):
        value = by_hour.get(hour_s)
        if value is None or value.import_wh is None:
            missing += 1
            continue
        local = datetime.fromtimestamp(hour_s, UTC).astimezone(OSLO)
        day, hour = local.date(), local.hour
        kwh = Decimal(value.import_wh) / _WH_PER_KWH
        hours.append((hour_s, day, kwh, value.estimated))
        peaks_in.append((day, hour, kwh))
        if value.estimated:
            estimated_at.add((day, hour))
        day_kwh[day] += kwh
        period = periods[day]
        rate = period.rate_for(day, hour)
        energy[(rate.code, rate.text, rate.nok_per_kwh)].add(kwh, value.estimated, Decimal(0))
        if value.export_wh:
            fed = Decimal(value.export_wh) / _WH_PER_KWH
            export_kwh += fed
            export[period.export_nok_per_kwh].add(fed, value.estimated, Decimal(0))

    figure, chosen = capacity_figure(peaks_in)
    peak_hours = tuple(PeakHour(d, h, k, (d, h) in estimated_at) for d, h, k in chosen)
    peak_estimated = sum((p.kwh for p in peak_hours if p.estimated), Decimal(0))
    step_prices: dict[Decimal, int] = defaultdict(int)
    fixed_prices: dict[Decimal, int] = defaultdict(int)
    step_label = periods[last].step_for(figure).label
    for period in periods.values():
        step_prices[period.step_for(figure).monthly_nok] += 1
        if period.fixed_monthly_nok:
            fixed_prices[period.fixed_monthly_nok] += 1

    lines: list[Line] = []
    lines += _monthly_lines("fixed", "Fastledd", fixed_prices, days_in_month, Decimal(0))
    lines += _monthly_lines(
        "capacity",
        f"Kapasitetsledd trinn {step_label} kW",
        step_prices,
        days_in_month,
        peak_estimated,
    )
    for (code, text, price), total in sorted(energy.items(), key=lambda item: item[0][0]):
        lines.append(_kwh_line(f"energy_{code}", text, price, total))
    for price, total in export.items():
        lines.append(_kwh_line("export", "Innmating", price, total))

    for code, text, lookup in (
        ("consumption_tax", "Forbruksavgift", taxes.consumption_tax_on),
        ("enova_fee", "Enovapåslag", taxes.enova_fee_on),
    ):
        per_rate: dict[Decimal, _Sum] = defaultdict(_Sum)
        rules = {day: lookup(day, *where) for day in periods}
        for _, day, kwh, estimated in hours:
            rule = rules[day]
            if rule is not None:
                per_rate[rule.value].add(kwh, estimated, Decimal(0))
        for price, total in sorted(per_rate.items()):
            lines.append(_kwh_line(code, text, price, total))

    lines += _support_lines(supply, hours, spot_nok_per_kwh, taxes, list(periods), where)

    vat_rule = taxes.vat_on(last, *where)
    if vat_rule is not None and vat_rule.value:
        base = sum((line.amount for line in lines), Decimal(0))
        lines.append(
            Line(
                "vat",
                f"Merverdiavgift {vat_rule.value * 100:.0f} %",
                base,
                "NOK",
                vat_rule.value,
                _ore(base * vat_rule.value),
            )
        )

    energy_kwh = sum((kwh for _, _, kwh, _ in hours), Decimal(0))
    estimated_kwh = sum((kwh for _, _, kwh, est in hours if est), Decimal(0))
    days = tuple(
        DayUse(d, day_kwh.get(d, Decimal(0)), _day_average(d, spot_nok_per_kwh)) for d in periods
    )
    return Settlement(
        metering_point_id=supply.metering_point_id,
        customer_id=supply.customer_id,
        month=month,
        first_day=first,
        last_day=last,
        capacity_kw=figure.quantize(_KWH, rounding=ROUND_HALF_UP),
        capacity_step=step_label,
        peak_hours=peak_hours,
        energy_kwh=energy_kwh,
        estimated_kwh=estimated_kwh,
        export_kwh=export_kwh,
        missing_hours=missing,
        lines=tuple(lines),
        total_nok=sum((line.amount for line in lines), Decimal(0)),
        days=days,
    )


def _support_lines(
    supply: Supply,
    hours: list[tuple[int, date, Decimal, bool]],
    spot: Mapping[int, Decimal],
    taxes: TaxRules,
    days: list[date],
    where: tuple[str, str, str],
) -> list[Line]:
    if supply.norgespris:
        rules = {day: taxes.norgespris_on(day, *where) for day in days}
        per_kwh = {}
        for start_s, day, _, _ in hours:
            rule = rules[day]
            if rule is not None and start_s in spot:
                per_kwh[start_s] = rule.value - spot[start_s]
        total, _ = _capped(hours, rules, per_kwh)
        if not total.kwh:
            return []
        price = next(r.value for r in rules.values() if r is not None)
        text = f"Norgespris {price * 100:.0f} øre/kWh, oppgjør mot spotpris"
        average = (total.amount / total.kwh).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)
        return [
            Line(
                "norgespris",
                text,
                total.kwh,
                "kWh",
                average,
                _ore(total.amount),
                total.estimated_kwh,
            )
        ]
    rules = {day: taxes.support_on(day, *where) for day in days}
    per_kwh = {}
    for start_s, day, _, _ in hours:
        rule = rules[day]
        if rule is not None and start_s in spot:
            share = rule.share if rule.share is not None else Decimal(1)
            per_kwh[start_s] = -share * max(Decimal(0), spot[start_s] - rule.value)
    total, _ = _capped(hours, rules, per_kwh)
    if not total.amount:
        return []
    average = (total.amount / total.kwh).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)
    return [
        Line(
            "support",
            "Strømstøtte",
            total.kwh,
            "kWh",
            average,
            _ore(total.amount),
            total.estimated_kwh,
        )
    ]


def _day_average(day: date, spot: Mapping[int, Decimal]) -> Decimal | None:
    start, end = _day_start_s(day), _day_start_s(day + timedelta(days=1))
    found = [spot[s] for s in range(start, end, 3600) if s in spot]
    if not found:
        return None
    return (sum(found, Decimal(0)) / len(found)).quantize(_UNIT_PRICE, rounding=ROUND_HALF_UP)

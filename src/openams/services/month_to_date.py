"""What a customer sees of the month so far: use, cost, capacity step, headroom, cheap hours.

The portal calls :func:`month_to_date` for a metering point. It settles the month from its
first day to today with the values stored now, validated or not (today's hours are validated
tomorrow), so that the cost so far has the capacity and fixed parts of the days so far; and
it adds:

* the **headroom**: how many kW the customer can still draw in any one hour of a coming day
  without the month moving up a capacity step. With the month's highest daily maxima
  ``d1 >= d2 >= d3`` so far (0 for days not yet seen) and the step's upper bound ``T``, an
  hour of ``x`` kW on a new day makes the figure ``(d1 + d2 + x) / 3`` once ``x > d3``; it
  stays in the step while ``x < 3T - d1 - d2``. Raising a day that already counts can only
  allow more, so this is the bound for any hour. In the open-ended top step there is no
  limit (``None``);
* the **cheapest hours** of today and tomorrow (tomorrow's prices are published about
  13:00), by spot price.

Invariants:
    * Reads only; stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from openams.domain.settlement import HourArrays, Supply, settle_hours
from openams.domain.settlement_grid import hour_grid
from openams.domain.settlement_types import Settlement
from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules

from .prices import HourPrice, PriceStore, hourly_prices_nok, month_prices_nok
from .settlement import SettlementStore, supplies_in
from .vee import OSLO, local_day_bounds

__all__ = ["MonthToDate", "headroom_kw", "month_to_date"]


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """The month so far for one metering point.

    Attributes:
        settlement: The month settled from its first day (or move-in) to today.
        headroom_kw: kW the customer may draw in any hour of a coming day and stay in the
            step; ``None`` in the top step. [kW]
        next_step_kw: Where the next step starts; ``None`` in the top step. [kW]
        cheapest_today: Today's hours, cheapest first.
        cheapest_tomorrow: Tomorrow's hours, cheapest first (empty before they are
            published).
    """

    settlement: Settlement
    headroom_kw: Decimal | None
    next_step_kw: Decimal | None
    cheapest_today: tuple[HourPrice, ...]
    cheapest_tomorrow: tuple[HourPrice, ...]


def headroom_kw(daily_maxima_kw: list[Decimal], next_step_kw: Decimal | None) -> Decimal | None:
    """kW an hour of a new day may reach without the figure reaching ``next_step_kw``.

    Args:
        daily_maxima_kw: The month's daily maxima so far, any order.
        next_step_kw: The current step's upper bound; ``None`` for the top step.

    Returns:
        ``3T - d1 - d2`` (see the module), at least 0; ``None`` without a bound.
    """
    if next_step_kw is None:
        return None
    top = sorted(daily_maxima_kw, reverse=True)[:2]
    top += [Decimal(0)] * (2 - len(top))
    return max(Decimal(0), 3 * next_step_kw - top[0] - top[1])


def month_to_date(
    store: SettlementStore,
    prices: PriceStore,
    metering_point_id: str,
    tariff: Tariff,
    taxes: TaxRules,
    *,
    now_s: int,
    cheapest: int = 3,
) -> MonthToDate | None:
    """The month so far of a metering point (``None`` when it is unknown or not supplied).

    Args:
        store: Metering points, values and supplies.
        prices: Spot prices.
        metering_point_id: The GSRN.
        tariff: The grid company's tariff.
        taxes: The state's rules.
        now_s: Now, epoch seconds.
        cheapest: How many of the cheapest hours to give per day.
    """
    points = store.metering_points(metering_point_id)
    if not points:
        return None
    point = points[0]
    today = datetime.fromtimestamp(now_s, UTC).astimezone(OSLO).date()
    first = today.replace(day=1)
    periods = store.supply_periods([metering_point_id], first, today)
    supplies = supplies_in(point, periods, first, today)
    if not supplies:
        return None
    supply: Supply = supplies[-1]
    today_start_s = local_day_bounds(today)[0]
    tomorrow_end_s = local_day_bounds(today + timedelta(days=1))[1]
    hours = hourly_prices_nok(prices, point.area, today_start_s, tomorrow_end_s)
    # the same object for every metering point of the area while the prices stand, so that
    # what settlement works out per prices object is found again
    spot = month_prices_nok(prices, point.area, supply.first_day, supply.last_day)
    grid = hour_grid(supply.first_day, supply.last_day)
    found = store.latest_arrays([metering_point_id], supply.first_day, supply.last_day)
    values = found.get(metering_point_id) or HourArrays.empty(grid.hours)
    result = settle_hours(supply, values, spot, tariff, taxes)
    period = tariff.period_on(today)
    steps = period.steps if period is not None else ()
    step = next((s for s in steps if s.label == result.capacity_step), None)
    bound = step.to_kw if step is not None else None
    maxima = _daily_maxima(result)
    return MonthToDate(
        settlement=result,
        headroom_kw=headroom_kw(maxima, bound),
        next_step_kw=bound,
        cheapest_today=_cheapest(hours, today, cheapest),
        cheapest_tomorrow=_cheapest(hours, today + timedelta(days=1), cheapest),
    )


def _daily_maxima(result: Settlement) -> list[Decimal]:
    # The peak hours are the top three daily maxima; headroom needs only the top two.
    return [p.kwh for p in result.peak_hours]


def _cheapest(hours: list[HourPrice], day: date, count: int) -> tuple[HourPrice, ...]:
    start_s, end_s = local_day_bounds(day)
    found = [h for h in hours if start_s <= h.start_at_s < end_s and h.nok_per_kwh is not None]
    found.sort(key=lambda h: (h.nok_per_kwh, h.start_at_s))
    return tuple(found[:count])

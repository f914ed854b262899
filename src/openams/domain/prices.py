"""Day-ahead spot prices and exchange rates, as settlement needs them.

The Nordic day-ahead market sets a price per bidding zone (NO1 to NO5 in Norway) for every
market time unit: an hour until 30 September 2025, a quarter of an hour since 1 October 2025
(the first delivery day with 15-minute prices). Prices are quoted in EUR/MWh; Norwegian bills
are in NOK, converted at Norges Bank's EUR/NOK rate of the day.

Households are still billed per hour: the price of an hour is the plain average of its four
quarter-hour prices (:func:`hourly_prices`). An hour with a quarter missing gets no price, so
that a gap is seen rather than averaged over.

Invariants:
    * Money and prices are :class:`~decimal.Decimal`, never float; nothing here rounds
      except where a function says so.
    * Times are whole seconds since the epoch (UTC), each price for ``[start_at_s,
      start_at_s + resolution_s)``.
    * Pure: no clock, no I/O.

References:
    ENTSO-E Transparency Platform, day-ahead prices (document type A44).
    Nord Pool, "15-minute MTU in the Nordic day-ahead market" (go-live for delivery day
    1 October 2025).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

__all__ = [
    "BIDDING_ZONES",
    "HOUR_S",
    "QUARTER_S",
    "ExchangeRate",
    "SpotPrice",
    "hourly_prices",
]

#: The Norwegian bidding zones.
BIDDING_ZONES: Final = ("NO1", "NO2", "NO3", "NO4", "NO5")
HOUR_S: Final = 3600
QUARTER_S: Final = 900


@dataclass(frozen=True, slots=True)
class SpotPrice:
    """The day-ahead price of one zone for one market time unit.

    Attributes:
        zone: ``NO1`` .. ``NO5``.
        start_at_s: Start of the unit, epoch seconds (UTC).
        resolution_s: 3600 or 900.
        price_per_mwh: The price in ``currency`` per MWh (may be negative).
        currency: ``EUR`` (as the market quotes) or ``NOK``.
    """

    zone: str
    start_at_s: int
    resolution_s: int
    price_per_mwh: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:  # noqa: D105 - checks the fields
        if self.zone not in BIDDING_ZONES:
            raise ValueError(f"unknown bidding zone {self.zone!r}")
        if self.resolution_s not in (HOUR_S, QUARTER_S):
            raise ValueError(f"a market time unit is 3600 or 900 s, not {self.resolution_s}")
        if self.start_at_s % self.resolution_s:
            raise ValueError("a market time unit starts on its own boundary")
        if not isinstance(self.price_per_mwh, Decimal):
            raise TypeError("a price is a Decimal")


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """Norges Bank's rate of one day: how many NOK one unit of ``currency`` costs."""

    day: date
    nok_per_unit: Decimal
    currency: str = "EUR"


def hourly_prices(prices: Iterable[SpotPrice]) -> list[SpotPrice]:
    """Hourly prices from prices of either resolution, sorted by zone and time.

    An hourly price stays as it is; an hour of quarter-hour prices gets the average of its
    four (exact, unrounded). An hour missing a quarter is left out.

    Raises:
        ValueError: two prices for the same zone, resolution and start, or prices of one zone
            and hour in different currencies.
    """
    hours: dict[tuple[str, int], list[SpotPrice]] = defaultdict(list)
    seen: set[tuple[str, int, int]] = set()
    for price in prices:
        key = (price.zone, price.resolution_s, price.start_at_s)
        if key in seen:
            raise ValueError(f"two prices for {price.zone} at {price.start_at_s}")
        seen.add(key)
        hours[(price.zone, price.start_at_s - price.start_at_s % HOUR_S)].append(price)
    out = []
    for (zone, hour_s), found in sorted(hours.items()):
        if len({p.currency for p in found}) > 1:
            raise ValueError(f"prices of {zone} at {hour_s} in different currencies")
        whole = [p for p in found if p.resolution_s == HOUR_S]
        if whole:
            out.append(whole[0])
            continue
        if len(found) == HOUR_S // QUARTER_S:
            average = sum((p.price_per_mwh for p in found), Decimal(0)) / len(found)
            out.append(SpotPrice(zone, hour_s, HOUR_S, average, found[0].currency))
    return out

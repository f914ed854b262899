"""Prices: importing day-ahead prices and exchange rates, and the hourly price in NOK.

``ams prices import`` reads ENTSO-E day-ahead documents, Nord Pool style CSV and Norges
Bank exchange-rate CSV (:mod:`openams.services.price_files`) into the store. A bad row is
reported with its file and line while the good rows go in; a file that cannot be read at
all is reported and the other files still go in. Importing a file again changes nothing;
a corrected file replaces the prices it carries.

:func:`hourly_prices_nok` gives what settlement and the customer see: per hour, the spot
price (the average of the four quarter-hours when the market traded quarter-hours) and the
same in NOK/kWh at Norges Bank's EUR/NOK rate of that local day — or, on a day without a
rate (weekends, holidays), the last rate published before it, at most
:data:`RATE_STALE_DAYS` days old.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from openams.domain.prices import ExchangeRate, SpotPrice, hourly_prices
from openams.errors import InputError

from .price_files import parse_price_file

__all__ = [
    "FileReport",
    "HourPrice",
    "PriceImportReport",
    "PriceStore",
    "hourly_prices_nok",
    "import_prices",
]

OSLO = ZoneInfo("Europe/Oslo")
#: How old the last published EUR/NOK rate may be on a day without one.
RATE_STALE_DAYS = 7


class PriceStore(Protocol):
    """Where prices and exchange rates are kept."""

    def save_prices(self, prices: Sequence[SpotPrice], source: str, now_s: int) -> None:
        """Insert or replace the prices (by zone, resolution and start)."""
        ...

    def save_rates(self, rates: Sequence[ExchangeRate], source: str, now_s: int) -> None:
        """Insert or replace the rates (by day and currency)."""
        ...

    def prices(self, zone: str, start_s: int, end_s: int) -> list[SpotPrice]:
        """The zone's prices (either resolution) starting in ``[start_s, end_s)``."""
        ...

    def rates(self, currency: str, first: date, last: date) -> list[ExchangeRate]:
        """The rates of ``first`` .. ``last``, by day."""
        ...


@dataclass(slots=True)
class FileReport:
    """What one file gave."""

    source: str
    prices: Counter[tuple[str, int]] = field(default_factory=Counter)  # (zone, resolution_s)
    rates: int = 0
    problems: list[str] = field(default_factory=list)  # each naming file and line


@dataclass(slots=True)
class PriceImportReport:
    """What an import did, file by file."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def problems(self) -> int:
        """Problems in all files."""
        return sum(len(f.problems) for f in self.files)


def import_prices(
    files: Iterable[tuple[str, bytes]], store: PriceStore, *, now_s: int
) -> PriceImportReport:
    """Import each ``(name, content)``; a file's good rows go in even when others are bad."""
    report = PriceImportReport()
    for source, data in files:
        found = FileReport(source)
        report.files.append(found)
        try:
            result = parse_price_file(data, source=source)
        except InputError as exc:
            found.problems.append(str(exc))
            continue
        found.problems.extend(str(problem) for problem in result.problems)
        if result.prices:
            store.save_prices(result.prices, source, now_s)
            found.prices.update((p.zone, p.resolution_s) for p in result.prices)
        if result.rates:
            store.save_rates(result.rates, source, now_s)
            found.rates = len(result.rates)
    return report


@dataclass(frozen=True, slots=True)
class HourPrice:
    """The spot price of one hour of one zone.

    Attributes:
        start_at_s: Start of the hour, epoch seconds.
        price_per_mwh: In ``currency`` (the average of the quarter-hours, unrounded).
        currency: As published, usually EUR.
        nok_per_kwh: The price in NOK/kWh (exact), or ``None`` when no rate was found.
        rate_day: The day of the EUR/NOK rate used (``None`` for prices in NOK or none).
    """

    start_at_s: int
    price_per_mwh: Decimal
    currency: str
    nok_per_kwh: Decimal | None
    rate_day: date | None


def hourly_prices_nok(store: PriceStore, zone: str, start_s: int, end_s: int) -> list[HourPrice]:
    """The zone's hourly prices in ``[start_s, end_s)``, with NOK/kWh (see the module)."""
    hours = hourly_prices(store.prices(zone, start_s, end_s))
    if not hours:
        return []
    days = [_local_day(h.start_at_s) for h in hours]
    first = min(days) - timedelta(days=RATE_STALE_DAYS)
    by_day: dict[str, dict[date, Decimal]] = {}
    for currency in {h.currency for h in hours} - {"NOK"}:
        by_day[currency] = {r.day: r.nok_per_unit for r in store.rates(currency, first, max(days))}
    out = []
    for hour, day in zip(hours, days, strict=True):
        if hour.currency == "NOK":
            out.append(HourPrice(hour.start_at_s, hour.price_per_mwh, "NOK",
                                 hour.price_per_mwh / 1000, None))  # fmt: skip
            continue
        rate_day = _rate_day(by_day[hour.currency], day)
        nok = (
            hour.price_per_mwh * by_day[hour.currency][rate_day] / 1000
            if rate_day is not None
            else None
        )
        out.append(HourPrice(hour.start_at_s, hour.price_per_mwh, hour.currency, nok, rate_day))
    return out


def _local_day(at_s: int) -> date:
    return datetime.fromtimestamp(at_s, OSLO).date()


def _rate_day(rates: dict[date, Decimal], day: date) -> date | None:
    for back in range(RATE_STALE_DAYS + 1):
        candidate = day - timedelta(days=back)
        if candidate in rates:
            return candidate
    return None

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
:data:`RATE_STALE_DAYS` days old. A store may keep these in a :class:`PriceCache` (the SQL
store does, one per open store): prices change only when they are imported, and the cache
notices an import by the store's version number, whichever process imported.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from openams.domain.prices import HOUR_S, ExchangeRate, SpotPrice, hourly_prices
from openams.domain.settlement_grid import MonthPrices, hour_grid, month_prices
from openams.errors import InputError

from .price_files import parse_price_file
from .vee import local_day_bounds

__all__ = [
    "FileReport",
    "HourPrice",
    "PriceCache",
    "PriceImportReport",
    "PriceStore",
    "hourly_prices_nok",
    "import_prices",
    "month_prices_nok",
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

    def version(self) -> int:
        """A number that every saving of prices or rates raises, by any process."""
        ...

    @property
    def cache(self) -> PriceCache | None:
        """Where this process keeps the hourly prices worked out from this store (``None``:
        nowhere, every call reads the store)."""
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
    """The zone's hourly prices in ``[start_s, end_s)``, with NOK/kWh (see the module); kept
    in and taken from the store's :class:`PriceCache` when it has one."""
    cache = store.cache
    if cache is None:
        return _hourly_prices_nok(store, zone, start_s, end_s)
    return cache.hourly_prices_nok(store, zone, start_s, end_s)


def month_prices_nok(store: PriceStore, zone: str, first: date, last: date) -> MonthPrices:
    """The zone's spot prices in NOK/kWh over the local days ``first`` .. ``last`` as
    settlement takes them (:func:`openams.domain.settlement_grid.month_prices` of
    :func:`hourly_prices_nok`). With the store's :class:`PriceCache`, the same object while
    the prices stand, so that what settlement keeps per prices object is found again."""
    cache = store.cache
    if cache is None:
        return _month_prices_nok(store, zone, first, last)
    return cache.month_prices_nok(store, zone, first, last)


class PriceCache:
    """What :func:`hourly_prices_nok` and :func:`month_prices_nok` answer, kept while the
    store's prices stand: hours per zone and local day, month prices per zone and days.

    Each call first reads the store's :meth:`PriceStore.version` (one row); when it is newer
    than the version of what is kept (prices or rates were imported, here or by another
    process), everything kept is forgotten. The days asked for that are not kept are worked
    out with one read of the store, from the first to the last of them. A day without
    prices (tomorrow's, before they are published) is kept as empty until the next import.
    At most ``max_days`` zone-days and ``max_months`` month prices are kept, the least
    recently used forgotten first. Safe to share between threads.

    Invariants:
        * A call answers what the function without a cache answers from the store as it
          was when the call began, or later.
        * Periods not on whole hours are worked out each time, never kept.
    """

    def __init__(self, max_days: int = 2048, max_months: int = 256) -> None:
        if max_days < 1 or max_months < 1:
            raise ValueError("max_days and max_months are at least 1")
        self.max_days, self.max_months = max_days, max_months
        self._lock = threading.Lock()
        self._version = -1
        self._days: OrderedDict[tuple[str, date], tuple[HourPrice, ...]] = OrderedDict()
        self._months: OrderedDict[tuple[str, date, date], MonthPrices] = OrderedDict()

    def hourly_prices_nok(
        self, store: PriceStore, zone: str, start_s: int, end_s: int
    ) -> list[HourPrice]:
        """:func:`hourly_prices_nok` of ``store``, from the days kept where it can."""
        if start_s % HOUR_S or end_s % HOUR_S:
            return _hourly_prices_nok(store, zone, start_s, end_s)
        if end_s <= start_s:
            return []
        return self._hours(store, store.version(), zone, start_s, end_s)

    def month_prices_nok(
        self, store: PriceStore, zone: str, first: date, last: date
    ) -> MonthPrices:
        """:func:`month_prices_nok` of ``store``: the object kept, or a new one kept."""
        version = store.version()
        key = (zone, first, last)
        with self._lock:
            found = self._months.get(key) if self._current(version) else None
            if found is not None:
                self._months.move_to_end(key)
        if found is not None:
            return found
        start_s, end_s = local_day_bounds(first)[0], local_day_bounds(last)[1]
        hours = self._hours(store, version, zone, start_s, end_s)
        made = _month_prices(hours, first, last)
        with self._lock:
            if version != self._version:
                return made
            found = self._months.setdefault(key, made)  # another thread's, if it was first
            self._months.move_to_end(key)
            while len(self._months) > self.max_months:
                self._months.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget everything kept."""
        with self._lock:
            self._days.clear()
            self._months.clear()

    def __len__(self) -> int:
        """How many zone-days are kept."""
        return len(self._days)

    def _current(self, version: int) -> bool:
        """Move on to ``version`` if it is newer; whether what is kept is of it (called
        holding the lock)."""
        if version > self._version:
            self._days.clear()
            self._months.clear()
            self._version = version
        return version == self._version

    def _hours(
        self, store: PriceStore, version: int, zone: str, start_s: int, end_s: int
    ) -> list[HourPrice]:
        first, last = _local_day(start_s), _local_day(end_s - 1)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        found: dict[date, tuple[HourPrice, ...]] = {}
        with self._lock:
            if self._current(version):
                for day in days:
                    kept = self._days.get((zone, day))
                    if kept is not None:
                        self._days.move_to_end((zone, day))
                        found[day] = kept
        missing = [day for day in days if day not in found]
        if missing:
            worked = _by_day(store, zone, missing[0], missing[-1])
            found.update(worked)
            with self._lock:
                if version == self._version:
                    for day, hours in worked.items():
                        self._days[(zone, day)] = hours
                        self._days.move_to_end((zone, day))
                    while len(self._days) > self.max_days:
                        self._days.popitem(last=False)
        return [h for day in days for h in found[day] if start_s <= h.start_at_s < end_s]


def _by_day(
    store: PriceStore, zone: str, first: date, last: date
) -> dict[date, tuple[HourPrice, ...]]:
    """The hours of ``first`` .. ``last`` by local day (every day there, maybe empty)."""
    by_day: dict[date, list[HourPrice]] = {
        first + timedelta(days=n): [] for n in range((last - first).days + 1)
    }
    start_s, end_s = local_day_bounds(first)[0], local_day_bounds(last)[1]
    for hour in _hourly_prices_nok(store, zone, start_s, end_s):
        by_day[_local_day(hour.start_at_s)].append(hour)
    return {day: tuple(hours) for day, hours in by_day.items()}


def _month_prices_nok(store: PriceStore, zone: str, first: date, last: date) -> MonthPrices:
    start_s, end_s = local_day_bounds(first)[0], local_day_bounds(last)[1]
    return _month_prices(_hourly_prices_nok(store, zone, start_s, end_s), first, last)


def _month_prices(hours: Sequence[HourPrice], first: date, last: date) -> MonthPrices:
    spot = {h.start_at_s: h.nok_per_kwh for h in hours if h.nok_per_kwh is not None}
    return month_prices(spot, hour_grid(first, last))


def _hourly_prices_nok(store: PriceStore, zone: str, start_s: int, end_s: int) -> list[HourPrice]:
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

"""Settling a month: every supplied metering point, from the store's validated values.

``ams settle --month 2026-01`` calls :func:`settle_month`. For each metering point (or the
one asked for) and each supply in the month (a move in or out mid-month ends one supply and
starts another), it reads the month's hourly values and the area's hourly spot prices, and
settles them with the tariff and the state's rules (:func:`openams.domain.settlement.settle`).

The first run of a supply's month is stored as version 1. Running the month again settles it
again from the values as they are now: if the bill is unchanged nothing is stored; if values
were corrected since, the difference is stored as the next version, a re-settlement with
credit and debit lines (:func:`openams.domain.resettlement.difference`). Every run is kept.

Which values count: ``measured`` as measured; ``estimated``, ``final_estimated`` and
``temporary`` as estimated (the lines they feed are marked); ``rejected`` and ``missing``
not at all (the hour is counted as missing and not billed). An hour of quarter-hour values
counts when all four quarters are usable, as their sum.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Protocol, cast

from openams.domain.resettlement import difference
from openams.domain.settlement import HourArrays, Supply, month_bounds, settle_hours
from openams.domain.settlement_grid import MonthPrices, hour_grid, month_prices
from openams.domain.settlement_types import Settlement
from openams.domain.tariff import Tariff
from openams.domain.taxes import TaxRules

from .prices import PriceStore, hourly_prices_nok
from .vee import local_day_bounds

__all__ = [
    "ESTIMATED_STATUSES",
    "USABLE_STATUSES",
    "MeteringPointInfo",
    "SettleReport",
    "SettlementStore",
    "SupplyPeriod",
    "settle_month",
    "supplies_in",
]

#: Statuses whose values are billed.
USABLE_STATUSES = frozenset({"measured", "estimated", "final_estimated", "temporary"})
#: Statuses whose values are billed as estimated.
ESTIMATED_STATUSES = frozenset({"estimated", "final_estimated", "temporary"})


@dataclass(frozen=True, slots=True)
class MeteringPointInfo:
    """What settlement needs to know of a metering point."""

    metering_point_id: str
    customer_id: str
    customer_type: str
    postcode: str
    municipality: str
    area: str


@dataclass(frozen=True, slots=True)
class SupplyPeriod:
    """A customer supplied at a metering point from one day (to another, included)."""

    metering_point_id: str
    from_day: date
    to_day: date | None
    customer_id: str
    norgespris: bool = False


class SettlementStore(Protocol):
    """Where settlement reads metering points, values and earlier runs, and keeps its runs."""

    def metering_points(self, metering_point_id: str | None) -> list[MeteringPointInfo]:
        """All metering points (or the one), in id order."""
        ...

    def supply_periods(self, ids: Sequence[str], first: date, last: date) -> list[SupplyPeriod]:
        """Supply periods of the metering points overlapping ``first`` .. ``last``."""
        ...

    def latest_arrays(self, ids: Sequence[str], first: date, last: date) -> dict[str, HourArrays]:
        """The interval values stored now (validated or not) of ``first`` .. ``last``, by id."""
        ...

    def month_arrays(self, ids: Sequence[str], first: date, last: date) -> dict[str, HourArrays]:
        """The validated daily usage of ``first`` .. ``last``, by id (absent: no values)."""
        ...

    def last_runs(self, ids: Sequence[str], month: str) -> dict[tuple[str, date], Settlement]:
        """The latest full settlement of each supply of the month, by (id, first day)."""
        ...

    def save_runs(
        self, runs: Sequence[tuple[Settlement, Settlement]], tariff: Tariff, now_s: int
    ) -> None:
        """Keep runs as ``(billed, full)``: what the run bills and the month it computed."""
        ...


@dataclass(slots=True)
class SettleReport:
    """What a settlement run did.

    Attributes:
        billed: What each supply was billed by this run: first settlements and
            re-settlements (the difference), in metering point order.
        unchanged: Supplies settled before whose bill did not change.
        problems: Supplies that could not be settled, each with the reason.
    """

    billed: list[Settlement] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total_nok(self) -> Decimal:
        """Sum billed by this run. [NOK]"""
        return sum((s.total_nok for s in self.billed), Decimal(0))

    def merge(self, other: SettleReport) -> None:
        """Add another part of the same run."""
        self.billed.extend(other.billed)
        self.unchanged += other.unchanged
        self.problems.extend(other.problems)


def supplies_in(
    point: MeteringPointInfo, periods: Iterable[SupplyPeriod], first: date, last: date
) -> list[Supply]:
    """The supplies of a metering point within ``first`` .. ``last`` (one month).

    Without supply periods the metering point is supplied to its customer all month.
    """
    own = sorted(
        (p for p in periods if p.metering_point_id == point.metering_point_id),
        key=lambda p: p.from_day,
    )
    if not own:
        return [_supply(point, point.customer_id, first, last, norgespris=False)]
    out = []
    for period in own:
        begin = max(first, period.from_day)
        end = last if period.to_day is None else min(last, period.to_day)
        if begin <= end:
            out.append(_supply(point, period.customer_id, begin, end, period.norgespris))
    return out


def _supply(
    point: MeteringPointInfo, customer_id: str, first: date, last: date, norgespris: bool
) -> Supply:
    return Supply(
        point.metering_point_id,
        customer_id,
        point.customer_type,
        point.postcode,
        point.municipality,
        first,
        last,
        norgespris,
    )


class _MonthRun:
    """One month's settlement: the caches shared by its batches, and a batch's work."""

    def __init__(self, month: str, tariff: Tariff, taxes: TaxRules) -> None:
        self.month = month
        self.first, self.last = month_bounds(month)
        self.start_s = local_day_bounds(self.first)[0]
        self.end_s = local_day_bounds(self.last)[1]
        self.grid = hour_grid(self.first, self.last)
        self.tariff, self.taxes = tariff, taxes
        self._spot: dict[str, dict[int, Decimal]] = {}
        self._prices: dict[tuple[str, date, date], MonthPrices] = {}

    def prices_of(self, prices: PriceStore, area: str, supply: Supply) -> MonthPrices:
        key = (area, supply.first_day, supply.last_day)
        found = self._prices.get(key)
        if found is None:
            spot = self._spot.get(area)
            if spot is None:
                spot = self._spot[area] = {
                    h.start_at_s: h.nok_per_kwh
                    for h in hourly_prices_nok(prices, area, self.start_s, self.end_s)
                    if h.nok_per_kwh is not None
                }
            days = hour_grid(supply.first_day, supply.last_day)
            found = self._prices[key] = month_prices(spot, days)
        return found

    def batch(
        self, store: SettlementStore, prices: PriceStore, chunk: Sequence[MeteringPointInfo],
        now_s: int,
    ) -> SettleReport:  # fmt: skip
        """Settle a batch of metering points and keep their runs; what it billed."""
        report = SettleReport()
        ids = [p.metering_point_id for p in chunk]
        periods = store.supply_periods(ids, self.first, self.last)
        usage = store.month_arrays(ids, self.first, self.last)
        earlier = store.last_runs(ids, self.month)
        runs: list[tuple[Settlement, Settlement]] = []
        for point in chunk:
            month_usage = usage.get(point.metering_point_id) or HourArrays.empty(self.grid.hours)
            for supply in supplies_in(point, periods, self.first, self.last):
                try:
                    full = settle_hours(
                        supply,
                        month_usage.window(self.grid, supply.first_day, supply.last_day),
                        self.prices_of(prices, point.area, supply),
                        self.tariff,
                        self.taxes,
                    )
                except ValueError as exc:
                    report.problems.append(f"{point.metering_point_id} {supply.first_day}: {exc}")
                    continue
                before = earlier.get((point.metering_point_id, supply.first_day))
                if before is None:
                    runs.append((full, full))
                    continue
                change = difference(before, full)
                if change is None:
                    report.unchanged += 1
                    continue
                runs.append((change, replace(full, version=change.version)))
        if runs:
            store.save_runs(runs, self.tariff, now_s)
            report.billed.extend(billed for billed, _ in runs)
        return report


#: Opens, in a worker process, the stores a worker settles with.
OpenStores = Callable[[], tuple[SettlementStore, PriceStore]]
_WORKER: dict[str, object] = {}


def _start_worker(open_stores: OpenStores, run: _MonthRun, now_s: int) -> None:
    _WORKER["stores"], _WORKER["run"], _WORKER["now_s"] = open_stores(), run, now_s


def _worker_batch(chunk: Sequence[MeteringPointInfo]) -> tuple[SettleReport, int]:
    store, prices = cast("tuple[SettlementStore, PriceStore]", _WORKER["stores"])
    run = cast("_MonthRun", _WORKER["run"])
    report = run.batch(store, prices, chunk, cast("int", _WORKER["now_s"]))
    # the days per day are for invoices, read from the store; not sent back
    report.billed = [replace(s, days=()) for s in report.billed]
    return report, len(chunk)


def settle_month(
    store: SettlementStore,
    prices: PriceStore,
    month: str,
    tariff: Tariff,
    taxes: TaxRules,
    *,
    now_s: int,
    metering_point_id: str | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    open_stores: OpenStores | None = None,
) -> SettleReport:
    """Settle (or re-settle) every supply of a month; see the module.

    Args:
        store: Metering points, values and runs.
        prices: Spot prices and exchange rates.
        month: ``YYYY-MM``.
        tariff: The grid company's tariff.
        taxes: The state's rules.
        now_s: When the run happens (stored with it), epoch seconds.
        metering_point_id: Settle only this metering point.
        batch: Metering points read from the store at a time.
        progress: Called with the number of metering points done after each batch.
        workers: Processes settling batches side by side (with ``open_stores``); the
            settlements they return have no per-day figures (``days``), which the stored
            runs keep.
        open_stores: Opens the stores in a worker process (a fresh connection each).

    Raises:
        ValueError: ``month`` is not ``YYYY-MM``.
    """
    run = _MonthRun(month, tariff, taxes)
    points = store.metering_points(metering_point_id)
    chunks = [points[n : n + batch] for n in range(0, len(points), batch)]
    report = SettleReport()
    if workers > 1 and open_stores is not None and len(chunks) > 1:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, _start_worker, (open_stores, run, now_s)) as pool:
            for part, done in pool.imap(_worker_batch, chunks):
                report.merge(part)
                if progress is not None:
                    progress(done)
        return report
    for chunk in chunks:
        report.merge(run.batch(store, prices, chunk, now_s))
        if progress is not None:
            progress(len(chunk))
    return report

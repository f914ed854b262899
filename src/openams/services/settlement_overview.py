"""Settlement runs as the console shows them: the months settled and each month's runs.

A month's summary counts the runs stored for it (first settlements and re-settlements), the
metering points they bill and the amount billed in all (the sum of every run's total: a
re-settlement's total is the difference it bills). A month's runs are listed a page at a
time, largest amount first or by metering point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from openams.domain.settlement_types import Settlement
from openams.errors import InputError

__all__ = [
    "ORDERS",
    "PAGE_SIZE",
    "MonthRuns",
    "MonthSummary",
    "SettlementOverviewStore",
    "month_runs",
    "settled_months",
]

#: Runs on a page.
PAGE_SIZE: Final = 50
#: How a month's runs can be listed: largest amount billed first, or by metering point.
ORDERS: Final = ("amount", "metering_point")
_MONTH = re.compile(r"(19|20)\d\d-(0[1-9]|1[0-2])")
#: The last page asked for may be at most this (a page number is not a free integer).
_MAX_PAGE: Final = 100_000


@dataclass(frozen=True, slots=True)
class MonthSummary:
    """A month's settlement runs in all.

    Attributes:
        month: ``YYYY-MM``.
        metering_points: Metering points billed by at least one run.
        settlements: First settlements (of a metering point, or of a part of the month after
            a move).
        resettlements: Re-settlements (corrections).
        billed_nok: The sum of every run's total. [NOK]
        last_settled_at_s: When the last run was made. [epoch s]
    """

    month: str
    metering_points: int
    settlements: int
    resettlements: int
    billed_nok: Decimal
    last_settled_at_s: int


@dataclass(frozen=True, slots=True)
class MonthRuns:
    """A page of a month's runs.

    Attributes:
        summary: The month in all (None: nothing settled for it).
        runs: The page's runs with when they were made, ``(settlement, settled_at_s)``.
        order: One of :data:`ORDERS`.
        page: The page shown, from 1.
        pages: Pages in all (at least 1).
    """

    summary: MonthSummary | None
    runs: tuple[tuple[Settlement, int], ...]
    order: str
    page: int
    pages: int


class SettlementOverviewStore(Protocol):
    """What the overview reads."""

    def month_summaries(self) -> list[MonthSummary]:
        """Every month with a run, newest first."""

    def month_summary(self, month: str) -> MonthSummary | None:
        """One month's summary; None when nothing is settled for it."""

    def month_page(
        self, month: str, order: str, offset: int, limit: int
    ) -> list[tuple[Settlement, int]]:
        """``limit`` runs of the month from ``offset`` in ``order``, with their times."""


def settled_months(store: SettlementOverviewStore) -> list[MonthSummary]:
    """Every month settled, newest first."""
    return store.month_summaries()


def _whole(text: str, name: str, low: int, high: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise InputError(f"{name} must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}")
    return value


def month_runs(
    store: SettlementOverviewStore, month: str, *, order: str = "amount", page: str = "1"
) -> MonthRuns:
    """A page of ``month``'s runs.

    Args:
        month: ``YYYY-MM``.
        order: One of :data:`ORDERS`.
        page: The page number as asked for (text from a form), from 1; past the last page
            gives the last page.

    Raises:
        InputError: a month not as ``YYYY-MM``, an unknown order or a bad page number.
    """
    if not _MONTH.fullmatch(month):
        raise InputError("month must be YYYY-MM")
    if order not in ORDERS:
        raise InputError(f"order must be one of {', '.join(ORDERS)}")
    wanted = _whole(page or "1", "page", 1, _MAX_PAGE)
    summary = store.month_summary(month)
    count = 0 if summary is None else summary.settlements + summary.resettlements
    pages = max(1, -(-count // PAGE_SIZE))
    shown = min(wanted, pages)
    runs = store.month_page(month, order, (shown - 1) * PAGE_SIZE, PAGE_SIZE) if count else []
    return MonthRuns(summary, tuple(runs), order, shown, pages)

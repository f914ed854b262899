"""Paging a month's settlement runs (openams.services.settlement_overview)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openams.errors import InputError
from openams.services.settlement_overview import PAGE_SIZE, MonthSummary, month_runs


class _Runs:
    """A month of ``count`` runs; a run is its position in the order asked for."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked: list[tuple[str, int, int]] = []

    def month_summaries(self):
        return [self.month_summary("2026-01")]

    def month_summary(self, month):
        if month != "2026-01" or not self.count:
            return None
        return MonthSummary(month, self.count, self.count, 0, Decimal(0), 1)

    def month_page(self, month, order, offset, limit):
        self.asked.append((order, offset, limit))
        return [(i, 1) for i in range(offset, min(self.count, offset + limit))]


@pytest.mark.parametrize(
    ("count", "page", "shown", "pages", "first"),
    [
        (0, "1", 1, 1, None),
        (1, "1", 1, 1, 0),
        (PAGE_SIZE, "2", 1, 1, 0),  # past the last page: the last page
        (PAGE_SIZE + 1, "2", 2, 2, PAGE_SIZE),
        (3 * PAGE_SIZE, "", 1, 3, 0),
    ],
)
def test_pages(count, page, shown, pages, first):
    store = _Runs(count)
    found = month_runs(store, "2026-01", page=page)
    assert (found.page, found.pages) == (shown, pages)
    assert (found.runs[0][0] if found.runs else None) == first
    assert len(found.runs) == min(PAGE_SIZE, max(0, count - (shown - 1) * PAGE_SIZE))
    assert all(limit == PAGE_SIZE for _, _, limit in store.asked)
    assert (found.summary is None) == (count == 0)


@pytest.mark.parametrize(
    ("month", "order", "page", "named"),
    [
        ("2026-1", "amount", "1", "month"),
        ("2026-00", "amount", "1", "month"),
        ("1899-01", "amount", "1", "month"),
        ("2026-01", "total", "1", "order"),
        ("2026-01", "amount", "0", "page"),
        ("2026-01", "amount", "-1", "page"),
        ("2026-01", "amount", "1.5", "page"),
        ("2026-01", "amount", "\u0661", "page"),  # an Arabic-Indic one is a digit, not ours
        ("2026-01", "amount", "1" * 7, "page"),
    ],
)
def test_bad_requests_name_what_is_wrong(month, order, page, named):
    with pytest.raises(InputError, match=named):
        month_runs(_Runs(5), month, order=order, page=page)

"""``ams quarantine``: what could not be used, and processing it again after a fix.

A push is quarantined whole (raw bytes, channel, source, arrival time, reason). After the
cause is fixed — the missing meter imported, its keys corrected — :func:`retry` runs the
quarantined pushes through the same ingest again: those that now go in (or turn out to be
duplicates) are marked resolved; the others stay, with the time of the retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .ingest import IncomingPush, IngestReport, IngestStore, ingest

__all__ = ["QuarantineItem", "QuarantineStore", "RetryReport", "retry"]


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """One quarantined push."""

    quarantine_id: int
    received_at_s: int
    channel: str
    source: str | None
    reason: str
    message: str
    system_title: bytes | None
    raw: bytes
    retried_at_s: int | None
    resolved: bool


class QuarantineStore(Protocol):
    """The quarantine in the store."""

    def items(
        self, *, reason: str | None = None, ids: Sequence[int] = (), resolved: bool = False,
        limit: int | None = None,
    ) -> list[QuarantineItem]:  # fmt: skip
        """Quarantined pushes, oldest first."""
        ...

    def mark(self, resolved: Sequence[int], retried: Sequence[int], at_s: int) -> None:
        """Record a retry: which were resolved, which were tried and stay."""
        ...


@dataclass(frozen=True, slots=True)
class RetryReport:
    """What a retry did."""

    tried: int
    resolved: int
    still: int
    ingest: IngestReport


def retry(
    quarantine: QuarantineStore,
    store: IngestStore,
    *,
    now_s: int,
    reason: str | None = None,
    ids: Sequence[int] = (),
) -> RetryReport:
    """Run quarantined pushes (of ``reason``, or these ``ids``) through ingest again."""
    items = quarantine.items(reason=reason, ids=ids)
    outcomes: list[str] = []
    report = ingest(
        (
            IncomingPush(item.raw, item.received_at_s, item.channel, item.source or "")
            for item in items
            if item.channel != "file" or item.reason != "bad_input"
        ),
        store,
        outcomes=outcomes,
    )
    candidates = [i for i in items if i.channel != "file" or i.reason != "bad_input"]
    resolved = [
        item.quarantine_id
        for item, outcome in zip(candidates, outcomes, strict=True)
        if outcome in ("stored", "duplicate")
    ]
    still = [i.quarantine_id for i in items if i.quarantine_id not in set(resolved)]
    quarantine.mark(resolved, still, now_s)
    return RetryReport(len(items), len(resolved), len(still), report)

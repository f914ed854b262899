"""HAN port opening requests: a customer asks, an operator opens the port or refuses.

* :func:`request_opening`: a customer asks for the HAN port of one of their metering points
  to be opened. While a request for the metering point is open, asking again gives that
  request back instead of a second one.
* :func:`customer_requests`: per metering point of the customer, the request to show.
* :func:`open_requests`: the requests waiting, for operators, oldest deadline first, the
  overdue ones flagged.
* :func:`close_request`: an operator marks a request opened, or refused with a reason.
* :func:`han_counts`: open and overdue requests, for the console's dashboard.

The deadline rule and the transitions are :mod:`openams.domain.han_requests`.

Invariants:
    * A customer reaches only their own metering points: those the settlement store gives
      them (``points_of_customer``), the same as every page of the portal.
    * At most one open request per metering point; the store enforces it too, so two
      requests at the same moment still make one.
    * Every list of requests an operator sees and every request closed is in the access log
      (:mod:`openams.services.audit`), with the metering point and the customer.
    * A refused change stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol

from openams.domain import han_requests as domain
from openams.domain.han_requests import HanRequest, HanRequestRefused, local_day, new_request

from .accounts import Account
from .audit import AuditStore, NotAllowed, record_access

__all__ = [
    "HANDLERS",
    "LIST_LIMIT",
    "HanCounts",
    "HanRequestStore",
    "OpenRequest",
    "OpenRequests",
    "PointRequest",
    "close_request",
    "customer_requests",
    "han_counts",
    "open_requests",
    "request_opening",
]

#: The roles that list, open and refuse requests.
HANDLERS: Final = ("operator", "administrator")
#: The most open requests listed at once (the oldest deadlines).
LIST_LIMIT: Final = 500


class HanRequestStore(Protocol):
    """Where requests are kept, and whose metering points are whose."""

    def points_of_customer(self, customer_id: str) -> list[str]:
        """The metering points supplied to a customer now, in id order."""
        ...

    def add_request(self, request: HanRequest) -> HanRequest:
        """Keep a new open request (its ``request_id`` is assigned); if the metering point
        already has an open request, keep nothing and return that one."""
        ...

    def request(self, request_id: int) -> HanRequest | None:
        """The request of a number."""
        ...

    def requests_of_points(
        self, metering_point_ids: Sequence[str], customer_id: str
    ) -> list[HanRequest]:
        """The requests on these metering points that are open or that ``customer_id``
        made, newest first."""
        ...

    def open_requests(self, limit: int) -> list[tuple[HanRequest, str]]:
        """The open requests, earliest deadline first (then oldest), at most ``limit``, each
        with the name of its customer (empty if unknown)."""
        ...

    def save_closed(self, request: HanRequest) -> bool:
        """Store a request's closing if it is still open; whether it was."""
        ...

    def count_open(self, today: date) -> tuple[int, int]:
        """Open requests, and of them those whose deadline is before ``today``."""
        ...


@dataclass(frozen=True, slots=True)
class PointRequest:
    """A customer's metering point with the request to show for it.

    Attributes:
        metering_point_id: The metering point.
        request: Its open request, else the customer's latest; ``None`` if neither.
    """

    metering_point_id: str
    request: HanRequest | None

    @property
    def can_request(self) -> bool:
        """Whether the customer may ask now: no request is open."""
        return self.request is None or not self.request.is_open


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """An open request as the operators' list shows it.

    Attributes:
        request: The request.
        customer_name: Its customer's name (empty if unknown).
        overdue: Whether its deadline has passed.
    """

    request: HanRequest
    customer_name: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class HanCounts:
    """Open requests and how many of them are overdue."""

    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class OpenRequests:
    """The operators' list.

    Attributes:
        rows: The open requests, earliest deadline first, at most :data:`LIST_LIMIT`.
        counts: All open requests and the overdue ones (also those not listed).
    """

    rows: tuple[OpenRequest, ...]
    counts: HanCounts


def _check_handler(account: Account) -> None:
    if account.role not in HANDLERS:
        raise NotAllowed("only operators and administrators handle HAN port requests")


def request_opening(
    store: HanRequestStore, customer_id: str | None, metering_point_id: str, *, now_s: int
) -> HanRequest:
    """Ask for the HAN port of a customer's metering point to be opened, now.

    Returns:
        The new request, or the metering point's open one if it has one.

    Raises:
        HanRequestRefused: ``unknown_point``: the metering point is not the customer's (or
            does not exist).
    """
    if customer_id is None or metering_point_id not in store.points_of_customer(customer_id):
        raise HanRequestRefused("not one of the customer's metering points",
                                problem="unknown_point")  # fmt: skip
    return store.add_request(new_request(metering_point_id, customer_id, now_s))


def customer_requests(store: HanRequestStore, customer_id: str | None) -> list[PointRequest]:
    """Each of the customer's metering points, in id order, with its open request or else
    the customer's latest one.

    A request made by someone else on the point (before the customer moved in) is shown only
    while it is open: the port is being opened for the meter the customer now uses.
    """
    if customer_id is None:
        return []
    points = store.points_of_customer(customer_id)
    found = store.requests_of_points(points, customer_id) if points else []
    shown: list[PointRequest] = []
    for point in points:
        mine = [r for r in found if r.metering_point_id == point]
        current = next((r for r in mine if r.is_open), None)
        if current is None:
            current = next((r for r in mine if r.customer_id == customer_id), None)
        shown.append(PointRequest(point, current))
    return shown


def han_counts(store: HanRequestStore, *, now_s: int) -> HanCounts:
    """Open requests now, and those of them overdue."""
    open_count, overdue = store.count_open(local_day(now_s))
    return HanCounts(open_count, overdue)


def open_requests(
    store: HanRequestStore,
    audit: AuditStore,
    viewer: Account,
    *,
    now_s: int,
    limit: int = LIST_LIMIT,
) -> OpenRequests:
    """The open requests for an operator, earliest deadline first, overdue ones flagged.

    The list names customers, so that it was seen is written to the access log.

    Raises:
        NotAllowed: ``viewer`` is not an operator or administrator.
    """
    _check_handler(viewer)
    rows = tuple(OpenRequest(request, name, request.overdue(now_s))
                 for request, name in store.open_requests(limit))  # fmt: skip
    counts = han_counts(store, now_s=now_s)
    record_access(audit, viewer, "view_han_requests", detail=f"{len(rows)} of {counts.open}",
                  now_s=now_s)  # fmt: skip
    return OpenRequests(rows, counts)


def close_request(
    store: HanRequestStore,
    audit: AuditStore,
    operator: Account,
    request_id: int,
    *,
    opened: bool,
    reason: str,
    now_s: int,
) -> HanRequest:
    """Mark a request opened (``opened``) or refused, and write it to the access log.

    Raises:
        NotAllowed: ``operator`` is not an operator or administrator.
        HanRequestRefused: ``unknown_request``; ``not_open`` (already closed, also by
            someone else a moment ago); ``reason`` (a refusal without one),
            ``reason_too_long`` or ``reason_characters``. Nothing is stored.
    """
    _check_handler(operator)
    request = store.request(request_id)
    if request is None:
        raise HanRequestRefused("no such request", problem="unknown_request")
    closed = domain.close_request(
        request, opened=opened, reason=reason, closed_by=operator.email, now_s=now_s
    )
    if not store.save_closed(closed):
        raise HanRequestRefused("only an open request can be closed", problem="not_open")
    detail = f"request {closed.request_id} {closed.status}"
    if closed.reason:
        detail += f": {closed.reason}"
    record_access(audit, operator, f"han_port_{closed.status}",
                  metering_point_id=closed.metering_point_id,
                  customer_id=closed.customer_id, detail=detail, now_s=now_s)  # fmt: skip
    return closed

"""Requests to open a meter's HAN port, and the deadline the grid company has to do it.

The HAN port (*han-porten*) is the meter's local customer interface: once it is open, the
customer's own equipment reads the meter's lists every few seconds. It is closed when the
meter is installed; the customer asks the grid company to open it, and the grid company must
do so within three working days.

The deadline rule:
    * The day of a request is the local day (Europe/Oslo) on which it was received, whatever
      the hour: a request at 23:59 on a Monday is Monday's, one at 00:01 on the Tuesday is
      Tuesday's, and the UTC date does not matter.
    * The grid company has the three working days *after* that day; the day of the request
      never counts, even when it is a working day. The deadline is the end of the third of
      them (local midnight after it).
    * A working day is Monday to Friday unless it is a public holiday
      (:func:`openams.domain.calendar.is_public_holiday`). Christmas Eve and New Year's Eve
      are not public holidays and count as working days when they fall on a weekday.

    So a request on Friday at 16:00 is due by the end of Wednesday (Monday, Tuesday,
    Wednesday); one on a Saturday or Sunday also by the end of Wednesday; one on Maundy
    Thursday 2 April 2026 by the end of Thursday 9 April (Good Friday, the weekend and Easter
    Monday do not count: Tuesday 7, Wednesday 8, Thursday 9).

Invariants:
    * Pure: no clock, no I/O; every time is passed in as whole epoch seconds.
    * A request is ``requested`` (open) until it is closed, once, as ``opened`` or
      ``refused``; a closed request never changes again.
    * A refusal always has a reason, a cleaned text of at most :data:`MAX_REASON` characters.
    * The deadline is a working day, exactly :data:`WORKING_DAYS` working days after the day
      of the request; a request is overdue from the first second after its deadline day while
      it is still open.

References:
    Forskrift om måling, avregning, fakturering av nettjenester og elektrisk energi,
    nettselskapets nøytralitet mv. (avregningsforskriften), FOR-1999-03-11-301, § 4-2: a
    meter has a standardised interface for external equipment (the HAN port).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from openams.errors import InputError

from .calendar import is_public_holiday

__all__ = [
    "MAX_REASON",
    "OPENED",
    "REFUSED",
    "REQUESTED",
    "STATUSES",
    "WORKING_DAYS",
    "HanRequest",
    "HanRequestRefused",
    "add_working_days",
    "clean_reason",
    "close_request",
    "deadline_for",
    "end_of_day_s",
    "is_working_day",
    "local_day",
    "new_request",
]

OSLO = ZoneInfo("Europe/Oslo")
#: The working days the grid company has after the day of the request.
WORKING_DAYS: Final = 3
#: The longest reason kept with a closed request. [characters]
MAX_REASON: Final = 500
#: A request not yet handled.
REQUESTED: Final = "requested"
#: The port was opened.
OPENED: Final = "opened"
#: The grid company refused, with a reason (no HAN port, the meter is to be replaced, ...).
REFUSED: Final = "refused"
STATUSES: Final = (REQUESTED, OPENED, REFUSED)
# White space allowed in a reason; any other control character is refused.
_ALLOWED_CONTROLS = frozenset("\n\r\t")


class HanRequestRefused(InputError):
    """A request or a change of it was refused; nothing was stored.

    Attributes:
        problem: Which check failed: ``not_open`` (the request is already closed),
            ``reason`` (a refusal without a reason), ``reason_too_long``,
            ``reason_characters`` (control characters), or from
            :mod:`openams.services.han_requests`: ``unknown_point`` (not one of the
            customer's metering points) and ``unknown_request``.
    """

    code = "han_request_refused"

    def __init__(self, message: str, *, problem: str) -> None:  # noqa: D107 - see the class
        super().__init__(message)
        self.problem = problem


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a Norwegian working day: Monday to Friday and no public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts).

    Raises:
        ValueError: ``count`` is not positive.
    """
    if count < 1:
        raise ValueError(f"count must be positive, not {count}")
    found = 0
    while found < count:
        day += timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def local_day(at_s: int) -> date:
    """The local day (Europe/Oslo) of an instant ``at_s``, epoch seconds."""
    return datetime.fromtimestamp(at_s, UTC).astimezone(OSLO).date()


def end_of_day_s(day: date) -> int:
    """The end of a local day: local midnight after it, epoch seconds.

    A local day is 23, 24 or 25 hours long around the clock changes.
    """
    following = day + timedelta(days=1)
    return int(datetime(following.year, following.month, following.day, tzinfo=OSLO).timestamp())


def deadline_for(requested_at_s: int) -> date:
    """The last day to open the port for a request received at ``requested_at_s``.

    It is the :data:`WORKING_DAYS`-th working day after the local day of the request.
    """
    return add_working_days(local_day(requested_at_s), WORKING_DAYS)


@dataclass(frozen=True, slots=True)
class HanRequest:
    """A customer's request to open the HAN port of a metering point's meter.

    Attributes:
        request_id: Its number (0 until stored).
        metering_point_id: The metering point (GSRN) whose meter's port is to be opened.
        customer_id: The customer who asked.
        requested_at_s: When the request was received. [epoch s]
        deadline: The last local day to open the port (:func:`deadline_for`).
        status: :data:`REQUESTED`, :data:`OPENED` or :data:`REFUSED`.
        closed_at_s: When it was opened or refused. [epoch s]
        closed_by: Who opened or refused it (the operator's e-mail address).
        reason: Why it was refused, or a note with an opening; empty otherwise.
    """

    request_id: int
    metering_point_id: str
    customer_id: str
    requested_at_s: int
    deadline: date
    status: str = REQUESTED
    closed_at_s: int | None = None
    closed_by: str | None = None
    reason: str = ""

    @property
    def is_open(self) -> bool:
        """Whether it still waits for the grid company."""
        return self.status == REQUESTED

    @property
    def due_at_s(self) -> int:
        """The end of the deadline day, epoch seconds."""
        return end_of_day_s(self.deadline)

    def overdue(self, now_s: int) -> bool:
        """Whether it is open after its deadline day has ended."""
        return self.is_open and now_s >= self.due_at_s


def new_request(metering_point_id: str, customer_id: str, requested_at_s: int) -> HanRequest:
    """A request received at ``requested_at_s``, open, with its deadline."""
    return HanRequest(0, metering_point_id, customer_id, requested_at_s,
                      deadline_for(requested_at_s))  # fmt: skip


def _control(c: str) -> bool:
    """Whether ``c`` is a control character other than a line break or tab."""
    return (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) and c not in _ALLOWED_CONTROLS


def clean_reason(text: str, *, required: bool) -> str:
    """A reason as typed, trimmed.

    Raises:
        HanRequestRefused: empty when ``required``, longer than :data:`MAX_REASON`
            characters, or with control characters other than line breaks and tabs.
    """
    reason = text.strip()
    if required and not reason:
        raise HanRequestRefused("a refusal needs a reason", problem="reason")
    if len(reason) > MAX_REASON:
        raise HanRequestRefused(f"a reason is at most {MAX_REASON} characters",
                                problem="reason_too_long")  # fmt: skip
    if any(_control(c) for c in reason):
        raise HanRequestRefused("a reason has no control characters",
                                problem="reason_characters")  # fmt: skip
    return reason


def close_request(
    request: HanRequest, *, opened: bool, reason: str, closed_by: str, now_s: int
) -> HanRequest:
    """The request opened (``opened``) or refused, by ``closed_by`` at ``now_s``.

    A refusal needs a reason; with an opening a reason is an optional note.

    Raises:
        HanRequestRefused: the request is not open, or the reason is missing (for a
            refusal), too long or has control characters.
    """
    if not request.is_open:
        raise HanRequestRefused("only an open request can be closed", problem="not_open")
    kept = clean_reason(reason, required=not opened)
    return dataclasses.replace(request, status=OPENED if opened else REFUSED, closed_at_s=now_s,
                               closed_by=closed_by, reason=kept)  # fmt: skip

"""The operator console: the dashboard, finding a metering point, its page, and value edits.

The console's pages (:mod:`openams.web.console`) show what these functions return:

* :func:`dashboard`: meters heard from in the last 24 hours, pushes per minute over the last
  hour, quarantined pushes by reason, Elhub completeness of yesterday, security events of
  the last 24 hours by kind, and HAN port requests open and overdue. Each figure is one
  aggregate over the store (:class:`ConsoleStore`), so the page costs the same for ten
  meters as for a million.
* :func:`search_points`: metering points by GSRN prefix, address, customer name or id, or
  meter id; case-insensitive, at most :data:`SEARCH_LIMIT` of them.
* :func:`point_detail`: a metering point with its customer, meters, the values of the last
  :data:`DETAIL_DAYS` days with their status, its latest register reads, events and
  quarantined pushes, its settlement runs and the manual edits of its values.
* :func:`edit_from_form`: a value edit as typed into the console's form, checked and handed
  to :func:`openams.services.edits.edit_value`, which audits it.

Invariants:
    * Nothing here writes but :func:`edit_from_form` (through the edit service); the access
      log of who saw what is the caller's (:mod:`openams.services.audit`).
    * A refused edit stores nothing, and says which field was wrong
      (:attr:`EditRefused.problem`) so that the page can say it in the user's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final, Protocol

from openams.domain.settlement_types import Settlement
from openams.errors import InputError

from .edits import MAX_EDIT_WH, EditStore, ValueEdit, edit_value
from .export import deadline_of
from .han_requests import HanCounts, HanRequestStore, han_counts
from .vee import OSLO, local_day_bounds

__all__ = [
    "DETAIL_DAYS",
    "DETAIL_ROWS",
    "MAX_QUERY",
    "MAX_REASON",
    "MAX_WORDS",
    "SEARCH_LIMIT",
    "ConsoleStore",
    "Dashboard",
    "EditRefused",
    "ElhubCompleteness",
    "IntervalValue",
    "MeterEvent",
    "MeterInfo",
    "PointDetail",
    "PointHit",
    "PointInfo",
    "QuarantinedPush",
    "RegisterRead",
    "SearchQuery",
    "SearchResult",
    "SettlementRun",
    "dashboard",
    "edit_from_form",
    "parse_search",
    "point_detail",
    "search_points",
]

#: How far back a meter counts as heard from. [s]
HEARD_WINDOW_S: Final = 86_400
#: Minutes of pushes counted on the dashboard.
PUSH_MINUTES: Final = 60
#: Days of values on a metering point's page.
DETAIL_DAYS: Final = 7
#: The most rows of reads, events, quarantined pushes, runs and edits on a point's page.
DETAIL_ROWS: Final = 50
#: The most metering points a search returns.
SEARCH_LIMIT: Final = 50
#: The longest search text. [characters]
MAX_QUERY: Final = 100
#: The most words of a search compared with addresses and names.
MAX_WORDS: Final = 8
#: The longest reason of an edit. [characters]
MAX_REASON: Final = 500
#: Metering points not delivered to Elhub listed on the dashboard.
MISSING_LISTED: Final = 20
_MAX_NUMBER = 32
_SPACES = re.compile(r"\s+")
_KWH = re.compile(r"[0-9]+([.,][0-9]+)?")


def _kwh(wh: int | None) -> Decimal | None:
    return None if wh is None else Decimal(wh).scaleb(-3)


# --- the dashboard ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElhubCompleteness:
    """Yesterday's delivery to Elhub.

    Attributes:
        day: The local day delivered.
        expected: Metering points with a meter, each of which owes Elhub the day.
        delivered: Of those, how many had the day's consumption series sent.
        missing: The first of those not sent, by id.
        deadline_at_s: 07:00 local time the day after ``day``, epoch seconds.
    """

    day: date
    expected: int
    delivered: int
    missing: tuple[str, ...]
    deadline_at_s: int

    @property
    def percent(self) -> Decimal | None:
        """Delivered of expected, one decimal; ``None`` when nothing is expected. [%]"""
        if not self.expected:
            return None
        return (Decimal(100 * self.delivered) / self.expected).quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The console's first page.

    Attributes:
        now_s: When the figures were taken, epoch seconds.
        meters_heard: Meters with a register read in the last 24 hours.
        meters_total: Meters registered.
        first_minute_s: Start of the first minute of ``pushes_by_minute``, epoch seconds.
        pushes_by_minute: Pushes received in each of the last 60 whole minutes, oldest
            first: register reads, event pushes and quarantined pushes.
        quarantined_by_reason: Unresolved quarantined pushes per reason, most first.
        elhub: Yesterday's delivery to Elhub.
        security_by_kind: Security events of the last 24 hours per kind, most first.
        han_open: HAN port requests not yet handled.
        han_overdue: Of those, the ones past their deadline.
    """

    now_s: int
    meters_heard: int
    meters_total: int
    first_minute_s: int
    pushes_by_minute: tuple[int, ...]
    quarantined_by_reason: tuple[tuple[str, int], ...]
    elhub: ElhubCompleteness
    security_by_kind: tuple[tuple[str, int], ...]
    han_open: int = 0
    han_overdue: int = 0

    @property
    def pushes_last_hour(self) -> int:
        """Pushes received in the last hour."""
        return sum(self.pushes_by_minute)

    @property
    def pushes_per_minute(self) -> Decimal:
        """The mean over the last hour, one decimal. [1/min]"""
        return (Decimal(self.pushes_last_hour) / PUSH_MINUTES).quantize(Decimal("0.1"))

    @property
    def busiest_minute(self) -> int:
        """The most pushes received in one minute of the last hour."""
        return max(self.pushes_by_minute, default=0)

    @property
    def quarantined(self) -> int:
        """Unresolved quarantined pushes."""
        return sum(n for _, n in self.quarantined_by_reason)

    @property
    def security_events(self) -> int:
        """Security events of the last 24 hours."""
        return sum(n for _, n in self.security_by_kind)


# --- search -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What was typed into the search box, made ready for the store.

    Attributes:
        text: The text, trimmed, with runs of white space made one space.
        folded: ``text`` in lower case (compared with lower-cased columns).
        words: The words of ``folded`` (commas are spaces), at most :data:`MAX_WORDS`: an
            address or name matches when it contains every one.
        digits: ``text`` without spaces if that is all digits (a GSRN prefix), else ``""``.
    """

    text: str
    folded: str
    words: tuple[str, ...]
    digits: str


@dataclass(frozen=True, slots=True)
class PointHit:
    """A metering point found, with its address, customer and meters."""

    metering_point_id: str
    street: str
    house_number: str
    postcode: str
    municipality: str
    customer_id: str
    customer_name: str | None
    meter_ids: tuple[str, ...]

    @property
    def address(self) -> str:
        """Street and house number, postcode and place."""
        return f"{self.street} {self.house_number}, {self.postcode} {self.municipality}"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The metering points a search found (at most :data:`SEARCH_LIMIT`).

    Attributes:
        query: The search.
        hits: The metering points, in id order.
        more: Whether more matched than are listed.
    """

    query: SearchQuery
    hits: tuple[PointHit, ...]
    more: bool


# --- a metering point's page --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointInfo:
    """A metering point and its customer."""

    metering_point_id: str
    transformer_id: str
    customer_type: str
    street: str
    house_number: str
    postcode: str
    municipality: str
    area: str
    main_fuse_a: int
    phases: int
    grid_type: str
    customer_id: str
    customer_name: str | None
    customer_mobile: str | None
    customer_email: str | None

    @property
    def address(self) -> str:
        """Street and house number, postcode and place."""
        return f"{self.street} {self.house_number}, {self.postcode} {self.municipality}"


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """A meter of the metering point (never its keys)."""

    meter_id: str
    manufacturer: str
    meter_type: str
    phases: int
    push_interval_s: int
    system_title: bytes


@dataclass(frozen=True, slots=True)
class IntervalValue:
    """A stored interval value with its status.

    Attributes:
        start_at_s: Start of the interval, epoch seconds.
        resolution_s: Its length. [s]
        import_wh: Active energy imported (A+). [Wh]
        export_wh: Active energy exported (A-). [Wh]
        status: The Elhub status.
        validation: The validation it failed, if any.
        estimation: How it was estimated, if it was.
        updated_at_s: When it was last written, epoch seconds.
    """

    start_at_s: int
    resolution_s: int
    import_wh: int | None
    export_wh: int | None
    status: str
    validation: str | None
    estimation: str | None
    updated_at_s: int

    @property
    def import_kwh(self) -> Decimal | None:
        """``import_wh`` in kWh. [kWh]"""
        return _kwh(self.import_wh)

    @property
    def export_kwh(self) -> Decimal | None:
        """``export_wh`` in kWh. [kWh]"""
        return _kwh(self.export_wh)


@dataclass(frozen=True, slots=True)
class RegisterRead:
    """A register read as a meter pushed it."""

    meter_id: str
    read_at_s: int
    received_at_s: int
    invocation_counter: int | None
    import_wh: int | None
    export_wh: int | None

    @property
    def import_kwh(self) -> Decimal | None:
        """``import_wh`` in kWh. [kWh]"""
        return _kwh(self.import_wh)

    @property
    def export_kwh(self) -> Decimal | None:
        """``export_wh`` in kWh. [kWh]"""
        return _kwh(self.export_wh)


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """An event a meter logged (power down, cover opened, ...)."""

    meter_id: str
    at_s: int
    name: str
    log: str
    code: int
    received_at_s: int


@dataclass(frozen=True, slots=True)
class QuarantinedPush:
    """A push of one of the metering point's meters that could not be used."""

    quarantine_id: int
    received_at_s: int
    channel: str
    reason: str
    message: str
    meter_id: str | None
    raw: bytes
    resolved: bool


@dataclass(frozen=True, slots=True)
class SettlementRun:
    """A settlement run of the metering point as billed, and when it ran."""

    settlement: Settlement
    settled_at_s: int


@dataclass(frozen=True, slots=True)
class PointDetail:
    """Everything the console shows of one metering point.

    Attributes:
        point: The metering point and its customer.
        meters: Its meters.
        values_from_s: Start of the values shown (local midnight 7 days back).
        values: Its interval values from then until now, newest first.
        reads: Its meters' latest register reads, newest first.
        events: Its latest events, newest first.
        quarantined: Its meters' latest quarantined pushes, newest first.
        runs: Its settlement runs, newest month first.
        edits: The latest manual edits of its values, newest first.
    """

    point: PointInfo
    meters: tuple[MeterInfo, ...]
    values_from_s: int
    values: tuple[IntervalValue, ...]
    reads: tuple[RegisterRead, ...]
    events: tuple[MeterEvent, ...]
    quarantined: tuple[QuarantinedPush, ...]
    runs: tuple[SettlementRun, ...]
    edits: tuple[ValueEdit, ...]


class ConsoleStore(Protocol):
    """What the console reads from the store."""

    def meters_heard(self, since_s: int) -> tuple[int, int]:
        """Meters with a register read at or after ``since_s``, and all meters."""
        ...

    def pushes_by_minute(self, first_minute: int, minutes: int) -> dict[int, int]:
        """Pushes received per epoch minute (``received_at_s // 60``) of
        ``first_minute`` .. ``first_minute + minutes - 1``; minutes without any are absent."""
        ...

    def quarantined_by_reason(self) -> dict[str, int]:
        """Unresolved quarantined pushes per reason."""
        ...

    def elhub_delivered(self, day: str, listed: int) -> tuple[int, int, list[str]]:
        """Metering points with a meter, those of them whose consumption of ``day`` was
        sent to Elhub, and the first ``listed`` ids of those that were not."""
        ...

    def security_by_kind(self, since_s: int) -> dict[str, int]:
        """Security events at or after ``since_s`` per kind."""
        ...

    def search(self, query: SearchQuery, limit: int) -> list[PointHit]:
        """Metering points whose id starts with ``query.digits``, whose address or customer
        name contains every one of ``query.words``, whose customer id starts with
        ``query.folded`` or one of whose meters' ids contains it; in id order."""
        ...

    def point_detail(
        self, metering_point_id: str, since_s: int, until_s: int, rows: int
    ) -> PointDetail | None:
        """The metering point with its values starting in ``[since_s, until_s)`` and at most
        ``rows`` of each other list; ``None`` for an unknown point."""
        ...


def dashboard(store: ConsoleStore, *, now_s: int, han: HanRequestStore | None = None) -> Dashboard:
    """The dashboard's figures, now; with ``han``, the HAN port requests open and overdue."""
    han_now = han_counts(han, now_s=now_s) if han is not None else HanCounts(0, 0)
    heard, total = store.meters_heard(now_s - HEARD_WINDOW_S)
    first_minute = now_s // 60 - PUSH_MINUTES  # the last 60 whole minutes
    counts = store.pushes_by_minute(first_minute, PUSH_MINUTES)
    today = datetime.fromtimestamp(now_s, UTC).astimezone(OSLO).date()
    yesterday = today - timedelta(days=1)
    expected, delivered, missing = store.elhub_delivered(yesterday.isoformat(), MISSING_LISTED)
    deadline_s = int(deadline_of(yesterday).timestamp())
    return Dashboard(
        now_s=now_s,
        meters_heard=heard,
        meters_total=total,
        first_minute_s=first_minute * 60,
        pushes_by_minute=tuple(counts.get(first_minute + m, 0) for m in range(PUSH_MINUTES)),
        quarantined_by_reason=_most_first(store.quarantined_by_reason()),
        elhub=ElhubCompleteness(yesterday, expected, delivered, tuple(missing), deadline_s),
        security_by_kind=_most_first(store.security_by_kind(now_s - HEARD_WINDOW_S)),
        han_open=han_now.open,
        han_overdue=han_now.overdue,
    )


def _most_first(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_search(text: str) -> SearchQuery:
    """The search box's text, trimmed and folded.

    Raises:
        InputError: longer than :data:`MAX_QUERY` characters.
    """
    clean = _SPACES.sub(" ", text).strip()
    if len(clean) > MAX_QUERY:
        raise InputError(f"a search is at most {MAX_QUERY} characters")
    compact = clean.replace(" ", "")
    digits = compact if compact.isascii() and compact.isdigit() else ""
    folded = clean.lower()
    words = tuple(dict.fromkeys(folded.replace(",", " ").split()))[:MAX_WORDS]
    return SearchQuery(clean, folded, words, digits)


def search_points(store: ConsoleStore, text: str) -> SearchResult:
    """The metering points matching the search box's text (none for an empty one).

    Raises:
        InputError: a text longer than :data:`MAX_QUERY` characters.
    """
    query = parse_search(text)
    if not query.text:
        return SearchResult(query, (), more=False)
    found = store.search(query, SEARCH_LIMIT + 1)
    return SearchResult(query, tuple(found[:SEARCH_LIMIT]), more=len(found) > SEARCH_LIMIT)


def point_detail(store: ConsoleStore, metering_point_id: str, *, now_s: int) -> PointDetail | None:
    """A metering point's page: values from local midnight :data:`DETAIL_DAYS` days back
    until now, and the latest :data:`DETAIL_ROWS` of everything else; ``None`` for an unknown
    point."""
    today = datetime.fromtimestamp(now_s, UTC).astimezone(OSLO).date()
    since_s, _ = local_day_bounds(today - timedelta(days=DETAIL_DAYS))
    return store.point_detail(metering_point_id, since_s, now_s, DETAIL_ROWS)


# --- value edits ------------------------------------------------------------------------


class EditRefused(InputError):
    """A value edit typed into the console was refused; nothing was stored.

    Attributes:
        problem: Which check failed: ``start`` (not a local time), ``import`` or ``export``
            (not a number of kWh to the Wh), ``negative``, ``too_large`` (over
            :data:`~openams.services.edits.MAX_EDIT_WH`), ``reason`` (none given),
            ``reason_too_long``, ``unknown`` (no such metering point or no meter),
            ``grid`` (not the start of an interval), ``future`` (not ended yet) or ``other``.
    """

    code = "edit_refused"

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def _parse_start(text: str) -> int:
    """A local wall-clock time (``2026-01-19T10:00``) as epoch seconds.

    A time that occurs twice (the hour repeated when summer time ends) is its first
    occurrence; a time that does not occur (the hour skipped when it starts) is refused.
    """
    clean = text.strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            wall = datetime.strptime(clean, pattern)  # local: made aware below
        except ValueError:
            continue
        local = wall.replace(tzinfo=OSLO)
        start_s = int(local.timestamp())
        if datetime.fromtimestamp(start_s, OSLO).replace(tzinfo=None) != wall:
            break  # skipped by the change to summer time
        return start_s
    raise EditRefused(f"{text[:40]!r} is not a local date and time", problem="start")


def _parse_wh(text: str, field: str) -> int:
    """kWh typed with a decimal point or comma, to the Wh, as Wh."""
    clean = text.strip().replace(" ", "").replace("\u00a0", "")
    negative = clean.startswith("-")
    if len(clean) > _MAX_NUMBER or not _KWH.fullmatch(clean.removeprefix("-")):
        raise EditRefused(f"{field}: {text[:40]!r} is not a number of kWh", problem=field)
    try:
        wh = Decimal(clean.replace(",", ".")) * 1000
    except InvalidOperation:  # pragma: no cover - the pattern lets only numbers through
        raise EditRefused(f"{field}: not a number", problem=field) from None
    if wh != wh.to_integral_value():
        raise EditRefused(f"{field}: {text[:40]} kWh is not a whole number of Wh", problem=field)
    if negative and wh:
        raise EditRefused("energy cannot be negative", problem="negative")
    if wh > MAX_EDIT_WH:
        raise EditRefused(f"{field}: at most {MAX_EDIT_WH} Wh", problem="too_large")
    return int(wh)


def edit_from_form(
    store: EditStore,
    metering_point_id: str,
    *,
    start_local: str,
    import_kwh: str,
    export_kwh: str,
    reason: str,
    edited_by: str,
    now_s: int,
) -> ValueEdit:
    """Check a value edit as typed into the console and make it (audited).

    Args:
        store: The values and their audit.
        metering_point_id: The metering point.
        start_local: Start of the interval, local wall-clock time (``2026-01-19T10:00``).
        import_kwh: The new active import, decimal point or comma. [kWh]
        export_kwh: The new active export; empty to keep the stored one. [kWh]
        reason: Why; kept in the audit, at most :data:`MAX_REASON` characters.
        edited_by: Who (the account's e-mail address).
        now_s: Now, epoch seconds.

    Raises:
        EditRefused: what was wrong, in :attr:`EditRefused.problem`; nothing was stored.
    """
    start_s = _parse_start(start_local)
    import_wh = _parse_wh(import_kwh, "import")
    export_wh = _parse_wh(export_kwh, "export") if export_kwh.strip() else None
    if not reason.strip():
        raise EditRefused("an edit needs a reason", problem="reason")
    if len(reason.strip()) > MAX_REASON:
        raise EditRefused(f"a reason is at most {MAX_REASON} characters", problem="reason_too_long")
    resolution_s = store.resolution_of(metering_point_id)
    if resolution_s is None:
        raise EditRefused(f"no metering point {metering_point_id} with a meter", problem="unknown")
    if start_s % resolution_s:
        raise EditRefused("the start is not the start of an interval", problem="grid")
    if start_s + resolution_s > now_s:
        raise EditRefused("an interval that has not ended yet cannot be edited", problem="future")
    try:
        return edit_value(
            store, metering_point_id, start_s, import_wh=import_wh, export_wh=export_wh,
            reason=reason, edited_by=edited_by, now_s=now_s,
        )  # fmt: skip
    except InputError as exc:  # the edit service's own checks, should they grow
        raise EditRefused(str(exc), problem="other") from None

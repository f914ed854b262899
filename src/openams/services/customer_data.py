"""What OpenAMS holds about a customer, for the customer: their values as CSV, everything as
JSON, and their invoices.

Whose data is whose:
    * A customer sees a metering point's values only for the days they were supplied there:
      the days of their supply periods, or all days when the metering point has no supply
      periods and is theirs (the rule of :func:`openams.services.settlement.supplies_in`).
      Someone who moves in never sees the values of the one before them.
    * Settlement runs and invoices are the customer's when the run bills them.

Invariants:
    * Reads only.
    * The export never holds a password hash, a session, a meter key (wrapped or not), the
      key-encrypting key's id or an invocation counter: the port does not give them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from openams.domain.settlement_types import Settlement

from .consumption import SuppliedDays
from .invoice import InvoiceParty, render_invoice_pdf
from .settlement import SupplyPeriod
from .values import OSLO, StoredValue

__all__ = [
    "EXPORT_FORMAT",
    "AccountInfo",
    "BilledRunView",
    "CustomerDataStore",
    "CustomerRecord",
    "InvoiceStore",
    "MeterInfo",
    "PointRecord",
    "RunRecord",
    "customer_export",
    "customer_invoice_pdf",
    "customer_invoices",
    "customer_values",
    "supplied_days",
    "values_csv",
]

#: Names the shape of :func:`customer_export`'s document; a changed shape gets a new number.
EXPORT_FORMAT = "openams-customer-export/1"
#: The CSV's header.
CSV_COLUMNS = (
    "metering_point_id", "start", "end", "resolution_s", "import_wh", "export_wh", "status",
)  # fmt: skip
_ALL_TIME_S = (0, 2**53)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """The customer as the grid company holds them."""

    customer_id: str
    name: str
    mobile: str
    email: str


@dataclass(frozen=True, slots=True)
class PointRecord:
    """A metering point as held (without the grid's topology).

    Attributes:
        main_fuse_a: The main fuse. [A]
    """

    metering_point_id: str
    customer_id: str
    customer_type: str
    street: str
    house_number: str
    postcode: str
    municipality: str
    area: str
    main_fuse_a: int
    phases: int
    grid_type: str


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """A meter without its keys.

    Attributes:
        system_title: The DLMS system title (sent in clear in every push; not a secret).
        push_interval_s: How often it pushes. [s]
    """

    meter_id: str
    metering_point_id: str
    manufacturer: str
    meter_type: str
    phases: int
    system_title: bytes
    push_interval_s: int


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A log-in of the customer's, without its password hash."""

    email: str
    role: str
    created_at_s: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A settlement run as billed.

    Attributes:
        settlement: What the run billed.
        company: The grid company that billed it.
        settled_at_s: When, epoch seconds.
    """

    settlement: Settlement
    company: str
    settled_at_s: int


class CustomerDataStore(Protocol):
    """Where what is held about customers is read."""

    def customer(self, customer_id: str) -> CustomerRecord | None:
        """The customer, if known."""
        ...

    def points(self, ids: Sequence[str]) -> list[PointRecord]:
        """These metering points, in id order."""
        ...

    def points_of_customer(self, customer_id: str) -> list[str]:
        """The metering points whose customer they are now, in id order."""
        ...

    def supply_periods_of_customer(self, customer_id: str) -> list[SupplyPeriod]:
        """The supply periods billing the customer, anywhere."""
        ...

    def supply_periods_of_points(self, ids: Sequence[str]) -> list[SupplyPeriod]:
        """Every supply period of these metering points, whoever they bill."""
        ...

    def meters(self, ids: Sequence[str]) -> list[MeterInfo]:
        """The meters at these metering points, without keys."""
        ...

    def accounts(self, customer_id: str) -> list[AccountInfo]:
        """The customer's log-ins, without password hashes."""
        ...

    def runs_of_customer(self, customer_id: str) -> list[RunRecord]:
        """Every run billing the customer."""
        ...

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> Sequence[StoredValue]:
        """Stored values of the metering point starting in ``[start_s, end_s)``."""
        ...


class BilledRunView(Protocol):
    """A run with who bills whom (:class:`openams.store.settlement.BilledRun`)."""

    @property
    def settlement(self) -> Settlement: ...
    @property
    def company(self) -> str: ...
    @property
    def customer_name(self) -> str: ...
    @property
    def street(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def municipality(self) -> str: ...


class InvoiceStore(Protocol):
    """Where billed runs are read with their parties."""

    def billed_runs(
        self, month: str, metering_point_id: str | None = None
    ) -> Sequence[BilledRunView]:
        """Every run billed for a month (or a metering point's month), in order."""
        ...


def supplied_days(
    periods: Sequence[SupplyPeriod], metering_point_id: str, customer_id: str
) -> SuppliedDays:
    """The days of a metering point the customer may see (see the module).

    Args:
        periods: Supply periods of the metering point (others are ignored), whoever they bill.
        metering_point_id: The GSRN; the caller has checked that it is the customer's now.
        customer_id: The customer.

    Returns:
        ``None`` (all days) when the metering point has no supply periods, else the
        ``(first, last)`` days of the customer's periods, in order (possibly none).
    """
    own = [p for p in periods if p.metering_point_id == metering_point_id]
    if not own:
        return None
    return tuple(sorted((p.from_day, p.to_day) for p in own if p.customer_id == customer_id))


def customer_values(
    store: CustomerDataStore,
    metering_point_id: str,
    supplied: SuppliedDays,
    first: date | None = None,
    last: date | None = None,
) -> list[StoredValue]:
    """The stored values of the days the customer may see, within ``first`` .. ``last``
    (local days, included; open when ``None``), in time order."""
    windows = [(None, None)] if supplied is None else list(supplied)
    out: dict[tuple[int, int], StoredValue] = {}
    for a, b in windows:
        begin = max((d for d in (a, first) if d is not None), default=None)
        end = min((d for d in (b, last) if d is not None), default=None)
        if begin is not None and end is not None and end < begin:
            continue
        start_s = _ALL_TIME_S[0] if begin is None else _midnight_s(begin)
        end_s = _ALL_TIME_S[1] if end is None else _midnight_s(end + timedelta(days=1))
        for v in store.values(metering_point_id, start_s, end_s):
            out[(v.start_at_s, v.resolution_s)] = v  # periods that overlap give a value once
    return [out[k] for k in sorted(out)]


def values_csv(metering_point_id: str, values: Sequence[StoredValue]) -> str:
    """The values as CSV (comma-separated, a header of :data:`CSV_COLUMNS`): times local
    ISO 8601 with their UTC offset, energy in whole Wh, empty when unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for v in values:
        writer.writerow(
            (
                metering_point_id,
                _local_iso(v.start_at_s),
                _local_iso(v.start_at_s + v.resolution_s),
                v.resolution_s,
                "" if v.import_wh is None else v.import_wh,
                "" if v.export_wh is None else v.export_wh,
                v.status,
            )
        )
    return out.getvalue()


def customer_invoices(store: CustomerDataStore, customer_id: str) -> list[RunRecord]:
    """The runs billing the customer: newest month first, then by metering point and
    supply, latest version first."""
    runs = [
        r for r in store.runs_of_customer(customer_id) if r.settlement.customer_id == customer_id
    ]
    runs.sort(key=lambda r: r.settlement.version, reverse=True)
    runs.sort(key=lambda r: (r.settlement.metering_point_id, r.settlement.first_day))
    runs.sort(key=lambda r: r.settlement.month, reverse=True)
    return runs


def customer_invoice_pdf(
    store: InvoiceStore, customer_id: str, metering_point_id: str, month: str, version: int
) -> bytes | None:
    """The PDF invoice of a run billing the customer; ``None`` when there is no such run.

    When the customer had two supplies at the metering point in the month, the first
    supply's run of that version is given.
    """
    for run in store.billed_runs(month, metering_point_id):
        s = run.settlement
        if s.customer_id == customer_id and s.version == version:
            party = InvoiceParty(
                company_name=run.company,
                customer_name=run.customer_name,
                street_address=run.street,
                postcode=run.postcode,
                post_town=run.municipality,
                customer_id=s.customer_id,
            )
            return render_invoice_pdf(s, party)
    return None


def customer_export(store: CustomerDataStore, customer_id: str, *, now_s: int) -> dict[str, Any]:
    """Everything held about the customer, as a JSON-ready document.

    Holds: the customer record, their log-ins (e-mail, role, created), the metering points
    that are theirs now or that they were supplied at, the meters there (without keys),
    the supply periods billing them, the stored values of the days they were supplied, and
    every settlement run billing them.

    Args:
        store: What is held.
        customer_id: The customer.
        now_s: When the export is made, epoch seconds.
    """
    record = store.customer(customer_id)
    own_periods = store.supply_periods_of_customer(customer_id)
    current = store.points_of_customer(customer_id)
    ids = sorted(set(current) | {p.metering_point_id for p in own_periods})
    all_periods = store.supply_periods_of_points(ids)
    values: dict[str, list[dict[str, Any]]] = {}
    for mp in ids:
        supplied = supplied_days(all_periods, mp, customer_id)
        values[mp] = [_value_dict(v) for v in customer_values(store, mp, supplied)]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _local_iso(now_s),
        "customer": None if record is None else asdict(record),
        "accounts": [
            {"email": a.email, "role": a.role, "created_at": _local_iso(a.created_at_s)}
            for a in store.accounts(customer_id)
        ],
        "metering_points": [asdict(p) for p in store.points(ids)],
        "meters": [{**asdict(m), "system_title": m.system_title.hex()} for m in store.meters(ids)],
        "supply_periods": [
            {
                "metering_point_id": p.metering_point_id,
                "from_day": p.from_day.isoformat(),
                "to_day": None if p.to_day is None else p.to_day.isoformat(),
                "norgespris": p.norgespris,
            }
            for p in sorted(own_periods, key=lambda p: (p.metering_point_id, p.from_day))
            if p.customer_id == customer_id
        ],
        "values": values,
        "settlements": [
            {
                "company": r.company,
                "settled_at": _local_iso(r.settled_at_s),
                **r.settlement.as_dict(),
            }
            for r in customer_invoices(store, customer_id)
        ],
    }


def _value_dict(v: StoredValue) -> dict[str, Any]:
    return {
        "start": _local_iso(v.start_at_s),
        "end": _local_iso(v.start_at_s + v.resolution_s),
        "resolution_s": v.resolution_s,
        "import_wh": v.import_wh,
        "export_wh": v.export_wh,
        "status": v.status,
    }


def _local_iso(at_s: int) -> str:
    return datetime.fromtimestamp(at_s, UTC).astimezone(OSLO).isoformat()


def _midnight_s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())

"""What a settlement (*avregning*) of one metering point and month gives: the bill's lines.

Invariants:
    * Money is :class:`~decimal.Decimal`. Every line's ``amount`` is rounded to øre
      (2 decimals, half up) and ``total_nok`` is exactly the sum of the amounts.
    * Quantities in kWh have 3 decimals, as Elhub's values do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

__all__ = ["DayUse", "Line", "PeakHour", "Settlement"]


def _number(value: Decimal) -> float | int:
    """A Decimal for JSON: an int when whole, else a float of the same digits."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a bill.

    Attributes:
        code: Stable code: ``fixed``, ``capacity``, ``energy_<rate>``, ``export``,
            ``consumption_tax``, ``enova_fee``, ``support``, ``norgespris``, ``vat``, and
            for a re-settlement the same codes with the difference.
        text: What the bill prints, in Norwegian.
        quantity: How many units. A month share for monthly prices (days / days of month).
        unit: ``kWh``, ``month`` or ``NOK`` (VAT: its base).
        unit_price: Price per unit, NOK (an average where the price varied by hour).
        amount: ``quantity x unit_price`` rounded to øre; negative for a credit. [NOK]
        estimated_kwh: How much of the quantity rests on estimated values. [kWh]
    """

    code: str
    text: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    estimated_kwh: Decimal = Decimal(0)

    @property
    def estimated(self) -> bool:
        """Whether any of the line rests on estimated values."""
        return self.estimated_kwh > 0

    def as_dict(self) -> dict[str, Any]:
        """The line as JSON-ready values (numbers as numbers)."""
        return {
            "code": self.code,
            "text": self.text,
            "quantity": _number(self.quantity),
            "unit": self.unit,
            "unit_price": _number(self.unit_price),
            "amount": _number(self.amount),
            "estimated": self.estimated,
        }


@dataclass(frozen=True, slots=True)
class PeakHour:
    """One of the hours the capacity figure came from."""

    day: date
    hour: int  # local hour of the day, 0 to 23
    kwh: Decimal
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class DayUse:
    """A day's consumption and average spot price, for the bill's chart."""

    day: date
    kwh: Decimal
    spot_nok_per_kwh: Decimal | None  # the plain average over the day's priced hours


@dataclass(frozen=True, slots=True)
class Settlement:
    """The settlement of one metering point for one month (or the part of it supplied).

    Attributes:
        metering_point_id: The GSRN.
        customer_id: Who is billed.
        month: ``YYYY-MM``.
        first_day: First day settled.
        last_day: Last day settled (included).
        capacity_kw: The capacity figure, rounded to 3 decimals. [kW]
        capacity_step: The step's label, such as ``"5-10"``.
        peak_hours: The hours the figure came from, highest first.
        energy_kwh: Consumption (import) settled. [kWh]
        estimated_kwh: The part of it from estimated values. [kWh]
        export_kwh: Energy fed into the grid. [kWh]
        missing_hours: Hours of the period without a usable value (not billed).
        lines: The bill's lines, VAT last.
        total_nok: Sum of the lines. [NOK]
        days: Consumption and price per day, for the chart.
        version: 1 for the first settlement; each re-settlement adds one.
        kind: ``settlement``, or ``resettlement`` when ``lines`` are the difference to the
            previous version.
    """

    metering_point_id: str
    customer_id: str
    month: str
    first_day: date
    last_day: date
    capacity_kw: Decimal
    capacity_step: str
    peak_hours: tuple[PeakHour, ...]
    energy_kwh: Decimal
    estimated_kwh: Decimal
    export_kwh: Decimal
    missing_hours: int
    lines: tuple[Line, ...]
    total_nok: Decimal
    days: tuple[DayUse, ...] = field(default=(), compare=False)
    version: int = 1
    kind: str = "settlement"

    def as_dict(self) -> dict[str, Any]:
        """The settlement in the JSON shape ``ams settle --format json`` prints."""
        return {
            "metering_point_id": self.metering_point_id,
            "customer_id": self.customer_id,
            "month": self.month,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "version": self.version,
            "kind": self.kind,
            "capacity_kw": _number(self.capacity_kw),
            "capacity_step": self.capacity_step,
            "peak_hours": [
                {
                    "day": p.day.isoformat(),
                    "hour": p.hour,
                    "kwh": _number(p.kwh),
                    "estimated": p.estimated,
                }
                for p in self.peak_hours
            ],
            "energy_kwh": _number(self.energy_kwh),
            "estimated_kwh": _number(self.estimated_kwh),
            "export_kwh": _number(self.export_kwh),
            "missing_hours": self.missing_hours,
            "lines": [line.as_dict() for line in self.lines],
            "total_nok": _number(self.total_nok),
        }

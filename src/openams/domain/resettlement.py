"""Re-settlement: when values change after a month was settled, bill the difference.

The month is settled again from the corrected values; :func:`difference` compares the new
run with the last one and gives a settlement whose lines are the differences, as credit
(negative) or debit (positive) lines. Both runs are kept: the customer was billed the first
and is now billed (or credited) the difference, so the two add up to the corrected month.

A line of the new run is matched to the old run's line with the same code, unit and unit
price: their difference is one line ("Korreksjon: ..."). A line without a match is credited
in full (it was in the old run only) or debited in full (it is in the new run only), so a
price that changed between runs shows as the old line credited and the new one debited.

Invariants:
    * The difference's total is exactly ``new.total_nok - old.total_nok``.
    * Pure: no clock, no I/O.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from .settlement_types import Line, Settlement

__all__ = ["difference"]


def _key(line: Line) -> tuple[str, str, Decimal]:
    return (line.code, line.unit, line.unit_price)


def difference(old: Settlement, new: Settlement) -> Settlement | None:
    """The re-settlement of ``new`` against ``old``, or ``None`` when the bill is unchanged.

    ``old`` and ``new`` settle the same metering point, customer and days. The result has
    ``version = old.version + 1``, ``kind = "resettlement"``, the new run's figures
    (capacity, energy, peak hours) and the difference lines.

    Raises:
        ValueError: the two runs are not of the same metering point, customer and days.
    """
    same = (old.metering_point_id, old.customer_id, old.first_day, old.last_day)
    if same != (new.metering_point_id, new.customer_id, new.first_day, new.last_day):
        raise ValueError("a re-settlement compares two runs of the same supply")
    old_lines: dict[tuple[str, str, Decimal], Line] = {}
    for line in old.lines:
        key = _key(line)
        held = old_lines.get(key)
        old_lines[key] = line if held is None else _merge(held, line)
    lines: list[Line] = []
    for line in new.lines:
        before = old_lines.pop(_key(line), None)
        if before is None:
            lines.append(line)
            continue
        delta = line.amount - before.amount
        quantity = line.quantity - before.quantity
        if delta or quantity:
            estimated = max(line.estimated_kwh - before.estimated_kwh, Decimal(0))
            lines.append(
                Line(
                    line.code,
                    f"Korreksjon: {line.text}",
                    quantity,
                    line.unit,
                    line.unit_price,
                    delta,
                    estimated,
                )
            )
    for before in old_lines.values():
        lines.append(
            Line(
                before.code,
                f"Kreditert: {before.text}",
                -before.quantity,
                before.unit,
                before.unit_price,
                -before.amount,
            )
        )
    if not lines:
        return None
    return dataclasses.replace(
        new,
        lines=tuple(lines),
        total_nok=sum((line.amount for line in lines), Decimal(0)),
        version=old.version + 1,
        kind="resettlement",
    )


def _merge(a: Line, b: Line) -> Line:
    return dataclasses.replace(
        a,
        quantity=a.quantity + b.quantity,
        amount=a.amount + b.amount,
        estimated_kwh=a.estimated_kwh + b.estimated_kwh,
    )

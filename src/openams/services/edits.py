"""Manual edits of interval values (``ams values edit``), audited.

An operator replaces a value when they know better than the meter and VEE — a meter
exchange, a confirmed fault, a customer's reading. The edit is a value like any other
(status ``estimated``, estimation ``manual``), which VEE and late pushes leave alone and which
becomes final at D+5 like other estimates; the audit keeps who, when, the old and the new
value and why, and is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from openams.errors import InputError

__all__ = ["MAX_EDIT_WH", "EditStore", "StoredEdit", "ValueEdit", "edit_value"]

#: The most energy an edited interval may hold: far above any metering point's, far below
#: what the store's 64-bit integers take. [Wh]
MAX_EDIT_WH: Final = 10**12


@dataclass(frozen=True, slots=True)
class ValueEdit:
    """One change of one value, as audited."""

    edited_at_s: int
    edited_by: str
    metering_point_id: str
    resolution_s: int
    start_at_s: int
    old_import_wh: int | None
    new_import_wh: int | None
    old_export_wh: int | None
    new_export_wh: int | None
    old_status: str
    new_status: str
    reason: str


@dataclass(frozen=True, slots=True)
class StoredEdit:
    """The value an edit replaces (``status`` ``missing`` when none was stored)."""

    import_wh: int | None
    export_wh: int | None
    status: str


class EditStore(Protocol):
    """Where values and the audit are."""

    def resolution_of(self, metering_point_id: str) -> int | None:
        """The metering point's interval length, ``None`` for an unknown point. [s]"""
        ...

    def current(self, metering_point_id: str, resolution_s: int, start_at_s: int) -> StoredEdit:
        """The value stored now."""
        ...

    def apply_edit(self, edit: ValueEdit) -> None:
        """Write the new value and the audit row in one transaction."""
        ...

    def edits(self, metering_point_id: str | None) -> Sequence[ValueEdit]:
        """The audit, oldest first."""
        ...


def edit_value(
    store: EditStore,
    metering_point_id: str,
    start_at_s: int,
    *,
    import_wh: int,
    export_wh: int | None,
    reason: str,
    edited_by: str,
    now_s: int,
) -> ValueEdit:
    """Replace one interval value by hand and audit it.

    Raises:
        InputError: an unknown metering point, a start off the interval grid, a negative
            value or one over :data:`MAX_EDIT_WH`, an empty reason or a value of the future.
    """
    resolution_s = store.resolution_of(metering_point_id)
    if resolution_s is None:
        raise InputError(f"no metering point {metering_point_id}")
    if start_at_s % resolution_s:
        raise InputError(
            f"{metering_point_id} has {resolution_s // 60}-minute values: "
            "the start must be on that grid"
        )
    if start_at_s + resolution_s > now_s:
        raise InputError("an interval that has not ended yet cannot be edited")
    if import_wh < 0 or (export_wh is not None and export_wh < 0):
        raise InputError("energy cannot be negative")
    if max(import_wh, export_wh or 0) > MAX_EDIT_WH:
        raise InputError(f"an interval holds at most {MAX_EDIT_WH} Wh")
    if not reason.strip():
        raise InputError("an edit needs a reason")
    if not edited_by.strip():
        raise InputError("an edit needs the name of who makes it")
    old = store.current(metering_point_id, resolution_s, start_at_s)
    edit = ValueEdit(
        now_s, edited_by.strip(), metering_point_id, resolution_s, start_at_s,
        old.import_wh, import_wh, old.export_wh,
        export_wh if export_wh is not None else old.export_wh,
        old.status, "estimated", reason.strip(),
    )  # fmt: skip
    store.apply_edit(edit)
    return edit

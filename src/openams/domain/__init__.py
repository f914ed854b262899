"""The pure domain model of OpenAMS: no I/O, no clock, no database.

So far it holds the Norwegian calendar (public holidays), which the simulator and the grid
tariffs both need, the identifiers of the estate (GSRN, system title) and the records of an
imported estate.
"""

from __future__ import annotations

from .calendar import easter_sunday, is_public_holiday, norwegian_public_holidays
from .estate import Customer, MeteringPoint, MeterRecord, RowError, Transformer
from .identifiers import gsrn_check_digit, is_valid_gsrn, is_valid_system_title

__all__ = [
    "Customer",
    "MeterRecord",
    "MeteringPoint",
    "RowError",
    "Transformer",
    "easter_sunday",
    "gsrn_check_digit",
    "is_public_holiday",
    "is_valid_gsrn",
    "is_valid_system_title",
    "norwegian_public_holidays",
]

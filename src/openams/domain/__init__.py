"""The pure domain model of OpenAMS: no I/O, no clock, no database.

So far it holds the Norwegian calendar (public holidays), which the simulator and the grid
tariffs both need.
"""

from __future__ import annotations

from .calendar import easter_sunday, is_public_holiday, norwegian_public_holidays

__all__ = ["easter_sunday", "is_public_holiday", "norwegian_public_holidays"]

"""Annotated test vectors: the bytes of pushes and what they must decode to.

Each module holds hex annotated field by field and the expected decoded values, written by
OpenAMS contributors: from the standards by hand (``green_book``), or from OpenAMS's own encoder
and checked field by field against the manufacturers' list descriptions (one module per meter
model). No frame here was captured from, or copied out of, another project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PushVector:
    """One push and everything a decoder must make of it.

    Attributes:
        name: Test id.
        data: The push as sent (all frames).
        framing, layout, list_id, manufacturer, meter_id, meter_type: The expected ``Push``
            fields.
        time, header_time: The expected date-times as ISO 8601 text with their UTC offset.
        values: ``{OBIS: (value, unit)}``; date-time values as ISO 8601 text.
        style, list_number, reading: How OpenAMS's encoder makes these bytes
            (``build_notification(style, list_number, MeterReading(**reading))``).
        ciphering: ``Ciphering`` keyword arguments when the push is ciphered.
    """

    name: str
    data: bytes
    framing: str
    layout: str
    list_id: str | None
    manufacturer: str | None
    meter_id: str | None
    meter_type: str | None
    time: str | None
    header_time: str | None
    values: dict[str, tuple[Any, str | None]]
    style: str | None = None
    list_number: int | None = None
    reading: dict[str, Any] = field(default_factory=dict)
    ciphering: dict[str, Any] | None = None

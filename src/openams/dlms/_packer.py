"""Fast list encoding for one meter: the simulator's hot path.

:func:`build_notification` builds a ``Data`` tree and encodes it, which is clear but slow for
millions of pushes. A :class:`ListPacker` is compiled once per meter and list from one such
push (the prototype): the APDU's constant runs (tags, lengths, OBIS codes, scalers, the
meter's identifiers) are kept as they are, and a generated function packs a reading's values
and clock between them with one ``struct.pack``. The bytes are exactly those of
``build_notification(style, list_number, reading).to_bytes()`` (the tests hold the two to
that), including each manufacturer's scaling, rounding and clamping.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from ._axdr import DataType
from ._encode import MeterReading, _clock, build_notification
from ._layout import CONV_DATETIME, CONV_NUMBER, scan_notification
from ._lists import plan_for
from ._obis import Obis

__all__ = ["ListPacker"]

_FIELDS = {
    (1, 7): "power_import_w",
    (2, 7): "power_export_w",
    (3, 7): "reactive_import_var",
    (4, 7): "reactive_export_var",
    (31, 7): "current_l1_a",
    (51, 7): "current_l2_a",
    (71, 7): "current_l3_a",
    (32, 7): "voltage_l1_v",
    (52, 7): "voltage_l2_v",
    (72, 7): "voltage_l3_v",
    (1, 8): "energy_import_wh",
    (2, 8): "energy_export_wh",
    (3, 8): "energy_reactive_import_varh",
    (4, 8): "energy_reactive_export_varh",
}
_RANGES: dict[int, tuple[str, int, int]] = {
    DataType.LONG: (">h", -0x8000, 0x7FFF),
    DataType.LONG_UNSIGNED: (">H", 0, 0xFFFF),
    DataType.DOUBLE_LONG_UNSIGNED: (">I", 0, 0xFFFFFFFF),
}


@lru_cache(maxsize=4096)
def _aidon_clock(clock: datetime) -> bytes:
    return _clock(clock, deviation=0, weekday_sunday_zero=True)


@lru_cache(maxsize=4096)
def _local_clock(clock: datetime) -> bytes:
    return _clock(clock, deviation=-0x8000)


# A fleet pushes the same clock (xx:00:00) from every meter: the bytes are made once.
_CLOCKS: dict[str, Callable[[datetime], bytes]] = {
    "aidon": _aidon_clock,
    "kaifa": _local_clock,
    "kamstrup": _local_clock,
}


class ListPacker:
    """Packs one meter's readings into its List ``list_number`` APDU, as the meter sends it.

    Args:
        style: ``aidon``, ``kaifa`` or ``kamstrup``.
        list_number: 1, 2 or 3.
        prototype: Any reading of the meter: its identifiers and phases are kept.

    Raises:
        ValueError: unknown style or list.
    """

    def __init__(self, style: str, list_number: int, prototype: MeterReading) -> None:
        if style not in _CLOCKS:
            raise ValueError(f"no packer for style {style!r}")
        apdu = build_notification(style, list_number, prototype).to_bytes()
        scan = scan_notification(apdu)
        plan = plan_for(scan)
        items = plan.items if plan is not None else ()  # every built-in list has a layout
        fields: list[tuple[int, int, str, str]] = []  # start, end, code, expression
        if scan.header_span is not None:
            fields.append((*scan.header_span, "12s", "stamp"))
        for item in items:
            dtype, start, end = scan.spans[item.leaf]
            if item.conv == CONV_DATETIME:
                fields.append((start, end, "12s", "stamp"))
                continue
            if item.conv != CONV_NUMBER or dtype not in _RANGES:
                continue  # text and identifiers stay as in the prototype
            obis = Obis.parse(item.key)
            name = _FIELDS[(obis.c, obis.d)]  # the built-in lists carry only these numbers
            code, low, high = _RANGES[dtype]
            if item.divisor != 1:
                raw = f"round(r.{name} * {item.divisor!r})"
            elif item.multiplier != 1:
                raw = f"round(r.{name} // {item.multiplier!r})"
            else:
                raw = f"round(r.{name})"
            fields.append((start, end, code[1], f"max({low}, min({raw}, {high}))"))
        fields.sort()
        fmt = [">"]
        args = []
        runs: list[bytes] = []
        cursor = 0
        for start, end, code, expression in fields:
            # a tag byte at least lies before every field: each constant run is non-empty
            fmt.append(f"{start - cursor}s")
            runs.append(apdu[cursor:start])
            args.append(f"runs[{len(runs) - 1}]")
            fmt.append(code)
            args.append(expression)
            cursor = end
        if cursor < len(apdu):
            fmt.append(f"{len(apdu) - cursor}s")
            runs.append(apdu[cursor:])
            args.append(f"runs[{len(runs) - 1}]")
        source = f"def pack(r):\n    stamp = clock(r.clock)\n    return packer({', '.join(args)})\n"
        namespace: dict[str, Any] = {
            "packer": struct.Struct("".join(fmt)).pack,
            "runs": tuple(runs),
            "clock": _CLOCKS[style],
            "max": max,
            "min": min,
            "round": round,
        }
        # the source holds only attribute names from _FIELDS, integers and run indexes
        exec(compile(source, "<openams packer>", "exec"), namespace)  # noqa: S102
        self._pack: Callable[[MeterReading], bytes] = namespace["pack"]
        self.style = style
        self.list_number = list_number
        self.prototype = prototype

    def pack(self, reading: MeterReading) -> bytes:
        """The plaintext APDU for ``reading`` (its identifiers are the prototype's)."""
        return self._pack(reading)

    def reading_like(self, **values: Any) -> MeterReading:
        """The prototype with some values changed (a convenience for callers and tests)."""
        return replace(self.prototype, **values)

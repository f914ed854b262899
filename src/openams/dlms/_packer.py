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

import copy
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from types import FunctionType
from typing import Any

from ._axdr import DataType
from ._encode import MeterReading, _clock, build_notification
from ._layout import CONV_DATETIME, CONV_NUMBER, scan_notification
from ._lists import plan_for
from ._obis import Obis

__all__ = ["ListPacker", "WireField"]

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


@dataclass(frozen=True, slots=True)
class WireField:
    """One number of a packed list, in the order the list sends it.

    The number on the wire is ``round(value * divisor)`` when ``divisor`` is not 1,
    ``value // multiplier`` when ``multiplier`` is not 1 (a meter truncates its registers to
    their resolution), else ``round(value)``; then clamped to ``low..high``. ``round`` rounds
    half to even, as Python's and NumPy's ``rint`` do.

    Attributes:
        name: The :class:`MeterReading` attribute it carries.
        divisor: Wire units per base unit (10 for a value in 0.1 A). [1]
        multiplier: Base units per wire unit (10 for a register in 10 Wh). [1]
        low: Smallest number the A-XDR type holds.
        high: Largest number the A-XDR type holds.
    """

    name: str
    divisor: int | float
    multiplier: int | float
    low: int
    high: int


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
        wire: list[tuple[int, WireField]] = []
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
            wire.append((start, WireField(name, item.divisor, item.multiplier, low, high)))
        fields.sort()
        wire.sort(key=lambda pair: pair[0])
        fmt = [">"]
        args = []
        wire_args = []  # the same, for pack_wire: wire numbers come in as v[0], v[1], ...
        runs: list[bytes] = []
        cursor = numbers = 0
        for start, end, code, expression in fields:
            # a tag byte at least lies before every field: each constant run is non-empty
            fmt.append(f"{start - cursor}s")
            runs.append(apdu[cursor:start])
            args.append(f"runs[{len(runs) - 1}]")
            wire_args.append(args[-1])
            fmt.append(code)
            args.append(expression)
            if expression == "stamp":
                wire_args.append("stamp")
            else:
                wire_args.append(f"v[{numbers}]")
                numbers += 1
            cursor = end
        if cursor < len(apdu):
            fmt.append(f"{len(apdu) - cursor}s")
            runs.append(apdu[cursor:])
            args.append(f"runs[{len(runs) - 1}]")
            wire_args.append(args[-1])
        source = (
            f"def pack(r):\n    stamp = clock(r.clock)\n    return packer({', '.join(args)})\n"
            f"def pack_wire(stamp, v):\n    return packer({', '.join(wire_args)})\n"
        )
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
        self._bind(namespace)
        self._clock = _CLOCKS[style]
        #: The numbers of the list in wire order: what :meth:`pack_wire` takes.
        self.wire_fields: tuple[WireField, ...] = tuple(field for _, field in wire)
        self.style = style
        self.list_number = list_number
        self.prototype = prototype

    def _bind(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        self._pack: Callable[[MeterReading], bytes] = namespace["pack"]
        self._pack_wire: Callable[[bytes, Sequence[int]], bytes] = namespace["pack_wire"]

    def for_meter(self, meter_id: str, meter_type: str) -> ListPacker:
        """A packer for another meter of the same style and phases, made cheaply.

        Compiling a packer takes about a millisecond; a fleet of ten thousand meters would
        spend seconds on it. When the new identifiers have the lengths of the prototype's and
        each of the prototype's occurs exactly once in the constant runs, they are swapped in
        place and the compiled functions are rebound; otherwise a packer is compiled anew.
        """
        old = self.prototype
        runs: list[bytes] = list(self._namespace["runs"])
        for before, after in ((old.meter_id, meter_id), (old.meter_type, meter_type)):
            if before == after:
                continue
            old_bytes, new_bytes = before.encode(), after.encode()
            hits = [i for i, run in enumerate(runs) if old_bytes in run]
            if (
                len(old_bytes) != len(new_bytes)
                or len(hits) > 1
                or sum(run.count(old_bytes) for run in runs) > 1
            ):
                prototype = replace(old, meter_id=meter_id, meter_type=meter_type)
                return ListPacker(self.style, self.list_number, prototype)
            for i in hits:
                runs[i] = runs[i].replace(old_bytes, new_bytes)
        clone = copy.copy(self)
        namespace = dict(self._namespace, runs=tuple(runs))
        clone._bind(
            {
                **namespace,
                "pack": FunctionType(self._pack.__code__, namespace),
                "pack_wire": FunctionType(self._pack_wire.__code__, namespace),
            }
        )
        clone.prototype = replace(old, meter_id=meter_id, meter_type=meter_type)
        return clone

    def pack(self, reading: MeterReading) -> bytes:
        """The plaintext APDU for ``reading`` (its identifiers are the prototype's)."""
        return self._pack(reading)

    def pack_wire(self, clock_bytes: bytes, numbers: Sequence[int]) -> bytes:
        """The plaintext APDU from numbers already in wire units (the fast path).

        Args:
            clock_bytes: The 12-byte COSEM date-time, from :meth:`clock_bytes`.
            numbers: One integer per :attr:`wire_fields`, scaled and clamped as described
                there; nothing is checked.
        """
        return self._pack_wire(clock_bytes, numbers)

    def clock_bytes(self, clock: datetime) -> bytes:
        """The 12-byte date-time this meter sends for ``clock`` (aware)."""
        return self._clock(clock)

    def wire_numbers(self, reading: MeterReading) -> list[int]:
        """The numbers of ``reading`` in wire units: ``pack_wire`` of them equals ``pack``."""
        numbers = []
        for field in self.wire_fields:
            value = getattr(reading, field.name)
            if field.divisor != 1:
                number = round(value * field.divisor)
            elif field.multiplier != 1:
                number = round(value // field.multiplier)
            else:
                number = round(value)
            numbers.append(max(field.low, min(number, field.high)))
        return numbers

    def reading_like(self, **values: Any) -> MeterReading:
        """The prototype with some values changed (a convenience for callers and tests)."""
        return replace(self.prototype, **values)

"""Layouts: how a notification body maps to named values, and the precompiled fast path.

A list decoder (Aidon, Kaifa, Kamstrup, the generic OBIS decoder) looks at the *shape* of a
data-notification and writes a :class:`Plan`: for each output value, which leaf of the A-XDR
tree holds it, how to convert it (scale, unit, text, date-time), and which leaves the decision
depended on (OBIS codes, list identifiers, scaler/unit pairs). The plan never looks at the
value leaves themselves, so it holds for every push of the same shape.

Meters send the same list again and again, so after the first push a :class:`Template` is
compiled from the plan: one ``struct`` format that splits an APDU of that length into its
constant runs (every tag and length byte, and the constant leaves) and its variable fields,
and a generated ``build`` function that turns the fields into the :class:`Push`. A later push
of the same length is unpacked in one call and matches if its constant runs equal the first
push's. Because every tag and length byte then sits at the same offset, the A-XDR parse of a
matching push is identical to the first one's, and so is the plan: the fast path and the tree
decoder give the same result.

Invariants:
    * The tree path converts with :func:`execute` and :func:`assemble`; a template's ``build``
      writes the same conversions out as straight-line code (tests hold both to one result).
    * A template matches only APDUs whose tag, length and constant bytes are all equal.
    * Every leaf a list decoder read to decide (see :meth:`Scan.read`) is constant.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ._axdr import MAX_DEPTH, DataType, decode_length
from ._cosem_datetime import datetime_from_cosem
from ._errors import ApduError
from ._record import Push, manufacturer_from_system_title

__all__ = [
    "CONV_DATETIME",
    "CONV_NUMBER",
    "CONV_RAW",
    "CONV_TEXT",
    "Node",
    "Plan",
    "PlanItem",
    "Scan",
    "Template",
    "compile_template",
    "execute",
    "scan_notification",
]

CONV_NUMBER = 0
CONV_TEXT = 1
CONV_DATETIME = 2
CONV_RAW = 3

# struct codes of the fixed-size leaves
_CODES: dict[int, str] = {
    DataType.BOOLEAN: "?",
    DataType.DOUBLE_LONG: "i",
    DataType.DOUBLE_LONG_UNSIGNED: "I",
    DataType.BCD: "b",
    DataType.INTEGER: "b",
    DataType.LONG: "h",
    DataType.UNSIGNED: "B",
    DataType.LONG_UNSIGNED: "H",
    DataType.LONG64: "q",
    DataType.LONG64_UNSIGNED: "Q",
    DataType.ENUM: "B",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}
_SIZES = {tag: struct.calcsize(">" + code) for tag, code in _CODES.items()}
_OCTETS = {DataType.DATE_TIME: 12, DataType.DATE: 5, DataType.TIME: 4}
_STRINGS = frozenset(
    {DataType.OCTET_STRING, DataType.VISIBLE_STRING, DataType.UTF8_STRING, DataType.BIT_STRING}
)
_TYPES = {int(t): t for t in DataType}


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the scanned body: a container with ``items`` or a leaf with ``index``."""

    type: DataType
    items: tuple[Node, ...] = ()
    index: int = -1

    @property
    def is_container(self) -> bool:
        """Array or structure."""
        return self.index < 0


@dataclass(slots=True)
class Scan:
    """The leaves of a data-notification in depth-first order.

    Attributes:
        apdu: The APDU scanned.
        body: The root node of the notification body.
        values: The raw value of each leaf: int, float, bool, bytes (strings are bytes).
        spans: ``(type, content start, content end)`` of each leaf within ``apdu``.
        header_span: Where the 12 header date-time bytes are, if present.
        inspected: Leaves whose *value* a list decoder looked at (through :meth:`read`),
            whether or not it then chose the push: a compiled layout must hold them constant,
            or a push differing there could have been decided otherwise.
    """

    apdu: bytes
    body: Node
    values: list[Any]
    spans: list[tuple[int, int, int]]
    header_span: tuple[int, int] | None
    inspected: set[int] = field(default_factory=set)

    def read(self, index: int) -> Any:
        """The raw value of leaf ``index``, noted as a value a decision depends on."""
        self.inspected.add(index)
        return self.values[index]


def scan_notification(apdu: bytes) -> Scan:
    """Scan a plain data-notification APDU into leaves (the tree shape kept in nodes).

    Raises:
        ApduError: malformed APDU.
    """
    if len(apdu) < 7 or apdu[0] != 0x0F:
        raise ApduError("not a data-notification APDU", offset=0)
    marker = apdu[5]
    if marker == 0x00:
        header, pos = None, 6
    elif marker == 0x0C:
        header, pos = (6, 18), 18
    elif marker == 0x09 and apdu[6] == 0x0C:
        header, pos = (7, 19), 19
    else:
        raise ApduError(f"data-notification date-time field starts with 0x{marker:02x}", offset=5)
    if pos > len(apdu):
        raise ApduError("data-notification date-time truncated", offset=5, tag="date-time")
    values: list[Any] = []
    spans: list[tuple[int, int, int]] = []
    body, end = _scan(apdu, pos, values, spans, 0)
    if end != len(apdu):
        raise ApduError(f"{len(apdu) - end} bytes after the notification body", offset=end)
    return Scan(apdu, body, values, spans, header)


def _scan(
    buf: bytes, pos: int, values: list[Any], spans: list[tuple[int, int, int]], depth: int
) -> tuple[Node, int]:
    if pos >= len(buf):
        raise ApduError("data tag missing: input ends", offset=pos)
    tag = buf[pos]
    dtype = _TYPES.get(tag)
    if dtype is None:
        raise ApduError(f"unknown A-XDR data type tag 0x{tag:02x}", offset=pos, tag=tag)
    start = pos + 1
    if dtype is DataType.ARRAY or dtype is DataType.STRUCTURE:
        if depth >= MAX_DEPTH:
            raise ApduError(f"nesting deeper than {MAX_DEPTH}", offset=pos, tag=tag)
        count, cur = decode_length(buf, start)
        if count > len(buf) - cur:
            raise ApduError(f"{dtype.label} of {count} elements cannot fit", offset=pos, tag=tag)
        items = []
        for _ in range(count):
            node, cur = _scan(buf, cur, values, spans, depth + 1)
            items.append(node)
        return Node(dtype, tuple(items)), cur
    if dtype is DataType.NULL_DATA:
        end = start
        value: Any = None
    elif dtype in _SIZES:
        end = start + _SIZES[dtype]
        if end > len(buf):
            raise ApduError(f"{dtype.label} truncated", offset=pos, tag=tag)
        value = struct.unpack_from(">" + _CODES[dtype], buf, start)[0]
    else:
        size = _OCTETS.get(dtype)
        if size is None:
            size, start = decode_length(buf, start)
            if dtype is DataType.BIT_STRING:
                size = (size + 7) // 8
        end = start + size
        if end > len(buf):
            raise ApduError(f"{dtype.label} of {size} bytes truncated", offset=pos, tag=tag)
        value = bytes(buf[start:end])
    index = len(values)
    values.append(value)
    spans.append((dtype, start, end))
    return Node(dtype, index=index), end


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One output value: ``key`` from leaf ``leaf``, converted by ``conv``.

    For numbers the value is ``raw * multiplier`` or ``raw / divisor`` (a scaler of -1 gives
    divisor 10), so integers stay integers unless a negative scaler applies.
    """

    key: str
    leaf: int
    conv: int = CONV_NUMBER
    multiplier: int = 1
    divisor: int = 1
    unit: str | None = None

    @classmethod
    def scaled(cls, key: str, leaf: int, scaler: int, unit: str | None) -> PlanItem:
        """A number scaled by ``10**scaler``."""
        if scaler >= 0:
            return cls(key, leaf, CONV_NUMBER, 10**scaler, 1, unit)
        return cls(key, leaf, CONV_NUMBER, 1, 10**-scaler, unit)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a list decoder decided for one shape of push.

    Attributes:
        layout: ``aidon``, ``kaifa``, ``kamstrup``, ``obis``...
        list_id: The list version identifier (``AIDON_V0001``), if the push has one.
        manufacturer: The manufacturer the layout identifies, if any.
        items: The output values in push order.
        const_leaves: Leaves the decision depended on; they must match for a template.
        trust_deviation: Read date-times with their stated deviation (see _cosem_datetime).
        meter_id_key: Key of the meter identifier among the items.
        meter_type_key: Key of the meter type among the items.
        clock_key: Key of the meter clock among the items.
        manufacturer_guess: The manufacturer whose list has this shape when the push does not
            identify itself; used only when the system title does not name one either.
    """

    layout: str
    list_id: str | None
    manufacturer: str | None
    items: tuple[PlanItem, ...]
    const_leaves: frozenset[int] = field(default_factory=frozenset)
    trust_deviation: bool = True
    meter_id_key: str | None = None
    meter_type_key: str | None = None
    clock_key: str | None = None
    manufacturer_guess: str | None = None


_TEXTS: dict[bytes, str] = {}  # meter ids and types recur push after push


def _text(raw: Any) -> Any:
    """Printable text as ``str``; other bytes as lower-case hex."""
    if type(raw) is bytes:
        text = _TEXTS.get(raw)
        if text is None:
            text = _decode_text(raw)
            if len(_TEXTS) >= 65_536:
                _TEXTS.clear()
            _TEXTS[raw] = text
        return text
    return raw


def _decode_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return text if text.isprintable() else raw.hex()


def execute(
    items: tuple[tuple[str, int, int, int, int, str | None], ...],
    raw: tuple[Any, ...] | list[Any],
    tz: tzinfo,
    trust_deviation: bool,
) -> dict[str, tuple[Any, str | None]]:
    """Turn raw leaf values into ``{key: (value, unit)}`` following compiled plan items.

    Raises:
        ApduError: a date-time leaf is malformed.
    """
    out: dict[str, tuple[Any, str | None]] = {}
    for key, pos, conv, mul, div, unit in items:
        value = raw[pos]
        if conv == CONV_NUMBER:
            if value is None or isinstance(value, bytes | bool):
                pass
            elif div != 1:
                value = value / div
            elif mul != 1:
                value = value * mul
        elif conv == CONV_TEXT:
            value = _text(value)
        elif conv == CONV_DATETIME:
            value = _stamp(value, tz, trust_deviation)
        out[key] = (value, unit)
    return out


def plan_rows(plan: Plan) -> tuple[tuple[str, int, int, int, int, str | None], ...]:
    """The plan's items as plain tuples indexed by leaf (the tree path)."""
    return tuple((i.key, i.leaf, i.conv, i.multiplier, i.divisor, i.unit) for i in plan.items)


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled layout: unpack, compare the constant runs, build.

    ``raw = unpacker.unpack(apdu)`` splits an APDU of this length into constant runs (even
    positions) and fields (odd positions); it has this shape when ``raw[0::2] == runs``, and
    then ``build(raw, ...)`` gives its :class:`Push`.

    Attributes:
        length: APDU length this template is for.
        runs: The constant runs of the first APDU: every tag and length byte, and the
            constant leaves (OBIS codes, scaler/unit pairs, list identifiers).
        unpacker: Unpacks the constant runs and the fields in one call.
        plan: The plan this template was compiled from.
        build: ``build(raw, tz, framing, system_title, invocation_counter, security_control)``
            gives the :class:`Push` from the unpacked leaves: the plan as straight-line
            code, giving what :func:`execute` and :func:`assemble` give on the tree path.
    """

    length: int
    runs: tuple[bytes, ...]
    unpacker: struct.Struct
    plan: Plan
    build: Callable[..., Push]


def compile_template(scan: Scan, plan: Plan, tz: tzinfo) -> Template:
    """Compile the fast path for the shape of ``scan`` as decided by ``plan``.

    The format alternates the constant runs of the APDU (every tag and length byte, and the
    constant leaves) with its variable fields, so that one ``unpack`` call both extracts the
    values (odd positions) and yields the constant runs (even positions) to compare with the
    ones of the first push. Values the plan takes from constant leaves (a list identifier)
    are converted once, here.
    """
    apdu = scan.apdu
    n = len(apdu)
    # (start, end, code, leaf); leaf -2 is the header date-time, -3 the invoke id (ignored)
    segments: list[tuple[int, int, str, int]] = [(1, 5, "4s", -3)]
    if scan.header_span is not None:
        s, e = scan.header_span
        segments.append((s, e, "12s", -2))
    for leaf, (dtype, start, end) in enumerate(scan.spans):
        if start == end or leaf in plan.const_leaves:
            continue  # constant (or without content): compared, not converted
        segments.append((start, end, _CODES.get(dtype) or f"{end - start}s", leaf))
    segments.sort()
    fmt = [">"]
    runs: list[bytes] = []
    cursor = 0
    positions: dict[int, int] = {}
    header_pos = -1
    for start, end, code, leaf in segments:
        # a tag byte at least lies between two fields, so every constant run is non-empty
        fmt.append(f"{start - cursor}s{code}")
        runs.append(apdu[cursor:start])
        index = 2 * len(runs) - 1
        cursor = end
        if leaf == -2:
            header_pos = index
        elif leaf >= 0:
            positions[leaf] = index
    if cursor < n:
        fmt.append(f"{n - cursor}s")
        runs.append(apdu[cursor:n])
    constants: list[Any] = []

    def constant(value: Any) -> str:
        constants.append(value)
        return f"const[{len(constants) - 1}]"

    trust = plan.trust_deviation
    parts = []
    lines = []  # locals for the values the Push also names (clock, meter id and type)
    named = {plan.clock_key: "clock", plan.meter_id_key: "meter_id", plan.meter_type_key: "kind"}
    sure: set[str] = set()  # locals already of the type the Push field wants
    for item in plan.items:
        pos = positions.get(item.leaf)
        if pos is None:
            row = ((item.key, 0, item.conv, item.multiplier, item.divisor, item.unit),)
            value = execute(row, [scan.values[item.leaf]], tz, trust)[item.key]
            if item.key not in named:
                parts.append(f"{item.key!r}: {constant(value)}")
                continue
            expr = f"{constant(value[0])}"
        else:
            expr = f"raw[{pos}]"
            raw_value = scan.values[item.leaf]
            is_bytes = isinstance(raw_value, bytes)
            numeric = raw_value is not None and not is_bytes and not isinstance(raw_value, bool)
            if item.conv == CONV_NUMBER and numeric:
                if item.divisor != 1:
                    expr = f"{expr} / {item.divisor!r}"
                elif item.multiplier != 1:
                    expr = f"{expr} * {item.multiplier!r}"
            elif item.conv == CONV_TEXT:
                expr = f"(texts.get({expr}) or text({expr}))"
                if is_bytes:
                    sure.add(named.get(item.key, ""))  # text() of bytes is always a str
            elif item.conv == CONV_DATETIME and is_bytes and len(raw_value) == 12:
                expr = f"cosem_time({expr}, tz, {trust!r})"
                sure.add(named.get(item.key, ""))  # a datetime, or None when unspecified
            elif item.conv == CONV_DATETIME:
                expr = f"stamp({expr}, tz, {trust!r})"
        local = named.get(item.key)
        if local is not None:
            lines.append(f"    {local} = {expr}\n")
            expr = local
        parts.append(f"{item.key!r}: ({expr}, {item.unit!r})")
    head = f"cosem_time(raw[{header_pos}], tz, {trust!r})" if header_pos >= 0 else "None"

    def field(local: str, key: str | None, kind: str) -> str:
        if key is None:
            return "None"
        return local if local in sure else f"{kind}({local})"

    if plan.manufacturer:
        manufacturer = constant(plan.manufacturer)
    else:
        manufacturer = f"(flag(system_title) or {constant(plan.manufacturer_guess)})"
    source = (
        "def build(raw, tz, framing, system_title, invocation_counter, security_control):\n"
        + "".join(lines)
        + f"    head = {head}\n"
        + ("" if "clock" in sure else f"    clock = {field('clock', plan.clock_key, 'when')}\n")
        + f"    return new(Push, (framing, {constant(plan.layout)}, {constant(plan.list_id)}, "
        f"{manufacturer}, {field('meter_id', plan.meter_id_key, 'text_only')}, "
        f"{field('kind', plan.meter_type_key, 'text_only')}, system_title, "
        "invocation_counter, security_control, head if clock is None else clock, head, "
        f"{{{', '.join(parts)}}}, None))\n"
    )
    return Template(
        n,
        tuple(runs),
        struct.Struct("".join(fmt)),
        plan,
        _generate(source, tuple(constants)),
    )


def _generate(source: str, constants: tuple[Any, ...]) -> Callable[..., Push]:
    """Compile a layout's ``build`` function: one dictionary display, no per-item branching.

    The source is built only from OBIS keys formatted from integers, unit symbols from the
    unit table, integer positions, powers of ten and booleans, each written with ``repr``;
    every other constant (list identifiers, names) is passed in the namespace, never written
    into the source.
    """
    namespace: dict[str, Any] = {
        "text": _text,
        "stamp": _stamp,
        "const": constants,
        "Push": Push,
        "new": tuple.__new__,
        "texts": _TEXTS,
        "cosem_time": datetime_from_cosem,
        "flag": manufacturer_from_system_title,
        "when": _when,
        "text_only": _text_only,
    }
    exec(compile(source, "<openams layout>", "exec"), namespace)  # noqa: S102 - see docstring
    return namespace["build"]  # type: ignore[no-any-return]


def _when(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _text_only(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def assemble(
    plan: Plan,
    values: dict[str, tuple[Any, str | None]],
    head: datetime | None,
    framing: str,
    system_title: bytes | None,
    invocation_counter: int | None,
    security_control: int | None,
) -> Push:
    """The :class:`Push` of the tree path (what a template's ``build`` gives)."""
    clock = _when(values[plan.clock_key][0]) if plan.clock_key else None
    return Push(
        framing,
        plan.layout,
        plan.list_id,
        plan.manufacturer
        or manufacturer_from_system_title(system_title)
        or plan.manufacturer_guess,
        _text_only(values[plan.meter_id_key][0]) if plan.meter_id_key else None,
        _text_only(values[plan.meter_type_key][0]) if plan.meter_type_key else None,
        system_title,
        invocation_counter,
        security_control,
        head if clock is None else clock,
        head,
        values,
    )


def _stamp(raw: Any, tz: tzinfo, trust: bool) -> Any:
    if isinstance(raw, bytes) and len(raw) == 12:
        return datetime_from_cosem(raw, tz, trust)
    return _text(raw)


def header_time(raw: bytes | None, tz: tzinfo, trust_deviation: bool) -> datetime | None:
    """The data-notification date-time, decoded with the layout's rule."""
    if raw is None:
        return None
    return datetime_from_cosem(raw, tz, trust_deviation)

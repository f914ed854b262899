"""The Norwegian HAN lists, and a generic decoder for other pushes that name their values.

Three list formats cover the Norwegian meters (NEK's HAN specification, each manufacturer's
list description):

``AIDON_V0001`` (Aidon)
    An array of structures ``{OBIS, value, {scaler, unit}}`` (no scaler/unit for strings and
    the clock): everything needed is in the frame.
``KFM_001`` (Kaifa)
    A structure of bare values, identified by position and the list length: 1 (List 1),
    9/13 (List 2, one/three phases), 14/18 (List 3). Current is sent in mA and voltage in
    0.1 V, as observed on real meters. Swedish firmware pairs each value with its OBIS code
    instead; the scalers are the same.
``Kamstrup_V0001`` (Kamstrup)
    A structure: the list identifier, then OBIS code and value pairs without scalers, with
    B=1 OBIS codes. Scalers as documented by Kamstrup: current -2, energy registers +1,
    power factor -2, the rest 0.

Anything else whose body pairs OBIS codes with values (L+G, Iskraemeco, Sagemcom, Kaifa
outside Norway) is read by the generic decoder: flat ``OBIS, value [, {scaler, unit}]`` runs,
``{OBIS, value [, {scaler, unit}]}`` structures, or a capture-object list followed by the
values in the same order. A value without a scaler/unit pair is given as sent, unit ``None``.

Decoders register through :func:`register_list_decoder`; the built-in ones do too. Each
returns a :class:`Plan` or ``None`` when the shape is not its own, and decides only on the
shape and on constant leaves (OBIS codes, list identifiers, scaler/unit pairs).

References:
    NEK, "AMS HAN port" list descriptions: Aidon HAN interface description (AIDON_V0001),
    Kaifa KFM_001 OBIS list, Kamstrup HAN-NVE list (Kamstrup_V0001);
    IEC 62056-6-1 (OBIS), IEC 62056-6-2 (units).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

from ._axdr import DataType
from ._layout import (
    CONV_DATETIME,
    CONV_NUMBER,
    CONV_RAW,
    CONV_TEXT,
    Node,
    Plan,
    PlanItem,
    Scan,
)
from ._obis import UNITS, Obis
from ._record import manufacturer_from_system_title

__all__ = [
    "ListDecoder",
    "list_decoders",
    "manufacturer_from_system_title",
    "plan_for",
    "register_list_decoder",
]

_NUMERIC = frozenset(
    {
        DataType.DOUBLE_LONG,
        DataType.DOUBLE_LONG_UNSIGNED,
        DataType.INTEGER,
        DataType.LONG,
        DataType.UNSIGNED,
        DataType.LONG_UNSIGNED,
        DataType.LONG64,
        DataType.LONG64_UNSIGNED,
        DataType.FLOAT32,
        DataType.FLOAT64,
        DataType.ENUM,
        DataType.BCD,
    }
)
_TEXTUAL = frozenset({DataType.OCTET_STRING, DataType.VISIBLE_STRING, DataType.UTF8_STRING})


class ListDecoder(Protocol):
    """Maps one family of push layouts to a :class:`Plan`."""

    name: str

    def plan(self, scan: Scan) -> Plan | None:
        """A plan for this push's shape, or ``None`` when the shape is not this decoder's."""


_REGISTRY: list[ListDecoder] = []


def register_list_decoder(decoder: ListDecoder, *, first: bool = False) -> ListDecoder:
    """Add a list decoder; it is tried before the generic one (or before all with ``first``)."""
    if first:
        _REGISTRY.insert(0, decoder)
    else:
        generic = [d for d in _REGISTRY if d.name == "obis"]
        _REGISTRY.insert(_REGISTRY.index(generic[0]) if generic else len(_REGISTRY), decoder)
    return decoder


def list_decoders() -> tuple[ListDecoder, ...]:
    """The registered decoders in the order they are tried."""
    return tuple(_REGISTRY)


def plan_for(scan: Scan) -> Plan | None:
    """The first registered decoder's plan for ``scan``, or ``None`` (unknown layout).

    Every leaf any decoder read on the way (the ones that declined included) joins the plan's
    constant leaves, so a compiled layout only ever matches pushes that every decoder would
    have decided the same way.
    """
    for decoder in _REGISTRY:
        plan = decoder.plan(scan)
        if plan is not None:
            return replace(plan, const_leaves=plan.const_leaves | frozenset(scan.inspected))
    return None


# --- helpers over scanned nodes -------------------------------------------------------------


def _obis(node: Node, scan: Scan) -> Obis | None:
    if node.type is DataType.OCTET_STRING and not node.is_container:
        raw = scan.read(node.index)
        if len(raw) == 6:
            return Obis(*raw)
    return None


def _scaler_unit(node: Node, scan: Scan) -> tuple[int, int] | None:
    if node.type is not DataType.STRUCTURE or len(node.items) != 2:
        return None
    scaler, unit = node.items
    if scaler.is_container or unit.is_container or unit.type is not DataType.ENUM:
        return None
    if scaler.type not in (DataType.INTEGER, DataType.LONG):
        return None
    return scan.read(scaler.index), scan.read(unit.index)


def _text_leaf(node: Node, scan: Scan) -> str | None:
    if node.is_container or node.type not in _TEXTUAL:
        return None
    raw = scan.read(node.index)
    try:
        return bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        return None


def _quantity(obis: Obis) -> int:
    """Quantity number of OBIS group C with the phase folded out (1 = P+, 11 = I, 12 = U)."""
    c = obis.c
    return c if c < 21 or c > 80 else (c - 21) % 20 + 1


_UNITS_BY_QUANTITY = {
    (1, 7): "W",
    (2, 7): "W",
    (3, 7): "var",
    (4, 7): "var",
    (9, 7): "VA",
    (10, 7): "VA",
    (1, 8): "Wh",
    (2, 8): "Wh",
    (3, 8): "varh",
    (4, 8): "varh",
    (9, 8): "VAh",
    (10, 8): "VAh",
    (11, 7): "A",
    (12, 7): "V",
    (13, 7): "",
    (14, 7): "Hz",
}


def _unit_of(obis: Obis) -> str | None:
    if obis.a != 1:
        return None
    return _UNITS_BY_QUANTITY.get((_quantity(obis), obis.d))


def _is_clock(obis: Obis) -> bool:
    return obis.a == 0 and obis.c == 1 and obis.d == 0


_METER_ID_CODES = ((96, 1, 0), (0, 0, 5), (96, 1, 1), (42, 0, 0))
_METER_TYPE_CODES = ((96, 1, 7), (96, 1, 1))
_LIST_ID_CODE = (0, 2, 129)


def _cde(obis: Obis) -> tuple[int, int, int]:
    return (obis.c, obis.d, obis.e)


def _item_for(
    obis: Obis,
    value: Node,
    scaler_unit: tuple[int, int] | None,
    fixed_scaler: Callable[[Obis], int] | None,
    scan: Scan,
) -> PlanItem:
    key = str(obis)
    if _is_clock(obis):
        return PlanItem(key, value.index, CONV_DATETIME)
    if value.type is DataType.DATE_TIME:
        return PlanItem(key, value.index, CONV_DATETIME)
    if value.type in (DataType.DATE, DataType.TIME):
        return PlanItem(key, value.index, CONV_TEXT)
    if value.type in _TEXTUAL or value.type is DataType.BIT_STRING:
        if value.type is DataType.OCTET_STRING and len(scan.values[value.index]) == 12:
            return PlanItem(key, value.index, CONV_DATETIME)
        return PlanItem(key, value.index, CONV_TEXT)
    if value.type in _NUMERIC:
        if scaler_unit is not None:
            scaler, unit_code = scaler_unit
            unit = UNITS.get(unit_code, f"unit {unit_code}")
            return PlanItem.scaled(key, value.index, scaler, unit)
        if fixed_scaler is not None:
            return PlanItem.scaled(key, value.index, fixed_scaler(obis), _unit_of(obis))
        return PlanItem(key, value.index, CONV_NUMBER, unit=None)
    return PlanItem(key, value.index, CONV_RAW)


def _finish(
    layout: str,
    manufacturer: str | None,
    list_id: str | None,
    items: Iterable[PlanItem],
    const: set[int],
    trust_deviation: bool,
) -> Plan:
    items = tuple(items)
    keys = {item.key for item in items}
    meter_id = next((k for c in _METER_ID_CODES for k in keys if _cde(Obis.parse(k)) == c), None)
    meter_type = next(
        (k for c in _METER_TYPE_CODES for k in keys if _cde(Obis.parse(k)) == c and k != meter_id),
        None,
    )
    clock = next((k for k in keys if _is_clock(Obis.parse(k))), None)
    return Plan(
        layout,
        list_id,
        manufacturer,
        items,
        frozenset(const),
        trust_deviation,
        meter_id,
        meter_type,
        clock,
    )


# --- OBIS-paired bodies (Aidon, Kamstrup, Kaifa SE, generic) --------------------------------


def _obis_entries(
    scan: Scan, container: Node
) -> tuple[list[tuple[Obis, Node, tuple[int, int] | None]], list[Node], set[int]] | None:
    """``(entries, loose leaves, constant leaves)`` of a body that names its values."""
    entries: list[tuple[Obis, Node, tuple[int, int] | None]] = []
    loose: list[Node] = []
    const: set[int] = set()
    items = container.items
    i = 0
    n = len(items)
    while i < n:
        node = items[i]
        obis = _obis(node, scan)
        if obis is not None and i + 1 < n and not items[i + 1].is_container:
            const.add(node.index)
            value = items[i + 1]
            su = _scaler_unit(items[i + 2], scan) if i + 2 < n else None
            if su is not None:
                const.update(leaf.index for leaf in items[i + 2].items)
                i += 3
            else:
                i += 2
            entries.append((obis, value, su))
            continue
        if node.is_container and node.items and len(node.items) in (2, 3):
            inner = _obis(node.items[0], scan)
            value = node.items[1]
            if inner is not None and not value.is_container:
                su = None
                if len(node.items) == 3:
                    su = _scaler_unit(node.items[2], scan)
                    if su is None:
                        return None
                    const.update(leaf.index for leaf in node.items[2].items)
                const.add(node.items[0].index)
                entries.append((inner, value, su))
                i += 1
                continue
        if node.is_container:
            return None
        loose.append(node)
        i += 1
    return entries, loose, const


def _list_id_entry(
    entries: list[tuple[Obis, Node, tuple[int, int] | None]], scan: Scan
) -> tuple[str | None, int | None]:
    for obis, value, _ in entries:
        if _cde(obis) == _LIST_ID_CODE:
            return _text_leaf(value, scan), value.index
    return None, None


class _AidonDecoder:
    name = "aidon"

    def plan(self, scan: Scan) -> Plan | None:
        body = scan.body
        if body.type is not DataType.ARRAY or not body.items:
            return None
        if not all(item.is_container for item in body.items):
            return None
        found = _obis_entries(scan, body)
        if found is None:
            return None
        entries, _, const = found  # every item is a container: all are entries here
        list_id, list_leaf = _list_id_entry(entries, scan)
        if list_id is not None and not list_id.startswith("AIDON_"):
            return None
        if list_leaf is not None:
            const.add(list_leaf)
        items = [_item_for(o, v, su, None, scan) for o, v, su in entries]
        plan = _finish(
            "aidon", "Aidon" if list_id else None, list_id, items, const, trust_deviation=False
        )
        # Aidon's List 1 carries no list identifier: its shape is Aidon's, but a system title
        # naming another manufacturer wins.
        return plan if list_id else replace(plan, manufacturer_guess="Aidon")


def _kamstrup_scaler(obis: Obis) -> int:
    q = _quantity(obis)
    if obis.d == 8 and q in (1, 2, 3, 4, 9, 10):
        return 1
    if q in (11, 13):
        return -2
    return 0


def _kaifa_scaler(obis: Obis) -> int:
    q = _quantity(obis)
    if q == 11:
        return -3
    if q == 12:
        return -1
    return 0


class _KamstrupDecoder:
    name = "kamstrup"

    def plan(self, scan: Scan) -> Plan | None:
        body = scan.body
        if body.type is not DataType.STRUCTURE or len(body.items) < 3:
            return None
        list_id = _text_leaf(body.items[0], scan)
        if list_id is None or not list_id.startswith("Kamstrup_"):
            return None
        found = _obis_entries(scan, Node(body.type, body.items[1:]))
        if found is None:
            return None
        entries, loose, const = found
        # single-phase meters send null-data where the other phases' values would be
        if not entries or any(node.type is not DataType.NULL_DATA for node in loose):
            return None
        const.add(body.items[0].index)
        list_obis = Obis(1, 1, 0, 2, 129, 255)
        items = [PlanItem(str(list_obis), body.items[0].index, CONV_TEXT)]
        items += [_item_for(o, v, su, _kamstrup_scaler, scan) for o, v, su in entries]
        return _finish("kamstrup", "Kamstrup", list_id, items, const, trust_deviation=False)


_KAIFA_ID = "1-1:0.2.129.255"
_KAIFA_HEAD = ("0-0:96.1.0.255", "0-0:96.1.7.255")
_KAIFA_POWER = ("1-0:1.7.0.255", "1-0:2.7.0.255", "1-0:3.7.0.255", "1-0:4.7.0.255")
_KAIFA_ENERGY = ("1-0:1.8.0.255", "1-0:2.8.0.255", "1-0:3.8.0.255", "1-0:4.8.0.255")
_KAIFA_CURRENT_3P = ("1-0:31.7.0.255", "1-0:51.7.0.255", "1-0:71.7.0.255")
_KAIFA_VOLTAGE_3P = ("1-0:32.7.0.255", "1-0:52.7.0.255", "1-0:72.7.0.255")
_KAIFA_CLOCK = "0-0:1.0.0.255"


def _kaifa_positions(count: int) -> tuple[str, ...] | None:
    """OBIS codes of a positional KFM_001 list of ``count`` values."""
    if count == 1:
        return (_KAIFA_POWER[0],)
    one_phase = (_KAIFA_ID, *_KAIFA_HEAD, *_KAIFA_POWER, _KAIFA_CURRENT_3P[0], _KAIFA_VOLTAGE_3P[0])
    three_phase = (_KAIFA_ID, *_KAIFA_HEAD, *_KAIFA_POWER, *_KAIFA_CURRENT_3P, *_KAIFA_VOLTAGE_3P)
    return {
        9: one_phase,
        13: three_phase,
        14: (*one_phase, _KAIFA_CLOCK, *_KAIFA_ENERGY),
        18: (*three_phase, _KAIFA_CLOCK, *_KAIFA_ENERGY),
    }.get(count)


class _KaifaDecoder:
    name = "kaifa"

    def plan(self, scan: Scan) -> Plan | None:
        body = scan.body
        if body.type is not DataType.STRUCTURE or not body.items:
            return None
        first = body.items[0]
        if _obis(first, scan) is not None:
            return self._paired(scan)
        if any(item.is_container for item in body.items):
            return None
        codes = _kaifa_positions(len(body.items))
        if codes is None:
            return None
        const: set[int] = set()
        list_id = None
        if len(codes) == 1:
            if body.items[0].type not in _NUMERIC:
                return None
        else:
            list_id = _text_leaf(first, scan)
            if list_id is None or not list_id.startswith("KFM_"):
                return None
            const.add(first.index)
        items = []
        for key, node in zip(codes, body.items, strict=True):
            obis = Obis.parse(key)
            if _is_clock(obis):
                items.append(PlanItem(key, node.index, CONV_DATETIME))
            elif node.type in _TEXTUAL:
                items.append(PlanItem(key, node.index, CONV_TEXT))
            elif node.type in _NUMERIC:
                items.append(PlanItem.scaled(key, node.index, _kaifa_scaler(obis), _unit_of(obis)))
            else:
                return None
        return _finish("kaifa", "Kaifa", list_id, items, const, trust_deviation=False)

    def _paired(self, scan: Scan) -> Plan | None:
        found = _obis_entries(scan, scan.body)
        if found is None:
            return None
        entries, loose, const = found
        list_id, list_leaf = _list_id_entry(entries, scan)
        if loose or list_id is None or not list_id.startswith("KFM_") or list_leaf is None:
            return None
        const.add(list_leaf)
        items = [_item_for(o, v, su, _kaifa_scaler, scan) for o, v, su in entries]
        return _finish("kaifa", "Kaifa", list_id, items, const, trust_deviation=False)


class _GenericObisDecoder:
    name = "obis"

    def plan(self, scan: Scan) -> Plan | None:
        body = scan.body
        if not body.is_container:
            return None
        capture = self._capture_objects(scan, body)
        if capture is not None:
            return capture
        found = _obis_entries(scan, body)
        if found is None:
            return None
        entries, _loose, const = found
        if not entries:
            return None
        list_id, list_leaf = _list_id_entry(entries, scan)
        if list_leaf is not None:
            const.add(list_leaf)
        items = [_item_for(o, v, su, None, scan) for o, v, su in entries]
        return _finish("obis", None, list_id, items, const, trust_deviation=True)

    def _capture_objects(self, scan: Scan, body: Node) -> Plan | None:
        """``{push object list, value 2, value 3, ...}`` (L+G, Iskraemeco).

        The first value is the push setup's own object list, an array of
        ``{class-id, OBIS, attribute, data-index}``; value *i* is the attribute named by
        descriptor *i*.
        """
        if body.type is not DataType.STRUCTURE or len(body.items) < 2:
            return None
        head = body.items[0]
        if head.type is not DataType.ARRAY or len(head.items) != len(body.items):
            return None
        const: set[int] = set()
        items: list[PlanItem] = []
        for descriptor, value in zip(head.items[1:], body.items[1:], strict=True):
            if descriptor.type is not DataType.STRUCTURE or len(descriptor.items) != 4:
                return None
            obis = _obis(descriptor.items[1], scan)
            attribute = descriptor.items[2]
            if obis is None or attribute.is_container:
                return None
            if value.is_container:
                continue
            const.update(leaf.index for leaf in descriptor.items if not leaf.is_container)
            if scan.read(attribute.index) == 2:
                items.append(_item_for(obis, value, None, None, scan))
        if not items:
            return None
        return _finish("obis", None, None, items, const, trust_deviation=True)


register_list_decoder(_GenericObisDecoder())
register_list_decoder(_AidonDecoder())
register_list_decoder(_KaifaDecoder())
register_list_decoder(_KamstrupDecoder())

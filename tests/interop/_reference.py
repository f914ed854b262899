"""Shared pieces of the interoperability tests.

* :func:`typed_tree` and :func:`openams_notification`: OpenAMS's own reading of a push's
  body, as a typed tree comparable with the peers' (``(type_name, value)`` pairs).
* :func:`han_values`: an independent reading of the three Norwegian HAN lists from a
  *peer's* plain tree (OBIS codes, scalers and units from the manufacturers' list
  descriptions), giving the ``{OBIS: (value, unit)}`` that :class:`openams.dlms.Push`
  must hold.
* :func:`reading_values`: the same dictionary computed from the :class:`MeterReading` a
  push was built from, quantised the way each manufacturer's list carries the values.
* :func:`generic_values`: the dictionary for a generic ``OBIS, value[, {scaler, unit}]``
  body, computed from the entries it was built from.
* Hypothesis strategies for readings, clocks and generic OBIS bodies.

Nothing here calls OpenAMS's list decoders; the only OpenAMS pieces used are the A-XDR,
unframing and decryption primitives in :func:`openams_notification`, and the unit table.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume
from hypothesis import strategies as st

from openams.dlms import (
    UNITS,
    Data,
    DataNotification,
    DataType,
    MeterReading,
    SecuritySuite,
    build_notification,
    decode_ciphered_apdu,
    decode_data_notification,
    unframe,
)

Typed = tuple[str, Any]
Values = dict[str, tuple[Any, str | None]]

OSLO = ZoneInfo("Europe/Oslo")
EK = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
AK = bytes.fromhex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf")
#: A system title per manufacturer (FLAG id + serial), as meters of each make send.
SYSTEM_TITLES = {
    "aidon": b"AMS\x00\x01\x23\x45\x67",
    "kaifa": b"KFM\x10\x00\x00\x04\x61",
    "kamstrup": b"KAM\x01\x02\x55\x73\x91",
}
STYLES = ("aidon", "kaifa", "kamstrup")
CLOCK = "0-0:1.0.0.255"
LIST_ID = "1-1:0.2.129.255"

# --- trees --------------------------------------------------------------------------------


def typed_tree(data: Data) -> Typed:
    """An OpenAMS :class:`Data` as a typed tree (the adapters' form)."""
    if data.type in (DataType.ARRAY, DataType.STRUCTURE):
        return (data.type.label, [typed_tree(item) for item in data.value])
    return (data.type.label, data.value)


def plain_tree(node: Typed) -> Any:
    """A typed tree without its type names (lists for arrays and structures)."""
    kind, value = node
    if kind in ("array", "structure"):
        return [plain_tree(item) for item in value]
    return value


def openams_notification(
    frame: bytes, ek: bytes | None = None, ak: bytes | None = None
) -> DataNotification:
    """The data-notification inside a push, read with OpenAMS's wire primitives only."""
    _, apdu = unframe(frame)
    if apdu[0] != 0x0F:
        if ek is None:
            raise ValueError("a ciphered push needs a key")
        apdu = SecuritySuite().decrypt(decode_ciphered_apdu(apdu), ek, ak)
    return decode_data_notification(apdu)


def peer_notification(style: str, list_number: int, reading: MeterReading) -> DataNotification:
    """The notification of ``style`` in a form the peers can read.

    Kaifa meters tag the header date-time as an octet-string (``09 0C``), which neither
    gurux-dlms nor dlms-cosem reads (see the adapters); the same date-time untagged
    (``0C``) is the form both read. The body is unchanged.
    """
    notification = build_notification(style, list_number, reading)
    if notification.date_time_tagged:
        notification = dataclasses.replace(notification, date_time_tagged=False)
    return notification


#: Whose HDLC addresses to frame a peer-readable push with: Kaifa's ``02 01`` server
#: address and I-frame control are read by neither peer (see the adapters).
PEER_HDLC_STYLE = {"aidon": "aidon", "kaifa": "kamstrup", "kamstrup": "kamstrup"}

# --- an independent reading of the HAN lists -----------------------------------------------


def obis_text(raw: bytes) -> str:
    """``A-B:C.D.E.F`` of a 6-byte logical name."""
    a, b, c, d, e, f = raw
    return f"{a}-{b}:{c}.{d}.{e}.{f}"


def local_time(raw: bytes) -> datetime:
    """A 12-byte COSEM date-time read as wall-clock time in Norway (as the HAN lists are)."""
    year = int.from_bytes(raw[0:2], "big")
    return datetime(year, raw[2], raw[3], raw[5], raw[6], raw[7], tzinfo=OSLO)


def scaled(value: Any, scaler: int) -> Any:
    """``value * 10**scaler``, dividing for negative scalers (so 1234, -1 gives 123.4)."""
    return value * 10**scaler if scaler >= 0 else value / 10**-scaler


def text(value: Any) -> Any:
    """Octet-strings that are printable UTF-8 as ``str``, others as hex; ``str`` as is."""
    if isinstance(value, bytes | bytearray):
        try:
            decoded = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value).hex()
        return decoded if decoded.isprintable() else bytes(value).hex()
    return value


# Units by OBIS group C (phase folded out) and D, as the HAN list descriptions state them.
_HAN_UNITS = {
    (1, 7): "W",
    (2, 7): "W",
    (3, 7): "var",
    (4, 7): "var",
    (1, 8): "Wh",
    (2, 8): "Wh",
    (3, 8): "varh",
    (4, 8): "varh",
    (31, 7): "A",
    (51, 7): "A",
    (71, 7): "A",
    (32, 7): "V",
    (52, 7): "V",
    (72, 7): "V",
}
_KAIFA_1P = (
    LIST_ID,
    "0-0:96.1.0.255",
    "0-0:96.1.7.255",
    "1-0:1.7.0.255",
    "1-0:2.7.0.255",
    "1-0:3.7.0.255",
    "1-0:4.7.0.255",
    "1-0:31.7.0.255",
    "1-0:32.7.0.255",
)
_KAIFA_3P = (
    *_KAIFA_1P[:7],
    "1-0:31.7.0.255",
    "1-0:51.7.0.255",
    "1-0:71.7.0.255",
    "1-0:32.7.0.255",
    "1-0:52.7.0.255",
    "1-0:72.7.0.255",
)
_ENERGY = ("1-0:1.8.0.255", "1-0:2.8.0.255", "1-0:3.8.0.255", "1-0:4.8.0.255")
_KAIFA_POSITIONS = {
    1: ("1-0:1.7.0.255",),
    9: _KAIFA_1P,
    13: _KAIFA_3P,
    14: (*_KAIFA_1P, CLOCK, *_ENERGY),
    18: (*_KAIFA_3P, CLOCK, *_ENERGY),
}
_AIDON_UNITS = {27: "W", 29: "var", 30: "Wh", 32: "varh", 33: "A", 35: "V"}


def _cd(key: str) -> tuple[int, int]:
    c, d = key.split(":")[1].split(".")[:2]
    return int(c), int(d)


def han_values(style: str, tree: Any) -> Values:
    """``{OBIS: (value, unit)}`` of a HAN list, read from a peer's plain tree."""
    out: Values = {}
    if style == "aidon":
        # array of {OBIS, value, {scaler, unit}}; text and the clock have no scaler/unit
        for entry in tree:
            key = obis_text(entry[0])
            if len(entry) == 3:
                scaler, unit = entry[2]
                out[key] = (scaled(entry[1], scaler), _AIDON_UNITS[unit])
            elif key == CLOCK:
                out[key] = (local_time(entry[1]), None)
            else:
                out[key] = (text(entry[1]), None)
    elif style == "kaifa":
        # a structure of bare values, known by position; current in mA, voltage in 0.1 V
        for key, value in zip(_KAIFA_POSITIONS[len(tree)], tree, strict=True):
            if key == CLOCK:
                out[key] = (local_time(value), None)
            elif isinstance(value, bytes | str):
                out[key] = (text(value), None)
            else:
                c, d = _cd(key)
                scaler = {31: -3, 51: -3, 71: -3, 32: -1, 52: -1, 72: -1}.get(c, 0)
                out[key] = (scaled(value, scaler), _HAN_UNITS[c, d])
    elif style == "kamstrup":
        # the list id, then OBIS/value pairs (B = 1) without scalers; nulls for absent phases
        out[LIST_ID] = (tree[0], None)
        rest = tree[1:]
        for obis, value in zip(rest[::2], rest[1::2], strict=True):
            if obis is None:
                assert value is None
                continue
            key = obis_text(obis)
            c, d = _cd(key)
            if key == "0-1:1.0.0.255":
                out[key] = (local_time(value), None)
            elif isinstance(value, str):
                out[key] = (value, None)
            else:
                scaler = 1 if d == 8 else -2 if c in (31, 51, 71) else 0
                out[key] = (scaled(value, scaler), _HAN_UNITS[c, d])
    else:
        raise ValueError(style)
    return out


def reading_values(style: str, list_number: int, r: MeterReading) -> Values:
    """What a push of ``style``/List ``list_number`` built from ``r`` must decode to.

    Values are quantised as each list carries them: Aidon 0.1 A, 0.1 V, 10 Wh; Kaifa mA,
    0.1 V, Wh; Kamstrup 0.01 A, 1 V, 10 Wh (energy registers truncated, the rest
    rounded).
    """
    amps = {"aidon": 10, "kaifa": 1000, "kamstrup": 100}[style]
    volts = {"aidon": 10, "kaifa": 10, "kamstrup": 1}[style]
    wh = {"aidon": 10, "kaifa": 1, "kamstrup": 10}[style]
    b = "1" if style == "kamstrup" else "0"
    powers = {
        f"1-{b}:1.7.0.255": (r.power_import_w, "W"),
        f"1-{b}:2.7.0.255": (r.power_export_w, "W"),
        f"1-{b}:3.7.0.255": (r.reactive_import_var, "var"),
        f"1-{b}:4.7.0.255": (r.reactive_export_var, "var"),
    }
    out: Values = {}
    if style == "kamstrup":
        out[LIST_ID] = ("Kamstrup_V0001", None)
    if list_number == 1:
        out[f"1-{b}:1.7.0.255"] = powers[f"1-{b}:1.7.0.255"]
        return out
    if style == "aidon":
        out[LIST_ID] = ("AIDON_V0001", None)
    if style == "kaifa":
        out[LIST_ID] = ("KFM_001", None)
    if style == "kamstrup":
        out["1-1:0.0.5.255"] = (r.meter_id, None)
        out["1-1:96.1.1.255"] = (r.meter_type, None)
    else:
        out["0-0:96.1.0.255"] = (r.meter_id, None)
        out["0-0:96.1.7.255"] = (r.meter_type, None)
    out.update(powers)
    currents = (r.current_l1_a, r.current_l2_a, r.current_l3_a)[: r.phases]
    voltages = (r.voltage_l1_v, r.voltage_l2_v, r.voltage_l3_v)[: r.phases]
    for c, a in zip((31, 51, 71), currents, strict=False):
        raw = round(a * amps)
        out[f"1-{b}:{c}.7.0.255"] = (raw / amps if amps != 1 else raw, "A")
    for c, v in zip((32, 52, 72), voltages, strict=False):
        raw = round(v * volts)
        out[f"1-{b}:{c}.7.0.255"] = (raw / volts if volts != 1 else raw, "V")
    if list_number == 3:
        out["0-1:1.0.0.255" if style == "kamstrup" else CLOCK] = (r.clock, None)
        registers = (
            r.energy_import_wh,
            r.energy_export_wh,
            r.energy_reactive_import_varh,
            r.energy_reactive_export_varh,
        )
        for key, value, unit in zip(_ENERGY, registers, ("Wh", "Wh", "varh", "varh"), strict=True):
            out[key.replace("1-0:", f"1-{b}:")] = (value // wh * wh, unit)
    return out


# --- generic OBIS bodies -------------------------------------------------------------------

NUMERIC = frozenset(
    {
        "double-long",
        "double-long-unsigned",
        "integer",
        "long",
        "unsigned",
        "long-unsigned",
        "long64",
        "long64-unsigned",
        "enum",
        "float32",
        "float64",
    }
)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One value of a generic body: logical name, typed value, optional scaler and unit."""

    obis: bytes
    value: Typed
    scaler_unit: tuple[int, int] | None = None


def generic_body(entries: Sequence[Entry], form: str) -> Typed:
    """A typed body: ``array``/``structure`` of ``{OBIS, value[, su]}``, or ``flat`` runs."""

    def su(pair: tuple[int, int]) -> Typed:
        return ("structure", [("integer", pair[0]), ("enum", pair[1])])

    def parts(entry: Entry) -> list[Typed]:
        head = [("octet-string", entry.obis), entry.value]
        return head + ([su(entry.scaler_unit)] if entry.scaler_unit else [])

    if form == "flat":
        return ("structure", [part for entry in entries for part in parts(entry)])
    return (form, [("structure", parts(entry)) for entry in entries])


def generic_values(entries: Sequence[Entry]) -> Values:
    """What a generic body of ``entries`` must decode to."""
    out: Values = {}
    for entry in entries:
        kind, value = entry.value
        key = obis_text(entry.obis)
        if kind in NUMERIC and entry.scaler_unit is not None:
            scaler, unit = entry.scaler_unit
            out[key] = (scaled(value, scaler), UNITS.get(unit, f"unit {unit}"))
        elif kind == "octet-string":
            out[key] = (text(value), None)
        else:
            out[key] = (value, None)
    return out


_RANGES = {
    "double-long": (-(2**31), 2**31 - 1),
    "double-long-unsigned": (0, 2**32 - 1),
    "integer": (-128, 127),
    "long": (-(2**15), 2**15 - 1),
    "unsigned": (0, 255),
    "long-unsigned": (0, 2**16 - 1),
    "long64": (-(2**63), 2**63 - 1),
    "long64-unsigned": (0, 2**64 - 1),
    "enum": (0, 255),
}


def _obis_codes() -> st.SearchStrategy[bytes]:
    # not the clock (read as a date-time) and not the list identifier (names the layout)
    return st.binary(min_size=6, max_size=6).filter(
        lambda b: not (b[0] == 0 and b[2] == 1 and b[3] == 0) and b[2:5] != b"\x00\x02\x81"
    )


def values(types: Sequence[str], max_text: int = 24) -> st.SearchStrategy[Typed]:
    """Typed scalar values of the given type names."""
    options: list[st.SearchStrategy[Typed]] = []
    for kind in types:
        if kind in _RANGES:
            low, high = _RANGES[kind]
            options.append(st.tuples(st.just(kind), st.integers(low, high)))
        elif kind == "visible-string":
            chars = st.sampled_from(string.ascii_letters + string.digits + " _-.:/")
            options.append(st.tuples(st.just(kind), st.text(chars, max_size=max_text)))
        elif kind == "octet-string":
            # 6 bytes would read as a logical name, 12 as a date-time (COSEM conventions)
            data = st.binary(max_size=max_text).filter(lambda b: len(b) not in (6, 12))
            options.append(st.tuples(st.just(kind), data))
        elif kind == "boolean":
            options.append(st.tuples(st.just(kind), st.booleans()))
        elif kind == "null-data":
            options.append(st.just((kind, None)))
        elif kind in ("float32", "float64"):
            floats = (
                st.floats(width=32, allow_nan=False, allow_infinity=False)
                if kind == "float32"
                else st.floats(allow_nan=False, allow_infinity=False)
            )
            options.append(st.tuples(st.just(kind), floats))
        else:
            raise ValueError(kind)
    return st.one_of(options)


@st.composite
def entries(
    draw: st.DrawFn, types: Sequence[str], max_entries: int = 10, max_text: int = 24
) -> list[Entry]:
    """Entries with distinct logical names; numbers may carry a scaler/unit pair."""
    codes = draw(st.lists(_obis_codes(), min_size=1, max_size=max_entries, unique=True))
    out = []
    units = st.sampled_from(sorted(UNITS)) | st.integers(0, 255)
    for code in codes:
        value = draw(values(types, max_text))
        pair = None
        if value[0] in NUMERIC and draw(st.booleans()):
            pair = (draw(st.integers(-9, 9)), draw(units))
        out.append(Entry(code, value, pair))
    return out


# --- readings ------------------------------------------------------------------------------


@st.composite
def local_clocks(draw: st.DrawFn) -> datetime:
    """Whole-second wall-clock times in Norway that exist and are not ambiguous."""
    naive = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)))
    aware = naive.replace(microsecond=0, tzinfo=OSLO)
    assume(
        aware.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) == aware.replace(tzinfo=None)
    )
    assume(aware.utcoffset() == aware.replace(fold=1).utcoffset())
    return aware


@st.composite
def readings(draw: st.DrawFn, phases: int | None = None) -> MeterReading:
    """Meter readings within what every list can carry (no clamping)."""
    u32 = st.integers(0, 2**32 - 1)
    amps = st.floats(0, 300)
    volts = st.floats(0, 500)
    return MeterReading(
        meter_id=draw(st.text(string.digits, min_size=1, max_size=18)),
        meter_type=draw(st.text(string.ascii_uppercase + string.digits + "-_ ", max_size=24)),
        clock=draw(local_clocks()),
        phases=draw(st.sampled_from((1, 3))) if phases is None else phases,
        power_import_w=draw(u32),
        power_export_w=draw(u32),
        reactive_import_var=draw(u32),
        reactive_export_var=draw(u32),
        current_l1_a=draw(amps),
        current_l2_a=draw(amps),
        current_l3_a=draw(amps),
        voltage_l1_v=draw(volts),
        voltage_l2_v=draw(volts),
        voltage_l3_v=draw(volts),
        energy_import_wh=draw(u32),
        energy_export_wh=draw(u32),
        energy_reactive_import_varh=draw(u32),
        energy_reactive_export_varh=draw(u32),
    )


#: A fixed reading with every value distinct and non-zero.
READING = MeterReading(
    meter_id="7359992890941742",
    meter_type="6841121BN243101040",
    clock=datetime(2024, 3, 5, 14, 0, 10, tzinfo=OSLO),
    power_import_w=1734,
    power_export_w=12,
    reactive_import_var=233,
    reactive_export_var=7,
    current_l1_a=5.43,
    current_l2_a=1.27,
    current_l3_a=2.69,
    voltage_l1_v=231.4,
    voltage_l2_v=229.8,
    voltage_l3_v=232.1,
    energy_import_wh=16_573_210,
    energy_export_wh=50_410,
    energy_reactive_import_varh=1_003_220,
    energy_reactive_export_varh=4_460,
)

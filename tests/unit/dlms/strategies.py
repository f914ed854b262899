"""Shared by the wire-core tests: hypothesis strategies (``Data`` trees, readings, keys) and
what each Norwegian list must decode a reading to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from openams.dlms import Data, DataType, MeterReading

OSLO = ZoneInfo("Europe/Oslo")

#: Property tests: enough examples to find shallow bugs, few enough that the unit suite stays
#: fast. No deadline: the first call of a test pays for imports and caches.
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST_PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _int_range(bits: int, *, signed: bool) -> st.SearchStrategy[int]:
    if signed:
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


LEAVES: dict[DataType, st.SearchStrategy[object]] = {
    DataType.NULL_DATA: st.none(),
    DataType.BOOLEAN: st.booleans(),
    DataType.BIT_STRING: st.text(alphabet="01", max_size=40),
    DataType.DOUBLE_LONG: _int_range(32, signed=True),
    DataType.DOUBLE_LONG_UNSIGNED: _int_range(32, signed=False),
    DataType.OCTET_STRING: st.binary(max_size=40),
    DataType.VISIBLE_STRING: st.text(st.characters(max_codepoint=0xFF), max_size=20),
    DataType.UTF8_STRING: st.text(max_size=20),
    DataType.BCD: _int_range(8, signed=True),
    DataType.INTEGER: _int_range(8, signed=True),
    DataType.LONG: _int_range(16, signed=True),
    DataType.UNSIGNED: _int_range(8, signed=False),
    DataType.LONG_UNSIGNED: _int_range(16, signed=False),
    DataType.LONG64: _int_range(64, signed=True),
    DataType.LONG64_UNSIGNED: _int_range(64, signed=False),
    DataType.ENUM: _int_range(8, signed=False),
    DataType.FLOAT32: st.floats(width=32, allow_nan=False),
    DataType.FLOAT64: st.floats(allow_nan=False),
    DataType.DATE_TIME: st.binary(min_size=12, max_size=12),
    DataType.DATE: st.binary(min_size=5, max_size=5),
    DataType.TIME: st.binary(min_size=4, max_size=4),
}

#: Every ``DataType`` is either a leaf above or a container.
assert set(LEAVES) | {DataType.ARRAY, DataType.STRUCTURE} == set(DataType)


def leaf_data() -> st.SearchStrategy[Data]:
    """One leaf ``Data`` of any non-container type, with a value that fits the type."""
    return st.one_of(
        *(values.map(lambda v, t=dtype: Data(t, v)) for dtype, values in LEAVES.items())
    )


def data_trees(max_leaves: int = 30) -> st.SearchStrategy[Data]:
    """``Data`` values of every type, arrays and structures nested to any depth."""

    def extend(children: st.SearchStrategy[Data]) -> st.SearchStrategy[Data]:
        items = st.lists(children, max_size=6).map(tuple)
        return st.builds(Data, st.sampled_from([DataType.ARRAY, DataType.STRUCTURE]), items)

    return st.recursive(leaf_data(), extend, max_leaves=max_leaves)


system_titles = st.binary(min_size=8, max_size=8)
keys = st.binary(min_size=16, max_size=16)
invocation_counters = st.integers(0, 0xFFFFFFFF)

#: Wall-clock times a meter might send: whole seconds, in Oslo, any season.
clocks = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.just(OSLO),
    allow_imaginary=False,  # meters do not send the skipped spring hour
).map(lambda d: d.replace(microsecond=0))

#: Aware datetimes in fixed offsets of whole minutes (what a COSEM deviation can express).
fixed_offset_datetimes = st.builds(
    lambda naive, minutes: naive.replace(
        tzinfo=UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.replace(microsecond=d.microsecond // 10_000 * 10_000)
    ),
    st.integers(-840, 840),
)


def readings(phases: int | None = None) -> st.SearchStrategy[MeterReading]:
    """Readings at the resolution the lists carry.

    Currents are whole tenths of an ampere up to 300 A (Aidon's resolution, the coarsest),
    voltages whole tenths of a volt (Kamstrup rounds them to whole volts), energies whole tens
    of watt-hours (Aidon's and Kamstrup's resolution).
    """
    power = st.integers(0, 200_000)
    current = st.integers(0, 3_000).map(lambda c: c / 10)
    voltage = st.integers(1_800, 2_600).map(lambda v: v / 10)
    energy = st.integers(0, 40_000_000).map(lambda e: e * 10)
    return st.builds(
        MeterReading,
        meter_id=st.just("7359992890941742"),
        meter_type=st.just("6534"),
        clock=clocks,
        phases=st.sampled_from([1, 3]) if phases is None else st.just(phases),
        power_import_w=power,
        power_export_w=power,
        reactive_import_var=power,
        reactive_export_var=power,
        current_l1_a=current,
        current_l2_a=current,
        current_l3_a=current,
        voltage_l1_v=voltage,
        voltage_l2_v=voltage,
        voltage_l3_v=voltage,
        energy_import_wh=energy,
        energy_export_wh=energy,
        energy_reactive_import_varh=energy,
        energy_reactive_export_varh=energy,
    )


def expected_values(style: str, list_number: int, r: MeterReading) -> dict:
    """What each list carries, at its documented resolution (see the _encode table)."""
    if style == "kamstrup":
        p, ids = "1-1:", ("1-1:0.0.5.255", "1-1:96.1.1.255")
        out = {"1-1:0.2.129.255": ("Kamstrup_V0001", None)}
        current, voltage, energy = 100, None, 10
        clock_key = "0-1:1.0.0.255"
    else:
        p, ids = "1-0:", ("0-0:96.1.0.255", "0-0:96.1.7.255")
        out = {}
        current, voltage, energy = (10, 10, 10) if style == "aidon" else (1000, 10, 1)
        clock_key = "0-0:1.0.0.255"
    if list_number == 1:
        out[f"{p}1.7.0.255"] = (r.power_import_w, "W")
        return out
    out["1-1:0.2.129.255"] = (
        {"aidon": "AIDON_V0001", "kaifa": "KFM_001", "kamstrup": "Kamstrup_V0001"}[style],
        None,
    )
    out[ids[0]] = (r.meter_id, None)
    out[ids[1]] = (r.meter_type, None)
    powers = (r.power_import_w, r.power_export_w, r.reactive_import_var, r.reactive_export_var)
    for c, (value, unit) in enumerate(zip(powers, ("W", "W", "var", "var"), strict=True), 1):
        out[f"{p}{c}.7.0.255"] = (value, unit)
    phases = range(1 if r.phases == 1 else 3)
    currents = (r.current_l1_a, r.current_l2_a, r.current_l3_a)
    voltages = (r.voltage_l1_v, r.voltage_l2_v, r.voltage_l3_v)
    for i in phases:
        out[f"{p}{(31, 51, 71)[i]}.7.0.255"] = (round(currents[i] * current) / current, "A")
    for i in phases:
        v = round(voltages[i]) if voltage is None else round(voltages[i] * voltage) / voltage
        out[f"{p}{(32, 52, 72)[i]}.7.0.255"] = (v, "V")
    if list_number == 3:
        # the repeated autumn hour is read as its first occurrence (Norwegian-list rule)
        out[clock_key] = (r.clock.replace(fold=0).isoformat(), None)
        energies = (
            r.energy_import_wh,
            r.energy_export_wh,
            r.energy_reactive_import_varh,
            r.energy_reactive_export_varh,
        )
        units = ("Wh", "Wh", "varh", "varh")
        for c, (value, unit) in enumerate(zip(energies, units, strict=True), 1):
            out[f"{p}{c}.8.0.255"] = (value // energy * energy, unit)
    return out

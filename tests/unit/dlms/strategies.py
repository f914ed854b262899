"""Hypothesis strategies shared by the wire-core tests: ``Data`` trees, readings, keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from openams.dlms import Data, DataType, MeterReading

OSLO = ZoneInfo("Europe/Oslo")

#: Property tests: enough examples to find shallow bugs, few enough that the unit suite stays
#: fast. No deadline: the first call of a test pays for imports and caches.
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
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
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(OSLO)
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

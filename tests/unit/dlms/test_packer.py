"""ListPacker: the simulator's fast encoder gives exactly build_notification's bytes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import ListPacker, MeterReading, PushDecoder, build_notification

from .strategies import FAST_PROPERTY, readings

STYLES = ("aidon", "kaifa", "kamstrup")


@FAST_PROPERTY
@given(
    style=st.sampled_from(STYLES),
    list_number=st.sampled_from([1, 2, 3]),
    prototype=readings(),
    values=st.lists(readings(), min_size=1, max_size=5),
)
def test_packer_bytes_equal_the_tree_encoder(style, list_number, prototype, values):
    packer = ListPacker(style, list_number, prototype)
    for other in values:
        # the meter's identifiers and phases are the prototype's; everything else varies
        reading = replace(
            other,
            meter_id=prototype.meter_id,
            meter_type=prototype.meter_type,
            phases=prototype.phases,
        )
        assert packer.pack(reading) == build_notification(style, list_number, reading).to_bytes()


_ANY_NUMBER = st.one_of(
    st.integers(-(2**33), 2**33), st.floats(-1e10, 1e10, allow_nan=False, allow_infinity=False)
)


@FAST_PROPERTY
@given(
    style=st.sampled_from(STYLES),
    list_number=st.sampled_from([2, 3]),
    prototype=readings(),
    numbers=st.lists(_ANY_NUMBER, min_size=14, max_size=14),
)
def test_packer_rounds_and_clamps_exactly_as_the_tree_encoder(
    style, list_number, prototype, numbers
):
    names = [
        "power_import_w", "power_export_w", "reactive_import_var", "reactive_export_var",
        "current_l1_a", "current_l2_a", "current_l3_a", "voltage_l1_v", "voltage_l2_v",
        "voltage_l3_v", "energy_import_wh", "energy_export_wh", "energy_reactive_import_varh",
        "energy_reactive_export_varh",
    ]  # fmt: skip
    reading = replace(prototype, **dict(zip(names, numbers, strict=True)))
    packer = ListPacker(style, list_number, prototype)
    assert packer.pack(reading) == build_notification(style, list_number, reading).to_bytes()


@pytest.mark.parametrize("style", STYLES)
def test_packed_pushes_decode_to_the_reading(style):
    prototype = MeterReading(
        "5706567012345678",
        "6841121BN243101040",
        datetime.fromisoformat("2026-01-05T10:00:00+01:00"),
        power_import_w=2500,
        energy_import_wh=123_456_780,
        current_l1_a=10.5,
    )
    packer = ListPacker(style, 3, prototype)
    push = PushDecoder().decode(packer.pack(packer.reading_like(power_import_w=4321)))
    powers = [v for k, v in push.values.items() if ":1.7.0." in k]
    assert powers == [(4321, "W")]
    assert push.time.isoformat() == "2026-01-05T10:00:00+01:00"


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="no packer"):
        ListPacker(
            "landis", 3, MeterReading("1", "t", __import__("datetime").datetime.now().astimezone())
        )

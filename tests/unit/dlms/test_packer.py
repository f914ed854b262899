"""ListPacker: the simulator's fast encoder gives exactly build_notification's bytes."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    Ciphering,
    KeyPair,
    ListPacker,
    MeterReading,
    PushDecoder,
    PushSealer,
    build_notification,
    encode_push,
)

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


@FAST_PROPERTY
@given(
    style=st.sampled_from(STYLES),
    framing=st.sampled_from(["hdlc", "wrapper", "apdu", "mbus", "llc"]),
    ciphered=st.booleans(),
    title=st.binary(min_size=8, max_size=8),
    ek=st.binary(min_size=16, max_size=16),
    ak=st.binary(min_size=16, max_size=16),
    bodies=st.lists(st.binary(min_size=1, max_size=2200), min_size=1, max_size=3),
    counter=st.integers(0, 0xFFFFFFFF),
)
def test_sealer_bytes_equal_encode_push(style, framing, ciphered, title, ek, ak, bodies, counter):
    sealer = PushSealer(
        style, framing, system_title=title, ek=ek if ciphered else None, ak=ak if ciphered else None
    )
    for body in bodies:
        apdu = b"\x0f" + body
        ciphering = Ciphering(title, counter, ek, ak) if ciphered else None
        expected = encode_push(apdu, framing=framing, style=style, ciphering=ciphering)
        assert sealer.seal(apdu, counter) == expected


def test_sealed_packed_push_decodes_with_its_keys():
    prototype = MeterReading(
        "6970631401234567",
        "MA304H3E",
        datetime.fromisoformat("2026-01-05T10:00:00+01:00"),
        energy_import_wh=4_567_890,
    )
    title, ek, ak = b"KFM\x10\x00\x00\x00\x07", bytes(range(16)), bytes(range(16, 32))
    sealer = PushSealer("kaifa", system_title=title, ek=ek, ak=ak)
    raw = sealer.seal(ListPacker("kaifa", 3, prototype).pack(prototype), 41)
    push = PushDecoder().decode(raw, keys=KeyPair(ek, ak))
    assert push.invocation_counter == 41
    assert push.security == "auth+enc"
    assert push.values["1-0:1.8.0.255"] == (4_567_890, "Wh")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "landis"}, "no HDLC addresses"),
        ({"style": "aidon", "ek": bytes(16)}, "a system title is 8 bytes"),
    ],
)
def test_sealer_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PushSealer(**kwargs)


def test_sealer_refuses_a_counter_out_of_range_and_a_zero_frame_size():
    sealer = PushSealer("aidon", system_title=bytes(8), ek=bytes(16), ak=bytes(16))
    with pytest.raises(ValueError, match="unsigned 32-bit"):
        sealer.seal(b"\x0f\x00", 1 << 32)
    with pytest.raises(ValueError, match="max_info_length must be positive"):
        PushSealer("aidon", max_info_length=0)


def test_sealer_reuses_its_header_for_pushes_of_one_length():
    sealer = PushSealer("kamstrup")
    first, second = sealer.seal(b"\x0f\x01\x02"), sealer.seal(b"\x0f\x03\x04")
    assert first[:7] == second[:7]  # flag, format, addresses, control, HCS
    assert first == encode_push(b"\x0f\x01\x02", style="kamstrup")
    assert second == encode_push(b"\x0f\x03\x04", style="kamstrup")


@FAST_PROPERTY
@given(
    style=st.sampled_from(STYLES),
    list_number=st.sampled_from([1, 2, 3]),
    prototype=readings(),
    other=readings(),
    numbers=st.lists(_ANY_NUMBER, min_size=14, max_size=14),
)
def test_pack_wire_of_wire_numbers_equals_pack(style, list_number, prototype, other, numbers):
    packer = ListPacker(style, list_number, prototype)
    names = [f.name for f in fields(MeterReading)][4:]
    reading = replace(
        other,
        meter_id=prototype.meter_id,
        meter_type=prototype.meter_type,
        phases=prototype.phases,
        **dict(zip(names, numbers, strict=True)),
    )
    wire = packer.wire_numbers(reading)
    assert len(wire) == len(packer.wire_fields)
    assert all(f.low <= n <= f.high for f, n in zip(packer.wire_fields, wire, strict=True))
    assert packer.pack_wire(packer.clock_bytes(reading.clock), wire) == packer.pack(reading)


@FAST_PROPERTY
@given(
    style=st.sampled_from(STYLES),
    list_number=st.sampled_from([1, 2, 3]),
    prototype=readings(),
    other=readings(),
    meter_id=st.text("0123456789", min_size=1, max_size=20),
    meter_type=st.text("0123456789ABCHM", min_size=1, max_size=20),
)
def test_for_meter_gives_the_packer_of_that_meter(
    style, list_number, prototype, other, meter_id, meter_type
):
    """Swapped in place or compiled anew, the bytes are those of the other meter's packer."""
    packer = ListPacker(style, list_number, prototype)
    clone = packer.for_meter(meter_id, meter_type)
    reading = replace(other, meter_id=meter_id, meter_type=meter_type, phases=prototype.phases)
    assert clone.pack(reading) == build_notification(style, list_number, reading).to_bytes()
    wire = clone.wire_numbers(reading)
    assert clone.pack_wire(clone.clock_bytes(reading.clock), wire) == clone.pack(reading)
    # the original still packs its own meter
    mine = replace(reading, meter_id=prototype.meter_id, meter_type=prototype.meter_type)
    assert packer.pack(mine) == build_notification(style, list_number, mine).to_bytes()


def test_for_meter_with_same_length_ids_swaps_in_place():
    clock = datetime(2026, 1, 1, 1, tzinfo=ZoneInfo("Europe/Oslo"))
    prototype = MeterReading("7359992890000001", "6534", clock, phases=3)
    packer = ListPacker("aidon", 3, prototype)
    clone = packer.for_meter("7359992890000002", "6515")
    assert clone._pack.__code__ is packer._pack.__code__  # rebound, not compiled again
    reading = replace(prototype, meter_id="7359992890000002", meter_type="6515")
    assert clone.pack(reading) == build_notification("aidon", 3, reading).to_bytes()
    same_id = packer.for_meter("7359992890000001", "6515")
    reading = replace(prototype, meter_type="6515")
    assert same_id.pack(reading) == build_notification("aidon", 3, reading).to_bytes()

"""List layouts: the Norwegian lists, the generic OBIS decoder, and the compiled fast path."""

from __future__ import annotations

import json
from datetime import datetime
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    Ciphering,
    Data,
    DataNotification,
    DataType,
    KeyPair,
    MeterReading,
    Obis,
    Push,
    PushDecoder,
    _layout,
    _lists,
    _push,
    build_notification,
    encode_push,
    list_decoders,
    register_list_decoder,
)
from openams.dlms._layout import CONV_NUMBER, CONV_TEXT, Plan, PlanItem
from tests.vectors import PushVector, aidon_6534, kaifa_ma304h3e, kamstrup_6841

from .strategies import FAST_PROPERTY, OSLO, expected_values, readings

VECTORS = [*aidon_6534.VECTORS, *kaifa_ma304h3e.VECTORS, *kamstrup_6841.VECTORS]
T = DataType


def _keys(vector: PushVector):
    if vector.ciphering is None:
        return None
    return KeyPair(vector.ciphering["ek"], vector.ciphering["ak"])


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _comparable(push: Push) -> dict:
    """Every field of a push, date-times as ISO text so that their offsets are compared too."""
    return {
        **push._asdict(),
        "time": _iso(push.time),
        "header_time": _iso(push.header_time),
        "values": {k: (_iso(v), u) for k, (v, u) in push.values.items()},
    }


def _assert_matches_vector(push: Push, vector: PushVector) -> None:
    assert push.framing == vector.framing
    assert push.layout == vector.layout
    assert push.list_id == vector.list_id
    assert push.manufacturer == vector.manufacturer
    assert push.meter_id == vector.meter_id
    assert push.meter_type == vector.meter_type
    assert _iso(push.time) == vector.time
    assert _iso(push.header_time) == vector.header_time
    got = {key: (_iso(value), unit) for key, (value, unit) in push.values.items()}
    assert got == vector.values
    assert list(got) == list(vector.values)  # in push order
    assert push.tree is None


# --- the annotated vectors -------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector_decodes_to_its_expected_values(vector):
    decoder = PushDecoder()
    first = decoder.decode(vector.data, keys=_keys(vector))
    _assert_matches_vector(first, vector)
    # the second decode takes the compiled fast path and gives the same push
    again = decoder.decode(vector.data, keys=_keys(vector))
    assert _comparable(again) == _comparable(first)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_encoder_still_makes_the_vector_bytes(vector):
    notification = build_notification(
        vector.style, vector.list_number, MeterReading(**vector.reading)
    )
    ciphering = Ciphering(**vector.ciphering) if vector.ciphering else None
    raw = encode_push(notification, framing=vector.framing, style=vector.style, ciphering=ciphering)
    assert raw == vector.data


def test_vectors_cover_every_style_and_list():
    covered = {(v.style, v.list_number) for v in VECTORS}
    assert covered == {(s, n) for s in ("aidon", "kaifa", "kamstrup") for n in (1, 2, 3)}


# --- every style, list and phase count decodes back to the reading ----------------------------


@FAST_PROPERTY
@given(
    st.sampled_from(["aidon", "kaifa", "kamstrup"]),
    st.sampled_from([1, 2, 3]),
    readings(),
)
def test_every_list_decodes_back_to_the_reading(style, list_number, reading):
    push = PushDecoder().decode(encode_push(build_notification(style, list_number, reading)))
    got = {key: (_iso(value), unit) for key, (value, unit) in push.values.items()}
    assert got == expected_values(style, list_number, reading)
    assert push.layout == style
    if list_number > 1:
        assert (push.meter_id, push.meter_type) == (reading.meter_id, reading.meter_type)
    if style != "aidon" or list_number == 3:
        # the meter clock (List 3) or the header (Kaifa, Kamstrup): Oslo wall-clock time
        assert push.time.isoformat() == reading.clock.replace(fold=0).isoformat()


# --- the compiled fast path gives exactly what the tree decode gives ---------------------------


@FAST_PROPERTY
@given(
    st.sampled_from(["aidon", "kaifa", "kamstrup"]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 3]).flatmap(lambda phases: st.tuples(readings(phases), readings(phases))),
)
def test_fast_path_gives_the_same_push_as_a_fresh_decoder(style, list_number, two):
    first, second = (encode_push(build_notification(style, list_number, r)) for r in two)
    decoder = PushDecoder()
    decoder.decode(first)  # compiles the template
    with mock.patch.object(_push, "scan_notification", wraps=_push.scan_notification) as tree_path:
        fast = decoder.decode(second)
    assert tree_path.call_count == 0  # the template matched: this was the fast path
    fresh = PushDecoder().decode(second)
    assert fast == fresh
    assert _comparable(fast) == _comparable(fresh)


def _swap(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) == 1
    assert len(old) == len(new)
    return raw.replace(old, new)


AIDON_2 = build_notification("aidon", 2, MeterReading(**aidon_6534.READING)).to_bytes()
KAIFA_2 = build_notification("kaifa", 2, MeterReading(**kaifa_ma304h3e.READING)).to_bytes()
KAMSTRUP_2 = build_notification("kamstrup", 2, MeterReading(**kamstrup_6841.READING)).to_bytes()


@pytest.mark.parametrize(
    ("base", "changed"),
    [
        # another OBIS code in the same place: export instead of import power
        (
            AIDON_2,
            _swap(AIDON_2, Obis.parse("1-0:1.7.0").to_bytes(), Obis.parse("1-0:9.7.0").to_bytes()),
        ),
        # another scaler: current in 0.01 A instead of 0.1 A
        (
            AIDON_2,
            AIDON_2.replace(bytes.fromhex("0f ff 16 21"), bytes.fromhex("0f fe 16 21")),
        ),
        # another unit
        (AIDON_2, AIDON_2.replace(bytes.fromhex("0f 00 16 1b"), bytes.fromhex("0f 00 16 1c"))),
        # another list version
        (AIDON_2, _swap(AIDON_2, b"AIDON_V0001", b"AIDON_V0002")),
        (AIDON_2, _swap(AIDON_2, b"AIDON_V0001", b"XIDON_V0001")),
        (KAIFA_2, _swap(KAIFA_2, b"KFM_001", b"KFM_002")),
        (KAIFA_2, _swap(KAIFA_2, b"KFM_001", b"XFM_001")),
        (KAMSTRUP_2, _swap(KAMSTRUP_2, b"Kamstrup_V0001", b"Kamstrup_V0002")),
        (KAMSTRUP_2, _swap(KAMSTRUP_2, b"Kamstrup_V0001", b"Kamstrup-V0001")),
        (
            KAMSTRUP_2,
            _swap(
                KAMSTRUP_2,
                Obis.parse("1-1:31.7.0").to_bytes(),
                Obis.parse("1-1:32.7.0").to_bytes(),
            ),
        ),
        # another type for a value: long-unsigned where long was (Aidon current L1)
        (AIDON_2, AIDON_2.replace(bytes.fromhex("ff 10 00 35"), bytes.fromhex("ff 12 00 35"))),
    ],
    ids=[
        "obis",
        "scaler",
        "unit",
        "aidon-list-version",
        "aidon-list-id",
        "kaifa-list-version",
        "kaifa-list-id",
        "kamstrup-list-version",
        "kamstrup-list-id",
        "kamstrup-obis",
        "type",
    ],
)
def test_template_is_not_used_for_a_push_whose_constant_bytes_differ(base, changed):
    assert len(changed) == len(base)
    assert changed != base
    decoder = PushDecoder()
    decoder.decode(base)
    assert _comparable(decoder.decode(changed)) == _comparable(PushDecoder().decode(changed))


def test_template_is_used_when_only_values_invoke_id_and_header_clock_differ():
    readings_ = [
        MeterReading(**{**kaifa_ma304h3e.READING, "clock": clock, "power_import_w": watts})
        for clock, watts in (
            (datetime(2024, 6, 10, 8, 30, 10, tzinfo=OSLO), 100),
            (datetime(2025, 1, 1, 0, 0, 0, tzinfo=OSLO), 999_999),
        )
    ]
    first, second = (build_notification("kaifa", 2, r) for r in readings_)
    second = DataNotification(0x40000007, second.date_time, second.body, True)
    decoder = PushDecoder()
    decoder.decode(first.to_bytes())
    with mock.patch.object(_push, "scan_notification", wraps=_push.scan_notification) as tree:
        push = decoder.decode(second.to_bytes())
    assert tree.call_count == 0
    assert push.header_time.isoformat() == "2025-01-01T00:00:00+01:00"
    assert push.values["1-0:1.7.0.255"] == (999_999, "W")


def _kamstrup_like(list_id: str) -> bytes:
    def obis(text: str) -> Data:
        return Data(T.OCTET_STRING, Obis.parse(text).to_bytes())

    body = Data(
        T.STRUCTURE,
        (
            Data(T.VISIBLE_STRING, list_id),
            obis("1-1:1.7.0.255"),
            Data(T.DOUBLE_LONG_UNSIGNED, 1234),
            obis("1-1:31.7.0.255"),
            Data(T.DOUBLE_LONG_UNSIGNED, 530),
        ),
    )
    return DataNotification(0, None, body).to_bytes()


def test_template_of_a_generic_push_is_not_used_for_a_kamstrup_push():
    """A body the Kamstrup decoder refuses only for its list id ("Kamstrup-V0001") falls to the
    generic decoder, which does not keep that leaf constant. The Kamstrup push of the same shape
    ("Kamstrup_V0001") must still be read as Kamstrup, with its scalers, whatever came before.
    """
    generic, kamstrup = _kamstrup_like("Kamstrup-V0001"), _kamstrup_like("Kamstrup_V0001")
    fresh = PushDecoder().decode(kamstrup)
    assert fresh.layout == "kamstrup"
    assert fresh.values["1-1:31.7.0.255"] == (5.3, "A")
    decoder = PushDecoder()
    assert decoder.decode(generic).layout == "obis"
    assert _comparable(decoder.decode(kamstrup)) == _comparable(fresh)


def test_template_of_a_generic_push_is_not_used_for_a_kaifa_push():
    def obis(text: str) -> Data:
        return Data(T.OCTET_STRING, Obis.parse(text).to_bytes())

    def push(list_id: bytes) -> bytes:
        items = [Data(T.OCTET_STRING, list_id)]
        for c in (1, 2, 3, 4):
            items += [obis(f"1-0:{c}.7.0.255"), Data(T.DOUBLE_LONG_UNSIGNED, 5)]
        return DataNotification(0, None, Data(T.STRUCTURE, tuple(items))).to_bytes()

    generic, kaifa = push(b"XFM_001"), push(b"KFM_001")
    fresh = PushDecoder().decode(kaifa)
    decoder = PushDecoder()
    decoder.decode(generic)
    assert _comparable(decoder.decode(kaifa)) == _comparable(fresh)


def test_template_cache_is_bounded():
    decoder = PushDecoder(max_templates=2)
    pushes = [
        encode_push(build_notification("aidon", n, MeterReading(**aidon_6534.READING)))
        for n in (1, 2, 3)
    ]
    for _ in range(2):
        for raw, n in zip(pushes, (1, 2, 3), strict=True):
            assert decoder.decode(raw).values == PushDecoder().decode(raw).values, n
    assert sum(len(t) for t in decoder._templates.values()) <= 2


# --- the generic OBIS decoder ----------------------------------------------------------------


def obis(text: str) -> Data:
    return Data(T.OCTET_STRING, Obis.parse(text).to_bytes())


def su(scaler: int, unit: int) -> Data:
    return Data(T.STRUCTURE, (Data(T.INTEGER, scaler), Data(T.ENUM, unit)))


def u32(value: int) -> Data:
    return Data(T.DOUBLE_LONG_UNSIGNED, value)


def decode_body(body: Data, date_time: bytes | None = None) -> Push:
    return PushDecoder().decode(DataNotification(7, date_time, body).to_bytes())


def test_generic_flat_pairs_with_and_without_scaler_unit():
    body = Data(
        T.STRUCTURE,
        (
            obis("1-0:1.8.0.255"),
            u32(123456),
            su(-3, 30),  # kWh sent as Wh * 10^-3... here: 123.456 Wh
            obis("1-0:32.7.0.255"),
            Data(T.LONG_UNSIGNED, 2301),
            su(-1, 35),
            obis("1-0:2.7.0.255"),
            Data(T.LONG, -5),  # no scaler/unit: as sent, unit None
            obis("1-0:14.7.0.255"),
            Data(T.LONG_UNSIGNED, 50),
            su(0, 44),
            obis("1-0:3.8.0.255"),
            u32(7),
            su(2, 32),  # scaler +2: 700 varh
            Data(T.UNSIGNED, 9),  # a loose value with no OBIS code: left out
        ),
    )
    push = decode_body(body)
    assert push.layout == "obis"
    assert push.manufacturer is None
    assert push.values == {
        "1-0:1.8.0.255": (123.456, "Wh"),
        "1-0:32.7.0.255": (230.1, "V"),
        "1-0:2.7.0.255": (-5, None),
        "1-0:14.7.0.255": (50, "Hz"),
        "1-0:3.8.0.255": (700, "varh"),
    }


def test_generic_structures_with_a_long_scaler_and_an_unknown_unit():
    body = Data(
        T.ARRAY,
        (
            Data(T.STRUCTURE, (obis("1-1:0.2.129.255"), Data(T.VISIBLE_STRING, "LGZ_V1"))),
            Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(42), su(0, 27))),
            Data(
                T.STRUCTURE,
                (
                    obis("1-0:31.7.0.255"),
                    Data(T.DOUBLE_LONG, 1234),
                    Data(T.STRUCTURE, (Data(T.LONG, -2), Data(T.ENUM, 99))),
                ),
            ),
        ),
    )
    push = decode_body(body)
    assert push.layout == "obis"
    assert push.list_id == "LGZ_V1"
    assert push.values == {
        "1-1:0.2.129.255": ("LGZ_V1", None),
        "1-0:1.7.0.255": (42, "W"),
        "1-0:31.7.0.255": (12.34, "unit 99"),
    }


def test_generic_values_of_every_kind():
    clock = bytes.fromhex("07e8 0a 1b 07 02 1e 00 00 ff88 80")
    body = Data(
        T.STRUCTURE,
        (
            obis("0-0:1.0.0.255"),
            Data(T.OCTET_STRING, clock),  # the clock object: a date-time
            obis("0-0:96.1.0.255"),
            Data(T.OCTET_STRING, b"\x01\x02\xff"),  # not text: hex
            obis("0-0:96.1.1.255"),
            Data(T.UTF8_STRING, "Måler 7"),
            obis("1-0:0.1.2.255"),
            Data(T.OCTET_STRING, clock),  # twelve bytes: read as a date-time
            obis("0-0:96.3.10.255"),
            Data(T.BOOLEAN, True),
            obis("0-0:96.5.0.255"),
            Data(T.BIT_STRING, "10100000"),  # bit-string: its bytes, as hex
            obis("1-0:13.7.0.255"),
            Data(T.FLOAT32, 0.5),
            obis("0-0:96.7.21.255"),
            Data(T.NULL_DATA, None),
            obis("0-0:96.14.0.255"),
            Data(T.OCTET_STRING, b"tab\there"),  # not printable: hex
        ),
    )
    push = decode_body(body)
    expected_clock = "2024-10-27T02:30:00+02:00"
    assert {k: (_iso(v), u) for k, (v, u) in push.values.items()} == {
        "0-0:1.0.0.255": (expected_clock, None),
        "0-0:96.1.0.255": ("0102ff", None),
        "0-0:96.1.1.255": ("Måler 7", None),
        "1-0:0.1.2.255": (expected_clock, None),
        "0-0:96.3.10.255": (True, None),
        "0-0:96.5.0.255": ("a0", None),
        "1-0:13.7.0.255": (0.5, None),
        "0-0:96.7.21.255": (None, None),
        "0-0:96.14.0.255": ("7461620968657265", None),
    }
    assert push.meter_id == "0102ff"
    assert push.meter_type == "Måler 7"
    assert push.time.isoformat() == expected_clock


def test_clock_object_that_is_not_a_date_time_is_kept_as_text():
    push = decode_body(Data(T.STRUCTURE, (obis("0-0:1.0.0.255"), Data(T.VISIBLE_STRING, "x"))))
    assert push.values["0-0:1.0.0.255"] == ("x", None)
    assert push.time is None  # not a date-time: the push has no clock


def test_push_to_dict_is_json_ready_for_date_and_time_values():
    """``to_dict`` promises a JSON-ready dictionary, bytes as hex."""
    body = Data(
        T.STRUCTURE,
        (
            obis("1-0:0.1.2.255"),
            Data(T.DATE, bytes.fromhex("07e8 0a 1b 07")),
            obis("0-0:1.0.0.255"),
            Data(T.TIME, bytes.fromhex("02 1e 00 00")),
        ),
    )
    as_dict = decode_body(body).to_dict()
    json.dumps(as_dict)
    assert as_dict["values"]["1-0:0.1.2.255"] == {"value": "07e80a1b07", "unit": None}


def test_date_time_typed_values_decode_as_date_times():
    stamp = bytes.fromhex("07ea 01 05 01 0a 00 00 00 ff c4 00")
    body = Data(T.STRUCTURE, (obis("1-0:0.1.2.255"), Data(T.DATE_TIME, stamp)))
    value, unit = decode_body(body).values["1-0:0.1.2.255"]
    assert value.isoformat() == "2026-01-05T10:00:00+01:00"
    assert unit is None


def test_to_dict_gives_raw_bytes_as_hex():
    push = decode_body(Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(5))))
    odd = push._replace(values={"x": (b"\x01\xff", None)})
    assert odd.to_dict()["values"]["x"] == {"value": "01ff", "unit": None}


def test_generic_capture_object_list():
    def descriptor(class_id: int, code: str, attribute: int) -> Data:
        return Data(
            T.STRUCTURE,
            (
                Data(T.LONG_UNSIGNED, class_id),
                obis(code),
                Data(T.INTEGER, attribute),
                Data(T.LONG_UNSIGNED, 0),
            ),
        )

    body = Data(
        T.STRUCTURE,
        (
            Data(
                T.ARRAY,
                (
                    descriptor(40, "0-0:25.9.0.255", 2),  # the push setup's own object list
                    descriptor(1, "0-0:96.1.0.255", 2),
                    descriptor(3, "1-0:1.8.0.255", 2),
                    descriptor(3, "1-0:1.8.0.255", 3),  # scaler and unit: a container, skipped
                    descriptor(3, "1-0:2.8.0.255", 4),  # another attribute: not a value
                ),
            ),
            Data(T.VISIBLE_STRING, "ISK1030775012345"),
            u32(98765),
            su(0, 30),
            u32(1),
        ),
    )
    push = decode_body(body)
    assert push.layout == "obis"
    assert push.values == {
        "0-0:96.1.0.255": ("ISK1030775012345", None),
        "1-0:1.8.0.255": (98765, None),
    }
    assert push.meter_id == "ISK1030775012345"


@pytest.mark.parametrize(
    "body",
    [
        Data(T.DOUBLE_LONG_UNSIGNED, 5),  # not a container
        Data(T.ARRAY, ()),
        Data(T.STRUCTURE, ()),
        Data(T.STRUCTURE, (u32(1), u32(2), u32(3))),  # bare values that are not a Kaifa list
        Data(T.STRUCTURE, (obis("1-0:1.8.0.255"),)),  # an OBIS code without a value
        Data(T.STRUCTURE, (obis("1-0:1.8.0.255"), Data(T.STRUCTURE, ()))),  # value a container
        Data(T.ARRAY, (Data(T.STRUCTURE, (u32(1), u32(2))),)),  # no OBIS in the structures
        Data(T.ARRAY, (Data(T.STRUCTURE, (obis("1-0:1.8.0.255"), u32(2), u32(3))),)),
        Data(T.STRUCTURE, (Data(T.ARRAY, (u32(1),)), u32(1))),  # not a capture-object list
        Data(T.STRUCTURE, (Data(T.ARRAY, (u32(1), u32(2))), u32(1))),  # descriptors not 4-tuples
        Data(
            T.STRUCTURE,
            (
                Data(T.ARRAY, (u32(0), Data(T.STRUCTURE, (u32(1), u32(2), u32(3), u32(4))))),
                u32(1),
            ),
        ),  # descriptor without an OBIS code
    ],
    ids=[
        "leaf",
        "empty-array",
        "empty-structure",
        "bare-values",
        "obis-alone",
        "container-value",
        "no-obis",
        "bad-scaler-unit",
        "short-capture-list",
        "capture-not-descriptors",
        "capture-without-obis",
    ],
)
def test_bodies_no_decoder_maps_give_an_unknown_push_with_the_tree(body):
    clock = bytes.fromhex("07e8 01 0f 01 11 00 00 00 ffc4 00")
    push = decode_body(body, clock)
    assert push.layout == "unknown"
    assert push.tree == body
    assert push.values == {}
    assert push.list_id is None
    assert push.header_time.isoformat() == "2024-01-15T17:00:00+01:00"
    assert push.time == push.header_time


# --- the Norwegian decoders refuse what is not theirs ------------------------------------------


def test_aidon_array_with_another_list_id_is_generic():
    body = Data(
        T.ARRAY,
        (
            Data(T.STRUCTURE, (obis("1-1:0.2.129.255"), Data(T.VISIBLE_STRING, "OTHER_V1"))),
            Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(5), su(0, 27))),
        ),
    )
    push = decode_body(body)
    assert (push.layout, push.list_id, push.manufacturer) == ("obis", "OTHER_V1", None)


def test_aidon_array_without_a_list_id_is_aidon():
    body = Data(T.ARRAY, (Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(5), su(0, 27))),))
    assert decode_body(body).layout == "aidon"


def test_aidon_array_with_a_loose_value_is_not_aidon():
    body = Data(
        T.ARRAY,
        (Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(5), su(0, 27))), Data(T.STRUCTURE, ())),
    )
    assert decode_body(body).layout == "unknown"


@pytest.mark.parametrize(
    "first",
    [Data(T.VISIBLE_STRING, "Kamstrup_V0001"), Data(T.OCTET_STRING, b"Kamstrup_V0001")],
)
def test_kamstrup_list_id_may_be_visible_or_octet_string(first):
    body = Data(T.STRUCTURE, (first, obis("1-1:1.7.0.255"), u32(5)))
    push = decode_body(body)
    assert (push.layout, push.list_id) == ("kamstrup", "Kamstrup_V0001")


def test_kamstrup_structure_with_a_loose_non_null_value_is_not_kamstrup():
    body = Data(
        T.STRUCTURE,
        (Data(T.VISIBLE_STRING, "Kamstrup_V0001"), obis("1-1:1.7.0.255"), u32(5), u32(6)),
    )
    push = decode_body(body)
    assert push.layout == "obis"
    assert push.values == {"1-1:1.7.0.255": (5, None)}


def test_kamstrup_without_any_obis_pair_is_not_kamstrup():
    body = Data(T.STRUCTURE, (Data(T.VISIBLE_STRING, "Kamstrup_V0001"), u32(5), u32(6)))
    assert decode_body(body).layout == "unknown"


def test_kamstrup_scalers_by_quantity():
    body = Data(
        T.STRUCTURE,
        (
            Data(T.VISIBLE_STRING, "Kamstrup_V0001"),
            obis("1-1:13.7.0.255"),  # power factor: 0.01
            Data(T.LONG_UNSIGNED, 98),
            obis("1-1:9.8.0.255"),  # apparent energy register: 10 VAh
            u32(5),
            obis("1-1:14.7.0.255"),  # frequency: as sent
            Data(T.LONG_UNSIGNED, 50),
            obis("0-0:96.1.0.255"),  # meter id, text
            Data(T.VISIBLE_STRING, "57065673"),
        ),
    )
    assert decode_body(body).values == {
        "1-1:0.2.129.255": ("Kamstrup_V0001", None),
        "1-1:13.7.0.255": (0.98, ""),
        "1-1:9.8.0.255": (50, "VAh"),
        "1-1:14.7.0.255": (50, "Hz"),
        "0-0:96.1.0.255": ("57065673", None),
    }


def test_kamstrup_with_a_short_structure_or_a_binary_list_id_is_not_kamstrup():
    assert decode_body(Data(T.STRUCTURE, (Data(T.VISIBLE_STRING, "Kamstrup_V0001"),))).layout == (
        "unknown"
    )
    body = Data(T.STRUCTURE, (Data(T.OCTET_STRING, b"\xffamstrup"), obis("1-1:1.7.0.255"), u32(5)))
    assert decode_body(body).layout == "obis"


def test_kaifa_paired_list_as_sent_outside_norway():
    body = Data(
        T.STRUCTURE,
        (
            obis("1-1:0.2.129.255"),
            Data(T.OCTET_STRING, b"KFM_001"),
            obis("1-0:31.7.0.255"),
            u32(1500),  # mA
            obis("1-0:32.7.0.255"),
            u32(2305),  # 0.1 V
            obis("1-0:1.8.0.255"),
            u32(12),
        ),
    )
    push = decode_body(body)
    assert push.layout == "kaifa"
    assert push.values == {
        "1-1:0.2.129.255": ("KFM_001", None),
        "1-0:31.7.0.255": (1.5, "A"),
        "1-0:32.7.0.255": (230.5, "V"),
        "1-0:1.8.0.255": (12, "Wh"),
    }


@pytest.mark.parametrize(
    "items",
    [
        (obis("1-1:0.2.129.255"), Data(T.OCTET_STRING, b"OTHER"), obis("1-0:1.7.0.255"), u32(1)),
        (obis("1-0:1.7.0.255"), u32(1)),  # no list id
        (obis("1-1:0.2.129.255"), Data(T.OCTET_STRING, b"KFM_001"), u32(1)),  # a loose value
        (obis("1-1:0.2.129.255"), Data(T.OCTET_STRING, b"KFM_001"), Data(T.STRUCTURE, ())),
    ],
    ids=["other-list-id", "no-list-id", "loose-value", "container"],
)
def test_kaifa_paired_refuses_other_lists(items):
    assert decode_body(Data(T.STRUCTURE, items)).layout != "kaifa"


def test_kaifa_positional_list_reads_values_by_position():
    push = decode_body(Data(T.STRUCTURE, (Data(T.OCTET_STRING, b"KFM_001"), *[u32(1)] * 8)))
    assert push.layout == "kaifa"
    assert push.values["1-0:31.7.0.255"] == (0.001, "A")
    assert push.values["1-0:32.7.0.255"] == (0.1, "V")


@pytest.mark.parametrize(
    "items",
    [
        (Data(T.VISIBLE_STRING, "x"),),  # List 1 of a text value
        (Data(T.OCTET_STRING, b"XFM_001"), *[u32(1)] * 8),
        (Data(T.OCTET_STRING, b"\xff"), *[u32(1)] * 8),
        (*[u32(1)] * 9,),
        (Data(T.OCTET_STRING, b"KFM_001"), *[u32(1)] * 7, Data(T.NULL_DATA, None)),
        (Data(T.OCTET_STRING, b"KFM_001"), Data(T.STRUCTURE, ()), *[u32(1)] * 7),
        (*[u32(1)] * 5,),
    ],
    ids=["list1-text", "other-id", "binary-id", "no-id", "null-value", "container", "five"],
)
def test_kaifa_positional_refuses_other_bodies(items):
    assert decode_body(Data(T.STRUCTURE, items)).layout == "unknown"


def test_kaifa_list_1_of_any_number_type():
    push = decode_body(Data(T.STRUCTURE, (Data(T.LONG, 300),)))
    assert (push.layout, push.values) == ("kaifa", {"1-0:1.7.0.255": (300, "W")})


# --- registering decoders --------------------------------------------------------------------


class _Fixed:
    """A list decoder that claims every structure and reads its first leaf."""

    def __init__(self, name: str) -> None:
        self.name = name

    def plan(self, scan):
        if scan.body.type is not T.STRUCTURE or not scan.body.items:
            return None
        leaf = scan.body.items[0]
        if leaf.is_container:
            return None
        return Plan(self.name, None, "Acme", (PlanItem("first", leaf.index, CONV_NUMBER),))


@pytest.fixture
def registry(monkeypatch):
    copy = list(_lists._REGISTRY)
    monkeypatch.setattr(_lists, "_REGISTRY", copy)
    return copy


def test_builtin_decoders_are_tried_before_the_generic_one():
    names = [d.name for d in list_decoders()]
    assert names[-1] == "obis"
    assert set(names) == {"aidon", "kaifa", "kamstrup", "obis"}


def test_registered_decoder_goes_before_the_generic_one(registry):
    register_list_decoder(_Fixed("acme"))
    assert [d.name for d in list_decoders()][-2:] == ["acme", "obis"]
    # Kaifa still claims its List 1; a structure that is only Acme's goes to Acme
    assert decode_body(Data(T.STRUCTURE, (u32(5),))).layout == "kaifa"
    push = decode_body(Data(T.STRUCTURE, (u32(5), obis("1-0:1.8.0.255"), u32(6))))
    assert (push.layout, push.manufacturer, push.values) == ("acme", "Acme", {"first": (5, None)})


def test_registered_decoder_may_go_first(registry):
    register_list_decoder(_Fixed("acme"), first=True)
    assert list_decoders()[0].name == "acme"
    assert decode_body(Data(T.STRUCTURE, (u32(5),))).layout == "acme"


def test_registering_without_a_generic_decoder_appends(registry):
    registry.clear()
    register_list_decoder(_Fixed("one"))
    register_list_decoder(_Fixed("two"))
    assert [d.name for d in list_decoders()] == ["one", "two"]


# --- manufacturer from the system title -------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "manufacturer"),
    [
        (b"LGZ\x00\x00\x00\x00\x01", "Landis+Gyr"),
        (b"ISK\x00\x00\x00\x00\x01", "Iskraemeco"),
        (b"XYZ\x00\x00\x00\x00\x01", None),
    ],
)
def test_generic_push_takes_its_manufacturer_from_the_system_title(title, manufacturer):
    body = Data(T.STRUCTURE, (obis("1-0:1.8.0.255"), u32(5)))
    key = bytes(16)
    raw = encode_push(
        DataNotification(1, None, body),
        framing="apdu",
        ciphering=Ciphering(title, 1, key, key),
    )
    push = PushDecoder().decode(raw, keys=KeyPair(key, key))
    assert push.manufacturer == manufacturer
    unknown = encode_push(
        DataNotification(1, None, Data(T.NULL_DATA, None)),
        framing="apdu",
        ciphering=Ciphering(title, 2, key, key),
    )
    assert PushDecoder().decode(unknown, keys=KeyPair(key, key)).manufacturer == manufacturer


def test_a_list_identifier_decides_the_manufacturer_over_the_system_title():
    key = bytes(16)
    title = b"KFM\x00\x00\x00\x00\x01"
    notification = build_notification("aidon", 3, MeterReading(**aidon_6534.READING))
    raw = encode_push(notification, ciphering=Ciphering(title, 1, key, key))
    assert PushDecoder().decode(raw, keys=KeyPair(key, key)).manufacturer == "Aidon"


def test_aidon_list_1_shape_is_only_a_guess_the_system_title_overrides():
    key = bytes(16)
    notification = build_notification("aidon", 1, MeterReading(**aidon_6534.READING))
    decoder = PushDecoder()
    for counter, title, manufacturer in [
        (1, b"KFM\x00\x00\x00\x00\x01", "Kaifa"),
        (2, b"XYZ\x00\x00\x00\x00\x01", "Aidon"),  # unknown FLAG: the shape's manufacturer
    ]:
        raw = encode_push(notification, ciphering=Ciphering(title, counter, key, key))
        for _ in range(2):  # the tree path, then the compiled layout
            assert decoder.decode(raw, keys=KeyPair(key, key)).manufacturer == manufacturer
    assert PushDecoder().decode(encode_push(notification)).manufacturer == "Aidon"


def test_clock_object_holding_a_number_is_given_as_sent():
    body = Data(T.STRUCTURE, (obis("0-0:1.0.0.255"), u32(1_700_000_000)))
    push = decode_body(body)
    assert push.values == {"0-0:1.0.0.255": (1_700_000_000, None)}
    assert push.time is None


@pytest.mark.parametrize(
    "scaler_unit",
    [
        (Data(T.UNSIGNED, 0), Data(T.ENUM, 27)),  # the scaler is an integer or a long
        (Data(T.INTEGER, 0), Data(T.UNSIGNED, 27)),  # the unit is an enum
        (Data(T.STRUCTURE, ()), Data(T.ENUM, 27)),
    ],
    ids=["unsigned-scaler", "unsigned-unit", "container-scaler"],
)
def test_a_scaler_unit_pair_has_the_standard_types(scaler_unit):
    item = Data(T.STRUCTURE, (obis("1-0:1.7.0.255"), u32(5), Data(T.STRUCTURE, scaler_unit)))
    assert decode_body(Data(T.ARRAY, (item,))).layout == "unknown"


def test_kamstrup_with_a_stray_structure_is_not_kamstrup():
    body = Data(
        T.STRUCTURE,
        (
            Data(T.VISIBLE_STRING, "Kamstrup_V0001"),
            obis("1-1:1.7.0.255"),
            u32(5),
            Data(T.STRUCTURE, ()),
        ),
    )
    assert decode_body(body).layout == "unknown"


def test_capture_object_list_without_any_value_attribute_is_unknown():
    descriptor = Data(
        T.STRUCTURE,
        (Data(T.LONG_UNSIGNED, 3), obis("1-0:1.8.0.255"), Data(T.INTEGER, 3), u32(0)),
    )
    body = Data(T.STRUCTURE, (Data(T.ARRAY, (descriptor, descriptor)), u32(5)))
    assert decode_body(body).layout == "unknown"


@pytest.mark.parametrize(
    "leaf",
    [Data(T.OCTET_STRING, b"\x01\x02"), Data(T.NULL_DATA, None), Data(T.BOOLEAN, True)],
    ids=["octets", "null", "boolean"],
)
def test_a_number_item_over_a_leaf_that_is_no_number_gives_it_as_sent(registry, leaf):
    """A third-party decoder may point a scaled item at any leaf; it is then not scaled."""

    class Scaled(_Fixed):
        def plan(self, scan):
            plan = super().plan(scan)
            if plan is None:
                return None
            (item,) = plan.items
            return Plan("scaled", None, None, (PlanItem.scaled("first", item.leaf, 2, "W"),))

    register_list_decoder(Scaled("scaled"), first=True)
    raw = DataNotification(1, None, Data(T.STRUCTURE, (leaf,))).to_bytes()
    decoder = PushDecoder()
    for _ in range(2):  # the tree path, then the template
        assert decoder.decode(raw).values == {"first": (leaf.value, "W")}
    number = DataNotification(1, None, Data(T.STRUCTURE, (u32(3),))).to_bytes()
    assert decoder.decode(number).values == {"first": (300, "W")}


def test_text_cache_stays_bounded_and_correct(monkeypatch):
    """Meter ids and types are cached as text; a full cache is emptied, not grown."""
    full = {i.to_bytes(3, "big"): "stale" for i in range(65_536)}
    monkeypatch.setattr(_layout, "_TEXTS", full)
    push = PushDecoder().decode(aidon_6534.LIST_2)
    assert push.meter_id == aidon_6534.READING["meter_id"]
    assert len(_layout._TEXTS) < 65_536


class _NumericMeterId:
    """A plug-in decoder that (wrongly) plans text for a number and names it the meter id."""

    name = "numeric-id"

    def plan(self, scan):
        if scan.body.type is not T.STRUCTURE or len(scan.body.items) != 2:
            return None
        first, second = scan.body.items
        if first.is_container or second.is_container:
            return None
        return Plan(
            self.name,
            None,
            "Acme",
            (PlanItem("id", first.index, CONV_TEXT), PlanItem("n", second.index, CONV_NUMBER)),
            meter_id_key="id",
            meter_type_key="n",
        )


def test_push_fields_stay_text_or_none_whatever_a_plugin_plans(registry):
    register_list_decoder(_NumericMeterId(), first=True)
    decoder = PushDecoder()
    raw = DataNotification(1, None, Data(T.STRUCTURE, (u32(42), u32(7)))).to_bytes()
    for _ in range(2):  # the tree path, then the compiled layout
        push = decoder.decode(raw)
        assert push.layout == "numeric-id"
        assert push.values["id"] == (42, None)
        assert push.meter_id is None
        assert push.meter_type is None

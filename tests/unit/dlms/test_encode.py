"""Building pushes as the meters do: every style, list, framing and ciphering decodes back."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    HDLC_ADDRESSES,
    ApduError,
    Ciphering,
    Data,
    DataNotification,
    DataType,
    KeyPair,
    MeterReading,
    PushDecoder,
    _encode,
    build_notification,
    decode_hdlc_frames,
    decode_mbus_frames,
    encode_push,
    list_encoders,
    register_list_encoder,
    unframe,
)
from tests.vectors import green_book

from .strategies import OSLO, expected_values

EK, AK = green_book.EK, green_book.AK
TITLE = b"AMS\x00\x00\x00\x00\x07"
STYLES = ("aidon", "kaifa", "kamstrup")
FRAMINGS = ("hdlc", "wrapper", "mbus", "llc", "apdu")


def reading(phases: int) -> MeterReading:
    return MeterReading(
        "7359992912345678",
        "6534",
        datetime(2024, 12, 31, 23, 59, 59, tzinfo=OSLO),
        phases=phases,
        power_import_w=4321,
        power_export_w=12,
        reactive_import_var=345,
        reactive_export_var=6,
        current_l1_a=18.4,
        current_l2_a=0.1,
        current_l3_a=7.0,
        voltage_l1_v=228.3,
        voltage_l2_v=241.6,
        voltage_l3_v=230.0,
        energy_import_wh=123_456_780,
        energy_export_wh=90,
        energy_reactive_import_varh=1_000_000,
        energy_reactive_export_varh=20,
    )


@pytest.mark.parametrize("sc", [None, 0x30, 0x20, 0x10])
@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("style", STYLES)
def test_every_style_list_framing_and_ciphering_decodes_back(style, framing, sc):
    ciphering = None if sc is None else Ciphering(TITLE, 77, EK, AK, sc)
    decoder = PushDecoder(keys={TITLE: KeyPair(EK, AK)}.get)
    for list_number in (1, 2, 3):
        for phases in (1, 3):
            r = reading(phases)
            raw = encode_push(
                build_notification(style, list_number, r),
                framing=framing,
                ciphering=ciphering,
                style=style,
            )
            push = decoder.decode(raw)
            values = {
                k: (v.isoformat() if isinstance(v, datetime) else v, u)
                for k, (v, u) in push.values.items()
            }
            assert values == expected_values(style, list_number, r), (list_number, phases)
            assert push.framing == framing
            assert push.layout == style
            assert push.security_control == sc
            assert push.system_title == (None if sc is None else TITLE)
            assert push.invocation_counter == (None if sc is None else 77)


@pytest.mark.parametrize("style", STYLES)
def test_hdlc_addresses_follow_the_style(style):
    raw = encode_push(build_notification(style, 1, reading(3)), style=style)
    (frame,) = decode_hdlc_frames(raw)
    assert (frame.dest_address, frame.src_address, frame.control) == HDLC_ADDRESSES[style]
    assert frame.info.startswith(b"\xe6\xe7\x00")


def test_hdlc_push_is_segmented_at_the_information_length():
    notification = build_notification("aidon", 3, reading(3))
    raw = encode_push(notification, max_info_length=64)
    frames = decode_hdlc_frames(raw)
    assert len(frames) > 3
    assert all(len(f.info) <= 64 for f in frames)
    assert [f.segmented for f in frames] == [True] * (len(frames) - 1) + [False]
    assert unframe(raw) == ("hdlc", notification.to_bytes())


def test_mbus_push_is_split_into_segments():
    notification = build_notification("kamstrup", 3, reading(3))
    frames, apdu = decode_mbus_frames(encode_push(notification, framing="mbus"))
    assert len(frames) == 2
    assert apdu == notification.to_bytes()


def test_wrapper_llc_and_apdu_framings():
    apdu = build_notification("kaifa", 1, reading(3)).to_bytes()
    assert encode_push(apdu, framing="apdu") == apdu
    assert encode_push(apdu, framing="llc") == b"\xe6\xe7\x00" + apdu
    assert (
        encode_push(apdu, framing="wrapper")
        == bytes.fromhex("0001 0001 0001") + len(apdu).to_bytes(2, "big") + apdu
    )


def test_ciphered_push_is_general_glo_ciphering():
    raw = encode_push(
        build_notification("kaifa", 1, reading(3)),
        framing="apdu",
        ciphering=Ciphering(TITLE, 0x01020304, EK, AK),
    )
    assert raw[:10] == b"\xdb\x08" + TITLE
    assert raw[11:16] == bytes.fromhex("30 01020304")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"framing": "tcp"}, "unknown framing 'tcp'"),
        ({"style": "landis"}, "no HDLC addresses for style 'landis'"),
        ({"ciphering": Ciphering(b"short", 1, EK, AK)}, "8 bytes"),
        ({"ciphering": Ciphering(TITLE, 1, EK, None)}, "authentication key"),
    ],
)
def test_encode_push_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encode_push(build_notification("aidon", 1, reading(3)), **kwargs)


def test_encode_push_with_an_unsupported_suite():
    with pytest.raises(ApduError, match="suite 3"):
        encode_push(
            build_notification("aidon", 1, reading(3)), ciphering=Ciphering(TITLE, 1, EK, AK, 0x33)
        )


def test_build_notification_errors():
    with pytest.raises(ValueError, match="unknown list style 'elster'"):
        build_notification("elster", 1, reading(3))
    with pytest.raises(ValueError, match="list_number must be 1, 2 or 3"):
        build_notification("aidon", 4, reading(3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"phases": 2}, "phases must be 1 or 3"),
        ({"clock": datetime(2024, 1, 1)}, "aware"),
    ],
)
def test_meter_reading_validation(kwargs, message):
    fields = {"meter_id": "1", "meter_type": "t", "clock": datetime(2024, 1, 1, tzinfo=OSLO)}
    with pytest.raises(ValueError, match=message):
        MeterReading(**{**fields, **kwargs})


def test_values_outside_a_list_field_are_clamped_to_what_it_can_carry():
    r = MeterReading(
        "1",
        "t",
        datetime(2024, 1, 1, tzinfo=OSLO),
        power_import_w=-5,  # double-long-unsigned: not below 0
        power_export_w=1 << 40,  # nor above 2**32 - 1
        current_l1_a=-4000.0,  # Aidon's long in 0.1 A: not below -3276.8 A
        voltage_l1_v=7000.0,  # Aidon's long-unsigned in 0.1 V: not above 6553.5 V
    )
    values = PushDecoder().decode(encode_push(build_notification("aidon", 2, r))).values
    assert values["1-0:1.7.0.255"] == (0, "W")
    assert values["1-0:2.7.0.255"] == (0xFFFFFFFF, "W")
    assert values["1-0:31.7.0.255"] == (-3276.8, "A")
    assert values["1-0:32.7.0.255"] == (6553.5, "V")


def test_aidon_clock_sends_sunday_as_zero():
    sunday = MeterReading("1", "t", datetime(2024, 1, 7, 12, tzinfo=OSLO))
    body = build_notification("aidon", 3, sunday).body
    (clock,) = [
        item.value[1].value
        for item in body.value
        if item.value[0].value == bytes((0, 0, 1, 0, 0, 255))
    ]
    assert clock[4] == 0  # day of week
    kaifa = build_notification("kaifa", 3, sunday)
    assert kaifa.date_time[4] == 7


def test_registered_list_encoder_is_used(monkeypatch):
    monkeypatch.setattr(_encode, "_ENCODERS", dict(_encode._ENCODERS))

    def acme(list_number: int, r: MeterReading) -> DataNotification:
        return DataNotification(list_number, None, Data(DataType.UNSIGNED, r.phases))

    assert register_list_encoder("acme", acme) is acme
    assert list_encoders() == ("acme", "aidon", "kaifa", "kamstrup")
    notification = build_notification("acme", 2, reading(1))
    assert notification == DataNotification(2, None, Data(DataType.UNSIGNED, 1))


def test_builtin_list_encoders():
    assert list_encoders() == ("aidon", "kaifa", "kamstrup")


@given(
    style=st.sampled_from(["aidon", "kaifa", "kamstrup"]),
    apdu=st.binary(min_size=1, max_size=400),
    counter=st.integers(0, 0xFFFFFFFF),
    max_info=st.sampled_from([64, 0x7FF - 14]),
)
def test_sealer_fast_path_equals_cipher_then_frame(style, apdu, counter, max_info):
    """The ciphered HDLC fast path gives the bytes of ciphering, then framing, step by step."""
    from openams.dlms import PushSealer
    from openams.dlms._apdu import TAG_GENERAL_GLO_CIPHERING
    from openams.dlms._hdlc import LLC_SERVER, encode_hdlc_frames
    from openams.dlms._security import SecuritySuite

    title, ek, ak = b"KFM\x10\x00\x00\x00\x07", bytes(range(16)), bytes(range(16, 32))
    sealer = PushSealer(style, "hdlc", system_title=title, ek=ek, ak=ak, max_info_length=max_info)
    ciphered = SecuritySuite().encrypt(
        apdu, system_title=title, invocation_counter=counter, ek=ek, ak=ak,
        security_control=0x30, tag=TAG_GENERAL_GLO_CIPHERING,
    ).to_bytes()  # fmt: skip
    dest, src, control = HDLC_ADDRESSES[style]
    expected = encode_hdlc_frames(
        LLC_SERVER + ciphered, dest_address=dest, src_address=src, control=control,
        max_info_length=max_info,
    )  # fmt: skip
    assert sealer.seal(apdu, counter) == expected
    assert sealer.seal(apdu, counter) == expected  # the kept frame start gives the same

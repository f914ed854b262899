"""Meter events: every event pushes and reads back, in every style, framing and season."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from openams.dlms import (
    EVENTS,
    Ciphering,
    EventCode,
    KeyPair,
    MeterEvent,
    MeterReading,
    Push,
    PushDecoder,
    PushSealer,
    build_event_notification,
    build_notification,
    decode_event,
    decode_push,
    encode_push,
    event_by_code,
)
from tests.vectors import green_book

from .strategies import OSLO, PROPERTY

EK, AK = green_book.EK, green_book.AK
TITLE = b"KFM\x10\x00\x00\x04\x61"
STYLES = ("aidon", "kaifa", "kamstrup")
METER = "7359992890941742"
#: What the simulator sends; each must be in EVENTS under exactly this name.
SIMULATOR_NAMES = (
    "power_down",
    "power_up",
    "clock_adjusted",
    "terminal_cover_opened",
    "terminal_cover_closed",
    "meter_cover_opened",
    "meter_cover_closed",
    "magnetic_field_detected",
    "magnetic_field_gone",
    "earth_fault_detected",
    "earth_fault_cleared",
    "undervoltage_l1",
    "undervoltage_l2",
    "undervoltage_l3",
    "overvoltage_l1",
    "overvoltage_l2",
    "overvoltage_l3",
    "voltage_normal",
)
SUMMER = datetime(2024, 7, 1, 13, 45, 9, 250_000, tzinfo=OSLO)


def _seal(style: str, framing: str, event: MeterEvent, counter: int = 1) -> bytes:
    sealer = PushSealer(style, framing, system_title=TITLE, ek=EK, ak=AK)
    return sealer.seal(build_event_notification(style, event).to_bytes(), counter)


def _read(frame: bytes) -> Push:
    return decode_push(frame, keys=KeyPair(EK, AK))


def _same_instant(a: datetime, b: datetime) -> bool:
    # ``==`` between zones is False for a time in the repeated autumn hour (PEP 495)
    return a.astimezone(UTC) == b.astimezone(UTC)


def test_the_simulator_names_are_all_there():
    assert set(SIMULATOR_NAMES) <= set(EVENTS)
    for name, event in EVENTS.items():
        assert event.name == name


def test_codes_are_unique_per_log():
    by_log = Counter((event.log_obis, event.code) for event in EVENTS.values())
    assert max(by_log.values()) == 1
    logs = {event.log: event.log_obis for event in EVENTS.values()}
    assert logs == {
        "standard": "0-0:96.11.0.255",
        "fraud": "0-0:96.11.1.255",
        "power_quality": "0-0:96.11.5.255",
    }
    assert len({(e.log, e.log_obis) for e in EVENTS.values()}) == len(logs)


def test_the_documented_codes():
    codes = {name: (event.log, event.code) for name, event in EVENTS.items()}
    assert codes == {
        "power_down": ("standard", 1),
        "power_up": ("standard", 2),
        "clock_adjusted_old": ("standard", 4),
        "clock_adjusted": ("standard", 5),
        "terminal_cover_opened": ("fraud", 40),
        "terminal_cover_closed": ("fraud", 41),
        "magnetic_field_detected": ("fraud", 42),
        "magnetic_field_gone": ("fraud", 43),
        "meter_cover_opened": ("fraud", 44),
        "meter_cover_closed": ("fraud", 45),
        "undervoltage_l1": ("power_quality", 77),
        "undervoltage_l2": ("power_quality", 78),
        "undervoltage_l3": ("power_quality", 79),
        "overvoltage_l1": ("power_quality", 80),
        "overvoltage_l2": ("power_quality", 81),
        "overvoltage_l3": ("power_quality", 82),
        "voltage_normal": ("power_quality", 83),
        "voltage_normal_l2": ("power_quality", 84),
        "voltage_normal_l3": ("power_quality", 85),
        "earth_fault_detected": ("power_quality", 246),
        "earth_fault_cleared": ("power_quality", 247),
    }
    for event in EVENTS.values():
        assert event.text
        assert event.reference.startswith(("DSMR 5", "OpenAMS, in the DSMR 5"))
    # the earth-fault codes sit in the range DSMR leaves to manufacturers
    assert all(
        230 <= EVENTS[n].code <= 249 for n in ("earth_fault_detected", "earth_fault_cleared")
    )


def test_events_is_read_only():
    with pytest.raises(TypeError):
        EVENTS["power_down"] = EVENTS["power_up"]  # type: ignore[index]


@pytest.mark.parametrize("framing", ["hdlc", "wrapper"])
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_round_trips(name: str, style: str, framing: str):
    event = MeterEvent(METER, SUMMER, name)
    frame = _seal(style, framing, event, counter=0x1234)
    push = _read(frame)
    assert push.framing == framing
    assert push.layout == "obis"
    assert push.meter_id == METER
    assert (push.system_title, push.invocation_counter, push.security) == (
        TITLE,
        0x1234,
        "auth+enc",
    )
    code = EVENTS[name]
    assert push.values[code.log_obis] == (code.code, None)
    assert push.values["0-0:96.1.0.255"] == (METER, None)
    assert push.time == SUMMER
    assert decode_event(push) == (code, SUMMER)


@pytest.mark.parametrize("style", STYLES)
def test_header_follows_the_manufacturer(style: str):
    notification = build_event_notification(style, MeterEvent(METER, SUMMER, "power_up"))
    lists = build_notification(style, 3, MeterReading(METER, "6534", SUMMER))
    assert notification.long_invoke_id_and_priority == lists.long_invoke_id_and_priority
    assert (notification.date_time is None) == (lists.date_time is None)
    assert notification.date_time_tagged == lists.date_time_tagged
    push = decode_push(encode_push(notification, style=style))
    assert push.header_time == (None if style == "aidon" else SUMMER)


def test_the_layout_byte_by_byte():
    """The example of docs/events.md, Kamstrup style: a fraud event in summer time."""
    clock = datetime(2024, 7, 1, 13, 45, 9, tzinfo=OSLO)
    apdu = build_event_notification(
        "kamstrup", MeterEvent(METER, clock, "terminal_cover_opened")
    ).to_bytes()
    date_time = "07e8 07 01 01 0d 2d 09 00 ff88 80"
    expected = (
        "0f 00000000"  # data-notification, Kamstrup's invoke id
        f"0c {date_time}"  # header date-time
        "02 06"  # structure of six
        "09 06 0000600100ff"  # 0-0:96.1.0.255
        "0a 10 37333539393932383930393431373432"  # visible-string "7359992890941742"
        "09 06 0000010000ff"  # 0-0:1.0.0.255
        f"09 0c {date_time}"  # clock
        "09 06 0000600b01ff"  # 0-0:96.11.1.255 fraud detection log
        "11 28"  # unsigned 40: terminal cover removed
    )
    assert apdu.hex() == expected.replace(" ", "")


def test_sealed_with_encode_push_and_read_by_a_shared_decoder():
    """The second push of a shape takes the compiled-template path, to the same result."""
    decoder = PushDecoder()
    keys = KeyPair(EK, AK)
    for counter, name in enumerate(("undervoltage_l1", "overvoltage_l3", "voltage_normal"), 1):
        event = MeterEvent(METER, SUMMER + timedelta(minutes=counter), name)
        frame = encode_push(
            build_event_notification("aidon", event),
            ciphering=Ciphering(TITLE, counter, EK, AK),
            style="aidon",
        )
        push = decoder.decode(frame, keys=keys)
        assert push == decode_push(frame, keys=keys)
        assert decode_event(push) == (EVENTS[name], event.clock)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _on_transition_day(year: int, month: int, seconds: int) -> datetime:
    midnight = datetime.combine(_last_sunday(year, month), time(0), OSLO)
    return (midnight.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(OSLO)


#: Any instant of 2000-2099 as Oslo time (both occurrences of the repeated hour included).
any_instant = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 22), timezones=st.just(UTC)
).map(lambda d: d.astimezone(OSLO))
#: Instants on the last Sundays of March and October, the days summer time begins and ends.
transition_day = st.builds(
    _on_transition_day,
    st.integers(2000, 2099),
    st.sampled_from([3, 10]),
    st.integers(0, 25 * 3600 - 1),
)
REPEATED_FIRST = datetime(2024, 10, 27, 2, 30, tzinfo=OSLO)  # summer time, +02:00
REPEATED_SECOND = REPEATED_FIRST.replace(fold=1)  # the same wall clock an hour later, +01:00
SPRING_AFTER = datetime(2024, 3, 31, 3, 0, tzinfo=OSLO)  # first second of summer time


@PROPERTY
@given(
    clock=st.one_of(any_instant, transition_day),
    hundredths=st.integers(0, 99),
    style=st.sampled_from(STYLES),
    framing=st.sampled_from(["hdlc", "wrapper"]),
    name=st.sampled_from(sorted(EVENTS)),
)
@example(REPEATED_FIRST, 0, "aidon", "hdlc", "power_down")
@example(REPEATED_SECOND, 0, "kaifa", "hdlc", "power_up")
@example(SPRING_AFTER - timedelta(seconds=1), 99, "kamstrup", "wrapper", "clock_adjusted")
@example(SPRING_AFTER, 0, "kamstrup", "wrapper", "clock_adjusted")
def test_clocks_round_trip(clock: datetime, hundredths: int, style: str, framing: str, name: str):
    clock = clock.replace(microsecond=hundredths * 10_000)
    frame = _seal(style, framing, MeterEvent(METER, clock, name))
    found = decode_event(_read(frame))
    assert found is not None
    event, when = found
    assert event == EVENTS[name]
    assert _same_instant(when, clock)
    # sent as Oslo wall-clock time, with Oslo's offset at that instant
    assert when.replace(tzinfo=None) == clock.replace(tzinfo=None, fold=0)
    assert when.utcoffset() == clock.utcoffset()


def test_the_repeated_hour_keeps_both_occurrences():
    first, second = (
        decode_event(_read(_seal("aidon", "hdlc", MeterEvent(METER, c, "power_down"))))
        for c in (REPEATED_FIRST, REPEATED_SECOND)
    )
    assert first is not None
    assert second is not None
    assert second[1] - first[1] == timedelta(hours=1)


def test_clock_is_sent_to_the_hundredth_of_a_second():
    clock = datetime(2031, 1, 2, 3, 4, 5, 678_901, tzinfo=OSLO)
    push = _read(_seal("kaifa", "wrapper", MeterEvent(METER, clock, "power_up")))
    assert push.time == clock.replace(microsecond=670_000)


def test_any_zone_in_gives_oslo_wall_clock_out():
    clock = datetime(2024, 1, 15, 11, 0, tzinfo=UTC)
    push = _read(_seal("kamstrup", "hdlc", MeterEvent(METER, clock, "power_up")))
    assert push.time is not None
    assert push.time.replace(tzinfo=None) == datetime(2024, 1, 15, 12, 0)
    assert _same_instant(push.time, clock)


def test_the_meter_may_keep_another_zone():
    clock = datetime(2024, 7, 1, 12, 0, tzinfo=OSLO)
    for tz in ("UTC", ZoneInfo("UTC")):
        notification = build_event_notification(
            "aidon", MeterEvent(METER, clock, "power_up"), tz=tz
        )
        push = decode_push(encode_push(notification))
        assert push.time is not None
        assert push.time.utcoffset() == timedelta(0)
        assert push.time == clock


def test_decode_event_ignores_the_lists():
    reading = MeterReading(METER, "6534", SUMMER)
    for style in STYLES:
        for list_number in (1, 2, 3):
            push = decode_push(encode_push(build_notification(style, list_number, reading)))
            assert decode_event(push) is None


def _push(values: dict, when: datetime | None = SUMMER) -> Push:
    return Push("apdu", "obis", None, None, METER, None, None, None, None, when, None, values)


def test_decode_event_needs_a_known_integer_code_and_a_time():
    fraud = "0-0:96.11.1.255"
    assert decode_event(_push({fraud: (44, None)})) == (EVENTS["meter_cover_opened"], SUMMER)
    assert decode_event(_push({fraud: (44, None)}, when=None)) is None
    assert decode_event(_push({fraud: (46, None)})) is None  # a code OpenAMS does not know
    assert decode_event(_push({fraud: ("44", None)})) is None
    assert decode_event(_push({fraud: (True, None)})) is None
    assert decode_event(_push({"0-0:96.11.9.255": (44, None)})) is None  # not a known log
    assert decode_event(_push({})) is None
    # the first event code in push order wins
    both = {"0-0:96.11.0.255": (2, None), fraud: (44, None)}
    assert decode_event(_push(both)) == (EVENTS["power_up"], SUMMER)


def test_event_by_code():
    assert event_by_code("0-0:96.11.0.255", 1) == EVENTS["power_down"]
    assert event_by_code("0-0:96.11.5", 246) == EVENTS["earth_fault_detected"]
    assert event_by_code("0-0:96.11.5.255", 1) is None
    assert event_by_code("0-0:96.11.7.255", 1) is None
    with pytest.raises(ValueError, match="not an OBIS code"):
        event_by_code("power quality", 77)


def test_unknown_event_name():
    with pytest.raises(ValueError, match="unknown event 'meter_on_fire'"):
        MeterEvent(METER, SUMMER, "meter_on_fire")


def test_meter_event_checks_its_arguments():
    with pytest.raises(ValueError, match="aware"):
        MeterEvent(METER, datetime(2024, 1, 1), "power_up")
    for meter_id in ("", "x" * 65, "måler", "73599\n"):
        with pytest.raises(ValueError, match="printable ASCII"):
            MeterEvent(meter_id, SUMMER, "power_up")
    assert MeterEvent("x" * 64, SUMMER, "power_up").meter_id == "x" * 64


def test_unknown_style():
    with pytest.raises(ValueError, match="unknown style 'landis'"):
        build_event_notification("landis", MeterEvent(METER, SUMMER, "power_up"))


def test_event_code_checks_its_fields():
    event = EVENTS["power_up"]
    with pytest.raises(ValueError, match="unsigned"):
        dataclasses.replace(event, code=256)
    with pytest.raises(ValueError, match="unsigned"):
        dataclasses.replace(event, code=-1)
    with pytest.raises(ValueError, match="full"):
        dataclasses.replace(event, log_obis="0-0:96.11.0")
    with pytest.raises(ValueError, match="not an OBIS code"):
        dataclasses.replace(event, log_obis="standard")
    assert EventCode("x", 255, "0-0:96.11.0.255", "standard", "x", "x").code == 255


def test_records_are_frozen():
    event = MeterEvent(METER, SUMMER, "power_up")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "power_down"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        EVENTS["power_up"].code = 3  # type: ignore[misc]

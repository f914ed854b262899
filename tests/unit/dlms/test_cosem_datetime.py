"""COSEM date-time: deviation, unspecified fields, daylight saving and the Norwegian-list rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import ApduError, CosemDateTime, datetime_from_cosem, encode_cosem_datetime
from openams.dlms._cosem_datetime import zone
from tests.vectors import green_book as gb

from .strategies import OSLO, PROPERTY, clocks, fixed_offset_datetimes

NOT_SPECIFIED = -0x8000
HOUR = timedelta(hours=1)


def cdt(
    year=2024,
    month=1,
    day=15,
    hour=17,
    minute=0,
    second=0,
    hundredths=0,
    deviation=NOT_SPECIFIED,
    status=0x00,
    weekday=0xFF,
) -> CosemDateTime:
    return CosemDateTime(
        year, month, day, weekday, hour, minute, second, hundredths, deviation, status
    )


def utc_and_offset(value: datetime) -> tuple[datetime, timedelta | None]:
    """What identifies an aware datetime: its instant and its offset (``==`` ignores ``fold``)."""
    return value.astimezone(UTC), value.utcoffset()


def test_fields_as_sent_round_trip_through_twelve_bytes():
    raw = bytes.fromhex("07e8 0a 1b 07 02 1e 00 00 ff88 80")
    fields = CosemDateTime.from_bytes(raw)
    assert fields == CosemDateTime(2024, 10, 27, 7, 2, 30, 0, 0, -120, 0x80)
    assert fields.to_bytes() == raw
    assert fields.daylight_saving is True


@pytest.mark.parametrize(
    ("status", "dst"), [(0x80, True), (0x00, False), (0x81, True), (0xFF, None)]
)
def test_daylight_saving_bit(status, dst):
    assert cdt(status=status).daylight_saving is dst


@pytest.mark.parametrize("size", [0, 11, 13])
def test_a_date_time_is_twelve_bytes(size):
    with pytest.raises(ApduError, match=f"12 bytes, got {size}") as info:
        CosemDateTime.from_bytes(bytes(size))
    assert info.value.tag == "date-time"


# --- the deviation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deviation", "offset"),
    [
        (-60, timedelta(hours=1)),  # Central European Time is sent as -60: UTC+01:00
        (-120, timedelta(hours=2)),  # summer time
        (0, timedelta(0)),
        (60, timedelta(hours=-1)),
        (-330, timedelta(hours=5, minutes=30)),
        (840, timedelta(hours=-14)),
        (-840, timedelta(hours=14)),
    ],
)
def test_deviation_is_minus_the_utc_offset(deviation, offset):
    value = cdt(deviation=deviation).to_datetime(OSLO)
    assert value.utcoffset() == offset
    assert value.replace(tzinfo=None) == datetime(2024, 1, 15, 17)


def test_deviation_zero_gives_utc():
    assert cdt(deviation=0).to_datetime(OSLO).tzinfo is UTC


def test_stated_deviation_wins_over_the_zone_and_status():
    # 17:00 in January with deviation -120 is said to be UTC+02:00, whatever Oslo observes
    value = cdt(deviation=-120, status=0x00).to_datetime(OSLO)
    assert utc_and_offset(value) == (datetime(2024, 1, 15, 15, tzinfo=UTC), 2 * HOUR)


@pytest.mark.parametrize("deviation", [841, -841, 0x7FFF])
def test_deviation_out_of_range_raises(deviation):
    with pytest.raises(ApduError, match=f"deviation {deviation} min is out of range"):
        cdt(deviation=deviation).to_datetime(OSLO)


def test_unspecified_deviation_reads_oslo_wall_clock():
    winter = cdt(deviation=NOT_SPECIFIED).to_datetime(OSLO)
    assert utc_and_offset(winter) == (datetime(2024, 1, 15, 16, tzinfo=UTC), HOUR)
    summer = cdt(month=7, deviation=NOT_SPECIFIED, status=0x80).to_datetime(OSLO)
    assert utc_and_offset(summer) == (datetime(2024, 7, 15, 15, tzinfo=UTC), 2 * HOUR)


def test_unspecified_deviation_uses_the_zone_given():
    helsinki = zone("Europe/Helsinki")
    value = cdt(deviation=NOT_SPECIFIED).to_datetime(helsinki)
    assert value.utcoffset() == 2 * HOUR


def test_zone_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("Europe/Atlantis")


# --- the autumn hour that occurs twice -------------------------------------------------------

AUTUMN = {"month": 10, "day": 27, "hour": 2, "minute": 30}


def test_green_book_style_autumn_examples_read_with_their_deviation():
    summer = datetime_from_cosem(gb.AUTUMN_0230_SUMMER, OSLO, True)
    winter = datetime_from_cosem(gb.AUTUMN_0230_WINTER, OSLO, True)
    assert summer.isoformat() == gb.AUTUMN_0230_SUMMER_ISO
    assert winter.isoformat() == gb.AUTUMN_0230_WINTER_ISO
    assert winter - summer == HOUR


def test_repeated_hour_with_status_trusted_follows_the_dst_bit():
    first = cdt(**AUTUMN, status=0x80).to_datetime(OSLO, trust_deviation=True)
    second = cdt(**AUTUMN, status=0x00).to_datetime(OSLO, trust_deviation=True)
    assert utc_and_offset(first) == (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 2 * HOUR)
    assert utc_and_offset(second) == (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), HOUR)


def test_repeated_hour_with_status_not_specified_is_the_first_occurrence():
    value = cdt(**AUTUMN, status=0xFF).to_datetime(OSLO, trust_deviation=True)
    assert value.utcoffset() == 2 * HOUR


@pytest.mark.parametrize("status", [0x00, 0x80, 0xFF])
@pytest.mark.parametrize("deviation", [NOT_SPECIFIED, 0, -60])
def test_norwegian_list_rule_ignores_deviation_and_status(deviation, status):
    """Untrusted: the wall clock is Oslo time; the repeated hour is its first occurrence."""
    value = cdt(**AUTUMN, deviation=deviation, status=status).to_datetime(
        OSLO, trust_deviation=False
    )
    assert utc_and_offset(value) == (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 2 * HOUR)
    january = cdt(deviation=deviation, status=status).to_datetime(OSLO, trust_deviation=False)
    assert january.utcoffset() == HOUR


# --- the spring hour that does not exist -----------------------------------------------------

SPRING = {"month": 3, "day": 31, "hour": 2, "minute": 30}


@pytest.mark.parametrize("trust", [True, False])
@pytest.mark.parametrize("status", [0x00, 0x80, 0xFF])
def test_nonexistent_spring_hour_keeps_the_offset_before_the_change(status, trust):
    """02:30 on 31 March 2024 never shows on an Oslo clock; it is kept as 02:30+01:00.

    The module's rule: "a wall-clock time that does not exist is kept as written, with the
    offset in force before the change". A status byte saying "not daylight saving" agrees.
    """
    value = cdt(**SPRING, status=status).to_datetime(OSLO, trust_deviation=trust)
    assert value.replace(tzinfo=None) == datetime(2024, 3, 31, 2, 30)
    assert utc_and_offset(value) == (datetime(2024, 3, 31, 1, 30, tzinfo=UTC), HOUR)


# --- unspecified and out-of-range fields -----------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"year": 0xFFFF},
        {"month": 0xFF},
        {"day": 0xFF},
        {"hour": 0xFF},
    ],
)
def test_unspecified_date_or_hour_gives_none(fields):
    assert cdt(**fields).to_datetime(OSLO) is None
    assert datetime_from_cosem(cdt(**fields).to_bytes(), OSLO, False) is None


def test_unspecified_minute_second_and_hundredths_read_as_zero():
    value = cdt(minute=0xFF, second=0xFF, hundredths=0xFF, deviation=-60).to_datetime(OSLO)
    assert value == datetime(2024, 1, 15, 17, tzinfo=timezone(HOUR))


def test_hundredths_become_microseconds():
    value = cdt(second=5, hundredths=42, deviation=0).to_datetime(OSLO)
    assert value.microsecond == 420_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"month": 0xFD}, "special value"),  # end of daylight saving
        ({"month": 0xFE}, "special value"),  # begin of daylight saving
        ({"month": 13}, "special value"),
        ({"day": 0xFE}, "special value"),  # last day of the month
        ({"day": 32}, "special value"),
        ({"month": 0}, "out of range"),
        ({"month": 2, "day": 30}, "out of range"),
        ({"hour": 24}, "out of range"),
        ({"minute": 60}, "out of range"),
        ({"second": 60}, "out of range"),
        ({"hundredths": 100}, "out of range"),
        ({"year": 0}, "out of range"),
    ],
)
def test_fields_out_of_range_raise_apdu_error(fields, message):
    with pytest.raises(ApduError, match=message) as info:
        cdt(**fields).to_datetime(OSLO)
    assert info.value.tag == "date-time"


def test_datetime_from_cosem_refuses_a_wrong_length():
    with pytest.raises(ApduError, match="12 bytes"):
        datetime_from_cosem(bytes(5), OSLO, True)


# --- encoding --------------------------------------------------------------------------------


def test_encode_sends_the_offset_as_deviation_and_the_dst_bit():
    summer = datetime(2024, 7, 1, 12, 0, 5, 250_000, tzinfo=OSLO)
    assert encode_cosem_datetime(summer) == bytes.fromhex("07e8 07 01 01 0c 00 05 19 ff88 80")
    winter = datetime(2024, 1, 7, 12, tzinfo=OSLO)  # a Sunday
    assert encode_cosem_datetime(winter) == bytes.fromhex("07e8 01 07 07 0c 00 00 00 ffc4 00")


def test_encode_without_deviation_and_with_an_explicit_status():
    value = datetime(2024, 7, 1, 12, tzinfo=OSLO)
    raw = encode_cosem_datetime(value, deviation=False, status=0x09)
    assert CosemDateTime.from_bytes(raw).deviation_min == NOT_SPECIFIED
    assert raw[-1] == 0x09


def test_encode_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        encode_cosem_datetime(datetime(2024, 1, 1))


@PROPERTY
@given(fixed_offset_datetimes)
def test_encode_decode_round_trip_in_fixed_offsets(value):
    raw = encode_cosem_datetime(value)
    back = datetime_from_cosem(raw, OSLO, True)
    assert utc_and_offset(back) == utc_and_offset(value)
    assert back.replace(tzinfo=None) == value.replace(tzinfo=None)


@PROPERTY
@given(clocks, st.sampled_from([0, 1]))
def test_encode_decode_round_trip_in_oslo_with_the_status_trusted(value, fold):
    """Encoded with its deviation, an Oslo time comes back as the same instant, even the
    second 02:30 of an autumn night; encoded without, the DST bit tells the two apart."""
    value = value.replace(fold=fold)
    with_deviation = datetime_from_cosem(encode_cosem_datetime(value), OSLO, True)
    assert utc_and_offset(with_deviation) == utc_and_offset(value)
    without = encode_cosem_datetime(value, deviation=False)
    back = datetime_from_cosem(without, OSLO, True)
    if value.replace(tzinfo=None) == value.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None):
        # the wall-clock time exists in Oslo (not the skipped spring hour)
        assert utc_and_offset(back) == utc_and_offset(value)

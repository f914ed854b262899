"""The Elhub CollectedData message: round trips, the structure Elhub asks for, every refusal."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.services.elhub_message import (
    ELHUB_GLN,
    ESTIMATION_CODE,
    OBSERVATION_ELEMENTS,
    QUALITY_CODES,
    STATUSES,
    VALIDATION_CODE,
    MessageError,
    MessageHeader,
    MeteringPointSeries,
    ObservationValue,
    collected_data_xml,
    parse_collected_data,
)

OSLO = ZoneInfo("Europe/Oslo")
RSM = "{urn:no:elhub:emif:metering:CollectedData:v2}"
ABIE = "{urn:no:elhub:emif:common:AggregatedBusinessInformationEntities:v2}"
GRID_GLN = "7080010000002"  # made up, with a valid GS1 check digit
GSRN = "707057500012345671"  # made up, with a valid GS1 check digit
GSRN_2 = "707057500098765431"
HEADER = MessageHeader(
    message_id="0b3f2d1e-6c1a-4f7e-9d2b-3a4c5d6e7f80",
    created_at=datetime(2026, 3, 30, 5, 7, 23, tzinfo=UTC),
    sender_gln=GRID_GLN,
)
SENDABLE = ("measured", "estimated", "final_estimated", "temporary")


def _day(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=OSLO)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=OSLO)


def _values(count: int) -> tuple[ObservationValue, ...]:
    """Every status we send, a missing value, and quantities with 0 to 3 decimals."""
    out = []
    for i in range(count):
        status = (*SENDABLE, "missing")[i % 5]
        quantity = None if status == "missing" else Decimal(i * 1234) / 1000
        out.append(ObservationValue(quantity, status))
    return tuple(out)


def _series(
    day: date = date(2026, 1, 12),
    resolution_s: int = 3600,
    values: tuple[ObservationValue, ...] | None = None,
    **changes: Any,
) -> MeteringPointSeries:
    start, end = _day(day)
    count = int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // resolution_s
    series = MeteringPointSeries(
        series_id="5f0c6a4e-1b2d-4c3e-8f9a-0b1c2d3e4f50",
        metering_point_id=GSRN,
        start=start,
        end=end,
        resolution_s=resolution_s,
        direction="consumption",
        values=_values(count) if values is None else values,
        registered_at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC),
    )
    return dataclasses.replace(series, **changes)


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "resolution_s", "count"),
    [
        (date(2026, 3, 29), 3600, 23),
        (date(2026, 3, 30), 3600, 24),
        (date(2026, 10, 25), 3600, 25),
        (date(2026, 3, 29), 900, 92),
        (date(2026, 3, 30), 900, 96),
        (date(2026, 10, 25), 900, 100),
    ],
)
def test_a_local_day_round_trips(day, resolution_s, count):
    series = _series(day, resolution_s)
    assert len(series.values) == count
    production = dataclasses.replace(
        series,
        series_id="196d08b8-1ad7-4e90-9391-d2043592d5ff",
        metering_point_id=GSRN_2,
        direction="production",
    )
    header, read = parse_collected_data(collected_data_xml(HEADER, [series, production]))
    assert header == HEADER
    assert read == [series, production]
    assert {v.status for v in read[0].values} == {*SENDABLE, "missing"}
    assert read[0].start.utcoffset() == timedelta(0)  # read back in UTC


def test_read_values_keep_their_quantity_and_status():
    series = _series()
    _, (read,) = parse_collected_data(collected_data_xml(HEADER, [series]))
    assert read.values[1] == ObservationValue(Decimal("1.234"), "estimated")
    assert read.values[4] == ObservationValue(None, "missing")
    assert read.values[7] == ObservationValue(Decimal("8.638"), "final_estimated")


def test_the_recipient_is_elhub_unless_told_otherwise():
    assert HEADER.recipient_gln == ELHUB_GLN == "7080003824349"
    other = dataclasses.replace(HEADER, recipient_gln="7090000000011")
    assert parse_collected_data(collected_data_xml(other, [_series()]))[0] == other


_QUANTITIES = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False)


@st.composite
def _observations(draw: st.DrawFn) -> ObservationValue:
    status = draw(st.sampled_from((*SENDABLE, "missing")))
    return ObservationValue(None if status == "missing" else draw(_QUANTITIES), status)


@given(st.lists(_observations(), min_size=24, max_size=24))
def test_any_quantities_and_statuses_round_trip(values):
    values[0] = ObservationValue(values[0].quantity_kwh or Decimal("0.001"), "measured")
    series = _series(date(2026, 6, 1), values=tuple(values))
    xml = collected_data_xml(HEADER, [series])
    assert parse_collected_data(xml) == (HEADER, [series])
    for text in re.findall(rb">([0-9.]+)</abie:(?:Metered|Estimated|Temporary)>", xml):
        assert re.fullmatch(rb"[0-9]+\.[0-9]{3}", text)


# --- the structure Elhub asks for --------------------------------------------------------


def _tree(*series: MeteringPointSeries) -> ET.Element:
    xml = collected_data_xml(HEADER, list(series) or [_series()])
    return ET.fromstring(xml)  # noqa: S314 - our own output


def test_the_document_is_utf8_xml_with_a_declaration():
    xml = collected_data_xml(HEADER, [_series()])
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CollectedData ')
    assert b'xmlns:abie="urn:no:elhub:emif:common:AggregatedBusinessInformationEntities:v2"' in xml
    assert _tree().tag == f"{RSM}CollectedData"


def test_the_header_and_process_carry_the_brs_no_313_codes():
    root = _tree()
    assert [c.tag for c in root] == [
        f"{RSM}Header",
        f"{RSM}ProcessEnergyContext",
        f"{RSM}PayloadEnergyTimeSeries",
    ]
    head = root.find(f"{RSM}Header")
    assert [c.tag.removeprefix(ABIE) for c in head] == [
        "Identification",
        "DocumentType",
        "Creation",
        "PhysicalSenderEnergyParty",
        "JuridicalSenderEnergyParty",
        "JuridicalRecipientEnergyParty",
    ]
    document_type = head.find(f"{ABIE}DocumentType")
    assert (document_type.text, document_type.get("listAgencyIdentifier")) == ("E13", "260")
    assert head.findtext(f"{ABIE}Creation") == "2026-03-30T05:07:23Z"
    for role, gln in (
        ("PhysicalSenderEnergyParty", GRID_GLN),
        ("JuridicalSenderEnergyParty", GRID_GLN),
        ("JuridicalRecipientEnergyParty", ELHUB_GLN),
    ):
        identification = head.find(f"{ABIE}{role}/{ABIE}Identification")
        assert (identification.text, identification.get("schemeAgencyIdentifier")) == (gln, "9")
    context = root.find(f"{RSM}ProcessEnergyContext")
    process = context.find(f"{ABIE}EnergyBusinessProcess")
    role = context.find(f"{ABIE}EnergyBusinessProcessRole")
    assert (process.text, process.get("listAgencyIdentifier")) == ("BRS-NO-313", "89")
    assert (role.text, role.get("listAgencyIdentifier")) == ("DDE", "6")
    assert context.findtext(f"{ABIE}EnergyIndustryClassification") == "23"


@pytest.mark.parametrize(
    ("day", "resolution_s", "code", "start", "end"),
    [
        (date(2026, 3, 29), 3600, "PT60M", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        (date(2026, 10, 25), 900, "PT15M", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
    ],
)
def test_the_series_carries_period_product_direction_and_metering_point(
    day, resolution_s, code, start, end
):
    payload = _tree(_series(day, resolution_s)).find(f"{RSM}PayloadEnergyTimeSeries")
    assert [c.tag.removeprefix(ABIE) for c in payload][:6] == [
        "Identification",
        "RegistrationDateTime",
        "ObservationPeriodTimeSeriesPeriod",
        "ProductIncludedProductCharacteristics",
        "MPDetailMeasurementMeteringPointCharacteristic",
        "MeteringPointUsedDomainLocation",
    ]
    period = payload.find(f"{ABIE}ObservationPeriodTimeSeriesPeriod")
    assert [(c.tag.removeprefix(ABIE), c.text) for c in period] == [
        ("ResolutionDuration", code),
        ("Start", start),
        ("End", end),
    ]
    product = payload.find(f"{ABIE}ProductIncludedProductCharacteristics/{ABIE}Identification")
    assert (product.text, product.get("schemeAgencyIdentifier")) == ("8716867000030", "9")
    assert payload.findtext(f"{ABIE}ProductIncludedProductCharacteristics/{ABIE}UnitType") == (
        "kWh"
    )
    direction = f"{ABIE}MPDetailMeasurementMeteringPointCharacteristic/{ABIE}Direction"
    assert payload.findtext(direction) == "Out"
    point = payload.find(f"{ABIE}MeteringPointUsedDomainLocation/{ABIE}Identification")
    assert (point.text, point.get("schemeAgencyIdentifier")) == (GSRN, "9")


def test_production_flows_in():
    payload = _tree(_series(direction="production")).find(f"{RSM}PayloadEnergyTimeSeries")
    direction = f"{ABIE}MPDetailMeasurementMeteringPointCharacteristic/{ABIE}Direction"
    assert payload.findtext(direction) == "In"


def test_one_observation_per_sent_value_with_its_position_quantity_and_quality():
    series = _series(date(2026, 10, 25), 900)  # 100 values, every fifth missing
    observations = _tree(series).findall(f"{RSM}PayloadEnergyTimeSeries/{ABIE}Observation")
    assert len(observations) == 80
    sent = [(n, v) for n, v in enumerate(series.values, start=1) if v.status != "missing"]
    for observation, (position, value) in zip(observations, sent, strict=True):
        assert observation.get("Sequence") == str(position)
        (element,) = list(observation)
        assert element.tag == ABIE + OBSERVATION_ELEMENTS[value.status]
        assert re.fullmatch(r"[0-9]+\.[0-9]{3}", element.text)
        assert Decimal(element.text) == value.quantity_kwh
        if value.status in ("estimated", "final_estimated"):
            assert element.attrib == {
                "Quality": QUALITY_CODES[value.status],
                "ValidationCode": VALIDATION_CODE,
                "EstimationCode": ESTIMATION_CODE,
            }
        elif value.status == "temporary":
            assert element.attrib == {"ValidationCode": VALIDATION_CODE}
        else:
            assert element.attrib == {}
    assert "5" not in [o.get("Sequence") for o in observations]


def test_the_codes_are_elhubs():
    assert QUALITY_CODES == {"estimated": "56", "final_estimated": "81"}
    assert OBSERVATION_ELEMENTS == {
        "measured": "Metered",
        "estimated": "Estimated",
        "final_estimated": "Estimated",
        "temporary": "Temporary",
    }
    assert set(STATUSES) == {*SENDABLE, "rejected", "missing"}


def test_quantities_are_written_with_exactly_three_decimals():
    values = (
        ObservationValue(Decimal(7), "measured"),
        ObservationValue(Decimal("-0.000"), "measured"),
        ObservationValue(Decimal("0.5"), "measured"),
        ObservationValue(Decimal("1.2300"), "measured"),
        ObservationValue(Decimal("1E+3"), "measured"),
        *[ObservationValue(Decimal("999999999999.999"), "measured")] * 19,
    )
    observations = _tree(_series(values=values)).iter(f"{ABIE}Metered")
    assert [o.text for o in observations][:6] == [
        "7.000",
        "0.000",
        "0.500",
        "1.230",
        "1000.000",
        "999999999999.999",
    ]


def test_times_are_written_in_utc_to_the_second():
    header = dataclasses.replace(
        HEADER, created_at=datetime(2026, 3, 30, 7, 7, 23, 999_999, tzinfo=OSLO)
    )
    root = ET.fromstring(collected_data_xml(header, [_series()]))  # noqa: S314 - our own output
    assert root.findtext(f"{RSM}Header/{ABIE}Creation") == "2026-03-30T05:07:23Z"


# --- refusals when writing ---------------------------------------------------------------


def _refused(match: str, *series: MeteringPointSeries, header: MessageHeader = HEADER) -> None:
    with pytest.raises(MessageError, match=match):
        collected_data_xml(header, list(series))


def _with(position: int, value: ObservationValue) -> MeteringPointSeries:
    values = list(_values(24))
    values[position - 1] = value
    return _series(values=tuple(values))


def test_the_number_of_values_must_match_the_period():
    _refused(rf"{GSRN}: 24 values for 23 intervals", _series(date(2026, 3, 29), values=_values(24)))
    _refused(rf"{GSRN}: 99 values for 100 intervals", _series(date(2026, 10, 25), 900, _values(99)))


def test_a_dst_day_in_local_time_has_its_true_length():
    # Python subtracts two Europe/Oslo datetimes by wall clock: 24 hours. The message must not.
    _refused("23 values for 25 intervals", _series(date(2026, 10, 25), values=_values(23)))


@pytest.mark.parametrize(
    ("field", "moment", "message"),
    [
        ("start", datetime(2026, 1, 12, 0, 30, tzinfo=OSLO), "start 2026-01-12T00:30:00"),
        ("end", datetime(2026, 1, 13, 0, 0, 1, tzinfo=OSLO), "end 2026-01-13T00:00:01"),
        ("start", datetime(2026, 1, 12, 0, 10, tzinfo=OSLO), "start 2026-01-12T00:10:00"),
    ],
)
def test_start_and_end_must_be_on_the_resolutions_boundaries(field, moment, message):
    resolution_s = 900 if moment.minute == 10 else 3600
    series = _series(resolution_s=resolution_s, **{field: moment})
    _refused(rf"{GSRN}: {message}\+01:00 is not on a {resolution_s} s boundary", series)


def test_the_period_must_not_be_empty_or_reversed():
    start = datetime(2026, 1, 12, tzinfo=OSLO)
    _refused("end is not after start", _series(end=start, values=()))
    _refused("end is not after start", _series(end=start - timedelta(hours=1), values=()))


def test_a_quantity_has_at_most_three_decimals():
    _refused(
        rf"{GSRN}, position 3: quantity 1.2345 kWh has more than 3 decimals",
        _with(3, ObservationValue(Decimal("1.2345"), "measured")),
    )


def test_a_quantity_is_not_negative():
    _refused(
        rf"{GSRN}, position 2: quantity -0.001 kWh is negative",
        _with(2, ObservationValue(Decimal("-0.001"), "estimated")),
    )


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (Decimal("1E+12"), "is not under 10\\^12 kWh"),
        (Decimal("NaN"), "is not a number"),
        (Decimal("Infinity"), "is not a number"),
        (1.5, "is a float, not a Decimal"),
    ],
)
def test_a_quantity_is_a_decimal_under_a_trillion(quantity, message):
    _refused(rf"position 6: quantity.* {message}", _with(6, ObservationValue(quantity, "measured")))


@pytest.mark.parametrize(
    "gsrn",
    ["70705750001234567", "7070575000123456710", "707057500012345672", "70705750001234567x"],
)
def test_the_metering_point_is_a_gsrn(gsrn):
    _refused(f"metering point '{gsrn}': not a GSRN", _series(metering_point_id=gsrn))


@pytest.mark.parametrize("status", ["Measured", "calculated", "", "ok"])
def test_a_status_is_one_of_ours(status):
    _refused(
        rf"{GSRN}, position 4: unknown status '{status}'",
        _with(4, ObservationValue(Decimal(1), status)),
    )


def test_a_rejected_value_is_estimated_before_it_is_sent():
    _refused(
        rf"{GSRN}, position 9: a rejected value is not sent",
        _with(9, ObservationValue(Decimal(1), "rejected")),
    )


@pytest.mark.parametrize("resolution_s", [1800, 60, 86_400, 0, True])
def test_the_resolution_is_an_hour_or_a_quarter(resolution_s):
    series = dataclasses.replace(_series(), resolution_s=resolution_s)
    _refused(f"{GSRN}: resolution_s is {resolution_s!r}, not 3600 or 900", series)


def test_only_a_missing_value_has_no_quantity():
    _refused(
        rf"{GSRN}, position 5: a missing value has a quantity \(0\)",
        _with(5, ObservationValue(Decimal(0), "missing")),
    )
    for status in SENDABLE:
        _refused(
            rf"{GSRN}, position 7: no quantity for a {status} value",
            _with(7, ObservationValue(None, status)),
        )


def test_a_series_with_every_value_missing_has_nothing_to_send():
    series = _series(values=(ObservationValue(None, "missing"),) * 24)
    _refused(f"{GSRN}: every value is missing", series)


def test_the_direction_is_consumption_or_production():
    _refused(f"{GSRN}: direction 'A\\+' is not", _series(direction="A+"))


def test_ids_are_lower_case_uuids_and_series_ids_unique():
    _refused(
        f"{GSRN}: series_id '5F0C6A4E", _series(series_id="5F0C6A4E-1B2D-4C3E-8F9A-0B1C2D3E4F50")
    )
    _refused(
        "header: message_id 'm-1'", _series(), header=dataclasses.replace(HEADER, message_id="m-1")
    )
    _refused(f"{GSRN}: series_id repeated", _series(), _series())


@pytest.mark.parametrize("gln", ["708001000000", "7080010000003", "708001000000x", ""])
def test_the_parties_are_glns(gln):
    _refused(
        f"header: sender_gln '{gln}' is not a GLN",
        _series(),
        header=dataclasses.replace(HEADER, sender_gln=gln),
    )
    _refused(
        f"header: recipient_gln '{gln}' is not a GLN",
        _series(),
        header=dataclasses.replace(HEADER, recipient_gln=gln),
    )


def test_times_are_aware():
    naive = datetime(2026, 1, 12, 23, 30)
    _refused(
        "header: created_at is not an aware",
        _series(),
        header=dataclasses.replace(HEADER, created_at=naive),
    )
    _refused(f"{GSRN}: registered_at is not an aware", _series(registered_at=naive))
    _refused(f"{GSRN}: start is not an aware", _series(start=datetime(2026, 1, 12)))


def test_a_message_has_at_least_one_series():
    _refused("at least one series")


# --- reading -----------------------------------------------------------------------------


def _document() -> str:
    return collected_data_xml(HEADER, [_series()]).decode()


def _unread(match: str, xml: bytes | str) -> None:
    with pytest.raises(MessageError, match=match):
        parse_collected_data(xml.encode() if isinstance(xml, str) else xml)


def test_not_xml_is_refused():
    _unread("not well-formed XML", b"CollectedData, please")
    _unread("not well-formed XML", _document()[:-40])
    _unread("not UTF-8", _document().encode("utf-16"))
    _unread("not UTF-8", b"<a>\xff</a>")


def test_a_doctype_or_entity_is_refused_before_parsing():
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>'
    )
    _unread("DOCTYPE or entity declaration", laughs)
    external = _document().replace(
        "<rsm:CollectedData",
        '<!DOCTYPE rsm:CollectedData SYSTEM "file:///etc/passwd">\n<rsm:CollectedData',
    )
    _unread("DOCTYPE or entity declaration", external)
    _unread("DOCTYPE or entity declaration", "<!entity x 'y'><a/>")


def test_another_document_is_refused():
    _unread(r"root element is \{urn:x\}CollectedData", '<CollectedData xmlns="urn:x"/>')
    v1 = _document().replace("CollectedData:v2", "CollectedData:v1")
    _unread("root element is", v1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (">BRS-NO-313<", ">BRS-NO-312<", "EnergyBusinessProcess is 'BRS-NO-312', not BRS-NO-313"),
        (">DDE<", ">DDQ<", "EnergyBusinessProcessRole is 'DDQ', not DDE"),
        (">E13<", ">E66<", "DocumentType is 'E66', not E13"),
        (">8716867000030<", ">8716867000047<", f"{GSRN}: the product is not active energy"),
        (">kWh<", ">kvarh<", f"{GSRN}: the unit is not kWh"),
        (">Out<", ">Both<", f"{GSRN}: Direction 'Both' is not In or Out"),
        (">PT60M<", ">PT30M<", f"{GSRN}: ResolutionDuration 'PT30M' is not"),
        ('Sequence="2"', 'Sequence="25"', f"{GSRN}, position 25: outside the period"),
        ('Sequence="2"', 'Sequence="3"', f"{GSRN}, position 3: given twice"),
        ('Sequence="2"', 'Sequence="-2"', "Observation Sequence '-2' is not 0 to 9999"),
        ('Quality="56"', 'Quality="21"', f"{GSRN}, position 2: Estimated Quality '21'"),
        (">1.234<", ">1.2345<", f"{GSRN}, position 2: quantity '1.2345' is not"),
        (">1.234<", ">-1.234<", f"{GSRN}, position 2: quantity '-1.234' is not"),
        (
            "<abie:Metered>0.000</abie:Metered>",
            "<abie:Calculated>0.000</abie:Calculated>",
            "Calculated is not Metered, Estimated or Temporary",
        ),
        (">2026-01-12T23:30:00Z<", ">2026-01-12 22:30<", "RegistrationDateTime '2026-01-12 22:30'"),
        (">2026-03-30T05:07:23Z<", ">2026-03-30T05:07:23<", "Header: Creation"),
        (f">{GSRN}<", ">707057500012345672<", "metering point '707057500012345672': not a GSRN"),
        (">2026-01-12T23:00:00Z<", ">2026-01-12T23:30:00Z<", f"{GSRN}: end 2026-01-12T23:30"),
    ],
)
def test_a_wrong_value_in_the_document_is_refused(old, new, message):
    document = _document()
    assert old in document
    _unread(re.escape(message).replace(r"\.\*", ".*"), document.replace(old, new, 1))


def test_a_missing_element_is_named():
    document = re.sub(
        r"\s*<abie:RegistrationDateTime>.*?</abie:RegistrationDateTime>", "", _document()
    )
    _unread(f"{GSRN}: 0 RegistrationDateTime elements, not one", document)
    no_series = re.sub(
        r"<rsm:PayloadEnergyTimeSeries>.*</rsm:PayloadEnergyTimeSeries>",
        "",
        _document(),
        flags=re.S,
    )
    _unread("no PayloadEnergyTimeSeries", no_series)


ELHUB_STYLE = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CollectedData xmlns:rsm="urn:no:elhub:emif:metering:CollectedData:v2"
    xmlns:abie="urn:no:elhub:emif:common:AggregatedBusinessInformationEntities:v2">
  <rsm:ProcessEnergyContext>
    <abie:EnergyIndustryClassification>23</abie:EnergyIndustryClassification>
    <abie:EnergyBusinessProcessRole listAgencyIdentifier="6">DDE</abie:EnergyBusinessProcessRole>
    <abie:EnergyBusinessProcess listAgencyIdentifier="89">BRS-NO-313</abie:EnergyBusinessProcess>
  </rsm:ProcessEnergyContext>
  <rsm:Header>
    <abie:Creation>2026-03-30T07:07:23+02:00</abie:Creation>
    <abie:Identification>0b3f2d1e-6c1a-4f7e-9d2b-3a4c5d6e7f80</abie:Identification>
    <abie:DocumentType listAgencyIdentifier="260">E13</abie:DocumentType>
    <abie:RequestPositiveAcknowledgement>false</abie:RequestPositiveAcknowledgement>
    <abie:JuridicalRecipientEnergyParty>
      <abie:Identification schemeAgencyIdentifier="9">7080003824349</abie:Identification>
    </abie:JuridicalRecipientEnergyParty>
    <abie:JuridicalSenderEnergyParty>
      <abie:Identification schemeAgencyIdentifier="9">7080010000002</abie:Identification>
    </abie:JuridicalSenderEnergyParty>
    <abie:PhysicalSenderEnergyParty>
      <abie:Identification schemeAgencyIdentifier="9">7090000000011</abie:Identification>
    </abie:PhysicalSenderEnergyParty>
  </rsm:Header>
  <rsm:PayloadEnergyTimeSeries>
    <abie:Observation Sequence="3"><abie:Temporary ValidationCode="V002">0.4</abie:Temporary>
    </abie:Observation>
    <abie:MeteringPointUsedDomainLocation>
      <abie:Identification schemeAgencyIdentifier="9">707057500012345671</abie:Identification>
    </abie:MeteringPointUsedDomainLocation>
    <abie:Observation Sequence="1"><abie:Metered>10</abie:Metered></abie:Observation>
    <abie:ObservationPeriodTimeSeriesPeriod>
      <abie:End>2026-03-29T04:00:00+02:00</abie:End>
      <abie:MeterReadingStart>1234.5</abie:MeterReadingStart>
      <abie:Start>2026-03-29T00:00:00+01:00</abie:Start>
      <abie:ResolutionDuration>PT1H</abie:ResolutionDuration>
    </abie:ObservationPeriodTimeSeriesPeriod>
    <abie:MPDetailMeasurementMeteringPointCharacteristic>
      <abie:Direction>In</abie:Direction>
    </abie:MPDetailMeasurementMeteringPointCharacteristic>
    <abie:Observation Sequence="2">
      <abie:Estimated Quality="81" EstimationCode="E003" ValidationCode="V001">0.25</abie:Estimated>
    </abie:Observation>
    <abie:ProductIncludedProductCharacteristics>
      <abie:UnitType>kWh</abie:UnitType>
      <abie:Identification schemeAgencyIdentifier="9">8716867000030</abie:Identification>
    </abie:ProductIncludedProductCharacteristics>
    <abie:RegistrationDateTime>2026-03-29T04:34:12.123456+02:00</abie:RegistrationDateTime>
    <abie:Identification>196d08b8-1ad7-4e90-9391-d2043592d5ff</abie:Identification>
  </rsm:PayloadEnergyTimeSeries>
</rsm:CollectedData>
"""


def test_reading_tolerates_order_offsets_short_decimals_and_other_elements():
    header, (series,) = parse_collected_data(ELHUB_STYLE.encode())
    assert header == HEADER
    assert series == MeteringPointSeries(
        series_id="196d08b8-1ad7-4e90-9391-d2043592d5ff",
        metering_point_id=GSRN,
        start=datetime(2026, 3, 28, 23, tzinfo=UTC),
        end=datetime(2026, 3, 29, 2, tzinfo=UTC),  # 04:00 summer time: three hours later
        resolution_s=3600,
        direction="production",
        values=(
            ObservationValue(Decimal(10), "measured"),
            ObservationValue(Decimal("0.25"), "final_estimated"),
            ObservationValue(Decimal("0.4"), "temporary"),
        ),
        registered_at=datetime(2026, 3, 29, 2, 34, 12, 123456, tzinfo=UTC),
    )


def test_a_message_and_a_series_have_at_most_9999_entries():
    _refused("10000 series; a message holds at most 9999", *[_series()] * 10_000)
    long = _series(end=datetime(2026, 4, 27, tzinfo=OSLO), resolution_s=900, values=())
    _refused(f"{GSRN}: 10076 intervals; at most 9999", long)


def test_reading_refuses_what_writing_would():
    twice = _document().replace(
        "</rsm:CollectedData>",
        re.search(
            r"<rsm:PayloadEnergyTimeSeries>.*</rsm:PayloadEnergyTimeSeries>", _document(), re.S
        )[0]
        + "</rsm:CollectedData>",
    )
    _unread(f"{GSRN}: series_id repeated", twice)
    two = _document().replace(
        "<abie:Metered>0.000</abie:Metered>",
        "<abie:Metered>0.000</abie:Metered><abie:Metered>1.000</abie:Metered>",
    )
    _unread(f"{GSRN}, position 1: an Observation holds exactly one", two)
    _unread(
        "Header: Creation '2026-02-30T05:07:23Z' is not a valid time",
        _document().replace("2026-03-30T05:07:23Z", "2026-02-30T05:07:23Z"),
    )

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.prices import BIDDING_ZONES, HOUR_S, QUARTER_S, ExchangeRate, SpotPrice
from openams.errors import InputError
from openams.services.price_files import (
    PriceFileResult,
    parse_entsoe_a44,
    parse_nordpool_csv,
    parse_norges_bank_csv,
    parse_price_file,
)

DATA = Path(__file__).parents[2] / "data" / "prices"
NO1_EIC = "10YNO-1--------2"
# 2026-01-11T23:00Z, the start of delivery day 2026-01-12 in Norway (CET).
DAY_START_S = 1_768_172_400


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _a44(
    points: str,
    *,
    start: str = "2026-01-11T23:00Z",
    end: str = "2026-01-12T23:00Z",
    resolution: str = "PT60M",
    eic: str = NO1_EIC,
    curve: str | None = "A03",
    namespace: str = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3",
    currency: str = "EUR",
) -> bytes:
    """A one-series A44 document; ``points`` is ``"position:price ..."``."""
    body = "".join(
        f"<Point><position>{p}</position><price.amount>{a}</price.amount></Point>"
        for p, a in (item.split(":") for item in points.split())
    )
    curve_xml = "" if curve is None else f"<curveType>{curve}</curveType>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<Publication_MarketDocument xmlns="{namespace}"><type>A44</type>'
        f"<TimeSeries><mRID>1</mRID>"
        f"<in_Domain.mRID>{eic}</in_Domain.mRID><out_Domain.mRID>{eic}</out_Domain.mRID>"
        f"<currency_Unit.name>{currency}</currency_Unit.name>"
        f"<price_Measure_Unit.name>MWH</price_Measure_Unit.name>{curve_xml}"
        f"<Period><timeInterval><start>{start}</start><end>{end}</end></timeInterval>"
        f"<resolution>{resolution}</resolution>{body}</Period>"
        f"</TimeSeries></Publication_MarketDocument>"
    ).encode()


def _every(count: int, price: str = "10") -> str:
    return " ".join(f"{p}:{price}" for p in range(1, count + 1))


def _error(exc: pytest.ExceptionInfo[InputError]) -> str:
    return str(exc.value)


# --- ENTSO-E A44 -----------------------------------------------------------------------------


def test_a44_hourly_day_gives_exact_prices_at_their_hours() -> None:
    result = parse_entsoe_a44(_file("entsoe_a44_no1_pt60m.xml"), source="no1.xml")
    assert result.problems == []
    assert result.rates == []
    assert len(result.prices) == 24
    assert result.prices[0] == SpotPrice("NO1", DAY_START_S, HOUR_S, Decimal("52.10"), "EUR")
    # 2026-01-12T07:00Z, position 9
    assert result.prices[8] == SpotPrice("NO1", 1_768_201_200, HOUR_S, Decimal("85.12"))
    assert str(result.prices[8].price_per_mwh) == "85.12"
    # The last hour, 2026-01-12T22:00Z, is negative.
    assert result.prices[-1] == SpotPrice("NO1", 1_768_255_200, HOUR_S, Decimal("-1.05"))
    assert [p.start_at_s for p in result.prices] == [DAY_START_S + i * HOUR_S for i in range(24)]


def test_a44_a03_repeats_the_previous_price_over_omitted_positions() -> None:
    result = parse_entsoe_a44(_file("entsoe_a44_no5_pt15m_a03.xml"), source="no5.xml")
    prices = result.prices
    assert len(prices) == 96
    assert {p.zone for p in prices} == {"NO5"}
    assert {p.resolution_s for p in prices} == {QUARTER_S}
    by_position = {(p.start_at_s - DAY_START_S) // QUARTER_S + 1: p.price_per_mwh for p in prices}
    assert by_position[1] == Decimal("40.00")
    assert by_position[2] == by_position[3] == by_position[4] == Decimal("41.25")
    assert by_position[5] == by_position[8] == Decimal("39.50")
    assert by_position[9] == Decimal("38.75")
    assert all(by_position[p] == Decimal("42.00") for p in range(10, 50))
    assert all(by_position[p] == Decimal("-0.50") for p in range(50, 96))
    assert by_position[96] == Decimal("35.10")
    # 2026-01-12T09:30Z is position 43 (10:30 in Norway).
    assert SpotPrice("NO5", 1_768_210_200, QUARTER_S, Decimal("42.00")) in prices


def test_a44_dst_spring_day_has_23_hours() -> None:
    data = _a44(_every(23), start="2026-03-28T23:00Z", end="2026-03-29T22:00Z")
    prices = parse_entsoe_a44(data, source="dst.xml").prices
    assert len(prices) == 23
    assert prices[0].start_at_s == 1_774_738_800
    assert prices[-1].start_at_s == 1_774_821_600 - HOUR_S


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2026-03-28T23:00Z", "2026-03-29T22:00Z", 92),  # spring forward
        ("2026-01-11T23:00Z", "2026-01-12T23:00Z", 96),
        ("2026-10-24T22:00Z", "2026-10-25T23:00Z", 100),  # fall back
    ],
)
def test_a44_quarter_hours_are_what_the_interval_says(start: str, end: str, count: int) -> None:
    data = _a44(_every(count), start=start, end=end, resolution="PT15M", curve="A01")
    assert len(parse_entsoe_a44(data, source="q.xml").prices) == count


def test_a44_any_namespace_version_and_a01_without_curve_type() -> None:
    data = _a44(
        _every(24, "-3.5"),
        namespace="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:0",
        curve=None,
    )
    prices = parse_entsoe_a44(data, source="old.xml").prices
    assert len(prices) == 24
    assert {p.price_per_mwh for p in prices} == {Decimal("-3.5")}


def test_a44_pt1h_is_read_as_an_hour() -> None:
    data = _a44(_every(24), resolution="PT1H")
    assert {p.resolution_s for p in parse_entsoe_a44(data, source="h.xml").prices} == {HOUR_S}


def test_acknowledgement_raises_quoting_its_reason() -> None:
    with pytest.raises(InputError) as exc:
        parse_entsoe_a44(_file("entsoe_acknowledgement.xml"), source="ack.xml")
    assert exc.value.source == "ack.xml"
    assert "No matching data found for the requested day-ahead prices" in _error(exc)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<Publication_MarketDocument><type>A44", "not a well-formed XML document"),
        (b"<html><body/></html>", "root element is html"),
        (_a44("1:10", eic="10YSE-3--------R"), "10YSE-3--------R is not Norwegian"),
        (_a44(_every(24), resolution="PT30M"), "resolution PT30M is not PT60M or PT15M"),
        (_a44(_every(24), currency="SEK"), "currency SEK is not EUR or NOK"),
        (_a44("1:10 2:ten", curve="A03"), "position 2: price.amount 'ten' is not a number"),
        (_a44("1:NaN", curve="A03"), "price.amount 'NaN' is not a number"),
        (_a44("1:10 25:11"), "position 25 is outside 1..24"),
        (_a44("1:10 0:11"), "position 0 is outside 1..24"),
        (_a44("1:10 1:11"), "position 1 given twice"),
        (_a44("2:10"), "position 1 of 24 is missing (curve type A03)"),
        (_a44("1:10 2:11", curve="A01"), "position 3 of 24 is missing (curve type A01)"),
        (_a44("1:10", curve="A02"), "curve type A02"),
        (_a44("1:10", start="2026-01-12T23:00Z"), "must end after its start"),
        (_a44("1:10", start="2026-01-11T23:30Z"), "not whole units of PT60M"),
        (_a44("1:10", start="2026-01-12T00:00+01:00"), "must be a UTC time"),
        (_a44("1:10", start="2026-01-12"), "must be a UTC time"),
    ],
)
def test_a44_errors_name_the_problem(data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_entsoe_a44(data, source="bad.xml")
    assert expected in _error(exc)
    assert _error(exc).startswith("bad.xml: ")


def test_a44_entities_are_refused() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>'
        b"<Publication_MarketDocument><type>&e;</type></Publication_MarketDocument>"
    )
    with pytest.raises(InputError, match="not a well-formed XML document"):
        parse_entsoe_a44(data, source="evil.xml")


def test_a44_two_series_for_the_same_hours_are_refused() -> None:
    one = _a44(_every(24)).decode()
    series = one[one.index("<TimeSeries>") : one.index("</TimeSeries>") + len("</TimeSeries>")]
    doubled = one.replace("</TimeSeries>", "</TimeSeries>" + series, 1)
    with pytest.raises(
        InputError, match="TimeSeries 2: a second price for NO1 at 2026-01-11T23:00Z"
    ):
        parse_entsoe_a44(doubled.encode(), source="twice.xml")


# --- Nord Pool style CSV ---------------------------------------------------------------------


def test_nordpool_bad_row_is_reported_with_its_line_and_good_rows_kept() -> None:
    text = _file("nordpool_no1_no2_bad_row.csv").decode()
    result = parse_nordpool_csv(text, source="np.csv")
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.source, problem.line) == ("np.csv", 5)
    assert "NO1 (EUR) 'forty' is not a price" in str(problem)
    assert str(problem).startswith("np.csv:5: ")
    # Rows 2, 3, 6 and 7; the empty NO2 cell on line 6 is no price, not a problem.
    assert [(p.zone, p.start_at_s) for p in result.prices] == [
        ("NO1", DAY_START_S),
        ("NO2", DAY_START_S),
        ("NO1", DAY_START_S + HOUR_S),
        ("NO2", DAY_START_S + HOUR_S),
        ("NO1", DAY_START_S + 3 * HOUR_S),
        ("NO1", DAY_START_S + 4 * HOUR_S),
        ("NO2", DAY_START_S + 4 * HOUR_S),
    ]
    assert result.prices[0].price_per_mwh == Decimal("52.10")
    assert result.prices[4] == SpotPrice("NO1", DAY_START_S + 3 * HOUR_S, HOUR_S, Decimal("-1.05"))


def test_nordpool_comma_separator_quarter_hours_and_nok() -> None:
    text = (
        "Delivery Start,Delivery End,no3 (nok)\n"
        "2026-01-11T23:00:00Z,2026-01-11T23:15:00Z,612.5\n"
        '2026-01-12T00:15:00+01:00,2026-01-12T00:30:00+01:00,"-7,25"\n'
    )
    result = parse_nordpool_csv(text, source="q.csv")
    assert result.problems == []
    assert result.prices == [
        SpotPrice("NO3", DAY_START_S, QUARTER_S, Decimal("612.5"), "NOK"),
        SpotPrice("NO3", DAY_START_S + QUARTER_S, QUARTER_S, Decimal("-7.25"), "NOK"),
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("2026-01-12T00:00:00;2026-01-12T01:00:00+01:00;1", "delivery_start must be an ISO"),
        ("2026-01-12T00:00:00+01:00;2026-01-12T00:30:00+01:00;1", "is 1800 s, not 3600 or 900"),
        ("2026-01-12T00:15:00+01:00;2026-01-12T01:15:00+01:00;1", "not on an hour boundary"),
        ("2026-01-12T00:00:00+01:00;2026-01-12T01:00:00+01:00;1.234,5", "is not a price"),
        ("2026-01-12T00:00:00+01:00;2026-01-12T01:00:00+01:00", "2 fields where the header has 3"),
        ("2026-01-11T23:00:00Z;2026-01-12T00:00:00Z;2", "a second price for NO1 (first on line 2)"),
    ],
)
def test_nordpool_bad_rows_name_the_problem(row: str, expected: str) -> None:
    text = (
        "delivery_start;delivery_end;NO1 (EUR)\n"
        "2026-01-12T00:00:00+01:00;2026-01-12T01:00:00+01:00;1\n"
        f"{row}\n"
    )
    result = parse_nordpool_csv(text, source="r.csv")
    assert len(result.prices) == 1
    assert [p.line for p in result.problems] == [3]
    assert expected in str(result.problems[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("\n  \n", "empty"),
        ("start;end;NO1 (EUR)\n", "no delivery_start column"),
        ("delivery_start;delivery_end;price\n", "no price column"),
        ("delivery_start;delivery_end;SE3 (EUR)\n", "zone SE3 is not Norwegian"),
        ("delivery_start;delivery_end;NO1 (SEK)\n", "currency SEK is not EUR or NOK"),
        ("delivery_start;delivery_end;NO1 (EUR);NO1 (NOK)\n", "a second column for NO1"),
    ],
)
def test_nordpool_whole_file_problems_raise(text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse_nordpool_csv(text, source="f.csv")


def _write_nordpool(prices: list[SpotPrice], sep: str, decimal_comma: bool, offset_h: int) -> str:
    zones = sorted({p.zone for p in prices})
    currency = {p.zone: p.currency for p in prices}
    tz = timezone(timedelta(hours=offset_h))
    lines = [sep.join(["delivery_start", "delivery_end", *(f"{z} ({currency[z]})" for z in zones)])]
    for start_s, resolution_s in sorted({(p.start_at_s, p.resolution_s) for p in prices}):
        cells = {
            p.zone: p for p in prices if (p.start_at_s, p.resolution_s) == (start_s, resolution_s)
        }
        row = [
            datetime.fromtimestamp(start_s, tz).isoformat(),
            datetime.fromtimestamp(start_s + resolution_s, tz).isoformat(),
        ]
        for zone in zones:
            text = str(cells[zone].price_per_mwh) if zone in cells else ""
            if decimal_comma:
                text = text.replace(".", ",")
                text = f'"{text}"' if sep == "," and "," in text else text
            row.append(text)
        lines.append(sep.join(row))
    return "\n".join(lines) + "\n"


_amounts = st.decimals(
    min_value=Decimal(-500),
    max_value=Decimal(4000),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@st.composite
def _price_lists(draw: st.DrawFn) -> list[SpotPrice]:
    zones = draw(st.lists(st.sampled_from(BIDDING_ZONES), min_size=1, max_size=5, unique=True))
    currency = {z: draw(st.sampled_from(["EUR", "NOK"])) for z in zones}
    units = draw(
        st.lists(
            st.tuples(st.sampled_from([HOUR_S, QUARTER_S]), st.integers(0, 400)),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    prices = []
    for resolution_s, index in units:
        for zone in draw(st.lists(st.sampled_from(zones), min_size=1, unique=True)):
            start_s = DAY_START_S + index * resolution_s
            prices.append(SpotPrice(zone, start_s, resolution_s, draw(_amounts), currency[zone]))
    return prices


def _key(price: SpotPrice) -> tuple[str, int, int, str, str]:
    return (
        price.zone,
        price.resolution_s,
        price.start_at_s,
        str(price.price_per_mwh),
        price.currency,
    )


@given(
    prices=_price_lists(),
    sep=st.sampled_from([";", ","]),
    decimal_comma=st.booleans(),
    offset_h=st.integers(-12, 14),
)
def test_nordpool_written_prices_read_back_the_same(
    prices: list[SpotPrice], sep: str, decimal_comma: bool, offset_h: int
) -> None:
    text = _write_nordpool(prices, sep, decimal_comma, offset_h)
    result = parse_nordpool_csv(text, source="gen.csv")
    assert result.problems == []
    assert sorted(map(_key, result.prices)) == sorted(map(_key, prices))


# --- Norges Bank CSV -------------------------------------------------------------------------


def test_norges_bank_sdmx_csv_keeps_eur_nok_rows() -> None:
    result = parse_norges_bank_csv(_file("norges_bank_eur_nok.csv").decode(), source="nb.csv")
    assert result.problems == []
    assert result.prices == []
    assert result.rates == [
        ExchangeRate(date(2026, 1, 12), Decimal("11.7235")),
        ExchangeRate(date(2026, 1, 13), Decimal("11.6980")),
        ExchangeRate(date(2026, 1, 14), Decimal("11.7102")),
    ]


def test_norges_bank_unit_mult_divides_and_bad_rows_are_reported() -> None:
    text = (
        "BASE_CUR;QUOTE_CUR;UNIT_MULT;TIME_PERIOD;OBS_VALUE\n"
        "EUR;NOK;2;2026-01-12;1172,35\n"
        "EUR;NOK;0;2026-01;11.7\n"
        "EUR;NOK;0;2026-01-13;0\n"
        "EUR;NOK;x;2026-01-14;11.7\n"
        "EUR;NOK;0;2026-01-12;11.7\n"
        "JPY;NOK;2;2026-01-12;7.1\n"
    )
    result = parse_norges_bank_csv(text, source="nb.csv")
    assert result.rates == [ExchangeRate(date(2026, 1, 12), Decimal("11.7235"))]
    assert [p.line for p in result.problems] == [3, 4, 5, 6]
    messages = [str(p) for p in result.problems]
    assert "TIME_PERIOD must be a date YYYY-MM-DD, not '2026-01'" in messages[0]
    assert "OBS_VALUE must be a positive number, not '0'" in messages[1]
    assert "UNIT_MULT must be a whole number" in messages[2]
    assert "a second rate for 2026-01-12 (first on line 2)" in messages[3]


def test_norges_bank_plain_form() -> None:
    result = parse_norges_bank_csv("date;EUR\n2026-01-12;11,7235\n", source="p.csv")
    assert result.rates == [ExchangeRate(date(2026, 1, 12), Decimal("11.7235"), "EUR")]


def test_norges_bank_missing_columns_raise() -> None:
    with pytest.raises(InputError, match="no column QUOTE_CUR, UNIT_MULT"):
        parse_norges_bank_csv("BASE_CUR;TIME_PERIOD;OBS_VALUE\n", source="nb.csv")


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prices", "rates", "problems"),
    [
        ("entsoe_a44_no1_pt60m.xml", 24, 0, 0),
        ("entsoe_a44_no5_pt15m_a03.xml", 96, 0, 0),
        ("nordpool_no1_no2_bad_row.csv", 7, 0, 1),
        ("norges_bank_eur_nok.csv", 0, 3, 0),
    ],
)
def test_parse_price_file_detects_the_format(
    name: str, prices: int, rates: int, problems: int
) -> None:
    result = parse_price_file(b"\xef\xbb\xbf" + _file(name), source=name)
    assert isinstance(result, PriceFileResult)
    assert (len(result.prices), len(result.rates), len(result.problems)) == (
        prices,
        rates,
        problems,
    )


def test_parse_price_file_refuses_non_utf8_naming_the_line() -> None:
    with pytest.raises(InputError) as exc:
        parse_price_file(b"date;EUR\n2026-01-12;11\xff7\n", source="latin.csv")
    assert exc.value.line == 2
    assert "not UTF-8" in _error(exc)


def test_parse_price_file_passes_on_acknowledgements() -> None:
    with pytest.raises(InputError, match="acknowledgement: No matching data"):
        parse_price_file(b"  \n" + _file("entsoe_acknowledgement.xml"), source="ack.xml")


def test_utc_sample_day_start() -> None:
    assert datetime(2026, 1, 11, 23, tzinfo=UTC).timestamp() == DAY_START_S

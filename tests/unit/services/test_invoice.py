"""Invoices: the HTML page, the PDF, the file names, and Norwegian number formatting."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.settlement_types import DayUse, Line, PeakHour, Settlement
from openams.services.invoice import (
    InvoiceParty,
    format_kwh,
    format_nok,
    invoice_file_stem,
    render_invoice_html,
    render_invoice_pdf,
    write_invoices,
)

D = Decimal
NBSP = "\u00a0"
DASH = "\u2013"  # en dash, between the ends of ranges
OSLO = ZoneInfo("Europe/Oslo")
MP = "707057500000000017"
SVG = "{http://www.w3.org/2000/svg}"

LINES = (
    Line("fixed", "Fastledd", D(1), "month", D("125.00"), D("125.00")),
    Line("capacity", "Kapasitetsledd 5-10 kW", D(1), "month", D("415.00"), D("415.00")),
    Line(
        "energy_day",
        "Energiledd dag (06-22)",
        D("1234.567"),
        "kWh",
        D("0.3950"),
        D("487.65"),
        estimated_kwh=D("12.500"),
    ),
    Line("vat", "Merverdiavgift 25 %", D("1027.65"), "NOK", D("0.25"), D("256.91")),
)
# Days 3, 4 and 17 have no price; the 20th is the day of most use.
DAYS = tuple(
    DayUse(
        date(2026, 1, n),
        D("60.500") if n == 20 else D(30 + n % 7) + D("0.250"),
        None if n in (3, 4, 17) else D("0.80") + D(n) / 100,
    )
    for n in range(1, 32)
)
PEAKS = (
    PeakHour(date(2026, 1, 12), 17, D("6.123")),
    PeakHour(date(2026, 1, 14), 8, D("6.001"), estimated=True),
    PeakHour(date(2026, 1, 20), 18, D("5.900")),
)
SETTLEMENT = Settlement(
    metering_point_id=MP,
    customer_id="K-1001",
    month="2026-01",
    first_day=date(2026, 1, 1),
    last_day=date(2026, 1, 31),
    capacity_kw=D("6.008"),
    capacity_step="5-10",
    peak_hours=PEAKS,
    energy_kwh=D("1234.567"),
    estimated_kwh=D("12.500"),
    export_kwh=D(0),
    missing_hours=0,
    lines=LINES,
    total_nok=D("1284.56"),
    days=DAYS,
)
PARTY = InvoiceParty(
    company_name="Fjordnett AS",
    customer_name="Ærlige Søstrene Åsen",
    street_address="Kjærlighetsstien 2",
    postcode="5003",
    post_town="BERGEN",
    customer_id="K-1001",
    company_org_number="987 654 321",
)


def _norm(text: str) -> str:
    """Whitespace (no-break spaces and line breaks too) as single spaces."""
    return " ".join(text.split())


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _parse(text: str, unit: str) -> Decimal:
    """Read back a formatted number: the inverse of format_nok and format_kwh."""
    assert text.endswith(NBSP + unit)
    return Decimal(text.removesuffix(NBSP + unit).replace(NBSP, "").replace(",", "."))


def _svg(html: str) -> ET.Element:
    found = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert found is not None
    return ET.fromstring(found.group(0))  # noqa: S314 - our own output


# --- number formatting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1234.56"), "1 234,56 kr"),
        (D("1234567.891"), "1 234 567,89 kr"),
        (D("0.005"), "0,01 kr"),  # half up, as the settlement rounds
        (D("-1234.5"), "-1 234,50 kr"),
        (D("-0.004"), "0,00 kr"),  # never "-0,00"
        (D(0), "0,00 kr"),
    ],
)
def test_format_nok(value, text):
    assert format_nok(value) == text.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("6.123"), "6,123 kWh"), (D("1234.5"), "1 234,500 kWh"), (D("0.0005"), "0,001 kWh")],
)
def test_format_kwh(value, text):
    assert format_kwh(value) == text.replace(" ", NBSP)


_LIMIT = D(10) ** 12


@given(st.decimals(min_value=-_LIMIT, max_value=_LIMIT, places=2))
def test_format_nok_reads_back_the_same_amount(value):
    assert _parse(format_nok(value), "kr") == value


@given(st.decimals(min_value=-_LIMIT, max_value=_LIMIT, places=3))
def test_format_kwh_reads_back_the_same_energy(value):
    assert _parse(format_kwh(value), "kWh") == value


@given(st.decimals(min_value=-_LIMIT, max_value=_LIMIT, allow_nan=False, allow_infinity=False))
def test_more_decimals_are_rounded_half_up(value):
    assert _parse(format_nok(value), "kr") == value.quantize(D("0.01"), ROUND_HALF_UP)
    assert _parse(format_kwh(value), "kWh") == value.quantize(D("0.001"), ROUND_HALF_UP)


# --- the HTML page -------------------------------------------------------------------------


def test_the_page_has_heading_parties_lines_and_total():
    html = render_invoice_html(SETTLEMENT, PARTY)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nb">' in html
    assert "<h1>Faktura nettleie januar 2026</h1>" in html
    for text in (MP, "K-1001", "Fjordnett AS", "Org.nr. 987 654 321", "Ærlige Søstrene Åsen"):
        assert text in html
    assert "Kjærlighetsstien 2<br>5003 BERGEN" in html
    assert f"01.01.2026{DASH}31.01.2026" in html
    for line in LINES:
        assert line.text in html
        assert f'<td class="num">{format_nok(line.amount)}</td>' in html
    assert f"1{NBSP}234,567{NBSP}kWh" in html  # the energy line's quantity
    assert f"0,3950{NBSP}kr/kWh" in html
    assert f"25{NBSP}%" in html  # the VAT rate
    assert f'<th colspan="3">Å betale</th><td class="num total">1{NBSP}284,56{NBSP}kr</td>' in html


@pytest.mark.parametrize(
    ("line", "quantity", "unit_price"),
    [
        (Line("fixed", "Fastledd", D(1), "month", D("125"), D("125.00")), "1 mnd", "125,00 kr/mnd"),
        (
            Line("fixed", "Fastledd", D("0.4839"), "month", D("125"), D("60.49")),
            "0,4839 mnd",
            "125,00 kr/mnd",
        ),
        (
            Line("fixed", "Fastledd", D(15), "day", D("4.0323"), D("60.48")),
            "15 dager",
            "4,0323 kr/dag",
        ),
        (Line("fixed", "Fastledd", D(1), "day", D("4.5"), D("4.50")), "1 dag", "4,50 kr/dag"),
        (
            Line("energy", "Energiledd", D("-10.5"), "kWh", D("0.41375"), D("-4.34")),
            "-10,500 kWh",
            "0,41375 kr/kWh",
        ),
        (Line("vat", "Mva", D("1027.65"), "NOK", D("0.25"), D("256.91")), "1 027,65 kr", "25 %"),
        (Line("vat", "Mva", D("100"), "NOK", D("0.155"), D("15.50")), "100,00 kr", "15,5 %"),
    ],
)
def test_quantities_and_prices_are_printed_in_their_units(line, quantity, unit_price):
    html = render_invoice_html(replace(SETTLEMENT, lines=(line,), total_nok=line.amount), PARTY)
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells[:3] == [
        quantity.replace(" ", NBSP),
        unit_price.replace(" ", NBSP),
        format_nok(line.amount),
    ]


def test_the_page_marks_estimated_lines_and_explains_the_mark():
    html = render_invoice_html(SETTLEMENT, PARTY)
    assert html.count('<span class="mark">*</span>') == 1
    assert 'Energiledd dag (06-22)<span class="mark">*</span>' in html
    assert "stipulert (estimert) forbruk" in html
    assert f"av dette 12,500{NBSP}kWh stipulert (estimert)" in html

    measured = replace(
        SETTLEMENT,
        lines=tuple(replace(line, estimated_kwh=D(0)) for line in LINES),
        estimated_kwh=D(0),
    )
    html = render_invoice_html(measured, PARTY)
    assert 'class="mark"' not in html
    assert "stipulert (estimert) forbruk" not in html


def test_the_page_explains_the_capacity_step_with_the_three_hours():
    html = render_invoice_html(SETTLEMENT, PARTY)
    expected = (
        "Kapasitetsleddet beregnes av gjennomsnittet av de tre timene med høyest forbruk, "
        f"på tre ulike dager: 12. januar kl. 17{DASH}18 (6,123 kWh), "
        f"14. januar kl. 08{DASH}09 (6,001 kWh, stipulert) og 20. januar kl. 18{DASH}19 "
        f"(5,900 kWh). Gjennomsnittet 6,008 kW gir trinn 5{DASH}10 kW."
    )
    assert expected in _norm(html)


@pytest.mark.parametrize(
    ("peaks", "step", "expected"),
    [
        (PEAKS[:1], "5-10", f"beregnes av timen med høyest forbruk: 12. januar kl. 17{DASH}18"),
        ((), "0-2", f"ingen timer med forbruk; kapasitetsleddet er trinn 0{DASH}2 kW."),
        (PEAKS[:2], ">100", "de to timene med høyest forbruk, på to ulike dager"),
        (PEAKS[:2], ">100", "gir trinn over 100 kW."),
    ],
)
def test_the_capacity_text_fits_the_hours_there_are(peaks, step, expected):
    settlement = replace(SETTLEMENT, peak_hours=peaks, capacity_step=step)
    assert expected in _norm(render_invoice_html(settlement, PARTY))


def test_a_customer_name_is_text_not_markup():
    party = replace(PARTY, customer_name='Ola <script>alert("x")</script> & Co')
    html = render_invoice_html(SETTLEMENT, party)
    assert "<script" not in html
    assert "Ola &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html


def test_the_page_is_standalone():
    html = render_invoice_html(SETTLEMENT, PARTY)
    for fetching in ("<script", "<link", "src=", "href=", "url(", "@import"):
        assert fetching not in html
    assert "<style>" in html


def test_the_chart_has_a_bar_per_day_as_tall_as_its_use():
    svg = _svg(render_invoice_html(SETTLEMENT, PARTY))
    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == 31
    heights = [float(bar.attrib["height"]) for bar in bars]
    assert heights.index(max(heights)) == 19  # the 20th
    assert heights[0] / heights[19] == pytest.approx(31.25 / 60.5, abs=0.01)
    # every bar stands on the same baseline
    assert len({round(float(b.attrib["y"]) + float(b.attrib["height"]), 1) for b in bars}) == 1
    tooltip = bars[19].find(f"{SVG}title")
    assert tooltip is not None
    assert tooltip.text == f"20. januar: 60,500{NBSP}kWh, spotpris 1,0000{NBSP}kr/kWh"


def test_the_price_line_breaks_where_a_day_has_no_price():
    svg = _svg(render_invoice_html(SETTLEMENT, PARTY))
    lines = [line.attrib["points"].split() for line in svg.iter(f"{SVG}polyline")]
    # days 1-2, 5-16 and 18-31; the days without a price (3, 4, 17) break the line
    assert [len(points) for points in lines] == [2, 12, 14]
    assert list(svg.iter(f"{SVG}circle")) == []

    only_the_9th = tuple(d if d.day.day == 9 else replace(d, spot_nok_per_kwh=None) for d in DAYS)
    lone = replace(SETTLEMENT, days=only_the_9th)
    svg = _svg(render_invoice_html(lone, PARTY))
    assert list(svg.iter(f"{SVG}polyline")) == []
    assert len(list(svg.iter(f"{SVG}circle"))) == 1


def test_no_days_no_chart():
    html = render_invoice_html(replace(SETTLEMENT, days=()), PARTY)
    assert "<svg" not in html


def test_missing_hours_are_told():
    assert "mangler måleverdi" not in render_invoice_html(SETTLEMENT, PARTY)
    html = render_invoice_html(replace(SETTLEMENT, missing_hours=5), PARTY)
    assert "5 timer i perioden mangler måleverdi; de er ikke fakturert." in html
    html = render_invoice_html(replace(SETTLEMENT, missing_hours=1), PARTY)
    assert "Én time i perioden mangler måleverdi" in html


def _resettlement(total: Decimal) -> Settlement:
    lines = (
        Line("energy_day", "Energiledd dag (06-22)", D("-10.000"), "kWh", D("0.3950"), D("-3.95")),
        Line("vat", "Merverdiavgift 25 %", D("-3.95"), "NOK", D("0.25"), D("-0.99")),
    )
    return replace(SETTLEMENT, lines=lines, total_nok=total, version=2, kind="resettlement")


def test_a_resettlement_says_the_amounts_are_differences():
    first = render_invoice_html(SETTLEMENT, PARTY)
    assert "korreksjon" not in first
    assert "Versjon" not in first
    html = render_invoice_html(_resettlement(D("-4.94")), PARTY)
    assert "Dette er en korreksjon av tidligere avregning (versjon 2)" in html
    assert "beløpene er differansen mot forrige versjon" in html
    assert "<dt>Versjon</dt><dd>2</dd>" in html
    assert f"-3,95{NBSP}kr" in html  # a line keeps its sign
    # the total is a credit: said as such, not as a negative amount to pay
    assert f'<th colspan="3">Til gode</th><td class="num total">4,94{NBSP}kr</td>' in html
    assert "Å betale" not in html


def test_the_party_must_be_the_settlements_customer():
    with pytest.raises(ValueError, match="K-9"):
        render_invoice_html(SETTLEMENT, replace(PARTY, customer_id="K-9"))
    with pytest.raises(ValueError, match="YYYY-MM"):
        render_invoice_html(replace(SETTLEMENT, month="2026-13"), PARTY)


def _hours(day: date) -> list[tuple[datetime, Decimal, Decimal | None]]:
    start = datetime(day.year, day.month, day.day, tzinfo=OSLO).astimezone(UTC)
    end = (datetime(day.year, day.month, day.day, tzinfo=OSLO) + timedelta(days=1)).astimezone(UTC)
    hours = []
    at = start
    while at < end:
        hours.append((at, D("1.250"), None if at.hour == 5 else D("0.91234")))
        at += timedelta(hours=1)
    return hours


def test_the_hourly_appendix_in_local_time_with_the_doubled_hour_told_apart():
    hourly = _hours(date(2026, 10, 25))  # summer time ends: 25 hours
    assert len(hourly) == 25
    settlement = replace(SETTLEMENT, month="2026-10")
    html = render_invoice_html(settlement, PARTY, hourly=hourly)
    assert "Vedlegg: forbruk og spotpris time for time" in html
    rows = [_norm(row) for row in re.findall(r"<tr><td>(25\.10\.[^<]*)</td>", html)]
    assert len(rows) == 25
    assert rows[0] == f"25.10. kl. 00{DASH}01"
    assert rows[2:4] == [f"25.10. kl. 02{DASH}03 sommertid", f"25.10. kl. 02{DASH}03 vintertid"]
    assert rows[3:6] == [
        f"25.10. kl. 02{DASH}03 vintertid",
        f"25.10. kl. 03{DASH}04",
        f"25.10. kl. 04{DASH}05",
    ]
    assert rows[-1] == f"25.10. kl. 23{DASH}24"
    assert '<td class="num">1,250</td><td class="num">0,9123</td>' in html
    assert f'<td class="num">{DASH}</td>' in html  # the hour without a price
    assert "Vedlegg" not in render_invoice_html(settlement, PARTY)


def test_hours_must_be_aware():
    with pytest.raises(ValueError, match="time zone"):
        render_invoice_html(SETTLEMENT, PARTY, hourly=[(datetime(2026, 1, 1), D(1), None)])


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_has_the_same_content():
    pdf = render_invoice_pdf(SETTLEMENT, PARTY)
    assert pdf.startswith(b"%PDF-")
    text = _norm(_pdf_text(pdf))
    assert "Faktura nettleie januar 2026" in text
    for line in LINES:
        assert _norm(line.text) in text
        assert _norm(format_nok(line.amount)) in text
    assert "Energiledd dag (06-22)*" in text
    assert "Å betale 1 284,56 kr" in text
    assert "stipulert (estimert) forbruk" in text
    assert "Kapasitetsleddet beregnes av gjennomsnittet av de tre timene" in text
    assert f"12. januar kl. 17{DASH}18 (6,123 kWh)" in text
    assert f"Gjennomsnittet 6,008 kW gir trinn 5{DASH}10 kW." in text
    assert f"Målepunkt-ID {MP}" in text
    assert f"01.01.2026{DASH}31.01.2026" in text


def test_the_pdf_keeps_norwegian_letters_and_markup_characters():
    party = replace(
        PARTY,
        company_name="Nett & Kraft <AS>",
        customer_name="Ærlige Søstrene Åsen <script>& Co</script>",
        post_town="ØVRE ÅRDAL",
    )
    lines = (replace(LINES[0], text="Fastledd <b>&amp; mer</b>"), *LINES[1:])
    text = _pdf_text(render_invoice_pdf(replace(SETTLEMENT, lines=lines), party))
    assert "Ærlige Søstrene Åsen <script>& Co</script>" in text
    assert text.count("Nett & Kraft <AS>") == 2  # the letterhead and the page footer
    assert "Fastledd <b>&amp; mer</b>" in text
    assert "Kjærlighetsstien 2" in text
    assert "5003 ØVRE ÅRDAL" in text


def test_the_pdf_keeps_numbers_with_their_units_on_one_line():
    text = _pdf_text(render_invoice_pdf(SETTLEMENT, PARTY))
    lines = [line.strip() for line in text.splitlines()]
    assert "1 284,56 kr" in lines
    assert "1 234,567 kWh" in lines
    # the capacity paragraph wraps, but never between "kl." and the hours or a number and kWh
    assert "kl. 17" in text
    assert re.search(r"kl\.\n|\d\n(kWh|kW|kr)\b", text) is None


def test_the_pdf_has_a_title_and_the_chart():
    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf(SETTLEMENT, PARTY)))
    assert reader.metadata is not None
    assert reader.metadata.title == f"Faktura nettleie januar 2026 {DASH} {MP}"
    assert reader.metadata.author == "Fjordnett AS"
    text = reader.pages[0].extract_text()
    assert "Forbruk (kWh per dag)" in text
    assert "Spotpris, snitt per dag (kr/kWh)" in text


def test_the_pdf_is_the_same_bytes_each_time():
    first = render_invoice_pdf(SETTLEMENT, PARTY)
    assert render_invoice_pdf(SETTLEMENT, PARTY) == first
    assert render_invoice_pdf(replace(SETTLEMENT, total_nok=D("1284.57")), PARTY) != first
    assert render_invoice_html(SETTLEMENT, PARTY) == render_invoice_html(SETTLEMENT, PARTY)


def test_the_pdf_appendix_lists_every_hour():
    hourly = [hour for n in range(1, 32) for hour in _hours(date(2026, 1, n))]
    assert len(hourly) == 744
    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf(SETTLEMENT, PARTY, hourly=hourly)))
    assert len(reader.pages) > 2
    appendix = "\n".join(page.extract_text() for page in reader.pages[1:])
    assert "Vedlegg: forbruk og spotpris time for time" in _norm(appendix)
    labels = re.findall(rf"\d\d\.01\. kl\. \d\d{DASH}\d\d", appendix)
    assert len(labels) == 744
    assert len(set(labels)) == 744


# --- files ---------------------------------------------------------------------------------


def test_write_invoices_names_the_files_by_point_month_and_version(tmp_path):
    out = tmp_path / "faktura" / "2026-01"
    other = replace(SETTLEMENT, metering_point_id="707057500000000024")
    items = [(SETTLEMENT, PARTY), (other, PARTY), (_resettlement(D("-4.94")), PARTY)]
    written = write_invoices(items, out)
    assert [p.name for p in written] == [
        f"{MP}_2026-01.html",
        f"{MP}_2026-01.pdf",
        "707057500000000024_2026-01.html",
        "707057500000000024_2026-01.pdf",
        f"{MP}_2026-01_v2.html",
        f"{MP}_2026-01_v2.pdf",
    ]
    assert sorted(out.iterdir()) == sorted(written)
    assert written[0].read_text(encoding="utf-8") == render_invoice_html(SETTLEMENT, PARTY)
    assert written[1].read_bytes() == render_invoice_pdf(SETTLEMENT, PARTY)
    assert "korreksjon" in written[4].read_text(encoding="utf-8")


def test_write_invoices_writes_nothing_when_two_would_collide(tmp_path):
    with pytest.raises(ValueError, match=f"{MP}_2026-01"):
        write_invoices([(SETTLEMENT, PARTY), (SETTLEMENT, PARTY)], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("changes", "stem"),
    [
        ({}, f"{MP}_2026-01"),
        ({"version": 1}, f"{MP}_2026-01"),
        ({"version": 3}, f"{MP}_2026-01_v3"),
    ],
)
def test_invoice_file_stem(changes, stem):
    assert invoice_file_stem(replace(SETTLEMENT, **changes)) == stem


def test_a_file_name_cannot_leave_the_directory():
    with pytest.raises(ValueError, match="file name"):
        invoice_file_stem(replace(SETTLEMENT, metering_point_id="../../etc/x"))

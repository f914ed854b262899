"""The invoice as a PDF, drawn with reportlab from the same content as the HTML page.

The content comes from :mod:`openams.services.invoice_content`; this module only lays it out
on A4: the parties, the lines, the notes, the daily chart, and, when hours are given, an
appendix of every hour in three columns per page.

Invariants:
    * Only the PDF core fonts (Helvetica) are used: nothing is embedded or read from disk.
      Their WinAnsi encoding has every letter Norwegian needs (æ ø å Æ Ø Å) and the en dash.
      A no-break space keeps a number and its unit together on a line; in the file it is an
      ordinary space. Letters outside WinAnsi (the Sami Č, Đ, Ŋ, Ŧ among them) cannot be
      drawn by these fonts and show as a box.
    * Text goes into reportlab's paragraph markup escaped, so a ``<`` in a name is a ``<``.
    * The output is deterministic (reportlab's *invariant* mode: a fixed creation date and a
      document id derived from the content), so the same settlement gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import (  # type: ignore[import-untyped]
    Circle,
    Drawing,
    Line,
    PolyLine,
    Rect,
    String,
)
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    BaseDocTemplate,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from openams.domain.settlement_types import Settlement

from .invoice_content import DASH, Chart, InvoiceContent, InvoiceParty, invoice_content

__all__ = ["render_invoice_pdf"]

_MARGIN: Final = 16 * mm
_FOOTER_Y: Final = 9 * mm
_BLUE: Final = colors.HexColor("#4a7fb5")
_RED: Final = colors.HexColor("#b03a2e")
_GREY: Final = colors.HexColor("#bbbbbb")
_FONT: Final = "Helvetica"
_BOLD: Final = "Helvetica-Bold"

_BODY: Final = ParagraphStyle("body", fontName=_FONT, fontSize=9.5, leading=13, spaceAfter=4)
_SMALL: Final = ParagraphStyle("small", parent=_BODY, fontSize=8, leading=10)
_TITLE: Final = ParagraphStyle(
    "title", parent=_BODY, fontName=_BOLD, fontSize=16, leading=20, spaceAfter=8
)
_HEADING: Final = ParagraphStyle(
    "heading", parent=_BODY, fontName=_BOLD, fontSize=11.5, leading=15, spaceBefore=10
)
_CELL: Final = ParagraphStyle("cell", parent=_BODY, spaceAfter=0)
_CELL_RIGHT: Final = ParagraphStyle("cell_right", parent=_CELL, alignment=TA_RIGHT)
#: Tables start flush with the text beside them.
_NO_PADDING_LEFT: Final = ("LEFTPADDING", (0, 0), (0, -1), 0)


def render_invoice_pdf(
    settlement: Settlement,
    party: InvoiceParty,
    *,
    hourly: Sequence[tuple[datetime, Decimal, Decimal | None]] | None = None,
) -> bytes:
    """The invoice as a PDF (A4), with the same content as the HTML page.

    Args:
        settlement: The settlement to bill.
        party: Grid company and customer; ``party.customer_id`` must be the settlement's.
        hourly: ``(start of the hour, kWh, spot price in NOK/kWh or None)`` per hour; when
            given, an appendix lists them. Starts must be aware.

    Returns:
        The PDF document.

    Raises:
        ValueError: The party is not the settlement's customer, the month is not
            ``YYYY-MM``, or an hour's start is naive.
    """
    content = invoice_content(settlement, party, hourly)
    buffer = io.BytesIO()
    width, height = A4
    inner = width - 2 * _MARGIN
    body = _frame(_MARGIN, inner, height, "body")
    gap = 6 * mm
    column = (inner - 2 * gap) / 3
    columns = [_frame(_MARGIN + i * (column + gap), column, height, f"c{i}") for i in range(3)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(
            _MARGIN,
            _FOOTER_Y,
            f"{content.company_name} · {content.title} · målepunkt {content.metering_point_id}",
        )
        canvas.drawRightString(width - _MARGIN, _FOOTER_Y, f"Side {doc.page}")
        canvas.restoreState()

    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        pageTemplates=[
            PageTemplate(id="main", frames=[body], onPage=footer),
            PageTemplate(id="hours", frames=columns, onPage=footer),
        ],
        title=f"{content.title} {DASH} {content.metering_point_id}",
        author=content.company_name,
        subject=f"Nettleie for målepunkt {content.metering_point_id}, {content.period}",
        creator="OpenAMS",
        lang="nb",
        invariant=1,
        pageCompression=1,
    )
    doc.build(_story(content, inner, column))
    return buffer.getvalue()


def _frame(left: float, width: float, page_height: float, name: str) -> Frame:
    """A frame without padding: what is in it lines up with the page margin."""
    return Frame(
        left,
        _MARGIN,
        width,
        page_height - 2 * _MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=name,
    )


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    """A paragraph of plain text: escaped, since paragraphs read markup."""
    return Paragraph(escape(text), style)


def _story(content: InvoiceContent, inner: float, column: float) -> list[Any]:
    company = f"<b>{escape(content.company_name)}</b>"
    if content.company_org_number:
        company += f"<br/>Org.nr. {escape(content.company_org_number)}"
    address = "<br/>".join(
        escape(text)
        for text in (content.customer_name, content.street_address, content.postal_line)
    )
    header = Table(
        [[Paragraph(company, _BODY), Paragraph(address, _BODY)]],
        colWidths=[inner * 0.55, inner * 0.45],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), _NO_PADDING_LEFT]))

    facts_rows = [
        ["Kundenummer", content.customer_id],
        ["Målepunkt-ID", content.metering_point_id],
        ["Periode", content.period],
    ]
    if content.version > 1:
        facts_rows.append(["Versjon", str(content.version)])
    facts = Table(facts_rows, colWidths=[32 * mm, None], hAlign="LEFT")
    facts.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), _BOLD, 9.5),
                ("FONT", (1, 0), (1, -1), _FONT, 9.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                _NO_PADDING_LEFT,
            ]
        )
    )

    story: list[Any] = [header, Spacer(1, 10 * mm), _p(content.title, _TITLE), facts]
    story.append(Spacer(1, 4 * mm))
    if content.resettlement_note:
        story.append(_note(content.resettlement_note, inner))
    story.append(_lines_table(content, inner))
    if content.estimated_note:
        story.append(Spacer(1, 1 * mm))
        story.append(_p(content.estimated_note, _SMALL))
    story.append(_p("Forbruk og kapasitet", _HEADING))
    story.append(_p(content.energy_text))
    story.append(_p(content.capacity_text))
    if content.missing_text:
        story.append(_note(content.missing_text, inner))
    if content.chart is not None:
        story.append(
            KeepTogether(
                [
                    Spacer(1, 2 * mm),
                    _drawing(content.chart),
                    _p(
                        "Søylene viser forbruket per dag (venstre akse, kWh); linjen viser "
                        "dagens gjennomsnittlige spotpris (høyre akse, kr/kWh). Spotprisen er "
                        "til informasjon; den er ikke en del av nettleien.",
                        _SMALL,
                    ),
                ]
            )
        )
    if content.hours:
        story += [
            NextPageTemplate("hours"),
            PageBreak(),
            _p("Vedlegg: forbruk og spotpris time for time", _HEADING),
            _hours_table(content, column),
        ]
    return story


def _note(text: str, inner: float) -> Table:
    """A paragraph with a red bar on its left, as the HTML page marks notes."""
    table = Table([[_p(text)]], colWidths=[inner], spaceBefore=2, spaceAfter=6)
    table.setStyle(
        TableStyle(
            [
                ("LINEBEFORE", (0, 0), (0, 0), 2.5, _RED),
                ("LEFTPADDING", (0, 0), (0, 0), 8),
                ("BOTTOMPADDING", (0, 0), (0, 0), 0),
            ]
        )
    )
    return table


def _lines_table(content: InvoiceContent, inner: float) -> Table:
    rows: list[list[Any]] = [["Beskrivelse", "Mengde", "Pris", "Beløp"]]
    for row in content.rows:
        text = escape(row.text) + ("<b>*</b>" if row.estimated else "")
        rows.append(
            [
                Paragraph(text, _CELL),
                Paragraph(escape(row.quantity), _CELL_RIGHT),
                Paragraph(escape(row.unit_price), _CELL_RIGHT),
                Paragraph(escape(row.amount), _CELL_RIGHT),
            ]
        )
    rows.append([content.total_label, "", "", content.total])
    last = len(rows) - 1
    table = Table(
        rows,
        colWidths=[inner * 0.43, inner * 0.2, inner * 0.19, inner * 0.18],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), _BOLD, 9.5),
                ("ALIGN", (1, 0), (-1, 0), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.4, _GREY),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("SPAN", (0, last), (2, last)),
                ("FONT", (0, last), (-1, last), _BOLD, 11.5),
                ("ALIGN", (3, last), (3, last), "RIGHT"),
                ("LINEABOVE", (0, last), (-1, last), 1.2, colors.black),
                ("TOPPADDING", (0, last), (-1, last), 5),
                _NO_PADDING_LEFT,
            ]
        )
    )
    return table


def _hours_table(content: InvoiceContent, column: float) -> Table:
    rows = [["Time", "kWh", "kr/kWh"]]
    rows += [[hour.label, hour.kwh, hour.spot or DASH] for hour in content.hours]
    table = Table(rows, colWidths=[column * 0.5, column * 0.25, column * 0.25], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT, 7),
                ("FONT", (0, 0), (-1, 0), _BOLD, 7),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _drawing(chart: Chart) -> Drawing:
    """The chart as reportlab vector graphics (the same layout as the SVG)."""
    drawing = Drawing(chart.width, chart.height)
    for y, label in chart.kwh_ticks:
        drawing.add(
            Line(chart.plot_left, y, chart.plot_right, y, strokeColor=_GREY, strokeWidth=0.5)
        )
        drawing.add(_text(chart.plot_left - 3, y - 3, label, "end"))
    for bar in chart.bars:
        drawing.add(
            Rect(bar.x, chart.plot_bottom, bar.width, bar.height, fillColor=_BLUE, strokeColor=None)
        )
    for run in chart.price_lines:
        if len(run) == 1:
            drawing.add(Circle(run[0][0], run[0][1], 1.8, fillColor=_RED, strokeColor=None))
            continue
        points = [coordinate for point in run for coordinate in point]
        drawing.add(PolyLine(points, strokeColor=_RED, strokeWidth=1.5))
    for y, label in chart.price_ticks:
        drawing.add(_text(chart.plot_right + 3, y - 3, label, "start", _RED))
    drawing.add(
        Line(
            chart.plot_left,
            chart.plot_bottom,
            chart.plot_right,
            chart.plot_bottom,
            strokeColor=colors.black,
            strokeWidth=0.8,
        )
    )
    for x, label in chart.day_ticks:
        drawing.add(_text(x, chart.plot_bottom - 11, label, "middle"))
    top = chart.height - 11
    drawing.add(
        Rect(chart.plot_left, top, 8, 8, fillColor=_BLUE, strokeColor=None),
    )
    drawing.add(_text(chart.plot_left + 12, top + 1, "Forbruk (kWh per dag)", "start"))
    if chart.price_ticks:
        left = chart.plot_left + 140
        drawing.add(Line(left, top + 4, left + 10, top + 4, strokeColor=_RED, strokeWidth=1.5))
        drawing.add(_text(left + 14, top + 1, "Spotpris, snitt per dag (kr/kWh)", "start", _RED))
    return drawing


def _text(x: float, y: float, text: str, anchor: str, color: Any = colors.black) -> String:
    return String(x, y, text, fontName=_FONT, fontSize=8, fillColor=color, textAnchor=anchor)

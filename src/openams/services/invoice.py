"""Invoices (*fakturaer*) for grid rent: one HTML page and one PDF per settlement.

:func:`render_invoice_html` gives a standalone HTML5 page in Norwegian (bokmål): CSS in the
page, the chart as inline SVG, no scripts and nothing fetched from elsewhere, so that the page
can be mailed, archived or printed as it is. :func:`render_invoice_pdf` gives a PDF with the
same content (:mod:`openams.services.invoice_pdf`). :func:`write_invoices` writes both for a
batch of settlements; ``ams invoice`` calls it.

What the invoice says is decided once, in :mod:`openams.services.invoice_content`; this module
only puts it into the template ``openams/templates/invoice.html.j2``.

Invariants:
    * The template is rendered with autoescaping on: every text (customer names included) is
      escaped, and no value reaches the page as markup.
    * The same settlement and party give the same bytes, in both formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2

from openams.domain.settlement_types import Settlement

from .invoice_content import (
    Chart,
    InvoiceParty,
    format_kwh,
    format_nok,
    invoice_content,
)
from .invoice_pdf import render_invoice_pdf

__all__ = [
    "InvoiceParty",
    "format_kwh",
    "format_nok",
    "invoice_file_stem",
    "render_invoice_html",
    "render_invoice_pdf",
    "write_invoices",
]

_SAFE_STEM = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*")


@dataclass(frozen=True, slots=True)
class _SvgBar:
    x: str
    y: str
    width: str
    height: str
    label: str


@dataclass(frozen=True, slots=True)
class _SvgChart:
    """The chart in SVG coordinates (y grows downwards), numbers as attribute text."""

    width: str
    height: str
    left: str
    right: str
    top: str
    bottom: str
    bars: tuple[_SvgBar, ...]
    lines: tuple[str, ...]  # polyline points
    dots: tuple[tuple[str, str], ...]  # a day with a price between two without
    kwh_ticks: tuple[tuple[str, str], ...]
    price_ticks: tuple[tuple[str, str], ...]
    day_ticks: tuple[tuple[str, str], ...]


def render_invoice_html(
    settlement: Settlement,
    party: InvoiceParty,
    *,
    hourly: Sequence[tuple[datetime, Decimal, Decimal | None]] | None = None,
) -> str:
    """The invoice as a standalone HTML5 page.

    Args:
        settlement: The settlement to bill.
        party: Grid company and customer; ``party.customer_id`` must be the settlement's.
        hourly: ``(start of the hour, kWh, spot price in NOK/kWh or None)`` per hour; when
            given, the page ends with an appendix listing them. Starts must be aware.

    Returns:
        The page, UTF-8 text.

    Raises:
        ValueError: The party is not the settlement's customer, the month is not
            ``YYYY-MM``, or an hour's start is naive.
    """
    content = invoice_content(settlement, party, hourly)
    chart = _svg_chart(content.chart) if content.chart is not None else None
    return _environment().get_template("invoice.html.j2").render(c=content, chart=chart)


def invoice_file_stem(settlement: Settlement) -> str:
    """The name of the settlement's invoice files, without the suffix.

    ``<metering point>_<month>``, with ``_v<version>`` added from version 2 on:
    ``707057500000000017_2026-01`` and ``707057500000000017_2026-01_v2``. A supply that
    starts after the first of the month (a move in) is named by its first day instead, so
    that the two customers of a month get two files: ``707057500000000017_2026-01-16``.

    Raises:
        ValueError: The metering point or the month would not make a plain file name.
    """
    start = settlement.month if settlement.first_day.day == 1 else settlement.first_day.isoformat()
    stem = f"{settlement.metering_point_id}_{start}"
    if settlement.version > 1:
        stem += f"_v{settlement.version}"
    if not _SAFE_STEM.fullmatch(stem):
        raise ValueError(f"{stem!r} is not a usable file name")
    return stem


def write_invoices(items: Iterable[tuple[Settlement, InvoiceParty]], out_dir: Path) -> list[Path]:
    """Write an HTML page and a PDF per settlement into ``out_dir`` (created if needed).

    The files are named by :func:`invoice_file_stem` with ``.html`` and ``.pdf``; files of
    the same name are replaced. All invoices are rendered before the first file is written,
    so that a bad item leaves nothing half done.

    Args:
        items: ``(settlement, party)`` pairs.
        out_dir: The directory to write into.

    Returns:
        The files written: per item the HTML page, then the PDF.

    Raises:
        ValueError: Two items would write the same files, or an item is not valid for
            :func:`render_invoice_html`.
    """
    rendered: list[tuple[str, str, bytes]] = []
    stems: set[str] = set()
    for settlement, party in items:
        stem = invoice_file_stem(settlement)
        if stem in stems:
            raise ValueError(f"two invoices would be written as {stem}")
        stems.add(stem)
        rendered.append(
            (stem, render_invoice_html(settlement, party), render_invoice_pdf(settlement, party))
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, html, pdf in rendered:
        html_path = out_dir / f"{stem}.html"
        html_path.write_text(html, encoding="utf-8")
        pdf_path = out_dir / f"{stem}.pdf"
        pdf_path.write_bytes(pdf)
        written += [html_path, pdf_path]
    return written


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("openams", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _n(value: float) -> str:
    """A coordinate: one decimal is plenty, and keeps the output stable."""
    return f"{value:.1f}"


def _svg_chart(chart: Chart) -> _SvgChart:
    def y(up: float) -> str:
        return _n(chart.height - up)

    lines = tuple(
        " ".join(f"{_n(x)},{y(py)}" for x, py in run) for run in chart.price_lines if len(run) > 1
    )
    dots = tuple((_n(run[0][0]), y(run[0][1])) for run in chart.price_lines if len(run) == 1)
    return _SvgChart(
        width=_n(chart.width),
        height=_n(chart.height),
        left=_n(chart.plot_left),
        right=_n(chart.plot_right),
        top=y(chart.plot_top),
        bottom=y(chart.plot_bottom),
        bars=tuple(
            _SvgBar(
                x=_n(bar.x),
                y=y(chart.plot_bottom + bar.height),
                width=_n(bar.width),
                height=_n(bar.height),
                label=bar.label,
            )
            for bar in chart.bars
        ),
        lines=lines,
        dots=dots,
        kwh_ticks=tuple((y(at), label) for at, label in chart.kwh_ticks),
        price_ticks=tuple((y(at), label) for at, label in chart.price_ticks),
        day_ticks=tuple((_n(at), label) for at, label in chart.day_ticks),
    )

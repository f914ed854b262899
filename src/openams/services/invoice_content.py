"""What an invoice (*faktura*) for grid rent says, before it becomes HTML or PDF.

:func:`invoice_content` turns a :class:`~openams.domain.settlement_types.Settlement` and the
parties' names and address into finished Norwegian (bokmål) text: the heading, the lines with
quantities and prices, the total, the explanation of the capacity part, the notes. The chart of
daily consumption and spot price is laid out here too (:class:`Chart`), so that the HTML page
(:mod:`openams.services.invoice`) and the PDF (:mod:`openams.services.invoice_pdf`) show the
same thing and differ only in how they draw it.

Invariants:
    * Amounts are printed as the settlement has them, already rounded to øre; nothing here
      adds, rounds or recomputes money. The total printed is ``Settlement.total_nok``.
    * Numbers are written the Norwegian way: decimal comma, a no-break space (U+00A0) between
      groups of thousands, ``-`` for negatives. Every character used is in the WinAnsi
      encoding, so the PDF's built-in fonts can draw it.
    * Chart coordinates are in points with the origin at the bottom left (y grows upwards),
      as PDF has them; the SVG flips them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from zoneinfo import ZoneInfo

from openams.domain.settlement_types import DayUse, Line, PeakHour, Settlement

__all__ = [
    "DASH",
    "NBSP",
    "Chart",
    "ChartBar",
    "HourRow",
    "InvoiceContent",
    "InvoiceParty",
    "InvoiceRow",
    "daily_chart",
    "format_kwh",
    "format_nok",
    "invoice_content",
    "month_name",
]

OSLO = ZoneInfo("Europe/Oslo")
#: Between groups of thousands, and between a number and its unit: never broken across lines.
NBSP: Final = "\u00a0"
#: Between the ends of a range: hours, days, capacity steps (U+2013, en dash).
DASH: Final = "\u2013"
#: The month names, bokmål, lower case as Norwegian writes them.
MONTHS: Final = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
_COUNT_WORDS: Final = {2: "to", 3: "tre", 4: "fire", 5: "fem"}

#: Size of the chart, and the plot area inside it. [pt]
CHART_WIDTH: Final = 480.0
CHART_HEIGHT: Final = 190.0
_PLOT_LEFT: Final = 40.0
_PLOT_RIGHT: Final = CHART_WIDTH - 48.0
_PLOT_BOTTOM: Final = 22.0
_PLOT_TOP: Final = CHART_HEIGHT - 26.0


@dataclass(frozen=True, slots=True)
class InvoiceParty:
    """Who sends the invoice and to whom.

    Attributes:
        company_name: The grid company.
        customer_name: The customer as the invoice is addressed.
        street_address: The address line, such as ``"Storgata 1"``.
        postcode: The four-digit postcode (*postnummer*).
        post_town: The town of the postcode (*poststed*), such as ``"OSLO"``.
        customer_id: The customer number; must be the settlement's ``customer_id``.
        company_org_number: The grid company's organisation number, if it is to be printed.
    """

    company_name: str
    customer_name: str
    street_address: str
    postcode: str
    post_town: str
    customer_id: str
    company_org_number: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One line of the invoice as printed."""

    text: str
    quantity: str
    unit_price: str
    amount: str
    estimated: bool


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hour of the appendix: when, how much, at what spot price (empty when unknown)."""

    label: str
    kwh: str
    spot: str


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One day's bar. [pt]"""

    x: float
    width: float
    height: float
    label: str  # the day, its kWh and its spot price, for a tooltip


@dataclass(frozen=True, slots=True)
class Chart:
    """The daily chart: consumption as bars (left axis), average spot price as a line (right).

    Attributes:
        width: Of the whole drawing. [pt]
        height: Of the whole drawing. [pt]
        plot_left: Left edge of the plot area. [pt]
        plot_right: Right edge of the plot area. [pt]
        plot_bottom: Baseline of the bars. [pt]
        plot_top: Top of the plot area. [pt]
        bars: One per day, in order; ``x`` is the left edge, bars stand on ``plot_bottom``.
        price_lines: Runs of consecutive days with a price, as ``(x, y)`` points; a day
            without a price breaks the line. A run of one day is a single point.
        kwh_ticks: ``(y, label)`` on the left axis.
        price_ticks: ``(y, label)`` on the right axis; empty when no day has a price.
        day_ticks: ``(x, label)`` under the bars: the day of the month.
    """

    width: float
    height: float
    plot_left: float
    plot_right: float
    plot_bottom: float
    plot_top: float
    bars: tuple[ChartBar, ...]
    price_lines: tuple[tuple[tuple[float, float], ...], ...]
    kwh_ticks: tuple[tuple[float, str], ...]
    price_ticks: tuple[tuple[float, str], ...]
    day_ticks: tuple[tuple[float, str], ...]


@dataclass(frozen=True, slots=True)
class InvoiceContent:
    """Everything an invoice prints, as finished text.

    Attributes:
        title: ``"Faktura nettleie januar 2026"``.
        period: First and last day, such as ``01.01.2026`` and ``31.01.2026``, joined by an
            en dash.
        version: The settlement's version.
        resettlement_note: Set for a re-settlement, whose amounts are differences.
        rows: The lines, VAT last.
        total_label: ``"Å betale"``, or ``"Til gode"`` when the total is negative.
        total: The total (positive when ``"Til gode"``), such as ``"1 234,56 kr"``.
        estimated_note: The footnote for lines marked ``*``; ``None`` when none is.
        energy_text: The period's consumption, its estimated part and export.
        capacity_text: How the capacity step was found, with the hours.
        missing_text: Set when hours of the period had no value.
        chart: ``None`` when the settlement has no days.
        hours: The hourly appendix; empty when none was given.
    """

    title: str
    company_name: str
    company_org_number: str | None
    customer_name: str
    street_address: str
    postal_line: str
    customer_id: str
    metering_point_id: str
    period: str
    version: int
    resettlement_note: str | None
    rows: tuple[InvoiceRow, ...]
    total_label: str
    total: str
    estimated_note: str | None
    energy_text: str
    capacity_text: str
    missing_text: str | None
    chart: Chart | None
    hours: tuple[HourRow, ...]


def format_nok(value: Decimal) -> str:
    """An amount the Norwegian way, to øre: ``Decimal("-1234.5")`` gives ``"-1 234,50 kr"``.

    The spaces are no-break spaces (U+00A0). Further decimals are rounded half up.
    """
    return f"{_grouped(value, 2)}{NBSP}kr"


def format_kwh(value: Decimal) -> str:
    """Energy the Norwegian way, to Wh: ``Decimal("1234.5")`` gives ``"1 234,500 kWh"``.

    The spaces are no-break spaces (U+00A0). Further decimals are rounded half up.
    """
    return f"{_grouped(value, 3)}{NBSP}kWh"


def _grouped(value: Decimal, places: int) -> str:
    """``value`` to ``places`` decimals with a decimal comma and grouped thousands."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""  # and never "-0,00"
    text = format(abs(rounded), f",.{places}f")
    return sign + text.replace(",", NBSP).replace(".", ",")


def _trimmed(value: Decimal, least: int, most: int) -> str:
    """Between ``least`` and ``most`` decimals: as many as the value needs."""
    rounded = value.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    places = most
    while places > least and rounded == rounded.quantize(Decimal(1).scaleb(1 - places)):
        places -= 1
    return _grouped(rounded, places)


def invoice_content(
    settlement: Settlement,
    party: InvoiceParty,
    hourly: Sequence[tuple[datetime, Decimal, Decimal | None]] | None = None,
) -> InvoiceContent:
    """The invoice's text for one settlement.

    Args:
        settlement: The settlement to bill.
        party: Grid company and customer; ``party.customer_id`` must be the settlement's.
        hourly: ``(start of the hour, kWh, spot price in NOK/kWh or None)`` per hour, for
            the appendix. The starts must be aware datetimes.

    Returns:
        The content, ready to render.

    Raises:
        ValueError: The party is not the settlement's customer, the month is not
            ``YYYY-MM``, or an hour's start is naive.
    """
    if party.customer_id != settlement.customer_id:
        raise ValueError(
            f"the party is customer {party.customer_id!r}, the settlement is for "
            f"{settlement.customer_id!r}"
        )
    rows = tuple(_row(line) for line in settlement.lines)
    estimated = any(row.estimated for row in rows)
    credit = settlement.total_nok < 0
    return InvoiceContent(
        title=f"Faktura nettleie {month_name(settlement.month)}",
        company_name=party.company_name,
        company_org_number=party.company_org_number,
        customer_name=party.customer_name,
        street_address=party.street_address,
        postal_line=f"{party.postcode} {party.post_town}",
        customer_id=party.customer_id,
        metering_point_id=settlement.metering_point_id,
        period=f"{_date(settlement.first_day)}{DASH}{_date(settlement.last_day)}",
        version=settlement.version,
        resettlement_note=(
            f"Dette er en korreksjon av tidligere avregning (versjon {settlement.version}); "
            "beløpene er differansen mot forrige versjon."
            if settlement.kind == "resettlement"
            else None
        ),
        rows=rows,
        total_label="Til gode" if credit else "Å betale",
        total=format_nok(-settlement.total_nok if credit else settlement.total_nok),
        estimated_note=(
            "* Linjen bygger helt eller delvis på stipulert (estimert) forbruk."
            if estimated
            else None
        ),
        energy_text=_energy_text(settlement),
        capacity_text=_capacity_text(settlement),
        missing_text=_missing_text(settlement.missing_hours),
        chart=daily_chart(settlement.days) if settlement.days else None,
        hours=_hour_rows(hourly or ()),
    )


def month_name(month: str) -> str:
    """``"2026-01"`` as ``"januar 2026"``.

    Raises:
        ValueError: ``month`` is not ``YYYY-MM``.
    """
    year, _, number = month.partition("-")
    if not (len(year) == 4 and year.isdigit() and number.isdigit() and len(number) == 2):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    if not 1 <= int(number) <= 12:
        raise ValueError(f"month {month!r} is not YYYY-MM")
    return f"{MONTHS[int(number) - 1]} {year}"


def _date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def _day_text(day: date) -> str:
    """``"12. januar"``."""
    return f"{day.day}. {MONTHS[day.month - 1]}"


def _row(line: Line) -> InvoiceRow:
    return InvoiceRow(
        text=line.text,
        quantity=_quantity(line),
        unit_price=_unit_price(line),
        amount=format_nok(line.amount),
        estimated=line.estimated,
    )


def _quantity(line: Line) -> str:
    if line.unit == "kWh":
        return format_kwh(line.quantity)
    if line.unit == "month":  # a share of the month: 1, or days supplied / days of month
        return f"{_trimmed(line.quantity, 0, 4)}{NBSP}mnd"
    if line.unit == "NOK":  # VAT: its base
        return format_nok(line.quantity)
    if line.unit == "day":  # a monthly price by the day, for a part of a month
        return f"{_trimmed(line.quantity, 0, 4)}{NBSP}{'dag' if line.quantity == 1 else 'dager'}"
    return f"{_trimmed(line.quantity, 0, 4)}{NBSP}{line.unit}"


def _unit_price(line: Line) -> str:
    if line.unit == "kWh":
        return f"{_trimmed(line.unit_price, 4, 5)}{NBSP}kr/kWh"
    if line.unit == "month":
        return f"{_grouped(line.unit_price, 2)}{NBSP}kr/mnd"
    if line.unit == "NOK":  # VAT: the rate
        return f"{_trimmed(line.unit_price * 100, 0, 2)}{NBSP}%"
    if line.unit == "day":
        return f"{_trimmed(line.unit_price, 2, 4)}{NBSP}kr/dag"
    return f"{_trimmed(line.unit_price, 2, 5)}{NBSP}kr/{line.unit}"


def _energy_text(settlement: Settlement) -> str:
    text = f"Forbruk i perioden: {format_kwh(settlement.energy_kwh)}"
    if settlement.estimated_kwh > 0:
        text += f", av dette {format_kwh(settlement.estimated_kwh)} stipulert (estimert)"
    text += "."
    if settlement.export_kwh > 0:
        text += f" Innmating til nettet: {format_kwh(settlement.export_kwh)}."
    return text


def _capacity_text(settlement: Settlement) -> str:
    kw = f"{_grouped(settlement.capacity_kw, 3)}{NBSP}kW"
    step = _step_text(settlement.capacity_step)
    hours = settlement.peak_hours
    if not hours:
        return f"Perioden har ingen timer med forbruk; kapasitetsleddet er trinn {step}."
    listed = _and_list([_peak_text(hour) for hour in hours])
    if len(hours) == 1:
        return (
            f"Kapasitetsleddet beregnes av timen med høyest forbruk: {listed}. "
            f"Det gir {kw} og trinn {step}."
        )
    count = _COUNT_WORDS.get(len(hours), str(len(hours)))
    return (
        f"Kapasitetsleddet beregnes av gjennomsnittet av de {count} timene med høyest "
        f"forbruk, på {count} ulike dager: {listed}. "
        f"Gjennomsnittet {kw} gir trinn {step}."
    )


def _peak_text(hour: PeakHour) -> str:
    """``"12. januar kl. 17-18 (6,123 kWh)"``, the hours joined by an en dash."""
    note = ", stipulert" if hour.estimated else ""
    return (
        f"{_day_text(hour.day)} kl.{NBSP}{hour.hour:02d}{DASH}{hour.hour + 1:02d} "
        f"({format_kwh(hour.kwh)}{note})"
    )


def _step_text(label: str) -> str:
    """A step label (``"5-10"``, ``">100"``) as a bill prints it: ``"5-10 kW"``, en dash."""
    if label.startswith(">"):
        return f"over {label[1:]}{NBSP}kW"
    return f"{label.replace('-', DASH)}{NBSP}kW"


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} og {items[-1]}"


def _missing_text(missing_hours: int) -> str | None:
    if missing_hours <= 0:
        return None
    if missing_hours == 1:
        return "Én time i perioden mangler måleverdi; den er ikke fakturert."
    return f"{missing_hours} timer i perioden mangler måleverdi; de er ikke fakturert."


def _hour_rows(hourly: Sequence[tuple[datetime, Decimal, Decimal | None]]) -> tuple[HourRow, ...]:
    """The appendix rows, in time order, labelled in local (Norwegian) time.

    On the day summer time ends the hour from 02 comes twice; both are then labelled with
    ``sommertid``/``vintertid`` so that they can be told apart.
    """
    for start, _, _ in hourly:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"the hour starting {start.isoformat()} has no time zone")
    local = []
    for start, kwh, spot in sorted(hourly, key=lambda item: item[0]):
        at = start.astimezone(OSLO)
        local.append((at, f"{at:%d.%m.} kl.{NBSP}{at.hour:02d}{DASH}{at.hour + 1:02d}", kwh, spot))
    seen = Counter(label for _, label, _, _ in local)
    rows = []
    for at, label, kwh, spot in local:
        if seen[label] > 1:
            label += " sommertid" if at.dst() else " vintertid"
        rows.append(
            HourRow(
                label=label,
                kwh=_grouped(kwh, 3),
                spot="" if spot is None else _grouped(spot, 4),
            )
        )
    return tuple(rows)


def daily_chart(days: Sequence[DayUse]) -> Chart:
    """Lay out the bars and the price line for ``days`` (at least one)."""
    if not days:
        raise ValueError("a chart needs at least one day")
    plot_width = _PLOT_RIGHT - _PLOT_LEFT
    plot_height = _PLOT_TOP - _PLOT_BOTTOM
    slot = plot_width / len(days)
    kwh_top = _nice_ceiling(max(day.kwh for day in days))

    bars = []
    for index, day in enumerate(days):
        share = max(day.kwh, Decimal(0)) / kwh_top
        spot = (
            "spotpris mangler"
            if day.spot_nok_per_kwh is None
            else f"spotpris {_grouped(day.spot_nok_per_kwh, 4)}{NBSP}kr/kWh"
        )
        bars.append(
            ChartBar(
                x=_PLOT_LEFT + (index + 0.15) * slot,
                width=0.7 * slot,
                height=float(share) * plot_height,
                label=f"{_day_text(day.day)}: {format_kwh(day.kwh)}, {spot}",
            )
        )
    kwh_ticks = tuple(
        (_PLOT_BOTTOM + float(part) * plot_height, _plain(kwh_top * part))
        for part in (Decimal(0), Decimal("0.5"), Decimal(1))
    )

    prices = [day.spot_nok_per_kwh for day in days if day.spot_nok_per_kwh is not None]
    price_lines: list[tuple[tuple[float, float], ...]] = []
    price_ticks: tuple[tuple[float, str], ...] = ()
    if prices:
        low = -_nice_ceiling(-min(prices)) if min(prices) < 0 else Decimal(0)
        high = _nice_ceiling(max(prices)) if max(prices) > 0 else Decimal(0)
        if high == low:
            high = low + 1
        span = high - low

        def y_of(price: Decimal) -> float:
            return _PLOT_BOTTOM + float((price - low) / span) * plot_height

        run: list[tuple[float, float]] = []
        for index, day in enumerate(days):
            if day.spot_nok_per_kwh is None:
                if run:
                    price_lines.append(tuple(run))
                run = []
                continue
            run.append((_PLOT_LEFT + (index + 0.5) * slot, y_of(day.spot_nok_per_kwh)))
        if run:
            price_lines.append(tuple(run))
        marks = [low, Decimal(0), high] if low < 0 < high else [low, (low + high) / 2, high]
        price_ticks = tuple((y_of(mark), _plain(mark)) for mark in marks)

    ticked = [index for index, day in enumerate(days) if index == 0 or day.day.day % 5 == 0]
    if len(days) - 1 - ticked[-1] >= 3:  # the last day too, unless it would crowd a label
        ticked.append(len(days) - 1)
    day_ticks = tuple(
        (_PLOT_LEFT + (index + 0.5) * slot, str(days[index].day.day)) for index in ticked
    )
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=_PLOT_LEFT,
        plot_right=_PLOT_RIGHT,
        plot_bottom=_PLOT_BOTTOM,
        plot_top=_PLOT_TOP,
        bars=tuple(bars),
        price_lines=tuple(price_lines),
        kwh_ticks=kwh_ticks,
        price_ticks=price_ticks,
        day_ticks=day_ticks,
    )


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return Decimal(1)
    scale = Decimal(1).scaleb(value.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5):
        if factor * scale >= value:
            return factor * scale
    return 10 * scale


def _plain(value: Decimal) -> str:
    """An axis label: no more decimals than it needs, decimal comma."""
    return _trimmed(value, 0, 3)

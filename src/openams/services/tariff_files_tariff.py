"""Reading a grid tariff from a parsed TOML document.

The format::

    company = "Eksempel Nett AS"
    code = "H"
    name = "Nettleie husholdning"
    source = "https://example.no/nettleie (read 2026-01-02)"     # optional

    [[period]]                          # one per price period, in date order
    valid_from = 2026-01-01             # a TOML date
    valid_to = 2026-07-01               # optional: the first day the prices no longer apply
    fixed_monthly_nok = "0"             # optional, default 0
    export_nok_per_kwh = "0"            # optional, default 0; negative pays the customer
    steps = [                           # the capacity steps, [from_kw, to_kw)
      {from_kw = 0, to_kw = 2, monthly_nok = "100.00"},
      {from_kw = 2, monthly_nok = "180.00"},     # the last leaves out to_kw
    ]
    # or, with the default bounds 0, 2, 5, 10, 15, 20, 25, 50, 75, 100 kW, ten prices:
    # step_prices_nok = ["100", "180", "300", "420", "540", "660", "1200", "1800", "2400", "3600"]

    [[period.energy]]                   # the energy rates; for an hour the first that matches
    code = "day"
    text = "Energiledd dag 06-22"
    nok_per_kwh = "0.2790"
    days = ["workday"]                  # optional: workday, weekend, holiday; default all
    hours = [6, 22]                     # optional: [from_hour, to_hour), may run past midnight
    months = [1, 2, 3]                  # optional: default all twelve
    [[period.energy]]
    code = "night"
    text = "Energiledd natt og helg"
    nok_per_kwh = "0.1790"              # the last rate applies to every hour of every day

Prices exclude VAT and the state's taxes. Money and kW are strings or integers, never TOML
floats. Rules beyond the types, each reported with its line:

* steps are half-open, ``[from_kw, to_kw)``: the first starts at 0 kW, each starts where the
  one before it ends, only the last leaves out ``to_kw``; prices are not negative;
* hours are ``[from_hour, to_hour)`` with ``from_hour`` 0 to 23 and ``to_hour`` 1 to 24,
  ``[22, 6]`` running past midnight; days are among ``workday``, ``weekend``, ``holiday``
  (:func:`openams.domain.tariff.day_kind`); months 1 to 12;
* a code is used once in a period, and the last rate matches every hour of every day;
* periods are in date order, ``valid_to`` after ``valid_from``, and a period followed by
  another ends on or before the day the next begins (gaps are allowed).

Invariants:
    * Pure: a parsed document in, a tariff out; every problem goes to the :class:`Reader`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from openams.domain.tariff import (
    DAY_KINDS,
    DEFAULT_STEP_BOUNDS_KW,
    CapacityStep,
    EnergyRate,
    Tariff,
    TariffPeriod,
    default_steps,
    step_label,
)

from .tariff_files_toml import KeyPath, Reader, show

__all__ = ["parse_tariff"]

_TOP_KEYS: Final = ("company", "code", "name", "source", "period")
_PERIOD_KEYS: Final = (
    "valid_from",
    "valid_to",
    "fixed_monthly_nok",
    "export_nok_per_kwh",
    "steps",
    "step_prices_nok",
    "energy",
)
_STEP_KEYS: Final = ("from_kw", "to_kw", "monthly_nok")
_RATE_KEYS: Final = ("code", "text", "nok_per_kwh", "days", "hours", "months")
_ALL_MONTHS: Final = frozenset(range(1, 13))
_ZERO: Final = Decimal(0)


# --- capacity steps -------------------------------------------------------------------------


_Bounds = tuple[Decimal, Decimal | None]


def _step(
    reader: Reader, item: object, path: KeyPath
) -> tuple[CapacityStep | None, _Bounds | None]:
    """The step, and its bounds when they can be read (for the checks across steps)."""
    if not isinstance(item, dict):
        reader.problem(
            "period.steps: each step is a table such as {from_kw = 0, to_kw = 2, monthly_nok = "
            f'"100.00"}}, got {show(item)}',
            path,
        )
        return None, None
    before = len(reader.problems)
    reader.keys(item, path, _STEP_KEYS, ("from_kw", "monthly_nok"))
    keys_ok = len(reader.problems) == before  # else the bounds may be misspelt, not missing
    low = high = price = None
    if "from_kw" in item:
        low = reader.decimal(item["from_kw"], (*path, "from_kw"), low=_ZERO)
    if "to_kw" in item:
        high = reader.decimal(item["to_kw"], (*path, "to_kw"), low=_ZERO)
    if "monthly_nok" in item:
        price = reader.decimal(item["monthly_nok"], (*path, "monthly_nok"), low=_ZERO)
    bounds: _Bounds | None = None
    if keys_ok and low is not None and (high is not None or "to_kw" not in item):
        bounds = (low, high)
        if high is not None and high <= low:
            reader.problem(
                f"period.steps.to_kw must be greater than from_kw ({low}), got {high}",
                (*path, "to_kw"),
            )
            bounds = None
    if len(reader.problems) > before or low is None or price is None:
        return None, bounds
    return CapacityStep(low, high, price), bounds


def _check_bounds(reader: Reader, bounds: list[_Bounds], path: KeyPath) -> None:
    """The steps start at 0 kW and follow each other; only the last is open-ended."""
    if bounds[0][0] != 0:
        reader.problem(
            f"period.steps: the first capacity step must start at 0 kW, not {bounds[0][0]}",
            (*path, 0),
        )
    for index in range(1, len(bounds)):
        before, after = bounds[index - 1], bounds[index]
        if before[1] is None:
            reader.problem(
                "period.steps: only the last capacity step may leave out to_kw "
                f"(step {step_label(*before)} does)",
                (*path, index - 1),
            )
        elif before[1] != after[0]:
            reader.problem(
                f"period.steps: capacity step {step_label(*after)} must start where "
                f"{step_label(*before)} ends",
                (*path, index),
            )
    if bounds[-1][1] is not None:
        reader.problem(
            f"period.steps: the last capacity step ({step_label(*bounds[-1])}) must have no "
            "upper bound: leave out its to_kw",
            (*path, len(bounds) - 1),
        )


def _steps(reader: Reader, value: object, path: KeyPath) -> tuple[CapacityStep, ...] | None:
    items = reader.array(value, path)
    if items is None:
        return None
    read = [_step(reader, item, (*path, index)) for index, item in enumerate(items)]
    bounds = [found for _, found in read if found is not None]
    if len(bounds) == len(read):
        _check_bounds(reader, bounds, path)
    steps = [step for step, _ in read if step is not None]
    return tuple(steps) if len(steps) == len(read) else None


def _step_prices(reader: Reader, value: object, path: KeyPath) -> tuple[CapacityStep, ...] | None:
    items = reader.array(value, path)
    if items is None:
        return None
    wanted = len(DEFAULT_STEP_BOUNDS_KW)
    if len(items) != wanted:
        reader.problem(
            f"period.step_prices_nok must hold {wanted} prices, one for each default step "
            f"(from {', '.join(map(str, DEFAULT_STEP_BOUNDS_KW))} kW), got {len(items)}",
            path,
        )
        return None
    prices = [reader.decimal(item, (*path, i), low=_ZERO) for i, item in enumerate(items)]
    good = [price for price in prices if price is not None]
    return default_steps(good) if len(good) == wanted else None


# --- energy rates ---------------------------------------------------------------------------


def _hours(reader: Reader, value: object, path: KeyPath) -> tuple[int, int] | None:
    shape = "[from_hour, to_hour], such as [6, 22] or [22, 6]"
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        reader.problem(f"period.energy.hours must be {shape}, got {show(value)}", path)
        return None
    first, last = int(value[0]), int(value[1])
    if not 0 <= first <= 23:
        reader.problem(f"period.energy.hours: from_hour must be 0 to 23, got {first}", path)
        return None
    if not 1 <= last <= 24:
        reader.problem(
            f"period.energy.hours: to_hour must be 1 to 24 (24 is the end of the day), got {last}",
            path,
        )
        return None
    if first == last:
        reader.problem(
            f"period.energy.hours [{first}, {last}] matches no hour; [0, 24] is the whole day",
            path,
        )
        return None
    return first, last


def _months(reader: Reader, value: object, path: KeyPath) -> frozenset[int] | None:
    items = reader.array(value, path)
    if items is None:
        return None
    months = [reader.integer(item, (*path, i), 1, 12) for i, item in enumerate(items)]
    good = [month for month in months if month is not None]
    if len(good) < len(months):
        return None
    if len(set(good)) < len(good):
        reader.problem("period.energy.months: a month is given twice", path)
        return None
    return frozenset(good)


def _rate(reader: Reader, raw: dict[str, object], path: KeyPath) -> EnergyRate | None:
    before = len(reader.problems)
    reader.keys(raw, path, _RATE_KEYS, ("code", "text", "nok_per_kwh"))
    code = reader.text(raw["code"], (*path, "code")) if "code" in raw else None
    text = reader.text(raw["text"], (*path, "text")) if "text" in raw else None
    price = None
    if "nok_per_kwh" in raw:
        price = reader.decimal(raw["nok_per_kwh"], (*path, "nok_per_kwh"), low=_ZERO)
    days: frozenset[str] | None = frozenset(DAY_KINDS)
    if "days" in raw:
        days = reader.choices(raw["days"], (*path, "days"), DAY_KINDS)
    hours = _hours(reader, raw["hours"], (*path, "hours")) if "hours" in raw else (0, 24)
    months = _months(reader, raw["months"], (*path, "months")) if "months" in raw else _ALL_MONTHS
    if (
        len(reader.problems) > before
        or code is None
        or text is None
        or price is None
        or days is None
        or hours is None
        or months is None
    ):
        return None
    return EnergyRate(code, text, price, days, hours[0], hours[1], months)


def _energy(reader: Reader, value: object, path: KeyPath) -> tuple[EnergyRate, ...] | None:
    tables = reader.tables(value, path, "[[period.energy]]")
    if not tables:
        if isinstance(value, list):
            reader.problem("period.energy: a period needs at least one energy rate", path)
        return None
    rates: list[EnergyRate] = []
    first_seen: dict[str, int | None] = {}
    complete = True
    rate: EnergyRate | None = None
    for index, raw in tables:
        rate = _rate(reader, raw, (*path, index))
        code = raw.get("code")
        if isinstance(code, str):
            if code in first_seen:
                seen = first_seen[code]
                reader.problem(
                    f"period.energy.code {code!r} is used twice in this period"
                    + (f" (first at line {seen})" if seen else ""),
                    (*path, index, "code"),
                )
                complete = False
            else:
                first_seen[code] = reader.line((*path, index, "code"))
        if rate is None:
            complete = False
        else:
            rates.append(rate)
    if rate is not None and not rate.matches_all:  # the last one, read
        reader.problem(
            f"period.energy: the last energy rate ({rate.code}) must apply to all hours, "
            "days and months: leave out its days, hours and months",
            (*path, tables[-1][0]),
        )
    return tuple(rates) if complete else None


# --- periods and the tariff -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dates:
    """A period's dates for the checks across periods; ``end_known`` is false when its
    ``valid_to`` is given but unusable."""

    index: int
    valid_from: date
    valid_to: date | None
    end_known: bool


def _period(
    reader: Reader, raw: dict[str, object], path: KeyPath
) -> tuple[_Dates | None, TariffPeriod | None]:
    before = len(reader.problems)
    reader.keys(raw, path, _PERIOD_KEYS, ("valid_from",))
    start = reader.day(raw["valid_from"], (*path, "valid_from")) if "valid_from" in raw else None
    end = reader.day(raw["valid_to"], (*path, "valid_to")) if "valid_to" in raw else None
    end_known = end is not None or "valid_to" not in raw
    if start is not None and end is not None and end <= start:
        reader.problem(
            f"period.valid_to must be after valid_from ({start}), got {end}", (*path, "valid_to")
        )
        end_known = False
    dates = _Dates(int(path[-1]), start, end, end_known) if start is not None else None
    fixed = reader.decimal(raw.get("fixed_monthly_nok", 0), (*path, "fixed_monthly_nok"), low=_ZERO)
    export = reader.decimal(raw.get("export_nok_per_kwh", 0), (*path, "export_nok_per_kwh"))
    steps = None
    if "steps" in raw and "step_prices_nok" in raw:
        reader.problem(
            "period: give steps or step_prices_nok, not both", (*path, "step_prices_nok")
        )
    elif "steps" in raw:
        steps = _steps(reader, raw["steps"], (*path, "steps"))
    elif "step_prices_nok" in raw:
        steps = _step_prices(reader, raw["step_prices_nok"], (*path, "step_prices_nok"))
    else:
        reader.problem(
            "missing key period.steps (or period.step_prices_nok for the default steps)", path
        )
    energy = None
    if "energy" in raw:
        energy = _energy(reader, raw["energy"], (*path, "energy"))
    else:
        reader.problem(
            "missing key period.energy: write the period's energy rates under [[period.energy]]",
            path,
        )
    if (
        len(reader.problems) > before
        or start is None
        or steps is None
        or energy is None
        or fixed is None
        or export is None
    ):
        return dates, None
    try:
        return dates, TariffPeriod(start, end, steps, energy, fixed, export)
    except ValueError as exc:  # pragma: no cover - the checks above come first
        reader.problem(f"period: {exc}", path)
        return dates, None


def _check_order(reader: Reader, dated: list[_Dates]) -> None:
    """Periods follow each other in date order without overlap (gaps are allowed)."""
    for before, after in itertools.pairwise(dated):
        if after.index != before.index + 1:
            continue  # a period between them could not be read
        if after.valid_from <= before.valid_from:
            reader.problem(
                f"period.valid_from: periods must be in date order, but {after.valid_from} is "
                f"not after the previous period's {before.valid_from}",
                ("period", after.index, "valid_from"),
            )
        elif not before.end_known:
            continue
        elif before.valid_to is None:
            reader.problem(
                f"period.valid_to is missing, but the next period starts on "
                f"{after.valid_from}: end this one (valid_to = {after.valid_from})",
                ("period", before.index),
            )
        elif before.valid_to > after.valid_from:
            reader.problem(
                f"period.valid_to {before.valid_to} is after the next period's valid_from "
                f"{after.valid_from}: periods must not overlap",
                ("period", before.index, "valid_to"),
            )


def parse_tariff(reader: Reader, document: dict[str, object]) -> Tariff | None:
    """The tariff of a parsed tariff document, or ``None`` with the problems in ``reader``."""
    reader.keys(document, (), _TOP_KEYS, ("company", "code", "name"))
    names = {
        key: reader.text(document[key], (key,)) if key in document else None
        for key in ("company", "code", "name")
    }
    source = ""
    if "source" in document:
        source = reader.text(document["source"], ("source",), empty=True) or ""
    dated: list[_Dates] = []
    periods: list[TariffPeriod | None] = []
    if "period" in document:
        raw_periods = reader.tables(document["period"], ("period",), "[[period]]")
        for index, raw in raw_periods:
            dates, period = _period(reader, raw, ("period", index))
            if dates is not None:
                dated.append(dates)
            periods.append(period)
        if not raw_periods and isinstance(document["period"], list):
            reader.problem("a tariff needs at least one [[period]]", ("period",))
    else:
        reader.problem("missing key period: write each price period under [[period]]", ())
    _check_order(reader, dated)
    company, code, name = names["company"], names["code"], names["name"]
    if reader.problems or company is None or code is None or name is None:
        return None
    return Tariff(company, code, name, tuple(p for p in periods if p is not None), source)

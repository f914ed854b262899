"""Settlement worked by hand: each bill below is computed in the comments, step by step.

The tariff is made for easy arithmetic: energy 0.30 NOK/kWh on workdays 06-22 and 0.20 at
other times (nights, weekends, public holidays); capacity steps of 100 NOK per step index
(0-2: 100, 2-5: 200, 5-10: 415, ...). The state's rules are those of 2026 as the tariff
file ships them: consumption tax 0.0713 NOK/kWh, Enova fee 0.01 NOK/kWh, VAT 25 %,
support 90 % above 0.77 NOK/kWh up to 5000 kWh, Norgespris 0.40 NOK/kWh (5000 kWh for
households, 1000 for cabins). VAT and consumption tax have the northern exemptions.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openams.domain.resettlement import difference
from openams.domain.settlement import HourValue, SettlementError, Supply, month_bounds, settle
from openams.domain.tariff import EnergyRate, Tariff, TariffPeriod, default_steps
from openams.domain.taxes import Region, Rule, TaxRules

OSLO = ZoneInfo("Europe/Oslo")
STEP_PRICES = ("100", "200", "415", "600", "700", "800", "900", "1000", "1100", "1200")
PERIOD = TariffPeriod(
    date(2026, 1, 1),
    None,
    default_steps([D(p) for p in STEP_PRICES]),
    (
        EnergyRate("day", "Energiledd dag", D("0.30"), frozenset({"workday"}), 6, 22),
        EnergyRate("night", "Energiledd natt/helg", D("0.20")),
    ),
    export_nok_per_kwh=D("-0.05"),
)
TARIFF = Tariff("Prøve Nett AS", "H", "Husholdning", (PERIOD,))
HOUSEHOLDS = frozenset({"detached_house", "apartment", "farm", "prosumer_solar"})
NORTH = Region("Nordland, Troms og Finnmark", ((8000, 9999), (7980, 7982)))
FINNMARK = Region("Finnmark og Nord-Troms", ((9500, 9999),), frozenset({"Nordreisa"}))
TAXES = TaxRules(
    consumption_tax=(Rule(date(2026, 1, 1), None, D("0.0713"), exempt=FINNMARK),),
    enova_fee=(Rule(date(2026, 1, 1), None, D("0.01"), customer_types=HOUSEHOLDS),),
    vat=(
        Rule(date(2026, 1, 1), None, D("0.25"), customer_types=HOUSEHOLDS, exempt=NORTH),
        Rule(date(2026, 1, 1), None, D("0.25"), customer_types=frozenset({"cabin"})),
    ),
    support=(
        Rule(
            date(2026, 1, 1),
            None,
            D("0.77"),
            customer_types=HOUSEHOLDS,
            share=D("0.9"),
            cap_kwh=D(5000),
        ),
    ),
    norgespris=(
        Rule(date(2026, 1, 1), None, D("0.40"), customer_types=HOUSEHOLDS, cap_kwh=D(5000)),
        Rule(
            date(2026, 1, 1), None, D("0.40"), customer_types=frozenset({"cabin"}), cap_kwh=D(1000)
        ),
    ),
)
MP = "707057500000000017"


def _hour_s(day: date, hour: int) -> int:
    """The UTC start of a local clock hour (not for the skipped or repeated DST hour)."""
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=OSLO).timestamp())


def _month_hours(month: str) -> list[int]:
    first, last = month_bounds(month)
    start = _hour_s(first, 0)
    end = _hour_s(last + timedelta(days=1), 0)
    return list(range(start, end, 3600))


def _flat(month: str, wh: int = 1000, **overrides: int) -> list[HourValue]:
    return [HourValue(h, wh) for h in _month_hours(month)]


def _with(values: list[HourValue], changes: dict[int, HourValue]) -> list[HourValue]:
    return [changes.get(v.start_at_s, v) for v in values]


def _supply(
    month: str,
    *,
    kind="detached_house",
    postcode="0150",
    municipality="Oslo",
    first=None,
    last=None,
    norgespris=False,
) -> Supply:
    lo, hi = month_bounds(month)
    return Supply(MP, "C-1", kind, postcode, municipality, first or lo, last or hi, norgespris)


def _spot(month: str, nok: str = "1.00") -> dict[int, D]:
    return dict.fromkeys(_month_hours(month), D(nok))


def _lines(result) -> dict[str, D]:
    return {line.code: line.amount for line in result.lines}


def test_january_household_in_oslo_worked_by_hand():
    # Every hour 1 kWh, except five: 5 Jan 17-18 6 kWh, 12 Jan 18-19 7.5 kWh,
    # 20 Jan 08-09 4.5 kWh and 09-10 5 kWh, 21 Jan 10-11 2 kWh.
    values = _with(
        _flat("2026-01"),
        {
            _hour_s(date(2026, 1, 5), 17): HourValue(_hour_s(date(2026, 1, 5), 17), 6000),
            _hour_s(date(2026, 1, 12), 18): HourValue(_hour_s(date(2026, 1, 12), 18), 7500),
            _hour_s(date(2026, 1, 20), 8): HourValue(_hour_s(date(2026, 1, 20), 8), 4500),
            _hour_s(date(2026, 1, 20), 9): HourValue(_hour_s(date(2026, 1, 20), 9), 5000),
            _hour_s(date(2026, 1, 21), 10): HourValue(_hour_s(date(2026, 1, 21), 10), 2000),
        },
    )
    result = settle(_supply("2026-01"), values, _spot("2026-01"), TARIFF, TAXES)

    # Daily maxima: 12 Jan 7.5, 5 Jan 6.0, 20 Jan 5.0 (its 4.5 hour is the same day),
    # 21 Jan 2.0, other days 1.0. Top three: (7.5 + 6.0 + 5.0) / 3 = 6.1666... -> 6.167 kW,
    # step 5-10 at 415 NOK.
    assert result.capacity_kw == D("6.167")
    assert result.capacity_step == "5-10"
    assert [(p.day.day, p.hour, p.kwh) for p in result.peak_hours] == [
        (12, 18, D("7.5")),
        (5, 17, D("6")),
        (20, 9, D("5")),
    ]
    # January 2026 has 744 hours. Workdays: 31 days - 9 weekend days - 1 January (a
    # Thursday, a holiday) = 21; day hours 21 x 16 = 336, other hours 744 - 336 = 408.
    # The extra 5 + 6.5 + 3.5 + 4 + 1 = 20 kWh all fall in workday day hours.
    # Day: 336 + 20 = 356 kWh x 0.30 = 106.80; night: 408 kWh x 0.20 = 81.60.
    # Consumption tax: 764 kWh x 0.0713 = 54.4732 -> 54.47; Enova: 764 x 0.01 = 7.64.
    # Support: spot 1.00 each hour, 0.9 x (1.00 - 0.77) = 0.207 NOK/kWh x 764 kWh
    # = 158.148 -> -158.15 (a credit).
    # Before VAT: 415 + 106.80 + 81.60 + 54.47 + 7.64 - 158.15 = 507.36;
    # VAT 25 %: 126.84; total 634.20.
    assert _lines(result) == {
        "capacity": D("415"),
        "energy_day": D("106.80"),
        "energy_night": D("81.60"),
        "consumption_tax": D("54.47"),
        "enova_fee": D("7.64"),
        "support": D("-158.15"),
        "vat": D("126.84"),
    }
    assert result.energy_kwh == D("764")
    assert result.total_nok == D("634.20")
    assert result.missing_hours == 0
    day_line = next(line for line in result.lines if line.code == "energy_day")
    assert (day_line.quantity, day_line.unit, day_line.unit_price) == (D("356"), "kWh", D("0.30"))


def test_march_with_the_23_hour_day_and_no_holiday():
    # Summer time starts on Sunday 29 March 2026: March has 31 x 24 - 1 = 743 hours.
    values = _flat("2026-03")
    assert len(values) == 743
    result = settle(_supply("2026-03"), values, _spot("2026-03", "0.50"), TARIFF, TAXES)
    # Workdays: 31 - 9 weekend days (1, 7, 8, 14, 15, 21, 22, 28, 29) = 22, no holiday
    # (Easter is in April): day 22 x 16 = 352 kWh x 0.30 = 105.60; night 743 - 352 = 391
    # kWh x 0.20 = 78.20. Every daily maximum is 1 kWh: figure 1.000, step 0-2, 100 NOK.
    # Tax 743 x 0.0713 = 52.9759 -> 52.98; Enova 7.43. Spot 0.50 is below 0.77: no support.
    # Before VAT: 100 + 105.60 + 78.20 + 52.98 + 7.43 = 344.21; VAT 86.0525 -> 86.05.
    assert result.capacity_step == "0-2"
    assert _lines(result) == {
        "capacity": D("100"),
        "energy_day": D("105.60"),
        "energy_night": D("78.20"),
        "consumption_tax": D("52.98"),
        "enova_fee": D("7.43"),
        "vat": D("86.05"),
    }
    assert result.total_nok == D("430.26")


def test_october_with_the_25_hour_day_counts_the_repeated_hour():
    values = _flat("2026-10")
    assert len(values) == 745  # 31 x 24 + 1: winter time returns on 25 October
    result = settle(_supply("2026-10"), values, _spot("2026-10", "0.10"), TARIFF, TAXES)
    assert result.energy_kwh == D("745")
    assert result.missing_hours == 0
    assert next(d for d in result.days if d.day == date(2026, 10, 25)).kwh == D("25")


def test_easter_holidays_are_billed_at_the_night_and_weekend_rate():
    # April 2026: Easter Sunday is 5 April, so Maundy Thursday 2 April, Good Friday 3 April
    # and Easter Monday 6 April are holidays on weekdays. Weekend days: 4, 5, 11, 12, 18,
    # 19, 25, 26 (8). Workdays: 30 - 8 - 3 = 19; day 19 x 16 = 304 kWh x 0.30 = 91.20;
    # other 720 - 304 = 416 kWh x 0.20 = 83.20.
    result = settle(_supply("2026-04"), _flat("2026-04"), _spot("2026-04", "0.5"), TARIFF, TAXES)
    assert _lines(result)["energy_day"] == D("91.20")
    assert _lines(result)["energy_night"] == D("83.20")


def test_prosumer_in_bodo_exports_and_pays_no_vat():
    # Bodø (8006) is in Nordland: a household pays no VAT but does pay consumption tax.
    # June 2026, 720 hours: 1 kWh drawn each hour, except 10:00-16:00 local each day when
    # the panels export 2 kWh and nothing is drawn (6 hours x 30 days = 180 hours).
    values = []
    for h in _month_hours("2026-06"):
        local = datetime.fromtimestamp(h, OSLO)
        sunny = 10 <= local.hour < 16
        values.append(HourValue(h, 0 if sunny else 1000, 2000 if sunny else 0))
    supply = _supply("2026-06", kind="prosumer_solar", postcode="8006", municipality="Bodø")
    result = settle(supply, values, _spot("2026-06", "0.30"), TARIFF, TAXES)
    # Drawn: 720 - 180 = 540 kWh. Day hours (workdays 06-22, sunny hours excluded): June
    # 2026 has 22 workdays (8 weekend days; no holiday in June), 22 x (16 - 6) = 220 kWh
    # x 0.30 = 66.00; night: 540 - 220 = 320 kWh x 0.20 = 64.00.
    # Export: 180 x 2 = 360 kWh x -0.05 = -18.00. Capacity 1 kW: 100.
    # Tax 540 x 0.0713 = 38.502 -> 38.50; Enova 5.40. No support (spot 0.30), no VAT.
    # Total: 100 + 66 + 64 - 18 + 38.50 + 5.40 = 255.90.
    assert result.export_kwh == D("360")
    assert _lines(result) == {
        "capacity": D("100"),
        "energy_day": D("66.00"),
        "energy_night": D("64.00"),
        "export": D("-18.00"),
        "consumption_tax": D("38.50"),
        "enova_fee": D("5.40"),
    }
    assert result.total_nok == D("255.90")


def test_alta_pays_neither_vat_nor_consumption_tax():
    supply = _supply("2026-02", postcode="9510", municipality="Alta")
    result = settle(supply, _flat("2026-02"), _spot("2026-02", "0.1"), TARIFF, TAXES)
    assert {"vat", "consumption_tax"}.isdisjoint(_lines(result))
    assert "enova_fee" in _lines(result)


def test_a_move_in_mid_month_pays_its_days_and_its_own_peaks():
    # The new customer moves in on 17 January: 15 of 31 days. Before that, the previous
    # tenant drew 9 kWh in one hour on 10 January; that peak is not theirs.
    values = _with(
        _flat("2026-01"),
        {
            _hour_s(date(2026, 1, 10), 18): HourValue(_hour_s(date(2026, 1, 10), 18), 9000),
            _hour_s(date(2026, 1, 20), 18): HourValue(_hour_s(date(2026, 1, 20), 18), 3000),
        },
    )
    supply = _supply("2026-01", first=date(2026, 1, 17))
    result = settle(supply, values, _spot("2026-01", "0.5"), TARIFF, TAXES)
    # Daily maxima from 17 January: 20 Jan 3 kWh, the others 1 kWh: (3 + 1 + 1) / 3
    # = 1.667 kW, step 0-2 at 100 NOK a month: 15 days x 100 / 31 = 48.387... -> 48.39.
    assert result.capacity_kw == D("1.667")
    capacity = next(line for line in result.lines if line.code == "capacity")
    assert (capacity.quantity, capacity.unit, capacity.unit_price, capacity.amount) == (
        D(15),
        "day",
        D("3.2258"),
        D("48.39"),
    )
    # 15 days x 24 h = 360 hours, + 2 kWh extra on 20 January: 362 kWh.
    assert result.energy_kwh == D("362")
    assert result.first_day == date(2026, 1, 17)


def test_estimated_hours_mark_their_lines_and_a_correction_is_resettled():
    hours = _month_hours("2026-01")
    # Two workday-evening hours of 12 January were lost and estimated at 2 kWh each.
    lost = {_hour_s(date(2026, 1, 12), 19), _hour_s(date(2026, 1, 12), 20)}
    values = [HourValue(h, 2000, 0, True) if h in lost else HourValue(h, 1000) for h in hours]
    first = settle(_supply("2026-01"), values, _spot("2026-01", "0.5"), TARIFF, TAXES)
    assert first.estimated_kwh == D("4")
    day = next(line for line in first.lines if line.code == "energy_day")
    night = next(line for line in first.lines if line.code == "energy_night")
    assert day.estimated
    assert not night.estimated
    assert first.peak_hours[0].estimated  # 12 January 19:00 is the highest hour
    # The meter's values arrive later: the two hours were 6 kWh each, measured.
    corrected = [HourValue(h, 6000) if h in lost else v for h, v in zip(hours, values, strict=True)]
    second = settle(_supply("2026-01"), corrected, _spot("2026-01", "0.5"), TARIFF, TAXES)
    change = difference(first, second)
    assert change is not None
    # +8 kWh day energy x 0.30 = 2.40; capacity (6 + 1 + 1) / 3 = 2.667 kW moves from step
    # 0-2 (100) to 2-5 (200): the old capacity line is credited, the new one debited.
    # Tax 8 x 0.0713 = 0.5704: 754 x 0.0713 = 53.7602 -> 53.76 against 746 x 0.0713
    # = 53.1898 -> 53.19: +0.57. Enova 7.46 -> 7.54: +0.08. VAT: the first base was
    # 100 + 101.40 + 81.60 + 53.19 + 7.46 = 343.65 -> 85.9125 -> 85.91, the new one
    # 200 + 103.80 + 81.60 + 53.76 + 7.54 = 446.70 -> 111.675 -> 111.68: +25.77.
    amounts = {(line.code, line.text.split(":")[0]): line.amount for line in change.lines}
    assert amounts[("capacity", "Kreditert")] == D("-100")
    assert amounts[("capacity", "Kapasitetsledd trinn 2-5 kW")] == D("200")
    assert amounts[("energy_day", "Korreksjon")] == D("2.40")
    assert amounts[("consumption_tax", "Korreksjon")] == D("0.57")
    assert amounts[("enova_fee", "Korreksjon")] == D("0.08")
    assert amounts[("vat", "Korreksjon")] == D("25.77")
    assert change.total_nok == D("128.82")  # 100 + 2.40 + 0.57 + 0.08 + 25.77
    assert change.total_nok == second.total_nok - first.total_nok
    assert (change.version, change.kind) == (2, "resettlement")
    assert difference(second, second) is None


def test_support_stops_at_the_monthly_cap_in_time_order():
    # 10 kWh every hour of January: 7440 kWh; support covers the first 5000 kWh, that is
    # hours 0..499, at 0.9 x (2.00 - 0.77) = 1.107 NOK/kWh: 5535.00.
    values = _flat("2026-01", wh=10_000)
    result = settle(_supply("2026-01"), values, _spot("2026-01", "2.00"), TARIFF, TAXES)
    support = next(line for line in result.lines if line.code == "support")
    assert (support.quantity, support.amount) == (D(5000), D("-5535.00"))


def test_norgespris_for_a_cabin_stops_at_1000_kwh():
    # A cabin in Oslo with Norgespris: 2 kWh each hour of January, 1488 kWh; Norgespris
    # covers 1000 kWh at 0.40 against spot 1.00: (0.40 - 1.00) x 1000 = -600.00.
    # Cabins get no electricity support, so Norgespris is the only price line.
    supply = _supply("2026-01", kind="cabin", norgespris=True)
    result = settle(supply, _flat("2026-01", wh=2000), _spot("2026-01"), TARIFF, TAXES)
    lines = {line.code: line for line in result.lines}
    assert (lines["norgespris"].quantity, lines["norgespris"].amount) == (D(1000), D("-600.00"))
    assert "support" not in lines


def test_norgespris_charges_the_difference_when_spot_is_below_it():
    supply = _supply("2026-05", norgespris=True)
    result = settle(supply, _flat("2026-05"), _spot("2026-05", "0.10"), TARIFF, TAXES)
    # 744 kWh x (0.40 - 0.10) = 223.20 charged.
    assert _lines(result)["norgespris"] == D("223.20")


def test_missing_hours_are_counted_and_not_billed():
    # 01:00 local (00:00 UTC) is gone every day: 31 hours; one more hour has a value
    # without anything usable in it.
    sixth = _month_hours("2026-01")[5]
    values = [v for v in _flat("2026-01") if v.start_at_s % (24 * 3600) and v.start_at_s != sixth]
    values.append(HourValue(sixth, None))
    result = settle(_supply("2026-01"), values, _spot("2026-01"), TARIFF, TAXES)
    assert result.missing_hours == 32
    assert result.energy_kwh == D(744 - 32)


def test_a_day_without_tariff_prices_is_an_error_naming_it():
    late = Tariff(
        "Prøve Nett AS",
        "H",
        "Husholdning",
        (TariffPeriod(date(2026, 1, 10), None, PERIOD.steps, PERIOD.energy),),
    )
    with pytest.raises(SettlementError, match="no prices on 2026-01-01"):
        settle(_supply("2026-01"), _flat("2026-01"), {}, late, TAXES)


def test_two_values_for_one_hour_are_an_error():
    values = _flat("2026-01")
    with pytest.raises(SettlementError, match="two values"):
        settle(_supply("2026-01"), [*values, values[3]], {}, TARIFF, TAXES)


def test_month_bounds_reads_only_yyyy_mm():
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    for bad in ("2026-2", "26-02", "2026-13", "january"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_bounds(bad)


# -- properties ---------------------------------------------------------------------------

_FEB = _month_hours("2026-02")
_wh = st.integers(min_value=0, max_value=12_000)


@st.composite
def _month_values(draw):
    base = draw(st.lists(_wh, min_size=len(_FEB), max_size=len(_FEB)))
    estimated = draw(st.sets(st.sampled_from(_FEB), max_size=20))
    export = draw(st.dictionaries(st.sampled_from(_FEB), _wh, max_size=20))
    return [
        HourValue(h, wh, export.get(h, 0), h in estimated) for h, wh in zip(_FEB, base, strict=True)
    ]


_SPOT = {h: D(random.Random(h).randint(-20, 300)) / 100 for h in _FEB}
_kinds = st.sampled_from(["detached_house", "cabin", "small_business"])
_places = st.sampled_from([("0150", "Oslo"), ("9008", "Tromsø"), ("9510", "Alta")])


@settings(max_examples=60, deadline=None)
@given(_month_values(), _kinds, _places, st.booleans())
def test_lines_sum_to_the_total(values, kind, place, norgespris):
    supply = _supply(
        "2026-02", kind=kind, postcode=place[0], municipality=place[1], norgespris=norgespris
    )
    result = settle(supply, values, _SPOT, TARIFF, TAXES)
    assert sum(line.amount for line in result.lines) == result.total_nok
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in result.lines)


@settings(max_examples=60, deadline=None)
@given(_month_values(), st.sampled_from(_FEB), st.integers(min_value=1, max_value=30_000))
def test_more_consumption_never_lowers_the_capacity_step(values, hour, extra_wh):
    before = settle(_supply("2026-02"), values, _SPOT, TARIFF, TAXES)
    more = [
        HourValue(v.start_at_s, (v.import_wh or 0) + extra_wh, v.export_wh, v.estimated)
        if v.start_at_s == hour
        else v
        for v in values
    ]
    after = settle(_supply("2026-02"), more, _SPOT, TARIFF, TAXES)
    bounds = [step.label for step in PERIOD.steps]
    assert after.capacity_kw >= before.capacity_kw
    assert bounds.index(after.capacity_step) >= bounds.index(before.capacity_step)


@settings(max_examples=40, deadline=None)
@given(_month_values(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_values_arrived_in(values, rnd):
    shuffled = list(values)
    rnd.shuffle(shuffled)
    one = settle(_supply("2026-02"), values, _SPOT, TARIFF, TAXES)
    two = settle(_supply("2026-02"), shuffled, _SPOT, TARIFF, TAXES)
    assert one == two

"""The array settlement gives exactly the bill of the plain hour-by-hour one, for any input:
missing and estimated hours, export, daylight-saving months, part-months, prices with many
decimals or none, rules and tariff prices that change mid-month, caps that change mid-month."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from openams.domain.settlement import HourValue, Supply, month_bounds, settle
from openams.domain.tariff import EnergyRate, Tariff, TariffPeriod, default_steps
from openams.domain.taxes import Rule

from .reference_settlement import settle as reference_settle
from .test_settlement import HOUSEHOLDS, PERIOD, TARIFF, TAXES, _month_hours

MID = date(2026, 3, 15)
SPLIT_TARIFF = Tariff(
    "Prøve Nett AS",
    "H",
    "Husholdning",
    (
        dataclasses.replace(PERIOD, valid_to=MID, fixed_monthly_nok=D("50")),
        TariffPeriod(
            MID,
            None,
            default_steps([D(p) for p in ("90", "190", "400", "600", "700", "800", "900",
                                           "1000", "1100", "1200")]),
            (
                EnergyRate("day", "Energiledd dag", D("0.31"), frozenset({"workday"}), 6, 22),
                EnergyRate("winter", "Energiledd vinter", D("0.25"), months=frozenset({3})),
                EnergyRate("night", "Energiledd natt/helg", D("0.21")),
            ),
            fixed_monthly_nok=D("55"),
            export_nok_per_kwh=D("0.0125"),
        ),
    ),
)  # fmt: skip
SPLIT_TAXES = dataclasses.replace(
    TAXES,
    consumption_tax=(
        Rule(date(2026, 1, 1), MID, D("0.0713")),
        Rule(MID, None, D("0.0813")),
    ),
    support=(
        Rule(date(2026, 1, 1), MID, D("0.77"), customer_types=HOUSEHOLDS, share=D("0.9"),
             cap_kwh=D(300)),
        Rule(MID, None, D("0.80"), customer_types=HOUSEHOLDS, share=D("0.8"), cap_kwh=D(500)),
    ),
    norgespris=(
        Rule(date(2026, 1, 1), MID, D("0.40"), cap_kwh=D(200)),
        Rule(MID, None, D("0.45"), cap_kwh=D(400)),
    ),
)  # fmt: skip
PLACES = [("detached_house", "0150", "Oslo"), ("apartment", "9008", "Tromsø"),
          ("cabin", "2317", "Hamar"), ("prosumer_solar", "9510", "Alta"),
          ("small_business", "7011", "Trondheim")]  # fmt: skip


@st.composite
def _cases(draw):
    month = draw(st.sampled_from(["2026-02", "2026-03", "2026-04", "2026-10"]))
    lo, hi = month_bounds(month)
    span = (hi - lo).days
    a = draw(st.integers(0, span))
    b = draw(st.integers(a, span))
    first, last = lo + timedelta(days=a), lo + timedelta(days=b)
    kind, postcode, municipality = draw(st.sampled_from(PLACES))
    supply = Supply("707057500000000017", "C", kind, postcode, municipality, first, last,
                    draw(st.booleans()))  # fmt: skip
    hours = _month_hours(month)
    rng = random.Random(draw(st.integers(0, 2**32)))  # the hours' values, drawn at once
    values = []
    for h in hours:
        pick = rng.randint(0, 19)
        if pick == 0:
            continue  # no value at all
        if pick == 1:
            values.append(HourValue(h, None))
            continue
        wh = rng.randint(0, 2_000) if pick < 15 else rng.randint(0, 40_000)
        export = rng.randint(0, 3_000) if pick in (2, 3) else 0
        values.append(HourValue(h, wh, export, pick in (4, 5, 6)))
    digits = draw(st.integers(0, 10))
    spot = {
        h: D(rng.randint(-5 * 10 ** (digits + 2), 6 * 10 ** (digits + 3))).scaleb(-3 - digits)
        for h in hours
        if rng.randint(0, 30)
    }
    tariff = draw(st.sampled_from([TARIFF, SPLIT_TARIFF]))
    taxes = draw(st.sampled_from([TAXES, SPLIT_TAXES]))
    return supply, values, spot, tariff, taxes


@settings(max_examples=80, deadline=None)
@given(_cases(), st.randoms(use_true_random=False))
def test_the_array_settlement_equals_the_plain_one(case, rnd):
    supply, values, spot, tariff, taxes = case
    rnd.shuffle(values)
    fast = settle(supply, values, spot, tariff, taxes)
    plain = reference_settle(supply, values, spot, tariff, taxes)
    assert fast == plain
    assert fast.days == plain.days
    assert [line.estimated_kwh for line in fast.lines] == [
        line.estimated_kwh for line in plain.lines]  # fmt: skip


def _march_values(seed: int) -> list[HourValue]:
    rng = random.Random(seed)
    return [HourValue(h, rng.randint(0, 3_000), 0, rng.random() < 0.05)
            for h in _month_hours("2026-03")]  # fmt: skip


def test_a_cap_that_changes_mid_month_is_counted_hour_by_hour():
    # Support covers 300 kWh a month until 15 March and 500 kWh from then: the hours after
    # the change are covered until the month's use reaches 500 kWh in all.
    supply = Supply("707057500000000017", "C", "detached_house", "0150", "Oslo",
                    date(2026, 3, 1), date(2026, 3, 31))  # fmt: skip
    spot = dict.fromkeys(_month_hours("2026-03"), D("1.5"))
    for norgespris in (False, True):
        chosen = dataclasses.replace(supply, norgespris=norgespris)
        fast = settle(chosen, _march_values(1), spot, SPLIT_TARIFF, SPLIT_TAXES)
        assert fast == reference_settle(chosen, _march_values(1), spot, SPLIT_TARIFF, SPLIT_TAXES)
        line = next(ln for ln in fast.lines if ln.code in ("support", "norgespris"))
        assert line.quantity == (400 if norgespris else 500)


def test_prices_with_more_decimals_than_scaled_integers_hold_are_summed_as_decimals():
    supply = Supply("707057500000000017", "C", "apartment", "0150", "Oslo",
                    date(2026, 3, 1), date(2026, 3, 31))  # fmt: skip
    spot = {h: D("1.23456789012345678901234") for h in _month_hours("2026-03")}
    fast = settle(supply, _march_values(2), spot, TARIFF, TAXES)
    assert fast == reference_settle(supply, _march_values(2), spot, TARIFF, TAXES)
    assert any(line.code == "support" for line in fast.lines)

"""Tariff and taxes files: what they load to, and every problem reported at its line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.tariff import DEFAULT_STEP_BOUNDS_KW, Tariff
from openams.domain.taxes import TaxRules
from openams.errors import InputError
from openams.services.tariff_files import (
    EXAMPLE_TARIFFS,
    check_file,
    default_taxes,
    example_tariff,
    inspect_file,
    inspect_text,
    load_tariff,
    load_tariff_file,
    load_taxes,
    load_taxes_file,
)
from openams.services.tariff_files_taxes import CUSTOMER_TYPES
from openams.services.tariff_files_toml import key_lines

# Line numbers are part of the tests: keep this text as it is, or fix them all.
GOOD = """\
company = "Eksempel Nett AS"
code = "H"
name = "Nettleie husholdning"

[[period]]
valid_from = 2026-01-01
steps = [
  {from_kw = 0, to_kw = 2, monthly_nok = "100.00"},
  {from_kw = 2, to_kw = 5, monthly_nok = "180.00"},
  {from_kw = 5, monthly_nok = "300.00"},
]

[[period.energy]]
code = "day"
text = "Energiledd dag"
nok_per_kwh = "0.2790"
days = ["workday"]
hours = [6, 22]

[[period.energy]]
code = "night"
text = "Energiledd natt/helg"
nok_per_kwh = "0.1790"
"""

SECOND_PERIOD = """
[[period]]
valid_from = 2026-07-01
step_prices_nok = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
[[period.energy]]
code = "all"
text = "Energiledd"
nok_per_kwh = "0.25"
"""
# With SECOND_PERIOD appended, its [[period]] is on line 25 and its valid_from on line 26.

HOUSEHOLDS = ["detached_house", "apartment", "farm", "prosumer_solar"]


def _edit(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _problems(text: str) -> list[tuple[int | None, str]]:
    check = inspect_text(text, "t.toml")
    assert all(p.source == "t.toml" for p in check.problems)
    return [(p.line, str(p)) for p in check.problems]


def _one(text: str) -> tuple[int | None, str]:
    found = _problems(text)
    assert len(found) == 1, found
    return found[0]


# --- the line map --------------------------------------------------------------------------


def test_key_lines_maps_headers_keys_and_array_elements() -> None:
    lines = key_lines(GOOD + SECOND_PERIOD)
    assert lines[("company",)] == 1
    assert lines[("period", 0)] == 5
    assert lines[("period", 0, "valid_from")] == 6
    assert lines[("period", 0, "steps")] == 7
    assert lines[("period", 0, "steps", 0)] == 8
    assert lines[("period", 0, "steps", 2)] == 10
    assert ("period", 0, "steps", 3) not in lines
    assert lines[("period", 0, "energy", 0)] == 13
    assert lines[("period", 0, "energy", 0, "hours")] == 18
    assert lines[("period", 0, "energy", 1)] == 20
    assert lines[("period", 0, "energy", 1, "nok_per_kwh")] == 23
    assert lines[("period", 1)] == 25
    assert lines[("period", 1, "energy", 0)] == 28  # counted again in each period
    assert lines[("period", 1, "step_prices_nok", 9)] == 27  # one line: the key's line


def test_key_lines_is_not_fooled_by_strings_comments_and_dotted_keys() -> None:
    text = (
        'a = "x = 1 [y] # z"\n'  # 1
        "b = '''\n"  # 2
        "c = not a key\n"  # 3
        "'''\n"  # 4
        "d.e = 1  # f = 2\n"  # 5
        "[t . u]  # a table\n"  # 6
        "g = [\n"  # 7
        '  "h, i",  # ]\n'  # 8
        '  "j",\n'  # 9
        "]\n"  # 10
        "k = 1\n"  # 11
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("b",)] == 2
    assert ("c",) not in lines
    assert lines[("d",)] == lines[("d", "e")] == 5
    assert lines[("t", "u")] == 6
    assert lines[("t", "u", "g", 0)] == 8
    assert lines[("t", "u", "g", 1)] == 9
    assert lines[("t", "u", "k")] == 11


# --- a good tariff -------------------------------------------------------------------------


def test_a_good_tariff_loads_with_exact_decimals() -> None:
    tariff = load_tariff(GOOD, "t.toml")
    assert (tariff.company, tariff.code, tariff.name) == (
        "Eksempel Nett AS",
        "H",
        "Nettleie husholdning",
    )
    (period,) = tariff.periods
    assert period.valid_from == date(2026, 1, 1)
    assert period.valid_to is None
    assert [s.label for s in period.steps] == ["0-2", "2-5", ">5"]
    assert period.steps[1].monthly_nok == Decimal("180.00")
    assert period.fixed_monthly_nok == period.export_nok_per_kwh == Decimal(0)
    day, night = period.energy
    assert day.nok_per_kwh == Decimal("0.2790")
    assert (day.days, day.from_hour, day.to_hour) == (frozenset({"workday"}), 6, 22)
    assert night.matches_all


def test_the_rates_apply_by_hour_and_kind_of_day() -> None:
    period = load_tariff(GOOD, "t.toml").periods[0]
    assert period.rate_for(date(2026, 1, 14), 10).code == "day"  # a Wednesday
    assert period.rate_for(date(2026, 1, 14), 22).code == "night"
    assert period.rate_for(date(2026, 1, 14), 5).code == "night"
    assert period.rate_for(date(2026, 1, 17), 10).code == "night"  # a Saturday
    assert period.rate_for(date(2026, 5, 14), 10).code == "night"  # Ascension Day


def test_a_second_period_with_default_steps() -> None:
    text = _edit("valid_from = 2026-01-01\n", "valid_from = 2026-01-01\nvalid_to = 2026-07-01\n")
    tariff = load_tariff(text + SECOND_PERIOD, "t.toml")
    assert len(tariff.periods) == 2
    second = tariff.periods[1]
    assert [s.from_kw for s in second.steps] == [Decimal(b) for b in DEFAULT_STEP_BOUNDS_KW]
    assert second.steps[-1].monthly_nok == Decimal(10)
    assert tariff.period_on(date(2026, 6, 30)) is tariff.periods[0]
    assert tariff.period_on(date(2026, 7, 1)) is second


def test_optional_period_keys() -> None:
    text = _edit(
        "valid_from = 2026-01-01\n",
        'valid_from = 2026-01-01\nfixed_monthly_nok = "49.5"\nexport_nok_per_kwh = "-0.05"\n',
    )
    period = load_tariff(text, "t.toml").periods[0]
    assert period.fixed_monthly_nok == Decimal("49.5")
    assert period.export_nok_per_kwh == Decimal("-0.05")  # a payment to the customer


def test_integers_are_exact_money_too() -> None:
    text = _edit('monthly_nok = "300.00"', "monthly_nok = 300")
    assert load_tariff(text, "t.toml").periods[0].steps[-1].monthly_nok == Decimal(300)


@given(
    first=st.integers(0, 23),
    last=st.integers(1, 24),
)
def test_any_valid_hours_pair_round_trips(first: int, last: int) -> None:
    text = _edit("hours = [6, 22]", f"hours = [{first}, {last}]")
    if first == last:
        assert _one(text)[0] == 18
        return
    rate = load_tariff(text, "t.toml").periods[0].energy[0]
    assert (rate.from_hour, rate.to_hour) == (first, last)
    inside = [h for h in range(24) if rate.matches("workday", h, 1)]
    expected = (last - first) % 24 or 24
    assert len(inside) == expected
    assert first in inside


@given(st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False))
def test_any_price_string_round_trips_exactly(price: Decimal) -> None:
    text = _edit('nok_per_kwh = "0.2790"', f'nok_per_kwh = "{price}"')
    loaded = load_tariff(text, "t.toml").periods[0].energy[0].nok_per_kwh
    assert loaded == price
    assert str(loaded) == str(price)


@given(st.integers(-5, 30), st.integers(-5, 30))
def test_hours_outside_the_day_are_refused_at_their_line(first: int, last: int) -> None:
    text = _edit("hours = [6, 22]", f"hours = [{first}, {last}]")
    valid = 0 <= first <= 23 and 1 <= last <= 24 and first != last
    if valid:
        assert _problems(text) == []
    else:
        line, message = _one(text)
        assert line == 18
        assert "period.energy.hours" in message


# --- every problem, at its line -------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        # unknown keys, named, with a suggestion
        ('husholdning"\n', 'husholdning"\nsorce = "x"\n', 4,
         "unknown key 'sorce'; allowed: company, code, name, source, period "
         "(did you mean 'source'?)"),
        ('days = ["workday"]', 'dyas = ["workday"]', 17, "did you mean 'days'"),
        ("hours = [6, 22]", "hour = [6, 22]", 18, "did you mean 'hours'"),
        ('to_kw = 5, monthly_nok = "180.00"', 'to_kwh = 5, monthly_nok = "180.00"', 9, "to_kwh"),
        # wrong types
        ('company = "Eksempel Nett AS"', "company = 3", 1, "company must be a string"),
        ("valid_from = 2026-01-01", 'valid_from = "2026-01-01"', 6, "without quotes"),
        ("valid_from = 2026-01-01", "valid_from = 2026-01-01T00:00:00", 6, "must be a date"),
        ('nok_per_kwh = "0.2790"', "nok_per_kwh = 0.279", 16, "write prices as strings"),
        ('nok_per_kwh = "0.2790"', 'nok_per_kwh = "0,279"', 16, "decimal number"),
        ('nok_per_kwh = "0.2790"', "nok_per_kwh = true", 16, "decimal number"),
        ('nok_per_kwh = "0.2790"', 'nok_per_kwh = "-0.1"', 16, "at least 0"),
        ('code = "day"', "code = 1", 14, "period.energy.code must be a string"),
        ('text = "Energiledd dag"', 'text = " "', 15, "must not be empty"),
        # hours, days, months
        ("hours = [6, 22]", "hours = [6, 25]", 18, "to_hour must be 1 to 24"),
        ("hours = [6, 22]", "hours = [24, 6]", 18, "from_hour must be 0 to 23"),
        ("hours = [6, 22]", "hours = [6, 6]", 18, "matches no hour"),
        ("hours = [6, 22]", "hours = [6]", 18, "[from_hour, to_hour]"),
        ("hours = [6, 22]", 'hours = ["6", 22]', 18, "[from_hour, to_hour]"),
        ('days = ["workday"]', 'days = ["workday", "sunday"]', 17, '"sunday" is not one of'),
        ('days = ["workday"]', 'days = ["workday", "workday"]', 17, "given twice"),
        ('days = ["workday"]', "days = []", 17, "must not be empty"),
        ('days = ["workday"]', "months = [0]", 17, "months must be from 1 to 12, got 0"),
        ('days = ["workday"]', "months = [13]", 17, "months must be from 1 to 12, got 13"),
        ('days = ["workday"]', "months = [1, 1]", 17, "a month is given twice"),
        # capacity steps
        ('monthly_nok = "180.00"', 'monthly_nok = "-1"', 9, "at least 0"),
        ("{from_kw = 0, to_kw = 2", "{from_kw = 1, to_kw = 2", 8, "start at 0 kW"),
        ("{from_kw = 2, to_kw = 5", "{from_kw = 3, to_kw = 5", 9, "3-5 must start where 0-2"),
        ("{from_kw = 5, monthly", "{from_kw = 5, to_kw = 9, monthly", 10, "no upper bound"),
        ("{from_kw = 2, to_kw = 5", "{from_kw = 2, to_kw = 2", 9, "greater than from_kw"),
        ("{from_kw = 2, to_kw = 5", "{from_kw = 2", 9, "only the last capacity step"),
        ("{from_kw = 0, to_kw = 2, ", "{to_kw = 2, ", 8, "missing key period.steps.from_kw"),
        ('{from_kw = 0, to_kw = 2, monthly_nok = "100.00"}', "3", 8, "each step is a table"),
        ('{from_kw = 0, to_kw = 2, monthly_nok = "100.00"}', "{from_kw = 0, to_kw = 2}", 8,
         "missing key period.steps.monthly_nok"),
        # energy rates
        ('code = "night"', 'code = "day"', 21,
         "'day' is used twice in this period (first at line 14)"),
        ('nok_per_kwh = "0.1790"', 'nok_per_kwh = "0.1790"\nhours = [22, 6]', 20,
         "last energy rate (night)"),
        ('nok_per_kwh = "0.2790"\n', "", 13, "missing key period.energy.nok_per_kwh"),
        # periods
        ("valid_from = 2026-01-01\n", "", 5, "missing key period.valid_from"),
        ("valid_from = 2026-01-01\n", "valid_from = 2026-01-01\nvalid_to = 2026-01-01\n", 7,
         "valid_to must be after valid_from"),
        ("steps = [", 'step_prices_nok = ["1"]\nsteps = [', 7, "not both"),
    ],
)  # fmt: skip
def test_each_problem_is_reported_at_its_line(old: str, new: str, line: int, fragment: str) -> None:
    found_line, message = _one(_edit(old, new))
    assert message.startswith(f"t.toml:{line}: ")
    assert found_line == line
    assert fragment in message


STEPS_BLOCK = GOOD[GOOD.index("steps = [") : GOOD.index("]\n\n[[period.energy]]") + 2]
RATES_BLOCK = GOOD[GOOD.index("[[period.energy]]") :]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        (STEPS_BLOCK, "steps = 3\n", 7, "period.steps must be an array, got 3"),
        (STEPS_BLOCK, 'step_prices_nok = "100"\n', 7, "step_prices_nok must be an array"),
        ('days = ["workday"]', "months = 3", 17, "period.energy.months must be an array"),
        ('days = ["workday"]', 'days = "workday"', 17, "period.energy.days must be an array"),
        (RATES_BLOCK, "energy = [1]\n", 13, "period.energy must hold tables, got 1"),
    ],
)
def test_values_of_the_wrong_shape(old: str, new: str, line: int, fragment: str) -> None:
    found = _problems(_edit(old, new))
    assert any(found_line == line and fragment in msg for found_line, msg in found), found


def test_an_empty_array_of_rates_or_periods() -> None:
    head = GOOD[: GOOD.index("[[period.energy]]")]
    assert _one(head + "energy = []\n") == (
        13,
        "t.toml:13: period.energy: a period needs at least one energy rate",
    )
    top = GOOD[: GOOD.index("[[period]]")]
    assert _one(top + "period = []\n") == (5, "t.toml:5: a tariff needs at least one [[period]]")


def test_an_unreadable_valid_to_does_not_hide_the_order_of_starts() -> None:
    first = _edit("valid_from = 2026-01-01\n", 'valid_from = 2026-01-01\nvalid_to = "soon"\n')
    found = _problems(first + _edit("2026-07-01", "2025-07-01", SECOND_PERIOD))
    assert [line for line, _ in found] == [7, 27]
    assert "date order" in found[1][1]
    # with the start in order, nothing is said about an overlap it cannot know
    assert len(_problems(first + SECOND_PERIOD)) == 1


def test_periods_are_compared_only_with_their_readable_neighbours() -> None:
    broken = _edit("valid_from = 2026-07-01\n", "", SECOND_PERIOD)  # no start: not compared
    third = _edit("2026-07-01", "2025-01-01", SECOND_PERIOD)  # before the first, not next to it
    found = _problems(GOOD + broken + third)
    assert [line for line, _ in found] == [25]
    assert "missing key period.valid_from" in found[0][1]


def test_load_taxes_raises_the_first_problem() -> None:
    with pytest.raises(InputError) as caught:
        load_taxes(_edit('value = "0.40"', 'value = "-1"', TAXES), "t.toml")
    assert caught.value.line == 27
    with pytest.raises(InputError, match="this is a tariff file, not a taxes file"):
        load_taxes(GOOD, "t.toml")


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ('[regions.north]\nname = "Nord"\npostcodes = ["8000-9999", "7980"]\n'
         'municipalities = ["Bindal"]\n', "regions = 3\n", 4, "regions must be a table, got 3"),
        ('postcodes = ["8000-9999", "7980"]', 'postcodes = "8000-9999"', 6,
         "postcodes must be an array of strings"),
        ('postcodes = ["8000-9999", "7980"]', 'postcodes = ["8000-9999", 7980]', 6,
         "7980 is not a postcode"),
        ('name = "Nord"', "name = 1", 5, "regions.north.name must be a string"),
    ],
)  # fmt: skip
def test_region_problems(old: str, new: str, line: int, fragment: str) -> None:
    found = _problems(_edit(old, new, TAXES))
    assert any(found_line == line and fragment in msg for found_line, msg in found), found


def test_a_float_is_refused_with_the_hint() -> None:
    _, message = _one(_edit('monthly_nok = "100.00"', "monthly_nok = 100.0"))
    assert message.endswith(
        'period.steps.monthly_nok is a TOML float: write prices as strings, such as "0.3589", '
        "so no digits are lost"
    )


def test_a_missing_top_level_key_has_no_line() -> None:
    assert _one(_edit('company = "Eksempel Nett AS"\n', "")) == (
        None,
        "t.toml: missing key company",
    )


def test_no_steps_and_no_energy_are_reported_at_the_period() -> None:
    text = GOOD.split("steps = [")[0]
    found = _problems(text)
    assert [line for line, _ in found] == [5, 5]
    assert "missing key period.steps" in found[0][1]
    assert "missing key period.energy" in found[1][1]


def test_a_misspelt_required_key_is_unknown_and_missing() -> None:
    found = _problems(_edit("valid_from = 2026", "valid_form = 2026"))
    assert found[0] == (5, "t.toml:5: missing key period.valid_from")
    assert found[1][0] == 6
    assert "unknown key 'valid_form'" in found[1][1]
    assert "did you mean 'valid_from'" in found[1][1]
    assert len(found) == 2


def test_wrong_number_of_default_step_prices() -> None:
    first = _edit("valid_from = 2026-01-01\n", "valid_from = 2026-01-01\nvalid_to = 2026-07-01\n")
    second = _edit('"9", "10"]', '"9"]', SECOND_PERIOD)
    line, message = _one(first + second)
    assert line == 28
    assert "period.step_prices_nok must hold 10 prices" in message
    assert message.endswith("got 9")


def test_a_negative_default_step_price_is_refused_at_the_line() -> None:
    first = _edit("valid_from = 2026-01-01\n", "valid_from = 2026-01-01\nvalid_to = 2026-07-01\n")
    second = _edit('"9", "10"]', '"9", "-10"]', SECOND_PERIOD)
    assert _one(first + second)[0] == 28


@pytest.mark.parametrize(
    ("first_period_dates", "second_from", "line", "fragment"),
    [
        ("valid_from = 2026-01-01\n", "2026-07-01", 5, "valid_to is missing"),
        ("valid_from = 2026-01-01\nvalid_to = 2026-08-01\n", "2026-07-01", 7, "must not overlap"),
        ("valid_from = 2026-01-01\nvalid_to = 2026-02-01\n", "2025-12-01", 27, "date order"),
    ],
)
def test_periods_in_order_without_overlap(
    first_period_dates: str, second_from: str, line: int, fragment: str
) -> None:
    text = _edit("valid_from = 2026-01-01\n", first_period_dates)
    text += _edit("2026-07-01", second_from, SECOND_PERIOD)
    found_line, message = _one(text)
    assert (found_line, fragment in message) == (line, True)


def test_a_gap_between_periods_is_allowed() -> None:
    text = _edit("valid_from = 2026-01-01\n", "valid_from = 2026-01-01\nvalid_to = 2026-03-01\n")
    tariff = load_tariff(text + SECOND_PERIOD, "t.toml")
    assert tariff.period_on(date(2026, 4, 1)) is None


def test_every_problem_is_reported_in_line_order() -> None:
    text = _edit('name = "Nettleie', 'nmae = "Nettleie')
    text = _edit("hours = [6, 22]", "hours = [6, 30]", text)
    text = _edit('monthly_nok = "180.00"', "monthly_nok = 1.5", text)
    text = _edit('code = "night"', 'code = "day"', text)
    lines = [line for line, _ in _problems(text)]
    assert lines == [None, 3, 9, 18, 21]  # name is missing (no line), then the file's order


def test_load_tariff_raises_the_first_problem() -> None:
    text = _edit("hours = [6, 22]", "hours = [6, 30]")
    text = _edit('monthly_nok = "180.00"', "monthly_nok = 1.5", text)
    with pytest.raises(InputError) as caught:
        load_tariff(text, "t.toml")
    assert (caught.value.source, caught.value.line) == ("t.toml", 9)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('company = "Eksempel\n', 1, "invalid TOML"),
        ("company = \ncode = 1\n", 1, "invalid TOML"),
        ('company = "a"\ncompany = "b"\n', 2, "invalid TOML"),
        ("[[period]]\nvalid_from = 2026-13-01\n", 2, "invalid TOML"),
    ],
)
def test_syntax_errors_carry_tomllibs_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        load_tariff(text, "t.toml")
    assert caught.value.line == line
    assert fragment in str(caught.value)


def test_period_must_be_an_array_of_tables() -> None:
    text = GOOD.split("[[period]]")[0] + "period = 3\n"
    assert _one(text) == (
        5,
        "t.toml:5: period must be an array of tables: write each under [[period]]",
    )


def test_a_taxes_file_is_not_a_tariff() -> None:
    with pytest.raises(InputError, match="this is a taxes file, not a tariff file"):
        load_tariff("vat = []\n", "t.toml")


# --- the taxes file -------------------------------------------------------------------------

TAXES = """\
source = "test"
vat = []

[regions.north]
name = "Nord"
postcodes = ["8000-9999", "7980"]
municipalities = ["Bindal"]

[[consumption_tax]]
valid_from = 2026-01-01
value = "0.0713"
exempt = "north"

[[enova_fee]]
valid_from = 2026-01-01
value = "0.01"

[[support]]
valid_from = 2026-01-01
value = "0.77"
share = "0.90"
cap_kwh = 5000
customer_types = ["apartment"]

[[norgespris]]
valid_from = 2026-01-01
value = "0.40"
cap_kwh = 1000
"""


def _tax_problem(old: str, new: str) -> tuple[int | None, str]:
    return _one(_edit(old, new, TAXES))


def test_a_good_taxes_file_loads() -> None:
    rules = load_taxes(TAXES, "t.toml")
    assert rules.source == "test"
    assert rules.vat == ()
    (tax,) = rules.consumption_tax
    assert tax.value == Decimal("0.0713")
    assert tax.exempt is not None
    assert tax.exempt.postcodes == ((8000, 9999), (7980, 7980))
    assert rules.support[0].share == Decimal("0.90")
    assert rules.support[0].customer_types == frozenset({"apartment"})
    assert rules.norgespris[0].cap_kwh == Decimal(1000)


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ('exempt = "north"', 'exempt = "nordnorge"', 12,
         "unknown region 'nordnorge'; the regions are: north"),
        ('"8000-9999"', '"8000-99"', 6, 'not a postcode ("9990") or a range'),
        ('"8000-9999"', '"9999-8000"', 6, "ends before it starts"),
        ('municipalities = ["Bindal"]', "municipalities = [1]", 7, "municipality names"),
        ('share = "0.90"\n', "", 18, "missing key support.share"),
        ('share = "0.90"', 'share = "1.5"', 21, "at most 1"),
        ('share = "0.90"', 'share = "0"', 21, "greater than 0"),
        ("cap_kwh = 1000\n", "", 25, "missing key norgespris.cap_kwh"),
        ('customer_types = ["apartment"]', 'customer_types = ["apartmnet"]', 23,
         '"apartmnet" is not one of'),
        ('value = "0.01"', 'value = "0.01"\nshare = "1"', 17, "unknown key 'share'"),
        ('value = "0.01"', 'valeu = "0.01"', 16, "did you mean 'value'"),
        ("valid_from = 2026-01-01\nvalue = \"0.01\"",
         "valid_from = 2026-01-01\nvalid_to = 2025-01-01\nvalue = \"0.01\"", 16,
         "valid_to must be after"),
        ("vat = []", 'vat = [{valid_from = 2026-01-01, value = "25"}]', 2,
         "vat.value must be at most 1"),
        ("vat = []", "", None, "missing key vat"),
        ('postcodes = ["8000-9999", "7980"]\nmunicipalities = ["Bindal"]\n', "", 4,
         "give postcodes or municipalities"),
        ("[[consumption_tax]]", "[[consumption_taxes]]", 9, "did you mean 'consumption_tax'"),
        ("vat = []", "vat = 3", 2, "vat must be an array of tables: write each under [[vat]]"),
        ("[regions.north]", "[regions.north.x]", 4, "regions.north: unknown key 'x'"),
    ],
)  # fmt: skip
def test_each_taxes_problem_at_its_line(
    old: str, new: str, line: int | None, fragment: str
) -> None:
    found = _problems(_edit(old, new, TAXES))
    assert any(found_line == line and fragment in msg for found_line, msg in found), found


def test_a_taxes_problem_is_one_problem() -> None:
    assert _tax_problem('exempt = "north"', 'exempt = "south"')[0] == 12


# --- the packaged national rules ------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> TaxRules:
    return default_taxes()


WINTER_2026 = date(2026, 1, 15)


def test_a_tromso_household_pays_consumption_tax_but_no_vat(rules: TaxRules) -> None:
    where = (WINTER_2026, "detached_house", "9008", "Tromsø")
    assert rules.vat_on(*where) is None
    tax = rules.consumption_tax_on(*where)
    assert tax is not None
    assert tax.value == Decimal("0.0713")
    enova = rules.enova_fee_on(*where)
    assert enova is not None
    assert enova.value == Decimal("0.01")


def test_alta_pays_neither_consumption_tax_nor_vat(rules: TaxRules) -> None:
    where = (WINTER_2026, "apartment", "9510", "Alta")
    assert rules.vat_on(*where) is None
    assert rules.consumption_tax_on(*where) is None


def test_a_nord_troms_municipality_is_exempt_by_name(rules: TaxRules) -> None:
    assert rules.consumption_tax_on(WINTER_2026, "apartment", "9060", "Lyngen") is None
    assert rules.consumption_tax_on(WINTER_2026, "apartment", "9060", "Balsfjord") is not None


def test_oslo_pays_both(rules: TaxRules) -> None:
    where = (WINTER_2026, "apartment", "0150", "Oslo")
    vat = rules.vat_on(*where)
    tax = rules.consumption_tax_on(*where)
    assert vat is not None
    assert tax is not None
    assert vat.value == Decimal("0.25")
    assert tax.value == Decimal("0.0713")


def test_bindal_households_pay_no_vat(rules: TaxRules) -> None:
    assert rules.vat_on(WINTER_2026, "detached_house", "7980", "Bindal") is None


def test_a_business_pays_vat_in_the_north_and_no_enova_per_kwh(rules: TaxRules) -> None:
    where = (WINTER_2026, "small_business", "9008", "Tromsø")
    vat = rules.vat_on(*where)
    assert vat is not None
    assert vat.value == Decimal("0.25")
    assert rules.enova_fee_on(*where) is None
    assert rules.support_on(*where) is None
    assert rules.norgespris_on(*where) is None


def test_a_cabin_gets_no_support_and_a_norgespris_cap_of_1000(rules: TaxRules) -> None:
    where = (WINTER_2026, "cabin", "2600", "Lillehammer")
    assert rules.support_on(*where) is None
    norgespris = rules.norgespris_on(*where)
    assert norgespris is not None
    assert norgespris.cap_kwh == Decimal(1000)
    assert norgespris.value == Decimal("0.40")
    assert rules.vat_on(WINTER_2026, "cabin", "9008", "Tromsø") is None  # a holiday home


@pytest.mark.parametrize("customer_type", HOUSEHOLDS)
def test_households_get_support_and_a_norgespris_cap_of_5000(
    rules: TaxRules, customer_type: str
) -> None:
    where = (WINTER_2026, customer_type, "5003", "Bergen")
    support = rules.support_on(*where)
    norgespris = rules.norgespris_on(*where)
    assert support is not None
    assert norgespris is not None
    assert (support.value, support.share, support.cap_kwh) == (
        Decimal("0.77"),
        Decimal("0.90"),
        Decimal(5000),
    )
    assert norgespris.cap_kwh == Decimal(5000)


@pytest.mark.parametrize(
    ("day", "consumption_tax", "threshold", "norgespris"),
    [
        (date(2025, 3, 1), "0.1693", "0.75", None),
        (date(2025, 8, 1), "0.1253", "0.75", None),
        (date(2025, 10, 1), "0.1253", "0.75", "0.40"),
        (date(2026, 12, 31), "0.0713", "0.77", "0.40"),
        (date(2027, 1, 1), "0.0713", "0.77", None),
    ],
)
def test_the_rates_change_on_their_days(
    rules: TaxRules, day: date, consumption_tax: str, threshold: str, norgespris: str | None
) -> None:
    where = (day, "apartment", "0150", "Oslo")
    tax = rules.consumption_tax_on(*where)
    support = rules.support_on(*where)
    assert tax is not None
    assert support is not None
    assert tax.value == Decimal(consumption_tax)
    assert support.value == Decimal(threshold)
    found = rules.norgespris_on(*where)
    assert (found.value if found else None) == (Decimal(norgespris) if norgespris else None)


def test_no_rule_before_2025(rules: TaxRules) -> None:
    assert rules.vat_on(date(2024, 12, 31), "apartment", "0150", "Oslo") is None


def test_the_rules_name_only_known_customer_types(rules: TaxRules) -> None:
    for kind in (
        rules.consumption_tax,
        rules.enova_fee,
        rules.vat,
        rules.support,
        rules.norgespris,
    ):
        for rule in kind:
            assert rule.customer_types is None or rule.customer_types <= set(CUSTOMER_TYPES)


# --- the packaged example tariffs -----------------------------------------------------------


def test_every_packaged_tariff_is_listed_and_loads() -> None:
    folder = resources.files("openams.data").joinpath("tariffs")
    names = sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )
    assert names == sorted(EXAMPLE_TARIFFS)
    for name in EXAMPLE_TARIFFS:
        tariff = example_tariff(name)
        assert isinstance(tariff, Tariff)
        assert tariff.period_on(WINTER_2026) is not None
        assert "modelled" in tariff.source.lower()


def test_the_examples_have_day_night_weekend_and_seasons() -> None:
    elvia = example_tariff("elvia_2026").periods[0]
    assert elvia.rate_for(date(2026, 1, 14), 12).code == "dag"
    assert elvia.rate_for(date(2026, 1, 17), 12).code == "natt_helg"
    bkk = example_tariff("bkk_2026").periods[0]
    assert bkk.rate_for(date(2026, 1, 14), 23).code == "natt"
    assert bkk.rate_for(date(2026, 1, 14), 3).code == "natt"
    assert bkk.rate_for(date(2026, 12, 25), 12).code == "helg"  # Christmas Day, a Friday
    assert bkk.rate_for(date(2026, 1, 14), 12).code == "dag"
    arva = example_tariff("arva_2026").periods[0]
    assert arva.rate_for(date(2026, 1, 14), 12).code == "vinter"
    assert arva.rate_for(date(2026, 6, 14), 12).code == "sommer"
    assert arva.rate_for(date(2026, 11, 2), 3).code == "vinter"


def test_an_unknown_example_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="elvia_2026"):
        example_tariff("nope")


# --- files ----------------------------------------------------------------------------------


def test_files_load_and_check(tmp_path: Path) -> None:
    tariff_file = tmp_path / "h.toml"
    tariff_file.write_text(GOOD, encoding="utf-8")
    taxes_file = tmp_path / "taxes.toml"
    taxes_file.write_text(TAXES, encoding="utf-8")
    assert load_tariff_file(tariff_file).company == "Eksempel Nett AS"
    assert load_taxes_file(taxes_file).source == "test"
    assert check_file(tariff_file) == []
    assert inspect_file(tariff_file).kind == "tariff"
    assert inspect_file(taxes_file).kind == "taxes"
    assert inspect_file(taxes_file).taxes is not None


def test_check_file_names_the_file_and_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_edit("hours = [6, 22]", "hours = [6, 30]"), encoding="utf-8")
    (problem,) = check_file(path)
    assert str(problem).startswith(f"{path}:18: ")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xff\xfe nonsense", "not UTF-8"),
        (b"something = 1\n", "neither a tariff file"),
    ],
)
def test_files_that_are_neither(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(content)
    (problem,) = check_file(path)
    assert fragment in str(problem)
    assert inspect_file(path).kind == "unknown"


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    (problem,) = check_file(tmp_path / "missing.toml")
    assert "cannot read the file" in str(problem)
    with pytest.raises(InputError):
        load_tariff_file(tmp_path / "missing.toml")


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + GOOD, encoding="utf-8")
    assert load_tariff_file(path).code == "H"


def test_the_examples_in_the_docs_load() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "tariffs.md").read_text()
    blocks = [b.split("```", 1)[0] for b in page.split("```toml\n")[1:]]
    assert len(blocks) == 2
    tariff = inspect_text(blocks[0], "tariffs.md")
    taxes = inspect_text(blocks[1], "tariffs.md")
    assert tariff.problems == taxes.problems == ()
    assert tariff.tariff is not None
    assert len(tariff.tariff.periods) == 2
    assert taxes.taxes is not None
    assert taxes.taxes.vat == ()

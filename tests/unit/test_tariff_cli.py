"""``ams tariff check`` and ``ams tariff show``, through click's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from openams.cli.tariff import tariff_group

DATA = Path(__file__).resolve().parents[2] / "src" / "openams" / "data"
ELVIA = DATA / "tariffs" / "elvia_2026.toml"
ARVA = DATA / "tariffs" / "arva_2026.toml"
TAXES = DATA / "taxes.toml"

TWO_PERIODS = """\
company = "Eksempel Nett AS"
code = "H"
name = "Nettleie [husholdning]"

[[period]]
valid_from = 2026-01-01
valid_to = 2026-07-01
step_prices_nok = ["101", "102", "103", "104", "105", "106", "107", "108", "109", "110"]
[[period.energy]]
code = "vinter"
text = "Energiledd vinter"
nok_per_kwh = "0.3333"
months = [1, 2, 3, 11, 12]
[[period.energy]]
code = "resten"
text = "Energiledd"
nok_per_kwh = "0.2222"

[[period]]
valid_from = 2026-07-01
valid_to = 2027-01-01
step_prices_nok = ["201", "202", "203", "204", "205", "206", "207", "208", "209", "210"]
[[period.energy]]
code = "alle"
text = "Energiledd"
nok_per_kwh = "0.4444"
"""


def _run(*args: str) -> Result:
    return CliRunner().invoke(tariff_group, list(args))


@pytest.fixture
def two_periods(tmp_path: Path) -> Path:
    path = tmp_path / "two.toml"
    path.write_text(TWO_PERIODS, encoding="utf-8")
    return path


def test_check_a_good_tariff_and_the_taxes() -> None:
    result = _run("check", str(ELVIA), str(TAXES))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{ELVIA}: ok — Elvia AS H, 1 period",
        f"{TAXES}: ok — taxes, rules: 3 consumption tax, 1 Enova fee, 2 VAT, "
        "2 electricity support, 2 Norgespris",
    ]
    assert result.stderr == ""


def test_check_counts_periods(two_periods: Path) -> None:
    result = _run("check", str(two_periods))
    assert result.exit_code == 0
    assert result.stdout == f"{two_periods}: ok — Eksempel Nett AS H, 2 periods\n"


def test_check_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = TWO_PERIODS.replace('nok_per_kwh = "0.3333"', "nok_per_kwh = 0.3333")
    text = text.replace("months = [1, 2, 3, 11, 12]", "months = [1, 2, 13]")
    bad.write_text(text, encoding="utf-8")
    result = _run("check", str(bad), str(ARVA))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}:12: period.energy.nok_per_kwh is a TOML float: write prices as strings, "
        'such as "0.3589", so no digits are lost',
        f"{bad}:13: period.energy.months must be from 1 to 12, got 13",
    ]
    assert result.stdout == f"{ARVA}: ok — Arva AS H, 1 period\n"  # the good file is still checked


def test_check_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text('company = "x\n', encoding="utf-8")
    result = _run("check", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:1: invalid TOML: ")


def test_check_a_file_that_is_neither(tmp_path: Path) -> None:
    odd = tmp_path / "odd.toml"
    odd.write_text("colour = 'blue'\n", encoding="utf-8")
    result = _run("check", str(odd))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{odd}: neither a tariff file")


def test_check_needs_an_existing_file(tmp_path: Path) -> None:
    result = _run("check", str(tmp_path / "missing.toml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_show_prints_steps_and_rates_of_every_period(two_periods: Path) -> None:
    result = _run("show", str(two_periods))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Eksempel Nett AS H — Nettleie [husholdning]: from 2026-01-01" in out  # no markup
    assert "from 2026-07-01" in out
    for label, price in (("0-2", "101"), ("75-100", "109"), (">100", "110"), (">100", "210")):
        assert any(label in line and price in line for line in out.splitlines()), (label, price)
    vinter = next(line for line in out.splitlines() if "vinter" in line)
    assert "0.3333" in vinter
    assert "1-3, 11-12" in vinter
    assert "all day" in vinter


def test_show_on_a_day_prints_only_its_period(two_periods: Path) -> None:
    result = _run("show", str(two_periods), "--on", "2026-08-15")
    assert result.exit_code == 0, result.output
    assert "from 2026-07-01" in result.stdout
    assert "from 2026-01-01" not in result.stdout
    assert "0.4444" in result.stdout
    assert "0.3333" not in result.stdout


def test_show_the_hours_and_days_of_a_rate() -> None:
    result = _run("show", str(ELVIA), "--on", "2026-01-05")
    assert result.exit_code == 0, result.output
    dag = next(line for line in result.stdout.splitlines() if line.startswith("│ dag"))
    assert "0.2059" in dag
    assert "06-22" in dag
    assert "workday" in dag


def test_show_a_day_without_prices(two_periods: Path) -> None:
    result = _run("show", str(two_periods), "--on", "2025-12-31")
    assert result.exit_code == 1
    assert result.stderr == f"{two_periods}: no period has prices for 2025-12-31\n"


def test_show_a_bad_file_reports_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TWO_PERIODS.replace('code = "alle"', 'code = "alle"\nhours = [22, 6]'))
    result = _run("show", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:23: period.energy: the last energy rate (alle)")
    assert result.stdout == ""


def test_show_a_taxes_file_is_refused() -> None:
    result = _run("show", str(TAXES))
    assert result.exit_code == 2
    assert "a taxes file, not a tariff" in result.stderr


def test_show_needs_a_date_as_yyyy_mm_dd(two_periods: Path) -> None:
    result = _run("show", str(two_periods), "--on", "15.08.2026")
    assert result.exit_code == 2
    assert "--on" in result.stderr

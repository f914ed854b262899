"""``ams prices import|show|simulate`` on the sample files, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from openams.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "prices"


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_import_reports_bad_rows_and_keeps_the_good(store_url, capsys):
    files = sorted(str(p) for p in DATA.iterdir())
    assert main(["prices", "import", *files, "--db", store_url]) == 1
    captured = capsys.readouterr()
    assert "entsoe_a44_no5_pt15m_a03.xml: 96 NO5 quarter-hour prices" in captured.out
    assert "nordpool_no1_no2_bad_row.csv: 4 NO1 hourly prices, 3 NO2 hourly prices" in captured.out
    assert "norges_bank_eur_nok.csv: 3 exchange rates" in captured.out
    assert "nordpool_no1_no2_bad_row.csv:5: NO1 (EUR) 'forty' is not a price" in captured.err
    assert "entsoe_acknowledgement.xml: ENTSO-E sent no prices" in captured.err
    # the quarter-hours of NO5 averaged per hour, at the day's EUR/NOK rate
    assert main(["prices", "show", "--zone", "NO5", "--from", "2026-01-12", "--format", "json",
                 "--db", store_url]) == 0  # fmt: skip
    hours = _json_lines(capsys.readouterr().out)
    assert len(hours) == 24
    first = hours[0]
    assert first["start"] == "2026-01-12T00:00:00+01:00"
    # positions 1, 2 and (repeated, curve A03) 3 and 4: 40.00, 41.25, 41.25, 41.25
    assert Decimal(first["price_per_mwh"]) == Decimal("40.9375")
    assert Decimal(first["nok_per_kwh"]) == Decimal("40.9375") * Decimal("11.7235") / 1000
    assert first["rate_day"] == "2026-01-12"
    # importing again changes nothing
    assert main(["prices", "import", *files, "--db", store_url]) == 1
    capsys.readouterr()
    assert main(["prices", "show", "--zone", "NO5", "--from", "2026-01-12", "--format", "json",
                 "--db", store_url]) == 0  # fmt: skip
    assert _json_lines(capsys.readouterr().out) == hours


def test_the_csv_import_replaces_the_xml_for_the_same_hours(store_url, capsys):
    assert main(["prices", "import", str(DATA / "entsoe_a44_no1_pt60m.xml"),
                 "--db", store_url]) == 0  # fmt: skip
    assert main(["prices", "import", str(DATA / "nordpool_no1_no2_bad_row.csv"),
                 "--db", store_url]) == 1  # fmt: skip
    capsys.readouterr()
    assert main(["prices", "show", "--zone", "NO1", "--from", "2026-01-12", "--format", "csv",
                 "--db", store_url]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "start,end,price_per_mwh,currency,nok_per_kwh,rate_day"
    assert len(lines) == 25
    assert lines[4].split(",")[2] == "-1.05"  # 03:00 from the CSV, negative
    assert lines[3].split(",")[2] == "48.02"  # 02:00: the CSV's row was bad, the XML's stays
    assert lines[1].split(",")[4] == ""  # no exchange rate imported: no NOK price


def test_simulated_prices_cover_the_days_with_a_rate(store_url, capsys):
    assert main(["prices", "simulate", "--from", "2026-03-29", "--days", "1", "--zone", "NO2",
                 "--resolution", "quarter", "--db", store_url]) == 0  # fmt: skip
    assert "92 simulated prices for NO2" in capsys.readouterr().out
    assert main(["prices", "show", "--zone", "NO2", "--from", "2026-03-29", "--format", "json",
                 "--db", store_url]) == 0  # fmt: skip
    hours = _json_lines(capsys.readouterr().out)
    assert len(hours) == 23  # the spring-forward day
    assert all(h["rate_day"] == "2026-03-29" and h["nok_per_kwh"] for h in hours)


def test_show_without_prices_or_with_a_reversed_period(store_url, capsys):
    assert main(["prices", "show", "--zone", "NO3", "--from", "2026-01-12",
                 "--db", store_url]) == 1  # fmt: skip
    assert "no prices for NO3" in capsys.readouterr().err
    assert main(["prices", "show", "--zone", "NO3", "--from", "2026-01-12", "--to",
                 "2026-01-10", "--db", store_url]) == 2  # fmt: skip

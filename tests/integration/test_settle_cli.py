"""``ams settle``, ``ams supply set`` and ``ams invoice`` on a store, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from importlib import resources

from pypdf import PdfReader

from openams.cli import main
from openams.domain.settlement import HourValue, Supply, settle
from openams.services.tariff_files import default_taxes, example_tariff
from openams.store import open_store
from openams.store.schema import interval_values
from tests.integration.test_settlement_store import HOURS, OSLO_MP, TROMSO_MP, _seed

TARIFF_FILE = str(resources.files("openams") / "data" / "tariffs" / "elvia_2026.toml")


def _seeded(url: str) -> None:
    store = open_store(url)
    try:
        _seed(store)
    finally:
        store.close()


def test_settle_prints_the_bill_and_a_second_run_bills_nothing(store_url, capsys):
    _seeded(store_url)
    args = ["settle", "--month", "2026-01", "--tariff", TARIFF_FILE, "--db", store_url]
    assert main([*args, "--format", "json", "--mp", OSLO_MP]) == 0
    (bill,) = json.loads(capsys.readouterr().out)
    spot = dict.fromkeys(HOURS, Decimal("1.15"))
    expected = settle(
        Supply(OSLO_MP, "C1", "detached_house", "0150", "Oslo", date(2026, 1, 1),
               date(2026, 1, 31)),
        [HourValue(h, 1500, 0, h == HOURS[100]) for h in HOURS],
        spot, example_tariff("elvia_2026"), default_taxes(),
    )  # fmt: skip
    assert bill == json.loads(json.dumps(expected.as_dict()))
    assert bill["capacity_step"] == "0-2"
    assert bill["estimated_kwh"] == 1.5
    assert round(sum(line["amount"] for line in bill["lines"]), 2) == bill["total_nok"]

    assert main([*args, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{TROMSO_MP} 2026-01-01..2026-01-31" in out
    assert "Settled 2 supplies and re-settled 0; 1 unchanged; 0 not settled." in out

    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == []  # nothing new to bill


def test_a_move_with_norgespris_and_the_invoices(store_url, capsys, tmp_path):
    _seeded(store_url)
    assert main(["supply", "set", TROMSO_MP, "--from", "2026-01-16", "--customer", "C4",
                 "--norgespris", "--db", store_url]) == 0  # fmt: skip
    assert main(["supply", "set", TROMSO_MP, "--from", "2025-01-01", "--to", "2026-01-15",
                 "--customer", "C2", "--db", store_url]) == 0  # fmt: skip
    capsys.readouterr()
    args = ["settle", "--month", "2026-01", "--tariff", TARIFF_FILE, "--db", store_url]
    assert main([*args, "--mp", TROMSO_MP, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_customer = {(r["customer_id"], r["code"]) for r in rows}
    assert ("C4", "norgespris") in by_customer
    assert ("C2", "norgespris") not in by_customer
    assert ("C2", "vat") not in by_customer  # Tromsø: no VAT for households

    out = tmp_path / "invoices"
    assert main(["invoice", "--month", "2026-01", "--out", str(out), "--db", store_url]) == 0
    assert "Wrote 4 files for 2 invoices" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{TROMSO_MP}_2026-01-16.html", f"{TROMSO_MP}_2026-01-16.pdf",
                     f"{TROMSO_MP}_2026-01.html", f"{TROMSO_MP}_2026-01.pdf"]  # fmt: skip
    pdf = out / f"{TROMSO_MP}_2026-01-16.pdf"
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Elvia AS" in text
    assert "Kunde C4" in text
    assert "Norgespris" in text


def test_usage_errors_are_named(store_url, capsys, tmp_path):
    _seeded(store_url)
    assert main(["settle", "--month", "2026-1", "--tariff", TARIFF_FILE, "--db", store_url]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert main(["settle", "--month", "2026-01", "--db", store_url]) == 2
    assert "--tariff" in capsys.readouterr().err
    assert main(["settle", "--month", "2026-01", "--tariff", TARIFF_FILE, "--mp", "1",
                 "--db", store_url]) == 2  # fmt: skip
    assert "no metering point 1" in capsys.readouterr().err
    assert main(["invoice", "--month", "2026-01", "--out", str(tmp_path), "--db",
                 store_url]) == 2  # fmt: skip
    assert "run ams settle first" in capsys.readouterr().err
    # a month before the tariff's first period: each metering point is named, exit 1
    assert main(["settle", "--month", "2025-12", "--tariff", TARIFF_FILE, "--db", store_url]) == 1
    err = capsys.readouterr().err
    assert f"not settled: {OSLO_MP} 2025-12-01: " in err
    assert "no prices on 2025-12-01" in err


def test_refresh_rebuilds_the_daily_usage_before_settling(store_url, capsys):
    _seeded(store_url)
    store = open_store(store_url)
    try:
        with store.engine.begin() as connection:  # values written without VEE
            connection.execute(interval_values.update().values(import_wh=0))
    finally:
        store.close()
    args = ["settle", "--month", "2026-01", "--tariff", TARIFF_FILE, "--mp", OSLO_MP,
            "--format", "json", "--db", store_url]  # fmt: skip
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["energy_kwh"] == 1116  # 744 x 1.5 kWh
    # rebuilt from the interval values, the month is re-settled at 0 kWh
    assert main([*args, "--refresh"]) == 0
    (change,) = json.loads(capsys.readouterr().out)
    assert change["kind"] == "resettlement"
    assert change["energy_kwh"] == 0


def test_supply_errors_and_a_table_with_every_line(store_url, capsys):
    _seeded(store_url)
    assert main(["supply", "set", OSLO_MP, "--from", "2026-02-01", "--to", "2026-01-01",
                 "--customer", "C9", "--db", store_url]) == 2  # fmt: skip
    assert "--to is before --from" in capsys.readouterr().err
    assert main(["supply", "set", "707057500000009999", "--from", "2026-02-01", "--customer",
                 "C9", "--db", store_url]) == 2  # fmt: skip
    assert "no metering point 707057500000009999" in capsys.readouterr().err
    assert main(["supply", "set", OSLO_MP, "--from", "2026-01-01", "--customer", "C1",
                 "--db", store_url]) == 0  # fmt: skip
    assert f"{OSLO_MP}: C1 from 2026-01-01" in capsys.readouterr().out
    assert main(["settle", "--month", "2026-01", "--tariff", TARIFF_FILE, "--mp", OSLO_MP,
                 "--db", store_url, "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "1.5 kWh estimated" in out
    assert "Kapasitetsledd trinn 0-2 kW" in out
    assert " *" in out  # the lines resting on the estimated hour are marked
    assert "Settled 1 supplies and re-settled 0; 0 unchanged; 0 not settled." in out

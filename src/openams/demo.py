"""The main job, end to end, on a simulated grid company (``ams demo``).

1. An estate of ``meters`` metering points (``ams sim grid``) and a scenario of trouble made
   for it: radio loss, duplicates, late pushes, a secondary substation outage, a stuck and a
   jumping register, a drifting clock, a silent meter, a replay attack, a failing radio and a
   meter with the wrong key, besides faults drawn at random.
2. ``days`` days of pushes from every meter (``ams sim run``), with the ground truth.
3. The estate and its keys imported, keys wrapped under a fresh key-encrypting key.
4. The pushes ingested: decrypted, checked, stored or quarantined.
5. VEE of every day, as on the morning after the last one.
6. The Elhub delivery of every day, and its report.
7. The measured values checked against the simulator's truth.
8. Synthetic day-ahead prices (quarter-hours, EUR/NOK 11.50) for the month of the first day.
9. That month settled with an example tariff and the state's rules (every tenth metering point
   with Norgespris); only the simulated days have values, the other hours count as missing.
10. An HTML and a PDF invoice per metering point.
11. A customer's and an operator's account for the portal (``logins.txt``), which
    ``ams demo`` then serves until Ctrl-C, as on the morning after the last day.

This module only composes the parts (the simulator, the store, the services); each step is
what the command of the same name does.
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from openams.config import generate_kek_hex
from openams.domain.prices import ExchangeRate
from openams.keyvault import KeyVault
from openams.services.accounts import create_account
from openams.services.export import ExportReport, export_day
from openams.services.ingest import IngestReport, ingest_file
from openams.services.invoice import InvoiceParty, write_invoices
from openams.services.registry import import_estate
from openams.services.settlement import SettleReport, SupplyPeriod, settle_month
from openams.services.tariff_files import default_taxes, example_tariff
from openams.services.vee import VeeReport, local_day_bounds, run_vee
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.prices import generate_prices
from openams.sim.run import RunSettings, RunSummary, run_fleet
from openams.store import Store, open_store
from openams.store.accounts import SqlAccountStore
from openams.store.estate import SqlEstateStore
from openams.store.export import SqlExportStore
from openams.store.ingest import SqlIngestStore
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore
from openams.store.vee import SqlVeeStore

__all__ = ["DEMO_GLN", "DemoResult", "Step", "run_demo"]

#: A made-up GLN (valid check digit) for the demo grid company.
DEMO_GLN = "7080010000002"
#: The example tariff the demo settles with, and the EUR/NOK rate of its prices.
DEMO_TARIFF = "elvia_2026"
DEMO_EUR_NOK = Decimal("11.50")
#: Register resolution of each make's List 3 on the wire. [Wh]
_RESOLUTION_WH = {"Aidon": 10, "Kamstrup": 10, "Kaifa": 1}


@dataclass(slots=True)
class DemoResult:
    """What the demo did, step by step."""

    folder: Path
    db_url: str
    first_day: date
    days: int
    meters: int = 0
    sim: RunSummary | None = None
    imported: int = 0
    ingest: IngestReport | None = None
    vee: VeeReport | None = None
    exports: list[ExportReport] = field(default_factory=list)
    checked: int = 0  # measured values compared with the truth
    matching: int = 0  # ... equal to it within the register resolution
    prices: int = 0  # quarter-hour prices generated
    settlement: SettleReport | None = None
    month: str = ""
    invoices: int = 0  # invoice files written
    now_s: int = 0  # the demo's "now": the morning after the last simulated day
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # role: (e-mail, password)
    seconds: dict[str, float] = field(default_factory=dict)


#: ``step(name, done, total)``: progress of the step called ``name``.
Step = Callable[[str, int, int], None]


def _scenario(grid_dir: Path, first: date, days: int) -> str:
    """A scenario for this estate: one of each kind of trouble, spread over the period."""
    with (grid_dir / "meters.csv").open(newline="", encoding="utf-8") as fh:
        meters = list(csv.DictReader(fh))
    with (grid_dir / "topology.csv").open(newline="", encoding="utf-8") as fh:
        transformers = [row["transformer_id"] for row in csv.DictReader(fh)]
    hourly = [m["meter_id"] for m in meters if m["push_interval_s"] == "3600"]
    pick = hourly if len(hourly) >= 8 else [m["meter_id"] for m in meters]

    def at(day: int, hour: int, minute: int = 0) -> str:
        midnight = datetime(first.year, first.month, first.day)
        moment = midnight + timedelta(days=day, hours=hour, minutes=minute)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")

    last = days - 1
    middle = min(1, last)
    out = [
        "# Made by ams demo for its own estate.",
        "[radio]\nloss_rate = 0.004\nduplicate_rate = 0.002\nlate_rate = 0.001\n"
        "late_delay_h = [1, 8]",
        "[random]\ninstallation_outages = 30.0\nsilent_meters = 5.0\nclock_drift = 10.0\n"
        "tampering = 10.0\nvoltage_excursions = 10.0",
        f'[[fault]]\nkind = "outage"\ntarget = "{transformers[0]}"\n'
        f"start = {at(0, 14, 10)}\nend = {at(0, 16, 40)}",
        f'[[fault]]\nkind = "stuck_register"\ntarget = "{pick[0]}"\n'
        f"start = {at(0, 6)}\nend = {at(middle, 18)}",
        f'[[fault]]\nkind = "jumping_register"\ntarget = "{pick[1 % len(pick)]}"\n'
        f"start = {at(middle, 11, 20)}\njump_wh = 10_000_000",
        f'[[fault]]\nkind = "replay"\ntarget = "{pick[2 % len(pick)]}"\n'
        f"start = {at(middle, 22, 15)}\ncount = 4",
        f'[[fault]]\nkind = "corrupt"\ntarget = "{pick[3 % len(pick)]}"\n'
        f"start = {at(0, 0)}\nrate = 0.3",
        f'[[fault]]\nkind = "wrong_key"\ntarget = "{pick[4 % len(pick)]}"\n'
        f"start = {at(middle, 10)}",
        f'[[fault]]\nkind = "silent"\ntarget = "{pick[5 % len(pick)]}"\nstart = {at(last, 15)}',
        f'[[fault]]\nkind = "clock_drift"\ntarget = "{pick[6 % len(pick)]}"\n'
        f"start = {at(0, 0)}\ndrift_s_per_day = 90.0",
    ]
    return "\n\n".join(out) + "\n"


def run_demo(
    folder: Path,
    *,
    meters: int,
    days: int,
    first_day: date,
    seed: int = 1,
    workers: int = 0,
    step: Step | None = None,
) -> DemoResult:
    """Run the whole chain into ``folder`` (its old demo files are replaced).

    Raises:
        InputError: a bad setting.
    """
    report = step or (lambda _name, _done, _total: None)
    if folder.exists():
        for name in ("grid", "truth", "elhub", "invoices"):
            shutil.rmtree(folder / name, ignore_errors=True)
        for path in (*folder.glob("openams.db*"), folder / "logins.txt"):
            path.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'openams.db'}"
    result = DemoResult(folder, db_url, first_day, days)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[name] = now - clock
        clock = now

    # 1-2: the estate, the scenario, the pushes and the truth
    report("simulate", 0, 1)
    grid = build_grid(meters=meters, area="NO1", seed=seed)
    write_grid(grid, folder / "grid")
    result.meters = len(grid.meters)
    (folder / "scenario.toml").write_text(_scenario(folder / "grid", first_day, days))
    result.sim = run_fleet(
        RunSettings(folder / "grid", first_day, days, scenario_path=folder / "scenario.toml",
                    seed=seed, workers=workers),
        out=folder / "pushes.jsonl",
        truth_dir=folder / "truth",
    )  # fmt: skip
    report("simulate", 1, 1)
    lap("simulate")
    # 3: the estate, keys wrapped under a key-encrypting key kept beside the demo
    kek_hex = generate_kek_hex()
    kek_path = folder / "kek.hex"
    kek_path.write_text(kek_hex + "\n")
    os.chmod(kek_path, 0o600)
    vault = KeyVault(bytes.fromhex(kek_hex))
    store = open_store(db_url)
    try:
        imported = import_estate([folder / "grid"], SqlEstateStore(store), vault)
        result.imported = sum(imported.added.values())
        lap("import")
        # 4: ingest
        lines_total = max(1, result.sim.pushes_written)
        with (folder / "pushes.jsonl").open("rb") as fh:
            result.ingest = ingest_file(
                fh,
                SqlIngestStore(store, vault),
                source="pushes.jsonl",
                now_s=int(time.time()),
                workers=workers or os.cpu_count() or 1,
                progress=lambda r: report("ingest", r.received, lines_total),
            )
        lap("ingest")
        # 5: VEE as on the morning after the last day, 07:00
        the_days = [first_day + timedelta(days=i) for i in range(days)]
        morning_s = local_day_bounds(the_days[-1] + timedelta(days=1))[0] + 7 * 3600
        result.vee = run_vee(
            SqlVeeStore(store), the_days, now_s=morning_s,
            progress=lambda done, total: report("vee", done, total),
        )  # fmt: skip
        lap("vee")
        # 6: the Elhub delivery of each day, made before that morning's deadline
        elhub = folder / "elhub"
        elhub.mkdir(parents=True, exist_ok=True)
        exports = SqlExportStore(store)
        for number, day in enumerate(the_days, 1):
            result.exports.append(
                export_day(
                    exports,
                    day,
                    sender_gln=DEMO_GLN,
                    write=_writer(elhub),
                    now_s=morning_s - 30 * 60,
                )
            )
            report("export", number, len(the_days))
        lap("export")
        # 7: the measured values against the truth
        result.checked, result.matching = _check_truth(store, folder)
        lap("check")
        # 8-10: prices, the month settled, invoices
        _settle_and_invoice(store, result, grid.metering_points, seed, morning_s, report)
        # 11: a customer's and an operator's log-in for the portal
        result.now_s = morning_s
        result.logins = _demo_accounts(store, grid.metering_points[0].customer_id, folder)
        lap("settle")
    finally:
        store.close()
    return result


def _settle_and_invoice(
    store: Store, result: DemoResult, points: list[Any], seed: int, now_s: int, report: Step
) -> None:
    first = result.first_day.replace(day=1)
    result.month = f"{first:%Y-%m}"
    days = (
        first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1) - first
    ).days
    areas = sorted({p.area for p in points})
    report("prices", 0, 1)
    made = generate_prices(areas, first, days, resolution_s=900, seed=seed)
    prices = SqlPriceStore(store)
    prices.save_prices(made, "simulated", now_s)
    prices.save_rates(
        [ExchangeRate(first + timedelta(days=n), DEMO_EUR_NOK) for n in range(-7, days)],
        "simulated", now_s,
    )  # fmt: skip
    result.prices = len(made)
    report("prices", 1, 1)
    settlements = SqlSettlementStore(store)
    for point in points[::10]:
        settlements.save_supply(
            SupplyPeriod(point.metering_point_id, date(2000, 1, 1), None, point.customer_id,
                         norgespris=True)
        )  # fmt: skip
    total = len(points)
    done = 0

    def settled(count: int) -> None:
        nonlocal done
        done += count
        report("settle", done, total)

    result.settlement = settle_month(
        settlements, prices, result.month, example_tariff(DEMO_TARIFF), default_taxes(),
        now_s=now_s, progress=settled,
    )  # fmt: skip
    runs = settlements.billed_runs(result.month)
    items = [
        (run.settlement, InvoiceParty(run.company, run.customer_name, run.street, run.postcode,
                                      run.municipality, run.settlement.customer_id))
        for run in runs
    ]  # fmt: skip
    for start in range(0, len(items), 100):
        written = write_invoices(items[start : start + 100], result.folder / "invoices")
        result.invoices += len(written)
        report("invoices", min(start + 100, len(items)), len(items))


def _demo_accounts(store: Store, customer_id: str, folder: Path) -> dict[str, tuple[str, str]]:
    """A customer's and an operator's account with fresh passwords, also written (owner
    only) to ``folder/logins.txt``."""
    logins = {
        "customer": ("kunde@demo.openams.no", secrets.token_urlsafe(12)),
        "operator": ("drift@demo.openams.no", secrets.token_urlsafe(12)),
    }
    accounts = SqlAccountStore(store)
    for role, (email, password) in logins.items():
        whose = customer_id if role == "customer" else None
        create_account(accounts, email, password, role, whose, now_s=int(time.time()))
    path = folder / "logins.txt"
    path.write_text("".join(f"{role}: {email} {password}\n"
                            for role, (email, password) in logins.items()))  # fmt: skip
    os.chmod(path, 0o600)
    return logins


def _writer(folder: Path) -> Callable[[str, bytes], str]:
    def write(name: str, data: bytes) -> str:
        temporary = folder / f".{name}.part"
        temporary.write_bytes(data)
        os.replace(temporary, folder / name)
        return str(folder / name)

    return write


def _check_truth(store: Store, folder: Path) -> tuple[int, int]:
    """Measured values compared with the simulator's true interval energy."""
    truth: dict[tuple[str, int], int] = {}
    with (folder / "truth" / "intervals.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            start = int(datetime.fromisoformat(row["start"]).timestamp())
            truth[(row["metering_point_id"], start)] = int(row["import_wh"])
    with (folder / "grid" / "meters.csv").open(newline="", encoding="utf-8") as fh:
        makers = {r["metering_point_id"]: r["manufacturer"] for r in csv.DictReader(fh)}
    with (folder / "truth" / "faults.csv").open(newline="", encoding="utf-8") as fh:
        drift_ids = {r["fault_id"] for r in csv.DictReader(fh) if r["kind"] == "clock_drift"}
    with (folder / "truth" / "fault_meters.csv").open(newline="", encoding="utf-8") as fh:
        drifting = {r["metering_point_id"] for r in csv.DictReader(fh)
                    if r["fault_id"] in drift_ids}  # fmt: skip
    outcome: Counter[bool] = Counter()
    with store.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT metering_point_id, start_at_s, import_wh FROM interval_values "
            "WHERE status = 'measured'"
        ))  # fmt: skip
        for mp, start, import_wh in rows:
            true_wh = truth.get((mp, start))
            if true_wh is None or mp in drifting:
                continue
            ok = abs(import_wh - true_wh) <= _RESOLUTION_WH.get(makers.get(mp, ""), 10)
            outcome[ok] += 1
    return outcome[True] + outcome[False], outcome[True]

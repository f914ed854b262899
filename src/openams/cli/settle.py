"""``ams settle``: settle (or re-settle) a month; ``ams supply``: who is billed from when."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from datetime import datetime

import click
from rich.progress import Progress

from openams.config import load_settings
from openams.domain.settlement import month_bounds
from openams.domain.settlement_types import Settlement
from openams.services.settlement import SettleReport, SupplyPeriod, settle_month
from openams.services.tariff_files import default_taxes, load_tariff_file, load_taxes_file
from openams.store import open_store
from openams.store.prices import SqlPriceStore
from openams.store.settlement import SqlSettlementStore

from .meters import DB_OPTION

__all__ = ["month_option", "settle_command", "supply_group"]

TARIFF_OPTION = click.option(
    "--tariff",
    "tariff_file",
    envvar="OPENAMS_TARIFF",
    type=click.Path(dir_okay=False),
    default=None,
    help="The grid company's tariff file (TOML; default: $OPENAMS_TARIFF).",
)
TAXES_OPTION = click.option(
    "--taxes",
    "taxes_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The state's taxes and support rules (TOML; default: the rules shipped with OpenAMS).",
)
_CSV_COLUMNS = (
    "metering_point_id",
    "customer_id",
    "month",
    "version",
    "kind",
    "code",
    "text",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "estimated",
)


def _month(value: str) -> str:
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise click.BadParameter(f"write the month as YYYY-MM, not {value!r}") from None
    if len(value) != 7:
        raise click.BadParameter(f"write the month as YYYY-MM, not {value!r}")
    return value


month_option = click.option(
    "--month", required=True, callback=lambda _c, _p, v: _month(v), help="The month, YYYY-MM."
)


@click.command("settle")
@month_option
@click.option("--mp", "metering_point_id", default=None, help="Only this metering point.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@TARIFF_OPTION
@TAXES_OPTION
@DB_OPTION
@click.option(
    "--refresh",
    is_flag=True,
    help="Rebuild the month's daily usage from the interval values first.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Processes settling side by side (0: one per core).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def settle_command(
    month: str,
    metering_point_id: str | None,
    fmt: str,
    tariff_file: str | None,
    taxes_file: str | None,
    db: str | None,
    refresh: bool,
    workers: int,
    quiet: bool,
) -> None:
    """Settle a month from validated hourly values: capacity step, energy part, taxes, support
    and VAT per metering point. Run it again after corrections: the difference is billed as
    a re-settlement and both runs are kept. Exit 1 when a metering point could not be settled."""
    if tariff_file is None:
        raise click.UsageError("name the tariff file with --tariff (or $OPENAMS_TARIFF)")
    tariff = load_tariff_file(tariff_file)
    taxes = load_taxes_file(taxes_file) if taxes_file else default_taxes()
    url = load_settings(db=db).db_url
    store = open_store(url)

    def open_stores() -> tuple[SqlSettlementStore, SqlPriceStore]:
        own = open_store(url, migrate=False)  # a worker's own connections
        return SqlSettlementStore(own), SqlPriceStore(own)

    try:
        settlements = SqlSettlementStore(store)
        points = len(settlements.metering_points(metering_point_id))
        if metering_point_id is not None and not points:
            raise click.UsageError(f"no metering point {metering_point_id}")
        if refresh:
            first, last = month_bounds(month)
            settlements.refresh_usage(first, last, int(time.time()))
        with Progress(disable=quiet or fmt != "table", transient=True) as bar:
            task = bar.add_task("settling", total=points)
            report = settle_month(
                settlements,
                SqlPriceStore(store),
                month,
                tariff,
                taxes,
                now_s=int(time.time()),
                metering_point_id=metering_point_id,
                progress=lambda done: bar.advance(task, done),
                workers=workers or os.cpu_count() or 1,
                open_stores=open_stores,
            )
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in report.billed], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        _write_csv(report.billed)
    else:
        _print_table(report, show_lines=metering_point_id is not None)
    for problem in report.problems:
        click.echo(f"not settled: {problem}", err=True)
    if report.problems:
        raise click.exceptions.Exit(1)


def _write_csv(billed: list[Settlement]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for s in billed:
        for line in s.lines:
            writer.writerow(
                (
                    s.metering_point_id,
                    s.customer_id,
                    s.month,
                    s.version,
                    s.kind,
                    line.code,
                    line.text,
                    line.quantity,
                    line.unit,
                    line.unit_price,
                    line.amount,
                    int(line.estimated),
                )
            )


def _print_table(report: SettleReport, *, show_lines: bool) -> None:
    for s in report.billed:
        mark = f" (re-settlement v{s.version})" if s.kind == "resettlement" else ""
        estimated = f", {s.estimated_kwh} kWh estimated" if s.estimated_kwh else ""
        missing = f", {s.missing_hours} hours missing" if s.missing_hours else ""
        click.echo(
            f"{s.metering_point_id} {s.first_day}..{s.last_day}{mark}: {s.energy_kwh} kWh"
            f"{estimated}{missing}, capacity {s.capacity_kw} kW (step {s.capacity_step}), "
            f"total {s.total_nok} NOK"
        )
        if show_lines:
            for line in s.lines:
                star = " *" if line.estimated else ""
                click.echo(
                    f"    {line.text:<44} {line.quantity:>12} {line.unit:<5} "
                    f"x {line.unit_price:>9} = {line.amount:>10} NOK{star}"
                )
    resettled = sum(1 for s in report.billed if s.kind == "resettlement")
    click.echo(
        f"Settled {len(report.billed) - resettled:,} supplies and re-settled {resettled:,}; "
        f"{report.unchanged:,} unchanged; {len(report.problems):,} not settled. "
        f"Billed {report.total_nok} NOK."
    )


@click.group("supply")
def supply_group() -> None:
    """Who is billed at a metering point from which day, and whether with Norgespris."""


@supply_group.command("set")
@click.argument("metering_point_id")
@click.option(
    "--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day supplied."
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day supplied (included); default: ongoing.",
)
@click.option("--customer", "customer_id", required=True, help="The customer billed.")
@click.option(
    "--norgespris/--no-norgespris",
    default=False,
    show_default=True,
    help="Whether the metering point has chosen Norgespris.",
)
@DB_OPTION
def supply_set_command(
    metering_point_id: str,
    first: datetime,
    last: datetime | None,
    customer_id: str,
    norgespris: bool,
    db: str | None,
) -> None:
    """Record that a customer is supplied at a metering point from a day (a move in)."""
    if last is not None and last < first:
        raise click.UsageError("--to is before --from")
    store = open_store(load_settings(db=db).db_url)
    try:
        settlements = SqlSettlementStore(store)
        if not settlements.metering_points(metering_point_id):
            raise click.UsageError(f"no metering point {metering_point_id}")
        settlements.save_supply(
            SupplyPeriod(
                metering_point_id,
                first.date(),
                None if last is None else last.date(),
                customer_id,
                norgespris,
            )
        )
    finally:
        store.close()
    until = f" to {last.date()}" if last is not None else ""
    with_np = " with Norgespris" if norgespris else ""
    click.echo(f"{metering_point_id}: {customer_id} from {first.date()}{until}{with_np}")

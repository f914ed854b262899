"""``ams prices``: import day-ahead prices and exchange rates; show a zone's hourly prices."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click

from openams.config import load_settings
from openams.domain.prices import BIDDING_ZONES, ExchangeRate
from openams.services.prices import hourly_prices_nok, import_prices
from openams.services.vee import OSLO, local_day_bounds
from openams.sim.prices import generate_prices
from openams.store import open_store
from openams.store.prices import SqlPriceStore

from .meters import DB_OPTION

__all__ = ["prices_group"]

#: The EUR/NOK rate stored with simulated prices.
SIMULATED_EUR_NOK = Decimal("11.50")


@click.group("prices")
def prices_group() -> None:
    """Day-ahead spot prices per bidding zone and EUR/NOK exchange rates."""


@prices_group.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))  # fmt: skip
@DB_OPTION
def prices_import_command(files: tuple[str, ...], db: str | None) -> None:
    """Import price files: ENTSO-E day-ahead documents (A44 XML, hourly or quarter-hourly),
    Nord Pool style CSV, Norges Bank exchange-rate CSV (the kind is recognised). Bad rows are
    reported with their line; the good rows go in. Exit 1 when anything was reported."""
    store = open_store(load_settings(db=db).db_url)
    try:
        contents = ((Path(name).name, Path(name).read_bytes()) for name in files)
        report = import_prices(contents, SqlPriceStore(store), now_s=int(time.time()))
    finally:
        store.close()
    for found in report.files:
        parts = [
            f"{n:,} {zone} {'hourly' if res == 3600 else 'quarter-hour'} prices"
            for (zone, res), n in sorted(found.prices.items())
        ]
        if found.rates:
            parts.append(f"{found.rates:,} exchange rates")
        click.echo(f"{found.source}: {', '.join(parts) or 'nothing imported'}")
        for problem in found.problems:
            click.echo(f"  {problem}", err=True)
    if report.problems:
        click.echo(f"{report.problems:,} problems reported; the other rows were imported")
        raise click.exceptions.Exit(1)


@prices_group.command("show")
@click.option("--zone", type=click.Choice(BIDDING_ZONES), required=True)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day (local).")  # fmt: skip
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day (local), included; default: the first.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)  # fmt: skip
@DB_OPTION
def prices_show_command(zone: str, first: datetime, last: datetime | None, fmt: str,
                        db: str | None) -> None:  # fmt: skip
    """A zone's hourly prices (quarter-hours averaged per hour) in EUR/MWh and NOK/kWh."""
    start_s = local_day_bounds(first.date())[0]
    end_s = local_day_bounds((last or first).date())[1]
    if end_s <= start_s:
        raise click.UsageError("--to is before --from")
    store = open_store(load_settings(db=db).db_url)
    try:
        hours = hourly_prices_nok(SqlPriceStore(store), zone, start_s, end_s)
    finally:
        store.close()
    if not hours:
        click.echo(f"no prices for {zone} in that period", err=True)
        raise click.exceptions.Exit(1)
    if fmt == "csv":
        click.echo("start,end,price_per_mwh,currency,nok_per_kwh,rate_day")
    for hour in hours:
        start = datetime.fromtimestamp(hour.start_at_s, OSLO)
        end = datetime.fromtimestamp(hour.start_at_s + 3600, OSLO)  # a whole hour, DST too
        nok = f"{hour.nok_per_kwh:.5f}" if hour.nok_per_kwh is not None else ""
        rate_day = hour.rate_day.isoformat() if hour.rate_day else ""
        if fmt == "json":
            click.echo(json.dumps({
                "start": start.isoformat(), "end": end.isoformat(),
                "price_per_mwh": str(hour.price_per_mwh), "currency": hour.currency,
                "nok_per_kwh": str(hour.nok_per_kwh) if hour.nok_per_kwh is not None else None,
                "rate_day": rate_day or None,
            }))  # fmt: skip
        elif fmt == "csv":
            click.echo(f"{start.isoformat()},{end.isoformat()},{hour.price_per_mwh},"
                       f"{hour.currency},{nok},{rate_day}")  # fmt: skip
        else:
            click.echo(f"{start:%Y-%m-%d %H:%M}  {hour.price_per_mwh:>10.2f} "
                       f"{hour.currency}/MWh  {nok or 'no rate':>9} NOK/kWh")  # fmt: skip


@prices_group.command("simulate")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day (local).")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3660), default=1, show_default=True)
@click.option("--zone", "zones", type=click.Choice(BIDDING_ZONES), multiple=True,
              help="A zone (repeatable); default: all five.")  # fmt: skip
@click.option("--resolution", type=click.Choice(["hour", "quarter"]), default="hour",
              show_default=True)  # fmt: skip
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True)
@DB_OPTION
def prices_simulate_command(first: datetime, days: int, zones: tuple[str, ...], resolution: str,
                            seed: int, db: str | None) -> None:  # fmt: skip
    """Store synthetic day-ahead prices (for demos and tests, never for billing), with a
    constant EUR/NOK rate of 11.50 on each day."""
    resolution_s = 3600 if resolution == "hour" else 900
    made = generate_prices(zones or BIDDING_ZONES, first.date(), days,
                           resolution_s=resolution_s, seed=seed)  # fmt: skip
    rates = [ExchangeRate(first.date() + timedelta(days=i), SIMULATED_EUR_NOK)
             for i in range(days)]  # fmt: skip
    store = open_store(load_settings(db=db).db_url)
    try:
        prices = SqlPriceStore(store)
        prices.save_prices(made, "simulated", int(time.time()))
        prices.save_rates(rates, "simulated", int(time.time()))
    finally:
        store.close()
    click.echo(f"{len(made):,} simulated prices for {', '.join(zones or BIDDING_ZONES)}, "
               f"{days} day(s) from {first:%Y-%m-%d}")  # fmt: skip

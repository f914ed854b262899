"""``ams invoice``: the month's settled bills as HTML and PDF invoices."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from openams.config import load_settings
from openams.services.invoice import InvoiceParty, write_invoices
from openams.store import open_store
from openams.store.settlement import SqlSettlementStore

from .meters import DB_OPTION
from .settle import month_option

__all__ = ["invoice_command"]


@click.command("invoice")
@month_option
@click.option("--mp", "metering_point_id", default=None, help="Only this metering point.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory for the invoices (created if missing).",
)
@DB_OPTION
def invoice_command(month: str, metering_point_id: str | None, out: str, db: str | None) -> None:
    """Write an HTML and a PDF invoice for every run billed for a month (run ams settle
    first): the lines, a chart of consumption and price per day, and the capacity figure's
    three hours. A re-settlement gets its own invoice (file name ending _v2, _v3, ...)."""
    store = open_store(load_settings(db=db).db_url)
    try:
        runs = SqlSettlementStore(store).billed_runs(month, metering_point_id)
    finally:
        store.close()
    if not runs:
        where = f" for {metering_point_id}" if metering_point_id else ""
        raise click.UsageError(f"nothing is settled for {month}{where}: run ams settle first")
    items = [
        (
            run.settlement,
            InvoiceParty(
                company_name=run.company,
                customer_name=run.customer_name,
                street_address=run.street,
                postcode=run.postcode,
                post_town=run.municipality,
                customer_id=run.settlement.customer_id,
            ),
        )
        for run in runs
    ]
    written = write_invoices(items, Path(out))
    total = sum((run.settlement.total_nok for run in runs), start=Decimal(0))
    click.echo(
        f"Wrote {len(written):,} files for {len(runs):,} invoices to {out}/ (billed {total} NOK)"
    )

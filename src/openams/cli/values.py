"""``ams values``: a metering point's values for a period, with the status of every value."""

from __future__ import annotations

import json
from datetime import datetime

import click

from openams.config import load_settings
from openams.services.values import RESOLUTIONS, read_values
from openams.store import open_store
from openams.store.values import SqlValueStore

from .meters import DB_OPTION

__all__ = ["values_command"]


@click.command("values")
@click.option("--mp", "metering_point_id", required=True, help="The metering point (GSRN).")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="First day (local).")  # fmt: skip
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Last day (local), included.")  # fmt: skip
@click.option("--resolution", type=click.Choice(list(RESOLUTIONS)), default="hour",
              show_default=True)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)  # fmt: skip
@DB_OPTION
def values_command(metering_point_id: str, first: datetime, last: datetime, resolution: str,
                   fmt: str, db: str | None) -> None:  # fmt: skip
    """Print a metering point's values, every interval of the period with its status."""
    store = open_store(load_settings(db=db).db_url)
    try:
        try:
            series = read_values(
                SqlValueStore(store), metering_point_id, first.date(), last.date(), resolution
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    finally:
        store.close()
    if fmt == "csv":
        click.echo("start,end,import_kwh,export_kwh,status")
    for value in series:
        kwh = f"{value.import_wh / 1000:.3f}" if value.import_wh is not None else ""
        out_kwh = f"{value.export_wh / 1000:.3f}" if value.export_wh is not None else ""
        if fmt == "json":
            click.echo(json.dumps({
                "start": value.start.isoformat(), "end": value.end.isoformat(),
                "import_wh": value.import_wh, "export_wh": value.export_wh,
                "status": value.status,
            }))  # fmt: skip
        elif fmt == "csv":
            click.echo(f"{value.start.isoformat()},{value.end.isoformat()},{kwh},{out_kwh},"
                       f"{value.status}")  # fmt: skip
        else:
            click.echo(f"{value.start:%Y-%m-%d %H:%M%z}  {kwh:>10} kWh  {value.status}")

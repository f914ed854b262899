"""``ams values``: a metering point's values for a period, with the status of every value."""

from __future__ import annotations

import getpass
import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import click

from openams.config import load_settings
from openams.services.edits import edit_value
from openams.services.values import OSLO, RESOLUTIONS, read_values
from openams.store import open_store
from openams.store.values import SqlEditStore, SqlValueStore

from .meters import DB_OPTION

__all__ = ["values_command"]


@click.group("values", invoke_without_command=True)
@click.option("--mp", "metering_point_id", default=None, help="The metering point (GSRN).")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (local).")  # fmt: skip
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day (local), included.")  # fmt: skip
@click.option("--resolution", type=click.Choice(list(RESOLUTIONS)), default="hour",
              show_default=True)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)  # fmt: skip
@DB_OPTION
@click.pass_context
def values_command(ctx: click.Context, metering_point_id: str | None, first: datetime | None,
                   last: datetime | None, resolution: str, fmt: str,
                   db: str | None) -> None:  # fmt: skip
    """Print a metering point's values, every interval of the period with its status
    (--mp, --from and --to); or edit one (ams values edit)."""
    if ctx.invoked_subcommand is not None:
        return
    if metering_point_id is None or first is None or last is None:
        raise click.UsageError("--mp, --from and --to are needed")
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


@values_command.command("edit")
@click.option("--mp", "metering_point_id", required=True, help="The metering point (GSRN).")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              required=True, help="Start of the interval, local (2026-01-05T14:00).")  # fmt: skip
@click.option("--import-kwh", type=str, required=True, help="The new active import. [kWh]")
@click.option("--export-kwh", type=str, default=None, help="The new active export. [kWh]")
@click.option("--reason", required=True, help="Why: kept in the audit.")
@click.option("--by", "edited_by", default=None, help="Who edits (default: the login name).")
@DB_OPTION
def values_edit_command(metering_point_id: str, at: datetime, import_kwh: str,
                        export_kwh: str | None, reason: str, edited_by: str | None,
                        db: str | None) -> None:  # fmt: skip
    """Replace one interval value by hand; the old and new value, who and why are audited."""
    start = at.replace(tzinfo=OSLO)
    store = open_store(load_settings(db=db).db_url)
    try:
        edit = edit_value(
            SqlEditStore(store), metering_point_id, int(start.timestamp()),
            import_wh=_wh(import_kwh, "--import-kwh"),
            export_wh=_wh(export_kwh, "--export-kwh") if export_kwh is not None else None,
            reason=reason, edited_by=edited_by or getpass.getuser(), now_s=int(time.time()),
        )  # fmt: skip
    finally:
        store.close()
    old = f"{edit.old_import_wh / 1000:.3f} kWh" if edit.old_import_wh is not None else "none"
    new = f"{(edit.new_import_wh or 0) / 1000:.3f} kWh"
    click.echo(
        f"{metering_point_id} {start:%Y-%m-%d %H:%M}: {old} ({edit.old_status}) -> {new} "
        f"(estimated, manual) by {edit.edited_by}"
    )


@values_command.command("edits")
@click.option("--mp", "metering_point_id", default=None, help="Only this metering point.")
@DB_OPTION
def values_edits_command(metering_point_id: str | None, db: str | None) -> None:
    """The audit of manual edits, oldest first, as JSON Lines."""
    store = open_store(load_settings(db=db).db_url)
    try:
        for edit in SqlEditStore(store).edits(metering_point_id):
            record = asdict(edit)
            record["edited_at"] = datetime.fromtimestamp(edit.edited_at_s, UTC).isoformat()
            record["start"] = datetime.fromtimestamp(edit.start_at_s, OSLO).isoformat()
            click.echo(json.dumps(record, ensure_ascii=False))
    finally:
        store.close()


def _wh(kwh: str, name: str) -> int:
    try:
        value = Decimal(kwh) * 1000
    except InvalidOperation:
        raise click.BadParameter(f"{kwh!r} is not a number", param_hint=name) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise click.BadParameter(f"{kwh} kWh is not a whole number of Wh", param_hint=name)
    return int(value)

"""``ams export elhub``: a day's series for Elhub, and the delivery report."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from openams.config import load_settings
from openams.services.export import ExportReport, export_day
from openams.store import open_store
from openams.store.export import SqlExportStore

from .meters import DB_OPTION

__all__ = ["atomic_writer", "export_group", "print_delivery_report"]


@click.group("export")
def export_group() -> None:
    """Deliveries to others: Elhub."""


def atomic_writer(folder: Path) -> Callable[[str, bytes], str]:
    """Writes a file whole or not at all: a temporary file beside it, synced, renamed."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> str:
        target = folder / name
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return str(target)

    return write


def print_delivery_report(report: ExportReport, console: Console | None = None) -> None:
    """The delivery report as a table: how the day stands at the deadline."""
    console = console or Console()
    counts = report.counts()
    when = "before" if report.on_time else "after"
    console.print(
        f"Elhub delivery of {report.day} (deadline {report.deadline:%Y-%m-%d %H:%M %Z}, "
        f"exported {when} it): {report.series_sent:,} series sent in {len(report.files)} "
        f"message(s), {report.corrections:,} of them corrections; {report.unchanged:,} unchanged"
    )
    table = Table(title=f"Metering points on {report.day}")
    table.add_column("state")
    table.add_column("metering points", justify="right")
    table.add_column("meaning")
    table.add_row("complete", f"{counts['complete']:,}", "every value measured")
    table.add_row("estimated", f"{counts['estimated']:,}", "every value there, some estimated")
    table.add_row("missing", f"{counts['missing']:,}", "some values Elhub does not get")
    console.print(table)
    short = [x for x in report.lines if x.state == "missing"][:20]
    if short:
        listing = Table(title="Missing values (first 20 metering points)")
        for name in ("metering point", "intervals", "measured", "estimated", "missing"):
            listing.add_column(name, justify="right" if name != "metering point" else "left")
        for x in short:
            listing.add_row(x.metering_point_id, str(x.intervals), str(x.measured),
                            str(x.estimated), str(x.missing))  # fmt: skip
        console.print(listing)


@export_group.command("elhub")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The local day to deliver.")  # fmt: skip
@click.option("--out", "out", type=click.Path(file_okay=False), required=True,
              help="Directory for the messages and the report.")  # fmt: skip
@click.option("--gln", default=None,
              help="The grid company's GLN, the sender (default: $OPENAMS_GLN).")  # fmt: skip
@click.option("--resend", is_flag=True, help="Send every series, not only what changed.")
@DB_OPTION
@click.option("--quiet", is_flag=True, help="No progress bar.")
def export_elhub_command(day: datetime, out: str, gln: str | None, resend: bool,
                         db: str | None, quiet: bool) -> int:  # fmt: skip
    """Write day D's series for Elhub (BRS-NO-313 CollectedData) and the delivery report
    (delivery-D.json beside them). Exits 1 when some metering point has missing values."""
    sender = gln or os.environ.get("OPENAMS_GLN")
    if not sender:
        raise click.UsageError("give the grid company's GLN: --gln or $OPENAMS_GLN")
    folder = Path(out)
    store = open_store(load_settings(db=db).db_url)
    try:
        with Progress(disable=quiet) as bar:
            task = bar.add_task("Elhub export", total=None)
            report = export_day(
                SqlExportStore(store), day.date(), sender_gln=sender,
                write=atomic_writer(folder), now_s=int(time.time()), resend=resend,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    finally:
        store.close()
    name = f"delivery-{report.day.isoformat()}.json"
    atomic_writer(folder)(name, json.dumps(report.as_json(), indent=1).encode() + b"\n")
    print_delivery_report(report)
    click.echo(f"report: {folder / name}")
    return 1 if report.counts()["missing"] else 0

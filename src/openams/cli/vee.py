"""``ams vee run``: validation, estimation and editing of stored values, on demand."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import click
from rich.progress import Progress

from openams.config import load_settings
from openams.services.vee import OSLO, VeeReport, run_vee
from openams.store import open_store
from openams.store.vee import SqlVeeStore

from .meters import DB_OPTION

__all__ = ["print_vee_report", "vee_days", "vee_group"]


@click.group("vee")
def vee_group() -> None:
    """Validation, estimation and editing of interval values."""


def vee_days(day: datetime | None, first: datetime | None, last: datetime | None,
             now_s: int) -> list[date]:  # fmt: skip
    """The local days asked for: one day, a period, or yesterday and today."""
    if day is not None and (first is not None or last is not None):
        raise click.UsageError("give --day or --from/--to, not both")
    if day is not None:
        return [day.date()]
    if first is not None or last is not None:
        if first is None or last is None:
            raise click.UsageError("--from and --to go together")
        if last < first:
            raise click.UsageError("--to is before --from")
        count = (last.date() - first.date()).days + 1
        return [first.date() + timedelta(days=i) for i in range(count)]
    today = datetime.fromtimestamp(now_s, UTC).astimezone(OSLO).date()
    return [today - timedelta(days=1), today]


def print_vee_report(report: VeeReport) -> None:
    """The summary of a VEE run."""
    days = report.days
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]} .. {days[-1]}"
    click.echo(f"VEE of {report.points:,} metering points, {span}: {report.values:,} values")
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(report.by_status.items())) or "none"
    click.echo(f"  by status:      {statuses}")
    failed = ", ".join(f"{n:,} {s}" for s, n in sorted(report.by_validation.items())) or "none"
    click.echo(f"  not measured:   {failed}")
    methods = ", ".join(f"{n:,} {s}" for s, n in sorted(report.by_estimation.items())) or "none"
    click.echo(f"  estimated by:   {methods}")
    click.echo(f"  made final:     {report.finalised:,} estimates (D+5)")


@vee_group.command("run")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="One local day (default: yesterday and today).")  # fmt: skip
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First local day of a period.")  # fmt: skip
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last local day of a period, included.")  # fmt: skip
@DB_OPTION
@click.option("--quiet", is_flag=True, help="No progress bar.")
def vee_run_command(day: datetime | None, first: datetime | None, last: datetime | None,
                    db: str | None, quiet: bool) -> None:  # fmt: skip
    """Validate every metering point's values of the days, estimate what is missing or
    failed, and make estimates five days old final."""
    now_s = int(time.time())
    days = vee_days(day, first, last, now_s)
    store = open_store(load_settings(db=db).db_url)
    try:
        with Progress(disable=quiet) as bar:
            task = bar.add_task("VEE", total=len(days))
            report = run_vee(
                SqlVeeStore(store), days, now_s=now_s,
                progress=lambda done, _total: bar.update(task, completed=done),
            )  # fmt: skip
    finally:
        store.close()
    print_vee_report(report)

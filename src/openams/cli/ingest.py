"""``ams ingest``: pushes from files into the store (the head-end's file channel)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from openams.config import load_settings
from openams.services.ingest import IngestReport, ingest_file
from openams.services.vee import days_between, run_vee
from openams.store import open_store
from openams.store.ingest import SqlIngestStore
from openams.store.vee import SqlVeeStore

from .meters import DB_OPTION
from .vee import print_vee_report

__all__ = ["ingest_command"]


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@DB_OPTION
@click.option(
    "--kek-file",
    default=None,
    help="File with the key-encrypting key (default: $OPENAMS_KEK_FILE or $OPENAMS_KEK).",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Processes decrypting and decoding beside the writer (0: one per core, 1: none).",
)
@click.option("--no-vee", is_flag=True, help="Do not run VEE on the days ingested.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest_command(
    files: tuple[str, ...], db: str | None, kek_file: str | None, workers: int, no_vee: bool,
    quiet: bool,
) -> int:  # fmt: skip
    """Ingest pushes from FILES: JSON Lines from ams sim run, or one hex push per line.

    Every push is stored, counted as a duplicate, or quarantined with its reason; nothing is
    dropped. Ingesting the same file again changes nothing. VEE then runs on the local days
    the pushes are of. Exits 1 if any push was quarantined.
    """
    settings = load_settings(db=db, kek_file=kek_file)
    vault = settings.vault()
    store = open_store(settings.db_url)
    total = IngestReport()
    try:
        adapter = SqlIngestStore(store, vault)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[pushes]:,} pushes"),
            TimeElapsedColumn(),
            disable=quiet,
        ) as bar:
            for name in files:
                _add(total, _ingest_file(Path(name), adapter, bar, workers or os.cpu_count() or 1))
        vee = None
        if not no_vee and total.first_read_s is not None and total.last_read_s is not None:
            days = days_between(total.first_read_s, total.last_read_s)
            vee = run_vee(SqlVeeStore(store), days, now_s=int(time.time()))
    finally:
        store.close()
    quarantined = ", ".join(f"{n} {r}" for r, n in sorted(total.quarantined.items())) or "none"
    security = ", ".join(f"{n} {k}" for k, n in sorted(total.security_events.items())) or "none"
    click.echo(
        f"{total.received:,} pushes received: {total.stored:,} stored ({total.events:,} events), "
        f"{total.duplicates:,} duplicates, {total.quarantined_total:,} quarantined"
    )
    click.echo(f"interval values made: {total.intervals:,}")
    click.echo(f"quarantined: {quarantined}")
    click.echo(f"security events: {security}")
    if vee is not None:
        print_vee_report(vee)
    return 1 if total.quarantined_total else 0


def _ingest_file(path: Path, adapter: SqlIngestStore, bar: Progress, workers: int) -> IngestReport:
    size = path.stat().st_size or 1
    task = bar.add_task(path.name, total=size, pushes=0)
    with path.open("rb") as raw:

        def progress(report: IngestReport) -> None:
            bar.update(task, completed=raw.tell(), pushes=report.received)

        report = ingest_file(
            raw, adapter, source=path.name, now_s=int(time.time()), progress=progress,
            workers=workers,
        )  # fmt: skip
    bar.update(task, completed=size, pushes=report.received)
    return report


def _add(total: IngestReport, report: IngestReport) -> None:
    total.received += report.received
    total.stored += report.stored
    total.events += report.events
    total.duplicates += report.duplicates
    total.intervals += report.intervals
    total.quarantined.update(report.quarantined)
    for at_s in (report.first_read_s, report.last_read_s):
        if at_s is not None:
            total.first_read_s = min(at_s, total.first_read_s or at_s)
            total.last_read_s = max(at_s, total.last_read_s or at_s)
    total.security_events.update(report.security_events)

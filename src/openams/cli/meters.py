"""``ams meters``: the meter register (import from the estate files) and ``ams keys``."""

from __future__ import annotations

from pathlib import Path

import click

from openams.config import generate_kek_hex, load_settings
from openams.services.registry import import_estate
from openams.store import open_store
from openams.store.estate import SqlEstateStore

__all__ = ["keys_group", "meters_group"]

DB_OPTION = click.option(
    "--db",
    default=None,
    help="Database URL or SQLite file (default: $OPENAMS_DB, else ./openams.db).",
)


@click.group("meters")
def meters_group() -> None:
    """The meter register: metering points, customers, meters and their keys."""


@meters_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@DB_OPTION
@click.option(
    "--kek-file",
    default=None,
    help="File with the key-encrypting key (default: $OPENAMS_KEK_FILE or $OPENAMS_KEK).",
)
def import_command(paths: tuple[Path, ...], db: str | None, kek_file: str | None) -> int:
    """Import estate files (PATHS: directories or files): add new rows, update known ones.

    Reads topology.csv, metering_points.csv, customers.csv and meters.csv (docs/sim-grid.md).
    Meter keys are stored wrapped with the key-encrypting key, never in clear. Bad rows are
    reported with file and line; the good rows go in. Exits 1 if any row was refused.
    """
    settings = load_settings(db=db, kek_file=kek_file)
    vault = settings.vault()
    store = open_store(settings.db_url)
    try:
        report = import_estate(list(paths), SqlEstateStore(store), vault)
    finally:
        store.close()
    for summary in report.files:
        kind = summary.kind or "not an estate file"
        click.echo(
            f"{summary.source}: {kind}, {summary.rows_read} rows read, "
            f"{summary.rows_accepted} accepted"
        )
    for table in ("transformers", "customers", "metering_points", "meters"):
        click.echo(
            f"{table}: {report.added.get(table, 0)} added, {report.updated.get(table, 0)} updated"
        )
    for error in report.errors:
        where = f"{error.source}:{error.line}" if error.line else error.source
        click.echo(f"{where}: {error.message}", err=True)
    if report.errors:
        click.echo(f"{len(report.errors)} rows not imported (see above)", err=True)
        return 1
    return 0


@click.group("keys")
def keys_group() -> None:
    """Key-encrypting keys (docs/keys.md)."""


@keys_group.command("generate")
def generate_command() -> None:
    """Print a new random 256-bit key-encrypting key as hex (for OPENAMS_KEK or a key file)."""
    click.echo(generate_kek_hex())

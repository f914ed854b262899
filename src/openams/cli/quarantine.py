"""``ams quarantine``: list quarantined pushes, and retry them after a fix."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from openams.config import load_settings
from openams.services.quarantine import retry
from openams.store import open_store
from openams.store.ingest import SqlIngestStore
from openams.store.quarantine import SqlQuarantineStore

from .meters import DB_OPTION

__all__ = ["quarantine_group"]


@click.group("quarantine")
def quarantine_group() -> None:
    """Pushes that could not be used: look at them, process them again."""


@quarantine_group.command("list")
@DB_OPTION
@click.option("--reason", default=None, help="Only this reason (no_key, auth_failed, ...).")
@click.option("--all", "everything", is_flag=True, help="Resolved ones too.")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def list_command(db: str | None, reason: str | None, everything: bool, limit: int,
                 fmt: str) -> None:  # fmt: skip
    """List quarantined pushes, oldest first."""
    store = open_store(load_settings(db=db).db_url)
    try:
        items = SqlQuarantineStore(store).items(reason=reason, resolved=everything, limit=limit)
    finally:
        store.close()
    for item in items:
        at = datetime.fromtimestamp(item.received_at_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "json":
            click.echo(json.dumps({
                "id": item.quarantine_id, "received_at": at, "channel": item.channel,
                "source": item.source, "reason": item.reason, "message": item.message,
                "system_title": item.system_title.hex() if item.system_title else None,
                "resolved": item.resolved, "raw": item.raw.hex(),
            }))  # fmt: skip
        else:
            click.echo(
                f"{item.quarantine_id:>6} {at} {item.channel:<5} {item.reason:<13} "
                f"{item.source or '-'}: {item.message}"
            )


@quarantine_group.command("retry")
@DB_OPTION
@click.option("--kek-file", default=None, help="File with the key-encrypting key.")
@click.option("--reason", default=None, help="Only pushes quarantined for this reason.")
@click.option("--id", "ids", type=int, multiple=True, help="Only this quarantine id (repeatable).")
def retry_command(db: str | None, kek_file: str | None, reason: str | None,
                  ids: tuple[int, ...]) -> int:  # fmt: skip
    """Process quarantined pushes again (after importing a missing meter, fixing keys...)."""
    settings = load_settings(db=db, kek_file=kek_file)
    vault = settings.vault()
    store = open_store(settings.db_url)
    try:
        report = retry(
            SqlQuarantineStore(store), SqlIngestStore(store, vault),
            now_s=int(time.time()), reason=reason, ids=ids,
        )  # fmt: skip
    finally:
        store.close()
    click.echo(f"{report.tried} retried: {report.resolved} resolved, {report.still} still "
               "quarantined")  # fmt: skip
    return 1 if report.still else 0

"""``ams outbox``: the e-mail written to the outbox instead of sent (docs/cli.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from openams.config import load_settings
from openams.store import open_store
from openams.store.outbox import SqlOutboxStore

from .meters import DB_OPTION

__all__ = ["outbox_command"]


@click.command("outbox")
@click.option("--to", "to", default=None, metavar="ADDRESS", help="Only messages to this address.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="At most this many messages.")  # fmt: skip
@click.option("--show", is_flag=True, help="Print each message's text too.")
@DB_OPTION
def outbox_command(to: str | None, limit: int, show: bool, db: str | None) -> None:
    """List the e-mail in the outbox, newest first."""
    store = open_store(load_settings(db=db).db_url)
    try:
        sent = SqlOutboxStore(store).messages(to=to, limit=limit)
    finally:
        store.close()
    for item in sent:
        at = datetime.fromtimestamp(item.created_at_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"{item.message_id:>6} {at} {item.message.to}: {item.message.subject}")
        if show:
            click.echo("")
            click.echo(item.message.text.rstrip("\n"))
            click.echo("")

"""The outbox's side of the store: the adapter behind
:class:`openams.services.mail.OutboxStore`."""

from __future__ import annotations

from sqlalchemy import insert, select

from openams.services.mail import Message, SentMessage

from .engine import Store
from .schema import outbox

__all__ = ["SqlOutboxStore"]

_O = outbox.c


class SqlOutboxStore:
    """E-mail written to the ``outbox`` table of a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_message(self, message: Message, now_s: int) -> int:
        """Keep ``message``; its number in the outbox."""
        row = {"created_at_s": now_s, "to_address": message.to, "subject": message.subject,
               "body_text": message.text, "body_html": message.html}  # fmt: skip
        with self.store.engine.begin() as connection:
            key = connection.execute(insert(outbox).values(row)).inserted_primary_key
        return int(key[0]) if key is not None else 0

    def messages(self, *, to: str | None = None, limit: int = 100) -> list[SentMessage]:
        """The latest messages, newest first, only those to ``to`` when given."""
        query = select(_O.message_id, _O.created_at_s, _O.to_address, _O.subject, _O.body_text,
                       _O.body_html).order_by(_O.message_id.desc()).limit(limit)  # fmt: skip
        if to is not None:
            query = query.where(_O.to_address == to.strip().lower())
        with self.store.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [SentMessage(m, at, Message(to_address, subject, text, html))
                for m, at, to_address, subject, text, html in rows]  # fmt: skip

"""Alembic's environment: migrations run on the connection :func:`openams.store.engine.upgrade`
hands over (no alembic.ini; the store opens and migrates itself)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

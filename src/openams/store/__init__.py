"""The meter data store: SQLAlchemy Core tables and Alembic migrations, SQLite and PostgreSQL.

``open_store(url)`` gives a :class:`Store` on an up-to-date schema: SQLite (WAL) by default,
PostgreSQL in production with the values table partitioned by month.
"""

from __future__ import annotations

from .engine import Store, ensure_month_partitions, open_store

__all__ = ["Store", "ensure_month_partitions", "open_store"]

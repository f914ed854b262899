"""Prices' side of the store: the adapter behind :class:`openams.services.prices.PriceStore`.

Every saving raises the ``prices`` row of ``data_versions`` in its transaction; the hourly
prices in NOK worked out from the store are kept in one :class:`PriceCache` per open store
(:attr:`openams.store.engine.Store.memo`), which reads that number to know they still hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, select, update

from openams.domain.prices import HOUR_S, QUARTER_S, ExchangeRate, SpotPrice
from openams.services.prices import PriceCache

from .bulk import bulk_write
from .engine import Store
from .schema import data_versions, exchange_rates, spot_prices

__all__ = ["SqlPriceStore"]

_PRICES = ("zone", "resolution_s", "start_at_s", "price_per_mwh", "currency", "source",
           "imported_at_s")  # fmt: skip
_RATES = ("day", "currency", "nok_per_unit", "source", "imported_at_s")
_VERSION = "prices"  # the row of data_versions
_CACHE = "prices.hourly_nok"  # the key of Store.memo
# Built once: the cache reads it on every call.
_VERSION_OF = select(data_versions.c.version).where(data_versions.c.name == _VERSION)


def _raise_version(connection: Connection) -> None:
    connection.execute(
        update(data_versions)
        .where(data_versions.c.name == _VERSION)
        .values(version=data_versions.c.version + 1)
    )


def _replace(columns: Sequence[str], keys: int) -> str:
    target = ", ".join(columns[:keys])
    return f"ON CONFLICT ({target}) DO UPDATE SET " + ", ".join(
        f"{c} = excluded.{c}" for c in columns[keys:]
    )


class SqlPriceStore:
    """Spot prices and exchange rates in a :class:`Store` (decimal text, exact)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        cache = store.memo.get(_CACHE)
        if cache is None:
            cache = store.memo.setdefault(_CACHE, PriceCache())
        self.cache: PriceCache | None = cache

    def save_prices(self, prices: Sequence[SpotPrice], source: str, now_s: int) -> None:
        """Insert or replace the prices (by zone, resolution and start)."""
        rows = [
            (p.zone, p.resolution_s, p.start_at_s, str(p.price_per_mwh), p.currency, source,
             now_s)
            for p in prices
        ]  # fmt: skip
        with self.store.engine.begin() as connection:
            bulk_write(connection, "spot_prices", _PRICES, rows, _replace(_PRICES, 3),
                       key_columns=3)  # fmt: skip
            _raise_version(connection)

    def save_rates(self, rates: Sequence[ExchangeRate], source: str, now_s: int) -> None:
        """Insert or replace the rates (by day and currency)."""
        rows = [(r.day.isoformat(), r.currency, str(r.nok_per_unit), source, now_s)
                for r in rates]  # fmt: skip
        with self.store.engine.begin() as connection:
            bulk_write(connection, "exchange_rates", _RATES, rows, _replace(_RATES, 2),
                       key_columns=2)  # fmt: skip
            _raise_version(connection)

    def prices(self, zone: str, start_s: int, end_s: int) -> list[SpotPrice]:
        """The zone's prices (either resolution) starting in ``[start_s, end_s)``."""
        c = spot_prices.c
        query = (
            select(c.zone, c.start_at_s, c.resolution_s, c.price_per_mwh, c.currency)
            .where(
                c.zone == zone,
                # both resolutions there are, so the primary key finds the period itself
                c.resolution_s.in_((HOUR_S, QUARTER_S)),
                c.start_at_s >= start_s,
                c.start_at_s < end_s,
            )
            .order_by(c.start_at_s, c.resolution_s)
        )
        with self.store.engine.connect() as connection:
            return [
                SpotPrice(r[0], int(r[1]), int(r[2]), Decimal(r[3]), r[4])
                for r in connection.execute(query)
            ]

    def rates(self, currency: str, first: date, last: date) -> list[ExchangeRate]:
        """The rates of ``first`` .. ``last``, by day."""
        c = exchange_rates.c
        query = (
            select(c.day, c.nok_per_unit)
            .where(c.currency == currency, c.day >= first.isoformat(), c.day <= last.isoformat())
            .order_by(c.day)
        )
        with self.store.engine.connect() as connection:
            return [
                ExchangeRate(date.fromisoformat(r[0]), Decimal(r[1]), currency)
                for r in connection.execute(query)
            ]

    def version(self) -> int:
        """A number that every saving of prices or rates raises, by any process."""
        with self.store.engine.connect() as connection:
            found = connection.execute(_VERSION_OF).scalar()
        return int(found) if found is not None else 0

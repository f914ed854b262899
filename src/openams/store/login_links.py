"""Log-in links' side of the store: the adapter behind
:class:`openams.services.login_links.LoginLinkStore`."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from openams.services.accounts import Account

from .engine import Store
from .schema import accounts, login_links

__all__ = ["SqlLoginLinkStore"]

_L = login_links.c
_A = accounts.c


class SqlLoginLinkStore:
    """One-time log-in links in a :class:`Store` (only their hashes)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_login_link(self, token_hash: str, account_id: int, now_s: int,
                       expires_at_s: int) -> None:  # fmt: skip
        """Keep a link."""
        with self.store.engine.begin() as connection:
            connection.execute(
                insert(login_links).values(token_hash=token_hash, account_id=account_id,
                                           created_at_s=now_s, expires_at_s=expires_at_s,
                                           used_at_s=None)
            )  # fmt: skip

    def links_since(self, account_id: int, since_s: int) -> int:
        """How many links were made for the account after ``since_s``."""
        query = select(func.count()).where(_L.account_id == account_id,
                                           _L.created_at_s > since_s)  # fmt: skip
        with self.store.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def login_link_live(self, token_hash: str, now_s: int) -> bool:
        """Whether a link is known, unexpired and unused (without using it)."""
        query = select(_L.token_hash).where(_L.token_hash == token_hash, _L.used_at_s.is_(None),
                                            _L.expires_at_s > now_s)  # fmt: skip
        with self.store.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def use_login_link(self, token_hash: str, now_s: int) -> Account | None:
        """Use a live, unused link and every other link of its account; the account, or
        ``None`` for an unknown, expired or used link."""
        live = (_L.token_hash == token_hash, _L.used_at_s.is_(None), _L.expires_at_s > now_s)
        with self.store.engine.begin() as connection:
            row = connection.execute(
                select(_A.account_id, _A.email, _A.role, _A.customer_id)
                .join(accounts, _A.account_id == _L.account_id)
                .where(*live)
            ).first()
            if row is None:
                return None
            # Marked used only if still unused: of two clicks at once, one passes.
            if connection.execute(update(login_links).where(*live)
                                  .values(used_at_s=now_s)).rowcount != 1:  # fmt: skip
                return None
            account_id, email, role, customer_id = row
            connection.execute(
                update(login_links)
                .where(_L.account_id == account_id, _L.used_at_s.is_(None))
                .values(used_at_s=now_s)
            )
        return Account(account_id, email, role, customer_id)

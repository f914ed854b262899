"""API tokens' side of the store: the adapter behind
:class:`openams.services.api_tokens.TokenStore`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update

from openams.services.api_tokens import ApiToken

from .engine import Store, fetch_rows_in
from .schema import api_tokens

__all__ = ["SqlTokenStore"]

_T = api_tokens.c
_COLUMNS = (_T.token_id, _T.account_id, _T.customer_id, _T.label, _T.scopes, _T.created_at_s,
            _T.expires_at_s, _T.revoked_at_s)  # fmt: skip
# Built once: every API request looks its token up.
_BY_HASH = select(*_COLUMNS).where(_T.token_hash == bindparam("token_hash"))


def _token(row: Any) -> ApiToken:
    token_id, account_id, customer_id, label, scopes, created, expires, revoked = row
    return ApiToken(token_id, account_id, customer_id, label, frozenset(scopes.split(",")),
                    created, expires, revoked)  # fmt: skip


class SqlTokenStore:
    """API tokens in a :class:`Store` (only their hashes)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_token(self, token_hash: str, token: ApiToken) -> ApiToken:
        """Keep a token (its ``token_id`` is assigned)."""
        row = {"token_hash": token_hash, "account_id": token.account_id,
               "customer_id": token.customer_id, "label": token.label,
               "scopes": ",".join(sorted(token.scopes)), "created_at_s": token.created_at_s,
               "expires_at_s": token.expires_at_s, "revoked_at_s": None}  # fmt: skip
        with self.store.engine.begin() as connection:
            key = connection.execute(insert(api_tokens).values(row)).inserted_primary_key
        if key is None:  # pragma: no cover - an insert gives its key
            raise RuntimeError("the token was not kept")
        return ApiToken(int(key[0]), token.account_id, token.customer_id, token.label,
                        token.scopes, token.created_at_s, token.expires_at_s)  # fmt: skip

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token of a hash."""
        with self.store.engine.connect() as connection:
            rows = fetch_rows_in(connection, _BY_HASH, {"token_hash": token_hash})
        return _token(rows[0]) if rows else None

    def tokens_of(self, account_id: int) -> list[ApiToken]:
        """The tokens an account made, newest first."""
        query = select(*_COLUMNS).where(_T.account_id == account_id).order_by(_T.token_id.desc())
        with self.store.engine.connect() as connection:
            return [_token(row) for row in connection.execute(query)]

    def revoke(self, token_id: int, account_id: int, now_s: int) -> bool:
        """Revoke an account's own live token; whether one was."""
        where = and_(_T.token_id == token_id, _T.account_id == account_id,
                     _T.revoked_at_s.is_(None))  # fmt: skip
        with self.store.engine.begin() as connection:
            result = connection.execute(update(api_tokens).where(where).values(revoked_at_s=now_s))
        return bool(result.rowcount)

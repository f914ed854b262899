"""Accounts' side of the store: the adapter behind
:class:`openams.services.accounts.AccountStore`."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openams.errors import InputError
from openams.services.accounts import Account, StoredAccount

from .engine import Store, fetch_rows_in
from .schema import accounts, web_sessions

__all__ = ["SqlAccountStore"]

_A = accounts.c
# Built once: every request with a session cookie looks it up.
_SESSION = (
    select(web_sessions.c.csrf, web_sessions.c.expires_at_s, _A.account_id, _A.email, _A.role,
           _A.customer_id)
    .join(accounts, _A.account_id == web_sessions.c.account_id)
    .where(web_sessions.c.token_hash == bindparam("token_hash"))
)  # fmt: skip


class SqlAccountStore:
    """Accounts and sessions in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_account(
        self, email: str, password_hash: str, role: str, customer_id: str | None, now_s: int
    ) -> Account:
        """Add an account; :class:`InputError` if the e-mail is taken."""
        row = {"email": email, "password_hash": password_hash, "role": role,
               "customer_id": customer_id, "failed_logins": 0, "locked_until_s": 0,
               "created_at_s": now_s}  # fmt: skip
        try:
            with self.store.engine.begin() as connection:
                result = connection.execute(insert(accounts).values(row))
                key = result.inserted_primary_key
        except IntegrityError:
            raise InputError(f"an account with e-mail {email} exists already") from None
        if key is None:  # pragma: no cover - an insert gives its key
            raise InputError("the account was not added")
        return Account(int(key[0]), email, role, customer_id)

    def account_by_email(self, email: str) -> StoredAccount | None:
        """The account of an e-mail address."""
        query = select(_A.account_id, _A.email, _A.role, _A.customer_id, _A.password_hash,
                       _A.failed_logins, _A.locked_until_s).where(_A.email == email)  # fmt: skip
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        account_id, mail, role, customer_id, password_hash, failed, locked = row
        return StoredAccount(Account(account_id, mail, role, customer_id), password_hash, failed,
                             locked)  # fmt: skip

    def set_login_state(self, account_id: int, failed_logins: int, locked_until_s: int) -> None:
        """Record failed log-ins and the lock."""
        with self.store.engine.begin() as connection:
            connection.execute(
                update(accounts)
                .where(_A.account_id == account_id)
                .values(failed_logins=failed_logins, locked_until_s=locked_until_s)
            )

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """Replace the hash."""
        with self.store.engine.begin() as connection:
            connection.execute(
                update(accounts)
                .where(_A.account_id == account_id)
                .values(password_hash=password_hash)
            )

    def add_session(self, token_hash: str, csrf: str, account_id: int, expires_at_s: int) -> None:
        """Keep a session."""
        with self.store.engine.begin() as connection:
            connection.execute(
                insert(web_sessions).values(token_hash=token_hash, csrf=csrf,
                                            account_id=account_id, expires_at_s=expires_at_s)
            )  # fmt: skip

    def session(self, token_hash: str) -> tuple[str, Account, int] | None:
        """The CSRF token, account and expiry of a session."""
        with self.store.engine.connect() as connection:
            rows = fetch_rows_in(connection, _SESSION, {"token_hash": token_hash})
        if not rows:
            return None
        csrf, expires, account_id, email, role, customer_id = rows[0]
        return csrf, Account(account_id, email, role, customer_id), expires

    def drop_session(self, token_hash: str) -> None:
        """End a session."""
        with self.store.engine.begin() as connection:
            connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

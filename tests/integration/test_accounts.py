"""Accounts, log-in, lock-out and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from openams.errors import InputError
from openams.services.accounts import (
    LOCK_AFTER,
    LOCK_FOR_S,
    LoginRefused,
    create_account,
    csrf_matches,
    log_in,
    log_out,
    session_for,
)
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.schema import accounts, web_sessions

PASSWORD = "korrekt hest batteri"  # noqa: S105 - a test account's password


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield SqlAccountStore(opened)
    opened.close()


def test_a_customer_logs_in_and_out_and_only_hashes_are_kept(store):
    account = create_account(store, " Kari@Example.NO ", PASSWORD, "customer", "C1", now_s=1)
    assert (account.email, account.role, account.customer_id) == ("kari@example.no", "customer",
                                                                   "C1")  # fmt: skip
    session = log_in(store, "KARI@example.no", PASSWORD, now_s=100)
    assert session.account == account
    assert session_for(store, session.token, now_s=200) == session
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, "forged")
    assert not csrf_matches(session, None)
    with store.store.engine.connect() as connection:
        kept = connection.execute(accounts.select()).first()
        tokens = [row.token_hash for row in connection.execute(web_sessions.select())]
    assert kept.password_hash.startswith("$argon2id$")
    assert PASSWORD not in kept.password_hash
    assert session.token not in tokens  # only the token's hash
    log_out(store, session.token)
    assert session_for(store, session.token, now_s=300) is None


def test_a_session_ends_when_it_expires(store):
    create_account(store, "ola@example.no", PASSWORD, "operator", None, now_s=1)
    session = log_in(store, "ola@example.no", PASSWORD, now_s=100)
    assert session_for(store, session.token, now_s=session.expires_at_s - 1) is not None
    assert session_for(store, session.token, now_s=session.expires_at_s) is None
    assert session_for(store, None, now_s=100) is None
    assert session_for(store, "not-a-token", now_s=100) is None


def test_failed_logins_lock_the_account_without_telling_who_exists(store):
    create_account(store, "per@example.no", PASSWORD, "customer", "C2", now_s=1)
    for _ in range(LOCK_AFTER):
        with pytest.raises(LoginRefused, match="wrong e-mail or password"):
            log_in(store, "per@example.no", "wrong password", now_s=1000)
    with pytest.raises(LoginRefused, match="wrong e-mail or password"):
        log_in(store, "nobody@example.no", "wrong password", now_s=1000)
    with pytest.raises(LoginRefused, match="locked"):
        log_in(store, "per@example.no", PASSWORD, now_s=1000 + LOCK_FOR_S - 1)
    assert log_in(store, "per@example.no", PASSWORD, now_s=1000 + LOCK_FOR_S).account.email == (
        "per@example.no")  # fmt: skip


@pytest.mark.parametrize(
    ("email", "password", "role", "customer", "message"),
    [
        ("not-an-address", PASSWORD, "customer", "C1", "not an e-mail address"),
        ("a@example.no", "short", "customer", "C1", "at least 10 characters"),
        ("a@example.no", PASSWORD, "king", None, "a role is one of"),
        ("a@example.no", PASSWORD, "customer", None, "names its customer"),
        ("a@example.no", PASSWORD, "operator", "C1", "names its customer"),
    ],
)
def test_bad_accounts_are_refused(store, email, password, role, customer, message):
    with pytest.raises(InputError, match=message):
        create_account(store, email, password, role, customer, now_s=1)


def test_an_email_is_used_once(store):
    create_account(store, "eva@example.no", PASSWORD, "installer", None, now_s=1)
    with pytest.raises(InputError, match="exists already"):
        create_account(store, "EVA@example.no", PASSWORD, "operator", None, now_s=2)

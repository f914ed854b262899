"""Log-in through an OpenID Connect provider, with an in-process fake provider, on SQLite and
PostgreSQL: a verified identity logs in the customer it is linked to, and no one else; an
unknown identity is refused; the identity number is never stored."""

from __future__ import annotations

import secrets

import pytest

from openams.services.accounts import create_account, session_for
from openams.services.identity import (
    IdentityRefused,
    VerifiedClaims,
    begin_identity_login,
    finish_identity_login,
    link_identity,
)
from openams.store import open_store
from openams.store.accounts import SqlAccountStore
from openams.store.identity import SqlIdentityStore
from openams.store.schema import identity_links

PASSWORD = "et langt passord"  # noqa: S105 - a test account's password
KEY = bytes(range(32))
KARI_PID = "01017012345"  # made up: not a real person's number
PER_PID = "02028054321"
ISSUER = "https://idporten.test"


class FakeProvider:
    """An identity provider in the test: it issues a code for whoever logs in there, bound to
    the nonce of the log-in, and exchanges each code once."""

    def __init__(self) -> None:
        self.nonce = ""
        self.issued: dict[str, tuple[str, VerifiedClaims]] = {}

    def authorization_url(self, *, state: str, nonce: str) -> str:
        self.nonce = nonce
        return f"{ISSUER}/authorize?state={state}&nonce={nonce}"

    def person_logs_in(self, claims: VerifiedClaims) -> str:
        code = secrets.token_urlsafe(16)
        self.issued[code] = (self.nonce, claims)
        return code

    def exchange(self, code: str, *, nonce: str) -> VerifiedClaims:
        found = self.issued.pop(code, None)
        if found is None or found[0] != nonce:
            raise IdentityRefused("the provider does not know the code")
        return found[1]


@pytest.fixture
def stores(store_url):
    store = open_store(store_url)
    accounts = SqlAccountStore(store)
    kari = create_account(accounts, "kari@example.no", PASSWORD, "customer", "C1", now_s=1)
    per = create_account(accounts, "per@example.no", PASSWORD, "customer", "C2", now_s=1)
    create_account(accounts, "drift@example.no", PASSWORD, "operator", None, now_s=1)
    identities = SqlIdentityStore(store)
    link_identity(identities, kari, VerifiedClaims(ISSUER, "s1", pid=KARI_PID), key=KEY, now_s=2)
    link_identity(identities, per, VerifiedClaims(ISSUER, "s2", pid=PER_PID), key=KEY, now_s=2)
    yield store, accounts, identities, kari, per
    store.close()


def _log_in(stores, claims: VerifiedClaims, *, key: bytes = KEY):
    _, accounts, identities, _, _ = stores
    provider = FakeProvider()
    begun = begin_identity_login(provider)
    assert begun.url.startswith(f"{ISSUER}/authorize?state={begun.state}")
    code = provider.person_logs_in(claims)
    return finish_identity_login(provider, identities, accounts, code=code, state=begun.state,
                                 begun=begun, key=key, now_s=100)  # fmt: skip


def test_a_verified_identity_logs_in_the_customer_it_is_linked_to(stores):
    _, accounts, _, kari, per = stores
    session = _log_in(stores, VerifiedClaims(ISSUER, "any", pid=KARI_PID))
    assert session.account == kari
    assert session_for(accounts, session.token, now_s=200) == session  # a session as any other
    assert _log_in(stores, VerifiedClaims(ISSUER, "other", pid=PER_PID)).account == per


def test_an_unknown_identity_is_refused(stores):
    with pytest.raises(IdentityRefused, match="no account"):
        _log_in(stores, VerifiedClaims(ISSUER, "s3", pid="03039011111"))
    with pytest.raises(IdentityRefused, match="no account"):
        _log_in(stores, VerifiedClaims(ISSUER, "s4"))
    with pytest.raises(IdentityRefused, match="no account"):  # another site key: no match
        _log_in(stores, VerifiedClaims(ISSUER, "s1", pid=KARI_PID), key=b"k" * 32)


def test_a_verified_email_of_a_customer_logs_in_and_nothing_less(stores):
    _, _, _, kari, _ = stores
    verified = VerifiedClaims(ISSUER, "s5", email="Kari@Example.no", email_verified=True)
    assert _log_in(stores, verified).account == kari
    with pytest.raises(IdentityRefused):
        _log_in(stores, VerifiedClaims(ISSUER, "s6", email="kari@example.no"))
    with pytest.raises(IdentityRefused):  # staff need their password
        _log_in(stores, VerifiedClaims(ISSUER, "s7", email="drift@example.no",
                                       email_verified=True))  # fmt: skip


def test_a_code_from_another_log_in_or_a_wrong_state_is_refused(stores):
    _, accounts, identities, _, _ = stores
    provider = FakeProvider()
    first = begin_identity_login(provider)
    code = provider.person_logs_in(VerifiedClaims(ISSUER, "s1", pid=KARI_PID))
    second = begin_identity_login(provider)
    with pytest.raises(IdentityRefused, match="state"):
        finish_identity_login(provider, identities, accounts, code=code, state="forged",
                              begun=first, key=KEY, now_s=100)  # fmt: skip
    with pytest.raises(IdentityRefused):  # the code was issued for the first nonce
        finish_identity_login(provider, identities, accounts, code=code, state=second.state,
                              begun=second, key=KEY, now_s=100)  # fmt: skip


def test_the_identity_number_is_neither_stored_nor_shown(stores):
    store, *_ = stores
    with store.engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(identity_links.select())]
    assert len(rows) == 2
    assert KARI_PID not in str(rows)
    assert PER_PID not in str(rows)
    assert KARI_PID not in repr(VerifiedClaims(ISSUER, "s1", pid=KARI_PID))
    with pytest.raises(IdentityRefused) as refused:
        _log_in(stores, VerifiedClaims(ISSUER, "s3", pid="03039011111"))
    assert "03039011111" not in str(refused.value)

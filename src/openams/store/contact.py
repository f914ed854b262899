"""Contact details' side of the store: the adapter behind
:class:`openams.services.contact.ContactStore`.

The details in use are the ``mobile`` and ``email`` columns of ``customers``; pending changes
of address are rows of ``email_confirmations``.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from openams.services.contact import ContactDetails

from .engine import Store
from .schema import customers, email_confirmations

__all__ = ["SqlContactStore"]

_C = customers.c
_E = email_confirmations.c


class SqlContactStore:
    """Customers' contact details in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def contact(self, customer_id: str, now_s: int) -> ContactDetails | None:
        """The customer's details with their live pending change; ``None``: no record."""
        pending = (
            select(_E.email, _E.expires_at_s)
            .where(_E.customer_id == customer_id, _E.used_at_s.is_(None))
            .where(_E.expires_at_s > now_s)
            .order_by(_E.created_at_s.desc())
            .limit(1)
        )
        with self.store.engine.connect() as connection:
            row = connection.execute(
                select(_C.mobile, _C.email).where(_C.customer_id == customer_id)
            ).first()
            waiting = connection.execute(pending).first() if row is not None else None
        if row is None:
            return None
        mobile, email = row
        if waiting is None:
            return ContactDetails(customer_id, mobile or "", email or "")
        return ContactDetails(customer_id, mobile or "", email or "", waiting[0], waiting[1])

    def set_mobile(self, customer_id: str, mobile: str) -> None:
        """Store the mobile number."""
        with self.store.engine.begin() as connection:
            connection.execute(
                update(customers).where(_C.customer_id == customer_id).values(mobile=mobile)
            )

    def add_email_confirmation(self, token_hash: str, customer_id: str, email: str,
                               now_s: int, expires_at_s: int) -> None:  # fmt: skip
        """Keep a pending change of address, dropping the customer's earlier unused ones."""
        with self.store.engine.begin() as connection:
            connection.execute(
                delete(email_confirmations)
                .where(_E.customer_id == customer_id, _E.used_at_s.is_(None))
            )  # fmt: skip
            connection.execute(
                insert(email_confirmations).values(
                    token_hash=token_hash, customer_id=customer_id, email=email,
                    created_at_s=now_s, expires_at_s=expires_at_s, used_at_s=None,
                )
            )  # fmt: skip

    def drop_email_confirmations(self, customer_id: str) -> None:
        """Drop the customer's unused pending changes."""
        with self.store.engine.begin() as connection:
            connection.execute(
                delete(email_confirmations)
                .where(_E.customer_id == customer_id, _E.used_at_s.is_(None))
            )  # fmt: skip

    def confirm_email(self, token_hash: str, now_s: int) -> str | None:
        """Use a live, unused link: mark it used and make its address the customer's, in one
        transaction. The address, or ``None`` for an unknown, expired or used link."""
        live = (_E.token_hash == token_hash, _E.used_at_s.is_(None), _E.expires_at_s > now_s)
        with self.store.engine.begin() as connection:
            row = connection.execute(select(_E.customer_id, _E.email).where(*live)).first()
            if row is None:
                return None
            # Marked used only if still unused: of two clicks at once, one passes.
            used = connection.execute(
                update(email_confirmations).where(*live).values(used_at_s=now_s)
            )
            if used.rowcount != 1:
                return None
            customer_id, email = row
            connection.execute(
                update(customers).where(_C.customer_id == customer_id).values(email=email)
            )
        return str(email)

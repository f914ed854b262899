"""A customer's contact details: mobile number and e-mail address, the e-mail confirmed by
a link.

The details are the ``mobile`` and ``email`` of the customer record, which the roll-out's
notices and the console use. A customer changes them on the portal:

* The mobile number is checked and stored at once, as ``+47`` and eight digits. It is not
  confirmed by SMS (that needs an SMS gateway; see docs/portal.md).
* A new e-mail address is checked and a link is sent to it. The address in use stays the old
  one until the link is opened; then the new one replaces it. The link is valid for
  :data:`CONFIRM_FOR_S`, works once, and a newer change replaces an older one.

Invariants:
    * Bad input stores nothing and sends nothing: both fields are checked before anything is
      written.
    * A detail left as it was is not checked again: a customer whose old address was
      delivered malformed can still change the mobile number alone.
    * Only the SHA-256 of a confirmation link's token is stored (:mod:`.links`).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Final, Protocol

from openams.errors import InputError, MailError

from .links import LinkRefused, link_to, new_token, token_hash
from .mail import Mailer, Message

__all__ = [
    "CONFIRM_FOR_S",
    "CONFIRM_PATH",
    "MAX_EMAIL",
    "ContactChange",
    "ContactDetails",
    "ContactStore",
    "InvalidContact",
    "UnknownCustomer",
    "change_contact",
    "check_email",
    "confirm_email",
    "contact_details",
    "normalise_mobile",
]

#: How long a confirmation link works: 24 hours. [s]
CONFIRM_FOR_S: Final = 24 * 3600
#: Where a confirmation link points, the token after it.
CONFIRM_PATH: Final = "/contact/confirm/"
#: The longest e-mail address (RFC 5321's limit on a path, less the angle brackets).
MAX_EMAIL: Final = 254
_MAX_LOCAL: Final = 64
_MAX_MOBILE_TEXT: Final = 64
# Eight digits beginning with 4 or 9 (Nkom's numbering plan for mobile numbers), after an
# optional +47 or 0047.
_MOBILE: Final = re.compile(r"(?:\+47|0047)?([49][0-9]{7})")
_LOCAL_CHARS: Final = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~.")
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidContact(InputError):
    """Contact details that cannot be used.

    Attributes:
        fields: The fields that are wrong: ``"mobile"``, ``"email"`` or both.
    """

    def __init__(self, problems: list[InputError]) -> None:
        self.fields = tuple(p.source or "" for p in problems)
        super().__init__("; ".join(str(p) for p in problems), source=None)


class UnknownCustomer(InputError):
    """The account's customer has no customer record."""


@dataclass(frozen=True, slots=True)
class ContactDetails:
    """A customer's contact details.

    Attributes:
        customer_id: The customer.
        mobile: The mobile number in use (``+47…``; as delivered for older records), or ``""``.
        email: The e-mail address in use, or ``""``.
        pending_email: A new address waiting for its link to be opened, if any.
        pending_until_s: When that link expires, epoch seconds.
    """

    customer_id: str
    mobile: str
    email: str
    pending_email: str | None = None
    pending_until_s: int | None = None


@dataclass(frozen=True, slots=True)
class ContactChange:
    """What a change did.

    Attributes:
        mobile_changed: The mobile number was stored.
        confirmation_sent_to: The new address a confirmation link was sent to, if any.
    """

    mobile_changed: bool
    confirmation_sent_to: str | None


class ContactStore(Protocol):
    """Where contact details and pending changes of address are kept."""

    def contact(self, customer_id: str, now_s: int) -> ContactDetails | None:
        """The customer's details with their live pending change; ``None``: no record."""
        ...

    def set_mobile(self, customer_id: str, mobile: str) -> None:
        """Store the mobile number."""
        ...

    def add_email_confirmation(self, token_hash: str, customer_id: str, email: str,
                               now_s: int, expires_at_s: int) -> None:  # fmt: skip
        """Keep a pending change of address, dropping the customer's earlier unused ones."""
        ...

    def drop_email_confirmations(self, customer_id: str) -> None:
        """Drop the customer's unused pending changes."""
        ...

    def confirm_email(self, token_hash: str, now_s: int) -> str | None:
        """Use a live, unused link: mark it used and make its address the customer's, in one
        transaction. The address, or ``None`` for an unknown, expired or used link."""
        ...


def normalise_mobile(text: str) -> str:
    """A Norwegian mobile number as stored: ``+47`` and eight digits.

    Spaces anywhere and a ``+47`` or ``0047`` prefix are allowed: ``"+47 912 34 567"``,
    ``"0047 91234567"`` and ``"912 34 567"`` all give ``"+4791234567"``.

    Raises:
        InputError: Not eight digits beginning with 4 or 9 (``source`` is ``"mobile"``).
    """
    found = None
    if len(text) <= _MAX_MOBILE_TEXT:
        found = _MOBILE.fullmatch(text.replace(" ", "").replace("\u00a0", ""))
    if found is None:
        raise InputError(
            "a Norwegian mobile number is 8 digits beginning with 4 or 9, "
            "optionally after +47 or 0047",
            source="mobile",
        )
    return f"+47{found.group(1)}"


def _bad_email(reason: str) -> InputError:
    return InputError(f"not a usable e-mail address: {reason}", source="email")


def check_email(text: str) -> str:
    """An e-mail address as stored: trimmed and in lower case.

    A practical check, not all of RFC 5322: at most 254 characters, no spaces or control
    characters, one ``@``; before it at most 64 of the characters an address commonly holds
    (letters, digits and ``!#$%&'*+-/=?^_`{|}~.``, no leading, trailing or double dot); after
    it a domain of at least two labels of letters, digits and hyphens, which may be an
    internationalised one (``blåbær.no``).

    Raises:
        InputError: The address fails the check (``source`` is ``"email"``).
    """
    email = text.strip()
    if not email:
        raise _bad_email("it is empty")
    if len(email) > MAX_EMAIL:
        raise _bad_email(f"it is longer than {MAX_EMAIL} characters")
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in email):
        raise _bad_email("it contains spaces or control characters")
    if email.count("@") != 1:
        raise _bad_email("it must contain exactly one @")
    local, domain = email.lower().split("@")
    if not local or len(local) > _MAX_LOCAL or not set(local) <= _LOCAL_CHARS:
        raise _bad_email("the part before @ is empty, too long or has unusual characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _bad_email("the part before @ has a misplaced dot")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise _bad_email("the domain after @ is malformed") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _bad_email("the domain after @ needs a dot and only letters, digits and hyphens")
    if len(labels[-1]) < 2 or labels[-1].isdigit():
        raise _bad_email("the domain after @ does not end in a top-level domain")
    return f"{local}@{domain}"


def contact_details(store: ContactStore, customer_id: str, *, now_s: int) -> ContactDetails:
    """The customer's contact details and pending change.

    Raises:
        UnknownCustomer: The customer has no record.
    """
    found = store.contact(customer_id, now_s)
    if found is None:
        raise UnknownCustomer("the account's customer has no customer record", source="customer")
    return found


_CONFIRM_TEXTS: Final = {
    "nb": (
        "Bekreft ny e-postadresse",
        "Hei!\n\n"
        "Det er bedt om at denne adressen skal brukes som e-postadresse for kundeforholdet "
        "ditt hos nettselskapet.\n\n"
        "Bekreft adressen ved å åpne lenken:\n{link}\n\n"
        "Lenken gjelder i 24 timer og kan brukes én gang. Til du har bekreftet, bruker vi den "
        "gamle adressen. Har du ikke bedt om dette, kan du se bort fra e-posten.\n",
    ),
    "en": (
        "Confirm your new e-mail address",
        "Hello,\n\n"
        "Someone asked for this address to be the e-mail address of your customer account "
        "with the grid company.\n\n"
        "Confirm the address by opening the link:\n{link}\n\n"
        "The link works for 24 hours and only once. Until you confirm, we keep using the old "
        "address. If you did not ask for this, you can ignore this e-mail.\n",
    ),
}


def _confirmation(to: str, link: str, language: str) -> Message:
    subject, text = _CONFIRM_TEXTS.get(language, _CONFIRM_TEXTS["nb"])
    return Message(to=to, subject=subject, text=text.format(link=link))


def change_contact(
    store: ContactStore,
    mailer: Mailer,
    customer_id: str,
    *,
    mobile: str,
    email: str,
    base_url: str,
    language: str,
    now_s: int,
) -> ContactChange:
    """Change a customer's mobile number and e-mail address.

    The mobile number is stored at once (empty: none). A new e-mail address gets a
    confirmation link (``base_url`` + :data:`CONFIRM_PATH` + token), written in ``language``
    (``"nb"`` or ``"en"``); it replaces the one in use only when the link is opened. A
    pending change stays until it expires or a newer one replaces it.

    Raises:
        UnknownCustomer: The customer has no record.
        InvalidContact: The mobile number or the e-mail address cannot be used (``fields``
            says which); nothing is stored.
        MailError: The link could not be sent; nothing is stored.
    """
    current = contact_details(store, customer_id, now_s=now_s)
    problems: list[InputError] = []
    new_mobile = current.mobile
    if mobile.strip() != current.mobile:
        try:
            new_mobile = normalise_mobile(mobile) if mobile.strip() else ""
        except InputError as exc:
            problems.append(exc)
    new_email = current.email
    if email.strip() != current.email:
        try:
            new_email = check_email(email)
        except InputError as exc:
            problems.append(exc)
    if problems:
        raise InvalidContact(problems)
    sent_to = None
    if new_email != current.email.strip().lower():
        token, hashed = new_token()
        store.add_email_confirmation(hashed, customer_id, new_email, now_s,
                                     now_s + CONFIRM_FOR_S)  # fmt: skip
        try:
            mailer.send(_confirmation(new_email, link_to(base_url, CONFIRM_PATH, token), language))
        except MailError:
            store.drop_email_confirmations(customer_id)
            raise
        sent_to = new_email
    if new_mobile != current.mobile:
        store.set_mobile(customer_id, new_mobile)
    return ContactChange(new_mobile != current.mobile, sent_to)


def confirm_email(store: ContactStore, token: str, *, now_s: int) -> str:
    """Open a confirmation link: its address becomes the customer's.

    Returns:
        The confirmed address.

    Raises:
        LinkRefused: The link is unknown, expired or used already.
    """
    email = store.confirm_email(token_hash(token), now_s)
    if email is None:
        raise LinkRefused("the link is unknown, expired or used already")
    return email

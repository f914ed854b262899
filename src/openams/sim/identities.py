"""Synthetic identities: GSRN metering point ids, meter serials, system titles, contacts.

A GSRN (Global Service Relation Number) is 18 digits: a GS1 company prefix, a serial and a
check digit. Norwegian metering points use prefixes beginning 7070575. The check digit is
GS1's modulo 10: weights 3 and 1 alternate from the rightmost digit before the check digit,
and the check digit brings the weighted sum up to a multiple of ten.

References:
    GS1 General Specifications, 7.9.1 "Check digit calculation" and 3.4.x "GSRN".
"""

from __future__ import annotations

import random

__all__ = [
    "FLAG_PREFIXES",
    "GSRN_PREFIX",
    "gsrn_check_digit",
    "is_valid_gsrn",
    "make_gsrn",
    "mobile_number",
]

#: Company prefix of the synthetic metering points (Norwegian GSRNs begin 7070575).
GSRN_PREFIX = "707057500"

#: System title prefixes per manufacturer style. Kaifa (KFM) and Kamstrup (KAM) are their
#: FLAG ids as seen in captured pushes; ADN is a synthetic stand-in for Aidon.
FLAG_PREFIXES = {"aidon": b"ADN", "kaifa": b"KFM", "kamstrup": b"KAM"}


def gsrn_check_digit(digits: str) -> int:
    """The GS1 modulo-10 check digit of ``digits`` (the 17 digits before it).

    Raises:
        ValueError: ``digits`` is not 17 decimal digits.
    """
    if len(digits) != 17 or not digits.isdigit():
        raise ValueError("a GSRN has 17 digits before its check digit")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def make_gsrn(serial: int, prefix: str = GSRN_PREFIX) -> str:
    """The 18-digit GSRN for ``serial`` under ``prefix``."""
    body = f"{prefix}{serial:0{17 - len(prefix)}d}"
    if len(body) != 17:
        raise ValueError(f"serial {serial} does not fit after prefix {prefix}")
    return body + str(gsrn_check_digit(body))


def is_valid_gsrn(text: str) -> bool:
    """Whether ``text`` is 18 digits with a correct check digit."""
    return len(text) == 18 and text.isdigit() and gsrn_check_digit(text[:17]) == int(text[17])


def mobile_number(rng: random.Random) -> str:
    """A Norwegian mobile number (+47, eight digits beginning 4 or 9)."""
    return f"+47{rng.choice('49')}{rng.randrange(10_000_000):07d}"

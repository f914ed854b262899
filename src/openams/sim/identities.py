"""Synthetic identities: GSRN metering point ids, meter serials, system titles, contacts.

The GSRN rules (18 digits, GS1 modulo-10 check digit) live in
:mod:`openams.domain.identifiers`; this module re-exports them and makes synthetic ones.
"""

from __future__ import annotations

import random

from openams.domain.identifiers import gsrn_check_digit, is_valid_gsrn

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


def make_gsrn(serial: int, prefix: str = GSRN_PREFIX) -> str:
    """The 18-digit GSRN for ``serial`` under ``prefix``."""
    body = f"{prefix}{serial:0{17 - len(prefix)}d}"
    if len(body) != 17:
        raise ValueError(f"serial {serial} does not fit after prefix {prefix}")
    return body + str(gsrn_check_digit(body))


def mobile_number(rng: random.Random) -> str:
    """A Norwegian mobile number (+47, eight digits beginning 4 or 9)."""
    return f"+47{rng.choice('49')}{rng.randrange(10_000_000):07d}"

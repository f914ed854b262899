"""Identifiers of the estate: GSRN metering point ids and DLMS system titles.

A GSRN (Global Service Relation Number) is 18 digits: a GS1 company prefix, a serial and a
check digit. Norwegian metering points (*målepunkt-ID*) use prefixes beginning 7070575. The
check digit is GS1's modulo 10: weights 3 and 1 alternate from the rightmost digit before the
check digit, and the check digit brings the weighted sum up to a multiple of ten.

A system title identifies a DLMS/COSEM server to its clients and enters the nonce of every
AES-GCM protected APDU. It is 8 bytes: three bytes of FLAG manufacturer id, then five more.

Invariants:
    * Only ASCII digits count as digits: ``"٣"`` is a digit to ``str.isdigit`` but never part
      of a GSRN here.
    * The predicates never raise for text or bytes of any length.

References:
    GS1 General Specifications, 7.9.1 "Check digit calculation" and 3.4.x "GSRN".
    IEC 62056-5-3 (DLMS UA Green Book), clause 9.2.7 "Cryptographic protection" (the
    system title as the first 8 bytes of the GCM initialization vector).
"""

from __future__ import annotations

__all__ = [
    "GSRN_LENGTH",
    "SYSTEM_TITLE_LENGTH",
    "gsrn_check_digit",
    "is_valid_gsrn",
    "is_valid_system_title",
]

#: Digits in a GSRN, its check digit included.
GSRN_LENGTH = 18
#: Bytes in a DLMS system title.
SYSTEM_TITLE_LENGTH = 8
_ZERO = ord("0")


def gsrn_check_digit(digits17: str) -> int:
    """The GS1 modulo-10 check digit of a GSRN.

    Args:
        digits17: The 17 digits before the check digit.

    Returns:
        The check digit, 0 to 9.

    Raises:
        ValueError: ``digits17`` is not 17 ASCII decimal digits.
    """
    if len(digits17) != GSRN_LENGTH - 1 or not (digits17.isascii() and digits17.isdigit()):
        raise ValueError("a GSRN has 17 digits before its check digit")
    return _check_digit(digits17.encode("ascii"))


def _check_digit(codes: bytes) -> int:
    # Counted from the right, the weight is 3 at even positions; with 17 digits those are the
    # even positions from the left too (9 of them, and 8 odd ones). Summing the ASCII codes and
    # taking off the code of "0" once per digit is much faster than converting each digit.
    total = 3 * (sum(codes[0:17:2]) - 9 * _ZERO) + sum(codes[1:17:2]) - 8 * _ZERO
    return -total % 10


def is_valid_gsrn(text: str) -> bool:
    """Whether ``text`` is a GSRN: 18 ASCII digits whose last is the right check digit.

    Args:
        text: The candidate, exactly as given (no spaces are removed).

    Returns:
        True for a well-formed GSRN, False for anything else.
    """
    if len(text) != GSRN_LENGTH or not (text.isascii() and text.isdigit()):
        return False
    codes = text.encode("ascii")
    return _check_digit(codes) == codes[17] - _ZERO


def is_valid_system_title(title: bytes) -> bool:
    """Whether ``title`` has the length of a DLMS system title (8 bytes).

    Args:
        title: The system title as bytes (not hex).

    Returns:
        True when it is 8 bytes long.
    """
    return isinstance(title, bytes) and len(title) == SYSTEM_TITLE_LENGTH

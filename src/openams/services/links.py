"""One-time links sent by e-mail: random tokens of which only the SHA-256 is kept.

A link's token is 32 random bytes (URL-safe base64, 43 characters). The store keeps its
SHA-256, its expiry and when it was used; whoever reads the store cannot open the links.

Invariants:
    * A token is returned once, to be put in the e-mail, and never stored or logged.
    * A link is used at most once: the store marks it used in the same statement that checks
      it is unused and unexpired, so two clicks at the same moment cannot both pass.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

from openams.errors import OpenAMSError

__all__ = ["LinkRefused", "link_to", "new_token", "token_hash"]

_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")


class LinkRefused(OpenAMSError):
    """A one-time link is unknown, expired or used already (told apart to nobody)."""

    code = "link_refused"


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store: ``(token, sha256_hex)``."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored (64 hex digits).

    Raises:
        LinkRefused: ``token`` cannot be one of ours (wrong length or characters).
    """
    if not _TOKEN.fullmatch(token):
        raise LinkRefused("not a link of ours")
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def link_to(base_url: str, path: str, token: str) -> str:
    """The address of a link: ``https://portal.example.no`` + ``/login/link/`` + token."""
    return f"{base_url.rstrip('/')}{path}{token}"

"""Settings of OpenAMS, read once at the entry point.

::

    database            db argument        >  OPENAMS_DB        >  sqlite:///openams.db
    key-encrypting key  kek_file argument  >  OPENAMS_KEK_FILE  >  OPENAMS_KEK
    mail server                               OPENAMS_SMTP_URL  >  the outbox table
    portal's address                          OPENAMS_PUBLIC_URL > the request's own

A database given without ``://`` is a path to a SQLite file. A key file holds 32 or 64 hex
digits (whitespace anywhere is ignored) or exactly 16 or 32 raw bytes; a file made only of hex
digits and whitespace is always read as hex. ``OPENAMS_KEK`` holds 32 or 64 hex digits. An
environment variable set to an empty string counts as unset; an empty argument is an error,
reported under the command-line option it comes from (``--db``, ``--kek-file``).

Invariants:
    * :func:`load_settings` is the only reader of the environment and of the key file; nothing
      is read at import time and nothing is cached in the module.
    * No message, ``repr`` or ``str`` contains key material: errors name the source of a bad
      key (the variable or the file) and what a key should look like, never what was found.
    * The password of a database URL does not appear in the ``repr`` of :class:`Settings`.
"""

from __future__ import annotations

import os
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from openams.errors import InputError
from openams.keyvault import KEK_SIZES, KeyVault

__all__ = [
    "DEFAULT_DB_URL",
    "ENV_DB",
    "ENV_KEK",
    "ENV_KEK_FILE",
    "ENV_PUBLIC_URL",
    "ENV_SMTP_URL",
    "ConfigError",
    "Settings",
    "generate_kek_hex",
    "load_settings",
]

DEFAULT_DB_URL = "sqlite:///openams.db"
"""The database when none is configured: the SQLite file ``openams.db`` in the working
directory."""

ENV_DB = "OPENAMS_DB"
ENV_KEK = "OPENAMS_KEK"
ENV_KEK_FILE = "OPENAMS_KEK_FILE"
#: ``smtp[s]://[user:password@]host[:port][?starttls=1&from=ADDRESS&timeout=S]``; unset: outbox.
ENV_SMTP_URL = "OPENAMS_SMTP_URL"
#: The portal's address as customers reach it (``https://min.example.no``), for e-mailed links.
ENV_PUBLIC_URL = "OPENAMS_PUBLIC_URL"

_DB_OPTION = "--db"
_KEK_FILE_OPTION = "--kek-file"
_HEX_SIZES = tuple(2 * size for size in KEK_SIZES)  # 32 or 64 hex digits
_HEX_DIGITS = frozenset(string.hexdigits)
_WHITESPACE = frozenset(string.whitespace)
_HEX_TEXT_BYTES = frozenset((string.hexdigits + string.whitespace).encode("ascii"))
_MAX_KEY_FILE_SIZE = 4096  # bytes; a key file is at most 64 hex digits plus whitespace
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^/]*@")

_HEX_KEK = "a key-encrypting key is 32 or 64 hex digits (16 or 32 bytes)"
_FILE_KEK = (
    "a key-encrypting key file holds 32 or 64 hex digits (16 or 32 bytes) "
    "or exactly 16 or 32 raw bytes"
)
_NO_KEK = f"no key-encrypting key: set {ENV_KEK} or {ENV_KEK_FILE} (see docs/keys.md)"


class ConfigError(InputError):
    """A setting is missing or malformed.

    ``source`` names where the setting came from: an environment variable, an option or the
    key file's path. The message never contains key material.
    """

    code = "bad_config"


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of one run of OpenAMS.

    Build them with :func:`load_settings` at the entry point and pass them down.

    Args:
        db_url: SQLAlchemy URL of the database.
        kek: The key-encrypting key of meter keys at rest, if configured. [16 or 32 bytes]
        kek_source: Where ``kek`` came from: ``"OPENAMS_KEK"`` or the key file's path.
        smtp_url: The mail server (:mod:`openams.services.mail`); ``None``: the outbox table.
        public_url: The portal's address for links sent by e-mail; ``None``: the address the
            request came to.

    Raises:
        ValueError: ``kek`` is given and is neither 16 nor 32 bytes long.
    """

    db_url: str = DEFAULT_DB_URL
    kek: bytes | None = field(default=None, repr=False)
    kek_source: str | None = None
    smtp_url: str | None = field(default=None, repr=False)
    public_url: str | None = None

    def __post_init__(self) -> None:
        if self.kek is not None and len(self.kek) not in KEK_SIZES:
            raise ValueError(f"a key-encrypting key is 16 or 32 bytes, not {len(self.kek)}")

    def vault(self) -> KeyVault:
        """The key vault of the configured key-encrypting key.

        Returns:
            A :class:`~openams.keyvault.KeyVault` over ``kek``.

        Raises:
            ConfigError: No key-encrypting key is configured.
        """
        if self.kek is None:
            raise ConfigError(_NO_KEK)
        return KeyVault(self.kek)

    def __repr__(self) -> str:
        db_url = _URL_PASSWORD.sub(r"\1:***@", self.db_url)
        kek = "None" if self.kek is None else "<hidden>"
        return f"Settings(db_url={db_url!r}, kek={kek}, kek_source={self.kek_source!r})"


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    db: str | None = None,
    kek_file: str | None = None,
) -> Settings:
    """Read the settings once, from arguments first and the environment second.

    Args:
        environ: The environment to read; ``os.environ`` when ``None``.
        db: The database from the command line: a SQLAlchemy URL or a path to a SQLite file.
        kek_file: Path of a file holding the key-encrypting key, from the command line.

    Returns:
        The settings.

    Raises:
        ConfigError: An argument is empty, the key file cannot be read, or a key-encrypting key
            is malformed. A missing key is not an error here; :meth:`Settings.vault` reports it.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    kek, kek_source = _load_kek(env, kek_file)
    return Settings(db_url=_load_db_url(env, db), kek=kek, kek_source=kek_source,
                    smtp_url=env.get(ENV_SMTP_URL, "").strip() or None,
                    public_url=env.get(ENV_PUBLIC_URL, "").strip() or None)  # fmt: skip


def generate_kek_hex() -> str:
    """Generate a new random key-encrypting key.

    Returns:
        64 lowercase hex digits (a 32-byte AES-256 key), for ``OPENAMS_KEK`` or a key file.
    """
    return secrets.token_hex(32)


def _load_db_url(env: Mapping[str, str], db: str | None) -> str:
    if db is not None:
        if not db.strip():
            raise ConfigError("the database URL or path is empty", source=_DB_OPTION)
        return _db_url(db.strip())
    value = env.get(ENV_DB, "").strip()
    return _db_url(value) if value else DEFAULT_DB_URL


def _db_url(value: str) -> str:
    return value if "://" in value else f"sqlite:///{value}"


def _load_kek(env: Mapping[str, str], kek_file: str | None) -> tuple[bytes | None, str | None]:
    if kek_file is not None:
        if not kek_file.strip():
            raise ConfigError("the key file path is empty", source=_KEK_FILE_OPTION)
        return _read_kek_file(kek_file, via=None), kek_file
    path = env.get(ENV_KEK_FILE, "")
    if path.strip():
        return _read_kek_file(path, via=ENV_KEK_FILE), path
    text = env.get(ENV_KEK, "")
    if text.strip():
        kek = _parse_hex(text)
        if kek is None:
            raise ConfigError(_HEX_KEK, source=ENV_KEK)
        return kek, ENV_KEK
    return None, None


def _read_kek_file(path: str, *, via: str | None) -> bytes:
    named = "" if via is None else f" named by {via}"
    try:
        with open(path, "rb") as file:
            data = file.read(_MAX_KEY_FILE_SIZE + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot read the file{named}: {reason}", source=path) from exc
    if len(data) > _MAX_KEY_FILE_SIZE:
        raise ConfigError(f"{_FILE_KEK}; this file is larger", source=path)
    kek = _parse_key_file(data)
    if kek is None:
        raise ConfigError(_FILE_KEK, source=path)
    return kek


def _parse_key_file(data: bytes) -> bytes | None:
    """Decode a key file's content, or return ``None``.

    Content made only of hex digits and whitespace is read as hex, and never as raw bytes: a
    short hex key padded to 16 or 32 bytes must not become a raw key made of ASCII letters.
    Random raw bytes look like hex text with a probability below 1e-15.
    """
    if data and all(byte in _HEX_TEXT_BYTES for byte in data):
        return _parse_hex(data.decode("ascii"))
    return data if len(data) in KEK_SIZES else None


def _parse_hex(text: str) -> bytes | None:
    """Decode 32 or 64 hex digits with whitespace anywhere, or return ``None``."""
    if not all(char in _HEX_DIGITS or char in _WHITESPACE for char in text):
        return None
    digits = "".join(char for char in text if char in _HEX_DIGITS)
    if len(digits) not in _HEX_SIZES:
        return None
    return bytes.fromhex(digits)

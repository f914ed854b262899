"""Meter keys encrypted at rest: AES key wrap (RFC 3394) under a key-encrypting key.

A meter's block cipher key (EK) and authentication key (AK) are 16-byte AES keys. The head-end
stores them only wrapped under a key-encrypting key (KEK) of 16 or 32 bytes::

    wrapped = AES-KW(KEK, key)          8 bytes longer than the key: 24 or 40 bytes
    key     = AES-KW-Unwrap(KEK, wrapped), or an integrity failure

Beside every wrapped key the head-end stores the ``kek_id`` of the vault that wrapped it, so
that after a rotation it knows which KEK opens which row; :meth:`KeyVault.rewrap` moves a
wrapped key from one KEK to another without the caller ever holding the clear key.

Invariants:
    * The KEK lives only inside its :class:`KeyVault` object: no module state, no logging, and
      neither ``repr`` nor ``str`` shows it (or any key).
    * ``kek_id`` is a truncated SHA-256 over a fixed label and the KEK; it identifies the KEK
      and reveals nothing usable about it.
    * Unwrapping returns a key only if the RFC 3394 integrity check passes. A wrong KEK,
      damaged or truncated data all raise :class:`KeyUnwrapError`, never ``ValueError``.
    * AES key wrap comes only from the ``cryptography`` package.

References:
    RFC 3394, "Advanced Encryption Standard (AES) Key Wrap Algorithm", section 2.2;
    NIST SP 800-38F, section 6.2 (KW).
"""

from __future__ import annotations

import hashlib
from typing import NoReturn

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from openams.errors import SecurityError

__all__ = [
    "KEK_SIZES",
    "KEY_SIZES",
    "KeyUnwrapError",
    "KeyVault",
]

KEK_SIZES = (16, 32)
"""Accepted sizes of a key-encrypting key: AES-128 or AES-256. [bytes]"""

KEY_SIZES = (16, 32)
"""Accepted sizes of a key to wrap. [bytes]"""

_WRAP_OVERHEAD = 8  # the 64-bit integrity check value A of RFC 3394
_WRAPPED_SIZES = tuple(size + _WRAP_OVERHEAD for size in KEY_SIZES)

# Domain separation: the identifier is a hash of this label and the KEK, never of the KEK alone,
# so it cannot be matched against a hash of the same KEK computed for any other purpose.
_KEK_ID_LABEL = b"openams/kek-id/v1\x00"
_KEK_ID_HEX_DIGITS = 16


class KeyUnwrapError(SecurityError):
    """A wrapped key failed the RFC 3394 integrity check.

    The key-encrypting key is not the one that wrapped it, or the stored bytes are damaged or
    truncated. Which of these it is cannot be told apart, and nothing is returned.

    Attributes:
        kek_id: The identifier of the vault that tried to unwrap the key.
    """

    code = "key_unwrap_failed"

    def __init__(self, message: str, *, kek_id: str) -> None:
        self.kek_id = kek_id
        super().__init__(message)


class KeyVault:
    """Wraps and unwraps meter keys under one key-encrypting key.

    Args:
        kek: The key-encrypting key: 16 bytes (AES-128) or 32 bytes (AES-256).

    Raises:
        TypeError: ``kek`` is not ``bytes``.
        ValueError: ``kek`` is neither 16 nor 32 bytes long.

    Example:
        >>> vault = KeyVault(bytes(range(32)))
        >>> wrapped = vault.wrap(bytes(16))
        >>> len(wrapped), vault.unwrap(wrapped) == bytes(16)
        (24, True)
    """

    __slots__ = ("_kek", "_kek_id")

    def __init__(self, kek: bytes) -> None:
        if not isinstance(kek, bytes):
            raise TypeError(f"a key-encrypting key is bytes, not {type(kek).__name__}")
        if len(kek) not in KEK_SIZES:
            raise ValueError(f"a key-encrypting key is 16 or 32 bytes, not {len(kek)}")
        self._kek = kek
        digest = hashlib.sha256(_KEK_ID_LABEL + kek).hexdigest()
        self._kek_id = digest[:_KEK_ID_HEX_DIGITS]

    @property
    def kek_id(self) -> str:
        """Identifier of the key-encrypting key: 16 lowercase hex digits.

        Store it beside every wrapped key to know which KEK wrapped it.
        """
        return self._kek_id

    def wrap(self, key: bytes) -> bytes:
        """Wrap a key under the key-encrypting key.

        Args:
            key: The key to protect, such as a meter's EK or AK. [16 or 32 bytes]

        Returns:
            The wrapped key, 8 bytes longer than ``key``. [24 or 40 bytes]

        Raises:
            ValueError: ``key`` is neither 16 nor 32 bytes long.
        """
        if len(key) not in KEY_SIZES:
            raise ValueError(f"a key to wrap is 16 or 32 bytes, not {len(key)}")
        return aes_key_wrap(self._kek, key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Unwrap a key and check its integrity.

        Args:
            wrapped: A key wrapped by :meth:`wrap` under the same key-encrypting key.
                [24 or 40 bytes]

        Returns:
            The clear key. [16 or 32 bytes]

        Raises:
            KeyUnwrapError: The integrity check fails (another KEK wrapped the key, or the bytes
                are damaged) or ``wrapped`` has a length no wrapped key has.
        """
        if len(wrapped) not in _WRAPPED_SIZES:
            self._fail(f"a wrapped key is 24 or 40 bytes, not {len(wrapped)}")
        try:
            return aes_key_unwrap(self._kek, wrapped)
        except InvalidUnwrap as exc:
            self._fail("wrong key-encrypting key or damaged data", exc)

    def rewrap(self, wrapped: bytes, new: KeyVault) -> bytes:
        """Move a wrapped key to another key-encrypting key (KEK rotation).

        Args:
            wrapped: A key wrapped under this vault's KEK.
            new: The vault of the KEK to wrap it under from now on.

        Returns:
            The same key wrapped under ``new``'s KEK; store it with ``new.kek_id``.

        Raises:
            KeyUnwrapError: ``wrapped`` does not unwrap under this vault's KEK.
        """
        return new.wrap(self.unwrap(wrapped))

    def _fail(self, reason: str, cause: Exception | None = None) -> NoReturn:
        message = f"cannot unwrap the key under KEK {self._kek_id}: {reason}"
        raise KeyUnwrapError(message, kek_id=self._kek_id) from cause

    def __repr__(self) -> str:
        return f"KeyVault(kek_id={self._kek_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would copy the KEK out of the object (to disk, to another process).
        raise TypeError("a KeyVault cannot be pickled or copied: it holds a key-encrypting key")

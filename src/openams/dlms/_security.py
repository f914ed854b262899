"""Security suite 0 (and the symmetric part of suite 1): AES-128-GCM with a 12-byte tag.

::

    IV  = system title (8) || invocation counter (4)
    SC  = security control: suite (bits 0..3) | 0x10 authentication | 0x20 encryption
          | 0x40 key set | 0x80 compression
    0x30  authenticated and encrypted:  C, T = GCM-Encrypt(EK, IV, P, A = SC || AK)
    0x20  encrypted only:               C    = GCM-Encrypt(EK, IV, P) without a tag
    0x10  authenticated only:           T    = GCM-Encrypt(EK, IV, "", A = SC || AK || P)
    T   = the first 12 bytes of the GCM tag

AES comes only from the ``cryptography`` package. Its AES-GCM object checks full 16-byte tags
only, so this module uses the fact that GCM is counter mode: encrypting the received ciphertext
under the same key and IV gives back the plaintext, and encrypting that plaintext with the AAD
gives the ciphertext's full tag, whose first 12 bytes are compared in constant time with the
tag received. Every ciphered APDU is therefore authenticated exactly as GCM-Decrypt would.

One AES-GCM object is kept per key: building it costs more than a push.

Invariants:
    * A payload is returned only if its tag verifies (SC with 0x10).
    * A wrong key, a flipped bit or a truncated tag raises :class:`DecryptionError`.
    * Compression and suites other than 0 and 1 raise :class:`ApduError` (not supported).

References:
    IEC 62056-5-3 (DLMS UA Green Book), clause 9.2.7 "Cryptographic protection",
    table "Security suites"; NIST SP 800-38D (GCM).
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._apdu import TAG_GENERAL_GLO_CIPHERING, CipheredApdu
from ._errors import ApduError, DecryptionError

__all__ = [
    "SC_AUTHENTICATED",
    "SC_AUTHENTICATED_ENCRYPTED",
    "SC_ENCRYPTED",
    "TAG_LENGTH",
    "SecuritySuite",
    "security_label",
]

SC_AUTHENTICATED = 0x10
SC_ENCRYPTED = 0x20
SC_AUTHENTICATED_ENCRYPTED = 0x30
TAG_LENGTH = 12
_SUPPORTED_SUITES = (0, 1)
_MAX_KEYS = 65_536


_HEADERS: dict[bytes, bytes] = {}  # AK -> SC 0x30 || AK, the AAD of every 0x30 APDU


def _header(ak: bytes) -> bytes:
    if len(_HEADERS) >= _MAX_KEYS:
        _HEADERS.clear()
    header = _HEADERS[ak] = bytes((SC_AUTHENTICATED_ENCRYPTED,)) + ak
    return header


def security_label(security_control: int | None) -> str:
    """``none``, ``auth``, ``enc`` or ``auth+enc`` for a security control byte."""
    if security_control is None:
        return "none"
    auth = security_control & SC_AUTHENTICATED
    enc = security_control & SC_ENCRYPTED
    if auth and enc:
        return "auth+enc"
    if enc:
        return "enc"
    if auth:
        return "auth"
    return "none"


def check_security_control(security_control: int) -> None:
    """Refuse compression and suites other than 0 and 1.

    Raises:
        ApduError: the security control names an unsupported suite or compression.
    """
    if security_control & 0x80:
        raise ApduError("compressed ciphered APDUs are not supported", tag="security-control")
    suite = security_control & 0x0F
    if suite not in _SUPPORTED_SUITES:
        raise ApduError(f"security suite {suite} is not supported", tag="security-control")


class SecuritySuite:
    """Encrypts and decrypts with AES-128-GCM, keeping one cipher object per key."""

    def __init__(self) -> None:
        self._ciphers: dict[bytes, AESGCM] = {}

    def cipher(self, key: bytes) -> AESGCM:
        """The AES-GCM object for ``key`` (made once per key).

        Raises:
            ValueError: the key is not 16 bytes.
        """
        cipher = self._ciphers.get(key)
        if cipher is None:
            if len(key) != 16:
                raise ValueError(f"an AES-128 key is 16 bytes, got {len(key)}")
            if len(self._ciphers) >= _MAX_KEYS:
                self._ciphers.clear()
            cipher = self._ciphers[key] = AESGCM(key)
        return cipher

    def decrypt(self, apdu: CipheredApdu, ek: bytes, ak: bytes | None = None) -> bytes:
        """The plaintext APDU inside ``apdu``, authenticated when its SC says so.

        Args:
            apdu: The ciphered APDU.
            ek: The block cipher (encryption) key. [16 bytes]
            ak: The authentication key; required when SC has 0x10. [16 bytes]

        Raises:
            DecryptionError: the tag does not verify, or no authentication key was given.
            ApduError: unsupported suite or compression.
        """
        return self.decrypt_payload(
            apdu.system_title,
            apdu.invocation_counter,
            apdu.security_control,
            apdu.payload,
            ek,
            ak,
        )

    def decrypt_payload(
        self,
        system_title: bytes,
        invocation_counter: int,
        security_control: int,
        payload: bytes,
        ek: bytes,
        ak: bytes | None = None,
    ) -> bytes:
        """Like :meth:`decrypt`, from the envelope's fields."""
        sc = security_control
        cipher = self._ciphers.get(ek) or self.cipher(ek)
        nonce = system_title + invocation_counter.to_bytes(4, "big")
        if sc == SC_AUTHENTICATED_ENCRYPTED and ak is not None and len(payload) >= TAG_LENGTH:
            # the common case, without copies: GCM's keystream recovers the plaintext, and
            # sealing that plaintext again gives the ciphertext's full tag
            plain = cipher.encrypt(nonce, memoryview(payload)[:-TAG_LENGTH], None)[:-16]
            tag = cipher.encrypt(nonce, plain, _HEADERS.get(ak) or _header(ak))[-16:-4]
            if hmac.compare_digest(tag, payload[-TAG_LENGTH:]):
                return plain
            raise DecryptionError(
                "authentication tag does not verify (wrong key, or a forged or corrupted APDU)"
            )
        if sc & 0x8F not in _SUPPORTED_SUITES:
            check_security_control(sc)
        if sc & SC_AUTHENTICATED:
            if ak is None:
                raise DecryptionError("this APDU is authenticated and no authentication key")
            if len(payload) < TAG_LENGTH:
                raise DecryptionError("ciphered content shorter than its authentication tag")
            body = payload[:-TAG_LENGTH]
            header = bytes((sc,)) + ak
            if sc & SC_ENCRYPTED:
                plain = cipher.encrypt(nonce, body, None)[: len(body)]
                expected = cipher.encrypt(nonce, plain, header)[-16:-4]
            else:
                plain = body
                expected = cipher.encrypt(nonce, b"", header + body)[:TAG_LENGTH]
            if not hmac.compare_digest(expected, payload[-TAG_LENGTH:]):
                raise DecryptionError(
                    "authentication tag does not verify (wrong key, or a forged or corrupted APDU)"
                )
            return plain
        if sc & SC_ENCRYPTED:
            return cipher.encrypt(nonce, payload, None)[: len(payload)]
        return payload

    def encrypt(
        self,
        plaintext: bytes,
        *,
        system_title: bytes,
        invocation_counter: int,
        ek: bytes,
        ak: bytes | None = None,
        security_control: int = SC_AUTHENTICATED_ENCRYPTED,
        tag: int = TAG_GENERAL_GLO_CIPHERING,
    ) -> CipheredApdu:
        """Cipher ``plaintext`` (an APDU) into a general-glo- or general-ded-ciphering APDU.

        Args:
            plaintext: The APDU to protect, usually a data-notification.
            system_title: The sender's system title. [8 bytes]
            invocation_counter: The sender's frame counter; must increase per APDU.
            ek: The block cipher key. [16 bytes]
            ak: The authentication key, required with 0x10 in ``security_control``.
            security_control: 0x30, 0x20 or 0x10 (suite 0).
            tag: 0xDB (global key) or 0xDC (dedicated key).
        """
        check_security_control(security_control)
        if len(system_title) != 8:
            raise ValueError("a system title is 8 bytes")
        if not 0 <= invocation_counter <= 0xFFFFFFFF:
            raise ValueError("the invocation counter is an unsigned 32-bit number")
        cipher = self.cipher(ek)
        nonce = system_title + invocation_counter.to_bytes(4, "big")
        if security_control & SC_AUTHENTICATED:
            if ak is None:
                raise ValueError("authentication needs an authentication key")
            header = bytes((security_control,)) + ak
            if security_control & SC_ENCRYPTED:
                sealed = cipher.encrypt(nonce, plaintext, header)
                payload = sealed[:-16] + sealed[-16:-4]
            else:
                payload = plaintext + cipher.encrypt(nonce, b"", header + plaintext)[:TAG_LENGTH]
        elif security_control & SC_ENCRYPTED:
            payload = cipher.encrypt(nonce, plaintext, None)[: len(plaintext)]
        else:
            payload = plaintext
        return CipheredApdu(tag, system_title, security_control, invocation_counter, payload)

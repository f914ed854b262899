"""The error tree of the wire core.

The root of every OpenAMS error lives here, in the lowest layer, because the wire core imports
nothing else from ``openams``; :mod:`openams.errors` re-exports it and adds the domain errors.

::

    OpenAMSError
    └── DlmsError
        ├── DecodeError                 malformed bytes; carries ``offset`` and ``tag``
        │   ├── FrameError              framing: flags, lengths, HCS/FCS, M-Bus checksum
        │   ├── ApduError               the APDU or its A-XDR body is malformed
        │   └── InputTooLarge           the input exceeds the configured bound
        ├── LocalProtocolError          the caller misused the API
        ├── RemoteProtocolError         the meter broke the protocol
        └── SecurityError
            ├── MissingKeyError         no key is known for the system title
            ├── DecryptionError         the GCM tag does not verify (forged or wrong key)
            └── ReplayError             the invocation counter did not increase

Every error has a stable ``code`` (used by the command line and the head-end's quarantine) and
a message that names what is wrong. ``ValueError`` is never raised for malformed wire data.
"""

from __future__ import annotations


class OpenAMSError(Exception):
    """Root of every error OpenAMS raises on purpose."""

    code: str = "error"


class DlmsError(OpenAMSError):
    """An error of the DLMS/COSEM wire core."""

    code = "dlms_error"


class DecodeError(DlmsError):
    """The bytes are malformed.

    Attributes:
        offset: Byte offset into the input at which the problem was found, if known.
        tag: The tag or field being decoded when the problem was found, if known.
    """

    code = "bad_apdu"

    def __init__(self, message: str, *, offset: int | None = None, tag: int | str | None = None):
        self.offset = offset
        self.tag = tag
        where = "" if offset is None else f" at offset {offset}"
        super().__init__(f"{message}{where}")


class FrameError(DecodeError):
    """Framing is broken: flags, length fields, HCS/FCS or M-Bus checksum."""

    code = "bad_frame"


class ApduError(DecodeError):
    """The APDU or the A-XDR data inside it is malformed or unsupported."""

    code = "bad_apdu"


class InputTooLarge(DecodeError):
    """The input exceeds the size bound of the decoder."""

    code = "bad_frame"


class LocalProtocolError(DlmsError):
    """The caller used the API in a way the protocol does not allow."""

    code = "local_protocol_error"


class RemoteProtocolError(DlmsError):
    """The remote party (the meter) broke the protocol."""

    code = "remote_protocol_error"


class SecurityError(DlmsError):
    """A security check failed."""

    code = "security_error"


class MissingKeyError(SecurityError):
    """A ciphered APDU arrived and no key is known for its system title."""

    code = "no_key"

    def __init__(self, message: str, *, system_title: bytes | None = None):
        self.system_title = system_title
        super().__init__(message)


class DecryptionError(SecurityError):
    """Authentication failed: the GCM tag does not match (wrong key, forged or corrupted)."""

    code = "auth_failed"


class ReplayError(SecurityError):
    """The invocation counter did not increase: a replayed or re-ordered APDU.

    Attributes:
        invocation_counter: The counter received.
        last_invocation_counter: The highest counter accepted before.
    """

    code = "replay"

    def __init__(self, message: str, *, invocation_counter: int, last_invocation_counter: int):
        self.invocation_counter = invocation_counter
        self.last_invocation_counter = last_invocation_counter
        super().__init__(message)

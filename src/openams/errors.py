"""The one error tree of OpenAMS.

::

    OpenAMSError                       root of every error raised on purpose
    ├── DlmsError                      the wire core (openams.dlms)
    │   ├── DecodeError                malformed bytes; ``offset`` and ``tag``
    │   │   ├── FrameError             framing and checksums              code "bad_frame"
    │   │   ├── ApduError              APDU or A-XDR content              code "bad_apdu"
    │   │   └── InputTooLarge          over the size bound                code "bad_frame"
    │   ├── LocalProtocolError         the API was misused
    │   ├── RemoteProtocolError        the meter broke the protocol
    │   └── SecurityError
    │       ├── MissingKeyError        no key for the system title        code "no_key"
    │       ├── DecryptionError        the GCM tag does not verify        code "auth_failed"
    │       └── ReplayError            invocation counter did not grow    code "replay"
    ├── InputError                     a user's file or argument is wrong; ``source``, ``line``
    ├── MailError                      an e-mail could not be handed to the mail server
    ├── UnknownMeter                   no meter registered for a system title or id
    └── ValidationFailed               a value failed validation

The wire core defines its part of the tree because it imports nothing else from ``openams``;
this module re-exports it. Entry points map errors to exit codes (CLI) or HTTP statuses (web)
in one place each; ``ValueError`` is only for bad arguments from callers.
"""

from __future__ import annotations

from openams.dlms._errors import (
    ApduError,
    DecodeError,
    DecryptionError,
    DlmsError,
    FrameError,
    InputTooLarge,
    LocalProtocolError,
    MissingKeyError,
    OpenAMSError,
    RemoteProtocolError,
    ReplayError,
    SecurityError,
)

__all__ = [
    "ApduError",
    "DecodeError",
    "DecryptionError",
    "DlmsError",
    "FrameError",
    "InputError",
    "InputTooLarge",
    "LocalProtocolError",
    "MailError",
    "MissingKeyError",
    "OpenAMSError",
    "RemoteProtocolError",
    "ReplayError",
    "SecurityError",
    "UnknownMeter",
    "ValidationFailed",
]


class InputError(OpenAMSError):
    """A file or argument given by a user is wrong.

    Attributes:
        source: The file (or option) concerned.
        line: The 1-based line number, when the problem is on one line.
    """

    code = "bad_input"

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")


class MailError(OpenAMSError):
    """An e-mail could not be sent: the mail server could not be reached or refused it.

    The message names the server and the reason, never a password or a message's content.
    """

    code = "mail_failed"


class UnknownMeter(OpenAMSError):
    """No meter is registered under the given system title or identifier."""

    code = "unknown_meter"


class ValidationFailed(OpenAMSError):
    """A value failed a validation rule."""

    code = "validation_failed"

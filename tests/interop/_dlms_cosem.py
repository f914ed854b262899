"""Interop helpers on top of dlms-cosem, an independent DLMS/COSEM implementation.

dlms-cosem (Business Source License) is a test-only dependency: only its public classes
are called here, none of its code is copied. Importing this module skips the calling
test module when dlms-cosem is not installed.

Trees have the same two forms as in ``_gurux``: *plain* (``list`` for array/structure,
``int``, ``bool``, ``bytes`` for octet-string, ``str`` for visible-string, ``None`` for
null-data) and *typed* (``(type_name, value)`` pairs, names as in :data:`TYPES`).

What dlms-cosem 25.1.0 can and cannot do here (checked against it):

* Decoding: one HDLC UI frame (``7E..7E``, HCS and FCS checked; no reassembly of
  segmented frames), a wrapper frame, an LLC PDU or a bare APDU; data-notification
  ``0F`` plain or in general-glo-ciphering ``DB`` with security control ``0x30`` only
  (it always expects a tag and uses ``SC || AK`` as AAD, so ``0x10``/``0x20`` fail). The
  GCM tag **is** checked. Body types float32/float64, bit-string, utf8-string and bcd
  are not decoded by it (``NotImplementedError``). It reads any non-zero byte before the
  header date-time as "present" and then takes 12 bytes, so Kaifa's tagged header
  date-time (``09 0C`` + 12 bytes) is misread. It takes a two-byte server address whose
  lower byte is ``01`` (physical address 0, Kaifa's ``02 01``) for a one-byte one and
  then reports a bad HCS, and it reads UI frames only (not Kaifa's control ``0x10``).
* Encoding: body, data-notification, AES-GCM and UI frame all by dlms-cosem, with
  these gaps (each raises ``NotImplementedError`` here rather than return wrong bytes):
  ``GeneralGlobalCipher.to_bytes`` writes the ciphered-content length as one byte, so
  only ciphered content (SC + IC + ciphertext + tag) of at most 127 bytes (about 110
  bytes of plaintext APDU) is right; string scalars are likewise limited to 127 bytes;
  ``DataNotification.to_bytes`` marks a header date-time with ``01`` instead of its
  length ``0C``, so no header date-time can be encoded; only the types in
  :data:`ENCODABLE` can be encoded (no boolean, null-data, float, date-time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("dlms_cosem")

from dlms_cosem import dlms_data
from dlms_cosem.exceptions import DecryptionError as DecryptionError  # re-exported
from dlms_cosem.hdlc.address import HdlcAddress
from dlms_cosem.hdlc.frames import UnnumberedInformationFrame
from dlms_cosem.protocol.wrappers import WrapperProtocolDataUnit
from dlms_cosem.protocol.xdlms import DataNotification, GeneralGlobalCipher
from dlms_cosem.protocol.xdlms.data_notification import LongInvokeIdAndPriority
from dlms_cosem.security import SecurityControlField, encrypt

Typed = tuple[str, Any]

#: DLMS type name -> dlms-cosem data class.
TYPES: dict[str, type] = {
    "null-data": dlms_data.NullData,
    "array": dlms_data.DataArray,
    "structure": dlms_data.DataStructure,
    "boolean": dlms_data.BooleanData,
    "bit-string": dlms_data.BitStringData,
    "double-long": dlms_data.DoubleLongData,
    "double-long-unsigned": dlms_data.DoubleLongUnsignedData,
    "octet-string": dlms_data.OctetStringData,
    "visible-string": dlms_data.VisibleStringData,
    "utf8-string": dlms_data.UTF8StringData,
    "bcd": dlms_data.BCDData,
    "integer": dlms_data.IntegerData,
    "long": dlms_data.LongData,
    "unsigned": dlms_data.UnsignedIntegerData,
    "long-unsigned": dlms_data.UnsignedLongData,
    "long64": dlms_data.Long64Data,
    "long64-unsigned": dlms_data.UnsignedLong64Data,
    "enum": dlms_data.EnumData,
    "float32": dlms_data.Float32Data,
    "float64": dlms_data.Float64Data,
    "date-time": dlms_data.DateTimeData,
    "date": dlms_data.DateData,
    "time": dlms_data.TimeData,
}
_NAMES: dict[type, str] = {cls: name for name, cls in TYPES.items()}

#: Types dlms-cosem 25.1.0 can encode.
ENCODABLE = frozenset(
    {
        "array",
        "structure",
        "double-long",
        "double-long-unsigned",
        "octet-string",
        "visible-string",
        "integer",
        "long",
        "unsigned",
        "long-unsigned",
        "long64",
        "long64-unsigned",
        "enum",
    }
)
_LLC = b"\xe6\xe7\x00"
_WRAPPER_VERSION = b"\x00\x01"


@dataclass(frozen=True)
class DecodedPush:
    """A push decoded by dlms-cosem."""

    body: Any
    """Notification body as a plain tree (or typed tree from :func:`decode_push_typed`)."""
    invoke_id_and_priority: int
    date_time: datetime | None
    """Header date-time as dlms-cosem reads it (``None`` when absent)."""
    security_control: int | None
    system_title: bytes | None
    invocation_counter: int | None


def _apdu(frame: bytes) -> bytes:
    """Strip HDLC (one UI frame, HCS/FCS checked by dlms-cosem), wrapper and LLC from a push."""
    if frame[:2] == _WRAPPER_VERSION:
        return bytes(WrapperProtocolDataUnit.from_bytes(frame).data)  # checks the length
    if frame[:1] == b"\x7e":
        frame = UnnumberedInformationFrame.from_bytes(frame).payload
        if frame[:3] != _LLC:
            raise ValueError("HDLC information field does not start with LLC E6 E7 00")
    if frame[:3] == _LLC:
        frame = frame[3:]
    return frame


def _typed(item: Any) -> Typed:
    kind = _NAMES.get(type(item))
    if kind is None:
        raise TypeError(f"dlms-cosem returned an unknown data class {type(item).__name__}")
    if kind in ("array", "structure"):
        return (kind, [_typed(child) for child in item.value])
    value = item.value
    if kind == "octet-string":
        value = bytes(value)
    elif kind == "date-time":
        value = value[0]  # (datetime, clock status)
    return (kind, value)


def _plain(node: Typed) -> Any:
    kind, value = node
    if kind in ("array", "structure"):
        return [_plain(child) for child in value]
    return value


def _decode(frame: bytes, ek: bytes | None, ak: bytes | None, typed: bool) -> DecodedPush:
    apdu = _apdu(frame)
    security_control = system_title = invocation_counter = None
    if apdu[:1] == bytes([GeneralGlobalCipher.TAG]):
        ciphered = GeneralGlobalCipher.from_bytes(apdu)
        security = ciphered.security_control
        if not (security.encrypted and security.authenticated) or security.security_suite:
            raise NotImplementedError("dlms-cosem decrypts security control 0x30 only")
        if ek is None or ak is None:
            raise ValueError("a ciphered push needs ek and ak")
        apdu = ciphered.to_plain_apdu(ek, ak)  # checks the GCM tag
        security_control = security.to_bytes()[0]
        system_title = bytes(ciphered.system_title)
        invocation_counter = ciphered.invocation_counter
    notification = DataNotification.from_bytes(apdu)
    items = dlms_data.DlmsDataParser().parse(notification.body)
    if len(items) != 1:
        raise ValueError(f"notification body holds {len(items)} data items, expected 1")
    body = _typed(items[0])
    return DecodedPush(
        body=body if typed else _plain(body),
        invoke_id_and_priority=int.from_bytes(
            notification.long_invoke_id_and_priority.to_bytes(), "big"
        ),
        date_time=notification.date_time,
        security_control=security_control,
        system_title=system_title,
        invocation_counter=invocation_counter,
    )


def decode_push(frame: bytes, ek: bytes | None = None, ak: bytes | None = None) -> Any:
    """Decode a data-notification push to a plain tree of its body.

    ``frame`` is one push: one HDLC UI frame ``7E..7E``, an IEC 62056-47 wrapper frame
    ``00 01 ..``, an LLC PDU ``E6 E7 00 ..`` or a bare APDU (``0F`` plain, ``DB``
    general-glo-ciphering with SC ``0x30``). The body is a ``list`` when it is an array
    or a structure (as HAN pushes are); a scalar body is returned as that scalar. A bad
    HCS/FCS raises dlms-cosem's exception, a GCM tag that does not verify its
    :class:`DecryptionError` (re-exported here).
    """
    return _decode(frame, ek, ak, typed=False).body


def decode_push_typed(frame: bytes, ek: bytes | None = None, ak: bytes | None = None) -> Typed:
    """Decode a push to a typed tree of its body (same form :func:`encode_push` takes)."""
    body: Typed = _decode(frame, ek, ak, typed=True).body
    return body


def decode_push_info(
    frame: bytes, ek: bytes | None = None, ak: bytes | None = None, *, typed: bool = False
) -> DecodedPush:
    """Decode a push with its header fields (security fields only for ciphered pushes)."""
    return _decode(frame, ek, ak, typed=typed)


def _to_cosem(node: Typed) -> Any:
    kind, value = node
    if kind not in TYPES:
        raise ValueError(f"unknown DLMS type {kind!r}")
    if kind not in ENCODABLE:
        raise NotImplementedError(f"dlms-cosem cannot encode {kind}")
    cls = TYPES[kind]
    if kind in ("array", "structure"):
        return cls(value=[_to_cosem(child) for child in value])
    if kind in ("octet-string", "visible-string") and len(value) > 0x7F:
        raise NotImplementedError("dlms-cosem writes the length of a string as one byte")
    return cls(value=value)


def encode_push(
    body_tree: Typed,
    *,
    system_title: bytes | None = None,
    invocation_counter: int = 0,
    ek: bytes | None = None,
    ak: bytes | None = None,
    security_control: int | None = None,
    hdlc: bool = True,
    invoke_id_and_priority: int = 0x4000_0000,
    client_address: int = 0x41,
    server_address: int = 0x10,
) -> bytes:
    """Build a data-notification push with dlms-cosem (see the module doc for limits).

    ``security_control`` defaults to ``0x30`` when ``ek`` is given, else 0 (plain); only
    0 and 0x30 are possible. The header has no date-time (``00``). With ``hdlc`` the
    APDU goes into one UI frame (control 0x13) with LLC ``E6 E7 00`` from
    ``server_address`` to ``client_address``; otherwise the bare APDU is returned.
    """
    if security_control is None:
        security_control = 0x30 if ek is not None else 0
    if security_control not in (0, 0x30):
        raise NotImplementedError("dlms-cosem encrypts with security control 0x30 only")
    body = _to_cosem(body_tree).to_bytes()
    notification = DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority.from_bytes(
            invoke_id_and_priority.to_bytes(4, "big")
        ),
        date_time=None,
        body=body,
    )
    apdu = bytes(notification.to_bytes())
    if security_control:
        if ek is None or ak is None or system_title is None:
            raise ValueError("a ciphered push needs ek, ak and system_title")
        control = SecurityControlField.from_bytes(bytes([security_control]))
        ciphered_text = encrypt(control, system_title, invocation_counter, ek, apdu, ak)
        if 1 + 4 + len(ciphered_text) > 0x7F:
            raise NotImplementedError(
                "dlms-cosem writes the general-glo-ciphering length as one byte; "
                f"{5 + len(ciphered_text)} bytes of ciphered content do not fit"
            )
        ciphered = GeneralGlobalCipher(
            system_title=system_title,
            security_control=control,
            invocation_counter=invocation_counter,
            ciphered_text=ciphered_text,
        )
        apdu = bytes(ciphered.to_bytes())
    if not hdlc:
        return apdu
    frame = UnnumberedInformationFrame(
        destination_address=HdlcAddress(client_address, None, "client"),
        source_address=HdlcAddress(server_address, None, "server"),
        payload=_LLC + apdu,
    )
    return bytes(frame.to_bytes())

"""Interop helpers on top of gurux-dlms, an independent DLMS/COSEM implementation.

gurux-dlms (GPL-2.0) is a test-only dependency: only its public classes are called here,
none of its code is copied. Importing this module skips the calling test module when
gurux-dlms is not installed.

Trees:

* *plain* trees (what :func:`decode_push` returns): ``list`` for array and structure,
  ``int``, ``bool``, ``float``, ``bytes`` for octet-string, ``str`` for visible-string,
  ``None`` for null-data; gurux's date/time objects become ``datetime``/``date``/``time``.
* *typed* trees (what :func:`encode_push` takes and :func:`decode_push_typed` returns):
  ``(type_name, value)`` pairs with the DLMS type names of :data:`TYPES`, e.g.
  ``("structure", [("octet-string", b"\\x01\\x00\\x01\\x07\\x00\\xff"),
  ("double-long-unsigned", 1743), ("structure", [("integer", 0), ("enum", 27)])])``.

Quirks of gurux-dlms 1.0.203 worth knowing in tests:

* It does **not** check the GCM tag of a general-glo-ciphering APDU (it decrypts with the
  cipher stream in "encrypt" mode, which skips the comparison). A wrong AK, or a
  tampered tag, still decodes. A wrong EK gives garbage that usually fails to parse
  (reported here as ``ValueError``). Use dlms-cosem to check tags.
* It prints "Encryption is applied." / "Authentication is applied." for every ciphered
  APDU; :func:`_silence` shadows ``print`` in that one gurux module.
* It cannot read a push as Kaifa meters send it: the header date-time tagged as an
  octet-string (``09 0C`` + 12 bytes) is read as a 9-byte date-time ("Invalid data
  type."), and an HDLC push with control ``0x10`` (an I-frame, as Kaifa sends) is taken
  for a reply and never completes a notification.
* It writes a wrong HDLC frame length when the length is 256 to 262 (or 512 to 518,
  ...): ``GXDLMS.getHdlcFrame`` takes the length's top three bits from the addresses
  and information field alone, before adding the 7 bytes of format, control, HCS and
  FCS, so a frame of length 260 (0x104) is sent with length 4.
  Neither gurux nor OpenAMS can read such a frame; :func:`encode_push` refuses to
  return one unless told otherwise.
* ``GXDLMSNotify`` uses the client address as HDLC destination and the server address
  as source, and splits the information field at ``hdlcSettings.maxInfoTX`` (128 by
  default; then refuses, as the push does not fit one frame), so :func:`encode_push`
  raises that limit to one whole frame.
"""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("gurux_dlms")

from gurux_dlms import (
    GXArray,
    GXByteBuffer,
    GXDate,
    GXDateTime,
    GXDLMSClient,
    GXDLMSTranslator,
    GXReplyData,
    GXStructure,
    GXTime,
)
from gurux_dlms.enums import (
    Authentication,
    InterfaceType,
    Priority,
    Security,
    ServiceClass,
    TranslatorOutputType,
)
from gurux_dlms.GXEnum import GXEnum
from gurux_dlms.GXFloat32 import GXFloat32
from gurux_dlms.GXFloat64 import GXFloat64
from gurux_dlms.GXInt8 import GXInt8
from gurux_dlms.GXInt16 import GXInt16
from gurux_dlms.GXInt32 import GXInt32
from gurux_dlms.GXInt64 import GXInt64
from gurux_dlms.GXUInt8 import GXUInt8
from gurux_dlms.GXUInt16 import GXUInt16
from gurux_dlms.GXUInt32 import GXUInt32
from gurux_dlms.GXUInt64 import GXUInt64
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.secure import GXDLMSSecureClient, GXDLMSSecureNotify

Typed = tuple[str, Any]

#: DLMS type name -> gurux value class used to encode it (containers handled apart).
TYPES: dict[str, type] = {
    "boolean": bool,
    "double-long": GXInt32,
    "double-long-unsigned": GXUInt32,
    "octet-string": bytearray,
    "visible-string": str,
    "integer": GXInt8,
    "long": GXInt16,
    "unsigned": GXUInt8,
    "long-unsigned": GXUInt16,
    "long64": GXInt64,
    "long64-unsigned": GXUInt64,
    "enum": GXEnum,
    "float32": GXFloat32,
    "float64": GXFloat64,
}

# Element names of gurux's translator XML -> DLMS type name.
_XML_TYPES: dict[str, str] = {
    "Array": "array",
    "Structure": "structure",
    "None": "null-data",
    "Boolean": "boolean",
    "BitString": "bit-string",
    "Int32": "double-long",
    "UInt32": "double-long-unsigned",
    "OctetString": "octet-string",
    "String": "visible-string",
    "StringUTF8": "utf8-string",
    "Bcd": "bcd",
    "Int8": "integer",
    "Int16": "long",
    "UInt8": "unsigned",
    "UInt16": "long-unsigned",
    "Int64": "long64",
    "UInt64": "long64-unsigned",
    "Enum": "enum",
    "Float32": "float32",
    "Float64": "float64",
    "DateTime": "date-time",
    "Date": "date",
    "Time": "time",
}

_SECURITY = {
    0x10: Security.AUTHENTICATION,
    0x20: Security.ENCRYPTION,
    0x30: Security.AUTHENTICATION_ENCRYPTION,
}
_LLC = b"\xe6\xe7\x00"
_WRAPPER_VERSION = b"\x00\x01"  # IEC 62056-47 wrapper header: version, ports, length
_WRAPPER_HEADER = 8
_MAX_INFO = 2030  # largest information field of one HDLC frame (11-bit frame length)


@dataclass(frozen=True)
class DecodedPush:
    """A push decoded by gurux-dlms."""

    body: Any
    """Notification body as a plain tree (or typed tree from :func:`decode_push_typed`)."""
    invoke_id_and_priority: int
    date_time: datetime | None
    """Header date-time as gurux reads it (``None`` when absent)."""
    security_control: int | None
    """Security fields of a ciphered push, read by gurux's translator; ``None`` for plain
    pushes and for ciphered pushes spread over several frames."""
    system_title: bytes | None
    invocation_counter: int | None


def _silence() -> None:
    """Shadow ``print`` in the gurux module that prints on every decryption."""
    module = importlib.import_module("gurux_dlms.GXDLMSChippering")
    module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]


_silence()


def _split(frame: bytes) -> tuple[bytes, int]:
    """Return the bytes to feed gurux and the gurux interface type."""
    if frame[:1] == b"\x7e":
        return frame, InterfaceType.HDLC
    if frame[:2] == _WRAPPER_VERSION and len(frame) >= _WRAPPER_HEADER:
        return frame, InterfaceType.WRAPPER
    if frame[:3] == _LLC:
        return frame[3:], InterfaceType.PDU
    return frame, InterfaceType.PDU


def _client(ek: bytes | None, ak: bytes | None, interface: int) -> Any:
    if ek is None and ak is None:
        return GXDLMSClient(True, 16, 1, Authentication.NONE, None, interface)
    client = GXDLMSSecureClient(True, 16, 1, Authentication.NONE, None, interface)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    if ek is not None:
        client.ciphering.blockCipherKey = bytearray(ek)
    if ak is not None:
        client.ciphering.authenticationKey = bytearray(ak)
    return client


def _receive(frame: bytes, ek: bytes | None, ak: bytes | None) -> tuple[GXReplyData, int]:
    """Feed one push (HDLC frame(s), LLC PDU or APDU) to a gurux client.

    Returns gurux's notification reply and the long-invoke-id-and-priority (gurux leaves
    it on the data reply, not the notification reply, when there is no HDLC framing).
    """
    data, interface = _split(frame)
    client = _client(ek, ak, interface)
    buffer = GXByteBuffer(bytearray(data))
    notify = GXReplyData()
    while True:
        start = buffer.position
        reply = GXReplyData()
        client.getData(buffer, reply, notify)
        if notify.complete and not notify.isMoreData():
            break
        if buffer.position >= buffer.size or buffer.position == start:
            raise ValueError("gurux: incomplete push")
    if notify.value is None:
        raise ValueError("gurux: push not decoded (wrong key or unsupported APDU)")
    return notify, int(notify.invokeId or reply.invokeId)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, GXDateTime | GXDate | GXTime):
        return value.value
    return value


def _typed(value: Any, element: ET.Element) -> Typed:
    """Pair gurux's decoded values with the types its translator names for the same bytes."""
    try:
        kind = _XML_TYPES[element.tag]
    except KeyError:
        raise TypeError(f"gurux translator returned unknown type {element.tag!r}") from None
    if kind in ("array", "structure"):
        children = list(element)
        if len(children) != len(value):
            raise ValueError("gurux translator and decoder disagree")
        return (kind, [_typed(item, child) for item, child in zip(value, children, strict=True)])
    return (kind, _plain(value))


def _types(notify: GXReplyData) -> ET.Element:
    """Gurux's XML rendering of the (decrypted) notification body bytes."""
    translator = GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML)
    translator.comments = False
    body = GXByteBuffer(notify.data.array())
    return ET.fromstring(translator.dataToXml(body))  # noqa: S314 (XML made by gurux here)


def _header(frame: bytes) -> tuple[int | None, bytes | None, int | None]:
    """Security control, system title and invocation counter, as gurux's translator reads them."""
    data, interface = _split(frame)
    translator = GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML)
    translator.comments = False
    if interface == InterfaceType.WRAPPER:
        data = data[_WRAPPER_HEADER:]
        interface = InterfaceType.PDU
    buffer = GXByteBuffer(bytearray(data))
    if interface == InterfaceType.HDLC:
        xml = translator.messageToXml(buffer)
    else:
        xml = translator.pduToXml(buffer)
    element = next(ET.fromstring(xml).iter("GeneralGloCiphering"), None)  # noqa: S314
    if element is None:
        return None, None, None
    title = element.find("SystemTitle")
    service = element.find("CipheredService")
    if title is None or service is None:
        return None, None, None
    content = bytes.fromhex(service.get("Value", ""))
    return content[0], bytes.fromhex(title.get("Value", "")), int.from_bytes(content[1:5], "big")


def _decode(frame: bytes, ek: bytes | None, ak: bytes | None, typed: bool) -> DecodedPush:
    notify, invoke_id_and_priority = _receive(frame, ek, ak)
    body = _typed(notify.value, _types(notify)) if typed else _plain(notify.value)
    stamp = notify.time.value if isinstance(notify.time, GXDateTime) else None
    security_control = system_title = invocation_counter = None
    if ek is not None or ak is not None:
        security_control, system_title, invocation_counter = _header(frame)
    return DecodedPush(
        body=body,
        invoke_id_and_priority=invoke_id_and_priority,
        date_time=stamp,
        security_control=security_control,
        system_title=system_title,
        invocation_counter=invocation_counter,
    )


def decode_push(frame: bytes, ek: bytes | None = None, ak: bytes | None = None) -> Any:
    """Decode a data-notification push to a plain tree of its body.

    ``frame`` is one push: HDLC UI frame(s) ``7E..7E`` (segmented pushes too), an
    IEC 62056-47 wrapper frame ``00 01 ..``, an LLC PDU ``E6 E7 00 ..`` or a bare APDU
    (``0F`` plain, ``DB`` general-glo-ciphering). Keys are needed only for ciphered
    pushes. The body is a ``list`` when it is an array or a structure (as HAN pushes
    are); a scalar body is returned as that scalar. The GCM tag is not checked (gurux
    quirk). Raises ``ValueError`` when gurux yields nothing.
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


def _to_gurux(node: Typed) -> Any:
    kind, value = node
    if kind == "structure":
        structure = GXStructure()
        structure.extend(_to_gurux(item) for item in value)
        return structure
    if kind == "array":
        return GXArray([_to_gurux(item) for item in value])
    if kind == "null-data":
        return None
    try:
        cls = TYPES[kind]
    except KeyError:
        raise ValueError(f"unsupported DLMS type {kind!r}") from None
    return cls(value)


def encode_push(
    body_tree: Typed,
    *,
    system_title: bytes | None = None,
    invocation_counter: int = 0,
    ek: bytes | None = None,
    ak: bytes | None = None,
    security_control: int | None = None,
    hdlc: bool = True,
    date_time: datetime | None = None,
    invoke_id_and_priority: int = 0x4000_0000,
    client_address: int = 0x41,
    server_address: int = 0x10,
    strict: bool = True,
) -> bytes:
    """Build a data-notification push with gurux-dlms.

    ``body_tree`` is a typed tree (see module doc), normally a structure or an array.
    ``security_control`` defaults to ``0x30`` when ``ek`` is given, else 0 (plain); 0x10
    and 0x20 also work (suite 0 only). The ciphered APDU is general-glo-ciphering (``DB``)
    carrying ``system_title`` and ``invocation_counter`` as given.

    ``invoke_id_and_priority``: gurux can only set bit 31 (priority high), bit 30
    (confirmed) and the 24-bit invoke id. ``date_time`` is encoded by gurux (a naive
    datetime gets deviation 0 here; day-of-week is "not specified"). With ``hdlc`` the
    APDU is framed as one UI frame (control 0x13) with LLC ``E6 E7 00`` from
    ``server_address`` to ``client_address``; without it the bare APDU is returned.
    Segmented HDLC output is not offered: gurux sends the last segment as an I-frame,
    which is not what meters do (and gurux itself then cannot read it back).

    With ``strict`` (the default) a frame whose length field gurux got wrong raises
    ``NotImplementedError``; ``strict=False`` returns gurux's bytes as they are.
    """
    if invoke_id_and_priority & 0x3F00_0000:
        raise ValueError("gurux can set only priority, service class and the invoke id")
    if security_control is None:
        security_control = 0x30 if ek is not None else 0
    interface = InterfaceType.HDLC if hdlc else InterfaceType.PDU
    notify = GXDLMSSecureNotify(True, client_address, server_address, interface)
    notify.hdlcSettings.maxInfoTX = _MAX_INFO
    notify.priority = Priority.HIGH if invoke_id_and_priority & 0x8000_0000 else Priority.NORMAL
    notify.serviceClass = (
        ServiceClass.CONFIRMED
        if invoke_id_and_priority & 0x4000_0000
        else ServiceClass.UN_CONFIRMED
    )
    notify.settings.setLongInvokeID(invoke_id_and_priority & 0xFF_FFFF)
    if security_control:
        if security_control not in _SECURITY:
            raise ValueError(f"unsupported security control 0x{security_control:02x}")
        if ek is None or system_title is None:
            raise ValueError("a ciphered push needs ek and system_title")
        if security_control & 0x10 and ak is None:
            raise ValueError("an authenticated push needs ak")
        notify.ciphering.security = _SECURITY[security_control]
        notify.ciphering.systemTitle = bytearray(system_title)
        notify.ciphering.blockCipherKey = bytearray(ek)
        if ak is not None:
            notify.ciphering.authenticationKey = bytearray(ak)
        notify.ciphering.invocationCounter = invocation_counter
    body = GXByteBuffer()
    value = _to_gurux(body_tree)
    _GXCommon.setData(notify.settings, body, _GXCommon.getDLMSDataType(value), value)
    messages = [bytes(m) for m in notify.generateDataNotificationMessages(date_time, body)]
    if strict and hdlc:
        for message in messages:
            declared = int.from_bytes(message[1:3], "big") & 0x7FF
            if declared != len(message) - 2:
                raise NotImplementedError(
                    f"gurux wrote HDLC frame length {declared} for a {len(message) - 2}-byte "
                    "frame (its length bug, see the module doc)"
                )
    return b"".join(messages)

"""Per-push decoders built on peer DLMS libraries, for benchmarks only.

Each ``make_<peer>(ek, ak)`` returns a callable that takes the bytes of one push (an HDLC
type-3 frame ``7E .. 7E`` carrying LLC ``E6 E7 00`` and either a data-notification ``0F``
or a general-glo-ciphering ``DB`` APDU with security control ``0x30``), does the whole
job a user of that library would do (frame parse with HCS/FCS check, decryption, A-XDR
decode of the notification body) and returns the number of values it decoded. It
returns ``None`` when the peer cannot decode that kind of push; the reason is then in
:data:`UNSUPPORTED`.

The peers (``amshan``, ``dlms-cosem``, ``gurux-dlms``; see ``requirements-peers.txt``)
are imported lazily, so this module imports without them. They are never runtime
dependencies of openams. Objects that a library lets one keep per key (a client with its
ciphering settings, a frame reader, an auto-decoder) are made once per ``make_*`` call and
reused for every push.

What "values" means differs a little between peers and is only a guard against skipped
work, not a number to compare: for dlms-cosem and gurux it is the number of scalar leaves
in the decoded notification body, for amshan the number of fields in its result dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Decoder = Callable[[bytes], int]

#: Why a ``make_<peer>`` function returned ``None``, by peer name. Filled on demand.
UNSUPPORTED: dict[str, str] = {}

_LLC = b"\xe6\xe7\x00"


def _count_leaves(tree: Any) -> int:
    """Count the scalar values in a nested list tree (lists are arrays/structures)."""
    count = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        else:
            count += 1
    return count


def make_amshan(ek: bytes | None, ak: bytes | None) -> Decoder | None:
    """Decoder using amshan (``han`` package): HDLC reader + ``AutoDecoder``.

    amshan has no DLMS decryption (no general-glo-ciphering support at all), so this
    returns ``None`` when a key is given. It only knows the Aidon, Kaifa and Kamstrup
    list layouts of the Norwegian/Swedish HAN port; its result is one value per OBIS item
    (scaled), plus a manufacturer field.
    """
    if ek is not None or ak is not None:
        UNSUPPORTED["amshan"] = (
            "amshan 2.1.1 cannot decrypt: it has no general-glo-ciphering (0xDB) support"
        )
        return None
    from han.autodecoder import AutoDecoder
    from han.hdlc import HdlcFrameReader

    reader = HdlcFrameReader(use_octet_stuffing=False)
    auto = AutoDecoder()

    def decode(push: bytes) -> int:
        count = 0
        frames = reader.read(push)
        if not frames:
            raise ValueError("amshan: no complete HDLC frame")
        for frame in frames:
            if not frame.is_valid:
                raise ValueError("amshan: bad HCS/FCS or length")
            values = auto.decode_message(frame)
            if values is None:
                raise ValueError("amshan: no decoder accepted the frame")
            count += len(values)
        return count

    return decode


def make_dlms_cosem(ek: bytes | None, ak: bytes | None) -> Decoder | None:
    """Decoder using dlms-cosem: UI frame parse, optional decryption, A-XDR body parse.

    This is the path of the library's own HAN example (``UnnumberedInformationFrame`` ->
    ``DataNotification`` -> ``parse_as_dlms_data``) with ``GeneralGlobalCipher`` for the
    ciphered case. dlms-cosem keeps no per-key cipher state (its ``decrypt`` builds an
    AES-GCM context per call), so there is nothing to reuse across pushes.
    """
    from dlms_cosem.hdlc.frames import UnnumberedInformationFrame
    from dlms_cosem.protocol.xdlms import DataNotification, GeneralGlobalCipher
    from dlms_cosem.utils import parse_as_dlms_data

    def decode(push: bytes) -> int:
        frame = UnnumberedInformationFrame.from_bytes(push)  # checks HCS and FCS
        info = frame.payload
        if info[:3] != _LLC:
            raise ValueError("dlms-cosem: no LLC header")
        apdu = info[3:]
        if apdu[0] == GeneralGlobalCipher.TAG:
            if ek is None or ak is None:
                raise ValueError("dlms-cosem: ciphered push but no keys")
            apdu = GeneralGlobalCipher.from_bytes(apdu).to_plain_apdu(ek, ak)
        notification = DataNotification.from_bytes(apdu)
        return _count_leaves(parse_as_dlms_data(notification.body))

    return decode


def _silence_gurux() -> None:
    """Stop gurux-dlms printing to stdout for every ciphered APDU it decrypts.

    ``GXDLMSChippering.decryptAesGcm`` calls ``print("Encryption is applied.")`` and
    ``print("Authentication is applied.")``; shadowing ``print`` in that module keeps
    the benchmark output clean and does not time terminal I/O.
    """
    import importlib

    module = importlib.import_module("gurux_dlms.GXDLMSChippering")
    module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]


def make_gurux(ek: bytes | None, ak: bytes | None) -> Decoder | None:
    """Decoder using gurux-dlms: ``GXDLMSSecureClient.getData`` on the raw HDLC frame.

    This is the push-listener path of gurux's own example: one client (with its
    ciphering keys) per meter, reused for every push; ``getData`` checks HCS/FCS, strips
    the LLC header, decrypts and decodes the body to Python values.

    Note: gurux-dlms 1.0.203 does not check the GCM tag when it decrypts a
    general-glo-ciphering APDU (it still computes GHASH, so the work is the same).
    """
    from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
    from gurux_dlms.enums import Authentication, InterfaceType, Security
    from gurux_dlms.secure import GXDLMSSecureClient

    if ek is None and ak is None:
        client: Any = GXDLMSClient(True, 16, 1, Authentication.NONE, None, InterfaceType.HDLC)
    else:
        if ek is None or ak is None:
            UNSUPPORTED["gurux"] = "security control 0x30 needs both EK and AK"
            return None
        _silence_gurux()
        client = GXDLMSSecureClient(True, 16, 1, Authentication.NONE, None, InterfaceType.HDLC)
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.blockCipherKey = bytearray(ek)
        client.ciphering.authenticationKey = bytearray(ak)

    def decode(push: bytes) -> int:
        reply = GXReplyData()
        notify = GXReplyData()
        client.getData(GXByteBuffer(push), reply, notify)
        if not notify.complete or notify.isMoreData() or notify.value is None:
            raise ValueError("gurux: push not decoded")
        return _count_leaves(notify.value)

    return decode


MAKERS: dict[str, Callable[[bytes | None, bytes | None], Decoder | None]] = {
    "amshan": make_amshan,
    "dlms_cosem": make_dlms_cosem,
    "gurux": make_gurux,
}

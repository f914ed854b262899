"""From the bytes of one push to a :class:`Push`: unframe, decrypt, decode, map the list.

Framing is recognised by its first bytes: ``7E`` HDLC (one or more frames, segmented or
carrying general-block-transfer blocks), ``68`` M-Bus long frames, ``00 01`` the IEC 62056-47
wrapper, ``E6 E7 00`` / ``E6 E6 00`` a bare LLC PDU, and otherwise a raw APDU.

Invariants:
    * The only exceptions raised for bad input are :class:`DlmsError` subclasses.
    * Input longer than ``max_push_size`` is refused before any parsing.
    * A ciphered push yields a :class:`Push` only after its tag verified (when it has one).
    * A body no list decoder maps gives a :class:`Push` with ``layout == "unknown"`` and the
      decoded A-XDR tree in ``tree``; it is never an exception.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from ._apdu import (
    CIPHERING_TAGS,
    TAG_DATA_NOTIFICATION,
    TAG_GENERAL_BLOCK_TRANSFER,
    decode_ciphered_apdu,
    decode_data_notification,
    decode_general_block_transfer,
    reassemble_blocks,
    split_glo_ciphering,
)
from ._cosem_datetime import zone
from ._errors import ApduError, FrameError, InputTooLarge, MissingKeyError
from ._hdlc import LLC_CLIENT, LLC_SERVER, decode_hdlc_frames, single_frame_info
from ._layout import (
    Template,
    assemble,
    compile_template,
    execute,
    header_time,
    plan_rows,
    scan_notification,
)
from ._lists import plan_for
from ._mbus import decode_mbus_frames
from ._record import KeyLookup, KeyPair, Measurement, Push, manufacturer_from_system_title
from ._replay import ReplayGuard
from ._security import SC_AUTHENTICATED, SecuritySuite
from ._wrapper import WRAPPER_VERSION, decode_wrapper_frame

__all__ = [
    "DEFAULT_MAX_PUSH_SIZE",
    "KeyPair",
    "Measurement",
    "Push",
    "PushDecoder",
    "unframe",
]

#: Upper bound on the bytes of one push (all its frames); real pushes are below 2 kB.
DEFAULT_MAX_PUSH_SIZE = 64 * 1024


_LLC_HEADERS = (LLC_SERVER, LLC_CLIENT)
_GBT = (b"", bytes((TAG_GENERAL_BLOCK_TRANSFER,)))


def _strip_llc(info: bytes) -> bytes:
    head = info[:3]
    if head in (LLC_SERVER, LLC_CLIENT):
        return info[3:]
    return info


def _join_blocks(apdus: list[bytes]) -> bytes:
    if apdus[0][:1] != bytes((TAG_GENERAL_BLOCK_TRANSFER,)):
        if len(apdus) != 1:
            raise FrameError(f"input holds {len(apdus)} pushes; give one push per input")
        return apdus[0]
    blocks = []
    for apdu in apdus:
        if apdu[:1] != bytes((TAG_GENERAL_BLOCK_TRANSFER,)):
            raise ApduError("general-block-transfer interrupted by another APDU")
        blocks.append(decode_general_block_transfer(apdu))
    return reassemble_blocks(blocks)


def unframe(data: bytes) -> tuple[str, bytes]:
    """Recognise the framing of one push and return ``(framing, APDU)``.

    Raises:
        FrameError: broken framing.
        ApduError: a malformed general-block-transfer.
    """
    if not data:
        raise FrameError("empty input", offset=0)
    first = data[0]
    if first == 0x7E:  # the common case first: one HDLC frame, LLC, a whole APDU
        info = single_frame_info(data)
        if info is not None and info[:3] in _LLC_HEADERS and info[3:4] not in _GBT:
            return "hdlc", info[3:]
        frames = decode_hdlc_frames(data)
        messages: list[bytes] = []
        pending = b""
        for frame in frames:
            pending += frame.info
            if not frame.segmented:
                messages.append(_strip_llc(pending))
                pending = b""
        if pending:
            raise FrameError("segmented HDLC push ends before its last frame", offset=len(data))
        messages = [m for m in messages if m]
        if not messages:
            raise FrameError("HDLC frames carry no information field", offset=0)
        return "hdlc", _join_blocks(messages)
    if first == 0x68:
        _, apdu = decode_mbus_frames(data)
        return "mbus", apdu
    if data[:3] in (LLC_SERVER, LLC_CLIENT):
        return "llc", _join_blocks([data[3:]])
    if len(data) >= 8 and int.from_bytes(data[:2], "big") == WRAPPER_VERSION:
        wrapped, end = decode_wrapper_frame(data)
        if end != len(data):
            raise FrameError(f"{len(data) - end} bytes after the wrapper frame", offset=end)
        return "wrapper", wrapped.apdu
    return "apdu", _join_blocks([data])


class PushDecoder:
    """Decodes pushes; keeps the per-key ciphers and the compiled list layouts between calls.

    Args:
        tz: Zone (name or tzinfo) for meters that send local time without a usable offset.
        keys: Looks up the keys of a system title, for ciphered pushes.
        max_push_size: Larger inputs are refused. [bytes]
        max_templates: Bound on the compiled layouts kept.
        replay_guard: When given, ciphered pushes whose invocation counter does not increase
            per system title are refused with :class:`ReplayError` (checked after the tag).
    """

    def __init__(
        self,
        *,
        tz: str | tzinfo = "Europe/Oslo",
        keys: KeyLookup | None = None,
        max_push_size: int = DEFAULT_MAX_PUSH_SIZE,
        max_templates: int = 1024,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self.tz: tzinfo = zone(tz) if isinstance(tz, str) else tz
        self._keys = keys
        self.max_push_size = max_push_size
        self._max_templates = max_templates
        self._templates: dict[int, list[Template]] = {}
        self._template_count = 0
        self._suite = SecuritySuite()
        self.replay_guard = replay_guard

    def decode(self, data: bytes, *, keys: KeyPair | None = None) -> Push:
        """Decode one push (all its frames).

        Args:
            data: The bytes of the push as received.
            keys: Keys to use instead of the lookup given to the constructor.

        Raises:
            FrameError: broken framing or checksums.
            ApduError: a malformed or unsupported APDU.
            MissingKeyError: a ciphered push and no key for its system title.
            DecryptionError: the authentication tag does not verify.
            ReplayError: the invocation counter did not increase (with a replay guard).
        """
        if len(data) > self.max_push_size:
            raise InputTooLarge(
                f"push of {len(data)} bytes exceeds the limit of {self.max_push_size}"
            )
        framing, apdu = unframe(data if type(data) is bytes else bytes(data))
        return self.decode_apdu(apdu, framing=framing, keys=keys)

    def decode_apdu(
        self, apdu: bytes, *, framing: str = "apdu", keys: KeyPair | None = None
    ) -> Push:
        """Decode one APDU (plain data-notification or a ciphering envelope around one)."""
        if not apdu:
            raise ApduError("empty APDU", offset=0)
        system_title = None
        invocation_counter = None
        security_control = None
        if apdu[0] in CIPHERING_TAGS:
            fields = split_glo_ciphering(apdu)
            if fields is None:
                envelope = decode_ciphered_apdu(apdu)
                fields = (
                    envelope.system_title,
                    envelope.security_control,
                    envelope.invocation_counter,
                    envelope.payload,
                )
            system_title, security_control, invocation_counter, payload = fields
            pair = keys if keys is not None else (self._keys(system_title) if self._keys else None)
            if pair is None:
                raise MissingKeyError(
                    f"no key for system title {system_title.hex()}", system_title=system_title
                )
            if self.replay_guard is not None:
                self.replay_guard.check(system_title, invocation_counter)
            apdu = self._suite.decrypt_payload(
                system_title, invocation_counter, security_control, payload, pair.ek, pair.ak
            )
            if self.replay_guard is not None and security_control & SC_AUTHENTICATED:
                # only an authenticated counter may move the guard: anyone can send the rest
                self.replay_guard.accept(system_title, invocation_counter)
            if not apdu:
                raise ApduError("ciphered content is empty", offset=0)
        if apdu[0] != TAG_DATA_NOTIFICATION:
            raise ApduError(
                f"APDU tag 0x{apdu[0]:02x} is not a data-notification", offset=0, tag=apdu[0]
            )
        templates = self._templates.get(len(apdu))
        if templates:
            for template in templates:
                raw = template.unpacker.unpack(apdu)
                if raw[0::2] == template.runs:
                    return template.build(
                        raw,
                        self.tz,
                        framing,
                        system_title,
                        invocation_counter,
                        security_control,
                    )
        scan = scan_notification(apdu)
        plan = plan_for(scan)
        if plan is None:
            notification = decode_data_notification(apdu)
            head = header_time(notification.date_time, self.tz, True)
            return Push(
                framing,
                "unknown",
                None,
                manufacturer_from_system_title(system_title),
                None,
                None,
                system_title,
                invocation_counter,
                security_control,
                head,
                head,
                {},
                notification.body,
            )
        self._remember(scan, plan)
        span = scan.header_span
        trust = plan.trust_deviation
        head = header_time(apdu[span[0] : span[1]] if span else None, self.tz, trust)
        values = execute(plan_rows(plan), scan.values, self.tz, trust)
        return assemble(
            plan, values, head, framing, system_title, invocation_counter, security_control
        )

    def _remember(self, scan: Any, plan: Any) -> Template:
        template = compile_template(scan, plan, self.tz)
        if self._template_count >= self._max_templates:
            self._templates.clear()
            self._template_count = 0
        self._templates.setdefault(template.length, []).append(template)
        self._template_count += 1
        return template


def decode_push(data: bytes, *, keys: KeyPair | None = None, tz: str = "Europe/Oslo") -> Push:
    """Decode one push with a fresh decoder (convenient; reuse a :class:`PushDecoder` for speed).

    Raises:
        DlmsError: the push cannot be decoded; see :meth:`PushDecoder.decode`.
    """
    return PushDecoder(tz=tz).decode(data, keys=keys)

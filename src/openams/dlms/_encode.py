"""Building pushes the way Aidon, Kaifa and Kamstrup meters send them.

The simulator drives the wire core in the meter's role through this module: a
:class:`MeterReading` (what the meter measured) becomes a List 1, 2 or 3 data-notification
in a manufacturer's exact layout, optionally ciphered, then framed in HDLC, the TCP wrapper,
M-Bus or left raw. Every detail below was read off real captures:

========== ======================= ======================= ============================
           Aidon                   Kaifa                   Kamstrup
========== ======================= ======================= ============================
invoke id  0x40000000              0x40000000              0x00000000
header dt  absent                  ``09 0C`` + 12 bytes    ``0C`` + 12 bytes
body       array of {OBIS, value,  structure of values     structure: list id, then
           {scaler, unit}}                                 OBIS/value pairs
strings    visible-string          octet-string            visible-string
current    long, 0.1 A             double-long-uns., mA    double-long-uns., 0.01 A
voltage    long-unsigned, 0.1 V    double-long-uns., 0.1 V long-unsigned, 1 V
energy     double-long-uns., 10 Wh double-long-uns., Wh    double-long-uns., 10 Wh
clock      deviation 0, status 0   deviation 0x8000        deviation 0x8000
HDLC       41 / 08 83, ctrl 13     01 / 02 01, ctrl 10     2B / 21, ctrl 13
========== ======================= ======================= ============================

Lists: 1 = active power import only; 2 = identification, power, currents and voltages;
3 = List 2 plus the clock and the four energy registers (hourly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from . import _hdlc
from ._apdu import TAG_GENERAL_GLO_CIPHERING, DataNotification
from ._axdr import Data, DataType, encode_length
from ._cosem_datetime import CosemDateTime
from ._hdlc import LLC_SERVER, crc16_x25, encode_hdlc_frames
from ._mbus import encode_mbus_frames
from ._obis import Obis, unit_code
from ._security import (
    SC_AUTHENTICATED,
    SC_AUTHENTICATED_ENCRYPTED,
    SecuritySuite,
    check_security_control,
)
from ._wrapper import WrapperFrame

__all__ = [
    "HDLC_ADDRESSES",
    "Ciphering",
    "MeterReading",
    "PushSealer",
    "build_notification",
    "encode_push",
    "list_encoders",
    "register_list_encoder",
]


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What a meter measured at one instant.

    Attributes:
        meter_id: The meter's identifier as it sends it (GS1 number or serial).
        meter_type: The meter type designation.
        clock: The meter's wall-clock time; aware. Lists 1 and 2 send it in the header
            (Kaifa, Kamstrup), List 3 as the clock object.
        phases: 1 or 3; single-phase meters leave out (or null) the L2 and L3 values.
        power_import_w: Active power import, A+. [W]
        power_export_w: Active power export, A-. [W]
        reactive_import_var: Reactive power import, R+. [var]
        reactive_export_var: Reactive power export, R-. [var]
        current_l1_a: Phase current L1. [A]
        current_l2_a: Phase current L2. [A]
        current_l3_a: Phase current L3. [A]
        voltage_l1_v: Phase voltage L1. [V]
        voltage_l2_v: Phase voltage L2. [V]
        voltage_l3_v: Phase voltage L3. [V]
        energy_import_wh: Cumulative active energy import register, A+. [Wh]
        energy_export_wh: Cumulative active energy export register, A-. [Wh]
        energy_reactive_import_varh: Cumulative reactive energy import, R+. [varh]
        energy_reactive_export_varh: Cumulative reactive energy export, R-. [varh]
    """

    meter_id: str
    meter_type: str
    clock: datetime
    phases: int = 3
    power_import_w: int = 0
    power_export_w: int = 0
    reactive_import_var: int = 0
    reactive_export_var: int = 0
    current_l1_a: float = 0.0
    current_l2_a: float = 0.0
    current_l3_a: float = 0.0
    voltage_l1_v: float = 230.0
    voltage_l2_v: float = 230.0
    voltage_l3_v: float = 230.0
    energy_import_wh: int = 0
    energy_export_wh: int = 0
    energy_reactive_import_varh: int = 0
    energy_reactive_export_varh: int = 0

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if self.clock.tzinfo is None:
            raise ValueError("clock must be an aware datetime")


@dataclass(frozen=True, slots=True)
class Ciphering:
    """How to cipher a push (security suite 0).

    Attributes:
        system_title: The meter's system title. [8 bytes]
        invocation_counter: This push's frame counter; increase it for every push.
        ek: Block cipher key. [16 bytes]
        ak: Authentication key. [16 bytes]
        security_control: 0x30 (authenticated and encrypted), 0x20 or 0x10.
    """

    system_title: bytes
    invocation_counter: int
    ek: bytes
    ak: bytes | None = None
    security_control: int = SC_AUTHENTICATED_ENCRYPTED


#: HDLC (destination, source, control) per manufacturer, as their meters send.
HDLC_ADDRESSES: dict[str, tuple[bytes, bytes, int]] = {
    "aidon": (b"\x41", b"\x08\x83", 0x13),
    "kaifa": (b"\x01", b"\x02\x01", 0x10),
    "kamstrup": (b"\x2b", b"\x21", 0x13),
}

ListEncoder = Callable[[int, MeterReading], DataNotification]
_ENCODERS: dict[str, ListEncoder] = {}


def register_list_encoder(name: str, encoder: ListEncoder) -> ListEncoder:
    """Register a list encoder under ``name`` (the built-in ones register here too)."""
    _ENCODERS[name] = encoder
    return encoder


def list_encoders() -> tuple[str, ...]:
    """Names of the registered list encoders."""
    return tuple(sorted(_ENCODERS))


def build_notification(style: str, list_number: int, reading: MeterReading) -> DataNotification:
    """The data-notification a ``style`` meter sends for List ``list_number``.

    Raises:
        ValueError: unknown style or list number.
    """
    try:
        encoder = _ENCODERS[style]
    except KeyError:
        raise ValueError(f"unknown list style {style!r}; known: {list_encoders()}") from None
    if list_number not in (1, 2, 3):
        raise ValueError("list_number must be 1, 2 or 3")
    return encoder(list_number, reading)


_SUITE = SecuritySuite()
_crc = _hdlc._crc


_FRAMINGS = ("hdlc", "wrapper", "mbus", "llc", "apdu")
_MAX_INFO = 0x7FF - 14


class PushSealer:
    """Ciphers and frames one meter's APDUs: the one implementation behind :func:`encode_push`.

    Everything that does not change from push to push is made once: the cipher object, the
    AAD, the HDLC header with its HCS (per frame length). Per push there remain one AES-GCM
    call (security control 0x30), one FCS and a few joins, so the simulator keeps one sealer
    per meter.

    Args:
        style: Whose HDLC addresses to use (see :data:`HDLC_ADDRESSES`).
        framing: ``hdlc`` (with LLC header), ``wrapper`` (IEC 62056-47), ``mbus``, ``llc`` or
            ``apdu`` (raw).
        system_title: The meter's system title, for ciphered pushes. [8 bytes]
        ek: Block cipher key; ``None`` sends the APDU in clear. [16 bytes]
        ak: Authentication key. [16 bytes]
        security_control: 0x30, 0x20 or 0x10 (suite 0).
        max_info_length: Split HDLC information fields longer than this. [bytes]

    Raises:
        ValueError: unknown framing or style, or bad ciphering parameters.
        ApduError: an unsupported security suite or compression.
    """

    def __init__(
        self,
        style: str,
        framing: str = "hdlc",
        *,
        system_title: bytes = b"",
        ek: bytes | None = None,
        ak: bytes | None = None,
        security_control: int = SC_AUTHENTICATED_ENCRYPTED,
        max_info_length: int = _MAX_INFO,
    ) -> None:
        if framing not in _FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}")
        if framing == "hdlc" and style not in HDLC_ADDRESSES:
            raise ValueError(f"no HDLC addresses for style {style!r}")
        if max_info_length < 1:
            raise ValueError("max_info_length must be positive")
        if ek is not None:
            check_security_control(security_control)
            if len(system_title) != 8:
                raise ValueError("a system title is 8 bytes")
            if security_control & SC_AUTHENTICATED and ak is None:
                raise ValueError("authentication needs an authentication key")
        self.style = style
        self.framing = framing
        self.system_title = system_title
        self.ek = ek
        self.ak = ak
        self.security_control = security_control
        self.max_info_length = max_info_length
        self._gcm = _SUITE.cipher(ek) if ek is not None else None
        self._aad = bytes((security_control,)) + (ak or b"")
        self._heads: dict[int, bytes] = {}  # HDLC frame length -> header bytes with HCS
        # The common case, ciphered (0x30) in HDLC, has a path of its own: per APDU length the
        # frame's constant start and the CRC state after it are kept.
        self._fast = (
            self._gcm is not None
            and security_control == SC_AUTHENTICATED_ENCRYPTED
            and framing == "hdlc"
        )
        self._starts: dict[int, bytes] = {}

    def seal(self, apdu: bytes, invocation_counter: int = 0) -> bytes:
        """The push as the meter sends it: ciphered when keys were given, then framed.

        Raises:
            ValueError: the invocation counter is not an unsigned 32-bit number.
        """
        if self._gcm is not None:
            if not 0 <= invocation_counter <= 0xFFFFFFFF:
                raise ValueError("the invocation counter is an unsigned 32-bit number")
            if self._fast:
                start = self._starts.get(len(apdu))
                if start is None:
                    start = self._starts[len(apdu)] = self._hdlc_start(len(apdu))
                if start:
                    return self._seal_hdlc(apdu, invocation_counter, start)
            if self.security_control == SC_AUTHENTICATED_ENCRYPTED:
                nonce = self.system_title + invocation_counter.to_bytes(4, "big")
                sealed = self._gcm.encrypt(nonce, apdu, self._aad)
                content = b"\x30" + nonce[8:] + sealed[:-4]  # tag cut to 12 bytes
                apdu = b"\xdb\x08" + self.system_title + encode_length(len(content)) + content
            else:
                apdu = _SUITE.encrypt(
                    apdu,
                    system_title=self.system_title,
                    invocation_counter=invocation_counter,
                    ek=self.ek,  # type: ignore[arg-type]  # set when _gcm is
                    ak=self.ak,
                    security_control=self.security_control,
                    tag=TAG_GENERAL_GLO_CIPHERING,
                ).to_bytes()
        framing = self.framing
        if framing == "apdu":
            return apdu
        if framing == "llc":
            return LLC_SERVER + apdu
        if framing == "wrapper":
            return WrapperFrame(1, 1, apdu).to_bytes()
        if framing == "mbus":
            return encode_mbus_frames(apdu)
        info = LLC_SERVER + apdu
        dest, src, control = HDLC_ADDRESSES[self.style]
        if len(info) > self.max_info_length:
            return encode_hdlc_frames(
                info,
                dest_address=dest,
                src_address=src,
                control=control,
                max_info_length=self.max_info_length,
            )
        head = self._heads.get(len(info))
        if head is None:  # one frame: format, addresses, control and HCS depend on length only
            length = 2 + len(dest) + len(src) + 1 + 2 + len(info) + 2
            header = (0xA000 | length).to_bytes(2, "big") + dest + src + bytes((control,))
            head = self._heads[len(info)] = header + crc16_x25(header).to_bytes(2, "little")
        body = head + info
        return b"\x7e" + body + crc16_x25(body).to_bytes(2, "little") + b"\x7e"

    def _seal_hdlc(self, apdu: bytes, invocation_counter: int, head: bytes) -> bytes:
        counter = invocation_counter.to_bytes(4, "big")
        sealed = self._gcm.encrypt(self.system_title + counter, apdu, self._aad)  # type: ignore[union-attr]
        frame = head + counter + sealed[:-4]  # tag cut to 12 bytes
        # FCS (little-endian) and the closing flag in one go
        return frame + (_crc(memoryview(frame)[1:]) | 0x7E0000).to_bytes(3, "little")

    def _hdlc_start(self, apdu_length: int) -> bytes:
        """The frame up to the invocation counter.

        Empty when the push needs more than one frame: the general path takes it then.
        """
        content_length = 1 + 4 + apdu_length + 12
        cipher_head = b"\xdb\x08" + self.system_title + encode_length(content_length) + b"\x30"
        info_length = len(LLC_SERVER) + len(cipher_head) + content_length - 1
        if info_length > self.max_info_length:
            return b""
        dest, src, control = HDLC_ADDRESSES[self.style]
        length = 2 + len(dest) + len(src) + 1 + 2 + info_length + 2
        header = (0xA000 | length).to_bytes(2, "big") + dest + src + bytes((control,))
        return b"\x7e" + header + crc16_x25(header).to_bytes(2, "little") + LLC_SERVER + cipher_head


def encode_push(
    notification: DataNotification | bytes,
    *,
    framing: str = "hdlc",
    ciphering: Ciphering | None = None,
    style: str = "aidon",
    max_info_length: int = _MAX_INFO,
) -> bytes:
    """Cipher (optionally) and frame a push; see :class:`PushSealer` to send many.

    Args:
        notification: The data-notification (or any APDU as bytes).
        framing: ``hdlc`` (with LLC header), ``wrapper`` (IEC 62056-47), ``mbus``, ``llc`` or
            ``apdu`` (raw).
        ciphering: Cipher into general-glo-ciphering with these parameters.
        style: Whose HDLC addresses to use (see :data:`HDLC_ADDRESSES`).
        max_info_length: Split HDLC information fields longer than this. [bytes]

    Raises:
        ValueError: unknown framing or style, or bad ciphering parameters.
    """
    apdu = notification if isinstance(notification, bytes) else notification.to_bytes()
    if ciphering is None:
        return PushSealer(style, framing, max_info_length=max_info_length).seal(apdu)
    sealer = PushSealer(
        style,
        framing,
        system_title=ciphering.system_title,
        ek=ciphering.ek,
        ak=ciphering.ak,
        security_control=ciphering.security_control,
        max_info_length=max_info_length,
    )
    return sealer.seal(apdu, ciphering.invocation_counter)


# --- helpers -------------------------------------------------------------------------------


def _obis(text: str) -> Data:
    return Data(DataType.OCTET_STRING, Obis.parse(text).to_bytes())


def _u32(value: float) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, max(0, min(round(value), 0xFFFFFFFF)))


def _u16(value: float) -> Data:
    return Data(DataType.LONG_UNSIGNED, max(0, min(round(value), 0xFFFF)))


def _i16(value: float) -> Data:
    return Data(DataType.LONG, max(-0x8000, min(round(value), 0x7FFF)))


def _scaler_unit(scaler: int, unit: str) -> Data:
    return Data(
        DataType.STRUCTURE,
        (Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit_code(unit))),
    )


def _clock(value: datetime, *, deviation: int, weekday_sunday_zero: bool = False) -> bytes:
    weekday = value.isoweekday() % 7 if weekday_sunday_zero else value.isoweekday()
    return CosemDateTime(
        value.year,
        value.month,
        value.day,
        weekday,
        value.hour,
        value.minute,
        value.second,
        0xFF,
        deviation,
        0x00,
    ).to_bytes()


def _phase_values(r: MeterReading) -> tuple[list[float], list[float]]:
    if r.phases == 1:
        return [r.current_l1_a], [r.voltage_l1_v]
    return (
        [r.current_l1_a, r.current_l2_a, r.current_l3_a],
        [r.voltage_l1_v, r.voltage_l2_v, r.voltage_l3_v],
    )


_CURRENT = ("1-0:31.7.0.255", "1-0:51.7.0.255", "1-0:71.7.0.255")
_VOLTAGE = ("1-0:32.7.0.255", "1-0:52.7.0.255", "1-0:72.7.0.255")
_POWER = (
    ("1-0:1.7.0.255", "W"),
    ("1-0:2.7.0.255", "W"),
    ("1-0:3.7.0.255", "var"),
    ("1-0:4.7.0.255", "var"),
)
_ENERGY = (
    ("1-0:1.8.0.255", "Wh"),
    ("1-0:2.8.0.255", "Wh"),
    ("1-0:3.8.0.255", "varh"),
    ("1-0:4.8.0.255", "varh"),
)


def _powers(r: MeterReading) -> tuple[int, int, int, int]:
    return (r.power_import_w, r.power_export_w, r.reactive_import_var, r.reactive_export_var)


def _energies(r: MeterReading) -> tuple[int, int, int, int]:
    return (
        r.energy_import_wh,
        r.energy_export_wh,
        r.energy_reactive_import_varh,
        r.energy_reactive_export_varh,
    )


# --- Aidon ---------------------------------------------------------------------------------


def _aidon(list_number: int, r: MeterReading) -> DataNotification:
    def item(obis: str, value: Data, scaler_unit: Data | None = None) -> Data:
        parts = (_obis(obis), value) if scaler_unit is None else (_obis(obis), value, scaler_unit)
        return Data(DataType.STRUCTURE, parts)

    power = item(_POWER[0][0], _u32(r.power_import_w), _scaler_unit(0, "W"))
    if list_number == 1:
        items = [power]
    else:
        currents, voltages = _phase_values(r)
        items = [
            item("1-1:0.2.129.255", Data(DataType.VISIBLE_STRING, "AIDON_V0001")),
            item("0-0:96.1.0.255", Data(DataType.VISIBLE_STRING, r.meter_id)),
            item("0-0:96.1.7.255", Data(DataType.VISIBLE_STRING, r.meter_type)),
        ]
        items += [
            item(obis, _u32(value), _scaler_unit(0, unit))
            for (obis, unit), value in zip(_POWER, _powers(r), strict=True)
        ]
        items += [
            item(obis, _i16(a * 10), _scaler_unit(-1, "A"))
            for obis, a in zip(_CURRENT, currents, strict=False)
        ]
        items += [
            item(obis, _u16(v * 10), _scaler_unit(-1, "V"))
            for obis, v in zip(_VOLTAGE, voltages, strict=False)
        ]
        if list_number == 3:
            clock = _clock(r.clock, deviation=0, weekday_sunday_zero=True)
            items.append(item("0-0:1.0.0.255", Data(DataType.OCTET_STRING, clock)))
            items += [
                item(obis, _u32(value // 10), _scaler_unit(1, unit))
                for (obis, unit), value in zip(_ENERGY, _energies(r), strict=True)
            ]
    return DataNotification(0x40000000, None, Data(DataType.ARRAY, tuple(items)))


# --- Kaifa ---------------------------------------------------------------------------------


def _kaifa(list_number: int, r: MeterReading) -> DataNotification:
    header = _clock(r.clock, deviation=-0x8000)
    if list_number == 1:
        values = [_u32(r.power_import_w)]
    else:
        currents, voltages = _phase_values(r)
        values = [
            Data(DataType.OCTET_STRING, b"KFM_001"),
            Data(DataType.OCTET_STRING, r.meter_id.encode("ascii")),
            Data(DataType.OCTET_STRING, r.meter_type.encode("ascii")),
            *(_u32(v) for v in _powers(r)),
            *(_u32(a * 1000) for a in currents),
            *(_u32(v * 10) for v in voltages),
        ]
        if list_number == 3:
            values.append(Data(DataType.OCTET_STRING, header))
            values += [_u32(e) for e in _energies(r)]
    return DataNotification(0x40000000, header, Data(DataType.STRUCTURE, tuple(values)), True)


# --- Kamstrup ------------------------------------------------------------------------------


def _kamstrup(list_number: int, r: MeterReading) -> DataNotification:
    header = _clock(r.clock, deviation=-0x8000)
    null = Data(DataType.NULL_DATA, None)
    values = [Data(DataType.VISIBLE_STRING, "Kamstrup_V0001")]

    def pair(obis: str, value: Data) -> None:
        values.extend((_obis(obis.replace("1-0:", "1-1:")), value))

    if list_number == 1:
        pair(_POWER[0][0], _u32(r.power_import_w))
    else:
        pair("1-1:0.0.5.255", Data(DataType.VISIBLE_STRING, r.meter_id))
        pair("1-1:96.1.1.255", Data(DataType.VISIBLE_STRING, r.meter_type))
        for (obis, _), value in zip(_POWER, _powers(r), strict=True):
            pair(obis, _u32(value))
        currents = [r.current_l1_a, r.current_l2_a, r.current_l3_a]
        voltages = [r.voltage_l1_v, r.voltage_l2_v, r.voltage_l3_v]
        for phase, (obis, a) in enumerate(zip(_CURRENT, currents, strict=True)):
            if r.phases == 1 and phase:
                values.extend((null, null))  # single-phase meters keep the slots, as nulls
            else:
                pair(obis, _u32(a * 100))
        for phase, (obis, v) in enumerate(zip(_VOLTAGE, voltages, strict=True)):
            if r.phases == 1 and phase:
                values.extend((null, null))
            else:
                pair(obis, _u16(v))
        if list_number == 3:
            values.extend((_obis("0-1:1.0.0.255"), Data(DataType.OCTET_STRING, header)))
            for (obis, _), value in zip(_ENERGY, _energies(r), strict=True):
                pair(obis, _u32(value // 10))
    return DataNotification(0x00000000, header, Data(DataType.STRUCTURE, tuple(values)))


register_list_encoder("aidon", _aidon)
register_list_encoder("kaifa", _kaifa)
register_list_encoder("kamstrup", _kamstrup)

"""The DLMS/COSEM wire core: bytes in, typed records out. Sans-I/O.

This package imports nothing else from ``openams`` and does no I/O: no sockets, no files, no
clock. Callers pass in bytes, keys, time zones and counters, and get back frozen records.

Start with :class:`PushDecoder` (decode pushes) and :mod:`openams.dlms.encode` helpers
re-exported here (build, cipher and frame pushes as the meters do). Meter events (power
failure, tampering, voltage, earth fault) are built with :func:`build_event_notification`
and recognised in a decoded push with :func:`decode_event`.
"""

from __future__ import annotations

from ._apdu import (
    CipheredApdu,
    DataNotification,
    GeneralBlockTransfer,
    decode_ciphered_apdu,
    decode_data_notification,
    decode_general_block_transfer,
    reassemble_blocks,
)
from ._axdr import Data, DataType, decode_data, decode_length, encode_data, encode_length
from ._connection import (
    NEED_DATA,
    PushReceived,
    PushRejected,
    PushStream,
    StreamClosed,
    StreamState,
)
from ._cosem_datetime import CosemDateTime, datetime_from_cosem, encode_cosem_datetime
from ._encode import (
    HDLC_ADDRESSES,
    Ciphering,
    MeterReading,
    PushSealer,
    build_notification,
    encode_push,
    list_encoders,
    register_list_encoder,
)
from ._errors import (
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
from ._events import (
    EVENTS,
    EventCode,
    MeterEvent,
    build_event_notification,
    decode_event,
    event_by_code,
)
from ._hdlc import HdlcFrame, crc16_x25, decode_hdlc_frame, decode_hdlc_frames, encode_hdlc_frames
from ._lists import ListDecoder, list_decoders, register_list_decoder
from ._mbus import MbusFrame, decode_mbus_frames, encode_mbus_frames
from ._obis import UNITS, Obis, unit_code, unit_symbol
from ._packer import ListPacker
from ._push import KeyPair, Push, PushDecoder, decode_push, unframe
from ._replay import ReplayGuard
from ._security import SecuritySuite, security_label
from ._wrapper import WrapperFrame, decode_wrapper_frame

__all__ = [
    "EVENTS",
    "HDLC_ADDRESSES",
    "NEED_DATA",
    "UNITS",
    "ApduError",
    "CipheredApdu",
    "Ciphering",
    "CosemDateTime",
    "Data",
    "DataNotification",
    "DataType",
    "DecodeError",
    "DecryptionError",
    "DlmsError",
    "EventCode",
    "FrameError",
    "GeneralBlockTransfer",
    "HdlcFrame",
    "InputTooLarge",
    "KeyPair",
    "ListDecoder",
    "ListPacker",
    "LocalProtocolError",
    "MbusFrame",
    "MeterEvent",
    "MeterReading",
    "MissingKeyError",
    "Obis",
    "OpenAMSError",
    "Push",
    "PushDecoder",
    "PushReceived",
    "PushRejected",
    "PushSealer",
    "PushStream",
    "RemoteProtocolError",
    "ReplayError",
    "ReplayGuard",
    "SecurityError",
    "SecuritySuite",
    "StreamClosed",
    "StreamState",
    "WrapperFrame",
    "build_event_notification",
    "build_notification",
    "crc16_x25",
    "datetime_from_cosem",
    "decode_ciphered_apdu",
    "decode_data",
    "decode_data_notification",
    "decode_event",
    "decode_general_block_transfer",
    "decode_hdlc_frame",
    "decode_hdlc_frames",
    "decode_length",
    "decode_mbus_frames",
    "decode_push",
    "decode_wrapper_frame",
    "encode_cosem_datetime",
    "encode_data",
    "encode_hdlc_frames",
    "encode_length",
    "encode_mbus_frames",
    "encode_push",
    "event_by_code",
    "list_decoders",
    "list_encoders",
    "reassemble_blocks",
    "register_list_decoder",
    "register_list_encoder",
    "security_label",
    "unframe",
    "unit_code",
    "unit_symbol",
]

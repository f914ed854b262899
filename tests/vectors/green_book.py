"""Worked examples from the standards, written out by hand and annotated field by field.

* CRC-16/X.25: the catalogue check value (ISO/IEC 13239, the FCS of IEC 62056-46).
* HDLC: the SNRM and DISC frames a client sends to open and close a link (IEC 62056-46).
* Security suite 0: the Green Book's AES-GCM example (IEC 62056-5-3, "cryptographic
  protection" worked examples): a get-request protected with SC 0x30, 0x20 and 0x10 under the
  example keys. These are the standard's numbers; OpenAMS must reproduce them exactly.
* COSEM date-time: the autumn hour that occurs twice, stated both ways (IEC 62056-6-2, clause
  4.1.6.1), hand-built.
* A data-notification, hand-built from the ASN.1 (IEC 62056-5-3, clause 9.6).
"""

from __future__ import annotations

# --- CRC-16/X.25 ----------------------------------------------------------------------------

CRC_CHECK_INPUT = b"123456789"
CRC_CHECK_VALUE = 0x906E

# --- HDLC -----------------------------------------------------------------------------------

SNRM = bytes.fromhex(
    "7e"  # flag
    "a0 07"  # frame format: type 3, S = 0, length 7
    "03"  # destination: server (upper HDLC) address 1, one byte: 1 << 1 | 1
    "21"  # source: client address 0x10 (public client): 0x10 << 1 | 1
    "93"  # control: SNRM (0x83) with the poll bit (0x10)
    "0f 01"  # FCS, low byte first (no HCS: the frame has no information field)
    "7e"  # flag
)
SNRM_FIELDS = {"dest_address": b"\x03", "src_address": b"\x21", "control": 0x93, "info": b""}

DISC = bytes.fromhex(
    "7e"  # flag
    "a0 07"  # frame format: type 3, S = 0, length 7
    "03"  # destination: server address 1
    "21"  # source: client address 0x10
    "53"  # control: DISC (0x43) with the poll bit
    "03 c7"  # FCS
    "7e"  # flag
)
DISC_FIELDS = {"dest_address": b"\x03", "src_address": b"\x21", "control": 0x53, "info": b""}

# --- security suite 0 -----------------------------------------------------------------------

EK = bytes.fromhex("000102030405060708090a0b0c0d0e0f")  # global unicast encryption key
AK = bytes.fromhex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf")  # authentication key
SYSTEM_TITLE = bytes.fromhex(
    "4d 4d 4d"  # FLAG id "MMM"
    "00 00 bc 61 4e"  # manufacturer's serial 12345678
)
INVOCATION_COUNTER = 0x01234567

PLAINTEXT = bytes.fromhex(
    "c0"  # get-request
    "01"  # get-request-normal
    "00"  # invoke-id-and-priority
    "00 08"  # class-id 8: Clock
    "00 00 01 00 00 ff"  # instance-id: OBIS 0-0:1.0.0.255
    "02"  # attribute 2: time
    "00"  # no access-selection
)

# The initialisation vector is the system title followed by the invocation counter.
IV = SYSTEM_TITLE + INVOCATION_COUNTER.to_bytes(4, "big")

AUTHENTICATED_ENCRYPTED = bytes.fromhex(
    "db"  # general-glo-ciphering
    "08 4d4d4d0000bc614e"  # system-title
    "1e"  # ciphered-content: 30 bytes
    "30"  # security control: authenticated and encrypted, suite 0
    "01 23 45 67"  # invocation counter
    "41 13 12 ff 93 5a 47 56 68 27 c4 67 bc"  # ciphertext (13 bytes, as long as the plaintext)
    "7d 82 5c 3b e4 a7 7c 3f cc 05 6b 6b"  # authentication tag: first 12 bytes of the GCM tag
)
CIPHERTEXT = bytes.fromhex("411312ff935a47566827c467bc")
TAG_AUTHENTICATED_ENCRYPTED = bytes.fromhex("7d825c3be4a77c3fcc056b6b")

ENCRYPTED = bytes.fromhex(
    "db"  # general-glo-ciphering
    "08 4d4d4d0000bc614e"  # system-title
    "12"  # ciphered-content: 18 bytes
    "20"  # security control: encrypted only
    "01 23 45 67"  # invocation counter
    "41 13 12 ff 93 5a 47 56 68 27 c4 67 bc"  # ciphertext: the same keystream, no tag
)

AUTHENTICATED = bytes.fromhex(
    "db"  # general-glo-ciphering
    "08 4d4d4d0000bc614e"  # system-title
    "1e"  # ciphered-content: 30 bytes
    "10"  # security control: authenticated only
    "01 23 45 67"  # invocation counter
    "c0 01 00 00 08 00 00 01 00 00 ff 02 00"  # the plaintext, in clear
    "06 72 5d 91 0f 92 21 d2 63 87 75 16"  # tag over SC || AK || plaintext
)

# --- COSEM date-time ------------------------------------------------------------------------

# 27 October 2024, 02:30 in Norway happens twice. Stated with the deviation, each is exact.
AUTUMN_0230_SUMMER = bytes.fromhex(
    "07 e8"  # year 2024
    "0a"  # month 10
    "1b"  # day 27
    "07"  # day of week: Sunday
    "02 1e 00"  # 02:30:00
    "00"  # hundredths 0
    "ff 88"  # deviation -120 min (UTC minus local time): local time is UTC+02:00
    "80"  # clock status: daylight saving active
)
AUTUMN_0230_SUMMER_ISO = "2024-10-27T02:30:00+02:00"

AUTUMN_0230_WINTER = bytes.fromhex(
    "07 e8"  # year 2024
    "0a"  # month 10
    "1b"  # day 27
    "07"  # day of week: Sunday
    "02 1e 00"  # 02:30:00
    "00"  # hundredths 0
    "ff c4"  # deviation -60 min: local time is UTC+01:00
    "00"  # clock status: no daylight saving
)
AUTUMN_0230_WINTER_ISO = "2024-10-27T02:30:00+01:00"

# --- data-notification ----------------------------------------------------------------------

DATA_NOTIFICATION = bytes.fromhex(
    "0f"  # data-notification
    "00 00 00 01"  # long-invoke-id-and-priority: invoke id 1
    "0c"  # date-time present, 12 bytes
    "07 e8 01 0f 01"  #   2024-01-15, Monday
    "11 00 00 00"  #   17:00:00.00
    "ff c4"  #   deviation -60: UTC+01:00
    "00"  #   clock status
    "02 02"  # notification-body: structure of two
    "09 06 01 00 01 08 00 ff"  #   octet-string: OBIS 1-0:1.8.0.255
    "06 00 bc 61 4e"  #   double-long-unsigned 12345678
)
DATA_NOTIFICATION_INVOKE_ID = 1
DATA_NOTIFICATION_ISO = "2024-01-15T17:00:00+01:00"
DATA_NOTIFICATION_OBIS = bytes((1, 0, 1, 8, 0, 255))
DATA_NOTIFICATION_VALUE = 12345678

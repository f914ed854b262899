"""Aidon 6534 (three-phase) pushes, AIDON_V0001 lists, HDLC framing; and a one-phase List 2.

Made with OpenAMS's encoder (``build_notification("aidon", n, MeterReading(**reading))``, then
``encode_push(..., style="aidon")``), and annotated field by field, each field checked by hand
against the Aidon HAN interface description (AIDON_V0001), IEC 62056-46 (HDLC) and IEC 62056-6-2
(A-XDR, units).

Aidon sends everything needed to read a value: each item is ``{OBIS, value, {scaler, unit}}``
(no scaler/unit for strings and the clock). The header date-time is absent; List 3 carries the
clock as local wall-clock time with deviation 0, read as Europe/Oslo.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import PushVector

OSLO = ZoneInfo("Europe/Oslo")

READING = {
    "meter_id": "7359992912345678",
    "meter_type": "6534",
    "clock": datetime(2024, 1, 15, 17, 0, 0, tzinfo=OSLO),
    "phases": 3,
    "power_import_w": 1234,
    "power_export_w": 0,
    "reactive_import_var": 56,
    "reactive_export_var": 78,
    "current_l1_a": 5.3,
    "current_l2_a": 1.2,
    "current_l3_a": 0.7,
    "voltage_l1_v": 231.4,
    "voltage_l2_v": 229.8,
    "voltage_l3_v": 230.1,
    "energy_import_wh": 12345670,
    "energy_export_wh": 0,
    "energy_reactive_import_varh": 100,
    "energy_reactive_export_varh": 2000,
}

READING_ONE_PHASE = {
    "meter_id": "7359992987654321",
    "meter_type": "6525",
    "clock": datetime(2024, 1, 15, 17, 0, 0, tzinfo=OSLO),
    "phases": 1,
    "power_import_w": 2300,
    "power_export_w": 0,
    "reactive_import_var": 0,
    "reactive_export_var": 120,
    "current_l1_a": 10.2,
    "voltage_l1_v": 232.0,
}

# List 1 (every 2.5 s): active power import only, one {OBIS, value, {scaler, unit}}.
LIST_1 = bytes.fromhex(
    "7e"  # flag
    "a0 2a"  # frame format: type 3, S = 0, length 42
    "41"  # destination address
    "08 83"  # source address
    "13"  # control 0x13
    "04 13"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "00"  # date-time: absent
    "01 01"  # array, 1 elements: notification-body
    "02 03"  #   structure, 3 elements
    "09 06 01 00 01 07 00 ff"  #     OBIS 1-0:1.7.0.255: A+ power
    "06 00 00 04 d2"  #     double-long-unsigned 1234: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "19 f2"  # FCS
    "7e"  # flag
)

# List 2 (every 10 s): list version, identification, power, three currents and voltages.
LIST_2 = bytes.fromhex(
    "7e"  # flag
    "a1 1e"  # frame format: type 3, S = 0, length 286
    "41"  # destination address
    "08 83"  # source address
    "13"  # control 0x13
    "ee ee"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "00"  # date-time: absent
    "01 0d"  # array, 13 elements: notification-body
    "02 02"  #   structure, 2 elements
    "09 06 01 01 00 02 81 ff"  #     OBIS 1-1:0.2.129.255: list version id
    "0a 0b"  #     visible-string, 11 bytes
    "41 49 44 4f 4e 5f 56 30 30 30 31"  #       "AIDON_V0001"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 00 ff"  #     OBIS 0-0:96.1.0.255: meter id
    "0a 10"  #     visible-string, 16 bytes
    "37 33 35 39 39 39 32 39 31 32 33 34"  #       "735999291234"
    "35 36 37 38"  #       "5678"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 07 ff"  #     OBIS 0-0:96.1.7.255: meter type
    "0a 04"  #     visible-string, 4 bytes
    "36 35 33 34"  #       "6534"
    "02 03"  #   structure, 3 elements
    "09 06 01 00 01 07 00 ff"  #     OBIS 1-0:1.7.0.255: A+ power
    "06 00 00 04 d2"  #     double-long-unsigned 1234: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 02 07 00 ff"  #     OBIS 1-0:2.7.0.255: A- power
    "06 00 00 00 00"  #     double-long-unsigned 0: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 03 07 00 ff"  #     OBIS 1-0:3.7.0.255: R+ power
    "06 00 00 00 38"  #     double-long-unsigned 56: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 04 07 00 ff"  #     OBIS 1-0:4.7.0.255: R- power
    "06 00 00 00 4e"  #     double-long-unsigned 78: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 1f 07 00 ff"  #     OBIS 1-0:31.7.0.255: current L1
    "10 00 35"  #     long 53: 5.3 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 33 07 00 ff"  #     OBIS 1-0:51.7.0.255: current L2
    "10 00 0c"  #     long 12: 1.2 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 47 07 00 ff"  #     OBIS 1-0:71.7.0.255: current L3
    "10 00 07"  #     long 7: 0.7 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 20 07 00 ff"  #     OBIS 1-0:32.7.0.255: voltage L1
    "12 09 0a"  #     long-unsigned 2314: 231.4 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "02 03"  #   structure, 3 elements
    "09 06 01 00 34 07 00 ff"  #     OBIS 1-0:52.7.0.255: voltage L2
    "12 08 fa"  #     long-unsigned 2298: 229.8 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "02 03"  #   structure, 3 elements
    "09 06 01 00 48 07 00 ff"  #     OBIS 1-0:72.7.0.255: voltage L3
    "12 08 fd"  #     long-unsigned 2301: 230.1 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "80 9e"  # FCS
    "7e"  # flag
)

# List 3 (hourly): List 2, the clock (day of week with Sunday as 0, as Aidon sends it) and
# the four energy registers in 10 Wh.
LIST_3 = bytes.fromhex(
    "7e"  # flag
    "a1 8a"  # frame format: type 3, S = 0, length 394
    "41"  # destination address
    "08 83"  # source address
    "13"  # control 0x13
    "eb fd"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "00"  # date-time: absent
    "01 12"  # array, 18 elements: notification-body
    "02 02"  #   structure, 2 elements
    "09 06 01 01 00 02 81 ff"  #     OBIS 1-1:0.2.129.255: list version id
    "0a 0b"  #     visible-string, 11 bytes
    "41 49 44 4f 4e 5f 56 30 30 30 31"  #       "AIDON_V0001"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 00 ff"  #     OBIS 0-0:96.1.0.255: meter id
    "0a 10"  #     visible-string, 16 bytes
    "37 33 35 39 39 39 32 39 31 32 33 34"  #       "735999291234"
    "35 36 37 38"  #       "5678"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 07 ff"  #     OBIS 0-0:96.1.7.255: meter type
    "0a 04"  #     visible-string, 4 bytes
    "36 35 33 34"  #       "6534"
    "02 03"  #   structure, 3 elements
    "09 06 01 00 01 07 00 ff"  #     OBIS 1-0:1.7.0.255: A+ power
    "06 00 00 04 d2"  #     double-long-unsigned 1234: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 02 07 00 ff"  #     OBIS 1-0:2.7.0.255: A- power
    "06 00 00 00 00"  #     double-long-unsigned 0: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 03 07 00 ff"  #     OBIS 1-0:3.7.0.255: R+ power
    "06 00 00 00 38"  #     double-long-unsigned 56: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 04 07 00 ff"  #     OBIS 1-0:4.7.0.255: R- power
    "06 00 00 00 4e"  #     double-long-unsigned 78: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 1f 07 00 ff"  #     OBIS 1-0:31.7.0.255: current L1
    "10 00 35"  #     long 53: 5.3 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 33 07 00 ff"  #     OBIS 1-0:51.7.0.255: current L2
    "10 00 0c"  #     long 12: 1.2 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 47 07 00 ff"  #     OBIS 1-0:71.7.0.255: current L3
    "10 00 07"  #     long 7: 0.7 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 20 07 00 ff"  #     OBIS 1-0:32.7.0.255: voltage L1
    "12 09 0a"  #     long-unsigned 2314: 231.4 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "02 03"  #   structure, 3 elements
    "09 06 01 00 34 07 00 ff"  #     OBIS 1-0:52.7.0.255: voltage L2
    "12 08 fa"  #     long-unsigned 2298: 229.8 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "02 03"  #   structure, 3 elements
    "09 06 01 00 48 07 00 ff"  #     OBIS 1-0:72.7.0.255: voltage L3
    "12 08 fd"  #     long-unsigned 2301: 230.1 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "02 02"  #   structure, 2 elements
    "09 06 00 00 01 00 00 ff"  #     OBIS 0-0:1.0.0.255: clock
    "09 0c"  #     octet-string, 12 bytes: date-time
    "07 e8"  #       year 2024
    "01"  #       month 1
    "0f"  #       day 15
    "01"  #       day of week 1
    "11 00 00"  #       17:00:00
    "ff"  #       hundredths not specified
    "00 00"  #       deviation 0 min
    "00"  #       clock status 0x00
    "02 03"  #   structure, 3 elements
    "09 06 01 00 01 08 00 ff"  #     OBIS 1-0:1.8.0.255: A+ energy
    "06 00 12 d6 87"  #     double-long-unsigned 1234567: 12345670 Wh
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 01"  #       integer 1: scaler
    "16 1e"  #       enum 30: unit Wh
    "02 03"  #   structure, 3 elements
    "09 06 01 00 02 08 00 ff"  #     OBIS 1-0:2.8.0.255: A- energy
    "06 00 00 00 00"  #     double-long-unsigned 0: 0 Wh
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 01"  #       integer 1: scaler
    "16 1e"  #       enum 30: unit Wh
    "02 03"  #   structure, 3 elements
    "09 06 01 00 03 08 00 ff"  #     OBIS 1-0:3.8.0.255: R+ energy
    "06 00 00 00 0a"  #     double-long-unsigned 10: 100 varh
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 01"  #       integer 1: scaler
    "16 20"  #       enum 32: unit varh
    "02 03"  #   structure, 3 elements
    "09 06 01 00 04 08 00 ff"  #     OBIS 1-0:4.8.0.255: R- energy
    "06 00 00 00 c8"  #     double-long-unsigned 200: 2000 varh
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 01"  #       integer 1: scaler
    "16 20"  #       enum 32: unit varh
    "2f 97"  # FCS
    "7e"  # flag
)

# List 2 of a one-phase meter (Aidon 6525): the L2 and L3 items are left out.
LIST_2_ONE_PHASE = bytes.fromhex(
    "7e"  # flag
    "a0 d2"  # frame format: type 3, S = 0, length 210
    "41"  # destination address
    "08 83"  # source address
    "13"  # control 0x13
    "82 d6"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "00"  # date-time: absent
    "01 09"  # array, 9 elements: notification-body
    "02 02"  #   structure, 2 elements
    "09 06 01 01 00 02 81 ff"  #     OBIS 1-1:0.2.129.255: list version id
    "0a 0b"  #     visible-string, 11 bytes
    "41 49 44 4f 4e 5f 56 30 30 30 31"  #       "AIDON_V0001"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 00 ff"  #     OBIS 0-0:96.1.0.255: meter id
    "0a 10"  #     visible-string, 16 bytes
    "37 33 35 39 39 39 32 39 38 37 36 35"  #       "735999298765"
    "34 33 32 31"  #       "4321"
    "02 02"  #   structure, 2 elements
    "09 06 00 00 60 01 07 ff"  #     OBIS 0-0:96.1.7.255: meter type
    "0a 04"  #     visible-string, 4 bytes
    "36 35 32 35"  #       "6525"
    "02 03"  #   structure, 3 elements
    "09 06 01 00 01 07 00 ff"  #     OBIS 1-0:1.7.0.255: A+ power
    "06 00 00 08 fc"  #     double-long-unsigned 2300: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 02 07 00 ff"  #     OBIS 1-0:2.7.0.255: A- power
    "06 00 00 00 00"  #     double-long-unsigned 0: W
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1b"  #       enum 27: unit W
    "02 03"  #   structure, 3 elements
    "09 06 01 00 03 07 00 ff"  #     OBIS 1-0:3.7.0.255: R+ power
    "06 00 00 00 00"  #     double-long-unsigned 0: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 04 07 00 ff"  #     OBIS 1-0:4.7.0.255: R- power
    "06 00 00 00 78"  #     double-long-unsigned 120: var
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f 00"  #       integer 0: scaler
    "16 1d"  #       enum 29: unit var
    "02 03"  #   structure, 3 elements
    "09 06 01 00 1f 07 00 ff"  #     OBIS 1-0:31.7.0.255: current L1
    "10 00 66"  #     long 102: 10.2 A
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 21"  #       enum 33: unit A
    "02 03"  #   structure, 3 elements
    "09 06 01 00 20 07 00 ff"  #     OBIS 1-0:32.7.0.255: voltage L1
    "12 09 10"  #     long-unsigned 2320: 232 V
    "02 02"  #     structure, 2 elements: scaler, unit
    "0f ff"  #       integer -1: scaler
    "16 23"  #       enum 35: unit V
    "9e 58"  # FCS
    "7e"  # flag
)

VECTORS = (
    PushVector(
        name="aidon_6534_list1",
        data=LIST_1,
        framing="hdlc",
        layout="aidon",
        list_id=None,
        manufacturer="Aidon",
        meter_id=None,
        meter_type=None,
        time=None,
        header_time=None,
        values={
            "1-0:1.7.0.255": (1234, "W"),
        },
        style="aidon",
        list_number=1,
        reading=READING,
    ),
    PushVector(
        name="aidon_6534_list2",
        data=LIST_2,
        framing="hdlc",
        layout="aidon",
        list_id="AIDON_V0001",
        manufacturer="Aidon",
        meter_id="7359992912345678",
        meter_type="6534",
        time=None,
        header_time=None,
        values={
            "1-1:0.2.129.255": ("AIDON_V0001", None),
            "0-0:96.1.0.255": ("7359992912345678", None),
            "0-0:96.1.7.255": ("6534", None),
            "1-0:1.7.0.255": (1234, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (56, "var"),
            "1-0:4.7.0.255": (78, "var"),
            "1-0:31.7.0.255": (5.3, "A"),
            "1-0:51.7.0.255": (1.2, "A"),
            "1-0:71.7.0.255": (0.7, "A"),
            "1-0:32.7.0.255": (231.4, "V"),
            "1-0:52.7.0.255": (229.8, "V"),
            "1-0:72.7.0.255": (230.1, "V"),
        },
        style="aidon",
        list_number=2,
        reading=READING,
    ),
    PushVector(
        name="aidon_6534_list3",
        data=LIST_3,
        framing="hdlc",
        layout="aidon",
        list_id="AIDON_V0001",
        manufacturer="Aidon",
        meter_id="7359992912345678",
        meter_type="6534",
        time="2024-01-15T17:00:00+01:00",
        header_time=None,
        values={
            "1-1:0.2.129.255": ("AIDON_V0001", None),
            "0-0:96.1.0.255": ("7359992912345678", None),
            "0-0:96.1.7.255": ("6534", None),
            "1-0:1.7.0.255": (1234, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (56, "var"),
            "1-0:4.7.0.255": (78, "var"),
            "1-0:31.7.0.255": (5.3, "A"),
            "1-0:51.7.0.255": (1.2, "A"),
            "1-0:71.7.0.255": (0.7, "A"),
            "1-0:32.7.0.255": (231.4, "V"),
            "1-0:52.7.0.255": (229.8, "V"),
            "1-0:72.7.0.255": (230.1, "V"),
            "0-0:1.0.0.255": ("2024-01-15T17:00:00+01:00", None),
            "1-0:1.8.0.255": (12345670, "Wh"),
            "1-0:2.8.0.255": (0, "Wh"),
            "1-0:3.8.0.255": (100, "varh"),
            "1-0:4.8.0.255": (2000, "varh"),
        },
        style="aidon",
        list_number=3,
        reading=READING,
    ),
    PushVector(
        name="aidon_6525_list2_one_phase",
        data=LIST_2_ONE_PHASE,
        framing="hdlc",
        layout="aidon",
        list_id="AIDON_V0001",
        manufacturer="Aidon",
        meter_id="7359992987654321",
        meter_type="6525",
        time=None,
        header_time=None,
        values={
            "1-1:0.2.129.255": ("AIDON_V0001", None),
            "0-0:96.1.0.255": ("7359992987654321", None),
            "0-0:96.1.7.255": ("6525", None),
            "1-0:1.7.0.255": (2300, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (120, "var"),
            "1-0:31.7.0.255": (10.2, "A"),
            "1-0:32.7.0.255": (232.0, "V"),
        },
        style="aidon",
        list_number=2,
        reading=READING_ONE_PHASE,
    ),
)

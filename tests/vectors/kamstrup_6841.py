"""Kamstrup 6841 (Omnipower, three-phase) pushes, Kamstrup_V0001 lists; and a one-phase List 2.

Made with OpenAMS's encoder (``build_notification("kamstrup", n, MeterReading(**reading))``,
then ``encode_push(..., style="kamstrup")``), and annotated field by field, each field checked
by hand against Kamstrup's HAN-NVE list description (Kamstrup_V0001), IEC 62056-46 and IEC
62056-6-2.

Kamstrup pairs OBIS codes with values but sends no scalers: current is in 0.01 A, voltage
in 1 V, energy in 10 Wh. The clocks are local wall-clock time with the deviation not specified.
These pushes are stamped 02:00 on 27 October 2024, the hour that occurs twice in Norway: the
Norwegian-list rule reads it as its first occurrence, summer time (+02:00).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import PushVector

OSLO = ZoneInfo("Europe/Oslo")

READING = {
    "meter_id": "5706567312345678",
    "meter_type": "6841131BN243101040",
    "clock": datetime(2024, 10, 27, 2, 0, 0, tzinfo=OSLO),
    "phases": 3,
    "power_import_w": 560,
    "power_export_w": 1500,
    "reactive_import_var": 10,
    "reactive_export_var": 0,
    "current_l1_a": 2.47,
    "current_l2_a": 0.05,
    "current_l3_a": 11.0,
    "voltage_l1_v": 229.0,
    "voltage_l2_v": 231.0,
    "voltage_l3_v": 228.0,
    "energy_import_wh": 98765430,
    "energy_export_wh": 1234560,
    "energy_reactive_import_varh": 5550,
    "energy_reactive_export_varh": 990,
}

READING_ONE_PHASE = {
    "meter_id": "5706567387654321",
    "meter_type": "6851121BN243101040",
    "clock": datetime(2024, 10, 27, 2, 0, 0, tzinfo=OSLO),
    "phases": 1,
    "power_import_w": 98,
    "current_l1_a": 0.43,
    "voltage_l1_v": 240.0,
}

# List 1 (Kamstrup's 10 s list with power only): list id, then one OBIS/value pair.
LIST_1 = bytes.fromhex(
    "7e"  # flag
    "a0 3d"  # frame format: type 3, S = 0, length 61
    "2b"  # destination address
    "21"  # source address
    "13"  # control 0x13
    "a2 d0"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "00 00 00 00"  # long-invoke-id-and-priority 0x00000000
    "0c"  # date-time: 12 bytes
    "07 e8"  #   year 2024
    "0a"  #   month 10
    "1b"  #   day 27
    "07"  #   day of week 7
    "02 00 00"  #   02:00:00
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 03"  # structure, 3 elements: notification-body
    "0a 0e"  #   visible-string, 14 bytes
    "4b 61 6d 73 74 72 75 70 5f 56 30 30"  #     "Kamstrup_V00"
    "30 31"  #     "01"
    "09 06 01 01 01 07 00 ff"  #   OBIS 1-1:1.7.0.255: A+ power
    "06 00 00 02 30"  #   double-long-unsigned 560: W
    "5d 3d"  # FCS
    "7e"  # flag
)

# List 2 (every 10 s): list id, then OBIS/value pairs with B = 1 OBIS codes.
LIST_2 = bytes.fromhex(
    "7e"  # flag
    "a0 e2"  # frame format: type 3, S = 0, length 226
    "2b"  # destination address
    "21"  # source address
    "13"  # control 0x13
    "23 9a"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "00 00 00 00"  # long-invoke-id-and-priority 0x00000000
    "0c"  # date-time: 12 bytes
    "07 e8"  #   year 2024
    "0a"  #   month 10
    "1b"  #   day 27
    "07"  #   day of week 7
    "02 00 00"  #   02:00:00
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 19"  # structure, 25 elements: notification-body
    "0a 0e"  #   visible-string, 14 bytes
    "4b 61 6d 73 74 72 75 70 5f 56 30 30"  #     "Kamstrup_V00"
    "30 31"  #     "01"
    "09 06 01 01 00 00 05 ff"  #   OBIS 1-1:0.0.5.255: meter id
    "0a 10"  #   visible-string, 16 bytes
    "35 37 30 36 35 36 37 33 31 32 33 34"  #     "570656731234"
    "35 36 37 38"  #     "5678"
    "09 06 01 01 60 01 01 ff"  #   OBIS 1-1:96.1.1.255: meter type
    "0a 12"  #   visible-string, 18 bytes
    "36 38 34 31 31 33 31 42 4e 32 34 33"  #     "6841131BN243"
    "31 30 31 30 34 30"  #     "101040"
    "09 06 01 01 01 07 00 ff"  #   OBIS 1-1:1.7.0.255: A+ power
    "06 00 00 02 30"  #   double-long-unsigned 560: W
    "09 06 01 01 02 07 00 ff"  #   OBIS 1-1:2.7.0.255: A- power
    "06 00 00 05 dc"  #   double-long-unsigned 1500: W
    "09 06 01 01 03 07 00 ff"  #   OBIS 1-1:3.7.0.255: R+ power
    "06 00 00 00 0a"  #   double-long-unsigned 10: var
    "09 06 01 01 04 07 00 ff"  #   OBIS 1-1:4.7.0.255: R- power
    "06 00 00 00 00"  #   double-long-unsigned 0: var
    "09 06 01 01 1f 07 00 ff"  #   OBIS 1-1:31.7.0.255: current L1
    "06 00 00 00 f7"  #   double-long-unsigned 247: 0.01 A = 2.47 A
    "09 06 01 01 33 07 00 ff"  #   OBIS 1-1:51.7.0.255: current L2
    "06 00 00 00 05"  #   double-long-unsigned 5: 0.01 A = 0.05 A
    "09 06 01 01 47 07 00 ff"  #   OBIS 1-1:71.7.0.255: current L3
    "06 00 00 04 4c"  #   double-long-unsigned 1100: 0.01 A = 11 A
    "09 06 01 01 20 07 00 ff"  #   OBIS 1-1:32.7.0.255: voltage L1
    "12 00 e5"  #   long-unsigned 229: V
    "09 06 01 01 34 07 00 ff"  #   OBIS 1-1:52.7.0.255: voltage L2
    "12 00 e7"  #   long-unsigned 231: V
    "09 06 01 01 48 07 00 ff"  #   OBIS 1-1:72.7.0.255: voltage L3
    "12 00 e4"  #   long-unsigned 228: V
    "fd 62"  # FCS
    "7e"  # flag
)

# List 3 (hourly): List 2, the clock (0-1:1.0.0.255) and the energy registers in 10 Wh.
LIST_3 = bytes.fromhex(
    "7e"  # flag
    "a1 2c"  # frame format: type 3, S = 0, length 300
    "2b"  # destination address
    "21"  # source address
    "13"  # control 0x13
    "fc 04"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "00 00 00 00"  # long-invoke-id-and-priority 0x00000000
    "0c"  # date-time: 12 bytes
    "07 e8"  #   year 2024
    "0a"  #   month 10
    "1b"  #   day 27
    "07"  #   day of week 7
    "02 00 00"  #   02:00:00
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 23"  # structure, 35 elements: notification-body
    "0a 0e"  #   visible-string, 14 bytes
    "4b 61 6d 73 74 72 75 70 5f 56 30 30"  #     "Kamstrup_V00"
    "30 31"  #     "01"
    "09 06 01 01 00 00 05 ff"  #   OBIS 1-1:0.0.5.255: meter id
    "0a 10"  #   visible-string, 16 bytes
    "35 37 30 36 35 36 37 33 31 32 33 34"  #     "570656731234"
    "35 36 37 38"  #     "5678"
    "09 06 01 01 60 01 01 ff"  #   OBIS 1-1:96.1.1.255: meter type
    "0a 12"  #   visible-string, 18 bytes
    "36 38 34 31 31 33 31 42 4e 32 34 33"  #     "6841131BN243"
    "31 30 31 30 34 30"  #     "101040"
    "09 06 01 01 01 07 00 ff"  #   OBIS 1-1:1.7.0.255: A+ power
    "06 00 00 02 30"  #   double-long-unsigned 560: W
    "09 06 01 01 02 07 00 ff"  #   OBIS 1-1:2.7.0.255: A- power
    "06 00 00 05 dc"  #   double-long-unsigned 1500: W
    "09 06 01 01 03 07 00 ff"  #   OBIS 1-1:3.7.0.255: R+ power
    "06 00 00 00 0a"  #   double-long-unsigned 10: var
    "09 06 01 01 04 07 00 ff"  #   OBIS 1-1:4.7.0.255: R- power
    "06 00 00 00 00"  #   double-long-unsigned 0: var
    "09 06 01 01 1f 07 00 ff"  #   OBIS 1-1:31.7.0.255: current L1
    "06 00 00 00 f7"  #   double-long-unsigned 247: 0.01 A = 2.47 A
    "09 06 01 01 33 07 00 ff"  #   OBIS 1-1:51.7.0.255: current L2
    "06 00 00 00 05"  #   double-long-unsigned 5: 0.01 A = 0.05 A
    "09 06 01 01 47 07 00 ff"  #   OBIS 1-1:71.7.0.255: current L3
    "06 00 00 04 4c"  #   double-long-unsigned 1100: 0.01 A = 11 A
    "09 06 01 01 20 07 00 ff"  #   OBIS 1-1:32.7.0.255: voltage L1
    "12 00 e5"  #   long-unsigned 229: V
    "09 06 01 01 34 07 00 ff"  #   OBIS 1-1:52.7.0.255: voltage L2
    "12 00 e7"  #   long-unsigned 231: V
    "09 06 01 01 48 07 00 ff"  #   OBIS 1-1:72.7.0.255: voltage L3
    "12 00 e4"  #   long-unsigned 228: V
    "09 06 00 01 01 00 00 ff"  #   OBIS 0-1:1.0.0.255: clock
    "09 0c"  #   octet-string, 12 bytes: date-time
    "07 e8"  #     year 2024
    "0a"  #     month 10
    "1b"  #     day 27
    "07"  #     day of week 7
    "02 00 00"  #     02:00:00
    "ff"  #     hundredths not specified
    "80 00"  #     deviation not specified (0x8000)
    "00"  #     clock status 0x00
    "09 06 01 01 01 08 00 ff"  #   OBIS 1-1:1.8.0.255: A+ energy
    "06 00 96 b4 3f"  #   double-long-unsigned 9876543: 10 Wh = 98765430 Wh
    "09 06 01 01 02 08 00 ff"  #   OBIS 1-1:2.8.0.255: A- energy
    "06 00 01 e2 40"  #   double-long-unsigned 123456: 10 Wh = 1234560 Wh
    "09 06 01 01 03 08 00 ff"  #   OBIS 1-1:3.8.0.255: R+ energy
    "06 00 00 02 2b"  #   double-long-unsigned 555: 10 varh = 5550 varh
    "09 06 01 01 04 08 00 ff"  #   OBIS 1-1:4.8.0.255: R- energy
    "06 00 00 00 63"  #   double-long-unsigned 99: 10 varh = 990 varh
    "eb aa"  # FCS
    "7e"  # flag
)

# List 2 of a one-phase meter: the L2 and L3 slots are kept, as null-data pairs.
LIST_2_ONE_PHASE = bytes.fromhex(
    "7e"  # flag
    "a0 ba"  # frame format: type 3, S = 0, length 186
    "2b"  # destination address
    "21"  # source address
    "13"  # control 0x13
    "ed aa"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "00 00 00 00"  # long-invoke-id-and-priority 0x00000000
    "0c"  # date-time: 12 bytes
    "07 e8"  #   year 2024
    "0a"  #   month 10
    "1b"  #   day 27
    "07"  #   day of week 7
    "02 00 00"  #   02:00:00
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 19"  # structure, 25 elements: notification-body
    "0a 0e"  #   visible-string, 14 bytes
    "4b 61 6d 73 74 72 75 70 5f 56 30 30"  #     "Kamstrup_V00"
    "30 31"  #     "01"
    "09 06 01 01 00 00 05 ff"  #   OBIS 1-1:0.0.5.255: meter id
    "0a 10"  #   visible-string, 16 bytes
    "35 37 30 36 35 36 37 33 38 37 36 35"  #     "570656738765"
    "34 33 32 31"  #     "4321"
    "09 06 01 01 60 01 01 ff"  #   OBIS 1-1:96.1.1.255: meter type
    "0a 12"  #   visible-string, 18 bytes
    "36 38 35 31 31 32 31 42 4e 32 34 33"  #     "6851121BN243"
    "31 30 31 30 34 30"  #     "101040"
    "09 06 01 01 01 07 00 ff"  #   OBIS 1-1:1.7.0.255: A+ power
    "06 00 00 00 62"  #   double-long-unsigned 98: W
    "09 06 01 01 02 07 00 ff"  #   OBIS 1-1:2.7.0.255: A- power
    "06 00 00 00 00"  #   double-long-unsigned 0: W
    "09 06 01 01 03 07 00 ff"  #   OBIS 1-1:3.7.0.255: R+ power
    "06 00 00 00 00"  #   double-long-unsigned 0: var
    "09 06 01 01 04 07 00 ff"  #   OBIS 1-1:4.7.0.255: R- power
    "06 00 00 00 00"  #   double-long-unsigned 0: var
    "09 06 01 01 1f 07 00 ff"  #   OBIS 1-1:31.7.0.255: current L1
    "06 00 00 00 2b"  #   double-long-unsigned 43: 0.01 A = 0.43 A
    "00"  #   null-data: phase not present
    "00"  #   null-data: phase not present
    "00"  #   null-data: phase not present
    "00"  #   null-data: phase not present
    "09 06 01 01 20 07 00 ff"  #   OBIS 1-1:32.7.0.255: voltage L1
    "12 00 f0"  #   long-unsigned 240: V
    "00"  #   null-data: phase not present
    "00"  #   null-data: phase not present
    "00"  #   null-data: phase not present
    "00"  #   null-data
    "62 3e"  # FCS
    "7e"  # flag
)

VECTORS = (
    PushVector(
        name="kamstrup_6841_list1",
        data=LIST_1,
        framing="hdlc",
        layout="kamstrup",
        list_id="Kamstrup_V0001",
        manufacturer="Kamstrup",
        meter_id=None,
        meter_type=None,
        time="2024-10-27T02:00:00+02:00",
        header_time="2024-10-27T02:00:00+02:00",
        values={
            "1-1:0.2.129.255": ("Kamstrup_V0001", None),
            "1-1:1.7.0.255": (560, "W"),
        },
        style="kamstrup",
        list_number=1,
        reading=READING,
    ),
    PushVector(
        name="kamstrup_6841_list2",
        data=LIST_2,
        framing="hdlc",
        layout="kamstrup",
        list_id="Kamstrup_V0001",
        manufacturer="Kamstrup",
        meter_id="5706567312345678",
        meter_type="6841131BN243101040",
        time="2024-10-27T02:00:00+02:00",
        header_time="2024-10-27T02:00:00+02:00",
        values={
            "1-1:0.2.129.255": ("Kamstrup_V0001", None),
            "1-1:0.0.5.255": ("5706567312345678", None),
            "1-1:96.1.1.255": ("6841131BN243101040", None),
            "1-1:1.7.0.255": (560, "W"),
            "1-1:2.7.0.255": (1500, "W"),
            "1-1:3.7.0.255": (10, "var"),
            "1-1:4.7.0.255": (0, "var"),
            "1-1:31.7.0.255": (2.47, "A"),
            "1-1:51.7.0.255": (0.05, "A"),
            "1-1:71.7.0.255": (11.0, "A"),
            "1-1:32.7.0.255": (229, "V"),
            "1-1:52.7.0.255": (231, "V"),
            "1-1:72.7.0.255": (228, "V"),
        },
        style="kamstrup",
        list_number=2,
        reading=READING,
    ),
    PushVector(
        name="kamstrup_6841_list3",
        data=LIST_3,
        framing="hdlc",
        layout="kamstrup",
        list_id="Kamstrup_V0001",
        manufacturer="Kamstrup",
        meter_id="5706567312345678",
        meter_type="6841131BN243101040",
        time="2024-10-27T02:00:00+02:00",
        header_time="2024-10-27T02:00:00+02:00",
        values={
            "1-1:0.2.129.255": ("Kamstrup_V0001", None),
            "1-1:0.0.5.255": ("5706567312345678", None),
            "1-1:96.1.1.255": ("6841131BN243101040", None),
            "1-1:1.7.0.255": (560, "W"),
            "1-1:2.7.0.255": (1500, "W"),
            "1-1:3.7.0.255": (10, "var"),
            "1-1:4.7.0.255": (0, "var"),
            "1-1:31.7.0.255": (2.47, "A"),
            "1-1:51.7.0.255": (0.05, "A"),
            "1-1:71.7.0.255": (11.0, "A"),
            "1-1:32.7.0.255": (229, "V"),
            "1-1:52.7.0.255": (231, "V"),
            "1-1:72.7.0.255": (228, "V"),
            "0-1:1.0.0.255": ("2024-10-27T02:00:00+02:00", None),
            "1-1:1.8.0.255": (98765430, "Wh"),
            "1-1:2.8.0.255": (1234560, "Wh"),
            "1-1:3.8.0.255": (5550, "varh"),
            "1-1:4.8.0.255": (990, "varh"),
        },
        style="kamstrup",
        list_number=3,
        reading=READING,
    ),
    PushVector(
        name="kamstrup_one_phase_list2",
        data=LIST_2_ONE_PHASE,
        framing="hdlc",
        layout="kamstrup",
        list_id="Kamstrup_V0001",
        manufacturer="Kamstrup",
        meter_id="5706567387654321",
        meter_type="6851121BN243101040",
        time="2024-10-27T02:00:00+02:00",
        header_time="2024-10-27T02:00:00+02:00",
        values={
            "1-1:0.2.129.255": ("Kamstrup_V0001", None),
            "1-1:0.0.5.255": ("5706567387654321", None),
            "1-1:96.1.1.255": ("6851121BN243101040", None),
            "1-1:1.7.0.255": (98, "W"),
            "1-1:2.7.0.255": (0, "W"),
            "1-1:3.7.0.255": (0, "var"),
            "1-1:4.7.0.255": (0, "var"),
            "1-1:31.7.0.255": (0.43, "A"),
            "1-1:32.7.0.255": (240, "V"),
        },
        style="kamstrup",
        list_number=2,
        reading=READING_ONE_PHASE,
    ),
)

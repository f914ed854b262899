"""Kaifa MA304H3E (three-phase) pushes, KFM_001 lists; a one-phase MA105H2E; one ciphered push.

Made with OpenAMS's encoder (``build_notification("kaifa", n, MeterReading(**reading))``, then
``encode_push(..., style="kaifa")``), and annotated field by field, each field checked by hand
against Kaifa's KFM_001 OBIS list, IEC 62056-46 (HDLC), EN 13757-2 (M-Bus) and IEC 62056-6-2
(A-XDR).

Kaifa sends bare values: the list length (1, 9, 13, 14 or 18) says which is which, and the
scalers are fixed: current in mA, voltage in 0.1 V, energy in Wh. The header date-time is tagged
``09 0C`` and, like the List 3 clock, is local wall-clock time with the deviation not specified,
read as Europe/Oslo (10 June is summer time: +02:00).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import PushVector

OSLO = ZoneInfo("Europe/Oslo")

READING = {
    "meter_id": "6970631401234567",
    "meter_type": "MA304H3E",
    "clock": datetime(2024, 6, 10, 8, 30, 10, tzinfo=OSLO),
    "phases": 3,
    "power_import_w": 3456,
    "power_export_w": 0,
    "reactive_import_var": 0,
    "reactive_export_var": 312,
    "current_l1_a": 6.789,
    "current_l2_a": 4.5,
    "current_l3_a": 5.012,
    "voltage_l1_v": 235.1,
    "voltage_l2_v": 234.9,
    "voltage_l3_v": 236.0,
    "energy_import_wh": 45678901,
    "energy_export_wh": 12,
    "energy_reactive_import_varh": 345,
    "energy_reactive_export_varh": 6789012,
}

READING_ONE_PHASE = {
    "meter_id": "6970631407654321",
    "meter_type": "MA105H2E",
    "clock": datetime(2024, 6, 10, 8, 30, 10, tzinfo=OSLO),
    "phases": 1,
    "power_import_w": 789,
    "reactive_export_var": 45,
    "current_l1_a": 3.456,
    "voltage_l1_v": 229.3,
    "energy_import_wh": 1000001,
}

#: Security suite 0 parameters of the ciphered vector: the Green Book's example keys, our title.
CIPHERING = {
    "system_title": bytes.fromhex("4b464d 1020000001"),  # FLAG id "KFM", then the serial number
    "invocation_counter": 0x00012345,
    "ek": bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
    "ak": bytes.fromhex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"),
    "security_control": 0x30,
}

# List 1 (every 2 s): the header clock and a structure of one value, active power import.
LIST_1 = bytes.fromhex(
    "7e"  # flag
    "a0 27"  # frame format: type 3, S = 0, length 39
    "01"  # destination address
    "02 01"  # source address
    "10"  # control 0x10
    "5a 87"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "09 0c"  # date-time: octet-string, 12 bytes (tagged form)
    "07 e8"  #   year 2024
    "06"  #   month 6
    "0a"  #   day 10
    "01"  #   day of week 1
    "08 1e 0a"  #   08:30:10
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 01"  # structure, 1 elements: notification-body
    "06 00 00 0d 80"  #   double-long-unsigned 3456: A+ power, W
    "b5 a1"  # FCS
    "7e"  # flag
)

# List 2 (every 10 s): 13 bare values, identified by their position.
LIST_2 = bytes.fromhex(
    "7e"  # flag
    "a0 79"  # frame format: type 3, S = 0, length 121
    "01"  # destination address
    "02 01"  # source address
    "10"  # control 0x10
    "80 93"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "09 0c"  # date-time: octet-string, 12 bytes (tagged form)
    "07 e8"  #   year 2024
    "06"  #   month 6
    "0a"  #   day 10
    "01"  #   day of week 1
    "08 1e 0a"  #   08:30:10
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 0d"  # structure, 13 elements: notification-body
    "09 07"  #   octet-string, 7 bytes: list version id
    "4b 46 4d 5f 30 30 31"  #     "KFM_001"
    "09 10"  #   octet-string, 16 bytes: meter id
    "36 39 37 30 36 33 31 34 30 31 32 33"  #     "697063140123"
    "34 35 36 37"  #     "4567"
    "09 08"  #   octet-string, 8 bytes: meter type
    "4d 41 33 30 34 48 33 45"  #     "MA304H3E"
    "06 00 00 0d 80"  #   double-long-unsigned 3456: A+ power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: A- power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: R+ power, var
    "06 00 00 01 38"  #   double-long-unsigned 312: R- power, var
    "06 00 00 1a 85"  #   double-long-unsigned 6789: current L1, mA = 6.789 A
    "06 00 00 11 94"  #   double-long-unsigned 4500: current L2, mA = 4.5 A
    "06 00 00 13 94"  #   double-long-unsigned 5012: current L3, mA = 5.012 A
    "06 00 00 09 2f"  #   double-long-unsigned 2351: voltage L1, 0.1 V = 235.1 V
    "06 00 00 09 2d"  #   double-long-unsigned 2349: voltage L2, 0.1 V = 234.9 V
    "06 00 00 09 38"  #   double-long-unsigned 2360: voltage L3, 0.1 V = 236 V
    "d4 94"  # FCS
    "7e"  # flag
)

# List 3 (hourly): 18 values, List 2 then the clock and the energy registers in Wh.
LIST_3 = bytes.fromhex(
    "7e"  # flag
    "a0 9b"  # frame format: type 3, S = 0, length 155
    "01"  # destination address
    "02 01"  # source address
    "10"  # control 0x10
    "ee ae"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "09 0c"  # date-time: octet-string, 12 bytes (tagged form)
    "07 e8"  #   year 2024
    "06"  #   month 6
    "0a"  #   day 10
    "01"  #   day of week 1
    "08 1e 0a"  #   08:30:10
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 12"  # structure, 18 elements: notification-body
    "09 07"  #   octet-string, 7 bytes: list version id
    "4b 46 4d 5f 30 30 31"  #     "KFM_001"
    "09 10"  #   octet-string, 16 bytes: meter id
    "36 39 37 30 36 33 31 34 30 31 32 33"  #     "697063140123"
    "34 35 36 37"  #     "4567"
    "09 08"  #   octet-string, 8 bytes: meter type
    "4d 41 33 30 34 48 33 45"  #     "MA304H3E"
    "06 00 00 0d 80"  #   double-long-unsigned 3456: A+ power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: A- power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: R+ power, var
    "06 00 00 01 38"  #   double-long-unsigned 312: R- power, var
    "06 00 00 1a 85"  #   double-long-unsigned 6789: current L1, mA = 6.789 A
    "06 00 00 11 94"  #   double-long-unsigned 4500: current L2, mA = 4.5 A
    "06 00 00 13 94"  #   double-long-unsigned 5012: current L3, mA = 5.012 A
    "06 00 00 09 2f"  #   double-long-unsigned 2351: voltage L1, 0.1 V = 235.1 V
    "06 00 00 09 2d"  #   double-long-unsigned 2349: voltage L2, 0.1 V = 234.9 V
    "06 00 00 09 38"  #   double-long-unsigned 2360: voltage L3, 0.1 V = 236 V
    "09 0c"  #   octet-string, 12 bytes: date-time, clock
    "07 e8"  #     year 2024
    "06"  #     month 6
    "0a"  #     day 10
    "01"  #     day of week 1
    "08 1e 0a"  #     08:30:10
    "ff"  #     hundredths not specified
    "80 00"  #     deviation not specified (0x8000)
    "00"  #     clock status 0x00
    "06 02 b9 01 35"  #   double-long-unsigned 45678901: A+ energy, Wh
    "06 00 00 00 0c"  #   double-long-unsigned 12: A- energy, Wh
    "06 00 00 01 59"  #   double-long-unsigned 345: R+ energy, varh
    "06 00 67 97 94"  #   double-long-unsigned 6789012: R- energy, varh
    "38 42"  # FCS
    "7e"  # flag
)

# List 2 of a one-phase meter (Kaifa MA105H2E): 9 values, one current and one voltage.
LIST_2_ONE_PHASE = bytes.fromhex(
    "7e"  # flag
    "a0 65"  # frame format: type 3, S = 0, length 101
    "01"  # destination address
    "02 01"  # source address
    "10"  # control 0x10
    "f0 50"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "09 0c"  # date-time: octet-string, 12 bytes (tagged form)
    "07 e8"  #   year 2024
    "06"  #   month 6
    "0a"  #   day 10
    "01"  #   day of week 1
    "08 1e 0a"  #   08:30:10
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 09"  # structure, 9 elements: notification-body
    "09 07"  #   octet-string, 7 bytes: list version id
    "4b 46 4d 5f 30 30 31"  #     "KFM_001"
    "09 10"  #   octet-string, 16 bytes: meter id
    "36 39 37 30 36 33 31 34 30 37 36 35"  #     "697063140765"
    "34 33 32 31"  #     "4321"
    "09 08"  #   octet-string, 8 bytes: meter type
    "4d 41 31 30 35 48 32 45"  #     "MA105H2E"
    "06 00 00 03 15"  #   double-long-unsigned 789: A+ power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: A- power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: R+ power, var
    "06 00 00 00 2d"  #   double-long-unsigned 45: R- power, var
    "06 00 00 0d 80"  #   double-long-unsigned 3456: current L1, mA = 3.456 A
    "06 00 00 08 f5"  #   double-long-unsigned 2293: voltage L1, 0.1 V = 229.3 V
    "13 9e"  # FCS
    "7e"  # flag
)

# List 3 of the one-phase meter: 14 values.
LIST_3_ONE_PHASE = bytes.fromhex(
    "7e"  # flag
    "a0 87"  # frame format: type 3, S = 0, length 135
    "01"  # destination address
    "02 01"  # source address
    "10"  # control 0x10
    "9e 6d"  # HCS
    "e6 e7 00"  # LLC: destination LSAP, source LSAP, quality
    "0f"  # data-notification
    "40 00 00 00"  # long-invoke-id-and-priority 0x40000000
    "09 0c"  # date-time: octet-string, 12 bytes (tagged form)
    "07 e8"  #   year 2024
    "06"  #   month 6
    "0a"  #   day 10
    "01"  #   day of week 1
    "08 1e 0a"  #   08:30:10
    "ff"  #   hundredths not specified
    "80 00"  #   deviation not specified (0x8000)
    "00"  #   clock status 0x00
    "02 0e"  # structure, 14 elements: notification-body
    "09 07"  #   octet-string, 7 bytes: list version id
    "4b 46 4d 5f 30 30 31"  #     "KFM_001"
    "09 10"  #   octet-string, 16 bytes: meter id
    "36 39 37 30 36 33 31 34 30 37 36 35"  #     "697063140765"
    "34 33 32 31"  #     "4321"
    "09 08"  #   octet-string, 8 bytes: meter type
    "4d 41 31 30 35 48 32 45"  #     "MA105H2E"
    "06 00 00 03 15"  #   double-long-unsigned 789: A+ power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: A- power, W
    "06 00 00 00 00"  #   double-long-unsigned 0: R+ power, var
    "06 00 00 00 2d"  #   double-long-unsigned 45: R- power, var
    "06 00 00 0d 80"  #   double-long-unsigned 3456: current L1, mA = 3.456 A
    "06 00 00 08 f5"  #   double-long-unsigned 2293: voltage L1, 0.1 V = 229.3 V
    "09 0c"  #   octet-string, 12 bytes: date-time, clock
    "07 e8"  #     year 2024
    "06"  #     month 6
    "0a"  #     day 10
    "01"  #     day of week 1
    "08 1e 0a"  #     08:30:10
    "ff"  #     hundredths not specified
    "80 00"  #     deviation not specified (0x8000)
    "00"  #     clock status 0x00
    "06 00 0f 42 41"  #   double-long-unsigned 1000001: A+ energy, Wh
    "06 00 00 00 00"  #   double-long-unsigned 0: A- energy, Wh
    "06 00 00 00 00"  #   double-long-unsigned 0: R+ energy, varh
    "06 00 00 00 00"  #   double-long-unsigned 0: R- energy, varh
    "49 ac"  # FCS
    "7e"  # flag
)

# List 2 ciphered with security suite 0 (SC 0x30: authenticated and encrypted) in M-Bus long
# frames, the way Kaifa meters outside Norway send it. Keys and title: CIPHERING above.
# The plaintext inside is LIST_2's APDU.
LIST_2_CIPHERED_MBUS = bytes.fromhex(
    "68 8d 8d 68"  # M-Bus long frame 1: start, L = 141, L, start
    "53"  # C 0x53
    "ff"  # A 0xff
    "10"  # CI 0x10: segment 0, last
    "01 67"  # STSAP, DTSAP
    "db"  # general-glo-ciphering
    "08"  # system-title, 8 bytes
    "4b 46 4d 10 20 00 00 01"  #   "KFM" + serial
    "7d"  # ciphered-content, 125 bytes
    "30"  #   security control 0x30
    "00 01 23 45"  #   invocation counter 74565
    "6c de 59 35 ad af a9 84 bf ad e7 e4 2b 82 86 62"  #   ciphertext
    "83 ad 09 ca ca fc 51 a9 50 7f 4f 50 3b f2 e9 23"  #   ciphertext (cont.)
    "1c 60 5f f4 52 81 9a 88 eb d3 14 17 30 9e c6 ce"  #   ciphertext (cont.)
    "72 25 b0 e0 fb c5 ff ad cf 52 19 a1 a7 54 f1 56"  #   ciphertext (cont.)
    "3d 3f 71 40 5a 4f 56 8f 2f c3 ad 01 cc 6a 06 4f"  #   ciphertext (cont.)
    "b2 c4 15 6c 34 33 6b e5 f5 a9 a0 10 4e de ed 25"  #   ciphertext (cont.)
    "01 fc 79 18 27 d4 a4 ba d0 b6 51 74"  #   ciphertext (cont.)
    "ad 4f 29 da 92 74 e0 c7 00 cd fb d9"  #   authentication tag (12 bytes)
    "c7 16"  # checksum, stop
)

VECTORS = (
    PushVector(
        name="kaifa_ma304h3e_list1",
        data=LIST_1,
        framing="hdlc",
        layout="kaifa",
        list_id=None,
        manufacturer="Kaifa",
        meter_id=None,
        meter_type=None,
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-0:1.7.0.255": (3456, "W"),
        },
        style="kaifa",
        list_number=1,
        reading=READING,
    ),
    PushVector(
        name="kaifa_ma304h3e_list2",
        data=LIST_2,
        framing="hdlc",
        layout="kaifa",
        list_id="KFM_001",
        manufacturer="Kaifa",
        meter_id="6970631401234567",
        meter_type="MA304H3E",
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-1:0.2.129.255": ("KFM_001", None),
            "0-0:96.1.0.255": ("6970631401234567", None),
            "0-0:96.1.7.255": ("MA304H3E", None),
            "1-0:1.7.0.255": (3456, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (312, "var"),
            "1-0:31.7.0.255": (6.789, "A"),
            "1-0:51.7.0.255": (4.5, "A"),
            "1-0:71.7.0.255": (5.012, "A"),
            "1-0:32.7.0.255": (235.1, "V"),
            "1-0:52.7.0.255": (234.9, "V"),
            "1-0:72.7.0.255": (236.0, "V"),
        },
        style="kaifa",
        list_number=2,
        reading=READING,
    ),
    PushVector(
        name="kaifa_ma304h3e_list3",
        data=LIST_3,
        framing="hdlc",
        layout="kaifa",
        list_id="KFM_001",
        manufacturer="Kaifa",
        meter_id="6970631401234567",
        meter_type="MA304H3E",
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-1:0.2.129.255": ("KFM_001", None),
            "0-0:96.1.0.255": ("6970631401234567", None),
            "0-0:96.1.7.255": ("MA304H3E", None),
            "1-0:1.7.0.255": (3456, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (312, "var"),
            "1-0:31.7.0.255": (6.789, "A"),
            "1-0:51.7.0.255": (4.5, "A"),
            "1-0:71.7.0.255": (5.012, "A"),
            "1-0:32.7.0.255": (235.1, "V"),
            "1-0:52.7.0.255": (234.9, "V"),
            "1-0:72.7.0.255": (236.0, "V"),
            "0-0:1.0.0.255": ("2024-06-10T08:30:10+02:00", None),
            "1-0:1.8.0.255": (45678901, "Wh"),
            "1-0:2.8.0.255": (12, "Wh"),
            "1-0:3.8.0.255": (345, "varh"),
            "1-0:4.8.0.255": (6789012, "varh"),
        },
        style="kaifa",
        list_number=3,
        reading=READING,
    ),
    PushVector(
        name="kaifa_ma105h2e_list2_one_phase",
        data=LIST_2_ONE_PHASE,
        framing="hdlc",
        layout="kaifa",
        list_id="KFM_001",
        manufacturer="Kaifa",
        meter_id="6970631407654321",
        meter_type="MA105H2E",
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-1:0.2.129.255": ("KFM_001", None),
            "0-0:96.1.0.255": ("6970631407654321", None),
            "0-0:96.1.7.255": ("MA105H2E", None),
            "1-0:1.7.0.255": (789, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (45, "var"),
            "1-0:31.7.0.255": (3.456, "A"),
            "1-0:32.7.0.255": (229.3, "V"),
        },
        style="kaifa",
        list_number=2,
        reading=READING_ONE_PHASE,
    ),
    PushVector(
        name="kaifa_ma105h2e_list3_one_phase",
        data=LIST_3_ONE_PHASE,
        framing="hdlc",
        layout="kaifa",
        list_id="KFM_001",
        manufacturer="Kaifa",
        meter_id="6970631407654321",
        meter_type="MA105H2E",
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-1:0.2.129.255": ("KFM_001", None),
            "0-0:96.1.0.255": ("6970631407654321", None),
            "0-0:96.1.7.255": ("MA105H2E", None),
            "1-0:1.7.0.255": (789, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (45, "var"),
            "1-0:31.7.0.255": (3.456, "A"),
            "1-0:32.7.0.255": (229.3, "V"),
            "0-0:1.0.0.255": ("2024-06-10T08:30:10+02:00", None),
            "1-0:1.8.0.255": (1000001, "Wh"),
            "1-0:2.8.0.255": (0, "Wh"),
            "1-0:3.8.0.255": (0, "varh"),
            "1-0:4.8.0.255": (0, "varh"),
        },
        style="kaifa",
        list_number=3,
        reading=READING_ONE_PHASE,
    ),
    PushVector(
        name="kaifa_ma304h3e_list2_ciphered_mbus",
        data=LIST_2_CIPHERED_MBUS,
        framing="mbus",
        layout="kaifa",
        list_id="KFM_001",
        manufacturer="Kaifa",
        meter_id="6970631401234567",
        meter_type="MA304H3E",
        time="2024-06-10T08:30:10+02:00",
        header_time="2024-06-10T08:30:10+02:00",
        values={
            "1-1:0.2.129.255": ("KFM_001", None),
            "0-0:96.1.0.255": ("6970631401234567", None),
            "0-0:96.1.7.255": ("MA304H3E", None),
            "1-0:1.7.0.255": (3456, "W"),
            "1-0:2.7.0.255": (0, "W"),
            "1-0:3.7.0.255": (0, "var"),
            "1-0:4.7.0.255": (312, "var"),
            "1-0:31.7.0.255": (6.789, "A"),
            "1-0:51.7.0.255": (4.5, "A"),
            "1-0:71.7.0.255": (5.012, "A"),
            "1-0:32.7.0.255": (235.1, "V"),
            "1-0:52.7.0.255": (234.9, "V"),
            "1-0:72.7.0.255": (236.0, "V"),
        },
        style="kaifa",
        list_number=2,
        reading=READING,
        ciphering=CIPHERING,
    ),
)

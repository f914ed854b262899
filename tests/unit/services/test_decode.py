from __future__ import annotations

import pytest

from openams.dlms import KeyPair, PushDecoder, build_notification, encode_push
from openams.errors import InputError
from openams.services.decode import decode_hex_lines, parse_hex_line, parse_keys_csv
from openams.services.demo import build_demo_sample, summarize

TITLE = "4b464d1020000001"
EK = "000102030405060708090a0b0c0d0e0f"
AK = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"


def test_parse_hex_line_ignores_spaces_colons_and_tabs():
    assert parse_hex_line(" 7E:a0 \t0f ") == b"\x7e\xa0\x0f"


@pytest.mark.parametrize(("text", "message"), [("7e0", "odd number"), ("7g", "'g'")])
def test_parse_hex_line_names_the_problem(text, message):
    with pytest.raises(InputError, match=message):
        parse_hex_line(text)


def test_keys_csv_reads_rows_and_optional_ak():
    keys = parse_keys_csv(f"system_title,ek,ak\n{TITLE},{EK},{AK}\n4b464d1020000002,{EK},\n")
    assert keys[bytes.fromhex(TITLE)] == KeyPair(bytes.fromhex(EK), bytes.fromhex(AK))
    assert keys[bytes.fromhex("4b464d1020000002")].ak is None


def test_keys_csv_accepts_header_case_and_spaces():
    keys = parse_keys_csv(f"System_Title, EK, AK\n{TITLE},{EK},{AK}\n")
    assert bytes.fromhex(TITLE) in keys


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title,ek\n", 1, "missing system_title"),
        (f"system_title,ek,ak\n{TITLE},{EK[:-2]},{AK}\n", 2, "ek must be 16 bytes"),
        (f"system_title,ek,ak\n{TITLE},{EK},{AK}\n{TITLE},{EK},{AK}\n", 3, "listed twice"),
        (f"system_title,ek,ak\n{TITLE},{EK},xyz\n", 2, "ak: not hexadecimal"),
    ],
)
def test_keys_csv_errors_name_file_and_line(text, line, message):
    with pytest.raises(InputError, match=message) as info:
        parse_keys_csv(text, source="k.csv")
    assert info.value.line == line
    assert str(info.value).startswith(f"k.csv:{line}:")


def test_decode_hex_lines_numbers_lines_and_skips_comments():
    push = encode_push(build_notification("kaifa", 1, _reading())).hex()
    results = list(decode_hex_lines(["# c", "", push, "  ", push], PushDecoder()))
    assert [r["line"] for r in results] == [3, 5]
    assert all(r["ok"] for r in results)


def test_demo_is_deterministic_and_decodes():
    one = build_demo_sample(seed=7, per_style=2, hours=2)
    two = build_demo_sample(seed=7, per_style=2, hours=2)
    assert one.lines == two.lines
    assert one.lines != build_demo_sample(seed=8, per_style=2, hours=2).lines
    keys = parse_keys_csv(one.keys_csv)
    results = list(decode_hex_lines(one.lines, PushDecoder(keys=keys.get)))
    summary = summarize(results)
    assert summary.pushes == 6 * (2 + 2) + 3
    assert summary.decoded == summary.pushes - 3
    assert summary.ciphered == 6 * 2
    assert dict(summary.by_manufacturer) == {"Aidon": 8, "Kaifa": 8, "Kamstrup": 8}
    assert dict(summary.errors) == {"bad_frame": 1, "auth_failed": 1, "no_key": 1}


def _reading():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from openams.dlms import MeterReading

    return MeterReading(
        "1", "t", datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/Oslo")), power_import_w=5
    )

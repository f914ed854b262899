"""OBIS codes: text and six-byte forms; the COSEM unit table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import UNITS, Obis, unit_code, unit_symbol

from .strategies import PROPERTY


@pytest.mark.parametrize(
    ("text", "obis", "raw"),
    [
        ("1-0:1.8.0.255", Obis(1, 0, 1, 8, 0, 255), "01 00 01 08 00 ff"),
        ("1-0:1.8.0", Obis(1, 0, 1, 8, 0, 255), "01 00 01 08 00 ff"),  # F defaults to 255
        ("0-0:96.1.0.255", Obis(0, 0, 96, 1, 0, 255), "00 00 60 01 00 ff"),
        ("1-1:0.2.129.255", Obis(1, 1, 0, 2, 129, 255), "01 01 00 02 81 ff"),
        ("  1-0:32.7.0.1 ", Obis(1, 0, 32, 7, 0, 1), "01 00 20 07 00 01"),
    ],
)
def test_parse_format_and_bytes(text, obis, raw):
    assert Obis.parse(text) == obis
    assert obis.to_bytes() == bytes.fromhex(raw)
    assert Obis.from_bytes(bytes.fromhex(raw)) == obis
    assert str(obis) == f"{obis.a}-{obis.b}:{obis.c}.{obis.d}.{obis.e}.{obis.f}"


@pytest.mark.parametrize(
    "text",
    ["", "1.8.0", "1-0:1.8", "1-0:1.8.0.255.1", "a-0:1.8.0", "1-0:1.8.0.", "1-0:1.8.0.1000"],
)
def test_parse_refuses_what_is_not_an_obis_code(text):
    with pytest.raises(ValueError, match="not an OBIS code"):
        Obis.parse(text)


def test_parse_refuses_groups_above_255():
    with pytest.raises(ValueError, match=r"0\.\.255"):
        Obis.parse("1-0:256.8.0.255")


@pytest.mark.parametrize("size", [0, 5, 7])
def test_from_bytes_needs_six_bytes(size):
    with pytest.raises(ValueError, match=f"6 bytes, got {size}"):
        Obis.from_bytes(bytes(size))


@PROPERTY
@given(st.binary(min_size=6, max_size=6))
def test_bytes_text_round_trip(raw):
    obis = Obis.from_bytes(raw)
    assert obis.to_bytes() == raw
    assert Obis.parse(str(obis)) == obis


@pytest.mark.parametrize(
    ("code", "symbol"),
    [
        (27, "W"),
        (28, "VA"),
        (29, "var"),
        (30, "Wh"),
        (32, "varh"),
        (33, "A"),
        (35, "V"),
        (44, "Hz"),
        (9, "°C"),
        (255, ""),
        (254, "other"),
    ],
)
def test_unit_table(code, symbol):
    assert UNITS[code] == symbol
    assert unit_symbol(code) == symbol
    assert unit_code(symbol) == code


def test_unknown_unit_code_and_symbol():
    assert unit_symbol(0) is None
    assert unit_symbol(58) is None
    with pytest.raises(ValueError, match="unknown unit symbol 'kWh'"):
        unit_code("kWh")


def test_shared_symbols_map_to_the_first_code():
    # m³ is both 13 (volume) and 14 (corrected volume): the symbol names the first
    assert UNITS[13] == UNITS[14] == "m³"
    assert unit_code("m³") == 13


def test_every_symbol_maps_back_to_a_code_with_that_symbol():
    for code, symbol in UNITS.items():
        assert UNITS[unit_code(symbol)] == symbol
        assert unit_code(symbol) <= code

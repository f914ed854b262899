"""OBIS codes and the COSEM unit table.

An OBIS code names a COSEM object with six value groups ``A-B:C.D.E.F``: A the medium
(1 = electricity, 0 = abstract), B the channel, C the quantity (1 = active power import,
2 = active export, 3/4 = reactive import/export, 31/51/71 = current L1/L2/L3,
32/52/72 = voltage L1/L2/L3), D the processing (7 = instantaneous, 8 = time integral, i.e. a
register), E the tariff and F the billing period (255 = not used).

References:
    IEC 62056-6-1 (DLMS UA Blue Book), clause 7 "OBIS code structure";
    IEC 62056-6-2 (DLMS UA Blue Book), clause 4.3.2 "Register", table of units.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["UNITS", "Obis", "unit_code", "unit_symbol"]

_TEXT = re.compile(r"^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$")


class Obis(NamedTuple):
    """An OBIS code; ``str()`` gives the full ``A-B:C.D.E.F`` form."""

    a: int
    b: int
    c: int
    d: int
    e: int
    f: int = 255

    @classmethod
    def from_bytes(cls, raw: bytes) -> Obis:
        """The code from its six-byte logical name.

        Raises:
            ValueError: ``raw`` is not six bytes.
        """
        if len(raw) != 6:
            raise ValueError(f"an OBIS logical name is 6 bytes, got {len(raw)}")
        return cls(*raw)

    @classmethod
    def parse(cls, text: str) -> Obis:
        """The code from ``A-B:C.D.E`` or ``A-B:C.D.E.F`` text (F defaults to 255).

        Raises:
            ValueError: the text is not an OBIS code.
        """
        match = _TEXT.match(text.strip())
        if match is None:
            raise ValueError(f"not an OBIS code: {text!r}")
        groups = [int(g) for g in match.groups() if g is not None]
        if any(g > 255 for g in groups):
            raise ValueError(f"OBIS value groups are 0..255: {text!r}")
        return cls(*groups)

    def to_bytes(self) -> bytes:
        """The six-byte logical name."""
        return bytes(self)

    def __str__(self) -> str:
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}.{self.f}"


#: COSEM unit enumeration (Blue Book "unit" of the Register class) to its symbol.
UNITS: dict[int, str] = {
    1: "a",
    2: "mo",
    3: "wk",
    4: "d",
    5: "h",
    6: "min",
    7: "s",
    8: "°",
    9: "°C",
    10: "currency",
    11: "m",
    12: "m/s",
    13: "m³",
    14: "m³",
    15: "m³/h",
    16: "m³/h",
    17: "m³/d",
    18: "m³/d",
    19: "l",
    20: "kg",
    21: "N",
    22: "Nm",
    23: "Pa",
    24: "bar",
    25: "J",
    26: "J/h",
    27: "W",
    28: "VA",
    29: "var",
    30: "Wh",
    31: "VAh",
    32: "varh",
    33: "A",
    34: "C",
    35: "V",
    36: "V/m",
    37: "F",
    38: "Ω",
    39: "Ωm²/m",
    40: "Wb",
    41: "T",
    42: "A/m",
    43: "H",
    44: "Hz",
    45: "1/(Wh)",
    46: "1/(varh)",
    47: "1/(VAh)",
    48: "V²h",
    49: "A²h",
    50: "kg/s",
    51: "S",
    52: "K",
    53: "1/(V²h)",
    54: "1/(A²h)",
    55: "1/m³",
    56: "%",
    57: "Ah",
    60: "Wh/m³",
    61: "J/m³",
    62: "mol%",
    63: "g/m³",
    64: "Pa s",
    65: "J/kg",
    66: "g/cm²",
    67: "atm",
    70: "dBm",
    71: "dBµV",
    72: "dB",
    254: "other",
    255: "",
}

_SYMBOL_TO_CODE = {symbol: code for code, symbol in reversed(list(UNITS.items()))}


def unit_symbol(code: int) -> str | None:
    """The symbol of a COSEM unit code, or ``None`` when the code is not in the table."""
    return UNITS.get(code)


def unit_code(symbol: str) -> int:
    """The COSEM unit code of a symbol such as ``"Wh"``.

    Raises:
        ValueError: the symbol is not in the table.
    """
    try:
        return _SYMBOL_TO_CODE[symbol]
    except KeyError:
        raise ValueError(f"unknown unit symbol {symbol!r}") from None

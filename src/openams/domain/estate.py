"""The estate a grid company hands over: secondary substations, metering points, customers, meters.

Each record mirrors one row of the estate's CSV files (docs/sim-grid.md), with numbers as
``int`` and keys and system titles as ``bytes``. The values a rule restricts are listed here
once, for the importer and the documentation alike.

Invariants:
    * Records are immutable values; a record that exists has passed the import's checks.
    * The keys of a :class:`MeterRecord` never appear in its ``repr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "GRID_TYPES",
    "MAIN_FUSE_RANGE_A",
    "NOMINAL_VOLTAGES_V",
    "PHASES",
    "PRICE_AREAS",
    "PUSH_INTERVALS_S",
    "Customer",
    "MeterRecord",
    "MeteringPoint",
    "RowError",
    "Transformer",
    "main_fuse_limit_w",
]

#: The Norwegian price areas (*prisområder*).
PRICE_AREAS: tuple[str, ...] = ("NO1", "NO2", "NO3", "NO4", "NO5")
#: Grid earthing systems: IT (230 V between phases) and TN (400 V between phases).
GRID_TYPES: tuple[str, ...] = ("IT", "TN")
#: Nominal voltages between phases. [V]
NOMINAL_VOLTAGES_V: tuple[int, ...] = (230, 400)
#: Number of phases of a metering point or meter.
PHASES: tuple[int, ...] = (1, 3)
#: Smallest and largest main fuse accepted, both included. [A]
MAIN_FUSE_RANGE_A: tuple[int, int] = (16, 1000)
#: Push intervals of the HAN/AMS lists: 15 minutes and one hour. [s]
PUSH_INTERVALS_S: tuple[int, ...] = (900, 3600)


def main_fuse_limit_w(phases: int, grid_type: str, main_fuse_a: int) -> float:
    """The largest mean power a main fuse lets through.

    Returns:
        ``sqrt(3) x 400 V x I`` (TN) or ``sqrt(3) x 230 V x I`` (IT) for three phases,
        ``230 V x I`` for one phase. [W]
    """
    if phases == 3:
        voltage_v = 400.0 if grid_type == "TN" else 230.0
        return math.sqrt(3.0) * voltage_v * main_fuse_a
    return 230.0 * main_fuse_a


@dataclass(frozen=True, slots=True)
class Transformer:
    """A secondary substation (*nettstasjon*) and where it hangs in the grid.

    Attributes:
        transformer_id: The secondary substation's id.
        feeder_id: The feeder (*avgang*) it hangs on.
        substation_id: The primary substation (*transformatorstasjon*) of that feeder.
        area: Price area, ``NO1`` to ``NO5``.
        grid_type: ``IT`` or ``TN``.
        nominal_voltage_v: Voltage between phases, 230 or 400. [V]
    """

    transformer_id: str
    feeder_id: str
    substation_id: str
    area: str
    grid_type: str
    nominal_voltage_v: int


@dataclass(frozen=True, slots=True)
class MeteringPoint:
    """A metering point (*målepunkt*), identified by its GSRN.

    Attributes:
        metering_point_id: The 18-digit GSRN.
        transformer_id: The secondary substation that feeds it.
        customer_id: Its customer.
        customer_type: Kind of customer, as the grid company names it.
        street: Street name.
        house_number: House number, with a letter sometimes.
        postcode: Postcode.
        municipality: Municipality.
        area: Price area, ``NO1`` to ``NO5``.
        main_fuse_a: Main fuse. [A]
        phases: 1 or 3.
        grid_type: ``IT`` or ``TN``.
    """

    metering_point_id: str
    transformer_id: str
    customer_id: str
    customer_type: str
    street: str
    house_number: str
    postcode: str
    municipality: str
    area: str
    main_fuse_a: int
    phases: int
    grid_type: str


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer at a metering point.

    The contact details are kept exactly as delivered, even when missing or malformed: the
    roll-out's notices have to cope with them.

    Attributes:
        customer_id: The customer's id.
        name: Full name.
        mobile: Mobile number, as delivered (may be empty or wrong).
        email: E-mail address, as delivered (may be empty or wrong).
    """

    customer_id: str
    name: str
    mobile: str
    email: str


@dataclass(frozen=True, slots=True)
class MeterRecord:
    """A meter as the grid company lists it, with its keys in clear.

    Attributes:
        meter_id: The identifier the meter's lists carry.
        metering_point_id: The GSRN of the metering point it is installed at.
        manufacturer: Manufacturer name.
        meter_type: Type designation.
        phases: 1 or 3.
        system_title: The DLMS system title, 8 bytes.
        ek: The block cipher key (global unicast encryption key), 16 bytes.
        ak: The authentication key, 16 bytes.
        push_interval_s: Push interval, 900 or 3600. [s]
    """

    meter_id: str
    metering_point_id: str
    manufacturer: str
    meter_type: str
    phases: int
    system_title: bytes
    ek: bytes = field(repr=False)
    ak: bytes = field(repr=False)
    push_interval_s: int


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem found on one line of an input file.

    Attributes:
        source: The file, as the caller named it.
        line: The 1-based line number (1 for the header).
        message: What is wrong; it names the column and, except for keys, the value.
    """

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        """The error as ``source:line: message``."""
        return f"{self.source}:{self.line}: {self.message}"

"""The estate: primary substations, feeders, secondary substations, metering points, meters.

``build_grid(meters=N, area="NO1", seed=S)`` gives the same estate for the same arguments:
every draw comes from one ``random.Random(seed)``.

Shape, as Norwegian grids are built:
    * a primary substation (*transformatorstasjon*) feeds 4 to 10 feeders (*avganger*);
    * a feeder has 5 to 15 secondary substations (*nettstasjoner*), each of one grid type,
      IT 230 V (most of the older Norwegian grid) or TN 400 V;
    * a secondary substation serves 20 to 150 metering points (fewer only when the whole estate
      is smaller than 20);
    * a metering point has one customer and one meter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from openams.domain.estate import Customer, MeteringPoint, Transformer

from .identities import FLAG_PREFIXES, make_gsrn, mobile_number
from .places import AREAS, FIRST_NAMES, LAST_NAMES, street_name

__all__ = [
    "CUSTOMER_TYPES",
    "Customer",
    "Grid",
    "Meter",
    "MeteringPoint",
    "Transformer",
    "build_grid",
]

#: Customer types and their shares of the metering points.
CUSTOMER_TYPES: dict[str, float] = {
    "detached_house": 0.45,
    "apartment": 0.28,
    "cabin": 0.10,
    "farm": 0.05,
    "small_business": 0.06,
    "prosumer_solar": 0.06,
}
_FUSES_A = {
    "detached_house": (40, 50, 63),
    "apartment": (25, 32, 40),
    "cabin": (25, 32, 40),
    "farm": (50, 63),
    "small_business": (40, 50, 63),
    "prosumer_solar": (40, 50, 63),
}
_THREE_PHASE_SHARE = {
    "detached_house": 0.8,
    "apartment": 0.2,
    "cabin": 0.4,
    "farm": 1.0,
    "small_business": 1.0,
    "prosumer_solar": 0.9,
}
#: Manufacturer shares and their meter types (three-phase, one-phase) and id prefixes.
_MAKERS = {
    "aidon": (0.4, "Aidon", ("6534", "6515"), "735999289"),
    "kaifa": (0.3, "Kaifa", ("MA304H3E", "MA105H2E"), "697063140"),
    "kamstrup": (0.3, "Kamstrup", ("6841121BN243101040", "6841131BN243101040"), "570656700"),
}
INVALID_CONTACT_SHARE = 0.03


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter, its keys and its push interval."""

    meter_id: str
    metering_point_id: str
    manufacturer: str
    style: str
    meter_type: str
    phases: int
    system_title: bytes
    ek: bytes
    ak: bytes
    push_interval_s: int


@dataclass(slots=True)
class Grid:
    """The whole estate."""

    area: str
    seed: int
    transformers: list[Transformer] = field(default_factory=list)
    metering_points: list[MeteringPoint] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    meters: list[Meter] = field(default_factory=list)


def _sizes(total: int, rng: random.Random) -> list[int]:
    """Metering points per secondary substation: 20 to 150 each, summing to ``total``."""
    if total <= 150:
        return [total]
    sizes = []
    left = total
    while left > 150:
        size = rng.randint(20, 150)
        if left - size < 20:
            size = left - 20
        sizes.append(size)
        left -= size
    sizes.append(left)
    return sizes


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _contact(rng: random.Random, first: str, last: str) -> tuple[str, str]:
    mobile = mobile_number(rng)
    local = f"{first}.{last}".lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    email = (
        f"{local}{rng.randrange(100)}@{rng.choice(('example.com', 'example.net', 'example.org'))}"
    )
    if rng.random() < INVALID_CONTACT_SHARE:
        fault = rng.randrange(4)
        if fault == 0:
            mobile = ""
        elif fault == 1:
            mobile = mobile[:-2]  # too short to be a Norwegian number
        elif fault == 2:
            email = ""
        else:
            email = email.replace("@", " at ")
    return mobile, email


def build_grid(*, meters: int, area: str = "NO1", seed: int = 1) -> Grid:
    """Build an estate of ``meters`` metering points in price area ``area``.

    Raises:
        ValueError: unknown area or a non-positive number of meters.
    """
    if area not in AREAS:
        raise ValueError(f"unknown price area {area!r}; one of {', '.join(AREAS)}")
    if meters < 1:
        raise ValueError("meters must be at least 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, keys included
    grid = Grid(area, seed)
    places = AREAS[area]
    substation = feeder = 0
    feeders_left = transformers_left = 0
    serials: set[int] = set()
    for t_index, size in enumerate(_sizes(meters, rng), 1):
        if transformers_left == 0:
            if feeders_left == 0:
                substation += 1
                feeders_left = rng.randint(4, 10)
                feeder = 0
            feeder += 1
            feeders_left -= 1
            transformers_left = rng.randint(5, 15)
        transformers_left -= 1
        grid_type = "IT" if rng.random() < 0.7 else "TN"
        substation_id = f"TS-{area}-{substation:03d}"
        transformer = Transformer(
            f"NS-{area}-{t_index:05d}",
            f"{substation_id}-F{feeder:02d}",
            substation_id,
            area,
            grid_type,
            230 if grid_type == "IT" else 400,
        )
        grid.transformers.append(transformer)
        postcode, municipality = rng.choice(places)
        streets = [street_name(rng) for _ in range(max(1, size // 25))]
        for _ in range(size):
            _add_point(grid, rng, transformer, postcode, municipality, streets, serials)
    return grid


def _add_point(
    grid: Grid,
    rng: random.Random,
    transformer: Transformer,
    postcode: str,
    municipality: str,
    streets: list[str],
    serials: set[int],
) -> None:
    number = len(grid.metering_points) + 1
    kind = _pick(rng, CUSTOMER_TYPES)
    phases = 3 if rng.random() < _THREE_PHASE_SHARE[kind] else 1
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    mobile, email = _contact(rng, first, last)
    customer = Customer(f"C{number:08d}", f"{first} {last}", mobile, email)
    point = MeteringPoint(
        make_gsrn(number),
        transformer.transformer_id,
        customer.customer_id,
        kind,
        rng.choice(streets),
        str(rng.randint(1, 120)) + rng.choice(("", "", "", "A", "B")),
        postcode,
        municipality,
        transformer.area,
        rng.choice(_FUSES_A[kind]),
        phases,
        transformer.grid_type,
    )
    style = _pick(rng, {name: spec[0] for name, spec in _MAKERS.items()})
    _, manufacturer, types, id_prefix = _MAKERS[style]
    serial = rng.randrange(10_000_000)
    while serial in serials:
        serial = rng.randrange(10_000_000)
    serials.add(serial)
    grid.customers.append(customer)
    grid.metering_points.append(point)
    grid.meters.append(
        Meter(
            f"{id_prefix}{serial:07d}",
            point.metering_point_id,
            manufacturer,
            style,
            types[0] if phases == 3 else types[1],
            phases,
            FLAG_PREFIXES[style] + b"\x10" + serial.to_bytes(4, "big"),
            rng.randbytes(16),
            rng.randbytes(16),
            900 if rng.random() < 0.1 else 3600,
        )
    )

"""A synthetic estate for the benchmarks that fill a store: metering points spread over the
five bidding zones and six customer types, 100 to a secondary substation."""

from __future__ import annotations

import random

from openams.domain.estate import Customer, MeteringPoint, Transformer
from openams.domain.prices import BIDDING_ZONES
from openams.sim.places import AREAS

__all__ = ["KINDS", "estate"]

KINDS = ("detached_house", "apartment", "cabin", "farm", "small_business", "prosumer_solar")


def estate(points: int) -> tuple[list[Transformer], list[Customer], list[MeteringPoint]]:
    """Transformers, customers and metering points (``7070575`` and an 11-digit number)."""
    rng = random.Random(7)
    transformers, customers, mps = [], [], []
    for t in range((points + 99) // 100):
        area = BIDDING_ZONES[t % len(BIDDING_ZONES)]
        transformers.append(Transformer(f"T{t:05d}", "F1", "S1", area, "TN", 400))
    for n in range(points):
        t = transformers[n // 100]
        postcode, municipality = rng.choice(AREAS[t.area])
        customers.append(Customer(f"C{n:07d}", f"Kunde {n}", "", ""))
        mps.append(MeteringPoint(f"7070575{n:011d}", t.transformer_id, f"C{n:07d}",
                                 KINDS[n % len(KINDS)], "Gate", str(n % 200 + 1), postcode,
                                 municipality, t.area, 63, 3, "TN"))  # fmt: skip
    return transformers, customers, mps

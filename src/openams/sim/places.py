"""Synthetic places and names: postcodes and municipalities per price area, street names.

The postcodes and municipalities are real places in each bidding zone (NO1 east, NO2
south-west, NO3 central, NO4 north, NO5 west); the streets and people are made up.
"""

from __future__ import annotations

import random

__all__ = ["AREAS", "FIRST_NAMES", "LAST_NAMES", "street_name"]

AREAS: dict[str, tuple[tuple[str, str], ...]] = {
    "NO1": (
        ("0150", "Oslo"),
        ("1606", "Fredrikstad"),
        ("2317", "Hamar"),
        ("3015", "Drammen"),
        ("2000", "Lillestrøm"),
        ("3510", "Ringerike"),
        ("1530", "Moss"),
    ),
    "NO2": (
        ("4006", "Stavanger"),
        ("4608", "Kristiansand"),
        ("4306", "Sandnes"),
        ("3700", "Skien"),
        ("4836", "Arendal"),
        ("5501", "Haugesund"),
    ),
    "NO3": (
        ("7011", "Trondheim"),
        ("6002", "Ålesund"),
        ("6413", "Molde"),
        ("7600", "Levanger"),
        ("7500", "Stjørdal"),
    ),
    "NO4": (
        ("9008", "Tromsø"),
        ("8006", "Bodø"),
        ("8514", "Narvik"),
        ("9600", "Hammerfest"),
        ("9510", "Alta"),
        ("8622", "Rana"),
    ),
    "NO5": (
        ("5003", "Bergen"),
        ("6800", "Sunnfjord"),
        ("5700", "Voss"),
        ("5411", "Stord"),
    ),
}

FIRST_NAMES = (
    "Ola", "Kari", "Nora", "Emma", "Jakob", "Lars", "Ingrid", "Sofie", "Henrik", "Ida",
    "Magnus", "Sara", "Anders", "Maja", "Per", "Anne", "Knut", "Hilde", "Jonas", "Astrid",
)  # fmt: skip
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Bakken", "Solberg", "Lie", "Dahl",
)  # fmt: skip
_ROOTS = (
    "Bjørke", "Fjell", "Sol", "Skog", "Hav", "Eike", "Furu", "Lyng", "Elve", "Berg",
    "Strand", "Kirke", "Skole", "Stasjons", "Mølle", "Nordre", "Søndre", "Øvre", "Nedre",
)  # fmt: skip
_SUFFIXES = ("veien", "vegen", "gata", "bakken", "lia", "stien")


def street_name(rng: random.Random) -> str:
    """A plausible, made-up Norwegian street name."""
    return rng.choice(_ROOTS) + rng.choice(_SUFFIXES)

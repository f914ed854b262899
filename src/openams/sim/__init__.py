"""The grid and meter-fleet simulator: a Norwegian grid company's metering estate.

Uses the wire core in the meter's role. Deterministic for a seed.
"""

from __future__ import annotations

from .grid import Customer, Grid, Meter, MeteringPoint, Transformer, build_grid
from .identities import gsrn_check_digit, is_valid_gsrn, make_gsrn
from .run import ProfileEntry, RunSettings, RunSummary, read_load_profile, run_fleet

__all__ = [
    "Customer",
    "Grid",
    "Meter",
    "MeteringPoint",
    "ProfileEntry",
    "RunSettings",
    "RunSummary",
    "Transformer",
    "build_grid",
    "gsrn_check_digit",
    "is_valid_gsrn",
    "make_gsrn",
    "read_load_profile",
    "run_fleet",
]

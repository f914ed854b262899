"""The estate as CSV files: the formats the head-end imports (columns in docs/sim-grid.md)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from .grid import Grid

__all__ = ["COLUMNS", "write_grid"]

#: File name -> columns, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "topology.csv": (
        "transformer_id",
        "feeder_id",
        "substation_id",
        "area",
        "grid_type",
        "nominal_voltage_v",
    ),
    "metering_points.csv": (
        "metering_point_id",
        "transformer_id",
        "customer_id",
        "customer_type",
        "street",
        "house_number",
        "postcode",
        "municipality",
        "area",
        "main_fuse_a",
        "phases",
        "grid_type",
    ),
    "customers.csv": ("customer_id", "name", "mobile", "email"),
    "meters.csv": (
        "meter_id",
        "metering_point_id",
        "manufacturer",
        "meter_type",
        "phases",
        "system_title",
        "ek",
        "ak",
        "push_interval_s",
    ),
}


def _write(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def write_grid(grid: Grid, folder: Path) -> dict[str, int]:
    """Write the four CSV files into ``folder``; returns the rows written per file."""
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[tuple[object, ...]]] = {
        "topology.csv": [
            (t.transformer_id, t.feeder_id, t.substation_id, t.area, t.grid_type,
             t.nominal_voltage_v)
            for t in grid.transformers
        ],
        "metering_points.csv": [
            (p.metering_point_id, p.transformer_id, p.customer_id, p.customer_type, p.street,
             p.house_number, p.postcode, p.municipality, p.area, p.main_fuse_a, p.phases,
             p.grid_type)
            for p in grid.metering_points
        ],
        "customers.csv": [(c.customer_id, c.name, c.mobile, c.email) for c in grid.customers],
        "meters.csv": [
            (m.meter_id, m.metering_point_id, m.manufacturer, m.meter_type, m.phases,
             m.system_title.hex(), m.ek.hex(), m.ak.hex(), m.push_interval_s)
            for m in grid.meters
        ],
    }  # fmt: skip
    for name, rows in tables.items():
        _write(folder / name, COLUMNS[name], rows)
    return {name: len(rows) for name, rows in tables.items()}

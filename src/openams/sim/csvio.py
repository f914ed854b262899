"""The estate as CSV files: the formats the head-end imports (columns in docs/sim-grid.md)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from openams.errors import InputError
from openams.services.estate_import import FORMATS

from .grid import Customer, Grid, Meter, MeteringPoint, Transformer
from .identities import FLAG_PREFIXES

__all__ = ["COLUMNS", "read_grid", "write_grid"]

T = TypeVar("T")

#: File name -> columns, in order: the formats the head-end imports, defined once there.
COLUMNS: dict[str, tuple[str, ...]] = FORMATS


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


def _rows(path: Path, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"missing columns: {', '.join(missing)}", source=str(path), line=1)
        for row in reader:
            yield reader.line_num, row


def _load(folder: Path, name: str, make: Callable[[dict[str, str]], T]) -> list[T]:
    out = []
    for line, row in _rows(folder / name, COLUMNS[name]):
        try:
            out.append(make(row))
        except (ValueError, TypeError) as exc:
            raise InputError(f"bad row: {exc}", source=str(folder / name), line=line) from None
    return out


def _transformer(row: dict[str, str]) -> Transformer:
    return Transformer(
        row["transformer_id"], row["feeder_id"], row["substation_id"], row["area"],
        row["grid_type"], int(row["nominal_voltage_v"]),
    )  # fmt: skip


def _point(row: dict[str, str]) -> MeteringPoint:
    return MeteringPoint(
        row["metering_point_id"], row["transformer_id"], row["customer_id"],
        row["customer_type"], row["street"], row["house_number"], row["postcode"],
        row["municipality"], row["area"], int(row["main_fuse_a"]), int(row["phases"]),
        row["grid_type"],
    )  # fmt: skip


def _meter(row: dict[str, str]) -> Meter:
    style = row["manufacturer"].lower()
    if style not in FLAG_PREFIXES:
        raise ValueError(f"unknown manufacturer {row['manufacturer']!r}")
    title, ek, ak = (bytes.fromhex(row[k]) for k in ("system_title", "ek", "ak"))
    if (len(title), len(ek), len(ak)) != (8, 16, 16):
        raise ValueError("system_title is 8 bytes, ek and ak 16 bytes each (hex)")
    return Meter(
        row["meter_id"], row["metering_point_id"], row["manufacturer"], style,
        row["meter_type"], int(row["phases"]), title, ek, ak, int(row["push_interval_s"]),
    )  # fmt: skip


def read_grid(folder: Path) -> Grid:
    """Read an estate written by :func:`write_grid` (the simulator runs on it).

    Raises:
        InputError: a file is missing or unreadable, or a row is malformed (file and line).
    """
    transformers = _load(folder, "topology.csv", _transformer)
    grid = Grid(transformers[0].area if transformers else "", 0, transformers)
    grid.customers = _load(
        folder, "customers.csv", lambda r: Customer(r["customer_id"], r["name"], r["mobile"],
                                                    r["email"])
    )  # fmt: skip
    grid.metering_points = _load(folder, "metering_points.csv", _point)
    grid.meters = _load(folder, "meters.csv", _meter)
    points = {p.metering_point_id for p in grid.metering_points}
    for meter in grid.meters:
        if meter.metering_point_id not in points:
            raise InputError(
                f"meter {meter.meter_id} is at unknown metering point {meter.metering_point_id}",
                source=str(folder / "meters.csv"),
            )
    return grid

"""``ams sim``: the grid and meter-fleet simulator."""

from __future__ import annotations

from pathlib import Path

import click

from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.places import AREAS

__all__ = ["sim_group"]


@click.group("sim")
def sim_group() -> None:
    """Simulate a grid company's metering estate."""


@sim_group.command("grid")
@click.option(
    "--meters",
    type=click.IntRange(1, 5_000_000),
    required=True,
    help="Number of metering points (one meter each).",
)
@click.option(
    "--area",
    type=click.Choice(sorted(AREAS)),
    default="NO1",
    show_default=True,
    help="Price area (bidding zone) of the estate.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed: same seed, same estate."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory for topology.csv, metering_points.csv, customers.csv, meters.csv.",
)
def grid_command(meters: int, area: str, seed: int, out: str) -> None:
    """Build an estate: substations, feeders, secondary substations, metering points, meters."""
    grid = build_grid(meters=meters, area=area, seed=seed)
    counts = write_grid(grid, Path(out))
    substations = len({t.substation_id for t in grid.transformers})
    feeders = len({t.feeder_id for t in grid.transformers})
    click.echo(
        f"{counts['meters.csv']} meters at {counts['metering_points.csv']} metering points under "
        f"{counts['topology.csv']} secondary substations, {feeders} feeders and {substations} "
        f"primary substations in {area}; files in {out}"
    )

"""``ams sim``: the grid and meter-fleet simulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.places import AREAS
from openams.sim.run import RunSettings, read_load_profile, run_fleet
from openams.sim.sinks import MqttSink, Pacer, PushSink, TcpSink, parse_endpoint, parse_speed

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


@sim_group.command("run")
@click.option(
    "--grid",
    "grid_dir",
    type=click.Path(file_okay=False, exists=True),
    required=True,
    help="The estate written by ams sim grid.",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day (midnight, Norwegian time).",
)
@click.option("--days", type=click.IntRange(1, 3660), required=True, help="Number of days.")
@click.option(
    "--interval",
    type=click.Choice(["60", "15"]),
    default=None,
    help="Push interval in minutes for every meter (default: each meter's own).",
)
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    default=None,
    help="Scenario file (TOML) with faults; default: docs/sim-scenario.md's defaults.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same pushes.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the pushes as JSON Lines.")
@click.option("--tcp", metavar="HOST:PORT", help="Push over IEC 62056-47 wrapper connections.")
@click.option("--mqtt", metavar="URL", help="Publish to an MQTT broker (mqtt://host:port/prefix).")
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="realtime, xN (N times real time) or max (file output is always max).",
)
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for the ground truth (default: truth/ beside --out, else none).",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Worker processes (0: one per core).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run_command(
    grid_dir: str,
    start: datetime,
    days: int,
    interval: str | None,
    scenario: str | None,
    seed: int,
    out: str | None,
    tcp: str | None,
    mqtt: str | None,
    speed: str,
    truth_dir: str | None,
    workers: int,
    quiet: bool,
) -> None:
    """Let the fleet push for DAYS days: to a file, a TCP head-end or an MQTT broker."""
    targets = [t for t in (out, tcp, mqtt) if t]
    if len(targets) != 1:
        raise click.UsageError("give exactly one of --out, --tcp and --mqtt")
    try:
        pace = parse_speed(speed)
        sink: PushSink | None = None
        if tcp:
            host, port = parse_endpoint(tcp)
            sink = TcpSink(host, port)
        elif mqtt:
            sink = MqttSink(mqtt)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = RunSettings(
        grid_dir=Path(grid_dir),
        start=start.date(),
        days=days,
        interval_min=int(interval) if interval else None,
        scenario_path=Path(scenario) if scenario else None,
        seed=seed,
        framing="wrapper" if tcp else "hdlc",
        workers=workers,
    )
    if truth_dir is None and out:
        truth_dir = str(Path(out).parent / "truth")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[pushes]:,} pushes"),
        disable=quiet,
        transient=False,
    ) as bar:
        task = bar.add_task("simulating", total=None, pushes=0)

        def progress(done: int, total: int, pushes: int) -> None:
            bar.update(task, completed=done, total=total, pushes=pushes)

        summary = run_fleet(
            settings,
            out=Path(out) if out else None,
            sink=sink,
            pacer=Pacer(pace, _start_of(settings)) if sink is not None else None,
            truth_dir=Path(truth_dir) if truth_dir else None,
            progress=progress,
        )
    for line in summary.lines():
        click.echo(line)
    if truth_dir:
        click.echo(f"ground truth in {truth_dir}")


def _start_of(settings: RunSettings) -> datetime:
    day = settings.start
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Oslo"))


@sim_group.command("profile")
@click.option(
    "--grid",
    "grid_dir",
    type=click.Path(file_okay=False, exists=True),
    required=True,
    help="The estate written by ams sim grid.",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day of the run (as given to ams sim run).",
)
@click.option("--days", type=click.IntRange(1, 3660), required=True, help="Days of the run.")
@click.option("--meter", "meter_id", required=True, help="The meter whose profile to read.")
@click.option(
    "--interval",
    type=click.Choice(["60", "15"]),
    default=None,
    help="As given to ams sim run.",
)
@click.option(
    "--scenario", type=click.Path(dir_okay=False), default=None, help="As given to ams sim run."
)
@click.option("--seed", type=int, default=1, show_default=True, help="As given to ams sim run.")
def profile_command(
    grid_dir: str,
    start: datetime,
    days: int,
    meter_id: str,
    interval: str | None,
    scenario: str | None,
    seed: int,
) -> None:
    """Print the load profile a meter holds at the end of a run (its last 40 days) as CSV."""
    settings = RunSettings(
        grid_dir=Path(grid_dir),
        start=start.date(),
        days=days,
        interval_min=int(interval) if interval else None,
        scenario_path=Path(scenario) if scenario else None,
        seed=seed,
    )
    click.echo("clock,import_wh,export_wh,reactive_import_varh,reactive_export_varh")
    for entry in read_load_profile(settings, meter_id):
        click.echo(
            f"{entry.clock:%Y-%m-%dT%H:%M:%SZ},{entry.import_wh},{entry.export_wh},"
            f"{entry.reactive_import_varh},{entry.reactive_export_varh}"
        )

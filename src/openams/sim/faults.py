"""The faults of a run: the scenario's own, plus those drawn at random, placed on meters.

A :class:`FaultPlan` is built once per run, before any push is made, so that every worker
sees the same faults: which meters they touch, when, and the events they raise. Times are
whole seconds since the Unix epoch (UTC) throughout the engine.

What each kind does to a meter (see docs/sim-scenario.md for the file format):

==================  ====================================================================
outage              no consumption, no pushes; last gasp at the start (some never arrive),
                    power restored 30-90 s after the end
silent              the meter sends nothing (events included); registers go on
stuck_register      the import register stops advancing; the true consumption goes on
jumping_register    the import register jumps by ``jump_wh`` and keeps the offset
clock_drift         the meter's clock runs ahead (or behind) by ``drift_s_per_day``; at the
                    end it is corrected: clock adjusted
replay              an attacker resends ``count`` earlier pushes at the start
corrupt             a share ``rate`` of its pushes arrive with damaged ciphertext
wrong_key           it ciphers with a key the head-end does not have
earth_fault         earth fault detected at the start, cleared at the end (IT grids)
tamper              cover opened or magnetic field detected; closed or gone at the end
voltage             the voltage is ``voltage_v``: under- or over-voltage events, pushes show it
==================  ====================================================================
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from .grid import Grid
from .scenario import Fault, FaultSpec, Scenario, resolve_faults

__all__ = ["FaultPlan", "MeterEventAt", "plan_faults"]

#: Event names raised by each tamper type: (at the start, at the end).
TAMPER_EVENTS = {
    "terminal_cover": ("terminal_cover_opened", "terminal_cover_closed"),
    "meter_cover": ("meter_cover_opened", "meter_cover_closed"),
    "magnetic_field": ("magnetic_field_detected", "magnetic_field_gone"),
}
VOLTAGE_LOW_V = 207.0
VOLTAGE_HIGH_V = 253.0


@dataclass(frozen=True, slots=True)
class MeterEventAt:
    """An event a meter raises: when (its true time), which, and the fault behind it."""

    at_s: int
    meter_id: str
    name: str
    fault_id: int
    lost: bool  # never arrives (a last gasp the radio did not carry)


@dataclass(slots=True)
class FaultPlan:
    """Every fault of a run and, per meter, the faults that touch it.

    Attributes:
        faults: The faults, scenario ones first; a fault's id is its index.
        origins: Per fault, ``scenario:LINE`` or ``random``.
        by_meter: Meter id -> ids of the faults that touch it.
        events: Meter id -> the events it raises, in time order.
    """

    faults: list[Fault] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    by_meter: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list[MeterEventAt]] = field(default_factory=lambda: defaultdict(list))

    def touching(self, meter_id: str, start_s: int, end_s: int) -> list[tuple[int, Fault]]:
        """The faults of ``meter_id`` active at some time in ``[start_s, end_s)``."""
        found = []
        for fault_id in self.by_meter.get(meter_id, ()):
            fault = self.faults[fault_id]
            begin, stop = window_s(fault)
            if begin < end_s and (stop is None or stop > start_s):
                found.append((fault_id, fault))
        return found


def epoch_s(moment: datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return math.floor(moment.timestamp())


def number(spec: FaultSpec, name: str) -> float:
    """A numeric parameter of a fault (the scenario parser checked its type)."""
    value = spec.param(name)
    if not isinstance(value, int | float):
        raise TypeError(f"fault parameter {name} is not a number: {value!r}")
    return float(value)


def window_s(fault: Fault) -> tuple[int, int | None]:
    """A fault's start and end (``None``: to the end of the run), epoch seconds."""
    spec = fault.spec
    return epoch_s(spec.start), epoch_s(spec.end) if spec.end is not None else None


_RANDOM_DURATIONS_H = {
    "installation_outages": ("outage", 0.25, 8.0),
    "transformer_outages": ("outage", 0.5, 4.0),
    "silent_meters": ("silent", 24.0, 240.0),
    "stuck_registers": ("stuck_register", 12.0, 120.0),
    "jumping_registers": ("jumping_register", 0.0, 0.0),
    "clock_drift": ("clock_drift", 0.0, 0.0),
    "tampering": ("tamper", 0.05, 2.0),
    "earth_faults": ("earth_fault", 1.0, 48.0),
    "voltage_excursions": ("voltage", 0.5, 6.0),
}


def _random_specs(
    scenario: Scenario, grid: Grid, start: datetime, end: datetime, seed: int
) -> list[FaultSpec]:
    """Faults drawn at the scenario's ``[random]`` rates (per 1000 points per 30 days)."""
    rng = random.Random(f"openams-faults-{seed}")  # noqa: S311 - reproducible simulation
    span_s = (end - start).total_seconds()
    scale = len(grid.metering_points) / 1000 * span_s / (30 * 86400)
    points = [p.metering_point_id for p in grid.metering_points]
    it_transformers = [t.transformer_id for t in grid.transformers if t.grid_type == "IT"]
    specs = []
    for key, (kind, low_h, high_h) in _RANDOM_DURATIONS_H.items():
        expected = getattr(scenario.random, key) * scale
        count = _poisson(rng, expected)
        for _ in range(count):
            begin = start.timestamp() + rng.random() * span_s
            params: dict[str, object] = {}
            stop: float | None = begin + rng.uniform(low_h, high_h) * 3600
            if key == "transformer_outages":
                target = rng.choice([t.transformer_id for t in grid.transformers])
            elif key == "earth_faults":
                if not it_transformers:
                    continue
                target = rng.choice(it_transformers)
            else:
                target = rng.choice(points)
            if kind == "jumping_register":
                stop = None
                params["jump_wh"] = rng.choice((1_000_000, 10_000_000, 99_999_000))
            elif kind == "clock_drift":
                stop = None
                params["drift_s_per_day"] = rng.choice((-1, 1)) * rng.uniform(2.0, 60.0)
            elif kind == "tamper":
                params["type"] = rng.choice(sorted(TAMPER_EVENTS))
            elif kind == "voltage":
                params["voltage_v"] = round(
                    rng.choice((rng.uniform(190.0, 205.0), rng.uniform(255.0, 262.0))), 1
                )
            specs.append(
                FaultSpec(
                    kind=kind,
                    target=target,
                    start=datetime.fromtimestamp(round(begin), UTC),
                    end=datetime.fromtimestamp(round(stop), UTC) if stop is not None else None,
                    params=tuple(sorted(params.items())),
                    line=0,
                )
            )
    return specs


def _poisson(rng: random.Random, expected: float) -> int:
    """A Poisson draw (Knuth's method; the rates here are small)."""
    if expected <= 0:
        return 0
    if expected > 50:
        return max(0, round(rng.gauss(expected, math.sqrt(expected))))
    limit, count, product = math.exp(-expected), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def plan_faults(
    scenario: Scenario, grid: Grid, start: datetime, end: datetime, seed: int
) -> FaultPlan:
    """Resolve the scenario's faults, draw the random ones, and list every meter event.

    Raises:
        ScenarioError: a scenario fault names a target the grid does not have (with its line).
    """
    plan = FaultPlan()
    own = resolve_faults(scenario, grid)
    drawn = resolve_faults(
        replace(scenario, faults=tuple(_random_specs(scenario, grid, start, end, seed))), grid
    )
    rng = random.Random(f"openams-events-{seed}")  # noqa: S311 - reproducible simulation
    phases = {m.meter_id: m.phases for m in grid.meters}
    for fault in (*own, *drawn):
        fault_id = len(plan.faults)
        plan.faults.append(fault)
        plan.origins.append(f"scenario:{fault.spec.line}" if fault.spec.line else "random")
        for meter_id in fault.meter_ids:
            plan.by_meter[meter_id].append(fault_id)
            for at_s, name, lost in _events_of(fault, scenario, rng, phases[meter_id]):
                plan.events[meter_id].append(MeterEventAt(at_s, meter_id, name, fault_id, lost))
    for events in plan.events.values():
        events.sort(key=lambda e: (e.at_s, e.name))
    return plan


def _events_of(
    fault: Fault, scenario: Scenario, rng: random.Random, phases: int
) -> list[tuple[int, str, bool]]:
    """The events one meter raises for ``fault``: (true time, name, lost on the way)."""
    spec = fault.spec
    begin, stop = window_s(fault)
    kind = spec.kind
    out: list[tuple[int, str, bool]] = []
    if kind == "outage":
        loss = spec.param("last_gasp_loss_rate")
        if loss is None:
            loss = scenario.last_gasp_loss_rate
        out.append((begin, "power_down", rng.random() < float(loss)))  # type: ignore[arg-type]
        if stop is not None:
            out.append((stop + rng.randint(30, 90), "power_up", False))
    elif kind == "earth_fault":
        out.append((begin + rng.randint(0, 5), "earth_fault_detected", False))
        if stop is not None:
            out.append((stop + rng.randint(0, 5), "earth_fault_cleared", False))
    elif kind == "tamper":
        opened, closed = TAMPER_EVENTS[str(spec.param("type"))]
        out.append((begin, opened, False))
        if stop is not None:
            out.append((stop, closed, False))
    elif kind == "voltage":
        voltage_v = number(spec, "voltage_v")
        if voltage_v < VOLTAGE_LOW_V or voltage_v > VOLTAGE_HIGH_V:
            word = "undervoltage" if voltage_v < VOLTAGE_LOW_V else "overvoltage"
            for phase in range(1, phases + 1):
                out.append((begin + rng.randint(1, 60), f"{word}_l{phase}", False))
            if stop is not None:
                for phase in range(1, phases + 1):
                    name = "voltage_normal" if phase == 1 else f"voltage_normal_l{phase}"
                    out.append((stop + rng.randint(1, 60), name, False))
    elif kind == "clock_drift" and stop is not None:
        out.append((stop, "clock_adjusted", False))
    return out

"""Scenario files: the radio, the random fault rates and the faults a simulation run carries.

A scenario is a TOML file (see docs/sim-scenario.md). Every section is optional; a run without
a file uses :data:`DEFAULT_SCENARIO`. :func:`parse_scenario` checks the whole file and
:func:`resolve_faults` places its faults on the meters of a :class:`~openams.sim.grid.Grid`.

Invariants:
    * Every problem with a file is a :class:`ScenarioError` naming the file and, whenever the
      problem sits on one line, that line: the line of the key for a bad key or value, the
      line of the ``[[fault]]`` header for a key a fault lacks.
    * No key is ignored: a misspelt key is an error that lists the allowed ones.
    * Times are aware UTC datetimes. A local date-time in the file is Europe/Oslo wall clock;
      one that does not exist or is ambiguous at a daylight-saving change is an error.
    * ``FaultSpec.params`` holds the kind's extra keys, sorted by name, defaults filled in.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from openams.errors import InputError
from openams.services.toml_lines import key_lines, syntax_error

from .grid import Grid

__all__ = [
    "DEFAULT_SCENARIO",
    "FAULT_KINDS",
    "MAX_RANDOM_RATE",
    "TAMPER_TYPES",
    "Fault",
    "FaultSpec",
    "Radio",
    "RandomFaults",
    "Scenario",
    "ScenarioError",
    "parse_scenario",
    "read_scenario",
    "resolve_faults",
]

_OSLO = ZoneInfo("Europe/Oslo")
#: Upper bound of a ``[random]`` rate: one fault per metering point per 30 days.
MAX_RANDOM_RATE = 1000.0

_Path = tuple[str | int, ...]


class ScenarioError(InputError):
    """A scenario file is wrong: its syntax, a key, a value or a fault's target.

    Attributes:
        source: The file.
        line: The 1-based line of the problem, when it is on one line.
    """


@dataclass(frozen=True, slots=True)
class Radio:
    """How the pushes travel from the meters to the head-end.

    Attributes:
        loss_rate: Share of pushes lost on the way. [0..1]
        duplicate_rate: Share of pushes that arrive twice. [0..1]
        late_rate: Share of pushes that arrive hours late. [0..1]
        late_delay_h: Range of that delay. [h]
        jitter_s: Meters send at xx:00:10 plus 0 to this many seconds. [s]
    """

    loss_rate: float = 0.003
    duplicate_rate: float = 0.001
    late_rate: float = 0.0005
    late_delay_h: tuple[float, float] = (1.0, 12.0)
    jitter_s: int = 50


@dataclass(frozen=True, slots=True)
class RandomFaults:
    """Faults drawn at random: expected number per 1000 metering points per 30 days."""

    installation_outages: float = 2.0
    transformer_outages: float = 0.5
    silent_meters: float = 0.5
    stuck_registers: float = 0.2
    jumping_registers: float = 0.1
    clock_drift: float = 1.0
    tampering: float = 0.3
    earth_faults: float = 0.5
    voltage_excursions: float = 0.5


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault as the scenario gives it, before it is placed on the grid.

    Attributes:
        kind: One of :data:`FAULT_KINDS`.
        target: A primary substation, feeder, secondary substation, metering point or meter.
        start: When it begins (aware, UTC).
        end: When it ends (aware, UTC), or ``None``: to the end of the run.
        params: The kind's extra keys as sorted ``(name, value)`` pairs.
        line: Line of its ``[[fault]]`` header; 0 for a fault drawn at random.
    """

    kind: str
    target: str
    start: datetime
    end: datetime | None
    params: tuple[tuple[str, object], ...] = ()
    line: int = 0

    def param(self, name: str, default: object = None) -> object:
        """The value of the extra key ``name``, or ``default`` when it has none."""
        for key, value in self.params:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario.

    Attributes:
        radio: The ``[radio]`` section.
        last_gasp_loss_rate: Share of last-gasp pushes that never arrive. [0..1]
        random: The ``[random]`` section.
        faults: The ``[[fault]]`` entries, in file order.
        source: The file it came from.
    """

    radio: Radio = field(default_factory=Radio)
    last_gasp_loss_rate: float = 0.1
    random: RandomFaults = field(default_factory=RandomFaults)
    faults: tuple[FaultSpec, ...] = ()
    source: str = "<default>"


DEFAULT_SCENARIO = Scenario()


@dataclass(frozen=True, slots=True)
class Fault:
    """A :class:`FaultSpec` placed on the grid.

    Attributes:
        spec: The fault as written.
        level: What its target is: ``substation`` (primary), ``feeder``, ``transformer``
            (secondary substation), ``metering_point`` or ``meter``.
        meter_ids: The meters it touches, in grid order.
        transformer_ids: Their secondary substations, sorted, each once.
    """

    spec: FaultSpec
    level: str
    meter_ids: tuple[str, ...]
    transformer_ids: tuple[str, ...]


# --- what each fault kind takes ------------------------------------------------------------

_METER = frozenset({"meter", "metering_point"})
_LOCAL = frozenset({"transformer", "metering_point"})
_ANY = frozenset({"substation", "feeder", "transformer", "metering_point", "meter"})
_LEVEL_NAMES = {
    "substation": "primary substation",
    "feeder": "feeder",
    "transformer": "secondary substation",
    "metering_point": "metering point",
    "meter": "meter",
}
#: The ``type`` values of a tamper fault.
TAMPER_TYPES = ("magnetic_field", "meter_cover", "terminal_cover")


@dataclass(frozen=True, slots=True)
class _Kind:
    levels: frozenset[str]
    end: str  # "required", "optional" or "none"
    required: tuple[str, ...] = ()
    optional: Mapping[str, object] = field(default_factory=dict)  # name -> default (None: none)


_KINDS: dict[str, _Kind] = {
    "outage": _Kind(_ANY, "required", optional={"last_gasp_loss_rate": None}),
    "silent": _Kind(_METER, "optional"),
    "stuck_register": _Kind(_METER, "required"),
    "jumping_register": _Kind(_METER, "none", optional={"jump_wh": 1_000_000}),
    "clock_drift": _Kind(_METER, "optional", required=("drift_s_per_day",)),
    "replay": _Kind(_METER, "none", optional={"count": 3}),
    "corrupt": _Kind(_METER, "optional", optional={"rate": 1.0}),
    "wrong_key": _Kind(_METER, "optional"),
    "earth_fault": _Kind(_LOCAL, "optional"),
    "tamper": _Kind(_METER, "optional", required=("type",)),
    "voltage": _Kind(_LOCAL, "required", required=("voltage_v",)),
}
#: The fault kinds a scenario may name, sorted.
FAULT_KINDS: tuple[str, ...] = tuple(sorted(_KINDS))

_SECTIONS = ("fault", "outages", "radio", "random")
_RADIO_KEYS = ("duplicate_rate", "jitter_s", "late_delay_h", "late_rate", "loss_rate")
_RANDOM_KEYS = (
    "clock_drift",
    "earth_faults",
    "installation_outages",
    "jumping_registers",
    "silent_meters",
    "stuck_registers",
    "tampering",
    "transformer_outages",
    "voltage_excursions",
)


# --- parsing -------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A value as it would be written in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _fmt(number: float) -> str:
    """A bound for a message: 1.0 as 1, 0.5 as 0.5."""
    return str(int(number)) if float(number).is_integer() else repr(number)


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.lines = key_lines(text)

    def line(self, path: _Path) -> int | None:
        """The line of ``path``, else of its nearest enclosing key or header."""
        for size in range(len(path), 0, -1):
            found = self.lines.get(path[:size])
            if found is not None:
                return found
        return None

    def error(self, message: str, path: _Path) -> ScenarioError:
        return ScenarioError(message, source=self.source, line=self.line(path))

    # --- typed values ---

    def number(self, value: object, name: str, path: _Path) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{name} must be a number, got {_show(value)}", path)
        return float(value)

    def integer(self, value: object, name: str, path: _Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"{name} must be a whole number, got {_show(value)}", path)
        return value

    def between(self, value: object, low: float, high: float, name: str, path: _Path) -> float:
        number = self.number(value, name, path)
        if not low <= number <= high:  # also false for nan
            raise self.error(
                f"{name} must be between {_fmt(low)} and {_fmt(high)}, got {_show(value)}", path
            )
        return number

    def share(self, value: object, name: str, path: _Path) -> float:
        return self.between(value, 0.0, 1.0, name, path)

    def table(self, value: object, name: str, path: _Path) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.error(f"{name} must be a table [{name}], got {_show(value)}", path)
        return value

    def unknown(self, key: str, allowed: tuple[str, ...], where: str, path: _Path) -> NoReturn:
        message = f"{where}unknown key {key!r}; allowed: {', '.join(allowed)}"
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        raise self.error(message, path)

    def moment(self, value: object, name: str, path: _Path) -> datetime:
        """An offset date-time, or a local one taken as Europe/Oslo wall clock, in UTC."""
        if not isinstance(value, datetime):
            raise self.error(
                f"{name} must be a date and time such as 2026-01-05T14:00:00+01:00, "
                f"got {_show(value)}",
                path,
            )
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        wall = value.replace(tzinfo=_OSLO)
        if wall.astimezone(UTC).astimezone(_OSLO).replace(tzinfo=None) != value:
            raise self.error(
                f"{name} {_show(value)} does not exist in Europe/Oslo (the clocks skip it); "
                "give the UTC offset",
                path,
            )
        if wall.utcoffset() != value.replace(tzinfo=_OSLO, fold=1).utcoffset():
            raise self.error(
                f"{name} {_show(value)} happens twice in Europe/Oslo (the clocks go back); "
                "give the UTC offset",
                path,
            )
        return wall.astimezone(UTC)

    # --- sections ---

    def scenario(self) -> Scenario:
        try:
            document = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise self._syntax(exc) from exc
        radio = Radio()
        random = RandomFaults()
        last_gasp = DEFAULT_SCENARIO.last_gasp_loss_rate
        raw_faults: list[object] = []
        for key, value in document.items():
            if key == "radio":
                radio = self.radio(self.table(value, key, (key,)))
            elif key == "outages":
                last_gasp = self.outages(self.table(value, key, (key,)))
            elif key == "random":
                random = self.random(self.table(value, key, (key,)))
            elif key == "fault":
                if not isinstance(value, list):
                    raise self.error(
                        "fault must be an array of tables: write each fault under [[fault]]",
                        (key,),
                    )
                raw_faults = value
            else:
                self.unknown(key, _SECTIONS, "", (key,))
        faults = tuple(self.fault(raw, index, last_gasp) for index, raw in enumerate(raw_faults))
        return Scenario(radio, last_gasp, random, faults, self.source)

    def _syntax(self, exc: tomllib.TOMLDecodeError) -> ScenarioError:
        message, line = syntax_error(exc, self.text)
        return ScenarioError(message, source=self.source, line=line)

    def radio(self, section: dict[str, object]) -> Radio:
        values: dict[str, object] = {}
        for key, value in section.items():
            path: _Path = ("radio", key)
            name = f"radio.{key}"
            if key in ("loss_rate", "duplicate_rate", "late_rate"):
                values[key] = self.share(value, name, path)
            elif key == "jitter_s":
                jitter = self.integer(value, name, path)
                if not 0 <= jitter <= 600:
                    raise self.error(f"{name} must be between 0 and 600, got {jitter}", path)
                values[key] = jitter
            elif key == "late_delay_h":
                values[key] = self.delay(value, name, path)
            else:
                self.unknown(key, _RADIO_KEYS, "radio: ", path)
        return Radio(**values)  # type: ignore[arg-type]

    def delay(self, value: object, name: str, path: _Path) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(
                f"{name} must be an array of two numbers [min, max], got {_show(value)}", path
            )
        low, high = (self.number(item, name, path) for item in value)
        if not (0 < low < math.inf and 0 < high < math.inf):
            raise self.error(f"{name} must be greater than 0, got [{low!r}, {high!r}]", path)
        if low > high:
            raise self.error(f"{name} must be [min, max] with min <= max, got {value!r}", path)
        return (low, high)

    def outages(self, section: dict[str, object]) -> float:
        last_gasp = DEFAULT_SCENARIO.last_gasp_loss_rate
        for key, value in section.items():
            path: _Path = ("outages", key)
            if key == "last_gasp_loss_rate":
                last_gasp = self.share(value, f"outages.{key}", path)
            else:
                self.unknown(key, ("last_gasp_loss_rate",), "outages: ", path)
        return last_gasp

    def random(self, section: dict[str, object]) -> RandomFaults:
        values: dict[str, float] = {}
        for key, value in section.items():
            path: _Path = ("random", key)
            if key not in _RANDOM_KEYS:
                self.unknown(key, _RANDOM_KEYS, "random: ", path)
            values[key] = self.between(value, 0.0, MAX_RANDOM_RATE, f"random.{key}", path)
        return RandomFaults(**values)

    def fault(self, raw: object, index: int, last_gasp: float) -> FaultSpec:
        header: _Path = ("fault", index)
        number = index + 1
        if not isinstance(raw, dict):
            raise self.error(f"fault {number} must be a table, got {_show(raw)}", header)
        if "kind" not in raw:
            raise self.error(
                f"fault {number} needs 'kind', one of {', '.join(FAULT_KINDS)}", header
            )
        kind = raw["kind"]
        if not isinstance(kind, str) or kind not in _KINDS:
            message = f"fault {number}: unknown kind {_show(kind)}; one of {', '.join(FAULT_KINDS)}"
            close = (
                difflib.get_close_matches(kind, FAULT_KINDS, n=1) if isinstance(kind, str) else []
            )
            if close:
                message += f" (did you mean {close[0]!r}?)"
            raise self.error(message, (*header, "kind"))
        spec = _KINDS[kind]
        where = f"fault {number} ({kind})"
        allowed = ["kind", "target", "start", *spec.required, *spec.optional]
        if spec.end != "none":
            allowed.append("end")
        for key in raw:
            if key not in allowed:
                self.unknown(key, tuple(sorted(allowed)), f"{where}: ", (*header, key))
        needed = ["target", "start", *spec.required]
        if spec.end == "required":
            needed.append("end")
        for key in needed:
            if key not in raw:
                raise self.error(f"{where} needs {key!r}", header)
        target = raw["target"]
        if not isinstance(target, str) or not target.strip():
            raise self.error(
                f'{where}: target must be an id such as "NS-NO1-00004", got {_show(target)}',
                (*header, "target"),
            )
        start = self.moment(raw["start"], f"{where}: start", (*header, "start"))
        end = None
        if "end" in raw:
            end = self.moment(raw["end"], f"{where}: end", (*header, "end"))
            if end <= start:
                raise self.error(
                    f"{where}: end {_show(raw['end'])} must be after start {_show(raw['start'])}",
                    (*header, "end"),
                )
        params: dict[str, object] = {}
        for key, default in spec.optional.items():
            if default is not None:
                params[key] = default
        if kind == "outage":
            params["last_gasp_loss_rate"] = last_gasp
        for key in (*spec.required, *spec.optional):
            if key in raw:
                params[key] = self.param(key, raw[key], f"{where}: {key}", (*header, key))
        return FaultSpec(
            kind=kind,
            target=target,
            start=start,
            end=end,
            params=tuple(sorted(params.items())),
            line=self.line(header) or 0,
        )

    def param(self, key: str, value: object, name: str, path: _Path) -> object:
        if key in ("last_gasp_loss_rate", "rate"):
            return self.share(value, name, path)
        if key == "jump_wh":
            jump = self.integer(value, name, path)
            if jump <= 0:
                raise self.error(f"{name} must be greater than 0, got {jump}", path)
            return jump
        if key == "count":
            count = self.integer(value, name, path)
            if not 1 <= count <= 1000:
                raise self.error(f"{name} must be between 1 and 1000, got {count}", path)
            return count
        if key == "drift_s_per_day":
            drift = self.between(value, -3600.0, 3600.0, name, path)
            if drift == 0:
                raise self.error(f"{name} must not be 0", path)
            return drift
        if key == "voltage_v":
            return self.between(value, 150.0, 300.0, name, path)
        # the one string parameter: tamper's type
        if value not in TAMPER_TYPES:
            raise self.error(
                f"{name} must be one of {', '.join(TAMPER_TYPES)}, got {_show(value)}", path
            )
        return value


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and check the text of a scenario file.

    Args:
        text: The TOML text.
        source: The file name used in error messages.

    Raises:
        ScenarioError: the text is not valid TOML or breaks a rule of the format; the error
            names ``source`` and the line.
    """
    return _Parser(text, source).scenario()


def read_scenario(path: Path) -> Scenario:
    """Read and check a scenario file (UTF-8).

    Raises:
        ScenarioError: the file cannot be read, is not UTF-8, or :func:`parse_scenario` rejects
            it.
    """
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the scenario: {exc.strerror or exc}", source=source
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError("the scenario is not UTF-8 text", source=source, line=line) from exc
    return parse_scenario(text, source)


# --- placing faults on the grid --------------------------------------------------------------


class _GridIndex:
    """Every id of a grid, looked up in constant time."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.transformers = {t.transformer_id: t for t in grid.transformers}
        self.feeders: dict[str, list[str]] = defaultdict(list)
        self.substations: dict[str, list[str]] = defaultdict(list)
        for t in grid.transformers:
            self.feeders[t.feeder_id].append(t.transformer_id)
            self.substations[t.substation_id].append(t.transformer_id)
        self.points = {p.metering_point_id: p for p in grid.metering_points}
        self.meters: dict[str, int] = {}
        self.by_point: dict[str, list[int]] = defaultdict(list)
        self.by_transformer: dict[str, list[int]] = defaultdict(list)
        for position, meter in enumerate(grid.meters):
            self.meters[meter.meter_id] = position
            self.by_point[meter.metering_point_id].append(position)
            point = self.points.get(meter.metering_point_id)
            if point is not None:
                self.by_transformer[point.transformer_id].append(position)

    def find(self, target: str) -> tuple[str, list[int], list[str]] | None:
        """The level of ``target``, its meters (grid positions) and secondary substations."""
        if target in self.substations or target in self.feeders:
            level = "substation" if target in self.substations else "feeder"
            transformers = (self.substations if level == "substation" else self.feeders)[target]
            return level, self._under(transformers), transformers
        if target in self.transformers:
            return "transformer", list(self.by_transformer.get(target, ())), [target]
        if target in self.points:
            transformer = self.points[target].transformer_id
            return "metering_point", list(self.by_point.get(target, ())), [transformer]
        if target in self.meters:
            position = self.meters[target]
            point = self.points.get(self.grid.meters[position].metering_point_id)
            return "meter", [position], [point.transformer_id] if point is not None else []
        return None

    def _under(self, transformers: list[str]) -> list[int]:
        positions: list[int] = []
        for transformer in transformers:
            positions.extend(self.by_transformer.get(transformer, ()))
        return sorted(positions)

    def grid_type(self, level: str, target: str) -> str:
        if level == "transformer":
            return self.transformers[target].grid_type
        return self.points[target].grid_type


def _levels(levels: frozenset[str]) -> str:
    names = [_LEVEL_NAMES[level] for level in _LEVEL_NAMES if level in levels]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _placed(index: _GridIndex, spec: FaultSpec, number: int, source: str) -> Fault:
    where = f"fault {number} ({spec.kind})"
    kind = _KINDS.get(spec.kind)
    if kind is None:
        raise ScenarioError(f"{where}: unknown kind", source=source, line=spec.line or None)
    found = index.find(spec.target)
    if found is None:
        raise ScenarioError(
            f"{where}: {spec.target} is not in the grid (no {_levels(_ANY)} has that id)",
            source=source,
            line=spec.line or None,
        )
    level, positions, transformers = found
    if level not in kind.levels:
        raise ScenarioError(
            f"{where}: {spec.target} is a {_LEVEL_NAMES[level]}; "
            f"{spec.kind} faults target a {_levels(kind.levels)}",
            source=source,
            line=spec.line or None,
        )
    if spec.kind == "earth_fault" and index.grid_type(level, spec.target) != "IT":
        grid_type = index.grid_type(level, spec.target)
        on = "is a" if level == "transformer" else "is on a"
        raise ScenarioError(
            f"{where}: {spec.target} {on} {grid_type} grid; "
            "earth faults are registered in IT grids",
            source=source,
            line=spec.line or None,
        )
    meters = index.grid.meters
    return Fault(
        spec=spec,
        level=level,
        meter_ids=tuple(meters[position].meter_id for position in positions),
        transformer_ids=tuple(sorted(set(transformers))),
    )


def resolve_faults(scenario: Scenario, grid: Grid) -> tuple[Fault, ...]:
    """Place every fault of ``scenario`` on the meters of ``grid``.

    Raises:
        ScenarioError: a target is not in the grid, is of a level the fault's kind does not
            take, or is an earth fault outside an IT grid; the error has the fault's line.
    """
    index = _GridIndex(grid)
    return tuple(
        _placed(index, spec, number, scenario.source)
        for number, spec in enumerate(scenario.faults, 1)
    )

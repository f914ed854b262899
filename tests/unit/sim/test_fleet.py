"""The meter fleet as a head-end sees it: a block of meters advanced day by day, with faults.

One small estate (160 metering points, two secondary substations) runs for three days with
one fault of every kind that changes pushes or registers. The pushes are decoded with the
meters' real keys, the way a head-end decodes them, and checked against the block's own
truth (``DayFrame``) and against the fault plan.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from openams.dlms import (
    DecryptionError,
    KeyPair,
    Push,
    PushDecoder,
    ReplayError,
    ReplayGuard,
    decode_event,
)
from openams.sim import Grid, Meter, build_grid
from openams.sim.faults import FaultPlan, plan_faults
from openams.sim.fleet import DAY_S, LOST, QUARTER_S, Block, DayFrame, iso_z
from openams.sim.load import LoadModel, fuse_limit_w
from openams.sim.scenario import Scenario, parse_scenario
from openams.sim.weather import day_weather

AREA = "NO1"
GRID_SEED = 2  # build_grid(160, NO1, 2): NS-NO1-00001 IT (34 points), NS-NO1-00002 TN (126)
SEED = 7
IT_TRANSFORMER = "NS-NO1-00001"
TN_TRANSFORMER = "NS-NO1-00002"
# The run: 5 to 8 January 2026, Oslo midnight to Oslo midnight (23:00 UTC).
START = datetime(2026, 1, 4, 23, tzinfo=UTC)
END = START + timedelta(days=3)
START_S = int(START.timestamp())
END_S = int(END.timestamp())
DAYS = [date(2026, 1, 4) + timedelta(days=i) for i in range(4)]  # the UTC days it touches
CARRIED = ("state_wh", "tail_wh", "recorded_delta_wh", "last_energy_wh", "counter", "sent")
SEND_DELAY_S = 10
JITTER_S = 50
RANDOM_OFF = "[random]\n" + "".join(
    f"{key} = 0\n"
    for key in (
        "installation_outages",
        "transformer_outages",
        "silent_meters",
        "stuck_registers",
        "jumping_registers",
        "clock_drift",
        "tampering",
        "earth_faults",
        "voltage_excursions",
    )
)
CLEAN_RADIO = (
    "[radio]\nloss_rate = 0.0\nduplicate_rate = 0.0\nlate_rate = 0.0\n"
    f"late_delay_h = [1, 2]\njitter_s = {JITTER_S}\n"
)
ROLES = (
    "outage",
    "silent",
    "stuck",
    "jump",
    "drift",
    "replay",
    "corrupt",
    "wrong_key",
    "undervoltage",
    "overvoltage",
)
# The faults of the fixture, each on its role's meter (see scenario_text). Times are UTC.
OUTAGE = ("2026-01-05T22:40:00Z", "2026-01-06T01:00:00Z")  # across UTC midnight
IT_OUTAGE = ("2026-01-07T02:00:00Z", "2026-01-07T03:30:00Z")
SILENT = ("2026-01-05T06:00:00Z", "2026-01-06T06:00:00Z")
SILENT_TAMPER = ("2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z")  # opened while silent
STUCK = ("2026-01-05T08:00:00Z", "2026-01-06T20:00:00Z")
JUMP_AT, JUMP_WH = "2026-01-06T11:20:00Z", 10_000_000
DRIFT = ("2026-01-05T00:00:00Z", "2026-01-07T12:00:00Z")
DRIFT_S_PER_DAY = 240.0  # at most 600 s ahead: less than a quarter-hour
REPLAY_AT, REPLAY_COUNT = "2026-01-06T09:15:00Z", 4
CORRUPT = ("2026-01-05T12:00:00Z", "2026-01-06T00:00:00Z")
WRONG_KEY_FROM = "2026-01-06T00:00:00Z"
WRONG_KEY_TAMPER = "2026-01-06T07:30:00Z"
UNDER = ("2026-01-05T15:00:00Z", "2026-01-05T18:00:00Z", 198.0)
OVER = ("2026-01-06T12:00:00Z", "2026-01-06T13:30:00Z", 258.5)
EARTH = ("2026-01-06T05:30:00Z", "2026-01-06T11:00:00Z")


def s(text: str) -> int:
    """Epoch seconds of an ISO time."""
    return int(datetime.fromisoformat(text).timestamp())


def fault(kind: str, target: str, start: str, end: str | None = None, **keys: object) -> str:
    lines = ["[[fault]]", f'kind = "{kind}"', f'target = "{target}"', f"start = {start}"]
    if end is not None:
        lines.append(f"end = {end}")
    for key, value in keys.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def roles_of(grid: Grid) -> dict[str, Meter]:
    """Ten hourly meters of the TN substation, one per fault role."""
    transformer = {p.metering_point_id: p.transformer_id for p in grid.metering_points}
    hourly = [
        m
        for m in grid.meters
        if transformer[m.metering_point_id] == TN_TRANSFORMER and m.push_interval_s == 3600
    ]
    return dict(zip(ROLES, hourly, strict=False))


def scenario_text(roles: dict[str, Meter]) -> str:
    r = {role: meter.meter_id for role, meter in roles.items()}
    point = {role: meter.metering_point_id for role, meter in roles.items()}
    return (
        CLEAN_RADIO
        + "[outages]\nlast_gasp_loss_rate = 0.5\n"
        + RANDOM_OFF
        + fault("outage", point["outage"], *OUTAGE, last_gasp_loss_rate=0.0)
        + fault("outage", IT_TRANSFORMER, *IT_OUTAGE, last_gasp_loss_rate=1.0)
        + fault("silent", r["silent"], *SILENT)
        + fault("tamper", r["silent"], *SILENT_TAMPER, type="terminal_cover")
        + fault("stuck_register", point["stuck"], *STUCK)
        + fault("jumping_register", r["jump"], JUMP_AT, jump_wh=JUMP_WH)
        + fault("clock_drift", r["drift"], *DRIFT, drift_s_per_day=DRIFT_S_PER_DAY)
        + fault("replay", r["replay"], REPLAY_AT, count=REPLAY_COUNT)
        + fault("corrupt", r["corrupt"], *CORRUPT)
        + fault("wrong_key", point["wrong_key"], WRONG_KEY_FROM)
        + fault("tamper", r["wrong_key"], WRONG_KEY_TAMPER, type="meter_cover")
        + fault("voltage", point["undervoltage"], UNDER[0], UNDER[1], voltage_v=UNDER[2])
        + fault("voltage", point["overvoltage"], OVER[0], OVER[1], voltage_v=OVER[2])
        + fault("earth_fault", IT_TRANSFORMER, *EARTH)
    )


def radio_of(scenario: Scenario) -> tuple[float, float, float, tuple[float, float], float]:
    r = scenario.radio
    return r.loss_rate, r.duplicate_rate, r.late_rate, r.late_delay_h, r.jitter_s


def make_block(
    grid: Grid,
    plan: FaultPlan,
    radio: tuple[float, float, float, tuple[float, float], float],
    meters: list[Meter] | None = None,
) -> Block:
    """A block as run.py's worker makes one."""
    points = {p.metering_point_id: p for p in grid.metering_points}
    chosen = grid.meters if meters is None else meters
    return Block(
        0,
        chosen,
        [points[m.metering_point_id] for m in chosen],
        seed=SEED,
        start_s=START_S,
        end_s=END_S,
        interval_s=None,
        framing="hdlc",
        plan=plan,
        radio=radio,
    )


def carried(block: Block) -> dict[str, np.ndarray]:
    return {name: np.array(getattr(block, name), copy=True) for name in CARRIED}


@dataclass
class Line:
    """One pushed line, decoded as a head-end would."""

    arrival: int
    raw: bytes
    record: dict[str, str]
    data: bytes
    push: Push | None = None
    error: Exception | None = None

    @property
    def meter_id(self) -> str:
        return self.record["meter_id"]

    @property
    def event(self) -> str | None:
        if self.push is None:
            return None
        found = decode_event(self.push)
        return found[0].name if found else None


@dataclass
class Run:
    grid: Grid
    roles: dict[str, Meter]
    scenario: Scenario
    plan: FaultPlan
    block: Block
    frames: list[DayFrame]
    lines: list[Line]
    truth: bytes
    incidents: list[bytes]
    full_states: list[dict[str, np.ndarray]]
    light_states: list[dict[str, np.ndarray]]
    keys: dict[bytes, KeyPair]
    row: dict[str, int] = field(default_factory=dict)

    def meter_lines(self, meter_id: str) -> list[Line]:
        return [line for line in self.lines if line.meter_id == meter_id]

    def list_pushes(self, meter_id: str) -> list[Line]:
        return [
            line
            for line in self.meter_lines(meter_id)
            if line.push is not None and line.event is None
        ]

    def event_lines(self, meter_id: str) -> list[Line]:
        return [line for line in self.meter_lines(meter_id) if line.event is not None]

    def frame_at(self, at_s: int) -> tuple[DayFrame, int]:
        """The frame holding boundary ``at_s`` and its column."""
        for frame in self.frames:
            col = (at_s - frame.day_start_s) // QUARTER_S
            if 0 <= col < 96:
                return frame, col
        raise LookupError(at_s)


def register(push: Push, code: str = "1.8.0") -> float:
    """A value of a list push by its C.D.E (any A-B, as the makes differ)."""
    for key, (value, _unit) in push.values.items():
        if key.split(":")[1] == f"{code}.255":
            return float(value)
    raise KeyError(code)


def decode_lines(pairs: list[tuple[int, bytes]], keys: dict[bytes, KeyPair]) -> list[Line]:
    decoder = PushDecoder(keys=keys.get)
    out = []
    for arrival, raw in sorted(pairs, key=lambda pair: pair[0]):
        record = json.loads(raw)
        line = Line(arrival, raw, record, bytes.fromhex(record["hex"]))
        try:
            line.push = decoder.decode(line.data)
        except DecryptionError as exc:
            line.error = exc
        out.append(line)
    return out


def advance_all(block: Block) -> Iterator[DayFrame]:
    for day in DAYS:
        frame = block.advance(day, day_weather(AREA, day, SEED))
        assert frame is not None
        yield frame


@pytest.fixture(scope="module")
def run() -> Run:
    grid = build_grid(meters=160, area=AREA, seed=GRID_SEED)
    roles = roles_of(grid)
    scenario = parse_scenario(scenario_text(roles), "fleet.toml")
    plan = plan_faults(scenario, grid, START, END, SEED)
    block = make_block(grid, plan, radio_of(scenario))
    light = make_block(grid, plan, radio_of(scenario))
    frames, pairs, truth = [], [], []
    full_states, light_states = [], []
    for day in DAYS:
        weather = day_weather(AREA, day, SEED)
        frame = block.advance(day, weather)
        assert frame is not None
        assert light.advance(day, weather, full=False) is None
        frames.append(frame)
        full_states.append(carried(block))
        light_states.append(carried(light))
        pairs += block.pushes(frame, frame.day_start_s, frame.day_start_s + DAY_S)
        truth.append(block.truth_rows(frame, frame.day_start_s, frame.day_start_s + DAY_S))
    keys = {m.system_title: KeyPair(m.ek, m.ak) for m in grid.meters}
    return Run(
        grid=grid,
        roles=roles,
        scenario=scenario,
        plan=plan,
        block=block,
        frames=frames,
        lines=decode_lines(pairs, keys),
        truth=b"".join(truth),
        incidents=list(block.incidents),
        full_states=full_states,
        light_states=light_states,
        keys=keys,
        row={m.meter_id: i for i, m in enumerate(block.meters)},
    )


def test_the_estate_is_the_one_the_scenario_was_written_for(run: Run) -> None:
    types = {t.transformer_id: t.grid_type for t in run.grid.transformers}
    assert types == {IT_TRANSFORMER: "IT", TN_TRANSFORMER: "TN"}
    assert len(run.roles) == len(ROLES)
    assert sorted(run.plan.origins) == sorted(f"scenario:{f.spec.line}" for f in run.plan.faults)
    assert len(run.frames) == len(DAYS)


# --- carrying a day over ----------------------------------------------------------------


def test_a_light_advance_carries_exactly_what_a_full_one_does(run: Run) -> None:
    faulty = {run.plan.faults[i].spec.kind for ids in run.plan.by_meter.values() for i in ids}
    assert {"outage", "stuck_register", "jumping_register", "silent"} <= faulty
    for day, full, light in zip(DAYS, run.full_states, run.light_states, strict=True):
        for name in CARRIED:
            assert np.array_equal(full[name], light[name]), f"{name} differs after {day}"


def test_a_day_after_light_days_is_the_same_day(run: Run) -> None:
    """A worker that skipped days makes the same frame and bytes as one that made them."""
    block = make_block(run.grid, run.plan, radio_of(run.scenario))
    for day in DAYS[:2]:
        assert block.advance(day, day_weather(AREA, day, SEED), full=False) is None
    frame = block.advance(DAYS[2], day_weather(AREA, DAYS[2], SEED))
    assert frame is not None
    reference = run.frames[2]
    for name in ("true_wh", "history_wh", "recorded_import_wh", "counters", "sends", "fates"):
        assert np.array_equal(getattr(frame, name), getattr(reference, name)), name
    assert frame.events == reference.events
    d0 = frame.day_start_s
    assert block.pushes(frame, d0, d0 + DAY_S) == run.block.pushes(reference, d0, d0 + DAY_S)
    assert block.truth_rows(frame, d0, d0 + DAY_S) == run.block.truth_rows(
        reference, d0, d0 + DAY_S
    )


def test_advancing_out_of_order_is_refused(run: Run) -> None:
    block = make_block(run.grid, run.plan, radio_of(run.scenario), run.grid.meters[:5])
    block.advance(DAYS[0], day_weather(AREA, DAYS[0], SEED), full=False)
    with pytest.raises(ValueError, match="not 2026-01-06"):
        block.advance(DAYS[2], day_weather(AREA, DAYS[2], SEED))


# --- registers ----------------------------------------------------------------------------


def test_registers_never_go_back_within_or_across_days(run: Run) -> None:
    for frame in run.frames:
        assert np.all(np.diff(frame.true_wh, axis=2) >= 0.0)
        assert np.all(np.diff(frame.recorded_import_wh, axis=1) >= 0.0)
    for before, after in zip(run.frames, run.frames[1:], strict=False):
        assert np.array_equal(after.true_wh[:, :, 0], before.true_wh[:, :, 96])
        assert np.array_equal(after.history_wh, before.true_wh[:, :, 92:96])
        assert np.allclose(
            after.recorded_import_wh[:, 0], before.recorded_import_wh[:, 96], rtol=0, atol=1e-6
        )
        assert np.array_equal(after.last_energy_wh[:, :, 0], np.diff(before.true_wh)[:, :, -1])


def test_decoded_import_registers_never_go_back(run: Run) -> None:
    by_meter: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for line in run.lines:
        if line.push is not None and line.event is None:
            by_meter[line.meter_id].append((line.push.time, register(line.push)))
    assert len(by_meter) == len(run.grid.meters)
    for meter_id, readings in by_meter.items():
        values = [value for _, value in sorted(readings)]
        assert all(a <= b for a, b in itertools.pairwise(values)), meter_id


def test_pushes_carry_the_recorded_register_at_their_boundary(run: Run) -> None:
    drift = run.roles["drift"].meter_id
    checked = 0
    for line in run.lines:
        if line.push is None or line.event is not None or line.meter_id == drift:
            continue
        frame, col = run.frame_at(int(line.push.time.timestamp()))
        recorded = math.floor(frame.recorded_import_wh[run.row[line.meter_id], col])
        value = register(line.push)
        assert value <= recorded < value + 10, (line.meter_id, line.push.time)
        checked += 1
    assert checked > 10_000


def test_no_energy_before_the_run_starts(run: Run) -> None:
    first = run.frames[0]
    before = (START_S - first.day_start_s) // QUARTER_S
    assert before == 92
    assert np.all(first.true_wh[:, :, : before + 1] == first.true_wh[:, :, :1])
    assert np.all(first.true_wh[0, :, -1] > first.true_wh[0, :, before])
    assert np.array_equal(first.true_wh[:, :, 0], run.block.initial_wh)


def test_no_quarter_takes_more_than_the_main_fuse_lets_through(run: Run) -> None:
    limit_wh = np.array([fuse_limit_w(p) * 0.25 for p in run.block.points])
    for frame in run.frames:
        energy = np.diff(frame.true_wh[0], axis=1)
        assert np.all(energy <= limit_wh[:, None] * (1 + 1e-6))
        assert np.all(np.diff(frame.true_wh[1], axis=1) <= limit_wh[:, None] * (1 + 1e-6))


def test_energy_is_the_load_model_s_where_no_fault_touches(run: Run) -> None:
    model = LoadModel(run.block.points, SEED, 0)
    faulty = set(run.plan.by_meter)
    clean = [i for i, m in enumerate(run.block.meters) if m.meter_id not in faulty]
    assert len(clean) > 100
    frame = run.frames[1]
    load = model.day(frame.day, day_weather(AREA, frame.day, SEED))
    energy = np.diff(frame.true_wh, axis=2)
    for k, wh in enumerate(
        (load.import_wh, load.export_wh, load.reactive_import_varh, load.reactive_export_varh)
    ):
        assert np.allclose(energy[k, clean], wh[clean], rtol=1e-9, atol=1e-6)


# --- invocation counters -----------------------------------------------------------------


def counters_by_meter(lines: list[Line]) -> dict[str, list[tuple[Line, int]]]:
    """Per meter, its decoded lines in arrival order with their invocation counters."""
    out: dict[str, list[tuple[Line, int]]] = defaultdict(list)
    for line in lines:
        if line.push is not None:
            out[line.meter_id].append((line, line.push.invocation_counter or 0))
    return out


def test_every_transmission_has_its_own_counter_and_none_is_skipped(run: Run) -> None:
    """Counters are GCM nonces: never reused, one per push sent (lost last gasps included)."""
    initial = make_block(run.grid, run.plan, radio_of(run.scenario)).counter
    replayed = replays_of(run)
    lost_events = Counter(
        e.meter_id
        for events in run.plan.events.values()
        for e in events
        if e.lost and START_S <= e.at_s <= END_S
    )
    decoded = counters_by_meter(run.lines)
    for meter_id, m in run.row.items():
        first, end = int(initial[m]), int(run.block.counter[m])
        sent = [
            line for line in run.meter_lines(meter_id) if (meter_id, line.arrival) not in replayed
        ]
        assert len(sent) + lost_events[meter_id] == end - first, meter_id
        counters = [c for line, c in decoded[meter_id] if (meter_id, line.arrival) not in replayed]
        assert len(set(counters)) == len(counters), meter_id
        assert first <= min(counters)
        assert max(counters) < end


def test_pushes_carry_the_counters_the_frames_gave_them(run: Run) -> None:
    by_event: dict[tuple[str, int], int] = {}
    for frame in run.frames:
        for m, k, counter in frame.events:
            meter_id = run.block.meters[m].meter_id
            by_event[meter_id, run.plan.events[meter_id][k].at_s] = counter
    checked = Counter()
    for line in run.lines:
        if line.push is None:
            continue
        at = int(line.push.time.timestamp())
        if line.event is not None:
            assert line.push.invocation_counter == by_event[line.meter_id, at]
            checked["events"] += 1
        else:
            frame, col = run.frame_at(at)
            assert frame.sends[run.row[line.meter_id], col]
            assert line.push.invocation_counter == frame.counters[run.row[line.meter_id], col]
            checked["lists"] += 1
    assert checked["events"] > 100
    assert checked["lists"] > 10_000


def test_counters_rise_in_the_order_pushes_are_sent_for_meters_without_events(run: Run) -> None:
    replay = run.roles["replay"].meter_id
    checked = 0
    for meter_id, decoded in counters_by_meter(run.lines).items():
        if meter_id in run.plan.events or meter_id == replay:
            continue
        counters = [c for _, c in decoded]
        assert all(a < b for a, b in itertools.pairwise(counters)), meter_id
        checked += 1
    assert checked > 100


def test_a_replay_guard_accepts_every_genuine_transmission_in_arrival_order(run: Run) -> None:
    guard = ReplayGuard()
    decoder = PushDecoder(keys=run.keys.get, replay_guard=guard)
    replayed = replays_of(run)
    refused = []
    for line in run.lines:
        if line.error is not None or (line.meter_id, line.arrival) in replayed:
            continue
        try:
            decoder.decode(line.data)
        except ReplayError:
            refused.append((line.meter_id, iso_z(line.arrival)))
    assert refused == []


def test_radio_loss_does_not_change_the_counters(run: Run) -> None:
    """A lost push used its counter: the pushes after it carry the same as without loss."""
    meters = run.grid.meters[:60]
    lossy = make_block(run.grid, run.plan, (0.3, 0.1, 0.1, (1.0, 2.0), JITTER_S), meters)
    clean = make_block(run.grid, run.plan, radio_of(run.scenario), meters)
    pairs: list[tuple[int, bytes]] = []
    clean_pairs: list[tuple[int, bytes]] = []
    lost: set[tuple[str, int]] = set()
    for day in DAYS:
        weather = day_weather(AREA, day, SEED)
        a = lossy.advance(day, weather)
        b = clean.advance(day, weather)
        assert a is not None
        assert b is not None
        assert np.array_equal(a.counters, b.counters)
        for m, col in zip(*np.nonzero(a.sends & (a.fates == LOST)), strict=True):
            lost.add((lossy.meters[m].meter_id, a.day_start_s + QUARTER_S * int(col)))
        pairs += lossy.pushes(a, a.day_start_s, a.day_start_s + DAY_S)
        clean_pairs += clean.pushes(b, b.day_start_s, b.day_start_s + DAY_S)
    assert np.array_equal(lossy.counter, clean.counter)
    expected: dict[tuple[str, int], tuple[int | None, int]] = {}
    for line in decode_lines(clean_pairs, run.keys):  # in arrival order: replays come later
        if line.push is not None and line.event is None:
            key = (line.meter_id, int(line.push.time.timestamp()))
            expected.setdefault(key, (line.push.invocation_counter, line.arrival))
    replay = run.roles["replay"].meter_id
    seen: Counter[tuple[str, int]] = Counter()
    late = 0
    for line in decode_lines(pairs, run.keys):
        if line.push is None or line.event is not None:
            continue
        key = (line.meter_id, int(line.push.time.timestamp()))
        counter, arrival = expected[key]
        assert line.push.invocation_counter == counter
        seen[key] += 1
        if line.meter_id == replay:  # the attacker's copies arrive hours later
            continue
        delay = line.arrival - arrival
        assert delay == 0 or 1 <= delay < 300 or 3600 <= delay <= 7200
        late += delay >= 3600
    assert late > 50
    copies = Counter(n for (meter_id, _), n in seen.items() if meter_id != replay)
    assert set(copies) == {1, 2}  # a duplicate arrives twice
    assert len(lost & set(expected)) > 100
    assert set(expected) - set(seen) == lost & set(expected)  # what is lost is missing


# --- lines ---------------------------------------------------------------------------------


def test_a_day_cut_into_slices_gives_the_pushes_and_truth_of_the_whole_day(run: Run) -> None:
    """run.py makes a day a few hours at a time: nothing may be lost or made twice."""
    block = make_block(run.grid, run.plan, radio_of(run.scenario))
    block.prepare()
    cuts = [0, 1, 3_600, 5_000, 14_410, 40_000, 40_500, 86_399, DAY_S]
    for frame, reference in zip(advance_all(block), run.frames, strict=True):
        d0 = frame.day_start_s
        pushes: list[tuple[int, bytes]] = []
        truth: list[bytes] = []
        for a, b in itertools.pairwise(cuts):
            pushes += block.pushes(frame, d0 + a, d0 + b)
            truth += block.truth_rows(frame, d0 + a, d0 + b).splitlines()
        whole = run.block.pushes(reference, d0, d0 + DAY_S)
        assert sorted(pushes) == sorted(whole)
        rows = run.block.truth_rows(reference, d0, d0 + DAY_S).splitlines()
        assert sorted(truth) == sorted(rows)
    assert block.pushes(frame, d0 + 1, d0 + 899) == []
    assert block.truth_rows(frame, d0 + 1, d0 + 899) == b""


def test_every_line_is_json_with_its_arrival_meter_and_hex(run: Run) -> None:
    meter_ids = {m.meter_id for m in run.grid.meters}
    for line in run.lines:
        assert line.raw.endswith(b"\n")
        assert line.raw.count(b"\n") == 1
        assert list(line.record) == ["at", "meter_id", "hex"]
        assert line.record["at"] == iso_z(line.arrival)
        assert line.record["meter_id"] in meter_ids
        assert START_S <= line.arrival < END_S + DAY_S


def test_every_push_decodes_but_the_damaged_and_wrongly_keyed(run: Run) -> None:
    failing = {run.roles["corrupt"].meter_id, run.roles["wrong_key"].meter_id}
    titles = {m.meter_id: m.system_title for m in run.grid.meters}
    replayed = replays_of(run)
    # an event push of the wrongly keyed meter does not decode either: tell it by its time
    events = {(meter_id, e.at_s + 1) for meter_id, es in run.plan.events.items() for e in es}
    lists: Counter[str] = Counter()
    for line in run.lines:
        if line.meter_id not in failing:
            assert line.push is not None, line.record
        if (
            line.event is None
            and (line.meter_id, line.arrival) not in replayed
            and (line.meter_id, line.arrival) not in events
        ):
            lists[line.meter_id] += 1
        if line.push is not None:
            assert line.push.system_title == titles[line.meter_id]
            assert line.push.framing == "hdlc"
            if line.event is None:
                assert line.push.meter_id == line.meter_id
                assert line.push.time is not None
                assert line.push.time.minute % 15 == 0
    for meter_id, m in run.row.items():  # a clean radio: every push sent arrives
        assert lists[meter_id] == sum(int(frame.sends[m].sum()) for frame in run.frames)


def test_event_pushes_are_the_planned_events(run: Run) -> None:
    silent = run.roles["silent"].meter_id
    silent_window = (s(SILENT[0]), s(SILENT[1]))
    planned = set()
    for meter_id, events in run.plan.events.items():
        for e in events:
            if not START_S <= e.at_s <= END_S or e.lost:
                continue
            if meter_id == silent and silent_window[0] <= e.at_s < silent_window[1]:
                continue
            planned.add((meter_id, e.name, e.at_s))
    sent = set()
    for line in run.lines:
        if line.event is not None:
            assert line.push is not None
            assert line.push.time is not None
            at = int(line.push.time.timestamp())
            assert line.arrival == at + 1
            sent.add((line.meter_id, line.event, at))
    wrong_key = run.roles["wrong_key"].meter_id  # its events may fail to decode
    assert {p for p in sent if p[0] != wrong_key} == {p for p in planned if p[0] != wrong_key}
    assert {p for p in sent if p[0] == wrong_key} <= planned
    assert len(sent) > 100


# --- outages -----------------------------------------------------------------------------


def outage_meters(run: Run, start: str) -> list[str]:
    for f in run.plan.faults:
        if f.spec.kind == "outage" and f.spec.start == datetime.fromisoformat(start):
            return list(f.meter_ids)
    raise LookupError(start)


@pytest.mark.parametrize("window", [OUTAGE, IT_OUTAGE], ids=["point", "transformer"])
def test_an_outage_stops_pushes_and_consumption(run: Run, window: tuple[str, str]) -> None:
    begin, stop = s(window[0]), s(window[1])
    meters = outage_meters(run, window[0])
    assert meters
    for meter_id in meters:
        times = [int(line.push.time.timestamp()) for line in run.list_pushes(meter_id)]
        assert not [t for t in times if begin <= t < stop]
        assert [t for t in times if t < begin]
        assert [t for t in times if t >= stop]
        m = run.row[meter_id]
        q = -(-begin // QUARTER_S) * QUARTER_S  # first whole quarter inside
        while q + QUARTER_S <= stop:
            frame, col = run.frame_at(q)
            assert np.array_equal(frame.true_wh[:, m, col + 1], frame.true_wh[:, m, col])
            q += QUARTER_S
        events = [(e.name, e.at_s) for e in run.plan.events[meter_id] if e.name.startswith("pow")]
        assert events[0] == ("power_down", begin)
        assert events[1][0] == "power_up"
        assert stop + 30 <= events[1][1] <= stop + 90


def test_a_partly_dark_quarter_has_the_lit_share_of_its_energy(run: Run) -> None:
    meter = run.roles["outage"]
    m = run.row[meter.meter_id]
    frame = run.frames[1]  # 5 January: dark from 22:40
    load = LoadModel(run.block.points, SEED, 0).day(frame.day, day_weather(AREA, frame.day, SEED))
    energy = np.diff(frame.true_wh[0, m])
    col = (s(OUTAGE[0]) - frame.day_start_s) // QUARTER_S  # 22:30-22:45
    assert energy[col] == pytest.approx(load.import_wh[m, col] * 10 / 15, rel=1e-9)
    assert np.allclose(energy[:col], load.import_wh[m, :col], rtol=1e-9)
    assert np.all(energy[col + 1 :] == 0.0)
    assert load.import_wh[m, col + 1 :].sum() > 0


def test_an_outage_last_gasp_arrives_or_is_lost_at_its_rate(run: Run) -> None:
    meter_id = run.roles["outage"].meter_id
    gasps = [line for line in run.event_lines(meter_id) if line.event == "power_down"]
    assert [int(g.push.time.timestamp()) for g in gasps if g.push] == [s(OUTAGE[0])]
    ups = [line for line in run.event_lines(meter_id) if line.event == "power_up"]
    assert len(ups) == 1
    for meter_id in outage_meters(run, IT_OUTAGE[0]):
        downs = [e for e in run.plan.events[meter_id] if e.name == "power_down"]
        assert len(downs) == 1
        assert downs[0].lost
        names = [line.event for line in run.event_lines(meter_id)]
        assert "power_down" not in names
        assert "power_up" in names
    lost = [i for i in run.incidents if b",lost power_down," in i]
    assert len(lost) == len(outage_meters(run, IT_OUTAGE[0]))


# --- silent meters -------------------------------------------------------------------------


def test_a_silent_meter_sends_nothing_but_keeps_counting(run: Run) -> None:
    meter_id = run.roles["silent"].meter_id
    begin, stop = s(SILENT[0]), s(SILENT[1])
    boundaries = [int(line.push.time.timestamp()) for line in run.list_pushes(meter_id)]
    assert not [t for t in boundaries if begin <= t < stop]
    assert begin - 3600 in boundaries
    assert stop in boundaries
    assert not [line for line in run.meter_lines(meter_id) if line.push is None]
    events = [(line.event, line.arrival - 1) for line in run.event_lines(meter_id)]
    assert events == [("terminal_cover_closed", s(SILENT_TAMPER[1]))]
    assert any(e.name == "terminal_cover_opened" for e in run.plan.events[meter_id])
    pushes = sorted(
        (int(line.push.time.timestamp()), register(line.push)) for line in run.list_pushes(meter_id)
    )
    before = max(p for p in pushes if p[0] < begin)
    after = min(p for p in pushes if p[0] >= stop)
    assert (before[0], after[0]) == (begin - 3600, stop)
    frame, col = run.frame_at(stop)
    m = run.row[meter_id]
    assert after[1] == pytest.approx(math.floor(frame.true_wh[0, m, col]), abs=10)
    assert after[1] - before[1] > 1000  # a day of a house's consumption


# --- registers that lie ----------------------------------------------------------------------


def test_a_stuck_register_stands_still_while_the_truth_goes_on(run: Run) -> None:
    meter_id = run.roles["stuck"].meter_id
    begin, stop = s(STUCK[0]), s(STUCK[1])
    m = run.row[meter_id]
    pushes = sorted(
        (int(line.push.time.timestamp()), register(line.push)) for line in run.list_pushes(meter_id)
    )
    inside = [value for t, value in pushes if begin <= t <= stop]
    assert len(inside) == (stop - begin) // 3600 + 1
    assert len(set(inside)) == 1
    truth = [run.frame_at(t)[0].true_wh[0, m, run.frame_at(t)[1]] for t, _ in pushes]
    t_begin = truth[[t for t, _ in pushes].index(begin)]
    t_stop = truth[[t for t, _ in pushes].index(stop)]
    assert t_stop - t_begin > 5000
    after = [(t, value) for t, value in pushes if t > stop]
    assert after[-1][1] - after[0][1] > 0
    # after the fault the register counts again, short of the truth by what it missed
    frame, col = run.frame_at(after[-1][0])
    offset = frame.true_wh[0, m, col] - frame.recorded_import_wh[m, col]
    assert offset == pytest.approx(t_stop - t_begin, rel=1e-9)


def test_a_jumping_register_jumps_by_jump_wh_and_keeps_the_offset(run: Run) -> None:
    meter_id = run.roles["jump"].meter_id
    at = s(JUMP_AT)
    m = run.row[meter_id]
    for frame in run.frames:
        times = frame.day_start_s + QUARTER_S * np.arange(97)
        offset = frame.recorded_import_wh[m] - frame.true_wh[0, m]
        assert np.allclose(offset[times <= at], 0.0, atol=1e-6)
        assert np.allclose(offset[times > at], JUMP_WH, atol=1e-6)
    pushes = {int(line.push.time.timestamp()): line.push for line in run.list_pushes(meter_id)}
    hour = at - at % 3600
    step = register(pushes[hour + 3600]) - register(pushes[hour])
    frame, col = run.frame_at(hour)
    true_step = frame.true_wh[0, m, col + 4] - frame.true_wh[0, m, col]
    assert step - JUMP_WH == pytest.approx(true_step, abs=20)


# --- clock drift ---------------------------------------------------------------------------


def test_a_drifting_clock_sends_early_but_stamps_the_hour(run: Run) -> None:
    meter_id = run.roles["drift"].meter_id
    begin, stop = s(DRIFT[0]), s(DRIFT[1])
    pushes = run.list_pushes(meter_id)
    assert len(pushes) > 60
    largest = 0.0
    for line in pushes:
        clock = line.push.time
        assert (clock.minute, clock.second, clock.microsecond) == (0, 0, 0)
        t = int(clock.timestamp())
        lead = DRIFT_S_PER_DAY * (t - begin) / DAY_S if begin <= t < stop else 0.0
        early = t + SEND_DELAY_S - line.arrival
        assert -JITTER_S - 1 <= early - lead <= 1, (iso_z(t), lead, early)
        largest = max(largest, lead)
    assert largest > 500
    adjusted = [line for line in run.event_lines(meter_id) if line.event == "clock_adjusted"]
    assert [line.arrival - 1 for line in adjusted] == [stop]


def test_a_meter_clock_hours_off_still_reads_monotone_registers(run: Run) -> None:
    meters = [m for m in run.grid.meters if m.push_interval_s == 3600][:12]
    text = RANDOM_OFF + "".join(
        fault("clock_drift", m.meter_id, DRIFT[0], drift_s_per_day=3600.0 * (-1) ** i)
        for i, m in enumerate(meters)
    )
    plan = plan_faults(parse_scenario(text), run.grid, START, END, SEED)
    block = make_block(run.grid, plan, (0.0, 0.0, 0.0, (1.0, 2.0), 0), meters)
    pairs: list[tuple[int, bytes]] = []
    for frame in advance_all(block):
        pairs += block.pushes(frame, frame.day_start_s, frame.day_start_s + DAY_S)
    readings: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for line in decode_lines(pairs, run.keys):
        assert line.push is not None
        readings[line.meter_id].append((line.push.time, register(line.push)))
    backwards = []
    for meter_id, values in readings.items():
        ordered = [value for _, value in sorted(values)]
        backwards += [meter_id for a, b in itertools.pairwise(ordered) if b < a]
    assert backwards == []


# --- attacks and defects -----------------------------------------------------------------


def boundary_of(line: Line) -> int:
    """The boundary of a push from its arrival (no drift: sent 10 to 60 s after it)."""
    return (line.arrival - SEND_DELAY_S) // QUARTER_S * QUARTER_S


def test_a_damaged_push_fails_its_tag_and_the_others_decode(run: Run) -> None:
    meter_id = run.roles["corrupt"].meter_id
    begin, stop = s(CORRUPT[0]), s(CORRUPT[1])
    lines = run.meter_lines(meter_id)
    bad = [boundary_of(line) for line in lines if line.error is not None]
    good = [boundary_of(line) for line in lines if line.push is not None]
    assert all(isinstance(line.error, DecryptionError) for line in lines if line.push is None)
    assert bad == list(range(begin, stop, 3600))
    assert not [t for t in good if begin <= t < stop]
    assert len(good) > 40
    assert sum(1 for i in run.incidents if i.startswith(meter_id.encode())) == len(bad)


def test_a_corrupt_rate_damages_that_share_of_the_pushes(run: Run) -> None:
    meters = [m for m in run.grid.meters if m.push_interval_s == 3600][:10]
    text = RANDOM_OFF + "".join(fault("corrupt", m.meter_id, DRIFT[0], rate=0.4) for m in meters)
    plan = plan_faults(parse_scenario(text), run.grid, START, END, SEED)
    block = make_block(run.grid, plan, (0.0, 0.0, 0.0, (1.0, 2.0), JITTER_S), meters)
    pairs: list[tuple[int, bytes]] = []
    for frame in advance_all(block):
        pairs += block.pushes(frame, frame.day_start_s, frame.day_start_s + DAY_S)
    lines = decode_lines(pairs, run.keys)
    inside = [line for line in lines if boundary_of(line) >= s(DRIFT[0])]
    damaged = [line for line in inside if line.error is not None]
    assert not [line for line in lines if boundary_of(line) < s(DRIFT[0]) and line.push is None]
    assert 0.3 <= len(damaged) / len(inside) <= 0.5
    assert block.stats["corrupted"] == len(damaged)
    assert len([i for i in block.incidents if b",corrupted," in i]) == len(damaged)


def test_a_wrongly_keyed_meter_fails_from_the_fault_on(run: Run) -> None:
    meter_id = run.roles["wrong_key"].meter_id
    begin = s(WRONG_KEY_FROM)
    events = {e.at_s + 1 for e in run.plan.events.get(meter_id, ())}
    lists = [
        line
        for line in run.meter_lines(meter_id)
        if line.event is None and line.arrival not in events  # its event pushes fail too
    ]
    bad = [boundary_of(line) for line in lists if line.error is not None]
    good = [boundary_of(line) for line in lists if line.push is not None]
    assert bad == list(range(begin, END_S + 1, 3600))
    assert good == list(range(START_S, begin, 3600))
    assert all(isinstance(line.error, DecryptionError) for line in lists if line.push is None)


def test_a_wrongly_keyed_meter_s_event_pushes_fail_too(run: Run) -> None:
    meter_id = run.roles["wrong_key"].meter_id
    begin = s(WRONG_KEY_FROM)
    tamper = [line for line in run.meter_lines(meter_id) if line.arrival == s(WRONG_KEY_TAMPER) + 1]
    assert len(tamper) == 1
    assert tamper[0].arrival > begin
    assert isinstance(tamper[0].error, DecryptionError)


def replays_of(run: Run) -> set[tuple[str, int]]:
    """(meter, arrival) of every line that repeats an earlier line's bytes."""
    seen: set[bytes] = set()
    again = set()
    for line in run.lines:
        if line.data in seen:
            again.add((line.meter_id, line.arrival))
        seen.add(line.data)
    return again


def test_a_replay_resends_earlier_pushes_at_its_start(run: Run) -> None:
    meter_id = run.roles["replay"].meter_id
    begin = s(REPLAY_AT)
    assert {m for m, _ in replays_of(run)} == {meter_id}
    lines = run.meter_lines(meter_id)
    copies = [line for line in lines if (meter_id, line.arrival) in replays_of(run)]
    assert len(copies) == REPLAY_COUNT
    assert all(begin <= line.arrival <= begin + REPLAY_COUNT for line in copies)
    originals = [boundary_of(line) for line in lines if line.data in {c.data for c in copies}]
    hour = begin - begin % 3600
    expected = [hour - 3600 * k for k in range(REPLAY_COUNT - 1, -1, -1)]
    assert sorted(set(originals)) == expected
    guard = ReplayGuard()
    decoder = PushDecoder(keys=run.keys.get, replay_guard=guard)
    refused = 0
    for line in lines:
        try:
            decoder.decode(line.data)
        except ReplayError:
            refused += 1
            assert (meter_id, line.arrival) in replays_of(run)
    assert refused == REPLAY_COUNT


# --- voltage and earth faults --------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "window", "word"),
    [("undervoltage", UNDER, "undervoltage"), ("overvoltage", OVER, "overvoltage")],
)
def test_a_voltage_fault_shows_in_the_pushes_and_raises_events(
    run: Run, role: str, window: tuple[str, str, float], word: str
) -> None:
    meter = run.roles[role]
    begin, stop, level = s(window[0]), s(window[1]), window[2]
    codes = ("32.7.0", "52.7.0", "72.7.0")[: meter.phases]
    inside = 0
    for line in run.list_pushes(meter.meter_id):
        t = int(line.push.time.timestamp())
        for code in codes:
            volts = register(line.push, code)
            if begin <= t < stop:
                assert abs(volts - level) < 2.0, (iso_z(t), code, volts)
            else:
                assert 216.0 <= volts <= 244.0, (iso_z(t), code, volts)
        inside += begin <= t < stop
    assert inside == -(-(stop - begin) // 3600)
    expected = [f"{word}_l{phase}" for phase in range(1, meter.phases + 1)]
    events = [(line.event, line.arrival - 1) for line in run.event_lines(meter.meter_id)]
    assert sorted(name for name, at in events if begin < at <= begin + 60) == expected
    back = [name for name, at in events if stop < at <= stop + 60]
    assert "voltage_normal" in back  # L1; the other phases: see test_faults.py
    assert set(back) <= {"voltage_normal", "voltage_normal_l2", "voltage_normal_l3"}
    assert len(events) == len(expected) + len(back)


def test_an_earth_fault_reaches_every_meter_of_the_it_substation(run: Run) -> None:
    begin, stop = s(EARTH[0]), s(EARTH[1])
    transformer = {p.metering_point_id: p.transformer_id for p in run.grid.metering_points}
    members = {
        m.meter_id for m in run.grid.meters if transformer[m.metering_point_id] == IT_TRANSFORMER
    }
    assert len(members) == 34
    for meter_id in members:
        planned = [
            (e.name, e.at_s) for e in run.plan.events[meter_id] if e.name.startswith("earth")
        ]
        assert [name for name, _ in planned] == ["earth_fault_detected", "earth_fault_cleared"]
        assert begin <= planned[0][1] <= begin + 5
        assert stop <= planned[1][1] <= stop + 5
        sent = [(line.event, line.arrival - 1) for line in run.event_lines(meter_id)]
        assert [p for p in sent if p[0].startswith("earth")] == planned
    for meter_id in run.plan.events:
        if meter_id not in members:
            assert not [e for e in run.plan.events[meter_id] if e.name.startswith("earth")]


# --- truth ---------------------------------------------------------------------------------


def test_truth_rows_add_up_to_the_registers_of_each_day(run: Run) -> None:
    rows = list(csv.reader(io.StringIO(run.truth.decode())))
    meters = {m.meter_id: m for m in run.grid.meters}
    sums: dict[tuple[str, date], np.ndarray] = defaultdict(lambda: np.zeros(4, dtype=np.int64))
    seen = set()
    for point, meter_id, start, interval_s, *values in rows:
        meter = meters[meter_id]
        assert meter.metering_point_id == point
        assert int(interval_s) == meter.push_interval_s
        begin = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert begin >= START
        assert begin + timedelta(seconds=int(interval_s)) <= END
        assert int(begin.timestamp()) % int(interval_s) == 0
        numbers = np.array([int(v) for v in values])
        assert np.all(numbers >= 0)
        assert (meter_id, start) not in seen
        seen.add((meter_id, start))
        sums[meter_id, begin.date()] += numbers
    assert len(seen) == sum((END_S - START_S) // m.push_interval_s for m in run.grid.meters)
    for frame in run.frames[1:3]:  # the whole UTC days of the run
        whole = np.floor(frame.true_wh).astype(np.int64)
        for meter_id, m in run.row.items():
            assert np.array_equal(sums[meter_id, frame.day], whole[:, m, 96] - whole[:, m, 0])

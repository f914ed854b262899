"""The fault plan: the scenario's faults and the random ones placed on meters, with events."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from openams.sim import Grid, build_grid
from openams.sim.faults import (
    TAMPER_EVENTS,
    VOLTAGE_HIGH_V,
    VOLTAGE_LOW_V,
    FaultPlan,
    epoch_s,
    number,
    plan_faults,
    window_s,
)
from openams.sim.scenario import (
    TAMPER_TYPES,
    FaultSpec,
    ScenarioError,
    parse_scenario,
)

# build_grid(meters=300, area="NO1", seed=1): one primary substation TS-NO1-001 with one feeder
# and four secondary substations, NS-NO1-00001 and 00003 TN, NS-NO1-00002 and 00004 IT.
SUBSTATION = "TS-NO1-001"
FEEDER = "TS-NO1-001-F01"
TN = "NS-NO1-00001"
IT = "NS-NO1-00002"
START = datetime(2026, 1, 4, 23, tzinfo=UTC)
DAYS_30 = START + timedelta(days=30)
RANDOM_KEYS = (
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
# (kind, level of the target, shortest and longest duration in hours; None: no end)
DRAWN = {
    "installation_outages": ("outage", "metering_point", (0.25, 8.0)),
    "transformer_outages": ("outage", "transformer", (0.5, 4.0)),
    "silent_meters": ("silent", "metering_point", (24.0, 240.0)),
    "stuck_registers": ("stuck_register", "metering_point", (12.0, 120.0)),
    "jumping_registers": ("jumping_register", "metering_point", None),
    "clock_drift": ("clock_drift", "metering_point", None),
    "tampering": ("tamper", "metering_point", (0.05, 2.0)),
    "earth_faults": ("earth_fault", "transformer", (1.0, 48.0)),
    "voltage_excursions": ("voltage", "metering_point", (0.5, 6.0)),
}


@pytest.fixture(scope="module")
def grid() -> Grid:
    return build_grid(meters=300, area="NO1", seed=1)


def rates(**chosen: float) -> str:
    """A [random] section: the rates given, every other kind off."""
    return "[random]\n" + "".join(f"{key} = {chosen.get(key, 0)}\n" for key in RANDOM_KEYS)


def fault(kind: str, target: str, start: str, end: str | None = None, **keys: object) -> str:
    lines = ["[[fault]]", f'kind = "{kind}"', f'target = "{target}"', f"start = {start}"]
    if end is not None:
        lines.append(f"end = {end}")
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def plan_of(text: str, grid: Grid, seed: int = 1, end: datetime = DAYS_30) -> FaultPlan:
    return plan_faults(parse_scenario(text, "faults.toml"), grid, START, end, seed)


def s(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def meters_under(grid: Grid, transformer: str) -> list[str]:
    points = {p.metering_point_id for p in grid.metering_points if p.transformer_id == transformer}
    return [m.meter_id for m in grid.meters if m.metering_point_id in points]


def first_meter(grid: Grid, transformer: str, phases: int) -> str:
    phases_of = {m.meter_id: m.phases for m in grid.meters}
    return next(m for m in meters_under(grid, transformer) if phases_of[m] == phases)


# --- drawn at random ---------------------------------------------------------------------------


def test_random_outages_come_at_the_rate_asked(grid: Grid) -> None:
    """100 per 1000 points per 30 days on 300 points for 30 days: 30 expected per run."""
    counts = []
    for seed in range(1, 41):
        plan = plan_of(rates(installation_outages=100), grid, seed)
        assert all(origin == "random" for origin in plan.origins)
        counts.append(len(plan.faults))
        assert 10 <= counts[-1] <= 55, (seed, counts[-1])  # beyond 3.6 sigma of Poisson(30)
    assert statistics.mean(counts) == pytest.approx(30, abs=4 * math.sqrt(30 / 40))
    assert statistics.variance(counts) == pytest.approx(30, rel=0.6)  # Poisson: as the mean


def test_high_rates_are_drawn_around_their_mean_too(grid: Grid) -> None:
    """1000 per 1000 points per 30 days on 300 points: 300 expected, spread as Poisson."""
    counts = [
        len(plan_of(rates(installation_outages=1000), grid, seed).faults) for seed in range(1, 21)
    ]
    assert statistics.mean(counts) == pytest.approx(300, abs=4 * math.sqrt(300 / 20))
    assert 5 < statistics.stdev(counts) < 35  # sqrt(300) = 17.3
    assert all(abs(count - 300) < 4.5 * math.sqrt(300) for count in counts)


def test_the_rate_scales_with_the_points_and_the_days(grid: Grid) -> None:
    small = build_grid(meters=100, area="NO1", seed=1)
    ten_days = START + timedelta(days=10)
    week_counts = [
        len(plan_of(rates(installation_outages=300), grid, seed, ten_days).faults)
        for seed in range(1, 31)
    ]
    small_counts = [
        len(plan_of(rates(installation_outages=300), small, seed).faults) for seed in range(1, 31)
    ]
    # 300 x 0.3 x 1/3 = 30 and 300 x 0.1 x 1 = 30
    assert statistics.mean(week_counts) == pytest.approx(30, abs=4 * math.sqrt(30 / 30))
    assert statistics.mean(small_counts) == pytest.approx(30, abs=4 * math.sqrt(30 / 30))


def test_no_rate_no_random_fault(grid: Grid) -> None:
    plan = plan_of(rates(), grid)
    assert plan.faults == []
    assert plan.origins == []
    assert dict(plan.by_meter) == {}
    assert dict(plan.events) == {}


def test_every_drawn_kind_has_its_target_duration_and_parameters(grid: Grid) -> None:
    plan = plan_of(rates(**dict.fromkeys(RANDOM_KEYS, 100.0)), grid, seed=3)
    it_transformers = {t.transformer_id for t in grid.transformers if t.grid_type == "IT"}
    by_kind = Counter(f.spec.kind for f in plan.faults)
    expected = Counter(kind for kind, _, _ in DRAWN.values())
    for kind, count in expected.items():
        # 30 per key (60 for outages); Poisson band at about four sigma
        mean = 30 * count
        assert abs(by_kind[kind] - mean) <= 4 * math.sqrt(mean), (kind, by_kind[kind])
    levels = {(kind, level) for kind, level, _ in DRAWN.values()}
    for f in plan.faults:
        spec = f.spec
        assert (spec.kind, f.level) in levels
        assert START <= spec.start < DAYS_30
        assert spec.line == 0
        durations = {DRAWN[k][2] for k in DRAWN if DRAWN[k][:2] == (spec.kind, f.level)}
        (duration,) = durations
        if duration is None:
            assert spec.end is None
        else:
            assert spec.end is not None
            hours = (spec.end - spec.start).total_seconds() / 3600
            assert duration[0] - 1 / 3600 <= hours <= duration[1] + 1 / 3600, spec
        if spec.kind == "earth_fault":
            assert spec.target in it_transformers
        if spec.kind == "jumping_register":
            assert spec.param("jump_wh") in (1_000_000, 10_000_000, 99_999_000)
        if spec.kind == "clock_drift":
            assert 2.0 <= abs(number(spec, "drift_s_per_day")) <= 60.0
        if spec.kind == "tamper":
            assert spec.param("type") in TAMPER_TYPES
        if spec.kind == "voltage":
            volts = number(spec, "voltage_v")
            assert volts < VOLTAGE_LOW_V or volts > VOLTAGE_HIGH_V
        assert f.meter_ids
        for meter_id in f.meter_ids:
            assert plan.faults.index(f) in plan.by_meter[meter_id]


def test_both_drift_directions_and_under_and_over_voltage_are_drawn(grid: Grid) -> None:
    plan = plan_of(rates(clock_drift=300, voltage_excursions=300), grid, seed=5)
    drifts = [
        number(f.spec, "drift_s_per_day") for f in plan.faults if f.spec.kind == "clock_drift"
    ]
    volts = [number(f.spec, "voltage_v") for f in plan.faults if f.spec.kind == "voltage"]
    assert min(drifts) < 0 < max(drifts)
    assert min(volts) < VOLTAGE_LOW_V
    assert max(volts) > VOLTAGE_HIGH_V


def test_no_earth_fault_is_drawn_where_there_is_no_it_grid() -> None:
    tn_only = build_grid(meters=160, area="NO1", seed=5)
    assert {t.grid_type for t in tn_only.transformers} == {"TN"}
    plan = plan_of(rates(earth_faults=1000, tampering=100), tn_only)
    kinds = Counter(f.spec.kind for f in plan.faults)
    assert kinds["earth_fault"] == 0
    assert kinds["tamper"] > 0


def test_the_same_seed_gives_the_same_plan(grid: Grid) -> None:
    text = rates(**dict.fromkeys(RANDOM_KEYS, 20.0)) + fault(
        "outage", TN, "2026-01-05T14:00:00+01:00", "2026-01-05T16:30:00+01:00"
    )
    one, two = plan_of(text, grid, seed=9), plan_of(text, grid, seed=9)
    assert one.faults == two.faults
    assert one.origins == two.origins
    assert dict(one.by_meter) == dict(two.by_meter)
    assert dict(one.events) == dict(two.events)
    other = plan_of(text, grid, seed=10)
    assert other.faults[0] == one.faults[0]  # the scenario's own fault
    assert other.faults[1:] != one.faults[1:]


def test_origins_name_the_scenario_line_or_random(grid: Grid) -> None:
    text = (
        rates(installation_outages=100)
        + "\n"
        + fault("silent", first_meter(grid, TN, 1), "2026-01-06T00:00:00")
        + "\n# a comment between the faults\n\n"
        + fault("earth_fault", IT, "2026-01-07T05:30:00", "2026-01-07T11:00:00")
    )
    lines = text.splitlines()
    headers = [number for number, line in enumerate(lines, 1) if line == "[[fault]]"]
    plan = plan_of(text, grid)
    assert plan.origins[:2] == [f"scenario:{line}" for line in headers]
    assert [f.spec.kind for f in plan.faults[:2]] == ["silent", "earth_fault"]
    assert len(plan.origins) == len(plan.faults) > 2
    assert set(plan.origins[2:]) == {"random"}


def test_an_unknown_target_is_refused_with_its_line(grid: Grid) -> None:
    text = rates() + fault("silent", "NS-NO1-99999", "2026-01-06T00:00:00")
    with pytest.raises(ScenarioError) as info:
        plan_of(text, grid)
    assert info.value.line == len(rates().splitlines()) + 1


# --- placing faults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "transformers"),
    [(SUBSTATION, ("NS-NO1-00001", "NS-NO1-00002", "NS-NO1-00003", "NS-NO1-00004")),
     (FEEDER, ("NS-NO1-00001", "NS-NO1-00002", "NS-NO1-00003", "NS-NO1-00004")),
     (TN, (TN,)),
     (IT, (IT,))],
)  # fmt: skip
def test_an_outage_strikes_every_meter_beneath_its_target(
    grid: Grid, target: str, transformers: tuple[str, ...]
) -> None:
    text = rates() + fault("outage", target, "2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z")
    plan = plan_of(text, grid)
    expected = sorted(m for t in transformers for m in meters_under(grid, t))
    (placed,) = plan.faults
    assert sorted(placed.meter_ids) == expected
    assert placed.transformer_ids == transformers
    assert sorted(plan.by_meter) == expected
    assert sorted(plan.events) == expected


def test_a_metering_point_fault_strikes_its_meter(grid: Grid) -> None:
    meter = grid.meters[5]
    text = rates() + fault("stuck_register", meter.metering_point_id, "2026-01-05T00:00:00Z",
                           "2026-01-06T00:00:00Z")  # fmt: skip
    plan = plan_of(text, grid)
    assert dict(plan.by_meter) == {meter.meter_id: [0]}
    assert plan.faults[0].level == "metering_point"
    assert dict(plan.events) == {}  # a stuck register raises no event


def test_touching_is_half_open(grid: Grid) -> None:
    meter = first_meter(grid, TN, 1)
    text = rates() + fault("silent", meter, "2026-01-06T00:00:00Z", "2026-01-06T06:00:00Z")
    text += fault("wrong_key", meter, "2026-01-07T00:00:00Z")
    plan = plan_of(text, grid)
    begin, stop = s("2026-01-06T00:00:00Z"), s("2026-01-06T06:00:00Z")
    assert plan.touching(meter, begin - 60, begin) == []
    assert [i for i, _ in plan.touching(meter, begin - 60, begin + 1)] == [0]
    assert [i for i, _ in plan.touching(meter, stop - 1, stop)] == [0]
    assert plan.touching(meter, stop, stop + 3600) == []
    far = s("2030-01-01T00:00:00Z")
    assert [i for i, _ in plan.touching(meter, far, far + 1)] == [1]  # no end: to the run's
    assert plan.touching("no such meter", begin, far) == []
    assert window_s(plan.faults[0]) == (begin, stop)
    assert window_s(plan.faults[1]) == (s("2026-01-07T00:00:00Z"), None)


def test_epoch_seconds_of_local_and_utc_times() -> None:
    assert epoch_s(datetime(2026, 1, 5, 14, tzinfo=UTC)) == s("2026-01-05T15:00:00+01:00")
    assert epoch_s(datetime(1970, 1, 1, 0, 0, 1, 999_999, tzinfo=UTC)) == 1


# --- parameters --------------------------------------------------------------------------------


def test_number_reads_numeric_parameters_as_float(grid: Grid) -> None:
    meter = first_meter(grid, TN, 3)
    text = rates() + fault("jumping_register", meter, "2026-01-06T11:00:00Z", jump_wh=5000)
    text += fault("clock_drift", meter, "2026-01-05T00:00:00Z", drift_s_per_day=-45)
    plan = plan_of(text, grid)
    jump = number(plan.faults[0].spec, "jump_wh")
    assert jump == 5000.0
    assert type(jump) is float
    assert number(plan.faults[1].spec, "drift_s_per_day") == -45.0
    replay = plan_of(rates() + fault("replay", meter, "2026-01-06T00:00:00Z"), grid)
    assert number(replay.faults[0].spec, "count") == 3.0  # the default


def test_number_refuses_a_parameter_that_is_not_a_number(grid: Grid) -> None:
    meter = first_meter(grid, TN, 3)
    plan = plan_of(rates() + fault("tamper", meter, "2026-01-06T00:00:00Z", type="meter_cover"),
                   grid)  # fmt: skip
    spec = plan.faults[0].spec
    with pytest.raises(TypeError, match="type is not a number: 'meter_cover'"):
        number(spec, "type")
    with pytest.raises(TypeError, match="rate is not a number: None"):
        number(spec, "rate")
    made = FaultSpec("voltage", TN, START, None, (("voltage_v", "230"),))
    with pytest.raises(TypeError):
        number(made, "voltage_v")


# --- events ------------------------------------------------------------------------------------


def events_of(plan: FaultPlan, meter_id: str) -> list[tuple[str, int, bool]]:
    return [(e.name, e.at_s, e.lost) for e in plan.events[meter_id]]


def test_an_outage_raises_power_down_at_its_start_and_power_up_after_its_end(grid: Grid) -> None:
    text = rates() + fault("outage", IT, "2026-01-05T14:00:00Z", "2026-01-05T16:30:00Z")
    plan = plan_of(text, grid)
    begin, stop = s("2026-01-05T14:00:00Z"), s("2026-01-05T16:30:00Z")
    delays = []
    for meter_id in meters_under(grid, IT):
        events = plan.events[meter_id]
        assert [e.name for e in events] == ["power_down", "power_up"]
        assert events[0].at_s == begin
        assert not events[1].lost
        assert all(e.meter_id == meter_id and e.fault_id == 0 for e in events)
        delays.append(events[1].at_s - stop)
    assert min(delays) >= 30
    assert max(delays) <= 90
    assert len(set(delays)) > 10  # each meter takes its own time to come back


@pytest.mark.parametrize(
    ("section", "own", "low", "high"),
    [
        ("", None, 0.0, 0.25),  # the default, 0.1
        ("[outages]\nlast_gasp_loss_rate = 0.5\n", None, 0.35, 0.65),
        ("[outages]\nlast_gasp_loss_rate = 0.5\n", 1.0, 1.0, 1.0),
        ("[outages]\nlast_gasp_loss_rate = 0.5\n", 0.0, 0.0, 0.0),
    ],
)
def test_last_gasps_are_lost_at_the_rate_given(
    grid: Grid, section: str, own: float | None, low: float, high: float
) -> None:
    keys = {} if own is None else {"last_gasp_loss_rate": own}
    text = section + rates() + fault("outage", SUBSTATION, "2026-01-05T14:00:00Z",
                                     "2026-01-05T15:00:00Z", **keys)  # fmt: skip
    plan = plan_of(text, grid)
    gasps = [e for events in plan.events.values() for e in events if e.name == "power_down"]
    assert len(gasps) == len(grid.meters)
    share = sum(e.lost for e in gasps) / len(gasps)
    assert low <= share <= high
    assert not [
        e for events in plan.events.values() for e in events if e.name == "power_up" and e.lost
    ]


def test_an_earth_fault_is_detected_and_cleared_at_every_meter(grid: Grid) -> None:
    point = next(p for p in grid.metering_points if p.transformer_id == IT)
    text = rates() + fault("earth_fault", IT, "2026-01-07T05:30:00Z", "2026-01-07T11:00:00Z")
    text += fault("earth_fault", point.metering_point_id, "2026-01-08T05:30:00Z")
    plan = plan_of(text, grid)
    begin, stop = s("2026-01-07T05:30:00Z"), s("2026-01-07T11:00:00Z")
    for meter_id in meters_under(grid, IT):
        events = [e for e in plan.events[meter_id] if e.fault_id == 0]
        assert [e.name for e in events] == ["earth_fault_detected", "earth_fault_cleared"]
        assert begin <= events[0].at_s <= begin + 5
        assert stop <= events[1].at_s <= stop + 5
    (meter_id,) = plan.faults[1].meter_ids
    assert [e.name for e in plan.events[meter_id] if e.fault_id == 1] == ["earth_fault_detected"]
    for meter_id in meters_under(grid, TN):
        assert meter_id not in plan.events


@pytest.mark.parametrize("kind", sorted(TAMPER_EVENTS))
def test_tampering_raises_its_own_pair_of_events(grid: Grid, kind: str) -> None:
    meter = first_meter(grid, TN, 1)
    text = rates() + fault("tamper", meter, "2026-01-06T13:00:00Z", "2026-01-06T13:10:00Z",
                           type=kind)  # fmt: skip
    plan = plan_of(text, grid)
    opened, closed = TAMPER_EVENTS[kind]
    assert events_of(plan, meter) == [
        (opened, s("2026-01-06T13:00:00Z"), False),
        (closed, s("2026-01-06T13:10:00Z"), False),
    ]


@pytest.mark.parametrize(
    ("volts", "word"),
    [
        (198.0, "undervoltage"),
        (206.9, "undervoltage"),
        (253.1, "overvoltage"),
        (262, "overvoltage"),
    ],
)
@pytest.mark.parametrize("phases", [1, 3])
def test_a_voltage_outside_the_limits_raises_one_event_per_phase(
    grid: Grid, volts: float, word: str, phases: int
) -> None:
    meter = first_meter(grid, TN, phases)
    point = next(m.metering_point_id for m in grid.meters if m.meter_id == meter)
    text = rates() + fault("voltage", point, "2026-01-05T17:00:00Z", "2026-01-05T19:00:00Z",
                           voltage_v=volts)  # fmt: skip
    plan = plan_of(text, grid)
    begin, stop = s("2026-01-05T17:00:00Z"), s("2026-01-05T19:00:00Z")
    events = plan.events[meter]
    raised = sorted(e.name for e in events if begin < e.at_s <= begin + 60)
    assert raised == [f"{word}_l{phase}" for phase in range(1, phases + 1)]
    assert "voltage_normal" in [e.name for e in events if stop < e.at_s <= stop + 60]
    assert [e.at_s for e in events] == sorted(e.at_s for e in events)


def test_a_three_phase_meter_reports_every_phase_back_to_normal(grid: Grid) -> None:
    meter = first_meter(grid, TN, 3)
    point = next(m.metering_point_id for m in grid.meters if m.meter_id == meter)
    text = rates() + fault("voltage", point, "2026-01-05T17:00:00Z", "2026-01-05T19:00:00Z",
                           voltage_v=198.0)  # fmt: skip
    plan = plan_of(text, grid)
    stop = s("2026-01-05T19:00:00Z")
    back = sorted(e.name for e in plan.events[meter] if e.at_s > stop)
    assert back == ["voltage_normal", "voltage_normal_l2", "voltage_normal_l3"]


@pytest.mark.parametrize("volts", [207.0, 230.0, 253.0])
def test_a_voltage_within_the_limits_raises_nothing(grid: Grid, volts: float) -> None:
    text = rates() + fault("voltage", TN, "2026-01-05T17:00:00Z", "2026-01-05T19:00:00Z",
                           voltage_v=volts)  # fmt: skip
    plan = plan_of(text, grid)
    assert sorted(plan.by_meter) == sorted(meters_under(grid, TN))
    assert dict(plan.events) == {}


def test_clock_drift_is_adjusted_at_its_end_only_if_it_ends(grid: Grid) -> None:
    meter = first_meter(grid, TN, 1)
    other = first_meter(grid, TN, 3)
    text = rates() + fault("clock_drift", meter, "2026-01-05T00:00:00Z", "2026-01-10T08:00:00Z",
                           drift_s_per_day=-45.0)  # fmt: skip
    text += fault("clock_drift", other, "2026-01-05T00:00:00Z", drift_s_per_day=30.0)
    plan = plan_of(text, grid)
    assert events_of(plan, meter) == [("clock_adjusted", s("2026-01-10T08:00:00Z"), False)]
    assert other not in plan.events


@pytest.mark.parametrize(
    ("kind", "keys"),
    [("silent", {}), ("jumping_register", {"jump_wh": 1000}), ("replay", {"count": 2}),
     ("corrupt", {"rate": 0.5}), ("wrong_key", {})],
)  # fmt: skip
def test_faults_a_meter_does_not_notice_raise_no_event(
    grid: Grid, kind: str, keys: dict[str, object]
) -> None:
    meter = first_meter(grid, TN, 1)
    plan = plan_of(rates() + fault(kind, meter, "2026-01-06T00:00:00Z", **keys), grid)
    assert dict(plan.by_meter) == {meter: [0]}
    assert dict(plan.events) == {}


def test_a_meter_s_events_are_in_time_order_across_faults(grid: Grid) -> None:
    meter = first_meter(grid, IT, 3)
    point = next(m.metering_point_id for m in grid.meters if m.meter_id == meter)
    text = (
        rates()
        + fault("tamper", meter, "2026-01-08T10:00:00Z", "2026-01-08T12:00:00Z",
                type="magnetic_field")
        + fault("outage", IT, "2026-01-06T10:00:00Z", "2026-01-06T11:00:00Z")
        + fault("earth_fault", point, "2026-01-07T10:00:00Z", "2026-01-07T10:30:00Z")
        + fault("voltage", point, "2026-01-05T10:00:00Z", "2026-01-05T10:30:00Z",
                voltage_v=260.0)
    )  # fmt: skip
    plan = plan_of(text, grid)
    events = plan.events[meter]
    assert [e.at_s for e in events] == sorted(e.at_s for e in events)
    # three phases: three alarms and three back-to-normal events for the voltage fault
    assert [e.fault_id for e in events] == [3, 3, 3, 3, 3, 3, 1, 1, 2, 2, 0, 0]


def test_a_scenario_keeps_its_own_outage_loss_rate_in_the_plan(grid: Grid) -> None:
    scenario = parse_scenario(
        "[outages]\nlast_gasp_loss_rate = 0.25\n"
        + rates()
        + fault("outage", TN, "2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z")
    )
    plan = plan_faults(scenario, grid, START, DAYS_30, 1)
    assert number(plan.faults[0].spec, "last_gasp_loss_rate") == 0.25

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.errors import InputError
from openams.sim import Grid, build_grid
from openams.sim.scenario import (
    DEFAULT_SCENARIO,
    FAULT_KINDS,
    Fault,
    FaultSpec,
    Radio,
    RandomFaults,
    Scenario,
    ScenarioError,
    parse_scenario,
    read_scenario,
    resolve_faults,
)

DOCS = Path(__file__).resolve().parents[3] / "docs"
EXAMPLE = DOCS / "scenario-example.toml"

# Ids of build_grid(meters=300, area="NO1", seed=1): one primary substation, one feeder,
# four secondary substations (00001 and 00003 TN, 00002 and 00004 IT).
SUBSTATION = "TS-NO1-001"
FEEDER = "TS-NO1-001-F01"
TN_TRANSFORMER = "NS-NO1-00001"
IT_TRANSFORMER = "NS-NO1-00002"
POINT_TN = "707057500000000018"  # on NS-NO1-00001
METER_TN = "7359992899083394"  # at 707057500000000018
POINT_IT = "707057500000000551"  # first metering point of NS-NO1-00002


@pytest.fixture(scope="module")
def grid() -> Grid:
    return build_grid(meters=300, area="NO1", seed=1)


def fault_text(kind: str, target: str = METER_TN, **keys: str) -> str:
    """A [[fault]] entry; values in ``keys`` are TOML text; start defaults to 5 Jan 14:00."""
    body = {"start": "2026-01-05T14:00:00+01:00", **keys}
    lines = ["[[fault]]", f'kind = "{kind}"', f'target = "{target}"']
    lines += [f"{key} = {value}" for key, value in body.items() if value != "-"]
    return "\n".join(lines) + "\n"


def error_of(text: str, source: str = "scenario.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source)
    return info.value


# --- defaults --------------------------------------------------------------------------------


def test_default_scenario_has_the_documented_defaults() -> None:
    assert DEFAULT_SCENARIO.radio == Radio(0.003, 0.001, 0.0005, (1.0, 12.0), 50)
    assert DEFAULT_SCENARIO.last_gasp_loss_rate == 0.1
    assert DEFAULT_SCENARIO.random == RandomFaults(2.0, 0.5, 0.5, 0.2, 0.1, 1.0, 0.3, 0.5, 0.5)
    assert DEFAULT_SCENARIO.faults == ()


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n\n", "[radio]\n[random]\n"])
def test_an_empty_file_is_the_default_scenario(text: str) -> None:
    scenario = parse_scenario(text, "empty.toml")
    assert scenario == dataclasses.replace(DEFAULT_SCENARIO, source="empty.toml")


def test_sections_override_only_the_keys_they_give() -> None:
    scenario = parse_scenario(
        "[radio]\nloss_rate = 0.2\nlate_delay_h = [0.5, 3]\n"
        "[outages]\nlast_gasp_loss_rate = 0.25\n"
        "[random]\ntampering = 4\n"
    )
    assert scenario.radio == Radio(loss_rate=0.2, late_delay_h=(0.5, 3.0))
    assert scenario.last_gasp_loss_rate == 0.25
    assert scenario.random == RandomFaults(tampering=4.0)
    assert isinstance(scenario.random.tampering, float)


# --- every fault kind --------------------------------------------------------------------------

END = "2026-01-05T16:30:00+01:00"
START_UTC = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
END_UTC = datetime(2026, 1, 5, 15, 30, tzinfo=UTC)

KIND_CASES = [
    # kind, extra keys, expected end, expected params
    ("outage", {"end": END}, END_UTC, (("last_gasp_loss_rate", 0.1),)),
    ("silent", {}, None, ()),
    ("stuck_register", {"end": END}, END_UTC, ()),
    ("jumping_register", {}, None, (("jump_wh", 1_000_000),)),
    ("clock_drift", {"drift_s_per_day": "12.5"}, None, (("drift_s_per_day", 12.5),)),
    ("replay", {}, None, (("count", 3),)),
    ("corrupt", {}, None, (("rate", 1.0),)),
    ("wrong_key", {}, None, ()),
    ("earth_fault", {}, None, ()),
    ("tamper", {"type": '"meter_cover"'}, None, (("type", "meter_cover"),)),
    ("voltage", {"end": END, "voltage_v": "198"}, END_UTC, (("voltage_v", 198.0),)),
]


def test_the_cases_cover_every_kind() -> None:
    assert sorted(case[0] for case in KIND_CASES) == list(FAULT_KINDS)
    assert len(FAULT_KINDS) == 11


@pytest.mark.parametrize(("kind", "keys", "end", "params"), KIND_CASES)
def test_every_kind_parses_with_its_defaults(
    kind: str, keys: dict[str, str], end: datetime | None, params: tuple[tuple[str, object], ...]
) -> None:
    text = "# a comment first\n\n" + fault_text(kind, **keys)
    (spec,) = parse_scenario(text).faults
    assert spec == FaultSpec(kind, METER_TN, START_UTC, end, params, line=3)


def test_an_outage_takes_the_files_last_gasp_rate_unless_it_gives_its_own() -> None:
    text = (
        fault_text("outage", end=END)
        + fault_text("outage", end=END, last_gasp_loss_rate="0.75")
        + "[outages]\nlast_gasp_loss_rate = 0.3\n"
    )
    first, second = parse_scenario(text).faults
    assert first.param("last_gasp_loss_rate") == 0.3
    assert second.param("last_gasp_loss_rate") == 0.75


def test_optional_params_override_their_defaults() -> None:
    text = (
        fault_text("jumping_register", jump_wh="99_999_000")
        + fault_text("replay", count="1000")
        + fault_text("corrupt", rate="0", end=END)
        + fault_text("clock_drift", drift_s_per_day="-3600", end=END)
    )
    jump, replay, corrupt, drift = parse_scenario(text).faults
    assert jump.param("jump_wh") == 99_999_000
    assert replay.param("count") == 1000
    assert corrupt.param("rate") == 0.0
    assert corrupt.end == END_UTC
    assert drift.param("drift_s_per_day") == -3600.0
    assert drift.end == END_UTC


def test_param_gives_the_default_for_a_key_the_fault_lacks() -> None:
    spec = FaultSpec("outage", METER_TN, START_UTC, END_UTC)
    assert spec.param("last_gasp_loss_rate") is None
    assert spec.param("last_gasp_loss_rate", 0.5) == 0.5


def test_faults_keep_file_order_and_header_lines() -> None:
    text = (
        "[radio]\njitter_s = 10\n\n"  # lines 1-3
        + fault_text("silent")  # header at line 4
        + "\n"
        + fault_text("wrong_key")  # header at line 9
        + "[random]\nclock_drift = 0\n"
        + fault_text("replay")  # header at line 15
    )
    faults = parse_scenario(text).faults
    assert [(f.kind, f.line) for f in faults] == [("silent", 4), ("wrong_key", 9), ("replay", 15)]


# --- times -----------------------------------------------------------------------------------


def test_local_date_times_are_oslo_wall_clock() -> None:
    text = fault_text("silent", start="2026-01-15T08:00:00") + fault_text(
        "silent", start="2026-07-15T08:00:00"
    )
    winter, summer = parse_scenario(text).faults
    assert winter.start == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)  # +01:00
    assert summer.start == datetime(2026, 7, 15, 6, 0, tzinfo=UTC)  # +02:00
    assert winter.start.tzinfo is UTC
    assert summer.start.tzinfo is UTC


def test_offset_date_times_are_kept_exactly_and_stored_in_utc() -> None:
    (spec,) = parse_scenario(
        fault_text("silent", start="2026-03-29T01:59:59.5-05:30", end="2026-03-29T07:30:00Z")
    ).faults
    expected = datetime(2026, 3, 29, 1, 59, 59, 500000, tzinfo=timezone(-timedelta(hours=5.5)))
    assert spec.start == expected
    assert spec.start.utcoffset() == timedelta(0)
    assert spec.end == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)


def test_a_local_time_the_clocks_skip_is_an_error() -> None:
    # 29 March 2026: Norwegian clocks go from 02:00 straight to 03:00.
    error = error_of("\n" + fault_text("silent", start="2026-03-29T02:30:00"))
    assert error.line == 5
    assert "does not exist in Europe/Oslo" in str(error)


def test_a_local_time_that_happens_twice_is_an_error() -> None:
    # 25 October 2026: Norwegian clocks go back from 03:00 to 02:00.
    error = error_of(fault_text("silent", start="2026-10-25T02:30:00"))
    assert error.line == 4
    assert "happens twice" in str(error)


def test_an_hour_after_the_change_is_fine() -> None:
    (spec,) = parse_scenario(fault_text("silent", start="2026-10-25T03:30:00")).faults
    assert spec.start == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


# --- errors, each with its line ------------------------------------------------------------


def test_errors_are_input_errors_with_source_and_line() -> None:
    error = error_of("[radio]\nloss_rate = 1.5\n")
    assert isinstance(error, InputError)
    assert error.source == "scenario.toml"
    assert error.line == 2
    assert str(error) == "scenario.toml:2: radio.loss_rate must be between 0 and 1, got 1.5"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("[radio]\nloss_rate = \n", 2, "invalid TOML: Invalid value (column 13)"),
        ("[radio]\njitter_s = 1\n[radio\n", 3, "invalid TOML"),
        ('[radio]\n\nloss_rate = "0.1\n', 3, "invalid TOML"),
        ("[radio]\njitter_s = 1\njitter_s = 2\n", 3, "invalid TOML"),
    ],
)
def test_toml_syntax_errors_carry_tomllibs_line(text: str, line: int, fragment: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert fragment in str(error)
    assert "(at line" not in str(error)


def test_unknown_section() -> None:
    error = error_of("[radio]\nloss_rate = 0.1\n\n[radoi]\nloss_rate = 0.2\n")
    assert error.line == 4
    assert "unknown key 'radoi'; allowed: fault, outages, radio, random" in str(error)
    assert "did you mean 'radio'?" in str(error)


def test_a_misspelt_key_is_not_ignored() -> None:
    error = error_of("[radio]\n# how much gets lost\nloss_rate = 0.1\nlate_rat = 0.01\n")
    assert error.line == 4
    assert str(error).startswith("scenario.toml:4: radio: unknown key 'late_rat'; allowed: ")
    assert "duplicate_rate, jitter_s, late_delay_h, late_rate, loss_rate" in str(error)
    assert "did you mean 'late_rate'?" in str(error)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("loss_rate = 0.1\n", 1),
        ("[outages]\nlast_gasp = 0.1\n", 2),
        ("[random]\noutages = 1\n", 2),
    ],
)
def test_unknown_keys_in_every_section(text: str, line: int) -> None:
    error = error_of(text)
    assert error.line == line
    assert "unknown key" in str(error)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[radio]\nloss_rate = "0.1"\n', 2, 'radio.loss_rate must be a number, got "0.1"'),
        ("[radio]\n\njitter_s = true\n", 3, "radio.jitter_s must be a whole number, got true"),
        ("[radio]\njitter_s = 12.5\n", 2, "radio.jitter_s must be a whole number, got 12.5"),
        ("[radio]\nlate_delay_h = 6\n", 2, "radio.late_delay_h must be an array of two numbers"),
        ("[radio]\nlate_delay_h = [1, 2, 3]\n", 2, "must be an array of two numbers"),
        ('[outages]\nlast_gasp_loss_rate = "x"\n', 2, "must be a number"),
        ("radio = 3\n", 1, "radio must be a table [radio], got 3"),
        ("[fault]\nkind = 'outage'\n", 1, "fault must be an array of tables"),
        ("[random]\ntampering = [1]\n", 2, "random.tampering must be a number, got an array"),
    ],
)
def test_wrong_types(text: str, line: int, message: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert message in str(error)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[radio]\nloss_rate = -0.1\n", 2, "radio.loss_rate must be between 0 and 1, got -0.1"),
        ("[radio]\nduplicate_rate = nan\n", 2, "radio.duplicate_rate must be between 0 and 1"),
        ("[radio]\nlate_rate = 2\n", 2, "radio.late_rate must be between 0 and 1, got 2"),
        ("[radio]\njitter_s = 601\n", 2, "radio.jitter_s must be between 0 and 600, got 601"),
        ("[radio]\njitter_s = -1\n", 2, "radio.jitter_s must be between 0 and 600, got -1"),
        ("[radio]\nlate_delay_h = [0, 3]\n", 2, "radio.late_delay_h must be greater than 0"),
        ("[radio]\nlate_delay_h = [1, inf]\n", 2, "radio.late_delay_h must be greater than 0"),
        ("[radio]\nlate_delay_h = [12, 1]\n", 2, "min <= max, got [12, 1]"),
        ("[outages]\nlast_gasp_loss_rate = 1.01\n", 2, "outages.last_gasp_loss_rate must be"),
        ("[random]\nearth_faults = -1\n", 2, "random.earth_faults must be between 0 and 1000"),
        ("[random]\nclock_drift = inf\n", 2, "random.clock_drift must be between 0 and 1000"),
    ],
)
def test_out_of_range_values(text: str, line: int, message: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert message in str(error)


def test_a_multi_line_array_is_reported_at_its_key() -> None:
    error = error_of("[radio]\nlate_delay_h = [\n  1,\n  12,\n]\njitter_s = 700\n")
    assert error.line == 6  # the array's lines are not mistaken for keys
    error = error_of("[radio]\nlate_delay_h = [\n  12,\n  1,\n]\n")
    assert error.line == 2


def test_keys_inside_multi_line_strings_are_not_taken_for_keys() -> None:
    text = (
        '[[fault]]\nkind = "silent"\ntarget = """\nstart = 1\n[radio]\n"""\n'
        "start = 2026-01-05T14:00:00+01:00\nrate = 0.5\n"
    )
    error = error_of(text)
    assert error.line == 8
    assert "fault 1 (silent): unknown key 'rate'" in str(error)


def test_dotted_keys_are_found() -> None:
    error = error_of("# a comment\nradio.jitter_s = 900\n")
    assert error.line == 2
    assert "radio.jitter_s must be between 0 and 600" in str(error)


def test_unknown_fault_kind() -> None:
    text = fault_text("silent") + "\n" + fault_text("outtage", end=END)
    error = error_of(text)
    assert error.line == 7
    assert 'fault 2: unknown kind "outtage"; one of clock_drift, corrupt, ' in str(error)
    assert "did you mean 'outage'?" in str(error)


def test_a_fault_without_a_kind() -> None:
    error = error_of("\n[[fault]]\ntarget = 'NS-NO1-00001'\n")
    assert error.line == 2
    assert "fault 1 needs 'kind'" in str(error)


def test_an_unknown_key_in_a_fault_lists_that_kinds_keys() -> None:
    error = error_of(fault_text("replay", counts="4"))
    assert error.line == 5
    assert "fault 1 (replay): unknown key 'counts'; allowed: count, kind, start, target" in str(
        error
    )


@pytest.mark.parametrize("kind", ["jumping_register", "replay"])
def test_kinds_without_an_end_refuse_one(kind: str) -> None:
    error = error_of(fault_text(kind, end=END))
    assert error.line == 5
    assert f"fault 1 ({kind}): unknown key 'end'" in str(error)


@pytest.mark.parametrize(
    ("kind", "keys", "missing"),
    [
        ("silent", {"start": "-"}, "start"),
        ("outage", {}, "end"),
        ("stuck_register", {}, "end"),
        ("voltage", {"voltage_v": "250"}, "end"),
        ("voltage", {"end": END}, "voltage_v"),
        ("clock_drift", {}, "drift_s_per_day"),
        ("tamper", {}, "type"),
    ],
)
def test_missing_keys_are_reported_at_the_fault_header(
    kind: str, keys: dict[str, str], missing: str
) -> None:
    text = "[radio]\njitter_s = 5\n\n" + fault_text("silent") + fault_text(kind, **keys)
    error = error_of(text)
    assert error.line == 8
    assert str(error) == f"scenario.toml:8: fault 2 ({kind}) needs {missing!r}"


def test_a_fault_without_a_target() -> None:
    error = error_of('[[fault]]\nkind = "silent"\nstart = 2026-01-05T14:00:00+01:00\n')
    assert error.line == 1
    assert "fault 1 (silent) needs 'target'" in str(error)


@pytest.mark.parametrize(
    ("keys", "line", "message"),
    [
        ({"end": "2026-01-05T14:00:00+01:00"}, 5, "end 2026-01-05T14:00:00+01:00 must be after"),
        ({"end": "2026-01-05T13:59:59+01:00"}, 5, "must be after start"),
        ({"end": "2026-01-05T14:00:00"}, 5, "must be after start"),  # the same instant
    ],
)
def test_end_must_be_after_start(keys: dict[str, str], line: int, message: str) -> None:
    error = error_of(fault_text("silent", **keys))
    assert error.line == line
    assert message in str(error)


@pytest.mark.parametrize(
    ("kind", "keys", "line", "message"),
    [
        ("silent", {"start": "2026-01-05"}, 4, "start must be a date and time"),
        ("silent", {"start": '"2026-01-05T14:00:00"'}, 4, "start must be a date and time"),
        ("silent", {"start": "14:00:00"}, 4, "start must be a date and time"),
        ("outage", {"end": END, "last_gasp_loss_rate": "2"}, 6, "must be between 0 and 1, got 2"),
        ("jumping_register", {"jump_wh": "0"}, 5, "jump_wh must be greater than 0, got 0"),
        ("jumping_register", {"jump_wh": "1e6"}, 5, "jump_wh must be a whole number"),
        ("clock_drift", {"drift_s_per_day": "0"}, 5, "drift_s_per_day must not be 0"),
        ("clock_drift", {"drift_s_per_day": "3600.5"}, 5, "between -3600 and 3600, got 3600.5"),
        ("clock_drift", {"drift_s_per_day": '"fast"'}, 5, "must be a number"),
        ("replay", {"count": "0"}, 5, "count must be between 1 and 1000, got 0"),
        ("replay", {"count": "1001"}, 5, "count must be between 1 and 1000, got 1001"),
        ("replay", {"count": "2.0"}, 5, "count must be a whole number, got 2.0"),
        ("corrupt", {"rate": "1.5"}, 5, "rate must be between 0 and 1, got 1.5"),
        ("tamper", {"type": '"lid"'}, 5, "type must be one of magnetic_field, meter_cover"),
        ("tamper", {"type": "1"}, 5, "type must be one of"),
        ("voltage", {"end": END, "voltage_v": "149.9"}, 6, "between 150 and 300, got 149.9"),
        ("voltage", {"end": END, "voltage_v": "301"}, 6, "between 150 and 300, got 301"),
    ],
)
def test_bad_fault_values_are_reported_at_their_key(
    kind: str, keys: dict[str, str], line: int, message: str
) -> None:
    error = error_of(fault_text(kind, **keys))
    assert error.line == line
    assert f"fault 1 ({kind}): " in str(error)
    assert message in str(error)


def test_a_target_must_be_a_string() -> None:
    error = error_of('[[fault]]\nkind = "silent"\ntarget = 42\nstart = 2026-01-05T14:00:00Z\n')
    assert error.line == 3
    assert "target must be an id" in str(error)


def test_fault_errors_count_faults_and_lines_across_the_file() -> None:
    text = (
        fault_text("silent")  # lines 1-4
        + "[radio]\nloss_rate = 0.01\n"  # lines 5-6
        + fault_text("corrupt")  # lines 7-10
        + fault_text("corrupt", rate="-1")  # lines 11-15
    )
    error = error_of(text)
    assert str(error).startswith("scenario.toml:15: fault 3 (corrupt): rate must be between")


# --- reading files ---------------------------------------------------------------------------


def test_read_scenario_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text("[radio]\njitter_s = 5\n\n[radio2]\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_scenario(path)
    assert info.value.source == str(path)
    assert info.value.line == 4
    path.write_text("[radio]\njitter_s = 5\n", encoding="utf-8")
    scenario = read_scenario(path)
    assert scenario.radio.jitter_s == 5
    assert scenario.source == str(path)


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the scenario") as info:
        read_scenario(tmp_path / "nowhere.toml")
    assert info.value.source == str(tmp_path / "nowhere.toml")
    assert info.value.line is None


def test_a_file_that_is_not_utf8_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes("[radio]\n# r\xf8d\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8") as info:
        read_scenario(path)
    assert info.value.line == 2


# --- resolving against the grid ----------------------------------------------------------------


def resolve_one(grid: Grid, text: str) -> Fault:
    (fault,) = resolve_faults(parse_scenario(text, "scenario.toml"), grid)
    return fault


def test_each_level_resolves_to_its_meters_in_grid_order(grid: Grid) -> None:
    point_of = {m.meter_id: m.metering_point_id for m in grid.meters}
    transformer_of = {p.metering_point_id: p.transformer_id for p in grid.metering_points}
    everything = tuple(m.meter_id for m in grid.meters)
    under_tn = tuple(m for m in everything if transformer_of[point_of[m]] == TN_TRANSFORMER)

    fault = resolve_one(grid, fault_text("outage", SUBSTATION, end=END))
    assert (fault.level, fault.meter_ids) == ("substation", everything)
    assert fault.transformer_ids == tuple(sorted(t.transformer_id for t in grid.transformers))
    fault = resolve_one(grid, fault_text("outage", FEEDER, end=END))
    assert (fault.level, fault.meter_ids) == ("feeder", everything)
    fault = resolve_one(grid, fault_text("outage", TN_TRANSFORMER, end=END))
    assert (fault.level, fault.meter_ids) == ("transformer", under_tn)
    assert fault.transformer_ids == (TN_TRANSFORMER,)
    assert 20 <= len(under_tn) < len(everything)
    fault = resolve_one(grid, fault_text("silent", POINT_TN))
    assert (fault.level, fault.meter_ids, fault.transformer_ids) == (
        "metering_point",
        (METER_TN,),
        (TN_TRANSFORMER,),
    )
    fault = resolve_one(grid, fault_text("silent", METER_TN))
    assert (fault.level, fault.meter_ids, fault.transformer_ids) == (
        "meter",
        (METER_TN,),
        (TN_TRANSFORMER,),
    )


def test_an_unknown_target_is_reported_at_its_fault(grid: Grid) -> None:
    scenario = parse_scenario(
        fault_text("silent") + "\n" + fault_text("outage", "NS-NO1-00099", end=END),
        "scenario.toml",
    )
    with pytest.raises(ScenarioError) as info:
        resolve_faults(scenario, grid)
    assert info.value.line == 6
    assert str(info.value).startswith(
        "scenario.toml:6: fault 2 (outage): NS-NO1-00099 is not in the grid"
    )


@pytest.mark.parametrize(
    ("kind", "target", "keys", "what"),
    [
        ("silent", TN_TRANSFORMER, {}, "a secondary substation"),
        ("tamper", FEEDER, {"type": '"meter_cover"'}, "a feeder"),
        ("replay", SUBSTATION, {}, "a primary substation"),
        ("earth_fault", METER_TN, {}, "a meter"),
        ("voltage", FEEDER, {"end": END, "voltage_v": "200"}, "a feeder"),
    ],
)
def test_a_target_of_the_wrong_level_is_refused(
    grid: Grid, kind: str, target: str, keys: dict[str, str], what: str
) -> None:
    scenario = parse_scenario("\n\n" + fault_text(kind, target, **keys), "scenario.toml")
    with pytest.raises(ScenarioError) as info:
        resolve_faults(scenario, grid)
    assert info.value.line == 3
    assert f"fault 1 ({kind}): {target} is {what}; {kind} faults target a " in str(info.value)


def test_an_earth_fault_in_a_tn_grid_is_refused(grid: Grid) -> None:
    text = (
        fault_text("earth_fault", IT_TRANSFORMER)
        + fault_text("silent")
        + "\n" * 11
        + fault_text("earth_fault", TN_TRANSFORMER)
    )
    with pytest.raises(ScenarioError) as info:
        resolve_faults(parse_scenario(text, "scenario.toml"), grid)
    assert str(info.value) == (
        "scenario.toml:20: fault 3 (earth_fault): NS-NO1-00001 is a TN grid; "
        "earth faults are registered in IT grids"
    )


def test_earth_faults_at_metering_points_follow_their_grid_type(grid: Grid) -> None:
    fault = resolve_one(grid, fault_text("earth_fault", POINT_IT))
    assert fault.level == "metering_point"
    assert fault.transformer_ids == (IT_TRANSFORMER,)
    with pytest.raises(ScenarioError, match=f"{POINT_TN} is on a TN grid"):
        resolve_one(grid, fault_text("earth_fault", POINT_TN))


def test_faults_drawn_at_random_resolve_without_a_line(grid: Grid) -> None:
    spec = FaultSpec("outage", IT_TRANSFORMER, START_UTC, END_UTC)
    scenario = dataclasses.replace(DEFAULT_SCENARIO, faults=(spec,))
    (fault,) = resolve_faults(scenario, grid)
    assert fault.spec is spec
    assert fault.transformer_ids == (IT_TRANSFORMER,)
    bad = dataclasses.replace(scenario, faults=(dataclasses.replace(spec, target="nope"),))
    with pytest.raises(ScenarioError) as info:
        resolve_faults(bad, grid)
    assert info.value.line is None


# --- the example and the documentation ---------------------------------------------------------


def test_the_example_file_parses_and_resolves_against_its_estate(grid: Grid) -> None:
    scenario = read_scenario(EXAMPLE)
    assert scenario.radio == DEFAULT_SCENARIO.radio
    assert scenario.random == DEFAULT_SCENARIO.random
    assert {spec.kind for spec in scenario.faults} == set(FAULT_KINDS)
    faults = resolve_faults(scenario, grid)
    assert len(faults) == len(scenario.faults)
    outage_levels = {f.level for f in faults if f.spec.kind == "outage"}
    assert outage_levels == {"substation", "feeder", "transformer", "metering_point", "meter"}
    assert all(f.meter_ids for f in faults)
    header_lines = [
        number
        for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").split("\n"), 1)
        if line == "[[fault]]"
    ]
    assert [f.spec.line for f in faults] == header_lines


def test_the_documentation_names_every_key_and_kind() -> None:
    page = (DOCS / "sim-scenario.md").read_text(encoding="utf-8")
    keys = [f.name for f in dataclasses.fields(Radio)] + [
        f.name for f in dataclasses.fields(RandomFaults)
    ]
    keys += ["last_gasp_loss_rate", "jump_wh", "drift_s_per_day", "count", "rate", "voltage_v"]
    keys += ["kind", "target", "start", "end", "type", "terminal_cover", "magnetic_field"]
    keys += list(FAULT_KINDS)
    missing = [key for key in keys if f"`{key}`" not in page]
    assert not missing, missing
    for section in ("[radio]", "[outages]", "[random]", "[[fault]]"):
        assert f"`{section}`" in page


def test_the_documented_example_is_the_example_file() -> None:
    page = (DOCS / "sim-scenario.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", page, flags=re.DOTALL)
    assert EXAMPLE.read_text(encoding="utf-8") in blocks
    for block in blocks:  # every snippet on the page is a valid scenario on its own
        parse_scenario(block, "sim-scenario.md")


# --- property ----------------------------------------------------------------------------------

shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False) | st.sampled_from([0, 1])
hours = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def radio_sections(draw: st.DrawFn) -> dict[str, object]:
    values: dict[str, object] = {}
    for key in ("loss_rate", "duplicate_rate", "late_rate"):
        if draw(st.booleans()):
            values[key] = draw(shares)
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(hours | st.integers(1, 1000), min_size=2, max_size=2)))
        values["late_delay_h"] = [low, high]
    if draw(st.booleans()):
        values["jitter_s"] = draw(st.integers(0, 600))
    return values


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return repr(value)


@given(radio_sections())
def test_any_valid_radio_section_round_trips(values: dict[str, object]) -> None:
    text = "[radio]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())
    radio = parse_scenario(text).radio
    expected = {**dataclasses.asdict(Radio()), **values}
    assert radio.loss_rate == expected["loss_rate"]
    assert radio.duplicate_rate == expected["duplicate_rate"]
    assert radio.late_rate == expected["late_rate"]
    assert radio.late_delay_h == tuple(expected["late_delay_h"])
    assert radio.jitter_s == expected["jitter_s"]
    assert isinstance(radio.late_delay_h, tuple)
    assert all(isinstance(x, float) for x in radio.late_delay_h)
    assert isinstance(radio.jitter_s, int)
    assert parse_scenario(text) == Scenario(radio=radio, source="<scenario>")


toml_pieces = st.sampled_from(
    [
        "[radio]", "[[fault]]", "[random]", "[outages]", "[fault.x]", "kind = ", '"outage"',
        "target = ", '"NS-NO1-00001"', "start = ", "end = ", "2026-01-05T14:00:00",
        "2026-03-29T02:30:00", "2026-01-05", "loss_rate = ", "late_delay_h = ", "jitter_s = ",
        "[", "]", "{", "}", ",", "=", '"""', "'''", '"', "#", "\n", "\r\n", " ", "1", "-1",
        "0.5", "nan", "inf", "true", "x.y = ", "count = ", "rate = ", "type = ", "\\",
    ]
)  # fmt: skip


@given(st.lists(toml_pieces | st.text(max_size=5), max_size=40).map("".join))
def test_any_text_gives_a_scenario_or_a_scenario_error(text: str) -> None:
    error: ScenarioError | None = None
    try:
        scenario = parse_scenario(text, "fuzz.toml")
    except ScenarioError as exc:
        error = exc
    if error is None:
        assert scenario.source == "fuzz.toml"
    else:
        assert error.source == "fuzz.toml"
        assert error.line is None or 1 <= error.line <= text.count("\n") + 1

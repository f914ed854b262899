"""``ams sim run`` end to end: a week of an estate with every kind of fault, checked against
its own ground truth, decoded as a head-end would, and run again to the byte."""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import re
import shutil
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from openams.cli import main
from openams.dlms import DecryptionError, KeyPair, PushDecoder, decode_event
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.fleet import TRUTH_COLUMNS
from openams.sim.load import fuse_limit_w
from openams.sim.run import RunSettings, read_load_profile, run_fleet

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "docs" / "scenario-example.toml"
START = date(2026, 1, 5)  # the example scenario's faults fall in this week
DAYS = 6
RESOLUTION_WH = {"aidon": 10, "kamstrup": 10, "kaifa": 1}  # register resolution on the wire


def _import_wh(push) -> int:
    """The A+ register of a list push (Kamstrup numbers its OBIS codes with B = 1)."""
    return next(v for k, (v, _) in push.values.items() if re.fullmatch(r"1-[01]:1\.8\.0\.255", k))


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estate")
    write_grid(build_grid(meters=300, area="NO1", seed=1), folder / "grid")
    return folder


@pytest.fixture(scope="module")
def run(estate):
    """The week, made by two worker processes; pushes, truth and summary."""
    out = estate / "two" / "pushes.jsonl"
    summary = run_fleet(
        RunSettings(estate / "grid", START, DAYS, scenario_path=SCENARIO, workers=2),
        out=out,
        truth_dir=estate / "two" / "truth",
    )
    return out, estate / "two" / "truth", summary


@pytest.fixture(scope="module")
def keys(estate):
    return {
        bytes.fromhex(r["system_title"]): KeyPair(bytes.fromhex(r["ek"]), bytes.fromhex(r["ak"]))
        for r in _csv(estate / "grid" / "meters.csv")
    }


@pytest.fixture(scope="module")
def decoded(run, keys):
    """Every line: (record, Push or the exception it raised)."""
    decoder = PushDecoder(keys=keys.get)
    results = []
    for line in run[0].read_text().splitlines():
        record = json.loads(line)
        try:
            results.append((record, decoder.decode(bytes.fromhex(record["hex"]))))
        except DecryptionError as exc:
            results.append((record, exc))
    return results


@pytest.fixture(scope="module")
def meters(estate):
    return {r["meter_id"]: r for r in _csv(estate / "grid" / "meters.csv")}


def test_same_seed_gives_the_same_bytes_with_one_worker_or_two(estate, run):
    out = estate / "one" / "pushes.jsonl"
    run_fleet(
        RunSettings(estate / "grid", START, DAYS, scenario_path=SCENARIO, workers=1),
        out=out,
        truth_dir=estate / "one" / "truth",
    )
    assert out.read_bytes() == run[0].read_bytes()
    for name in TRUTH_COLUMNS:
        assert (estate / "one" / "truth" / name).read_bytes() == (run[1] / name).read_bytes()


def test_another_seed_gives_other_pushes(estate):
    outs = []
    for seed in (1, 2):
        out = estate / f"seed{seed}.jsonl"
        run_fleet(RunSettings(estate / "grid", START, 1, seed=seed, workers=1), out=out)
        outs.append(out.read_bytes())
    assert outs[0] != outs[1]


def test_lines_are_json_in_arrival_order(decoded):
    arrivals = [record["at"] for record, _ in decoded]
    assert arrivals == sorted(arrivals)
    assert all(set(record) == {"at", "meter_id", "hex"} for record, _ in decoded)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a) for a in arrivals)


def test_only_the_damaged_pushes_fail_and_exactly_those(run, decoded):
    incidents = _csv(run[1] / "incidents.csv")
    damaged = Counter(
        r["meter_id"] for r in incidents if r["incident"] in ("corrupted", "wrong_key")
    )
    failed = Counter(record["meter_id"] for record, push in decoded if isinstance(push, Exception))
    assert damaged  # the scenario damages some
    assert failed == damaged
    assert run[2].counts["corrupted"] + run[2].counts["wrong_key"] == sum(failed.values())


def test_every_line_counted_once(run, decoded):
    counts = run[2].counts
    incidents = Counter(r["incident"] for r in _csv(run[1] / "incidents.csv"))
    events = [r for r in _csv(run[1] / "events.csv") if r["sent"] == "1" and r["lost"] == "0"]
    expected = (
        counts["list_pushes"]
        - incidents["lost"]
        + incidents["duplicated"]
        + incidents["replayed"]
        + len(events)
    )
    assert len(decoded) == run[2].pushes_written == expected


def test_ams_decode_reads_the_run(run, estate, tmp_path, capsys):
    lines = [json.loads(line)["hex"] for line in run[0].read_text().splitlines()[:3000]]
    (tmp_path / "pushes.hex").write_text("\n".join(lines) + "\n")
    code = main(["decode", "--keys", str(estate / "grid" / "meters.csv"),
                 str(tmp_path / "pushes.hex")])  # fmt: skip
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(results) == len(lines)
    bad = [r for r in results if not r["ok"]]
    assert {r["error"]["code"] for r in bad} <= {"auth_failed"}
    assert code == (1 if bad else 0)
    assert sum(r["ok"] for r in results) >= len(lines) - 20


def _list_pushes(decoded):
    """Per meter: {invocation counter: push} of the decoded list pushes (copies fold)."""
    by_meter = defaultdict(dict)
    for record, push in decoded:
        if isinstance(push, Exception) or decode_event(push) is not None:
            continue
        by_meter[record["meter_id"]][push.invocation_counter] = push
    return by_meter


def _fault_meters(truth: Path, *kinds: str) -> set[str]:
    ids = {r["fault_id"] for r in _csv(truth / "faults.csv") if r["kind"] in kinds}
    return {r["meter_id"] for r in _csv(truth / "fault_meters.csv") if r["fault_id"] in ids}


def test_registers_and_counters_only_grow_along_the_meter_clock(decoded, run):
    drifting = _fault_meters(run[1], "clock_drift")
    for meter_id, pushes in _list_pushes(decoded).items():
        ordered = sorted(pushes.items())
        assert len({p.time for _, p in ordered}) == len(ordered), meter_id
        times = [p.time for _, p in ordered]
        if meter_id not in drifting:
            assert times == sorted(times), meter_id
        registers = [_import_wh(p) for _, p in ordered]
        assert registers == sorted(registers), meter_id


def test_register_differences_are_the_true_interval_sums(decoded, run, meters):
    """Between two pushes of a meter, the truth adds up to what its registers say."""
    altered = _fault_meters(run[1], "stuck_register", "jumping_register", "clock_drift")
    starts = defaultdict(list)  # per meter: interval starts (epoch s) and running sums
    sums = defaultdict(lambda: [0])
    for row in _csv(run[1] / "intervals.csv"):
        starts[row["meter_id"]].append(datetime.fromisoformat(row["start"]).timestamp())
        sums[row["meter_id"]].append(sums[row["meter_id"]][-1] + int(row["import_wh"]))
    checked = 0
    for meter_id, pushes in _list_pushes(decoded).items():
        if meter_id in altered:
            continue
        resolution = RESOLUTION_WH[meters[meter_id]["manufacturer"].lower()]
        ordered = sorted(pushes.values(), key=lambda p: p.time)
        for before, after in itertools.pairwise(ordered):
            first = bisect.bisect_left(starts[meter_id], before.time.timestamp())
            last = bisect.bisect_left(starts[meter_id], after.time.timestamp())
            true_wh = sums[meter_id][last] - sums[meter_id][first]
            difference = _import_wh(after) - _import_wh(before)
            assert abs(difference - true_wh) < resolution, meter_id
            checked += 1
    assert checked > 10_000


def test_first_registers_are_those_in_the_truth(decoded, run, meters):
    starts = {r["meter_id"]: r for r in _csv(run[1] / "meters.csv")}
    first = {}
    for meter_id, pushes in _list_pushes(decoded).items():
        push = min(pushes.values(), key=lambda p: p.time)
        if push.time == datetime.fromisoformat(starts[meter_id]["start"]):
            first[meter_id] = push
    assert len(first) > 250
    for meter_id, push in first.items():
        resolution = RESOLUTION_WH[meters[meter_id]["manufacturer"].lower()]
        truth = int(starts[meter_id]["import_wh_start"])
        assert 0 <= truth - _import_wh(push) < resolution
        assert push.invocation_counter >= int(starts[meter_id]["invocation_counter_start"])


def test_no_interval_above_the_main_fuse(run):
    from openams.sim.csvio import read_grid

    grid = read_grid(run[0].parents[1] / "grid")
    limits = {p.metering_point_id: fuse_limit_w(p) for p in grid.metering_points}
    rows = _csv(run[1] / "intervals.csv")
    assert rows
    for row in rows:
        hours = int(row["interval_s"]) / 3600
        limit_wh = limits[row["metering_point_id"]] * hours + 1
        assert 0 <= int(row["import_wh"]) <= limit_wh
        assert 0 <= int(row["export_wh"]) <= limit_wh


def test_evening_uses_more_than_the_small_hours(run):
    by_hour = Counter()
    for row in _csv(run[1] / "intervals.csv"):
        hour = datetime.fromisoformat(row["start"]).hour  # UTC; Oslo is UTC+1 in January
        by_hour[hour] += int(row["import_wh"])
    assert by_hour[17] > 1.3 * by_hour[3]  # 18-19 local against 04-05 local


def test_every_scenario_fault_is_in_the_truth_with_its_line(run):
    text = SCENARIO.read_text().splitlines()
    headers = [n for n, line in enumerate(text, 1) if line.strip() == "[[fault]]"]
    faults = _csv(run[1] / "faults.csv")
    origins = {int(r["origin"].split(":")[1]) for r in faults if r["origin"] != "random"}
    assert origins == set(headers)
    placed = Counter(r["fault_id"] for r in _csv(run[1] / "fault_meters.csv"))
    for row in faults:
        assert int(row["meters"]) == placed[row["fault_id"]] > 0


def test_event_pushes_are_the_events_sent_and_not_lost(run, decoded):
    damaged = {
        (r["meter_id"], r["clock"])
        for r in _csv(run[1] / "incidents.csv")
        if r["incident"] in ("corrupted", "wrong_key")
    }
    expected = Counter(
        (r["meter_id"], r["event"])
        for r in _csv(run[1] / "events.csv")
        if r["sent"] == "1" and r["lost"] == "0" and (r["meter_id"], r["at"]) not in damaged
    )
    got = Counter()
    for record, push in decoded:
        if isinstance(push, Exception):
            continue
        event = decode_event(push)
        if event is not None:
            assert push.meter_id == record["meter_id"]
            got[(record["meter_id"], event[0].name)] += 1
    assert got == expected
    names = {name for _, name in got}
    assert {"power_down", "power_up", "earth_fault_detected"} <= names


def test_an_outage_silences_its_meters_and_stops_consumption(run, decoded):
    fault = next(r for r in _csv(run[1] / "faults.csv") if r["fault_id"] == "0")
    assert fault["kind"] == "outage"
    begin, end = datetime.fromisoformat(fault["start"]), datetime.fromisoformat(fault["end"])
    affected = {r["meter_id"] for r in _csv(run[1] / "fault_meters.csv") if r["fault_id"] == "0"}
    pushes = _list_pushes(decoded)
    for meter_id in affected:
        for push in pushes.get(meter_id, {}).values():
            assert not begin <= push.time < end
    inside = 0
    for row in _csv(run[1] / "intervals.csv"):
        start = datetime.fromisoformat(row["start"])
        stop = start.timestamp() + int(row["interval_s"])
        if row["meter_id"] in affected and begin <= start and stop <= end.timestamp():
            assert row["import_wh"] == "0"
            inside += 1
    assert inside >= len(affected)


def test_load_profile_holds_what_the_pushes_said_and_what_was_lost(estate, run, decoded):
    lost = [r for r in _csv(run[1] / "incidents.csv") if r["incident"] == "lost"]
    meter_id = lost[0]["meter_id"]
    settings = RunSettings(estate / "grid", START, DAYS, scenario_path=SCENARIO)
    profile = {e.clock: e for e in read_load_profile(settings, meter_id)}
    assert datetime.fromisoformat(lost[0]["clock"]) in profile
    pushes = _list_pushes(decoded)[meter_id].values()
    assert pushes
    for push in pushes:
        entry = profile[push.time]
        assert 0 <= entry.import_wh - _import_wh(push) < 10


def test_load_profile_of_an_unknown_meter_is_an_error(estate):
    settings = RunSettings(estate / "grid", START, 1)
    with pytest.raises(Exception, match="no meter 123"):
        read_load_profile(settings, "123")


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("[radio]\nloss_rate = 1.5\n", "scenario.toml:2"),
        ("[[fault]]\nkind = \"outage\"\ntarget = \"NS-XX\"\n"
         "start = 2026-01-05T10:00:00\nend = 2026-01-05T11:00:00\n", "scenario.toml:1"),
        ("[radio\n", "scenario.toml:1"),
    ],
)  # fmt: skip
def test_a_bad_scenario_names_its_line(estate, tmp_path, capsys, scenario, message):
    path = tmp_path / "scenario.toml"
    path.write_text(scenario)
    code = main(["sim", "run", "--grid", str(estate / "grid"), "--from", "2026-01-05",
                 "--days", "1", "--scenario", str(path), "--out", str(tmp_path / "o.jsonl"),
                 "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists() or not (tmp_path / "o.jsonl").read_bytes()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.jsonl", "--tcp", "127.0.0.1:1"], "exactly one of"),
        ([], "exactly one of"),
        (["--out", "x.jsonl", "--speed", "warp"], "speed"),
        (["--tcp", "nonsense"], "HOST:PORT"),
    ],
)
def test_usage_errors_exit_2(estate, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    code = main(["sim", "run", "--grid", str(estate / "grid"), "--from", "2026-01-05",
                 "--days", "1", "--quiet", *extra])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_damaged_estate_names_file_and_line(estate, tmp_path, capsys):
    shutil.copytree(estate / "grid", tmp_path / "grid")
    lines = (tmp_path / "grid" / "meters.csv").read_text().splitlines()
    lines[5] = lines[5].replace(",3600", ",sometimes").replace(",900", ",sometimes")
    (tmp_path / "grid" / "meters.csv").write_text("\n".join(lines) + "\n")
    code = main(["sim", "run", "--grid", str(tmp_path / "grid"), "--from", "2026-01-05",
                 "--days", "1", "--out", str(tmp_path / "o.jsonl"), "--quiet"])  # fmt: skip
    assert code == 2
    assert "meters.csv:6" in capsys.readouterr().err


def test_the_cli_summary_and_truth(estate, tmp_path, capsys):
    code = main(["sim", "run", "--grid", str(estate / "grid"), "--from", "2026-01-05",
                 "--days", "1", "--interval", "15", "--out", str(tmp_path / "p.jsonl"),
                 "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "300 meters sent" in out
    assert "faults injected" in out
    assert sorted(p.name for p in (tmp_path / "truth").iterdir()) == sorted(TRUTH_COLUMNS)
    intervals = _csv(tmp_path / "truth" / "intervals.csv")
    assert {r["interval_s"] for r in intervals} == {"900"}
    assert len(intervals) == 300 * 96


def test_profile_command_prints_csv(estate, capsys):
    meter_id = _csv(estate / "grid" / "meters.csv")[0]["meter_id"]
    code = main(["sim", "profile", "--grid", str(estate / "grid"), "--from", "2026-01-05",
                 "--days", "1", "--meter", meter_id, "--interval", "60"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == "clock,import_wh,export_wh,reactive_import_varh,reactive_export_varh"
    assert len(lines) == 1 + 25  # 00:00 to 24:00 local, hourly

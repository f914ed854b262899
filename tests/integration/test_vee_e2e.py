"""From pushes to validated values, against the simulator's ground truth, on SQLite and
PostgreSQL.

Four days of 300 meters with lost, late, duplicated and replayed pushes, wrong keys, outages,
stuck and jumping registers and drifting clocks, ingested and then validated as the morning
after the last day: every interval of every metering point has a value; every measured value
is the truth; every estimate between two known readings sums to the register difference and
so to the truth; registers the meter got wrong are never passed as measured.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from openams.cli import main
from openams.services.elhub_message import ObservationValue, parse_collected_data
from openams.services.vee import OSLO, local_day_bounds, run_vee
from openams.store import open_store
from openams.store.settlement import SqlSettlementStore
from openams.store.usage import values_arrays
from openams.store.vee import SqlVeeStore

from .conftest import _postgres_database

KEK = bytes(range(100, 132))
RESOLUTION_WH = {"Aidon": 10, "Kamstrup": 10, "Kaifa": 1}
DAYS = [date(2026, 1, 5) + timedelta(days=i) for i in range(4)]
MORNING_AFTER_S = local_day_bounds(date(2026, 1, 9))[0] + 7 * 3600  # 07:00, 9 January


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _s(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def validated(request, fleet, tmp_path_factory):
    folder, _ = fleet
    if request.param == "sqlite":
        databases = iter([f"sqlite:///{tmp_path_factory.mktemp('vee') / 'openams.db'}"])
    else:
        databases = _postgres_database()
    url = next(databases)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAMS_KEK", KEK.hex())
        assert main(["meters", "import", str(folder / "grid"), "--db", url]) == 0
        with contextlib.redirect_stdout(io.StringIO()):
            main(["ingest", str(folder / "pushes.jsonl"), "--db", url, "--quiet", "--no-vee"])
    store = open_store(url)
    try:
        report = run_vee(SqlVeeStore(store), DAYS, now_s=MORNING_AFTER_S)
        with store.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT metering_point_id, resolution_s, start_at_s, import_wh, export_wh, "
                "status, validation, estimation FROM interval_values"
            )).all()  # fmt: skip
            reads = connection.execute(sa.text(
                "SELECT m.metering_point_id, r.read_at_s, r.import_wh FROM register_reads r "
                "JOIN meters m ON m.meter_id = r.meter_id"
            )).all()  # fmt: skip
        yield folder, url, report, rows, reads
    finally:
        store.close()
        for _ in databases:
            pass


def _truth(folder: Path) -> dict[tuple[str, int], tuple[int, int]]:
    return {
        (r["metering_point_id"], _s(r["start"])): (int(r["import_wh"]), int(r["export_wh"]))
        for r in _csv(folder / "truth" / "intervals.csv")
    }


def _faulty(folder: Path, kinds: tuple[str, ...]) -> dict[str, list[tuple[int, int | None]]]:
    """Metering point -> (start, end) of its faults of these kinds."""
    faults = {r["fault_id"]: r for r in _csv(folder / "truth" / "faults.csv") if r["kind"] in kinds}
    out: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for row in _csv(folder / "truth" / "fault_meters.csv"):
        fault = faults.get(row["fault_id"])
        if fault is not None:
            end = _s(fault["end"]) if fault["end"] else None
            out[row["metering_point_id"]].append((_s(fault["start"]), end))
    return out


def test_every_interval_of_every_point_has_a_value(validated):
    folder, _, report, rows, _ = validated
    points = {r["metering_point_id"]: int(r["push_interval_s"])
              for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    start_s, end_s = local_day_bounds(DAYS[0])[0], local_day_bounds(DAYS[-1])[1]
    have = {(mp, start) for mp, _, start, *_ in rows}
    for mp, step in points.items():
        expected = {(mp, t) for t in range(start_s, end_s, step)}
        assert expected <= have, mp
    statuses = {status for *_, status, _, _ in rows}
    assert "missing" not in statuses
    assert report.by_status["measured"] > 0.9 * report.values  # the scenario has big outages


def test_the_daily_usage_settlement_reads_holds_every_validated_value(validated):
    # VEE writes back only what it changed; the measured values ingest wrote must be in the
    # daily usage all the same, exactly as the interval values are
    _, url, _, _, _ = validated
    store = open_store(url)
    try:
        settlements = SqlSettlementStore(store)
        ids = [p.metering_point_id for p in settlements.metering_points(None)]
        usage = settlements.month_arrays(ids, DAYS[0], DAYS[-1])
        with store.engine.connect() as connection:
            stored = values_arrays(connection, ids, DAYS[0], DAYS[-1])
    finally:
        store.close()
    assert set(usage) == set(stored) == set(ids)
    for mp in ids:
        assert usage[mp].import_wh.tolist() == stored[mp].import_wh.tolist(), mp
        assert usage[mp].estimated.tolist() == stored[mp].estimated.tolist(), mp
        assert int((usage[mp].import_wh < 0).sum()) == 0, mp  # every hour has a value


def test_every_measured_value_is_the_truth(validated):
    folder, _, _, rows, _ = validated
    truth = _truth(folder)
    makers = {r["metering_point_id"]: r["manufacturer"]
              for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    drifting = _faulty(folder, ("clock_drift",))
    # a register that stops or starts in the middle of an interval gives a plausible value:
    # no one can tell it from the truth, so those two intervals are left out
    edges = defaultdict(set)
    for mp, spans in _faulty(folder, ("stuck_register",)).items():
        for begin, end in spans:
            for at in (begin, end):
                if at is not None:
                    edges[mp].update({at - at % 900, at - at % 3600})
    checked = 0
    for mp, _, start, import_wh, export_wh, status, _, _ in rows:
        if status != "measured" or mp in drifting or start in edges[mp]:
            continue
        if (mp, start) not in truth:
            continue  # outside the simulated period
        true_import, true_export = truth[(mp, start)]
        tolerance = RESOLUTION_WH[makers[mp]]
        assert abs(import_wh - true_import) < tolerance, (mp, start, import_wh, true_import)
        assert abs(export_wh - true_export) < tolerance, (mp, start)
        checked += 1
    assert checked > 20_000


def test_stuck_and_jumping_registers_are_caught_and_estimated(validated):
    folder, _, _, rows, _ = validated
    stuck = _faulty(folder, ("stuck_register",))
    jumping = _faulty(folder, ("jumping_register",))
    assert stuck
    assert jumping
    by_point = defaultdict(dict)
    for mp, _, start, import_wh, _, status, validation, estimation in rows:
        by_point[mp][start] = (import_wh, status, validation, estimation)
    for mp, spans in stuck.items():
        for begin, end in spans:
            inside = [v for t, v in by_point[mp].items()
                      if begin + 3600 <= t and (end is None or t + 3600 <= end)]  # fmt: skip
            assert inside
            # (the example scenario also makes this register jump while it is stuck)
            wrong = [
                v
                for v in inside
                if v[1] == "measured" or v[2] not in ("stuck_register", "above_fuse")
            ]
            assert not wrong, (mp, wrong[:5])
            assert all(v[0] > 0 for v in inside)  # estimated, not the stuck zero
    for mp, spans in jumping.items():
        for begin, _ in spans:
            at = [v for t, v in by_point[mp].items() if t <= begin < t + 3600]
            assert at
            assert all(v[2] == "above_fuse" and v[1] != "measured" for v in at), mp


def test_lost_pushes_are_estimated_to_the_register_difference_and_the_truth(validated):
    folder, _, _, rows, reads = validated
    truth = _truth(folder)
    makers = {r["metering_point_id"]: r["manufacturer"]
              for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    steps = {r["metering_point_id"]: int(r["push_interval_s"])
             for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    register = {(mp, at): wh for mp, at, wh in reads}
    runs = defaultdict(list)  # consecutive register-difference estimates per point
    for mp, _, start, import_wh, _, status, _, estimation in sorted(rows, key=lambda r: r[:3]):
        if estimation != "register_difference":
            continue
        run = runs[mp]
        if run and run[-1][-1][0] + steps[mp] == start:
            run[-1].append((start, import_wh, status))
        else:
            run.append([(start, import_wh, status)])
    spans = [(mp, span) for mp, found in runs.items() for span in found]
    assert len(spans) > 20
    for mp, span in spans:
        first, last = span[0][0], span[-1][0] + steps[mp]
        total = sum(v for _, v, _ in span)
        assert total == register[(mp, last)] - register[(mp, first)], (mp, first)
        if all((mp, t) in truth for t, _, _ in span):
            true_total = sum(truth[(mp, t)][0] for t, _, _ in span)
            assert abs(total - true_total) < 2 * RESOLUTION_WH[makers[mp]], (mp, first)
        assert {status for _, _, status in span} == {"estimated"}


def test_a_meter_that_stays_silent_has_temporary_values(validated):
    folder, _, _, rows, _ = validated
    silent = _faulty(folder, ("silent",))
    assert silent
    last_day = local_day_bounds(DAYS[-1])
    for mp, spans in silent.items():
        for begin, end in spans:
            if end is not None and end < last_day[0]:
                continue
            values = [(status, estimation) for p, _, t, _, _, status, _, estimation in rows
                      if p == mp and max(begin + 3600, last_day[0]) <= t < last_day[1]]  # fmt: skip
            assert values
            assert {status for status, _ in values} == {"temporary"}, mp


def test_estimates_become_final_five_days_on_and_vee_leaves_them(validated):
    _, url, _, _, _ = validated
    store = open_store(url)
    try:
        later_s = local_day_bounds(date(2026, 1, 13))[0] + 7 * 3600  # D+5 of 8 January
        again = run_vee(SqlVeeStore(store), [DAYS[-1]], now_s=later_s)
        assert again.finalised > 0
        with store.engine.connect() as connection:
            statuses = dict(connection.execute(sa.text(
                "SELECT status, count(*) FROM interval_values GROUP BY status"
            )).all())  # fmt: skip
        assert "estimated" not in statuses
        assert "temporary" not in statuses
        assert statuses["final_estimated"] > 0
        assert run_vee(SqlVeeStore(store), DAYS, now_s=later_s).finalised == 0
        with store.engine.connect() as connection:
            after = dict(connection.execute(sa.text(
                "SELECT status, count(*) FROM interval_values GROUP BY status"
            )).all())  # fmt: skip
        assert after == statuses
    finally:
        store.close()


GLN = "7080010000002"


def test_the_elhub_export_has_every_point_complete_and_corrections_as_new_versions(
    validated, tmp_path, capsys
):
    folder, url, _, _, _ = validated
    out = tmp_path / "elhub"
    day = "2026-01-08"
    code = main(["export", "elhub", "--day", day, "--out", str(out), "--gln", GLN,
                 "--db", url, "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed  # every point has every value, measured or estimated
    assert "Elhub delivery of 2026-01-08" in printed
    messages = sorted(out.glob("CollectedData-2026-01-08-*.xml"))
    assert len(messages) == 1
    assert not list(out.glob(".*part"))  # nothing half-written left behind
    header, series = parse_collected_data(messages[0].read_bytes())
    assert header.sender_gln == GLN
    steps = {r["metering_point_id"]: int(r["push_interval_s"])
             for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    consumption = {s.metering_point_id: s for s in series if s.direction == "consumption"}
    assert set(consumption) == set(steps)
    start_s, end_s = local_day_bounds(date(2026, 1, 8))
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            stored = {(mp, t): (wh, status) for mp, t, wh, status in connection.execute(sa.text(
                "SELECT metering_point_id, start_at_s, import_wh, status FROM interval_values"
            ))}  # fmt: skip
    finally:
        store.close()
    for mp, s in consumption.items():
        assert len(s.values) == (end_s - start_s) // steps[mp]
        for i, value in enumerate(s.values):
            wh, status = stored[(mp, start_s + i * steps[mp])]
            assert value.status == status
            assert value.quantity_kwh == Decimal(wh) / 1000
    prosumers = {r["metering_point_id"] for r in _csv(folder / "grid" / "metering_points.csv")
                 if r["customer_type"] == "prosumer_solar"}  # fmt: skip
    assert prosumers
    assert prosumers <= {s.metering_point_id for s in series if s.direction == "production"}
    report = json.loads((out / "delivery-2026-01-08.json").read_text())
    assert report["series_sent"] == len(series)
    assert sum(report["metering_points"].values()) == len(steps)
    assert report["metering_points"]["missing"] == 0
    # the primary substation is out for 45 minutes that morning: every point has estimates
    assert report["metering_points"]["estimated"] == len(steps)
    assert report["on_time"] is False  # the day is long past

    # again: Elhub has it all, nothing is sent twice
    assert main(["export", "elhub", "--day", day, "--out", str(out), "--gln", GLN,
                 "--db", url, "--quiet"]) == 0  # fmt: skip
    again = json.loads((out / "delivery-2026-01-08.json").read_text())
    assert again["series_sent"] == 0
    assert again["unchanged"] == len(series)

    # an operator corrects one value: that series goes again, as version 2
    point = sorted(consumption)[0]
    at = datetime.fromtimestamp(start_s + 10 * 3600, OSLO)
    assert main(["values", "edit", "--mp", point, "--at", f"{at:%Y-%m-%dT%H:%M}",
                 "--import-kwh", "1.234", "--reason", "customer's own reading",
                 "--by", "operator-7", "--db", url]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["export", "elhub", "--day", day, "--out", str(out), "--gln", GLN,
                 "--db", url, "--quiet"]) == 0  # fmt: skip
    third = json.loads((out / "delivery-2026-01-08.json").read_text())
    assert (third["series_sent"], third["corrections"]) == (1, 1)
    newest = max(out.glob("CollectedData-2026-01-08-*.xml"), key=lambda p: p.stat().st_mtime_ns)
    _, (corrected,) = parse_collected_data(newest.read_bytes())
    index = (at.timestamp() - start_s) // steps[point]
    assert corrected.values[int(index)] == ObservationValue(Decimal("1.234"), "estimated")
    line = next(x for x in third["lines"] if x["metering_point_id"] == point)
    assert line["version"] == 2


def test_manual_edits_are_audited_and_vee_leaves_them(validated, capsys):
    _, url, _, _, _ = validated
    capsys.readouterr()
    assert main(["values", "edits", "--db", url]) == 0
    edits = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert edits
    edit = edits[-1]
    assert edit["edited_by"] == "operator-7"
    assert edit["reason"] == "customer's own reading"
    assert edit["new_import_wh"] == 1234
    assert edit["old_status"] in ("measured", "estimated", "final_estimated", "temporary")
    store = open_store(url)
    try:
        run_vee(SqlVeeStore(store), [date(2026, 1, 8)], now_s=MORNING_AFTER_S)
        with store.engine.connect() as connection:
            kept = connection.execute(sa.text(
                "SELECT import_wh, estimation FROM interval_values "
                "WHERE metering_point_id = :mp AND start_at_s = :t"
            ), {"mp": edit["metering_point_id"], "t": edit["start_at_s"]}).one()  # fmt: skip
        assert tuple(kept) == (1234, "manual")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--import-kwh", "-1"], "energy cannot be negative"),
        (["--import-kwh", "1.2345"], "not a whole number of Wh"),
        (["--import-kwh", "1", "--reason", " "], "an edit needs a reason"),
        (["--import-kwh", "1", "--at", "2026-01-08T10:07"], "must be on that grid"),
    ],
)
def test_a_bad_edit_is_refused_with_its_reason(validated, capsys, args, message):
    _, url, _, rows, _ = validated
    point = next(mp for mp, step, *_ in rows if step == 3600)
    base = {"--mp": point, "--at": "2026-01-08T10:00", "--reason": "test", "--import-kwh": "1"}
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value
    argv = ["values", "edit", "--db", url, *[x for kv in base.items() for x in kv]]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_ams_vee_run_validates_the_days_asked_for(validated, capsys):
    _, url, _, _, _ = validated
    capsys.readouterr()
    assert main(["vee", "run", "--day", "2026-01-06", "--db", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"VEE of 300 metering points, 2026-01-06: [\d,]+ values", out), out
    assert "by status:" in out
    assert "made final:" in out
    assert main(["vee", "run", "--from", "2026-01-05", "--to", "2026-01-06", "--db", url,
                 "--quiet"]) == 0  # fmt: skip
    assert "2026-01-05 .. 2026-01-06" in capsys.readouterr().out
    assert main(["vee", "run", "--db", url, "--quiet"]) == 0  # yesterday and today: no data
    assert "VEE of 300 metering points" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2026-01-06", "--from", "2026-01-05"], "not both"),
        (["--from", "2026-01-05"], "go together"),
        (["--from", "2026-01-06", "--to", "2026-01-05"], "before --from"),
    ],
)
def test_ams_vee_run_refuses_a_muddled_period(validated, capsys, args, message):
    _, url, _, _, _ = validated
    assert main(["vee", "run", *args, "--db", url]) == 2
    assert message in capsys.readouterr().err


def test_the_export_needs_the_grid_companys_gln(validated, tmp_path, capsys, monkeypatch):
    _, url, _, _, _ = validated
    monkeypatch.delenv("OPENAMS_GLN", raising=False)
    assert main(["export", "elhub", "--day", "2026-01-06", "--out", str(tmp_path),
                 "--db", url]) == 2  # fmt: skip
    assert "GLN" in capsys.readouterr().err
    monkeypatch.setenv("OPENAMS_GLN", GLN)
    assert main(["export", "elhub", "--day", "2026-01-06", "--out", str(tmp_path),
                 "--db", url, "--quiet"]) == 0  # fmt: skip
    assert (tmp_path / "delivery-2026-01-06.json").exists()

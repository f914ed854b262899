"""``ams ingest`` against the simulator's ground truth, on SQLite and PostgreSQL.

Four days of 300 meters with lost, late, duplicated and replayed pushes, corrupted
ciphertext, a wrong key, stuck and jumping registers and outages: nothing is lost, every
measured value equals the truth, every damaged push and replay is quarantined and raised.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from openams.cli import main
from openams.store import open_store

from .conftest import _postgres_database

ROOT = Path(__file__).resolve().parents[2]
KEK = bytes(range(100, 132))
RESOLUTION_WH = {"Aidon": 10, "Kamstrup": 10, "Kaifa": 1}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ingested(request, fleet, tmp_path_factory):
    """The fleet's estate imported and its pushes ingested, once per kind of store."""
    folder, _ = fleet
    if request.param == "sqlite":
        databases = iter([f"sqlite:///{tmp_path_factory.mktemp('db') / 'openams.db'}"])
    else:
        databases = _postgres_database()
    url = next(databases)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAMS_KEK", KEK.hex())
        assert main(["meters", "import", str(folder / "grid"), "--db", url]) == 0
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["ingest", str(folder / "pushes.jsonl"), "--db", url, "--quiet",
                         "--no-vee"])  # fmt: skip
        yield folder, url, code, out.getvalue()
    for _ in databases:  # drops the PostgreSQL database
        pass


def _query(url: str, sql: str) -> list[tuple]:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql))]
    finally:
        store.close()


def _numbers(out: str) -> dict[str, int]:
    found = re.match(
        r"([\d,]+) pushes received: ([\d,]+) stored .*?, ([\d,]+) duplicates, ([\d,]+) quarantined",
        out,
    )
    assert found, out
    values = [int(g.replace(",", "")) for g in found.groups()]
    return dict(zip(("received", "stored", "duplicates", "quarantined"), values, strict=True))


def test_nothing_is_lost(ingested, fleet):
    folder, url, code, out = ingested
    lines = (folder / "pushes.jsonl").read_text().splitlines()
    n = _numbers(out)
    assert code == 1  # the scenario damages pushes: some are quarantined
    assert n["received"] == len(lines)
    assert n["received"] == n["stored"] + n["duplicates"] + n["quarantined"]
    (reads,), (events,), (quarantined,) = (
        _query(url, "SELECT count(*) FROM register_reads"),
        _query(url, "SELECT count(*) FROM events"),
        _query(url, "SELECT count(*) FROM quarantine"),
    )
    assert reads[0] + events[0] == n["stored"]
    assert quarantined[0] == n["quarantined"]


def test_damaged_pushes_and_replays_are_quarantined_and_raised(ingested):
    folder, url, _, _ = ingested
    incidents = Counter(r["incident"] for r in _csv(folder / "truth" / "incidents.csv"))
    reasons = dict(_query(url, "SELECT reason, count(*) FROM quarantine GROUP BY reason"))
    assert reasons.get("auth_failed", 0) == incidents["corrupted"] + incidents["wrong_key"] > 0
    assert reasons.get("replay", 0) >= 1
    assert set(reasons) <= {"auth_failed", "replay"}
    kinds = dict(_query(url, "SELECT kind, count(*) FROM security_events GROUP BY kind"))
    assert kinds == reasons
    raw = _query(url, "SELECT raw, source FROM quarantine")
    pushes = {
        bytes.fromhex(json.loads(line)["hex"])
        for line in (folder / "pushes.jsonl").read_text().splitlines()
    }
    assert all(bytes(r) in pushes and s.startswith("pushes.jsonl:") for r, s in raw)


def test_every_measured_value_is_the_truth(ingested):
    folder, url, _, _ = ingested
    truth = folder / "truth"
    altered = {
        r["fault_id"] for r in _csv(truth / "faults.csv")
        if r["kind"] in ("stuck_register", "jumping_register", "clock_drift")
    }  # fmt: skip
    skip = {r["metering_point_id"] for r in _csv(truth / "fault_meters.csv")
            if r["fault_id"] in altered}  # fmt: skip
    makers = {r["metering_point_id"]: r["manufacturer"]
              for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    expected = {
        (r["metering_point_id"], int(r["interval_s"]),
         int(datetime.fromisoformat(r["start"]).timestamp())): (int(r["import_wh"]),
                                                               int(r["export_wh"]))
        for r in _csv(truth / "intervals.csv")
    }  # fmt: skip
    rows = _query(
        url,
        "SELECT metering_point_id, resolution_s, start_at_s, import_wh, export_wh, status "
        "FROM interval_values",
    )
    checked = 0
    for point, resolution, start, import_wh, export_wh, status in rows:
        assert status == "measured"
        if point in skip:
            continue
        true_import, true_export = expected[(point, resolution, start)]
        tolerance = RESOLUTION_WH[makers[point]]
        assert abs(import_wh - true_import) < tolerance, (point, start)
        assert abs(export_wh - true_export) < tolerance, (point, start)
        checked += 1
    assert checked > 20_000


def test_late_pushes_fill_their_place(ingested):
    folder, url, _, _ = ingested
    late = [r for r in _csv(folder / "truth" / "incidents.csv") if r["incident"] == "late"]
    assert late
    meters = {r["meter_id"]: (r["metering_point_id"], int(r["push_interval_s"]))
              for r in _csv(folder / "grid" / "meters.csv")}  # fmt: skip
    stored = set(_query(url, "SELECT metering_point_id, start_at_s FROM interval_values"))
    read = set(_query(url, "SELECT meter_id, read_at_s FROM register_reads"))
    placed = 0
    for row in late:
        clock = int(datetime.fromisoformat(row["clock"]).timestamp())
        point, step = meters[row["meter_id"]]
        if (row["meter_id"], clock) not in read:
            continue  # a late push that was also damaged
        for before, after in ((clock - step, clock), (clock, clock + step)):
            if {(row["meter_id"], before), (row["meter_id"], after)} <= read:
                assert (point, before) in stored, (row, before)  # the interval it closes
                placed += 1
    assert placed >= len(late)


def test_events_are_stored_once_each(ingested):
    folder, url, _, _ = ingested
    damaged = {
        (r["meter_id"], r["clock"]) for r in _csv(folder / "truth" / "incidents.csv")
        if r["incident"] in ("corrupted", "wrong_key")
    }  # fmt: skip
    expected = Counter(
        (r["meter_id"], r["event"]) for r in _csv(folder / "truth" / "events.csv")
        if r["sent"] == "1" and r["lost"] == "0" and (r["meter_id"], r["at"]) not in damaged
    )  # fmt: skip
    got = Counter(_query(url, "SELECT meter_id, name FROM events"))
    assert got == expected


def test_ingesting_again_changes_nothing(ingested, capsys, monkeypatch):
    folder, url, _, _ = ingested
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    tables = ("register_reads", "interval_values", "events", "quarantine", "security_events")
    before = [_query(url, f"SELECT count(*) FROM {t}") for t in tables]  # noqa: S608
    code = main(["ingest", str(folder / "pushes.jsonl"), "--db", url, "--quiet", "--no-vee"])
    n = _numbers(capsys.readouterr().out)
    assert code == 1
    assert n["stored"] == 0
    assert n["duplicates"] + n["quarantined"] == n["received"]
    assert [_query(url, f"SELECT count(*) FROM {t}") for t in tables] == before  # noqa: S608


def test_bad_lines_and_unknown_meters_are_quarantined(fleet, tmp_path, monkeypatch, capsys):
    folder, _ = fleet
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    db = str(tmp_path / "bad.db")
    assert main(["meters", "import", str(folder / "grid" / "topology.csv"),
                 str(folder / "grid" / "customers.csv"),
                 str(folder / "grid" / "metering_points.csv"), "--db", db]) == 0  # fmt: skip
    capsys.readouterr()
    good = (folder / "pushes.jsonl").read_text().splitlines()[:5]
    (tmp_path / "mixed.txt").write_text(
        "\n".join(["not hex at all", '{"at": "2026-01-05T00:00:00Z"}', "7e00", *good]) + "\n"
    )
    code = main(["ingest", str(tmp_path / "mixed.txt"), "--db", db, "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    reasons = dict(_query(f"sqlite:///{db}", "SELECT reason, count(*) FROM quarantine "
                                              "GROUP BY reason"))  # fmt: skip
    assert reasons == {"bad_input": 2, "bad_frame": 1, "no_key": 5}
    sources = {s for (s,) in _query(f"sqlite:///{db}", "SELECT source FROM quarantine")}
    assert {"mixed.txt:1", "mixed.txt:2", "mixed.txt:3"} <= sources
    assert "8 quarantined" in out


def test_values_read_back_as_stored(ingested, capsys):
    folder, url, _, _ = ingested
    point = _csv(folder / "grid" / "metering_points.csv")[10]["metering_point_id"]
    code = main(["values", "--mp", point, "--from", "2026-01-05", "--to", "2026-01-06",
                 "--format", "json", "--db", url])  # fmt: skip
    series = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert len(series) == 48
    sql = (
        "SELECT start_at_s, import_wh FROM interval_values "  # noqa: S608 - a test's own id
        f"WHERE metering_point_id = '{point}' AND resolution_s = 3600"
    )
    stored = dict(_query(url, sql))
    for value in series:
        start = int(datetime.fromisoformat(value["start"]).timestamp())
        if start in stored:
            assert value == {**value, "import_wh": stored[start], "status": "measured"}
        else:
            assert value["status"] == "missing"
    assert sum(v["status"] == "measured" for v in series) >= 40
    code = main(["values", "--mp", point, "--from", "2026-01-05", "--to", "2026-01-05",
                 "--resolution", "day", "--format", "csv", "--db", url])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "start,end,import_kwh,export_kwh,status"
    assert len(lines) == 2


def test_a_push_in_clear_is_quarantined_as_a_security_event(tmp_path, monkeypatch, capsys):
    from datetime import datetime as _dt
    from zoneinfo import ZoneInfo

    from openams.dlms import MeterReading, build_notification, encode_push

    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    reading = MeterReading("1", "t", _dt(2026, 1, 5, 10, tzinfo=ZoneInfo("Europe/Oslo")),
                           power_import_w=5)  # fmt: skip
    (tmp_path / "plain.txt").write_text(encode_push(build_notification("kaifa", 1, reading)).hex())
    db = f"sqlite:///{tmp_path / 'plain.db'}"
    assert main(["ingest", str(tmp_path / "plain.txt"), "--db", db, "--quiet"]) == 1
    assert "1 not_ciphered" in capsys.readouterr().out
    assert _query(db, "SELECT reason FROM quarantine") == [("not_ciphered",)]
    assert _query(db, "SELECT kind FROM security_events") == [("not_ciphered",)]

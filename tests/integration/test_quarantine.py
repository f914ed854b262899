"""``ams quarantine list|retry``: an unknown meter's pushes wait in quarantine, then go in."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from openams.cli import main
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet
from openams.store import open_store

KEK = bytes(range(7, 39))


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    folder = tmp_path_factory.mktemp("day")
    write_grid(build_grid(meters=40, area="NO5", seed=8), folder / "grid")
    run_fleet(RunSettings(folder / "grid", date(2026, 2, 2), 1, workers=1),
              out=folder / "pushes.jsonl")  # fmt: skip
    return folder


def test_an_unknown_meters_pushes_are_retried_after_its_import(day, tmp_path, store_url,
                                                               monkeypatch, capsys):  # fmt: skip
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    with (day / "grid" / "meters.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    missing = rows[0]
    partial = tmp_path / "meters.csv"
    with partial.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows[1:])
    grid = day / "grid"
    first = [str(grid / "topology.csv"), str(grid / "customers.csv"),
             str(grid / "metering_points.csv"), str(partial)]  # fmt: skip
    assert main(["meters", "import", *first, "--db", store_url]) == 0
    assert main(["ingest", str(day / "pushes.jsonl"), "--db", store_url, "--quiet"]) == 1
    capsys.readouterr()

    assert main(["quarantine", "list", "--db", store_url, "--format", "json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [item for item in listed if item["system_title"] == missing["system_title"]]
    assert mine
    assert {item["reason"] for item in mine} == {"no_key"}
    assert all(item["source"].startswith("pushes.jsonl:") for item in mine)

    assert main(["meters", "import", str(grid / "meters.csv"), "--db", store_url]) == 0
    capsys.readouterr()
    assert main(["quarantine", "retry", "--db", store_url, "--reason", "no_key"]) == 0
    out = capsys.readouterr().out
    assert f"{len(mine)} retried: {len(mine)} resolved, 0 still quarantined" in out

    store = open_store(store_url)
    try:
        with store.engine.connect() as connection:
            from sqlalchemy import text

            reads = connection.execute(
                text("SELECT count(*) FROM register_reads WHERE meter_id = :m"),
                {"m": missing["meter_id"]},
            ).scalar()
            values = connection.execute(
                text("SELECT count(*) FROM interval_values WHERE metering_point_id = :p"),
                {"p": missing["metering_point_id"]},
            ).scalar()
    finally:
        store.close()
    assert reads == len(mine)
    assert values >= len(mine) - 2
    assert main(["quarantine", "list", "--db", store_url]) == 0
    assert capsys.readouterr().out == ""
    assert main(["quarantine", "retry", "--db", store_url]) == 0
    assert "0 retried" in capsys.readouterr().out

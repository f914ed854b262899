"""Two pushes of one meter with the same clock and different registers: both kept, neither
trusted — the second is quarantined as a conflict and VEE estimates the intervals around it
from the reads it can trust."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from openams.cli import main
from openams.dlms import Ciphering, MeterReading, build_notification, encode_push
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.store import open_store

KEK = bytes(range(40, 72))
OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 1, 5, 10, 0, tzinfo=OSLO)


def _query(url: str, sql: str) -> list[tuple]:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql))]
    finally:
        store.close()


def test_a_conflicting_push_is_quarantined_and_its_intervals_estimated(
    tmp_path, store_url, monkeypatch, capsys
):
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    write_grid(build_grid(meters=20, area="NO1", seed=4), tmp_path / "grid")
    with (tmp_path / "grid" / "meters.csv").open(newline="") as fh:
        meter = next(r for r in csv.DictReader(fh) if r["push_interval_s"] == "3600")
    assert main(["meters", "import", str(tmp_path / "grid"), "--db", store_url]) == 0
    style = meter["manufacturer"].lower()
    ciphering = Ciphering(bytes.fromhex(meter["system_title"]), 0,
                          bytes.fromhex(meter["ek"]), bytes.fromhex(meter["ak"]))  # fmt: skip

    def push(hour: int, register_wh: int, counter: int) -> str:
        reading = MeterReading(meter_id=meter["meter_id"], meter_type=meter["meter_type"],
                               clock=START + timedelta(hours=hour), phases=int(meter["phases"]),
                               energy_import_wh=register_wh)  # fmt: skip
        return encode_push(
            build_notification(style, 3, reading), style=style,
            ciphering=Ciphering(ciphering.system_title, counter, ciphering.ek, ciphering.ak),
        ).hex()  # fmt: skip

    registers = [1_000_000, 1_001_500, 1_003_000, 1_004_000, 1_005_200]
    lines = [push(h, wh, 10 + h) for h, wh in enumerate(registers)]
    lines.append(push(1, 1_700_000, 20))  # a second 11:00 that says otherwise
    (tmp_path / "pushes.hex").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "pushes.hex"), "--db", store_url, "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "1 conflict" in out

    (reason, meter_id, at_s, message), = _query(
        store_url, "SELECT reason, meter_id, at_s, message FROM quarantine"
    )  # fmt: skip
    assert (reason, meter_id) == ("conflict", meter["meter_id"])
    assert at_s == int((START + timedelta(hours=1)).timestamp())
    assert "already sent other registers" in message
    assert _query(store_url, "SELECT count(*) FROM security_events") == [(0,)]  # not an attack

    point = meter["metering_point_id"]
    rows = _query(
        store_url,
        "SELECT start_at_s, import_wh, status, validation, estimation FROM interval_values "  # noqa: S608
        f"WHERE metering_point_id = '{point}' ORDER BY start_at_s",
    )
    by_start = {r[0]: r[1:] for r in rows}
    t10 = int(START.timestamp())
    around = [by_start[t10], by_start[t10 + 3600]]
    assert {(s, v, e) for _, s, v, e in around} == {
        ("final_estimated", "conflicting_duplicate", "register_difference")
    } or {(s, v, e) for _, s, v, e in around} == {
        ("estimated", "conflicting_duplicate", "register_difference")
    }
    assert around[0][0] + around[1][0] == registers[2] - registers[0]  # still exact
    assert by_start[t10 + 2 * 3600][:2] == (1000, "measured")
    assert by_start[t10 + 3 * 3600][:2] == (1200, "measured")


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level("WARNING")

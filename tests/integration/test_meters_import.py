"""``ams meters import`` into SQLite and PostgreSQL: keys wrapped at rest, bad rows named,
good rows in, re-imports update."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from openams.cli import main
from openams.keyvault import KeyVault
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.store import open_store

KEK = bytes(range(32))


@pytest.fixture
def estate(tmp_path):
    folder = tmp_path / "grid"
    write_grid(build_grid(meters=200, area="NO3", seed=4), folder)
    return folder


@pytest.fixture
def kek_env(monkeypatch):
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    monkeypatch.delenv("OPENAMS_KEK_FILE", raising=False)


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path, rows):
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _table(url, name):
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            return [dict(r._mapping) for r in connection.execute(sa.select(table))]
    finally:
        store.close()


def test_import_stores_the_estate_with_keys_wrapped(estate, store_url, kek_env, capsys):
    code = main(["meters", "import", str(estate), "--db", store_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "meters: 200 added, 0 updated" in out
    stored = {r["meter_id"]: r for r in _table(store_url, "meters")}
    assert len(stored) == 200
    assert len(_table(store_url, "metering_points")) == 200
    vault = KeyVault(KEK)
    for row in _rows(estate / "meters.csv"):
        meter = stored[row["meter_id"]]
        assert vault.unwrap(bytes(meter["ek_wrapped"])) == bytes.fromhex(row["ek"])
        assert vault.unwrap(bytes(meter["ak_wrapped"])) == bytes.fromhex(row["ak"])
        assert meter["kek_id"] == vault.kek_id
        assert bytes(meter["system_title"]) == bytes.fromhex(row["system_title"])


def test_no_key_is_in_the_database_file_in_clear(estate, tmp_path, kek_env, capsys):
    db = tmp_path / "openams.db"
    assert main(["meters", "import", str(estate), "--db", str(db)]) == 0
    capsys.readouterr()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("openams.db*"))
    for row in _rows(estate / "meters.csv"):
        for key in (row["ek"], row["ak"]):
            assert bytes.fromhex(key) not in raw
            assert key.encode() not in raw


def test_a_reimport_updates_and_adds(estate, store_url, kek_env, capsys):
    assert main(["meters", "import", str(estate), "--db", store_url]) == 0
    rows = _rows(estate / "meters.csv")
    rows[0]["push_interval_s"] = "900" if rows[0]["push_interval_s"] == "3600" else "3600"
    _write(estate / "meters.csv", rows)
    capsys.readouterr()
    assert main(["meters", "import", str(estate / "meters.csv"), "--db", store_url]) == 0
    assert "meters: 0 added, 200 updated" in capsys.readouterr().out
    stored = {r["meter_id"]: r for r in _table(store_url, "meters")}
    assert stored[rows[0]["meter_id"]]["push_interval_s"] == int(rows[0]["push_interval_s"])


def test_bad_rows_are_named_and_the_good_rows_go_in(estate, store_url, kek_env, capsys):
    meters = _rows(estate / "meters.csv")
    meters[3]["ek"] = meters[3]["ek"][:-2]  # line 5: a key too short
    _write(estate / "meters.csv", meters)
    points = _rows(estate / "metering_points.csv")
    bad_point = points[7]["metering_point_id"]
    points[7]["metering_point_id"] = bad_point[:-1] + str((int(bad_point[-1]) + 1) % 10)
    _write(estate / "metering_points.csv", points)
    code = main(["meters", "import", str(estate), "--db", store_url])
    captured = capsys.readouterr()
    assert code == 1
    assert "meters.csv:5:" in captured.err
    assert "metering_points.csv:9:" in captured.err
    assert meters[3]["ek"] not in captured.err
    stored = {r["meter_id"] for r in _table(store_url, "meters")}
    orphan = next(m["meter_id"] for m in meters if m["metering_point_id"] == bad_point)
    assert meters[3]["meter_id"] not in stored
    assert orphan not in stored  # its metering point was refused
    assert len(stored) == 198


def test_a_system_title_taken_by_another_meter_is_refused(estate, store_url, kek_env, capsys):
    assert main(["meters", "import", str(estate), "--db", store_url]) == 0
    meters = _rows(estate / "meters.csv")
    meters[1]["system_title"] = meters[0]["system_title"]
    meters[1]["meter_id"] = "9999999999999999"
    _write(estate / "meters.csv", [meters[1]])
    capsys.readouterr()
    code = main(["meters", "import", str(estate / "meters.csv"), "--db", store_url])
    err = capsys.readouterr().err
    assert code == 1
    assert f"belongs to meter {meters[0]['meter_id']}" in err


def test_without_a_key_encrypting_key_nothing_is_imported(estate, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAMS_KEK", raising=False)
    monkeypatch.delenv("OPENAMS_KEK_FILE", raising=False)
    code = main(["meters", "import", str(estate), "--db", str(tmp_path / "x.db")])
    assert code == 2
    assert "OPENAMS_KEK" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_kek_file_option(estate, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAMS_KEK", raising=False)
    (tmp_path / "kek.hex").write_text(KEK.hex() + "\n")
    db = tmp_path / "y.db"
    code = main(["meters", "import", str(estate), "--db", str(db), "--kek-file",
                 str(tmp_path / "kek.hex")])  # fmt: skip
    assert code == 0
    capsys.readouterr()
    assert main(["keys", "generate"]) == 0
    generated = capsys.readouterr().out.strip()
    assert len(bytes.fromhex(generated)) == 32

"""Kill ``ams ingest`` (SIGKILL) in the middle of a file, run it again: nothing lost, nothing
stored twice — the same rows as one uninterrupted ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
import sqlalchemy as sa

from openams.cli import main
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet
from openams.store import open_store

KEK = bytes(range(50, 82))
TABLES = {
    "register_reads": "meter_id, read_at_s, invocation_counter, import_wh",
    "interval_values": "metering_point_id, resolution_s, start_at_s, import_wh, status",
    "events": "meter_id, at_s, name",
    "quarantine": "source, reason",
}


@pytest.fixture(scope="module")
def pushes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    write_grid(build_grid(meters=400, area="NO2", seed=12), folder / "grid")
    run_fleet(RunSettings(folder / "grid", date(2026, 4, 6), 3, workers=1),
              out=folder / "pushes.jsonl")  # fmt: skip
    return folder


def _rows(url: str) -> dict[str, list[tuple]]:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return {
                table: sorted(
                    tuple(r)
                    for r in connection.execute(sa.text(f"SELECT {cols} FROM {table}"))  # noqa: S608
                )
                for table, cols in TABLES.items()
            }
    finally:
        store.close()


def _prepare(url: str, folder) -> None:
    assert main(["meters", "import", str(folder / "grid"), "--db", url]) == 0


def test_a_killed_ingest_resumes_without_loss_or_doubles(pushes, tmp_path, store_url,
                                                         monkeypatch, capsys):  # fmt: skip
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    _prepare(reference, pushes)
    main(["ingest", str(pushes / "pushes.jsonl"), "--db", reference, "--quiet"])
    _prepare(store_url, pushes)
    capsys.readouterr()
    env = {**os.environ, "OPENAMS_KEK": KEK.hex()}
    command = [sys.executable, "-c", "import sys; from openams.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "ingest", str(pushes / "pushes.jsonl"),
               "--db", store_url, "--quiet"]  # fmt: skip
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    store = open_store(store_url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # kill it once some batches are in, not all
            with store.engine.connect() as connection:
                count = connection.execute(sa.text("SELECT count(*) FROM register_reads")).scalar()
            if count and count >= 10_000:
                break
            time.sleep(0.05)
    finally:
        store.close()
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    partial = _rows(store_url)["register_reads"]
    assert 0 < len(partial) < len(_rows(reference)["register_reads"])  # it died midway
    main(["ingest", str(pushes / "pushes.jsonl"), "--db", store_url, "--quiet"])
    assert _rows(store_url) == _rows(reference)


def test_decoding_in_worker_processes_changes_nothing(pushes, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAMS_KEK", KEK.hex())
    results = []
    for workers in ("1", "2"):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        _prepare(url, pushes)
        main(["ingest", str(pushes / "pushes.jsonl"), "--db", url, "--quiet",
              "--workers", workers])  # fmt: skip
        results.append(_rows(url))
    capsys.readouterr()
    assert results[0] == results[1]
    assert len(results[0]["register_reads"]) > 20_000

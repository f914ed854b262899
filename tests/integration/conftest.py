"""The stores the integration tests run on: a SQLite file, and a fresh PostgreSQL database.

PostgreSQL is the server scripts/services starts (``OPENAMS_TEST_POSTGRES_URL``, default the
local trust-auth server); each test module gets its own database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "OPENAMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_database():
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"openams_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'openams.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """Four days (5-8 January 2026) of 300 simulated meters with every fault of the example
    scenario: the pushes, the estate and the ground truth."""
    from datetime import date
    from pathlib import Path

    from openams.sim import build_grid
    from openams.sim.csvio import write_grid
    from openams.sim.run import RunSettings, run_fleet

    root = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("fleet")
    write_grid(build_grid(meters=300, area="NO1", seed=1), folder / "grid")
    summary = run_fleet(
        RunSettings(folder / "grid", date(2026, 1, 5), 4,
                    scenario_path=root / "docs" / "scenario-example.toml", workers=1),
        out=folder / "pushes.jsonl",
        truth_dir=folder / "truth",
    )  # fmt: skip
    return folder, summary

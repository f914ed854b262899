from __future__ import annotations

import re
from collections import Counter

import pytest

from openams.sim import build_grid, is_valid_gsrn
from openams.sim.csvio import COLUMNS, write_grid
from openams.sim.places import AREAS

MOBILE = re.compile(r"^\+47[49]\d{7}$")
EMAIL = re.compile(r"^[^@\s]+@example\.(com|net|org)$")


@pytest.fixture(scope="module")
def grid():
    return build_grid(meters=5000, area="NO3", seed=11)


def test_counts_and_one_meter_and_customer_per_metering_point(grid):
    assert len(grid.metering_points) == len(grid.meters) == len(grid.customers) == 5000
    assert {m.metering_point_id for m in grid.meters} == {
        p.metering_point_id for p in grid.metering_points
    }
    assert {p.customer_id for p in grid.metering_points} == {c.customer_id for c in grid.customers}


def test_topology_shape(grid):
    per_transformer = Counter(p.transformer_id for p in grid.metering_points)
    assert all(20 <= n <= 150 for n in per_transformer.values())
    assert set(per_transformer) == {t.transformer_id for t in grid.transformers}
    per_feeder = Counter(t.feeder_id for t in grid.transformers)
    assert all(1 <= n <= 15 for n in per_feeder.values())
    for t in grid.transformers:
        assert t.feeder_id.startswith(t.substation_id + "-F")
        assert (t.grid_type, t.nominal_voltage_v) in {("IT", 230), ("TN", 400)}
    by_id = {t.transformer_id: t for t in grid.transformers}
    assert all(p.grid_type == by_id[p.transformer_id].grid_type for p in grid.metering_points)


def test_metering_points_are_plausible(grid):
    places = set(AREAS["NO3"])
    for point in grid.metering_points:
        assert is_valid_gsrn(point.metering_point_id)
        assert (point.postcode, point.municipality) in places
        assert point.main_fuse_a in (25, 32, 40, 50, 63)
        assert point.phases in (1, 3)
    assert len({p.metering_point_id for p in grid.metering_points}) == 5000
    kinds = Counter(p.customer_type for p in grid.metering_points)
    assert set(kinds) == {
        "detached_house", "apartment", "cabin", "farm", "small_business", "prosumer_solar",
    }  # fmt: skip
    assert 0.40 < kinds["detached_house"] / 5000 < 0.50


def test_meters_have_unique_ids_titles_and_keys(grid):
    assert len({m.meter_id for m in grid.meters}) == 5000
    assert len({m.system_title for m in grid.meters}) == 5000
    assert len({m.ek for m in grid.meters} | {m.ak for m in grid.meters}) == 10000
    makers = Counter(m.manufacturer for m in grid.meters)
    assert set(makers) == {"Aidon", "Kaifa", "Kamstrup"}
    assert 0.35 < makers["Aidon"] / 5000 < 0.45
    prefixes = {"Aidon": b"ADN", "Kaifa": b"KFM", "Kamstrup": b"KAM"}
    for meter in grid.meters:
        assert meter.system_title[:3] == prefixes[meter.manufacturer]
        assert len(meter.system_title) == 8
        assert len(meter.meter_id) == 16
        assert meter.push_interval_s in (900, 3600)
    points = {p.metering_point_id: p for p in grid.metering_points}
    assert all(m.phases == points[m.metering_point_id].phases for m in grid.meters)


def test_about_three_percent_of_contacts_are_missing_or_invalid(grid):
    bad = [c for c in grid.customers if not MOBILE.match(c.mobile) or not EMAIL.match(c.email)]
    assert 0.015 < len(bad) / 5000 < 0.045


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    one, two, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts = write_grid(build_grid(meters=300, area="NO1", seed=5), one)
    write_grid(build_grid(meters=300, area="NO1", seed=5), two)
    write_grid(build_grid(meters=300, area="NO1", seed=6), other)
    assert counts["meters.csv"] == 300
    for name, columns in COLUMNS.items():
        text = (one / name).read_bytes()
        assert text == (two / name).read_bytes()
        assert text.decode().splitlines()[0] == ",".join(columns)
    assert (one / "meters.csv").read_bytes() != (other / "meters.csv").read_bytes()


@pytest.mark.parametrize("meters", [1, 19, 151, 170])
def test_small_estates_keep_the_substation_bounds(meters):
    grid = build_grid(meters=meters, area="NO4", seed=2)
    sizes = Counter(p.transformer_id for p in grid.metering_points)
    assert sum(sizes.values()) == meters
    if meters >= 20:
        assert all(20 <= n <= 150 for n in sizes.values())


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="unknown price area 'NO9'"):
        build_grid(meters=10, area="NO9")
    with pytest.raises(ValueError, match="at least 1"):
        build_grid(meters=0)

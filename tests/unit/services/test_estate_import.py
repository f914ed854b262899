from __future__ import annotations

import csv
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain import Customer, MeteringPoint, MeterRecord, RowError, Transformer
from openams.errors import InputError
from openams.services.estate_import import FORMATS, FileSummary, KnownIds, read_estate
from openams.sim import Grid, build_grid
from openams.sim.csvio import COLUMNS, write_grid

TOPOLOGY, POINTS, CUSTOMERS, METERS = FORMATS


# --- helpers -----------------------------------------------------------------------------------


def _estate(folder: Path, meters: int = 400, seed: int = 3) -> Grid:
    grid = build_grid(meters=meters, seed=seed)
    write_grid(grid, folder)
    return grid


@pytest.fixture(scope="module")
def grid_and_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Grid, Path]:
    folder = tmp_path_factory.mktemp("estate")
    return _estate(folder), folder


@pytest.fixture
def estate(grid_and_files: tuple[Grid, Path], tmp_path: Path) -> tuple[Grid, Path]:
    """A fresh copy of the estate files, free to be changed by the test."""
    grid, folder = grid_and_files
    copy = tmp_path / "estate"
    shutil.copytree(folder, copy)
    return grid, copy


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _set(path: Path, line: int, column: str, value: str) -> None:
    """Set ``column`` of the row on ``line`` (1 is the header) of a file without quoted lines."""
    rows = _rows(path)
    rows[line - 1][rows[0].index(column)] = value
    _write(path, rows)


def _known(grid: Grid) -> KnownIds:
    return KnownIds(
        transformers={t.transformer_id for t in grid.transformers},
        metering_points={p.metering_point_id for p in grid.metering_points},
        customers={c.customer_id for c in grid.customers},
    )


def _as_records(grid: Grid) -> tuple[list[object], ...]:
    meters = [
        MeterRecord(
            m.meter_id,
            m.metering_point_id,
            m.manufacturer,
            m.meter_type,
            m.phases,
            m.system_title,
            m.ek,
            m.ak,
            m.push_interval_s,
        )
        for m in grid.meters
    ]
    return (
        [Transformer(*_fields(t)) for t in grid.transformers],
        [MeteringPoint(*_fields(p)) for p in grid.metering_points],
        [Customer(*_fields(c)) for c in grid.customers],
        list(meters),
    )


def _fields(record: Any) -> tuple[Any, ...]:
    return dataclasses.astuple(record)


def _messages(result) -> str:
    return "\n".join(str(e) for e in result.errors)


# --- a clean estate ----------------------------------------------------------------------------


def test_the_formats_are_the_simulators():
    assert FORMATS == COLUMNS


def test_a_simulator_estate_imports_without_errors(estate):
    grid, folder = estate
    result = read_estate([folder])
    assert result.errors == []
    assert (
        result.transformers,
        result.metering_points,
        result.customers,
        result.meters,
    ) == _as_records(grid)
    sizes = [
        len(grid.transformers),
        len(grid.metering_points),
        len(grid.customers),
        len(grid.meters),
    ]
    assert result.files == [
        FileSummary(str(folder / kind), kind, size, size)
        for kind, size in zip(FORMATS, sizes, strict=True)
    ]
    # some contact details are faulty on purpose, and kept as they are
    assert any(c.mobile == "" or c.email == "" or "@" not in c.email for c in result.customers)


def test_a_file_named_twice_is_read_once(estate):
    grid, folder = estate
    result = read_estate([folder, folder / METERS, folder])
    assert result.errors == []
    assert len(result.files) == 4
    assert len(result.meters) == len(grid.meters)


def test_a_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file") as info:
        read_estate([tmp_path / "nowhere"])
    assert info.value.source == str(tmp_path / "nowhere")


def test_a_directory_without_a_file_imports_the_others(estate):
    grid, folder = estate
    (folder / CUSTOMERS).unlink()
    result = read_estate([folder], known=KnownIds(customers=_known(grid).customers))
    assert result.errors == []
    assert [f.source for f in result.files] == [
        str(folder / TOPOLOGY),
        str(folder / POINTS),
        str(folder / METERS),
    ]
    assert result.customers == []
    assert len(result.meters) == len(grid.meters)


def test_a_file_is_recognised_by_its_header_not_its_name(estate, tmp_path):
    grid, folder = estate
    renamed = tmp_path / "kunder_2026-01.txt"
    shutil.copy(folder / CUSTOMERS, renamed)
    wrong_name = tmp_path / "meters.csv"
    shutil.copy(folder / TOPOLOGY, wrong_name)
    result = read_estate([renamed, wrong_name])
    assert result.errors == []
    assert [(f.source, f.kind) for f in result.files] == [
        (str(renamed), CUSTOMERS),
        (str(wrong_name), TOPOLOGY),
    ]
    assert len(result.customers) == len(grid.customers)
    assert len(result.transformers) == len(grid.transformers)
    assert result.meters == []


def test_one_file_reimported_against_known_ids(estate):
    grid, folder = estate
    alone = read_estate([folder / METERS])
    assert alone.meters == []
    assert len(alone.errors) == len(grid.meters)
    first = grid.meters[0].metering_point_id
    assert alone.errors[0] == RowError(
        str(folder / METERS),
        2,
        f"metering_point_id '{first}' is neither in the files read nor already known",
    )
    again = read_estate([folder / METERS], known=_known(grid))
    assert again.errors == []
    assert again.meters == _as_records(grid)[3]
    assert again.files == [FileSummary(str(folder / METERS), METERS, 400, 400)]


# --- headers -----------------------------------------------------------------------------------


def test_an_unknown_column_is_reported_once_and_the_file_is_still_read(estate):
    grid, folder = estate
    path = folder / METERS
    rows = _rows(path)
    for number, row in enumerate(rows):
        row.insert(2, "note" if number == 0 else f"remark {number}")
        row.append("Extra" if number == 0 else "")
    _write(path, rows)
    result = read_estate([folder])
    assert result.errors == [
        RowError(
            str(path),
            1,
            "unknown columns 'note', 'Extra' ignored: meters.csv has the columns meter_id, "
            "metering_point_id, manufacturer, meter_type, phases, system_title, ek, ak, "
            "push_interval_s; the rows are read without the unknown columns",
        )
    ]
    assert result.meters == _as_records(grid)[3]


def test_column_names_are_matched_without_case_or_surrounding_spaces(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(" Customer_ID ,NAME,Mobile,email\nC00000001,Kari Nordmann,+4791234567,\n")
    result = read_estate([path])
    assert result.errors == []
    assert result.customers == [Customer("C00000001", "Kari Nordmann", "+4791234567", "")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "foo,bar",
            "the header matches none of the estate formats (topology.csv, "
            "metering_points.csv, customers.csv, meters.csv). The file is skipped",
        ),
        (
            "meter_id,metering_point_id,manufacturer,meter_type,phases,system_title,ek",
            "the header matches none of the estate formats (topology.csv, "
            "metering_points.csv, customers.csv, meters.csv); nearest is meters.csv, which "
            "also needs ak, push_interval_s. The file is skipped",
        ),
        (
            "customer_id,name,mobile,email,transformer_id,feeder_id,substation_id,area,"
            "grid_type,nominal_voltage_v",
            "the header holds the columns of topology.csv and customers.csv; give each in a "
            "file of its own. The file is skipped",
        ),
        (
            "customer_id,name,mobile,email,name",
            "the header names name more than once, so the values are ambiguous. "
            "The file is skipped",
        ),
    ],
)
def test_a_header_that_fits_no_format_exactly_skips_the_file(tmp_path, header, message):
    path = tmp_path / "export.csv"
    path.write_text(header + "\nC00000001,Kari,,,x,y,z,NO1,IT,230\n")
    result = read_estate([path])
    assert result.errors == [RowError(str(path), 1, message)]
    assert result.files == [FileSummary(str(path), None, 0, 0)]
    assert (result.customers, result.transformers) == ([], [])


def test_an_empty_file_is_reported(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("\n  \n")
    result = read_estate([tmp_path])
    assert result.errors == [
        RowError(str(path), 1, "the file is empty: it has no header. The file is skipped")
    ]


# --- values ------------------------------------------------------------------------------------

AREAS = "area must be NO1, NO2, NO3, NO4 or NO5, not"
FUSE = "main_fuse_a must be a whole number from 16 to 1000 [A], not"


@pytest.mark.parametrize(
    ("kind", "column", "value", "message"),
    [
        (TOPOLOGY, "transformer_id", "", "transformer_id is empty"),
        (TOPOLOGY, "feeder_id", " ", "feeder_id is empty"),
        (TOPOLOGY, "substation_id", "", "substation_id is empty"),
        (TOPOLOGY, "area", "NO6", f"{AREAS} 'NO6'"),
        (TOPOLOGY, "area", "no1", f"{AREAS} 'no1'"),
        (TOPOLOGY, "grid_type", "TT", "grid_type must be IT or TN, not 'TT'"),
        (TOPOLOGY, "nominal_voltage_v", "240", "nominal_voltage_v must be 230 or 400, not '240'"),
        (
            TOPOLOGY,
            "nominal_voltage_v",
            "230.0",
            "nominal_voltage_v must be 230 or 400, not '230.0'",
        ),
        (
            POINTS,
            "metering_point_id",
            "707057500000000019",
            "metering_point_id '707057500000000019' has a wrong GSRN check digit (expected 8)",
        ),
        (
            POINTS,
            "metering_point_id",
            "70705750000000001",
            "metering_point_id must be an 18-digit GSRN, not '70705750000000001'",
        ),
        (POINTS, "metering_point_id", "", "metering_point_id must be an 18-digit GSRN, not ''"),
        (POINTS, "transformer_id", "", "transformer_id is empty"),
        (POINTS, "customer_id", "", "customer_id is empty"),
        (POINTS, "area", "", f"{AREAS} ''"),
        (POINTS, "main_fuse_a", "15", f"{FUSE} '15'"),
        (POINTS, "main_fuse_a", "1001", f"{FUSE} '1001'"),
        (POINTS, "main_fuse_a", "63A", f"{FUSE} '63A'"),
        (POINTS, "main_fuse_a", "-25", f"{FUSE} '-25'"),
        (POINTS, "main_fuse_a", "٦٣", f"{FUSE} '٦٣'"),
        (POINTS, "phases", "2", "phases must be 1 or 3, not '2'"),
        (POINTS, "grid_type", "it", "grid_type must be IT or TN, not 'it'"),
        (CUSTOMERS, "customer_id", "", "customer_id is empty"),
        (CUSTOMERS, "name", "", "name is empty"),
        (METERS, "meter_id", "", "meter_id is empty"),
        (
            METERS,
            "metering_point_id",
            "707057500000000010",
            "metering_point_id '707057500000000010' has a wrong GSRN check digit (expected 8)",
        ),
        (METERS, "manufacturer", "", "manufacturer is empty"),
        (METERS, "phases", "0", "phases must be 1 or 3, not '0'"),
        (METERS, "system_title", "4b464d1000000001ff", "system_title must be 16 hex digits"),
        (METERS, "system_title", "4b464d10000000", "system_title must be 16 hex digits"),
        (METERS, "system_title", "4b464d100000000g", "system_title must be 16 hex digits"),
        (METERS, "ek", "", "ek must be 32 hex digits"),
        (METERS, "ek", "00112233445566778899aabbccddeeff00", "ek must be 32 hex digits"),
        (METERS, "ak", "00112233445566778899aabbccddeexx", "ak must be 32 hex digits"),
        (METERS, "ak", "00112233 445566778899aabbccddeeff", "ak must be 32 hex digits"),
        (METERS, "push_interval_s", "60", "push_interval_s must be 900 or 3600, not '60'"),
        (METERS, "push_interval_s", "", "push_interval_s must be 900 or 3600, not ''"),
    ],
)
def test_a_bad_value_rejects_its_row_and_keeps_the_rows_around_it(
    estate, tmp_path, kind, column, value, message
):
    grid, folder = estate
    path = tmp_path / kind
    shutil.copy(folder / kind, path)
    _set(path, 3, column, value)
    result = read_estate([path], known=_known(grid))
    assert result.errors == [RowError(str(path), 3, message)]
    expected = _as_records(grid)[list(FORMATS).index(kind)]
    assert (result.transformers + result.metering_points + result.customers + result.meters) == [
        expected[0],
        *expected[2:],
    ]
    assert result.files == [FileSummary(str(path), kind, len(expected), len(expected) - 1)]


def test_boundary_values_are_accepted(estate, tmp_path):
    grid, folder = estate
    path = tmp_path / POINTS
    shutil.copy(folder / POINTS, path)
    _set(path, 2, "main_fuse_a", "16")
    _set(path, 3, "main_fuse_a", "1000")
    result = read_estate([path], known=_known(grid))
    assert result.errors == []
    assert [p.main_fuse_a for p in result.metering_points[:2]] == [16, 1000]


def test_every_bad_value_of_a_row_is_reported(estate, tmp_path):
    grid, folder = estate
    path = tmp_path / METERS
    shutil.copy(folder / METERS, path)
    _set(path, 4, "phases", "2")
    _set(path, 4, "ek", "")
    _set(path, 4, "push_interval_s", "15")
    result = read_estate([path], known=_known(grid))
    assert result.errors == [
        RowError(str(path), 4, "phases must be 1 or 3, not '2'"),
        RowError(str(path), 4, "ek must be 32 hex digits"),
        RowError(str(path), 4, "push_interval_s must be 900 or 3600, not '15'"),
    ]
    assert len(result.meters) == len(grid.meters) - 1


def test_contact_details_are_kept_as_given(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,name,mobile,email\n"
        "C1,Kari Nordmann,,\n"
        "C2,Ola Nordmann,+47912,ola at example.com\n"
        'C3,"Nordmann, Per",not a number,per@\n'
    )
    result = read_estate([path])
    assert result.errors == []
    assert result.customers == [
        Customer("C1", "Kari Nordmann", "", ""),
        Customer("C2", "Ola Nordmann", "+47912", "ola at example.com"),
        Customer("C3", "Nordmann, Per", "not a number", "per@"),
    ]


def test_a_row_with_the_wrong_number_of_values_is_rejected(estate, tmp_path):
    grid, folder = estate
    path = tmp_path / "c.csv"
    lines = (folder / CUSTOMERS).read_text().splitlines()
    lines[2] += ",surplus"
    lines[4] = lines[4].rsplit(",", 1)[0]
    path.write_text("\n".join(lines) + "\n")
    result = read_estate([path])
    assert result.errors == [
        RowError(str(path), 3, "the row has 5 values, the header 4"),
        RowError(str(path), 5, "the row has 3 values, the header 4"),
    ]
    assert len(result.customers) == len(grid.customers) - 2
    assert result.files[0].rows_read == len(grid.customers)


# --- duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FORMATS))
def test_a_duplicated_id_is_reported_with_the_line_of_the_first(estate, tmp_path, kind):
    grid, folder = estate
    path = tmp_path / kind
    rows = _rows(folder / kind)
    copy = list(rows[3])
    if kind == METERS:  # a fresh system title, so that only the meter id repeats
        copy[rows[0].index("system_title")] = "00" * 8
    rows.append(copy)
    _write(path, rows)
    result = read_estate([path], known=_known(grid))
    column = FORMATS[kind][0]
    assert result.errors == [
        RowError(str(path), len(rows), f"{column} '{rows[3][0]}' appears again; first on line 4")
    ]
    assert result.files == [FileSummary(str(path), kind, len(rows) - 1, len(rows) - 2)]


def test_a_duplicate_in_another_file_names_that_file(estate, tmp_path):
    grid, folder = estate
    more = tmp_path / "more.csv"
    _write(
        more,
        [
            _rows(folder / CUSTOMERS)[0],
            ["C99999999", "Ny Kunde", "", ""],
            _rows(folder / CUSTOMERS)[5],
        ],
    )
    result = read_estate([folder, more])
    assert result.errors == [
        RowError(
            str(more),
            3,
            f"customer_id '{grid.customers[4].customer_id}' appears again; "
            f"first on {folder / CUSTOMERS} line 6",
        )
    ]
    assert result.customers[-1] == Customer("C99999999", "Ny Kunde", "", "")


def test_a_duplicated_system_title_is_reported_without_its_value(estate, tmp_path):
    grid, folder = estate
    path = tmp_path / METERS
    shutil.copy(folder / METERS, path)
    title = grid.meters[1].system_title.hex()
    _set(path, 7, "system_title", title)
    result = read_estate([path], known=_known(grid))
    assert result.errors == [RowError(str(path), 7, "system_title is the same as on line 3")]
    assert title not in _messages(result)


# --- references --------------------------------------------------------------------------------


def test_rows_depending_on_a_rejected_row_are_rejected_too(estate):
    grid, folder = estate
    _set(folder / TOPOLOGY, 2, "area", "NO9")
    gone = grid.transformers[0].transformer_id
    result = read_estate([folder])
    expected = [
        RowError(str(folder / TOPOLOGY), 2, "area must be NO1, NO2, NO3, NO4 or NO5, not 'NO9'")
    ]
    lost = set()
    for line, point in enumerate(grid.metering_points, 2):
        if point.transformer_id == gone:
            lost.add(point.metering_point_id)
            expected.append(
                RowError(
                    str(folder / POINTS),
                    line,
                    f"transformer_id '{gone}' is a rejected row ({folder / TOPOLOGY} line 2)",
                )
            )
    point_lines = {p.metering_point_id: n for n, p in enumerate(grid.metering_points, 2)}
    for line, meter in enumerate(grid.meters, 2):
        if meter.metering_point_id in lost:
            expected.append(
                RowError(
                    str(folder / METERS),
                    line,
                    f"metering_point_id '{meter.metering_point_id}' is a rejected row "
                    f"({folder / POINTS} line {point_lines[meter.metering_point_id]})",
                )
            )
    assert len(lost) >= 20
    assert result.errors == expected
    assert len(result.metering_points) == len(grid.metering_points) - len(lost)
    assert len(result.meters) == len(grid.meters) - len(lost)
    assert len(result.customers) == len(grid.customers)
    assert [f.rows_accepted for f in result.files] == [
        len(grid.transformers) - 1,
        len(grid.metering_points) - len(lost),
        len(grid.customers),
        len(grid.meters) - len(lost),
    ]


def test_an_unknown_reference_is_reported_and_a_known_one_is_not(estate):
    grid, folder = estate
    _set(folder / POINTS, 5, "transformer_id", "NS-NO1-99999")
    _set(folder / POINTS, 5, "customer_id", "C99999999")
    point = grid.metering_points[3].metering_point_id
    meter_line = 2 + next(i for i, m in enumerate(grid.meters) if m.metering_point_id == point)
    result = read_estate([folder])
    assert result.errors == [
        RowError(
            str(folder / POINTS),
            5,
            "transformer_id 'NS-NO1-99999' is neither in the files read nor already known",
        ),
        RowError(
            str(folder / POINTS),
            5,
            "customer_id 'C99999999' is neither in the files read nor already known",
        ),
        RowError(
            str(folder / METERS),
            meter_line,
            f"metering_point_id '{point}' is a rejected row ({folder / POINTS} line 5)",
        ),
    ]
    known = KnownIds(transformers={"NS-NO1-99999"}, customers={"C99999999"})
    assert read_estate([folder], known=known).errors == []


def test_a_customer_missing_from_its_file_rejects_its_metering_point(estate):
    grid, folder = estate
    rows = _rows(folder / CUSTOMERS)
    del rows[7]
    _write(folder / CUSTOMERS, rows)
    gone = grid.customers[6].customer_id
    line = 2 + next(i for i, p in enumerate(grid.metering_points) if p.customer_id == gone)
    result = read_estate([folder])
    assert result.errors[0] == RowError(
        str(folder / POINTS),
        line,
        f"customer_id '{gone}' is neither in the files read nor already known",
    )
    assert [e.source for e in result.errors] == [str(folder / POINTS), str(folder / METERS)]


# --- encodings and line ends -------------------------------------------------------------------


def test_bom_crlf_blank_lines_and_quoted_newlines_keep_the_line_numbers(estate, tmp_path):
    grid, folder = estate
    rows = _rows(folder / CUSTOMERS)
    rows[2][1] = "Kari\nNordmann"  # data row 2, quoted over lines 3 and 4
    rows[3][:2] = ["", "Per\nHansen"]  # data row 3, lines 5 and 6, lacks its id
    rows[5][1] = ""  # data row 5: line 8, and line 10 once two blank lines come before it
    text = "".join(",".join(f'"{v}"' if "\n" in v else v for v in row) + "\n" for row in rows)
    lines = text.split("\n")
    lines[7:7] = ["", "   "]  # two blank lines after line 7
    path = tmp_path / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    result = read_estate([path])
    assert result.errors == [
        RowError(str(path), 5, "customer_id is empty"),
        RowError(str(path), 10, "name is empty"),
    ]
    assert result.customers[1].name == "Kari\r\nNordmann"
    assert result.customers[0].customer_id == grid.customers[0].customer_id
    assert result.customers[2].customer_id == grid.customers[3].customer_id
    assert result.files == [
        FileSummary(str(path), CUSTOMERS, len(grid.customers), len(grid.customers) - 2)
    ]


def test_a_file_that_is_not_utf8_is_one_error_at_the_first_bad_byte(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(
        "customer_id,name,mobile,email\nC1,Kari,,\nC2,Åse,,\n".encode()
        + "C3,Åse,,\nC4,Øystein,,\n".encode("latin-1")
    )
    result = read_estate([path])
    assert result.errors == [
        RowError(
            str(path),
            4,
            "the file is not UTF-8 text: byte 0xc5 on this line is the first that is not. "
            "The file is skipped",
        )
    ]
    assert result.customers == []
    assert result.files == [FileSummary(str(path), None, 0, 0)]


def test_a_utf16_file_is_refused(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,name,mobile,email\nC1,Kari,,\n".encode("utf-16-le"))
    result = read_estate([path])
    assert len(result.errors) == 1
    assert result.errors[0].line == 1
    assert "NUL" in result.errors[0].message
    assert result.customers == []


def test_a_value_too_large_for_csv_stops_that_file_only(estate, tmp_path):
    grid, folder = estate
    path = tmp_path / "c.csv"
    rows = _rows(folder / CUSTOMERS)
    rows[3][1] = "x" * 200_000
    _write(path, rows)
    result = read_estate([path, folder / TOPOLOGY])
    assert [(e.source, e.line) for e in result.errors] == [(str(path), 4)]
    assert "the rest is skipped" in result.errors[0].message
    assert len(result.customers) == 2
    assert len(result.transformers) == len(grid.transformers)


# --- keys --------------------------------------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"
bad_keys = st.text(alphabet=_HEX + "ghijxyz -", min_size=12, max_size=64).filter(
    lambda k: not (len(k) == 32 and all(c in _HEX for c in k))
)


SMALL = build_grid(meters=3, seed=5)


@given(bad_keys, st.sampled_from(["ek", "ak", "push_interval_s", "phases"]))
def test_key_material_never_appears_in_a_message(bad, column):
    meter = SMALL.meters[1]
    columns = list(FORMATS[METERS])
    values = [
        meter.meter_id,
        meter.metering_point_id,
        meter.manufacturer,
        meter.meter_type,
        str(meter.phases),
        meter.system_title.hex(),
        meter.ek.hex(),
        meter.ak.hex(),
        str(meter.push_interval_s),
    ]
    values[columns.index("ak" if column == "ak" else "ek")] = bad
    if column not in ("ek", "ak"):  # and the real key shifted into a column it does not belong
        values[columns.index(column)] = meter.ek.hex().upper()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keys.csv"
        _write(path, [columns, values])
        result = read_estate([path], known=_known(SMALL))
    text = _messages(result) + repr(result)
    assert len(result.errors) == (1 if column in ("ek", "ak") else 2)
    assert result.meters == []
    for secret in (bad, meter.ek.hex(), meter.ek.hex().upper(), meter.ak.hex()):
        assert secret not in text


def test_a_meter_record_does_not_show_its_keys():
    record = MeterRecord(
        "1",
        "707057500000000018",
        "Kaifa",
        "MA304H3E",
        3,
        b"KFM\x10\x00\x00\x00\x01",
        bytes(range(16)),
        bytes(range(16, 32)),
        900,
    )
    text = repr(record)
    assert "system_title" in text
    assert "ek=" not in text
    assert "ak=" not in text
    assert bytes(range(16)).hex() not in text
    assert repr(bytes(range(16))) not in text


# --- size --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_hundred_thousand_meters_are_read_whole(tmp_path):
    # how fast is a benchmark's business, not a test's: a busy machine must not fail CI
    grid = _estate(tmp_path, meters=100_000, seed=1)
    result = read_estate([tmp_path])
    assert result.errors == []
    assert len(result.meters) == len(grid.meters) == 100_000
    assert {m.meter_id for m in result.meters} == {m.meter_id for m in grid.meters}

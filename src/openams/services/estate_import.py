"""Reading a grid company's estate files into checked records (``ams meters import``).

The four formats are those of docs/sim-grid.md: ``topology.csv`` (secondary substations),
``metering_points.csv``, ``customers.csv`` and ``meters.csv``. A directory gives the files of
those names it holds; a file given on its own is recognised by its header, whatever its name.
Then every row is checked, and after all files are read every reference between them
(metering point -> secondary substation and customer, meter -> metering point) is resolved
against the rows accepted and the ids the caller already knows (:class:`KnownIds`).

Invariants:
    * A row is either returned as a record or reported as at least one :class:`RowError`
      naming its file and line; a bad row never stops the good rows around it. (One thing
      does: a value over the ``csv`` module's 128 KiB field limit ends the reading of its
      file, reported on its line.)
    * A file is skipped whole, with one error, when it is not UTF-8 text, holds a NUL, is
      empty, or has a header that does not name exactly one format's columns once each.
    * A row that refers to a rejected or unknown row is rejected too, with the reason.
    * No message contains key material: ``ek``, ``ak`` and ``system_title`` are described,
      never quoted, and a quoted value holding 32 hex digits in a row is not shown either (a
      key shifted into the wrong column must not leak through another column's message).
    * Reading is all the I/O: nothing is written, no clock or network is used.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from openams.domain.estate import (
    GRID_TYPES,
    MAIN_FUSE_RANGE_A,
    NOMINAL_VOLTAGES_V,
    PHASES,
    PRICE_AREAS,
    PUSH_INTERVALS_S,
    Customer,
    MeteringPoint,
    MeterRecord,
    RowError,
    Transformer,
)
from openams.domain.identifiers import (
    GSRN_LENGTH,
    SYSTEM_TITLE_LENGTH,
    gsrn_check_digit,
    is_valid_gsrn,
    is_valid_system_title,
)
from openams.errors import InputError

__all__ = ["FORMATS", "EstateFiles", "FileSummary", "KnownIds", "read_estate"]

R = TypeVar("R")

#: Format name (the file name the simulator writes) -> required columns, in the usual order.
FORMATS: dict[str, tuple[str, ...]] = {
    "topology.csv": (
        "transformer_id",
        "feeder_id",
        "substation_id",
        "area",
        "grid_type",
        "nominal_voltage_v",
    ),
    "metering_points.csv": (
        "metering_point_id",
        "transformer_id",
        "customer_id",
        "customer_type",
        "street",
        "house_number",
        "postcode",
        "municipality",
        "area",
        "main_fuse_a",
        "phases",
        "grid_type",
    ),
    "customers.csv": ("customer_id", "name", "mobile", "email"),
    "meters.csv": (
        "meter_id",
        "metering_point_id",
        "manufacturer",
        "meter_type",
        "phases",
        "system_title",
        "ek",
        "ak",
        "push_interval_s",
    ),
}

_KEY_BYTES = 16
_FUSE_MIN_A, _FUSE_MAX_A = MAIN_FUSE_RANGE_A
# Exact spellings accepted for the restricted numbers; "03" or "3.0" is not a phase count.
_PHASES = {str(n): n for n in PHASES}
_VOLTAGES_V = {str(n): n for n in NOMINAL_VOLTAGES_V}
_INTERVALS_S = {str(n): n for n in PUSH_INTERVALS_S}
_AREAS = frozenset(PRICE_AREAS)
_GRID_TYPES = frozenset(GRID_TYPES)
_LONG_HEX = re.compile(r"[0-9A-Fa-f]{32}")
_SHOWN_MAX = 60


@dataclass(frozen=True, slots=True)
class KnownIds:
    """Ids that already exist (in the database), so rows in the files may refer to them."""

    transformers: AbstractSet[str] = frozenset()
    metering_points: AbstractSet[str] = frozenset()
    customers: AbstractSet[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What became of one file.

    ``kind`` is the format recognised (``"meters.csv"`` and so on), or None when the file was
    skipped whole; ``rows_read`` counts the non-blank data rows read and ``rows_accepted``
    those returned as records.
    """

    source: str
    kind: str | None
    rows_read: int
    rows_accepted: int


@dataclass(frozen=True, slots=True)
class EstateFiles:
    """The records read from the estate files, the rows rejected, and a summary per file.

    The records are in file order; ``errors`` are ordered by file (as given) and line.
    """

    transformers: list[Transformer] = field(default_factory=list)
    metering_points: list[MeteringPoint] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    meters: list[MeterRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)


# --- messages --------------------------------------------------------------------------------


def _shown(value: str) -> str:
    """``value`` quoted for a message, unless it may be a key."""
    if _LONG_HEX.search(value):
        return "(a value holding 32 hex digits, not shown)"
    if len(value) > _SHOWN_MAX:
        return repr(value[:_SHOWN_MAX]) + "..."
    return repr(value)


def _one_of(column: str, allowed: Sequence[object], value: str) -> str:
    choices = ", ".join(str(a) for a in allowed[:-1]) + f" or {allowed[-1]}"
    return f"{column} must be {choices}, not {_shown(value)}"


def _empty(column: str) -> str:
    return f"{column} is empty"


def _bad_gsrn(column: str, value: str) -> str:
    if len(value) == GSRN_LENGTH and value.isascii() and value.isdigit():
        expected = gsrn_check_digit(value[:-1])
        return f"{column} {_shown(value)} has a wrong GSRN check digit (expected {expected})"
    return f"{column} must be an 18-digit GSRN, not {_shown(value)}"


def _hex_bytes(text: str, size: int) -> bytes | None:
    if len(text) != 2 * size:
        return None
    try:
        value = bytes.fromhex(text)
    except ValueError:
        return None
    return value if len(value) == size else None


# --- one row of each format ------------------------------------------------------------------
# A parser takes the row's values in FORMATS order, surrounding spaces removed, appends one
# message per bad value to ``problems`` and returns the record only when there is none.


def _parse_transformer(v: list[str], problems: list[str]) -> Transformer | None:
    transformer_id, feeder_id, substation_id, area, grid_type, voltage = v
    for column, value in (
        ("transformer_id", transformer_id),
        ("feeder_id", feeder_id),
        ("substation_id", substation_id),
    ):
        if not value:
            problems.append(_empty(column))
    if area not in _AREAS:
        problems.append(_one_of("area", PRICE_AREAS, area))
    if grid_type not in _GRID_TYPES:
        problems.append(_one_of("grid_type", GRID_TYPES, grid_type))
    voltage_v = _VOLTAGES_V.get(voltage)
    if voltage_v is None:
        problems.append(_one_of("nominal_voltage_v", NOMINAL_VOLTAGES_V, voltage))
    if problems or voltage_v is None:
        return None
    return Transformer(transformer_id, feeder_id, substation_id, area, grid_type, voltage_v)


def _parse_metering_point(v: list[str], problems: list[str]) -> MeteringPoint | None:
    (point_id, transformer_id, customer_id, customer_type, street, house_number, postcode,
     municipality, area, fuse, phases, grid_type) = v  # fmt: skip
    if not is_valid_gsrn(point_id):
        problems.append(_bad_gsrn("metering_point_id", point_id))
    if not transformer_id:
        problems.append(_empty("transformer_id"))
    if not customer_id:
        problems.append(_empty("customer_id"))
    if area not in _AREAS:
        problems.append(_one_of("area", PRICE_AREAS, area))
    fuse_a = int(fuse) if fuse.isascii() and fuse.isdigit() else None
    if fuse_a is None or not _FUSE_MIN_A <= fuse_a <= _FUSE_MAX_A:
        problems.append(
            f"main_fuse_a must be a whole number from {_FUSE_MIN_A} to {_FUSE_MAX_A} [A], "
            f"not {_shown(fuse)}"
        )
    n_phases = _PHASES.get(phases)
    if n_phases is None:
        problems.append(_one_of("phases", PHASES, phases))
    if grid_type not in _GRID_TYPES:
        problems.append(_one_of("grid_type", GRID_TYPES, grid_type))
    if problems or fuse_a is None or n_phases is None:
        return None
    return MeteringPoint(
        point_id, transformer_id, customer_id, customer_type, street, house_number, postcode,
        municipality, area, fuse_a, n_phases, grid_type,
    )  # fmt: skip


def _parse_customer(v: list[str], problems: list[str]) -> Customer | None:
    customer_id, name, mobile, email = v
    if not customer_id:
        problems.append(_empty("customer_id"))
    if not name:
        problems.append(_empty("name"))
    # Mobile and e-mail are kept as delivered, even empty or malformed: the roll-out copes.
    return None if problems else Customer(customer_id, name, mobile, email)


def _parse_meter(v: list[str], problems: list[str]) -> MeterRecord | None:
    meter_id, point_id, manufacturer, meter_type, phases, title_hex, ek_hex, ak_hex, push = v
    if not meter_id:
        problems.append(_empty("meter_id"))
    if not is_valid_gsrn(point_id):
        problems.append(_bad_gsrn("metering_point_id", point_id))
    if not manufacturer:
        problems.append(_empty("manufacturer"))
    n_phases = _PHASES.get(phases)
    if n_phases is None:
        problems.append(_one_of("phases", PHASES, phases))
    # The key material is described, never quoted.
    title = _hex_bytes(title_hex, SYSTEM_TITLE_LENGTH)
    if title is None or not is_valid_system_title(title):
        problems.append(f"system_title must be {2 * SYSTEM_TITLE_LENGTH} hex digits")
    ek = _hex_bytes(ek_hex, _KEY_BYTES)
    if ek is None:
        problems.append(f"ek must be {2 * _KEY_BYTES} hex digits")
    ak = _hex_bytes(ak_hex, _KEY_BYTES)
    if ak is None:
        problems.append(f"ak must be {2 * _KEY_BYTES} hex digits")
    interval_s = _INTERVALS_S.get(push)
    if interval_s is None:
        problems.append(_one_of("push_interval_s", PUSH_INTERVALS_S, push))
    if (
        problems
        or n_phases is None
        or title is None
        or ek is None
        or ak is None
        or interval_s is None
    ):
        return None
    return MeterRecord(
        meter_id, point_id, manufacturer, meter_type, n_phases, title, ek, ak, interval_s
    )


# --- the tables being filled ------------------------------------------------------------------

_Where = tuple[int, int]  # (index of the file, line)


@dataclass(slots=True)
class _Table(Generic[R]):
    """The rows of one format, gathered over all files of that format."""

    kind: str
    parse: Callable[[list[str], list[str]], R | None]
    #: A second column that must be unique but is secret enough never to be quoted.
    unique_unquoted: tuple[str, Callable[[R], object]] | None = None
    # The accepted rows as three parallel lists rather than one list of tuples: 300,000 fewer
    # objects for the garbage collector to trace.
    records: list[R] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    seen: dict[str, _Where] = field(default_factory=dict)
    seen_unquoted: dict[object, _Where] = field(default_factory=dict)
    rejected: dict[str, _Where] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return FORMATS[self.kind]

    @property
    def key(self) -> str:
        return self.columns[0]

    def keep(self, keep: list[bool]) -> None:
        """Keep the accepted rows whose flag is true."""
        self.records = list(itertools.compress(self.records, keep))
        self.files = list(itertools.compress(self.files, keep))
        self.lines = list(itertools.compress(self.lines, keep))

    def read_rows(
        self, job: _Import, index: int, reader: _Reader, end: int, names: list[str]
    ) -> None:
        """Check and keep the data rows of one file of this format.

        ``end`` is the last line of the header: a quoted value may span lines, so a row's line
        is the one after the end of the row before it.
        """
        # The hot loop of an import: 100,000 meters mean 300,000 rows, so it is kept flat.
        pick = operator.itemgetter(*(names.index(c) for c in self.columns))
        strip = str.strip
        width = len(names)
        parse = self.parse
        seen = self.seen
        read = 0
        try:
            for row in reader:
                line, end = end + 1, reader.line_num
                if _is_blank(row):
                    continue
                read += 1
                if len(row) != width:
                    job.error(index, line, f"the row has {len(row)} values, the header {width}")
                    continue
                values = list(map(strip, pick(row)))
                problems: list[str] = []
                record = parse(values, problems)
                key = values[0]
                if record is None:
                    for problem in problems:
                        job.error(index, line, problem)
                    if key and key not in seen:
                        self.rejected.setdefault(key, (index, line))
                    continue
                first = seen.get(key)
                if first is not None:
                    job.error(
                        index,
                        line,
                        f"{self.key} {_shown(key)} appears again; "
                        f"first on {job.where(*first, index)}",
                    )
                    continue
                if self.unique_unquoted is not None and not self._unique(job, index, line, record):
                    continue
                seen[key] = (index, line)
                self.records.append(record)
                self.files.append(index)
                self.lines.append(line)
        finally:
            job.read[index] += read

    def _unique(self, job: _Import, index: int, line: int, record: R) -> bool:
        """Whether the unquoted unique column of ``record`` is new; reports it if not."""
        if self.unique_unquoted is None:
            return True
        column, get = self.unique_unquoted
        value = get(record)
        first = self.seen_unquoted.get(value)
        if first is not None:
            job.error(index, line, f"{column} is the same as on {job.where(*first, index)}")
            return False
        self.seen_unquoted[value] = (index, line)
        return True


_AnyTable = _Table[Transformer] | _Table[MeteringPoint] | _Table[Customer] | _Table[MeterRecord]


class _Reader(Protocol):
    """What is used of a ``csv.reader``."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


class _Import:
    """One call of :func:`read_estate`: the tables, the errors and the files read."""

    def __init__(self, known: KnownIds) -> None:
        self.known = known
        self.transformers: _Table[Transformer] = _Table("topology.csv", _parse_transformer)
        self.points: _Table[MeteringPoint] = _Table("metering_points.csv", _parse_metering_point)
        self.customers: _Table[Customer] = _Table("customers.csv", _parse_customer)
        self.meters: _Table[MeterRecord] = _Table(
            "meters.csv", _parse_meter, ("system_title", _system_title)
        )
        self.sources: list[str] = []
        self.kinds: list[str | None] = []
        self.read: list[int] = []
        self._errors: list[tuple[int, int, RowError]] = []

    def error(self, index: int, line: int, message: str) -> None:
        self._errors.append((index, line, RowError(self.sources[index], line, message)))

    def where(self, index: int, line: int, here: int) -> str:
        """``line N`` within file ``here``, else ``FILE line N``."""
        return f"line {line}" if index == here else f"{self.sources[index]} line {line}"

    # --- files ---

    def read_file(self, path: Path) -> None:
        index = len(self.sources)
        self.sources.append(str(path))
        self.kinds.append(None)
        self.read.append(0)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", source=str(path)) from None
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.error(
                index,
                data.count(b"\n", 0, exc.start) + 1,
                f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} on this line is the "
                "first that is not. The file is skipped",
            )
            return
        nul = text.find("\x00")
        if nul >= 0:
            # UTF-16 without a byte order mark decodes as UTF-8 full of NULs; no database
            # text column takes a NUL either.
            self.error(
                index,
                text.count("\n", 0, nul) + 1,
                "the file holds a NUL character on this line, so it is not a text file "
                "(UTF-16 perhaps); save it as UTF-8. The file is skipped",
            )
            return
        reader: _Reader = csv.reader(io.StringIO(text, newline=""))
        try:
            end = 0
            for header in reader:
                line, end = end + 1, reader.line_num
                if not _is_blank(header):
                    break
            else:
                self.error(index, 1, "the file is empty: it has no header. The file is skipped")
                return
            names = [name.strip().lower() for name in header]
            table = self.recognise(index, line, names, header)
            if table is not None:
                self.kinds[index] = table.kind
                table.read_rows(self, index, reader, end, names)
        except csv.Error as exc:
            self.error(index, reader.line_num, f"not readable as CSV ({exc}); the rest is skipped")

    def recognise(
        self, index: int, line: int, names: list[str], header: list[str]
    ) -> _AnyTable | None:
        """The table a header belongs to; reports a header that fits none, or not exactly.

        ``names`` are the column names compared (``header`` stripped and in lower case).
        """
        tables: tuple[_AnyTable, ...] = (self.transformers, self.points, self.customers,
                                         self.meters)  # fmt: skip
        present = set(names)
        matches = [t for t in tables if present.issuperset(t.columns)]
        if not matches:
            message = "the header matches none of the estate formats (" + ", ".join(FORMATS) + ")"
            closest = max(tables, key=lambda t: len(present.intersection(t.columns)))
            if present.intersection(closest.columns):
                missing = [c for c in closest.columns if c not in present]
                message += f"; nearest is {closest.kind}, which also needs " + ", ".join(missing)
            self.error(index, line, message + ". The file is skipped")
            return None
        if len(matches) > 1:
            both = " and ".join(t.kind for t in matches)
            self.error(
                index,
                line,
                f"the header holds the columns of {both}; give each in a file of its own. "
                "The file is skipped",
            )
            return None
        table = matches[0]
        twice = [c for c in table.columns if names.count(c) > 1]
        if twice:
            self.error(
                index,
                line,
                "the header names " + ", ".join(twice) + " more than once, so the values are "
                "ambiguous. The file is skipped",
            )
            return None
        expected = set(table.columns)
        pairs = zip(header, names, strict=True)
        unknown = list(dict.fromkeys(h.strip() for h, n in pairs if n not in expected))
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            self.error(
                index,
                line,
                f"unknown column{plural} " + ", ".join(repr(n) for n in unknown) + f" ignored: "
                f"{table.kind} has the columns " + ", ".join(table.columns) + "; the rows are "
                f"read without the unknown column{plural}",
            )
        return table

    # --- references ---

    def unresolved(self, column: str, value: str, target: _Table[R]) -> str:
        """The message for a reference ``value`` that is neither accepted nor known."""
        rejected = target.rejected.get(value)
        if rejected is not None:
            index, line = rejected
            return f"{column} {_shown(value)} is a rejected row ({self.sources[index]} line {line})"
        return f"{column} {_shown(value)} is neither in the files read nor already known"

    def resolve(self) -> None:
        """Drop the rows whose references do not resolve, in dependency order."""
        transformers, known_transformers = self.transformers.seen, self.known.transformers
        customers, known_customers = self.customers.seen, self.known.customers
        points = self.points
        keep = [
            (p.transformer_id in transformers or p.transformer_id in known_transformers)
            and (p.customer_id in customers or p.customer_id in known_customers)
            for p in points.records
        ]
        for point, index, line, ok in zip(
            points.records, points.files, points.lines, keep, strict=True
        ):
            if ok:
                continue
            tid, cid = point.transformer_id, point.customer_id
            if tid not in transformers and tid not in known_transformers:
                self.error(index, line, self.unresolved("transformer_id", tid, self.transformers))
            if cid not in customers and cid not in known_customers:
                self.error(index, line, self.unresolved("customer_id", cid, self.customers))
            # The meters on this metering point are rejected in turn, naming this row.
            del points.seen[point.metering_point_id]
            points.rejected[point.metering_point_id] = (index, line)
        points.keep(keep)

        accepted, known_points = points.seen, self.known.metering_points
        meters = self.meters
        keep = [
            m.metering_point_id in accepted or m.metering_point_id in known_points
            for m in meters.records
        ]
        for meter, index, line, ok in zip(
            meters.records, meters.files, meters.lines, keep, strict=True
        ):
            if not ok:
                message = self.unresolved("metering_point_id", meter.metering_point_id, points)
                self.error(index, line, message)
        meters.keep(keep)

    def result(self) -> EstateFiles:
        accepted = [0] * len(self.sources)
        for table in (self.transformers, self.points, self.customers, self.meters):
            for index in table.files:
                accepted[index] += 1
        self._errors.sort(key=lambda e: (e[0], e[1]))
        return EstateFiles(
            transformers=self.transformers.records,
            metering_points=self.points.records,
            customers=self.customers.records,
            meters=self.meters.records,
            errors=[error for _, _, error in self._errors],
            files=[
                FileSummary(source, kind, read, ok)
                for source, kind, read, ok in zip(
                    self.sources, self.kinds, self.read, accepted, strict=True
                )
            ],
        )


def _system_title(meter: MeterRecord) -> object:
    return meter.system_title


def _expand(paths: Sequence[Path]) -> list[Path]:
    """The files to read: those of the estate names in each directory, and each file given."""
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = [path / name for name in FORMATS if (path / name).is_file()]
        elif path.is_file():
            found = [path]
        else:
            raise InputError("no such file or directory", source=str(path))
        for file in found:
            resolved = file.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append(file)
    return files


def read_estate(paths: Sequence[Path], known: KnownIds | None = None) -> EstateFiles:
    """Read and check a grid company's estate files.

    Each path is a directory, whose ``topology.csv``, ``metering_points.csv``,
    ``customers.csv`` and ``meters.csv`` are read (a missing one is not imported), or a single
    file, whose format is recognised from its header. A file named twice is read once.

    Args:
        paths: Directories and files, in the order their errors are to be listed.
        known: Ids already in the database; a row may refer to them instead of to a row in
            the files (the re-import of a single file).

    Returns:
        The accepted records, one :class:`RowError` per problem, and a summary per file.

    Raises:
        InputError: a path does not exist or a file cannot be read.
    """
    job = _Import(known if known is not None else KnownIds())
    for file in _expand(paths):
        job.read_file(file)
    job.resolve()
    return job.result()

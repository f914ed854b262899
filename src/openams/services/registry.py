"""``ams meters import``: the estate files into the store, meter keys wrapped on the way.

:func:`import_estate` reads and checks the files (:mod:`openams.services.estate_import`),
wraps every meter's keys with the key-encrypting key, and hands the good rows to the store in
one transaction: added where new, updated where known (a re-import updates). Bad rows are
reported with their file and line and the good rows still go in. Keys are in clear only
between reading the file and wrapping them, in memory; never in a message or a log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openams.domain.estate import RowError

from .estate_import import EstateFiles, FileSummary, KnownIds, read_estate
from .ports import EstateStore, KeyWrapper, WrappedMeter

__all__ = ["ImportReport", "import_estate"]


@dataclass(slots=True)
class ImportReport:
    """What an import did.

    Attributes:
        files: Per file: its kind, rows read and rows accepted.
        added: Rows added, per table.
        updated: Rows updated, per table.
        errors: Every row that did not go in, with its file and line.
    """

    files: list[FileSummary] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def import_estate(paths: Sequence[Path], store: EstateStore, vault: KeyWrapper) -> ImportReport:
    """Import estate files (directories or single files) into ``store``.

    Raises:
        InputError: a path that does not exist or cannot be read.
    """
    transformers, points, customers = store.known_ids()
    estate: EstateFiles = read_estate(paths, known=KnownIds(transformers, points, customers))
    errors = list(estate.errors)
    owners = store.system_title_owners([m.system_title for m in estate.meters])
    meters = []
    sources = {f.kind: f.source for f in estate.files}
    for meter in estate.meters:
        owner = owners.get(meter.system_title)
        if owner is not None and owner != meter.meter_id:
            errors.append(
                RowError(
                    sources.get("meters.csv", "meters.csv"),
                    0,
                    f"meter {meter.meter_id}: its system title belongs to meter {owner} "
                    "already; not imported",
                )
            )
            continue
        meters.append(
            WrappedMeter(
                meter_id=meter.meter_id,
                metering_point_id=meter.metering_point_id,
                manufacturer=meter.manufacturer,
                meter_type=meter.meter_type,
                phases=meter.phases,
                system_title=meter.system_title,
                ek_wrapped=vault.wrap(meter.ek),
                ak_wrapped=vault.wrap(meter.ak),
                kek_id=vault.kek_id,
                push_interval_s=meter.push_interval_s,
            )
        )
    counts = store.save_estate(
        estate.transformers, estate.customers, estate.metering_points, meters
    )
    return ImportReport(estate.files, counts.added, counts.updated, errors)

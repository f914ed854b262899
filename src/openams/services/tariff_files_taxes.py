"""Reading the state's taxes, VAT and support rules from a TOML file.

The format (the packaged ``openams/data/taxes.toml`` is the full example)::

    source = "Stortingets avgiftsvedtak; lov om Norgespris og strømstønad"

    [regions.finnmark_nord_troms]       # a region, named by a bare key
    name = "Finnmark og Nord-Troms"
    postcodes = ["9500-9999"]           # inclusive ranges, or single postcodes "9990"
    municipalities = ["Karlsøy", "Lyngen"]

    [[consumption_tax]]                 # likewise [[enova_fee]], [[vat]], [[support]],
    valid_from = 2026-01-01             #   [[norgespris]]
    valid_to = 2027-01-01               # optional, the first day it no longer applies
    value = "0.0713"                    # NOK/kWh; a fraction for VAT; the threshold for support
    customer_types = ["apartment"]      # optional, default every customer type
    exempt = "finnmark_nord_troms"      # optional, a region where it does not apply

    [[support]]                         # electricity support also needs
    share = "0.90"                      #   the share of the price above the threshold
    cap_kwh = 5000                      #   and the most kWh a month it covers
    [[norgespris]]                      # Norgespris needs cap_kwh

All five rule kinds must be present; ``vat = []`` says there is none. For a metering point
and a day, the first rule of a kind that applies wins (:class:`~openams.domain.taxes.TaxRules`).

Invariants:
    * Every problem is reported with its line; the rules are returned only when there is none.
    * Pure: a parsed document in, rules out.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from openams.domain.taxes import Region, Rule, TaxRules

from .tariff_files_toml import KeyPath, Reader, dotted, show

__all__ = ["CUSTOMER_TYPES", "RULE_KINDS", "parse_taxes"]

#: The customer types of the estate (``metering_points.csv``), as rules name them.
CUSTOMER_TYPES: Final = (
    "detached_house",
    "apartment",
    "cabin",
    "farm",
    "small_business",
    "prosumer_solar",
)
#: The arrays of rules a taxes file holds, in the order of :class:`TaxRules`.
RULE_KINDS: Final = ("consumption_tax", "enova_fee", "vat", "support", "norgespris")
_TOP_KEYS: Final = ("source", "regions", *RULE_KINDS)
_REGION_KEYS: Final = ("name", "postcodes", "municipalities")
_RULE_KEYS: Final = ("valid_from", "valid_to", "value", "customer_types", "exempt")
_EXTRA_KEYS: Final = {"support": ("share", "cap_kwh"), "norgespris": ("cap_kwh",)}
_POSTCODES: Final = re.compile(r"([0-9]{4})(?:-([0-9]{4}))?")
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)


def _postcodes(reader: Reader, value: object, path: KeyPath) -> tuple[tuple[int, int], ...] | None:
    if not isinstance(value, list):
        reader.problem(f"{dotted(path)} must be an array of strings, got {show(value)}", path)
        return None
    ranges: list[tuple[int, int]] = []
    good = True
    for index, item in enumerate(value):
        match = _POSTCODES.fullmatch(item.strip()) if isinstance(item, str) else None
        if match is None:
            reader.problem(
                f'{dotted(path)}: {show(item)} is not a postcode ("9990") or a range of them '
                '("9500-9999")',
                (*path, index),
            )
            good = False
            continue
        low = int(match.group(1))
        high = int(match.group(2) or match.group(1))
        if high < low:
            reader.problem(
                f"{dotted(path)}: the range {show(item)} ends before it starts", (*path, index)
            )
            good = False
            continue
        ranges.append((low, high))
    return tuple(ranges) if good else None


def _municipalities(reader: Reader, value: object, path: KeyPath) -> frozenset[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        reader.problem(
            f"{dotted(path)} must be an array of municipality names, got {show(value)}", path
        )
        return None
    return frozenset(str(v).strip() for v in value)


def _region(reader: Reader, raw: dict[str, object], path: KeyPath) -> Region | None:
    reader.keys(raw, path, _REGION_KEYS, ("name",))
    name = reader.text(raw["name"], (*path, "name")) if "name" in raw else None
    postcodes = _postcodes(reader, raw.get("postcodes", []), (*path, "postcodes"))
    places = _municipalities(reader, raw.get("municipalities", []), (*path, "municipalities"))
    if postcodes == () and places == frozenset():
        reader.problem(f"{dotted(path)}: give postcodes or municipalities (or both)", path)
        return None
    if name is None or postcodes is None or places is None:
        return None
    return Region(name, postcodes, places)


def _regions(reader: Reader, value: object) -> tuple[dict[str, Region], set[str]]:
    """The regions read, and the keys of all regions given (read or not)."""
    table = reader.table(value, ("regions",))
    if table is None:
        return {}, set()
    regions: dict[str, Region] = {}
    for key, raw in table.items():
        path: KeyPath = ("regions", key)
        region_table = reader.table(raw, path)
        region = _region(reader, region_table, path) if region_table is not None else None
        if region is not None:
            regions[key] = region
    return regions, set(table)


def _rule(
    reader: Reader,
    kind: str,
    raw: dict[str, object],
    path: KeyPath,
    regions: dict[str, Region],
    region_keys: set[str],
) -> Rule | None:
    extra = _EXTRA_KEYS.get(kind, ())
    before = len(reader.problems)
    reader.keys(raw, path, (*_RULE_KEYS, *extra), ("valid_from", "value", *extra))
    valid_from = (
        reader.day(raw["valid_from"], (*path, "valid_from")) if "valid_from" in raw else None
    )
    valid_to = reader.day(raw["valid_to"], (*path, "valid_to")) if "valid_to" in raw else None
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        reader.problem(
            f"{kind}.valid_to must be after valid_from ({valid_from}), got {valid_to}",
            (*path, "valid_to"),
        )
    high = _ONE if kind == "vat" else None
    value = (
        reader.decimal(raw["value"], (*path, "value"), low=_ZERO, high=high)
        if "value" in raw
        else None
    )
    types = None
    if "customer_types" in raw:
        types = reader.choices(raw["customer_types"], (*path, "customer_types"), CUSTOMER_TYPES)
    exempt = None
    if "exempt" in raw:
        key = reader.text(raw["exempt"], (*path, "exempt"))
        if key is not None and key not in region_keys:
            known = ", ".join(sorted(region_keys)) or "none"
            reader.problem(
                f"{kind}.exempt: unknown region {key!r}; the regions are: {known}",
                (*path, "exempt"),
            )
        exempt = regions.get(key) if key is not None else None
    share = cap = None
    if "share" in raw:
        share = reader.decimal(raw["share"], (*path, "share"), low=_ZERO, high=_ONE, above_low=True)
    if "cap_kwh" in raw:
        cap = reader.decimal(raw["cap_kwh"], (*path, "cap_kwh"), low=_ZERO, above_low=True)
    if len(reader.problems) > before or valid_from is None or value is None:
        return None
    return Rule(valid_from, valid_to, value, types, exempt, share, cap)


def parse_taxes(reader: Reader, document: dict[str, object]) -> TaxRules | None:
    """The rules of a parsed taxes document, or ``None`` with the problems in ``reader``."""
    reader.keys(document, (), _TOP_KEYS, RULE_KINDS)
    source = ""
    if "source" in document:
        source = reader.text(document["source"], ("source",), empty=True) or ""
    regions, region_keys = _regions(reader, document.get("regions", {}))
    found: dict[str, list[Rule]] = {}
    for kind in RULE_KINDS:
        found[kind] = []
        if kind not in document:
            continue
        for index, raw in reader.tables(document[kind], (kind,), f"[[{kind}]]"):
            rule = _rule(reader, kind, raw, (kind, index), regions, region_keys)
            if rule is not None:
                found[kind].append(rule)
    if reader.problems:
        return None
    return TaxRules(
        consumption_tax=tuple(found["consumption_tax"]),
        enova_fee=tuple(found["enova_fee"]),
        vat=tuple(found["vat"]),
        support=tuple(found["support"]),
        norgespris=tuple(found["norgespris"]),
        source=source,
    )

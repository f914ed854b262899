"""The state's part of a grid bill: taxes, VAT, electricity support and Norgespris, as data.

The grid company collects, with its own tariff:

* the **consumption tax** (*forbruksavgift*, *elavgift*), per kWh; none in Finnmark and
  seven municipalities of Nord-Troms;
* the **Enova fee** (*Enova-påslaget*), per kWh for households;
* **VAT** (*merverdiavgift*), 25 %, on all of it; none for households in Nordland, Troms
  and Finnmark;

and it pays out the state's support to households:

* **electricity support** (*strømstøtte*): a share (90 %) of the hourly spot price above a
  threshold, both excluding VAT, for consumption up to a cap per month;
* or, for a metering point that chose it, **Norgespris**: the customer pays a fixed price
  per kWh for consumption up to a cap per month, and the grid company settles the
  difference to the hourly spot price (a credit when spot is above it, a charge below).

Each is a list of :class:`Rule` with validity periods, customer types and regions, so a
change in the state budget is a new rule, not new code. The values live in a TOML file
(``openams/data/taxes.toml``, with sources) read by :mod:`openams.services.tariff_files`.

Invariants:
    * Money is :class:`~decimal.Decimal`; nothing here rounds.
    * Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["Region", "Rule", "TaxRules"]


@dataclass(frozen=True, slots=True)
class Region:
    """Places named by postcode ranges and municipality names.

    Attributes:
        name: What the region is called, such as ``"Nordland, Troms og Finnmark"``.
        postcodes: Inclusive ranges of four-digit postcodes, as integers.
        municipalities: Municipality names, as the estate spells them.
    """

    name: str
    postcodes: tuple[tuple[int, int], ...] = ()
    municipalities: frozenset[str] = frozenset()

    def contains(self, postcode: str, municipality: str) -> bool:
        """Whether a metering point's postcode or municipality lies in the region."""
        if municipality in self.municipalities:
            return True
        if not postcode.isdigit():
            return False
        number = int(postcode)
        return any(low <= number <= high for low, high in self.postcodes)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rate of a tax or support, for some days, customer types and places.

    Attributes:
        valid_from: First day it applies.
        valid_to: First day it no longer applies; ``None`` while it still does.
        value: The rate: NOK/kWh for taxes and prices, a fraction for VAT, the threshold
            in NOK/kWh for electricity support.
        customer_types: The customer types it applies to; ``None`` for all.
        exempt: Where it does not apply.
        share: For electricity support, the share of the price above the threshold.
        cap_kwh: For support and Norgespris, the most kWh a month it covers.
    """

    valid_from: date
    valid_to: date | None
    value: Decimal
    customer_types: frozenset[str] | None = None
    exempt: Region | None = None
    share: Decimal | None = None
    cap_kwh: Decimal | None = None

    def applies(self, day: date, customer_type: str, postcode: str, municipality: str) -> bool:
        """Whether the rule applies to a metering point on a day."""
        if day < self.valid_from or (self.valid_to is not None and day >= self.valid_to):
            return False
        if self.customer_types is not None and customer_type not in self.customer_types:
            return False
        return self.exempt is None or not self.exempt.contains(postcode, municipality)


def _first(
    rules: tuple[Rule, ...], day: date, customer_type: str, postcode: str, municipality: str
) -> Rule | None:
    for rule in rules:
        if rule.applies(day, customer_type, postcode, municipality):
            return rule
    return None


@dataclass(frozen=True, slots=True)
class TaxRules:
    """The taxes, VAT and support rules, each a tuple of rules; the first that applies wins.

    A metering point exempt from a tax, or a day no rule covers, gets no rate (``None``)
    and the bill no line for it.
    """

    consumption_tax: tuple[Rule, ...]
    enova_fee: tuple[Rule, ...]
    vat: tuple[Rule, ...]
    support: tuple[Rule, ...]
    norgespris: tuple[Rule, ...]
    source: str = ""

    def consumption_tax_on(
        self, day: date, customer_type: str, postcode: str, municipality: str
    ) -> Rule | None:
        """The consumption tax rule of a day and place."""
        return _first(self.consumption_tax, day, customer_type, postcode, municipality)

    def enova_fee_on(
        self, day: date, customer_type: str, postcode: str, municipality: str
    ) -> Rule | None:
        """The Enova fee rule of a day and place."""
        return _first(self.enova_fee, day, customer_type, postcode, municipality)

    def vat_on(
        self, day: date, customer_type: str, postcode: str, municipality: str
    ) -> Rule | None:
        """The VAT rule of a day and place."""
        return _first(self.vat, day, customer_type, postcode, municipality)

    def support_on(
        self, day: date, customer_type: str, postcode: str, municipality: str
    ) -> Rule | None:
        """The electricity support rule of a day and place."""
        return _first(self.support, day, customer_type, postcode, municipality)

    def norgespris_on(
        self, day: date, customer_type: str, postcode: str, municipality: str
    ) -> Rule | None:
        """The Norgespris rule of a day and place."""
        return _first(self.norgespris, day, customer_type, postcode, municipality)

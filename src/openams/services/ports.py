"""The ports the use cases depend on; adapters (openams.store, openams.keyvault) fulfil them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from openams.domain.estate import Customer, MeteringPoint, Transformer

__all__ = ["EstateStore", "KeyWrapper", "SavedCounts", "WrappedMeter"]


class KeyWrapper(Protocol):
    """Wraps meter keys under a key-encrypting key (``openams.keyvault.KeyVault``)."""

    @property
    def kek_id(self) -> str:
        """Which key-encrypting key wraps."""
        ...

    def wrap(self, key: bytes) -> bytes:
        """The wrapped form of ``key``."""
        ...


@dataclass(frozen=True, slots=True)
class WrappedMeter:
    """A meter as stored: its keys wrapped, never in clear."""

    meter_id: str
    metering_point_id: str
    manufacturer: str
    meter_type: str
    phases: int
    system_title: bytes
    ek_wrapped: bytes
    ak_wrapped: bytes
    kek_id: str
    push_interval_s: int


@dataclass(frozen=True, slots=True)
class SavedCounts:
    """Rows added and rows updated, per table."""

    added: dict[str, int]
    updated: dict[str, int]


class EstateStore(Protocol):
    """Where the estate is kept."""

    def known_ids(self) -> tuple[set[str], set[str], set[str]]:
        """Ids already stored: (transformers, metering points, customers)."""
        ...

    def system_title_owners(self, titles: Sequence[bytes]) -> dict[bytes, str]:
        """Which stored meter has each of these system titles (absent: none)."""
        ...

    def save_estate(
        self,
        transformers: Sequence[Transformer],
        customers: Sequence[Customer],
        metering_points: Sequence[MeteringPoint],
        meters: Sequence[WrappedMeter],
    ) -> SavedCounts:
        """Add or update every row, all or nothing."""
        ...

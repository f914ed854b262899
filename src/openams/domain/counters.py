"""Which invocation counters a head-end has already accepted from a meter: a sliding window.

A meter's invocation counter grows with every push it sends. A head-end that accepted only a
counter above the highest one seen would refuse every push that arrives late behind a newer
one, and late pushes are normal on radio networks. Like IPsec's anti-replay window (RFC 4303,
section 3.4.3), :class:`CounterWindow` remembers which of the last ``size`` counters below
the highest were accepted: a counter above the highest, or inside the window and not yet
seen, is new; one already seen is a copy (a duplicate from the network, or a replay); one
below the window cannot be told apart from a replay and is refused as such.

Only a push whose tag verified may :meth:`CounterWindow.accept` its counter: otherwise a
forged push could move the window and lock the meter out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["DEFAULT_WINDOW", "CounterVerdict", "CounterWindow"]

#: Counters remembered below the highest: 85 days of hourly pushes, 21 of quarter-hourly.
DEFAULT_WINDOW = 2048


class CounterVerdict(enum.Enum):
    """What a counter is to a window."""

    NEW = "new"  #: never accepted: go on (decrypt, then accept)
    SEEN = "seen"  #: accepted before: a duplicate or a replay
    TOO_OLD = "too_old"  #: below the window: refused as a replay


@dataclass(slots=True)
class CounterWindow:
    """The accepted counters of one meter.

    Attributes:
        highest: The highest counter accepted, or ``None`` before the first.
        seen: Bit ``i`` set when counter ``highest - i`` was accepted (bit 0 is ``highest``).
        size: How many counters the window spans.
    """

    highest: int | None = None
    seen: int = 0
    size: int = DEFAULT_WINDOW

    def verdict(self, counter: int) -> CounterVerdict:
        """What ``counter`` is, without changing the window."""
        if self.highest is None or counter > self.highest:
            return CounterVerdict.NEW
        behind = self.highest - counter
        if behind >= self.size:
            return CounterVerdict.TOO_OLD
        return CounterVerdict.SEEN if (self.seen >> behind) & 1 else CounterVerdict.NEW

    def accept(self, counter: int) -> None:
        """Record ``counter`` as accepted.

        Raises:
            ValueError: the counter is not new (check :meth:`verdict` first).
        """
        if self.verdict(counter) is not CounterVerdict.NEW:
            raise ValueError(f"counter {counter} is not new to this window")
        if self.highest is None:
            self.highest, self.seen = counter, 1
        elif counter > self.highest:
            shift = counter - self.highest
            mask = (1 << self.size) - 1
            self.seen = ((self.seen << shift) | 1) & mask if shift < self.size else 1
            self.highest = counter
        else:
            self.seen |= 1 << (self.highest - counter)

    def to_bytes(self) -> bytes:
        """The window as stored: the highest counter (8 bytes) and the bitmap."""
        if self.highest is None:
            return b""
        return self.highest.to_bytes(8, "big") + self.seen.to_bytes(self.size // 8, "big")

    @classmethod
    def from_bytes(cls, data: bytes | None, size: int = DEFAULT_WINDOW) -> CounterWindow:
        """A window from :meth:`to_bytes` (empty or ``None``: a meter never heard from).

        Raises:
            ValueError: data of the wrong length.
        """
        if not data:
            return cls(size=size)
        if len(data) != 8 + size // 8:
            raise ValueError(f"a counter window is {8 + size // 8} bytes, got {len(data)}")
        return cls(int.from_bytes(data[:8], "big"), int.from_bytes(data[8:], "big"), size)

"""Replay protection: a meter's invocation counter must increase from push to push.

The invocation counter is half of the AES-GCM initialisation vector, so a counter that does
not increase is either a replayed push (an attacker resending a captured one) or a meter
reusing an IV, which breaks GCM's confidentiality. Either way the push is refused.

Every ciphered push is checked against the guard, but only an *authenticated* push (its tag
verified) moves it forward, so a forged push cannot move a meter's counter and lock the real
meter out. Pushes without authentication (security control 0x20, or 0x00) cannot be trusted
to carry the meter's own counter: they are refused if they replay, never recorded.

The guard keeps its state in memory; the head-end persists it (``snapshot``/``restore``).

References:
    IEC 62056-5-3 (DLMS UA Green Book), clause 9.2.2.3 "Invocation counter".
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import ReplayError

__all__ = ["ReplayGuard"]


class ReplayGuard:
    """Remembers the highest invocation counter accepted per system title.

    Args:
        last: Counters accepted before (from persisted state), by system title.
    """

    def __init__(self, last: Mapping[bytes, int] | None = None) -> None:
        self._last: dict[bytes, int] = dict(last or {})

    def check(self, system_title: bytes, invocation_counter: int) -> None:
        """Refuse a counter that does not exceed the last one accepted for this meter.

        Raises:
            ReplayError: ``invocation_counter`` is not greater than the last accepted.
        """
        last = self._last.get(system_title)
        if last is not None and invocation_counter <= last:
            raise ReplayError(
                f"invocation counter {invocation_counter} of {system_title.hex()} does not "
                f"exceed {last} (replayed or re-ordered push)",
                invocation_counter=invocation_counter,
                last_invocation_counter=last,
            )

    def accept(self, system_title: bytes, invocation_counter: int) -> None:
        """Record ``invocation_counter`` as accepted (after :meth:`check` passed)."""
        self.check(system_title, invocation_counter)
        self._last[system_title] = invocation_counter

    def last(self, system_title: bytes) -> int | None:
        """The highest counter accepted for ``system_title``, if any."""
        return self._last.get(system_title)

    def snapshot(self) -> dict[bytes, int]:
        """A copy of the state, to persist."""
        return dict(self._last)

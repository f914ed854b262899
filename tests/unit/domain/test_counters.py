"""The counter window: late pushes pass once, copies and old counters do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openams.domain.counters import CounterVerdict, CounterWindow

NEW, SEEN, TOO_OLD = CounterVerdict.NEW, CounterVerdict.SEEN, CounterVerdict.TOO_OLD


def test_late_pushes_pass_once_copies_and_old_ones_do_not():
    window = CounterWindow(size=64)
    for counter in (100, 101, 103):
        window.accept(counter)
    assert window.verdict(102) is NEW  # arrived late, never seen
    window.accept(102)
    assert window.verdict(102) is SEEN  # a copy of it
    assert window.verdict(101) is SEEN
    assert window.verdict(104) is NEW
    assert window.verdict(103 - 64) is TOO_OLD
    assert window.verdict(103 - 63) is NEW
    with pytest.raises(ValueError, match="not new"):
        window.accept(101)


def test_a_jump_beyond_the_window_forgets_everything_behind():
    window = CounterWindow(size=16)
    window.accept(5)
    window.accept(1000)
    assert window.verdict(999) is NEW
    assert window.verdict(5) is TOO_OLD


@given(
    counters=st.lists(st.integers(0, 5000), max_size=200),
    size=st.sampled_from([8, 64, 2048]),
)
def test_the_window_agrees_with_the_set_of_accepted_counters(counters, size):
    """Model check: the window answers as a plain set of accepted counters would."""
    window = CounterWindow(size=size)
    accepted: set[int] = set()
    for counter in counters:
        highest = max(accepted, default=None)
        if highest is not None and counter <= highest - size:
            expected = TOO_OLD
        elif counter in accepted:
            expected = SEEN
        else:
            expected = NEW
        assert window.verdict(counter) is expected
        if expected is NEW:
            window.accept(counter)
            accepted.add(counter)
        again = CounterWindow.from_bytes(window.to_bytes(), size)
        assert (again.highest, again.seen) == (window.highest, window.seen)


def test_storage_form():
    assert CounterWindow.from_bytes(None).highest is None
    assert CounterWindow().to_bytes() == b""
    window = CounterWindow(size=16)
    window.accept(7)
    assert window.to_bytes() == (7).to_bytes(8, "big") + b"\x00\x01"
    with pytest.raises(ValueError, match="10 bytes"):
        CounterWindow.from_bytes(b"\x00" * 9, 16)

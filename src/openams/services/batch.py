"""Helpers for batch work over every metering point."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a block without the cyclic garbage collector.

    A day of every metering point makes hundreds of thousands of small tuples and dicts,
    none of them in reference cycles; the collector would walk them all again and again and
    doubles the time VEE and the export take. Reference counting still frees everything;
    the collector runs again after the block, as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

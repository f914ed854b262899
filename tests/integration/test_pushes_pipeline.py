"""Reading and decoding a file of pushes in worker processes gives what doing it here gives.

The file mixes the simulator's pushes with comments, blank lines, junk and other line forms,
and the chunks are made small so that line numbers must carry from one worker job to the
next: every push keeps its line, its arrival time, its bytes and its decoding.
"""

from __future__ import annotations

import csv
import io

import pytest

from openams.dlms import KeyPair, PushDecoder
from openams.services import pushes
from openams.services.pushes import Decoded, decode_raw, decoded_items, decoded_lines


def _keys(folder):
    with (folder / "grid" / "meters.csv").open(newline="") as fh:
        table = {
            bytes.fromhex(r["system_title"]): KeyPair(bytes.fromhex(r["ek"]),
                                                      bytes.fromhex(r["ak"]))
            for r in csv.DictReader(fh)
        }  # fmt: skip
    return table.get


@pytest.fixture
def mixed_file(fleet):
    folder, _ = fleet
    good = (folder / "pushes.jsonl").read_text().splitlines()[:400]
    lines = []
    for n, line in enumerate(good):
        lines.append(line)
        if n % 37 == 5:
            lines.extend(["", "# a comment", "not hex at all", "7e a0 07 ff"])
    return folder, ("\n".join(lines) + "\n").encode()


def _here(data: bytes, keys):
    decoder = PushDecoder(keys=keys)
    out = []
    for item, decoded in decoded_lines(io.BytesIO(data), keys, 1, source="m.jsonl", now_s=7):
        assert decoded is None  # one process: decoded by the consumer
        out.append((item, decode_raw(item.raw, decoder) if item.problem is None else None))
    return out


def test_workers_read_and_decode_as_this_process_does(mixed_file, monkeypatch):
    folder, data = mixed_file
    keys = _keys(folder)
    monkeypatch.setattr(pushes, "CHUNK", 3)  # jobs of a few lines: numbering crosses jobs
    here = _here(data, keys)
    there = list(decoded_lines(io.BytesIO(data), keys, 2, source="m.jsonl", now_s=7))
    assert [item for item, _ in there] == [item for item, _ in here]
    assert [None if d is None else Decoded(*d) for _, d in there] == [d for _, d in here]
    sources = [item.source for item, _ in here]
    assert sources[:8] == [f"m.jsonl:{n}" for n in (1, 2, 3, 4, 5, 6, 9, 10)]
    problems = [item for item, _ in here if item.problem is not None]
    assert len(problems) == 11
    assert all(p.raw == b"not hex at all" for p in problems)
    bad = [d for item, d in here if item.raw == bytes.fromhex("7ea007ff")]
    assert len(bad) == 11
    assert all(d is not None and d.error == "bad_frame" for d in bad)
    assert sum(1 for _, d in here if d is not None and d.error is None) == 400


def test_items_decoded_by_workers_as_here(mixed_file):
    folder, data = mixed_file
    keys = _keys(folder)
    here = _here(data, keys)
    items = [item for item, _ in here]
    there = list(decoded_items(items, keys, 2))
    assert [item for item, _ in there] == items
    assert [None if d is None else Decoded(*d) for _, d in there] == [d for _, d in here]

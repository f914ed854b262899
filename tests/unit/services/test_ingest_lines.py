"""Reading pushes from text lines: the simulator's JSON Lines, other JSON, bare hex, junk."""

from __future__ import annotations

from openams.services.ingest import read_push_lines

T = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_every_form_and_junk_kept_with_its_line():
    lines = [
        '{"at": "2026-01-01T00:00:10Z", "meter_id": "7359992890000001", "hex": "7e00ff7e"}',
        "",
        "# a comment",
        '{"hex": "0a0b", "at": "2026-01-01T01:00:00+01:00"}',
        "7e 00:ff 7e",
        '{"at": "2026-01-01T00:00:10Z", "meter_id": "x", "hex": "7g"}',
        '{"no": "hex"}',
        "zz",
    ]
    items = list(read_push_lines(lines, source="f.jsonl", now_s=T + 99))
    assert [i.source for i in items] == [f"f.jsonl:{n}" for n in (1, 4, 5, 6, 7, 8)]
    assert items[0].raw == bytes.fromhex("7e00ff7e")
    assert items[0].received_at_s == T + 10
    assert items[1].raw == b"\x0a\x0b"
    assert items[1].received_at_s == T  # its offset respected
    assert items[2].raw == bytes.fromhex("7e00ff7e")
    assert items[2].received_at_s == T + 99  # no time on the line: now
    assert [i.problem is not None for i in items] == [False, False, False, True, True, True]
    assert items[3].raw == lines[5].encode()  # the bad line itself is kept
    assert all(i.channel == "file" for i in items)

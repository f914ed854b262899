"""The simulator's pushes read by an independent DLMS library (dlms-cosem, test-only).

Every push of a day of a small estate, as the fleet sends it, is decrypted (its GCM tag
checked) and decoded by dlms-cosem; the invocation counter and the energy register it finds
must be the ones OpenAMS decodes. dlms-cosem cannot read Kaifa's HDLC frames nor the
octet-string tag Kaifa puts on the header date-time (see docs/han-lists.md); for Kaifa
meters dlms-cosem decrypts and checks the tag, and the register must be in its plaintext as
the double-long-unsigned Kaifa sends.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date

import pytest

from openams.dlms import KeyPair, PushDecoder, decode_event
from openams.sim import build_grid
from openams.sim.csvio import write_grid
from openams.sim.run import RunSettings, run_fleet

from . import _dlms_cosem

pytestmark = pytest.mark.interop


def _flat(node):
    if isinstance(node, list | tuple):
        for item in node:
            yield from _flat(item)
    else:
        yield node


def _kaifa_plaintext(frame: bytes, ek: bytes, ak: bytes, framing: str) -> bytes:
    """dlms-cosem's decryption (tag checked) of a Kaifa push; HDLC stripped by hand."""
    from dlms_cosem.protocol.xdlms import GeneralGlobalCipher

    # HDLC: flag, format, addresses, control, HCS and LLC before; FCS and flag after
    apdu = frame[1 + 2 + 1 + 2 + 1 + 2 + 3 : -3] if framing == "hdlc" else frame[8:]
    return bytes(GeneralGlobalCipher.from_bytes(apdu).to_plain_apdu(ek, ak))


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interop") / "grid"
    write_grid(build_grid(meters=40, area="NO2", seed=9), folder)
    with (folder / "meters.csv").open(newline="") as fh:
        meters = {r["meter_id"]: r for r in csv.DictReader(fh)}
    return folder, meters


@pytest.mark.parametrize("framing", ["hdlc", "wrapper"])
def test_dlms_cosem_reads_every_push_alike(estate, tmp_path, framing):
    folder, meters = estate
    out = tmp_path / "pushes.jsonl"
    run_fleet(RunSettings(folder, date(2026, 6, 1), 1, framing=framing, workers=1), out=out)
    keys = {
        bytes.fromhex(m["system_title"]): KeyPair(bytes.fromhex(m["ek"]), bytes.fromhex(m["ak"]))
        for m in meters.values()
    }
    decoder = PushDecoder(keys=keys.get)
    checked = 0
    for line in out.read_text().splitlines():
        record = json.loads(line)
        meter = meters[record["meter_id"]]
        frame = bytes.fromhex(record["hex"])
        ours = decoder.decode(frame)
        ek, ak = bytes.fromhex(meter["ek"]), bytes.fromhex(meter["ak"])
        if meter["manufacturer"] == "Kaifa":
            plain = _kaifa_plaintext(frame, ek, ak, framing)
            if decode_event(ours) is None:
                register_wh = next(v for k, (v, _) in ours.values.items() if k == "1-0:1.8.0.255")
                assert b"\x06" + register_wh.to_bytes(4, "big") in plain
                checked += 1
            continue
        theirs = _dlms_cosem.decode_push_info(frame, ek, ak)
        assert theirs.invocation_counter == ours.invocation_counter
        assert theirs.system_title == bytes.fromhex(meter["system_title"])
        if decode_event(ours) is not None:
            continue
        register_wh = next(
            v for k, (v, _) in ours.values.items() if re.fullmatch(r"1-[01]:1\.8\.0\.255", k)
        )
        raw = register_wh if meter["manufacturer"] == "Kaifa" else register_wh // 10
        assert raw in set(_flat(theirs.body)), record["meter_id"]
        checked += 1
    assert checked > 400

"""Conformance against captured frames from real meters (../shared/hanframes).

The corpus is read at run time and never copied into the repository. Each record states
whether its frame is valid, its keys if they were published, and the values its source
decoded (``expected``). These tests check that:

* every valid Aidon, Kaifa and Kamstrup frame (real, and the independently generated ones)
  that is plain or has a published key decodes, and every expected value matches;
* every frame with a published key decrypts to the plaintext its source published;
* every invalid frame, and every ciphered frame without its key, gives a clean DlmsError.

Comparison rules, and why:
    * Units: the corpus may state kWh/kvarh; we give Wh/varh.
    * Rounding: amsreader's golden values are single-precision floats and rounded currents,
      so numbers match within 0.0051 or one part in 10^7, whichever is larger.
    * amsreader writes 0 for values its decoder did not find ("zeros may mean absent").
    * Date-times: the wall-clock fields must match. The UTC offset follows OpenAMS's rule
      (docs/wire-format.md: Norwegian lists are local time in Europe/Oslo whatever deviation
      they send), which differs on purpose from the sources that trust a deviation of 0.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from openams.dlms import (
    DlmsError,
    KeyPair,
    MissingKeyError,
    PushDecoder,
    SecuritySuite,
    decode_ciphered_apdu,
    unframe,
)

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "hanframes"
NORWEGIAN_MAKERS = ("aidon", "kaifa", "kamstrup", "generated (")


def _records() -> list[tuple[str, dict]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                out.append((f"{path.stem}:{number}", json.loads(line)))
    return out


RECORDS = _records()
if not RECORDS:  # pragma: no cover - depends on the machine
    pytest.skip("the frame corpus ../shared/hanframes is not present", allow_module_level=True)


def _keys(record: dict) -> KeyPair | None:
    if not record.get("ek"):
        return None
    ak = bytes.fromhex(record["ak"]) if record.get("ak") else None
    return KeyPair(bytes.fromhex(record["ek"]), ak)


def _norwegian_maker(record: dict) -> bool:
    return record.get("meter", "").lower().startswith(NORWEGIAN_MAKERS)


def _select(predicate) -> list:
    return [pytest.param(rec, id=rid) for rid, rec in RECORDS if predicate(rec)]


DECODABLE = _select(
    lambda r: r["valid"] and _norwegian_maker(r) and (not r.get("encrypted") or r.get("ek"))
)
WITH_KEY = _select(lambda r: r["valid"] and r.get("encrypted") and r.get("ek"))
INVALID = _select(lambda r: not r["valid"])
NO_KEY = _select(lambda r: r["valid"] and r.get("encrypted") and not r.get("ek"))

_UNIT_FACTOR = {"kWh": ("Wh", 1000), "kvarh": ("varh", 1000), "kW": ("W", 1000)}


def _wall_clock(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _find(values: dict, key: str):
    for candidate in (key, f"{key}.255"):
        if candidate in values:
            return values[candidate]
    return None


def test_corpus_is_large_enough_to_mean_something():
    assert len(DECODABLE) >= 140
    assert len(WITH_KEY) >= 35
    assert len(INVALID) >= 40


@pytest.mark.parametrize("record", DECODABLE)
def test_valid_norwegian_frames_decode_to_the_expected_values(record):
    push = PushDecoder().decode(bytes.fromhex(record["hex"]), keys=_keys(record))
    assert push.layout in ("aidon", "kaifa", "kamstrup", "obis")
    expected = record.get("expected") or {}
    basis = record.get("expected_basis", "")
    for key, want in expected.items():
        value = want.get("value")
        if key == "header_datetime":
            assert push.header_time is not None
            assert push.header_time.replace(tzinfo=None) == _wall_clock(value), key
            continue
        got = _find(push.values, key)
        if got is None:
            assert "amsreader" in basis, f"{key} missing from the decode"
            assert value == 0, f"{key} missing from the decode"
            continue
        got_value, got_unit = got
        if isinstance(got_value, datetime):
            assert got_value.replace(tzinfo=None) == _wall_clock(value), key
        elif isinstance(value, str):
            assert got_value == value, key
        else:
            unit = want.get("unit")
            factor = 1
            if unit in _UNIT_FACTOR:
                unit, factor = _UNIT_FACTOR[unit]
            want_value = value * factor
            tolerance = max(0.0051, abs(want_value) * 1e-7)
            assert math.isclose(got_value, want_value, abs_tol=tolerance), (key, got_value)
            if unit:
                assert got_unit == unit, key


@pytest.mark.parametrize("record", WITH_KEY)
def test_frames_with_a_published_key_decrypt(record):
    _framing, apdu = unframe(bytes.fromhex(record["hex"]))
    envelope = decode_ciphered_apdu(apdu)
    keys = _keys(record)
    plain = SecuritySuite().decrypt(envelope, keys.ek, keys.ak)
    if record.get("plain_apdu"):
        assert plain.hex() == record["plain_apdu"]
    assert plain[0] == 0x0F
    if record.get("system_title"):
        assert envelope.system_title.hex() == record["system_title"]
        assert envelope.invocation_counter == record["invocation_counter"]
    push = PushDecoder().decode(bytes.fromhex(record["hex"]), keys=keys)
    assert push.invocation_counter == envelope.invocation_counter


@pytest.mark.parametrize("record", WITH_KEY)
def test_frames_with_a_published_key_refuse_a_wrong_key(record):
    keys = _keys(record)
    wrong = KeyPair(bytes(16), keys.ak if keys.ak is None else bytes(16))
    data = bytes.fromhex(record["hex"])
    envelope = decode_ciphered_apdu(unframe(data)[1])
    if envelope.security_control & 0x10:
        with pytest.raises(DlmsError) as info:
            PushDecoder().decode(data, keys=wrong)
        assert info.value.code == "auth_failed"
    else:  # encryption only: nothing to authenticate, so the wrong key gives garbage
        with pytest.raises(DlmsError):
            PushDecoder().decode(data, keys=wrong)


@pytest.mark.parametrize("record", INVALID)
def test_invalid_frames_give_a_clean_error(record):
    with pytest.raises(DlmsError) as info:
        PushDecoder().decode(bytes.fromhex(record["hex"]))
    assert info.value.code in ("bad_frame", "bad_apdu")
    assert str(info.value)


@pytest.mark.parametrize("record", NO_KEY)
def test_ciphered_frames_without_a_key_say_so(record):
    with pytest.raises(DlmsError) as info:
        PushDecoder().decode(bytes.fromhex(record["hex"]))
    if isinstance(info.value, MissingKeyError):
        assert info.value.system_title.hex() == record["system_title"]
    else:  # captures cut short: the framing error is found before the key is needed
        assert info.value.code in ("bad_frame", "bad_apdu")

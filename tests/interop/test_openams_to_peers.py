"""Pushes built by OpenAMS decode with gurux-dlms and dlms-cosem as OpenAMS decodes them.

For every manufacturer style, List 1 to 3, one and three phases, plain and ciphered
(security control 0x30), in HDLC, the TCP wrapper and as a raw APDU, each peer must read:

* the same body tree, type by type and value by value, as OpenAMS's own A-XDR decoder
  and as the notification that was built;
* from that tree, by an independent reading of the list (``_reference.han_values``), the
  same scaled values, units and meter clock as :class:`openams.dlms.Push` holds, which
  are also those of the reading the push was built from;
* the same invocation counter, system title, security control, invoke-id-and-priority
  and header date-time.

dlms-cosem checks the GCM tag, so each ciphered push it reads shows that OpenAMS's tag is
right. Kaifa pushes are given to the peers with the header date-time untagged and in
Kamstrup's HDLC addressing, as neither peer reads Kaifa's own form (see the adapters);
that OpenAMS reads Kaifa's own form to the same values is checked here too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openams.dlms import (
    Ciphering,
    KeyPair,
    MeterReading,
    PushDecoder,
    build_notification,
    encode_push,
)

from . import _dlms_cosem, _gurux
from ._reference import (
    AK,
    EK,
    PEER_HDLC_STYLE,
    READING,
    STYLES,
    SYSTEM_TITLES,
    han_values,
    openams_notification,
    peer_notification,
    reading_values,
    readings,
    typed_tree,
)

pytestmark = pytest.mark.interop

PEERS = {"gurux": _gurux, "dlms_cosem": _dlms_cosem}
FRAMINGS = ("hdlc", "wrapper", "apdu")
SHARED = PushDecoder()  # reused across tests, so later pushes take the compiled-template path


def _encode(
    style: str, list_number: int, reading: MeterReading, framing: str, counter: int | None
) -> tuple[bytes, Any]:
    notification = peer_notification(style, list_number, reading)
    ciphering = None
    if counter is not None:
        ciphering = Ciphering(SYSTEM_TITLES[style], counter, EK, AK)
    frame = encode_push(
        notification, framing=framing, ciphering=ciphering, style=PEER_HDLC_STYLE[style]
    )
    return frame, notification


def _check(
    style: str, list_number: int, reading: MeterReading, framing: str, counter: int | None
) -> None:
    frame, notification = _encode(style, list_number, reading, framing, counter)
    keys = KeyPair(EK, AK) if counter is not None else None
    ek, ak = (EK, AK) if counter is not None else (None, None)

    push = PushDecoder().decode(frame, keys=keys)
    assert SHARED.decode(frame, keys=keys) == push
    expected = reading_values(style, list_number, reading)
    assert push.values == expected
    assert push.layout == style
    ours = openams_notification(frame, ek, ak)
    assert ours == notification

    for name, peer in PEERS.items():
        info = peer.decode_push_info(frame, ek, ak, typed=True)
        assert info.body == typed_tree(notification.body), name
        plain = peer.decode_push_info(frame, ek, ak).body
        assert han_values(style, plain) == push.values, name
        assert info.invoke_id_and_priority == notification.long_invoke_id_and_priority, name
        if notification.date_time is None:
            assert info.date_time is None, name
        else:
            assert push.header_time is not None
            assert info.date_time is not None
            wall = info.date_time.replace(tzinfo=None)
            assert wall == push.header_time.replace(tzinfo=None), name
        if counter is None:
            assert push.invocation_counter is None
        else:
            assert (info.invocation_counter, push.invocation_counter) == (counter, counter)
            assert info.system_title == push.system_title == SYSTEM_TITLES[style], name
            assert info.security_control == push.security_control == 0x30, name


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("counter", [None, 0x0000_1234], ids=["plain", "ciphered"])
@pytest.mark.parametrize("phases", [1, 3])
@pytest.mark.parametrize("list_number", [1, 2, 3])
@pytest.mark.parametrize("style", STYLES)
def test_lists_decode_alike(
    style: str, list_number: int, phases: int, counter: int | None, framing: str
) -> None:
    reading = READING if phases == 3 else _one_phase(READING)
    _check(style, list_number, reading, framing, counter)


def _one_phase(reading: MeterReading) -> MeterReading:
    return dataclasses.replace(reading, phases=1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    style=st.sampled_from(STYLES),
    list_number=st.sampled_from((1, 2, 3)),
    reading=readings(),
    framing=st.sampled_from(("hdlc", "apdu")),
    counter=st.none() | st.integers(0, 2**32 - 1),
)
def test_generated_readings_decode_alike(
    style: str, list_number: int, reading: MeterReading, framing: str, counter: int | None
) -> None:
    _check(style, list_number, reading, framing, counter)


@pytest.mark.parametrize("list_number", [1, 2, 3])
@pytest.mark.parametrize("phases", [1, 3])
def test_kaifa_as_sent_reads_as_the_peer_form(list_number: int, phases: int) -> None:
    """OpenAMS reads Kaifa's own form (tagged header, ``02 01``, I-frame) to the same push."""
    reading = READING if phases == 3 else _one_phase(READING)
    ciphering = Ciphering(SYSTEM_TITLES["kaifa"], 99, EK, AK)
    own = build_notification("kaifa", list_number, reading)
    assert own.date_time_tagged
    as_sent = encode_push(own, style="kaifa", ciphering=ciphering)
    assert as_sent[3:7] == b"\x01\x02\x01\x10"  # destination, source, control
    peer_form, _ = _encode("kaifa", list_number, reading, "hdlc", 99)
    keys = KeyPair(EK, AK)
    assert PushDecoder().decode(as_sent, keys=keys) == PushDecoder().decode(peer_form, keys=keys)


@pytest.mark.parametrize("security_control", [0x10, 0x20])
@pytest.mark.parametrize("style", STYLES)
def test_authentication_or_encryption_only_decodes_with_gurux(
    style: str, security_control: int
) -> None:
    """Security control 0x10 and 0x20 (dlms-cosem reads only 0x30)."""
    notification = peer_notification(style, 3, READING)
    ciphering = Ciphering(SYSTEM_TITLES[style], 7, EK, AK, security_control)
    frame = encode_push(notification, ciphering=ciphering, style=PEER_HDLC_STYLE[style])
    push = PushDecoder().decode(frame, keys=KeyPair(EK, AK))
    assert push.security_control == security_control
    assert push.values == reading_values(style, 3, READING)
    info = _gurux.decode_push_info(frame, EK, AK, typed=True)
    assert info.security_control == security_control
    assert (info.system_title, info.invocation_counter) == (SYSTEM_TITLES[style], 7)
    assert info.body == typed_tree(notification.body)


def test_dlms_cosem_checks_our_tag() -> None:
    """The peer that verifies tags refuses our push under a wrong key: it did check ours."""
    frame, _ = _encode("aidon", 2, READING, "hdlc", 5)
    assert _dlms_cosem.decode_push(frame, EK, AK)
    with pytest.raises(_dlms_cosem.DecryptionError):
        _dlms_cosem.decode_push(frame, EK, bytes(16))

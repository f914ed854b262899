"""A push ciphered by a peer and then tampered with, or ciphered under other keys, is refused.

The peers cipher the push themselves (gurux-dlms and dlms-cosem, security control 0x30;
gurux also 0x10). OpenAMS must raise :class:`openams.dlms.DecryptionError` for:

* a wrong authentication key or a wrong encryption key at the sender (the tag the peer
  computed is then not the one OpenAMS expects);
* any bit flipped in the system title, the invocation counter, the ciphertext or the
  tag (each is covered by the GCM tag, through the nonce or the authenticated data);

whether the APDU comes bare or framed in HDLC. dlms-cosem, which also checks tags, must
agree on every case. (gurux does not check tags, so it is not asked.)
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openams.dlms import DecryptionError, KeyPair, PushDecoder, encode_push

from . import _dlms_cosem, _gurux
from ._reference import AK, EK, READING, SYSTEM_TITLES, peer_notification, typed_tree

pytestmark = pytest.mark.interop

KEYS = KeyPair(EK, AK)
TITLE = SYSTEM_TITLES["kamstrup"]
# Kamstrup List 1 fits dlms-cosem's one-byte ciphered length; List 2 is longer for gurux.
BODIES = {
    "gurux": typed_tree(peer_notification("kamstrup", 2, READING).body),
    "dlms_cosem": typed_tree(peer_notification("kamstrup", 1, READING).body),
}
PEERS = {"gurux": _gurux, "dlms_cosem": _dlms_cosem}


def _apdu(peer: str, *, ek: bytes = EK, ak: bytes = AK, security_control: int = 0x30) -> bytes:
    kwargs = {"security_control": security_control} if peer == "gurux" else {}
    apdu: bytes = PEERS[peer].encode_push(
        BODIES[peer],
        system_title=TITLE,
        invocation_counter=0x0102_0304,
        ek=ek,
        ak=ak,
        hdlc=False,
        **kwargs,
    )
    return apdu


def _content_start(apdu: bytes) -> int:
    """Offset of the security control byte in a general-glo-ciphering APDU."""
    assert apdu[0] == 0xDB
    assert apdu[1] == 8
    first = apdu[10]
    return 11 if first < 0x80 else 11 + (first & 0x7F)


def _refused(apdu: bytes, *, cosem: bool = True) -> None:
    decoder = PushDecoder()
    with pytest.raises(DecryptionError):
        decoder.decode(apdu, keys=KEYS)
    with pytest.raises(DecryptionError):  # framed as a meter sends it
        decoder.decode(encode_push(apdu, framing="hdlc", style="kamstrup"), keys=KEYS)
    if cosem:
        with pytest.raises(_dlms_cosem.DecryptionError):
            _dlms_cosem.decode_push(apdu, EK, AK)


@pytest.mark.parametrize("peer", ["gurux", "dlms_cosem"])
def test_untampered_push_decodes(peer: str) -> None:
    apdu = _apdu(peer)
    push = PushDecoder().decode(apdu, keys=KEYS)
    assert push.layout == "kamstrup"
    assert (push.system_title, push.invocation_counter) == (TITLE, 0x0102_0304)
    assert _dlms_cosem.decode_push(apdu, EK, AK)


@pytest.mark.parametrize("peer", ["gurux", "dlms_cosem"])
def test_wrong_authentication_key_at_sender(peer: str) -> None:
    _refused(_apdu(peer, ak=bytes(reversed(AK))))


@pytest.mark.parametrize("peer", ["gurux", "dlms_cosem"])
def test_wrong_encryption_key_at_sender(peer: str) -> None:
    _refused(_apdu(peer, ek=bytes(reversed(EK))))


@pytest.mark.parametrize("peer", ["gurux", "dlms_cosem"])
@pytest.mark.parametrize("part", ["system title", "counter", "ciphertext", "tag"])
def test_flipped_bit_is_refused(peer: str, part: str) -> None:
    apdu = bytearray(_apdu(peer))
    start = _content_start(bytes(apdu))
    offset = {
        "system title": 2 + 7,
        "counter": start + 1 + 3,
        "ciphertext": start + 5 + 10,
        "tag": len(apdu) - 1,
    }[part]
    apdu[offset] ^= 0x01
    _refused(bytes(apdu))


@settings(max_examples=150, deadline=None)
@given(peer=st.sampled_from(("gurux", "dlms_cosem")), where=st.integers(0), bit=st.integers(0, 7))
def test_any_flipped_bit_is_refused(peer: str, where: int, bit: int) -> None:
    """Any single bit flip after the security control byte (or in the system title)."""
    apdu = bytearray(_apdu(peer))
    start = _content_start(bytes(apdu))
    covered = [*range(2, 10), *range(start + 1, len(apdu))]
    apdu[covered[where % len(covered)]] ^= 1 << bit
    _refused(bytes(apdu))


def test_authentication_only_push_with_changed_body_is_refused() -> None:
    """Security control 0x10 (plaintext, tagged): a changed value fails the tag."""
    apdu = bytearray(_apdu("gurux", security_control=0x10))
    assert PushDecoder().decode(bytes(apdu), keys=KEYS).security_control == 0x10
    start = _content_start(bytes(apdu))
    plain = start + 5
    assert apdu[plain] == 0x0F  # the data-notification, readable
    apdu[-20] ^= 0x40  # a byte of the body
    _refused(bytes(apdu), cosem=False)  # dlms-cosem does not read 0x10

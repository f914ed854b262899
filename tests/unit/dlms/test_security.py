"""Security suite 0: AES-128-GCM with a 12-byte tag, checked against the standard and NIST GCM."""

from __future__ import annotations

from datetime import datetime

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from openams.dlms import (
    ApduError,
    CipheredApdu,
    Ciphering,
    DecryptionError,
    DlmsError,
    KeyPair,
    MeterReading,
    MissingKeyError,
    PushDecoder,
    SecuritySuite,
    _security,
    build_notification,
    decode_ciphered_apdu,
    encode_push,
    security_label,
)
from tests.vectors import green_book as gb

from .strategies import OSLO, PROPERTY, invocation_counters, keys, system_titles

SUITE = SecuritySuite()


def _encrypt(plaintext: bytes, sc: int, **kwargs) -> CipheredApdu:
    params = {
        "system_title": gb.SYSTEM_TITLE,
        "invocation_counter": gb.INVOCATION_COUNTER,
        "ek": gb.EK,
        "ak": gb.AK,
        "security_control": sc,
    }
    params.update(kwargs)
    return SUITE.encrypt(plaintext, **params)


# --- the Green Book's worked example ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sc", "expected"),
    [
        (0x30, gb.AUTHENTICATED_ENCRYPTED),
        (0x20, gb.ENCRYPTED),
        (0x10, gb.AUTHENTICATED),
    ],
)
def test_green_book_example_encrypts_to_the_published_bytes(sc, expected):
    assert _encrypt(gb.PLAINTEXT, sc).to_bytes() == expected


@pytest.mark.parametrize(
    "apdu", [gb.AUTHENTICATED_ENCRYPTED, gb.ENCRYPTED, gb.AUTHENTICATED], ids=["30", "20", "10"]
)
def test_green_book_example_decrypts_to_the_plaintext(apdu):
    envelope = decode_ciphered_apdu(apdu)
    assert envelope.system_title == gb.SYSTEM_TITLE
    assert envelope.invocation_counter == gb.INVOCATION_COUNTER
    assert SUITE.decrypt(envelope, gb.EK, gb.AK) == gb.PLAINTEXT


def test_green_book_example_matches_aes_gcm_computed_independently():
    encryptor = Cipher(algorithms.AES(gb.EK), modes.GCM(gb.IV)).encryptor()
    encryptor.authenticate_additional_data(b"\x30" + gb.AK)
    ciphertext = encryptor.update(gb.PLAINTEXT) + encryptor.finalize()
    assert ciphertext == gb.CIPHERTEXT
    assert encryptor.tag[:12] == gb.TAG_AUTHENTICATED_ENCRYPTED


# --- NIST-style: our output equals AES-GCM from the low-level API ------------------------------


def _reference(sc: int, ek: bytes, ak: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """The payload (ciphertext and/or tag) computed with ``Cipher(AES, GCM)`` directly."""
    encryptor = Cipher(algorithms.AES(ek), modes.GCM(iv)).encryptor()
    if sc == 0x30:
        encryptor.authenticate_additional_data(bytes((sc,)) + ak)
        return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag[:12]
    if sc == 0x10:
        encryptor.authenticate_additional_data(bytes((sc,)) + ak + plaintext)
        encryptor.finalize()
        return plaintext + encryptor.tag[:12]
    return encryptor.update(plaintext) + encryptor.finalize()  # 0x20: no tag


@PROPERTY
@given(
    st.sampled_from([0x30, 0x20, 0x10]),
    st.binary(max_size=300),
    system_titles,
    invocation_counters,
    keys,
    keys,
)
def test_output_equals_independent_aes_gcm(sc, plaintext, title, ic, ek, ak):
    apdu = SecuritySuite().encrypt(
        plaintext, system_title=title, invocation_counter=ic, ek=ek, ak=ak, security_control=sc
    )
    iv = title + ic.to_bytes(4, "big")
    assert apdu.payload == _reference(sc, ek, ak, iv, plaintext)
    assert (apdu.tag, apdu.system_title, apdu.security_control, apdu.invocation_counter) == (
        0xDB,
        title,
        sc,
        ic,
    )


@PROPERTY
@given(
    st.sampled_from([0x30, 0x20, 0x10, 0x31, 0x00]),
    st.sampled_from([0xDB, 0xDC]),
    st.binary(max_size=300),
    system_titles,
    invocation_counters,
    keys,
    keys,
)
def test_encrypt_decrypt_round_trip(sc, tag, plaintext, title, ic, ek, ak):
    suite = SecuritySuite()
    apdu = suite.encrypt(
        plaintext,
        system_title=title,
        invocation_counter=ic,
        ek=ek,
        ak=ak,
        security_control=sc,
        tag=tag,
    )
    wire = decode_ciphered_apdu(apdu.to_bytes())
    assert wire == apdu
    assert suite.decrypt(wire, ek, ak) == plaintext
    assert SecuritySuite().decrypt(wire, ek, ak) == plaintext  # no state carried over


def test_security_control_0x00_passes_the_payload_through():
    apdu = _encrypt(b"plain", 0x00)
    assert apdu.payload == b"plain"
    assert SUITE.decrypt(apdu, gb.EK) == b"plain"


# --- authentication failures ---------------------------------------------------------------


@pytest.mark.parametrize("sc", [0x30, 0x10])
def test_wrong_key_raises_decryption_error(sc):
    apdu = _encrypt(gb.PLAINTEXT, sc)
    wrong = bytes(16)
    with pytest.raises(DecryptionError) as info:
        SUITE.decrypt(apdu, wrong, gb.AK)
    assert info.value.code == "auth_failed"
    with pytest.raises(DecryptionError):
        SUITE.decrypt(apdu, gb.EK, wrong)


@pytest.mark.parametrize("sc", [0x30, 0x10])
def test_authenticated_apdu_without_authentication_key_is_refused(sc):
    with pytest.raises(DecryptionError, match="no authentication key"):
        SUITE.decrypt(_encrypt(gb.PLAINTEXT, sc), gb.EK, None)


def test_truncated_tag_is_refused():
    apdu = _encrypt(b"", 0x30)  # payload is the 12-byte tag alone
    short = CipheredApdu(0xDB, apdu.system_title, 0x30, apdu.invocation_counter, apdu.payload[1:])
    with pytest.raises(DecryptionError, match="shorter than its authentication tag"):
        SUITE.decrypt(short, gb.EK, gb.AK)


@pytest.mark.parametrize(
    ("sc", "message"),
    [
        (0xB0, "compressed"),
        (0x32, "security suite 2 is not supported"),
        (0x3F, "security suite 15"),
    ],
)
def test_unsupported_suite_or_compression_raises_apdu_error(sc, message):
    apdu = CipheredApdu(0xDB, gb.SYSTEM_TITLE, sc, 1, bytes(30))
    with pytest.raises(ApduError, match=message) as info:
        SUITE.decrypt(apdu, gb.EK, gb.AK)
    assert info.value.tag == "security-control"
    with pytest.raises(ApduError, match=message):
        _encrypt(b"x", sc)


def test_suite_1_uses_the_same_symmetric_algorithm():
    apdu = _encrypt(gb.PLAINTEXT, 0x31)
    assert SUITE.decrypt(apdu, gb.EK, gb.AK) == gb.PLAINTEXT
    # the SC byte is authenticated: the suite-0 tag does not verify under suite 1
    assert apdu.payload != _encrypt(gb.PLAINTEXT, 0x30).payload


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"system_title": b"short"}, "8 bytes"),
        ({"invocation_counter": -1}, "unsigned 32-bit"),
        ({"invocation_counter": 1 << 32}, "unsigned 32-bit"),
        ({"ak": None}, "authentication key"),
        ({"ek": bytes(15)}, "16 bytes, got 15"),
    ],
)
def test_bad_encrypt_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _encrypt(b"x", 0x30, **kwargs)


def test_decrypt_with_a_key_of_the_wrong_size_raises_value_error():
    with pytest.raises(ValueError, match="16 bytes"):
        SUITE.decrypt(_encrypt(b"x", 0x30), bytes(24), gb.AK)


def test_cipher_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_security, "_MAX_KEYS", 2)
    suite = SecuritySuite()
    for i in range(5):
        ek = bytes((i,)) * 16
        apdu = suite.encrypt(
            b"data", system_title=gb.SYSTEM_TITLE, invocation_counter=i, ek=ek, ak=gb.AK
        )
        assert suite.decrypt(apdu, ek, gb.AK) == b"data"
        assert len(suite._ciphers) <= 2


@pytest.mark.parametrize(
    ("sc", "label"),
    [(None, "none"), (0x00, "none"), (0x10, "auth"), (0x20, "enc"), (0x30, "auth+enc")],
)
def test_security_label(sc, label):
    assert security_label(sc) == label


# --- ciphered pushes through the decoder ---------------------------------------------------

READING = MeterReading(
    "6970631401234567",
    "MA304H3E",
    datetime(2024, 6, 10, 8, 30, 10, tzinfo=OSLO),
    power_import_w=3456,
    current_l1_a=6.789,
)
PLAIN_PUSH = build_notification("kaifa", 2, READING)
EXPECTED = PushDecoder().decode(encode_push(PLAIN_PUSH, framing="apdu"))


def _ciphered(sc: int, title: bytes, ic: int, ek: bytes, ak: bytes, framing: str) -> bytes:
    return encode_push(PLAIN_PUSH, framing=framing, ciphering=Ciphering(title, ic, ek, ak, sc))


@pytest.mark.parametrize("sc", [0x30, 0x20, 0x10])
@pytest.mark.parametrize("framing", ["apdu", "hdlc", "wrapper", "mbus", "llc"])
def test_ciphered_push_decodes_to_the_plain_values(sc, framing):
    raw = _ciphered(sc, gb.SYSTEM_TITLE, 7, gb.EK, gb.AK, framing)
    push = PushDecoder(keys={gb.SYSTEM_TITLE: KeyPair(gb.EK, gb.AK)}.get).decode(raw)
    assert push.values == EXPECTED.values
    assert (push.system_title, push.invocation_counter, push.security_control) == (
        gb.SYSTEM_TITLE,
        7,
        sc,
    )
    assert push.security == security_label(sc)
    assert push.framing == framing


def test_missing_key_raises_missing_key_error():
    raw = _ciphered(0x30, gb.SYSTEM_TITLE, 7, gb.EK, gb.AK, "hdlc")
    for decoder in (PushDecoder(), PushDecoder(keys=lambda title: None)):
        with pytest.raises(MissingKeyError) as info:
            decoder.decode(raw)
        assert info.value.code == "no_key"
        assert info.value.system_title == gb.SYSTEM_TITLE
        assert gb.SYSTEM_TITLE.hex() in str(info.value)


def test_keys_argument_overrides_the_lookup():
    raw = _ciphered(0x30, gb.SYSTEM_TITLE, 7, gb.EK, gb.AK, "hdlc")
    decoder = PushDecoder(keys=lambda title: KeyPair(bytes(16), bytes(16)))
    with pytest.raises(DecryptionError):
        decoder.decode(raw)
    assert decoder.decode(raw, keys=KeyPair(gb.EK, gb.AK)).values == EXPECTED.values


def test_wrong_key_through_the_decoder_is_auth_failed():
    raw = _ciphered(0x30, gb.SYSTEM_TITLE, 7, gb.EK, gb.AK, "hdlc")
    with pytest.raises(DecryptionError) as info:
        PushDecoder().decode(raw, keys=KeyPair(bytes(16), gb.AK))
    assert info.value.code == "auth_failed"


@pytest.mark.parametrize(("sc", "error"), [(0xB0, "compressed"), (0x35, "suite 5")])
def test_unsupported_security_control_through_the_decoder(sc, error):
    envelope = CipheredApdu(0xDB, gb.SYSTEM_TITLE, sc, 1, bytes(40)).to_bytes()
    with pytest.raises(ApduError, match=error):
        PushDecoder().decode(envelope, keys=KeyPair(gb.EK, gb.AK))


@PROPERTY
@given(
    st.sampled_from([0x30, 0x10]),
    st.sampled_from(["apdu", "wrapper", "hdlc"]),
    system_titles,
    invocation_counters,
    keys,
    keys,
    st.data(),
)
def test_a_ciphered_push_with_any_bit_flipped_is_never_accepted(
    sc, framing, title, ic, ek, ak, data
):
    raw = bytearray(_ciphered(sc, title, ic, ek, ak, framing))
    decoder = PushDecoder(keys=lambda t: KeyPair(ek, ak))
    assert decoder.decode(bytes(raw)).values == EXPECTED.values  # the intact push is accepted
    unprotected = range(2, 6) if framing == "wrapper" else range(0)  # the wPorts
    bit = data.draw(
        st.integers(0, 8 * len(raw) - 1).filter(lambda b: b // 8 not in unprotected), label="bit"
    )
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DlmsError):
        decoder.decode(bytes(raw))
    with pytest.raises(DlmsError):
        PushDecoder(keys=lambda t: KeyPair(ek, ak)).decode(bytes(raw))


@PROPERTY
@given(st.sampled_from([0x30, 0x10]), st.data())
def test_every_bit_of_the_envelope_and_tag_is_authenticated(sc, data):
    """Raw APDU framing: no link checksum, so only the GCM tag stands between a flip and us."""
    raw = bytearray(_ciphered(sc, gb.SYSTEM_TITLE, 9, gb.EK, gb.AK, "apdu"))
    # bytes 11.. are SC, IC, the content and the tag
    bit = data.draw(st.integers(8 * 11, 8 * len(raw) - 1), label="bit")
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DlmsError):
        PushDecoder().decode(bytes(raw), keys=KeyPair(gb.EK, gb.AK))


def test_wrapper_ports_are_outside_the_protection():
    """The wPorts address the link, not the push: GCM does not cover them, nothing else does."""
    raw = bytearray(_ciphered(0x30, gb.SYSTEM_TITLE, 7, gb.EK, gb.AK, "wrapper"))
    raw[3] ^= 0x02  # source wPort 1 -> 3
    push = PushDecoder().decode(bytes(raw), keys=KeyPair(gb.EK, gb.AK))
    assert push.values == EXPECTED.values


def test_authentication_header_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_security, "_MAX_KEYS", 2)
    monkeypatch.setattr(_security, "_HEADERS", {})
    suite = SecuritySuite()
    for i in range(5):
        ak = bytes((i,)) * 16
        apdu = suite.encrypt(
            b"data", system_title=gb.SYSTEM_TITLE, invocation_counter=i, ek=gb.EK, ak=ak
        )
        assert suite.decrypt(apdu, gb.EK, ak) == b"data"
        assert len(_security._HEADERS) <= 2

"""Meter keys at rest: AES key wrap checked against RFC 3394 and by its properties."""

from __future__ import annotations

import copy
import pickle

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from hypothesis import given
from hypothesis import strategies as st

from openams.errors import OpenAMSError, SecurityError
from openams.keyvault import KeyUnwrapError, KeyVault

# RFC 3394 section 4.1: wrap 128 bits of key data with a 128-bit KEK.
RFC_4_1_KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
RFC_4_1_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
RFC_4_1_WRAPPED = bytes.fromhex("1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5")

# RFC 3394 section 4.6: wrap 256 bits of key data with a 256-bit KEK.
RFC_4_6_KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
RFC_4_6_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
RFC_4_6_WRAPPED = bytes.fromhex(
    "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"
)

VECTORS = [
    pytest.param(RFC_4_1_KEK, RFC_4_1_KEY, RFC_4_1_WRAPPED, id="rfc3394-4.1"),
    pytest.param(RFC_4_6_KEK, RFC_4_6_KEY, RFC_4_6_WRAPPED, id="rfc3394-4.6"),
]

keks = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
keys = st.sampled_from([16, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n))


def _secret_forms(secret: bytes) -> list[str]:
    """Every way a secret could show up in text: hex both cases, and the bytes literal."""
    return [secret.hex(), secret.hex().upper(), repr(secret)]


@pytest.mark.parametrize(("kek", "key", "wrapped"), VECTORS)
def test_wrap_gives_the_rfc_3394_vector(kek: bytes, key: bytes, wrapped: bytes) -> None:
    assert KeyVault(kek).wrap(key) == wrapped


@pytest.mark.parametrize(("kek", "key", "wrapped"), VECTORS)
def test_unwrap_gives_the_rfc_3394_key_data(kek: bytes, key: bytes, wrapped: bytes) -> None:
    assert KeyVault(kek).unwrap(wrapped) == key


@given(kek=keks, key=keys)
def test_unwrap_undoes_wrap(kek: bytes, key: bytes) -> None:
    vault = KeyVault(kek)
    wrapped = vault.wrap(key)
    assert len(wrapped) == len(key) + 8
    assert wrapped[8:] != key
    assert vault.unwrap(wrapped) == key


@given(kek=keks, other=keks, key=keys)
def test_another_kek_cannot_unwrap(kek: bytes, other: bytes, key: bytes) -> None:
    if other == kek:
        other = bytes(b ^ 0xFF for b in kek)
    wrapped = KeyVault(kek).wrap(key)
    with pytest.raises(KeyUnwrapError) as info:
        KeyVault(other).unwrap(wrapped)
    assert info.value.kek_id == KeyVault(other).kek_id


@given(kek=keks, key=keys, data=st.data())
def test_any_flipped_bit_is_refused(kek: bytes, key: bytes, data: st.DataObject) -> None:
    vault = KeyVault(kek)
    wrapped = bytearray(vault.wrap(key))
    index = data.draw(st.integers(0, len(wrapped) - 1), label="index")
    bit = data.draw(st.integers(0, 7), label="bit")
    wrapped[index] ^= 1 << bit
    with pytest.raises(KeyUnwrapError):
        vault.unwrap(bytes(wrapped))


@pytest.mark.parametrize("index", range(len(RFC_4_1_WRAPPED)))
def test_every_damaged_byte_of_the_vector_is_refused(index: int) -> None:
    damaged = bytearray(RFC_4_1_WRAPPED)
    damaged[index] ^= 0x01
    with pytest.raises(KeyUnwrapError):
        KeyVault(RFC_4_1_KEK).unwrap(bytes(damaged))


@pytest.mark.parametrize(
    "wrapped",
    [
        b"",
        RFC_4_1_WRAPPED[:16],
        RFC_4_1_WRAPPED[:-1],
        RFC_4_1_WRAPPED + b"\x00",
        RFC_4_6_WRAPPED[:-8],
        RFC_4_6_WRAPPED + bytes(8),
    ],
    ids=["empty", "16", "23", "25", "32", "48"],
)
def test_wrong_lengths_are_refused_as_unwrap_errors(wrapped: bytes) -> None:
    with pytest.raises(KeyUnwrapError, match="24 or 40 bytes"):
        KeyVault(RFC_4_6_KEK).unwrap(wrapped)


def test_a_wrapped_192_bit_key_is_refused() -> None:
    # Valid RFC 3394 output for a 24-byte key: the integrity check would pass, the size does not.
    wrapped = aes_key_wrap(RFC_4_6_KEK, bytes(range(24)))
    with pytest.raises(KeyUnwrapError):
        KeyVault(RFC_4_6_KEK).unwrap(wrapped)


def test_unwrap_error_sits_in_the_error_tree() -> None:
    with pytest.raises(KeyUnwrapError) as info:
        KeyVault(RFC_4_6_KEK).unwrap(RFC_4_1_WRAPPED)
    error = info.value
    assert isinstance(error, SecurityError)
    assert isinstance(error, OpenAMSError)
    assert not isinstance(error, ValueError)
    assert error.code == "key_unwrap_failed"
    assert KeyVault(RFC_4_6_KEK).kek_id in str(error)


@given(old=keks, new=keks, key=keys)
def test_rewrap_moves_a_key_to_the_new_kek(old: bytes, new: bytes, key: bytes) -> None:
    if new == old:
        new = bytes(b ^ 0x5A for b in old)
    old_vault, new_vault = KeyVault(old), KeyVault(new)
    rewrapped = old_vault.rewrap(old_vault.wrap(key), new_vault)
    assert new_vault.unwrap(rewrapped) == key
    with pytest.raises(KeyUnwrapError):
        old_vault.unwrap(rewrapped)


def test_rewrap_refuses_a_key_the_old_kek_did_not_wrap() -> None:
    with pytest.raises(KeyUnwrapError):
        KeyVault(RFC_4_6_KEK).rewrap(RFC_4_1_WRAPPED, KeyVault(bytes(32)))


def test_rewrap_gives_the_vector_of_the_new_kek() -> None:
    old = KeyVault(bytes(range(100, 116)))
    rewrapped = old.rewrap(old.wrap(RFC_4_1_KEY), KeyVault(RFC_4_1_KEK))
    assert rewrapped == RFC_4_1_WRAPPED


def test_kek_id_is_stable_and_short() -> None:
    first, second = KeyVault(RFC_4_6_KEK), KeyVault(bytes(RFC_4_6_KEK))
    assert first.kek_id == second.kek_id
    assert len(first.kek_id) == 16
    assert int(first.kek_id, 16) >= 0
    assert first.kek_id == first.kek_id.lower()


@given(a=keks, b=keks)
def test_kek_id_differs_per_kek(a: bytes, b: bytes) -> None:
    if a != b:
        assert KeyVault(a).kek_id != KeyVault(b).kek_id
    else:
        assert KeyVault(a).kek_id == KeyVault(b).kek_id


def test_kek_id_is_not_a_plain_hash_of_the_kek() -> None:
    import hashlib

    kek_id = KeyVault(RFC_4_6_KEK).kek_id
    for name in ("sha256", "sha1", "md5", "sha512", "blake2b"):
        assert not hashlib.new(name, RFC_4_6_KEK).hexdigest().startswith(kek_id)
    assert kek_id not in RFC_4_6_KEK.hex()


def test_a_16_byte_kek_and_its_32_byte_zero_extension_differ() -> None:
    assert KeyVault(RFC_4_1_KEK).kek_id != KeyVault(RFC_4_1_KEK + bytes(16)).kek_id


@given(kek=keks, key=keys)
def test_repr_and_str_show_no_key_material(kek: bytes, key: bytes) -> None:
    vault = KeyVault(kek)
    vault.unwrap(vault.wrap(key))
    for text in (repr(vault), str(vault), f"{vault}", f"{vault!r}"):
        assert vault.kek_id in text
        for secret in (kek, key):
            for form in _secret_forms(secret):
                assert form not in text


def test_repr_names_the_kek_id() -> None:
    vault = KeyVault(RFC_4_6_KEK)
    assert repr(vault) == f"KeyVault(kek_id='{vault.kek_id}')"
    assert str(vault) == repr(vault)


def test_the_kek_cannot_be_pickled_or_copied() -> None:
    vault = KeyVault(RFC_4_6_KEK)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(vault)
    with pytest.raises(TypeError):
        copy.copy(vault)
    with pytest.raises(TypeError):
        copy.deepcopy(vault)


def test_the_vault_has_no_attribute_dictionary() -> None:
    vault = KeyVault(RFC_4_6_KEK)
    assert not hasattr(vault, "__dict__")
    with pytest.raises(AttributeError):
        vault.kek_id = "0" * 16  # type: ignore[misc]


@pytest.mark.parametrize("size", [0, 1, 15, 17, 24, 31, 33, 64])
def test_a_kek_of_another_size_is_a_bad_argument(size: int) -> None:
    kek = bytes(range(size))
    with pytest.raises(ValueError, match=f"16 or 32 bytes, not {size}$") as info:
        KeyVault(kek)
    if size:
        for form in _secret_forms(kek):
            assert form not in str(info.value)


@pytest.mark.parametrize("kek", ["00" * 16, 16, bytearray(16), None])
def test_a_kek_that_is_not_bytes_is_a_type_error(kek: object) -> None:
    with pytest.raises(TypeError, match="bytes"):
        KeyVault(kek)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 8, 15, 17, 24, 31, 33, 40])
def test_a_key_of_another_size_is_a_bad_argument(size: int) -> None:
    with pytest.raises(ValueError, match=f"16 or 32 bytes, not {size}$"):
        KeyVault(RFC_4_6_KEK).wrap(bytes(size))

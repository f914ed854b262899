"""Settings: precedence of arguments and environment, key parsing, and no key in any message."""

from __future__ import annotations

import dataclasses
import os
import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest

from openams.config import (
    DEFAULT_DB_URL,
    ConfigError,
    Settings,
    generate_kek_hex,
    load_settings,
)
from openams.errors import InputError, OpenAMSError
from openams.keyvault import KeyVault

KeyFile = Callable[..., str]

KEK_A = bytes(range(0x10, 0x30))  # 32 bytes
KEK_B = bytes(range(0x80, 0x90))  # 16 bytes
KEK_C = bytes(range(0xC0, 0xE0))  # 32 bytes


def _forms(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), repr(secret)]


def _assert_no_secret(text: str, *secrets: bytes | str) -> None:
    for secret in secrets:
        forms = _forms(secret) if isinstance(secret, bytes) else [secret, secret.upper()]
        for form in forms:
            assert form not in text


@pytest.fixture
def key_file(tmp_path: Path) -> KeyFile:
    def write(content: bytes, name: str = "kek.hex") -> str:
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write


# --- database -------------------------------------------------------------------------------


def test_the_default_database_is_openams_db_in_the_working_directory() -> None:
    settings = load_settings(environ={})
    assert settings.db_url == DEFAULT_DB_URL == "sqlite:///openams.db"


def test_openams_db_overrides_the_default() -> None:
    settings = load_settings(environ={"OPENAMS_DB": "postgresql+psycopg://amr@db/openams"})
    assert settings.db_url == "postgresql+psycopg://amr@db/openams"


def test_the_db_argument_overrides_openams_db() -> None:
    environ = {"OPENAMS_DB": "postgresql+psycopg://amr@db/openams"}
    settings = load_settings(environ=environ, db="sqlite:///other.db")
    assert settings.db_url == "sqlite:///other.db"


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("meters.db", "sqlite:///meters.db"),
        ("data/meters.db", "sqlite:///data/meters.db"),
        ("/var/lib/openams/meters.db", "sqlite:////var/lib/openams/meters.db"),
        ("  meters.db\n", "sqlite:///meters.db"),
        ("sqlite:///already.db", "sqlite:///already.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_a_bare_path_is_a_sqlite_file(value: str, url: str) -> None:
    assert load_settings(environ={}, db=value).db_url == url
    assert load_settings(environ={"OPENAMS_DB": value}).db_url == url


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_openams_db_counts_as_unset(value: str) -> None:
    assert load_settings(environ={"OPENAMS_DB": value}).db_url == DEFAULT_DB_URL


@pytest.mark.parametrize("value", ["", " \t"])
def test_an_empty_db_argument_is_an_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^--db: the database URL or path is empty$"):
        load_settings(environ={"OPENAMS_DB": "x.db"}, db=value)


# --- key-encrypting key: precedence ---------------------------------------------------------


def test_no_kek_configured() -> None:
    settings = load_settings(environ={})
    assert settings.kek is None
    assert settings.kek_source is None


def test_openams_kek_gives_the_key() -> None:
    settings = load_settings(environ={"OPENAMS_KEK": KEK_A.hex()})
    assert settings.kek == KEK_A
    assert settings.kek_source == "OPENAMS_KEK"


def test_openams_kek_file_overrides_openams_kek(key_file: KeyFile) -> None:
    path = key_file(KEK_B.hex().encode())
    settings = load_settings(environ={"OPENAMS_KEK": KEK_A.hex(), "OPENAMS_KEK_FILE": path})
    assert settings.kek == KEK_B
    assert settings.kek_source == path


def test_the_kek_file_argument_overrides_both_variables(key_file: KeyFile) -> None:
    env_path = key_file(KEK_B.hex().encode(), "env.hex")
    arg_path = key_file(KEK_C.hex().encode(), "arg.hex")
    environ = {"OPENAMS_KEK": KEK_A.hex(), "OPENAMS_KEK_FILE": env_path}
    settings = load_settings(environ=environ, kek_file=arg_path)
    assert settings.kek == KEK_C
    assert settings.kek_source == arg_path


def test_the_kek_file_argument_wins_over_a_malformed_variable(key_file: KeyFile) -> None:
    path = key_file(KEK_C.hex().encode())
    settings = load_settings(environ={"OPENAMS_KEK": "not hex"}, kek_file=path)
    assert settings.kek == KEK_C


@pytest.mark.parametrize("value", ["", "  \n"])
def test_empty_kek_variables_count_as_unset(value: str) -> None:
    settings = load_settings(environ={"OPENAMS_KEK": value, "OPENAMS_KEK_FILE": value})
    assert settings.kek is None


def test_an_empty_openams_kek_file_falls_back_to_openams_kek() -> None:
    settings = load_settings(environ={"OPENAMS_KEK_FILE": "", "OPENAMS_KEK": KEK_B.hex()})
    assert settings.kek == KEK_B
    assert settings.kek_source == "OPENAMS_KEK"


def test_the_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAMS_DB", "from-os.db")
    monkeypatch.setenv("OPENAMS_KEK", KEK_B.hex())
    monkeypatch.delenv("OPENAMS_KEK_FILE", raising=False)
    settings = load_settings()
    assert settings.db_url == "sqlite:///from-os.db"
    assert settings.kek == KEK_B


def test_an_explicit_environment_ignores_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAMS_KEK", KEK_B.hex())
    assert load_settings(environ={}).kek is None


# --- key-encrypting key: formats ------------------------------------------------------------


@pytest.mark.parametrize("kek", [KEK_A, KEK_B], ids=["32-bytes", "16-bytes"])
@pytest.mark.parametrize(
    "spell",
    [
        bytes.hex,
        lambda k: k.hex().upper(),
        lambda k: f"  {k.hex()}\n",
        lambda k: " ".join(k.hex()[i : i + 8] for i in range(0, 2 * len(k), 8)),
    ],
    ids=["lower", "upper", "padded", "grouped"],
)
def test_openams_kek_reads_hex(kek: bytes, spell: Callable[[bytes], str]) -> None:
    assert load_settings(environ={"OPENAMS_KEK": spell(kek)}).kek == kek


@pytest.mark.parametrize(
    "content",
    [
        KEK_A.hex().encode() + b"\n",
        KEK_B.hex().upper().encode(),
        b"\r\n".join(KEK_A.hex()[i : i + 16].encode() for i in range(0, 64, 16)) + b"\r\n",
        b"\t" + KEK_A.hex().encode() + b"  ",
    ],
    ids=["newline", "upper-16", "crlf-lines", "tabs"],
)
def test_a_key_file_holds_hex_with_whitespace(key_file: KeyFile, content: bytes) -> None:
    kek = load_settings(environ={}, kek_file=key_file(content)).kek
    assert kek is not None
    assert kek.hex() == "".join(chr(b) for b in content if chr(b) in string.hexdigits).lower()


@pytest.mark.parametrize(
    "kek", [KEK_A, KEK_B, bytes(16), bytes(range(32))], ids=["a", "b", "zeros", "0-31"]
)
def test_a_key_file_holds_raw_bytes(key_file: KeyFile, kek: bytes) -> None:
    assert load_settings(environ={}, kek_file=key_file(kek, "kek.bin")).kek == kek


def test_a_raw_key_file_may_contain_hex_letters(key_file: KeyFile) -> None:
    kek = b"deadbeef" + bytes(range(8))  # 16 raw bytes, partly printable
    assert load_settings(environ={}, kek_file=key_file(kek)).kek == kek


# --- errors: every message names its source and shows no key material ----------------------

HEX_MESSAGE = "a key-encrypting key is 32 or 64 hex digits (16 or 32 bytes)"
FILE_MESSAGE = (
    "a key-encrypting key file holds 32 or 64 hex digits (16 or 32 bytes) "
    "or exactly 16 or 32 raw bytes"
)


@pytest.mark.parametrize(
    "value",
    [
        KEK_A.hex()[:-1],  # 63 digits
        KEK_A.hex() + "00",  # 66 digits
        KEK_B.hex()[:-2],  # 30 digits
        KEK_A.hex()[:48],  # 24 bytes: AES-192 is not accepted
        "0x" + KEK_B.hex(),
        KEK_A.hex()[:-1] + "g",
        KEK_B.hex() + "-",
        "åøæ" + KEK_B.hex()[3:],
    ],
    ids=["63", "66", "30", "48", "0x", "g", "dash", "non-ascii"],
)
def test_a_malformed_openams_kek_names_the_variable_and_not_the_value(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"OPENAMS_KEK": value})
    error = info.value
    assert str(error) == f"OPENAMS_KEK: {HEX_MESSAGE}"
    assert error.source == "OPENAMS_KEK"
    assert error.line is None
    _assert_no_secret(str(error), value.strip(), KEK_A, KEK_B)
    _assert_no_secret(repr(error), value.strip(), KEK_A, KEK_B)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n",
        b"\n" * 32,  # whitespace is text, not a raw key
        KEK_A.hex().encode()[:-1],
        KEK_B.hex().encode()[:16],  # 16 hex digits: a typo, not a raw key
        KEK_B.hex().encode()[:16] + b" " * 16,  # the same padded to 32 bytes
        KEK_A[:24],
        KEK_A + b"\x00",
        KEK_A.hex().encode() + b"zz",
        b"x" * 5000,
    ],
    ids=["empty", "blank", "blank-32", "63", "16-hex", "16-hex-padded", "24", "33", "zz", "big"],
)
def test_a_malformed_key_file_names_the_file_and_not_the_content(
    key_file: KeyFile, content: bytes
) -> None:
    path = key_file(content)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"OPENAMS_KEK": KEK_C.hex()}, kek_file=path)
    error = info.value
    assert str(error).startswith(f"{path}: {FILE_MESSAGE}")
    assert error.source == path
    _assert_no_secret(str(error), KEK_A, KEK_B, KEK_C)
    if content.strip():
        assert content.decode("latin-1").strip() not in str(error)


def test_a_malformed_key_file_from_the_environment_names_the_file(
    key_file: KeyFile,
) -> None:
    path = key_file(b"short")
    with pytest.raises(ConfigError, match=f"^{re.escape(path)}: a key-encrypting key file holds"):
        load_settings(environ={"OPENAMS_KEK_FILE": path})


def test_a_missing_key_file_names_the_file_and_the_reason(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.hex")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, kek_file=path)
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"
    assert info.value.source == path
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_a_missing_key_file_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.hex")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"OPENAMS_KEK_FILE": path, "OPENAMS_KEK": KEK_A.hex()})
    assert str(info.value) == (
        f"{path}: cannot read the file named by OPENAMS_KEK_FILE: No such file or directory"
    )
    _assert_no_secret(str(info.value), KEK_A)


def test_a_directory_is_not_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path))}: cannot read the file: "):
        load_settings(environ={}, kek_file=str(tmp_path))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_file_names_the_file(key_file: KeyFile) -> None:
    path = key_file(KEK_A.hex().encode())
    os.chmod(path, 0)
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, kek_file=path)
    assert str(info.value) == f"{path}: cannot read the file: Permission denied"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_kek_file_argument_is_an_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^--kek-file: the key file path is empty$"):
        load_settings(environ={"OPENAMS_KEK": KEK_A.hex()}, kek_file=value)


def test_config_error_sits_in_the_error_tree() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"OPENAMS_KEK": "00"})
    assert isinstance(info.value, InputError)
    assert isinstance(info.value, OpenAMSError)
    assert not isinstance(info.value, ValueError)
    assert info.value.code == "bad_config"


# --- Settings --------------------------------------------------------------------------------


def test_vault_uses_the_configured_kek() -> None:
    settings = load_settings(environ={"OPENAMS_KEK": KEK_A.hex()})
    vault = settings.vault()
    assert vault.kek_id == KeyVault(KEK_A).kek_id
    assert KeyVault(KEK_A).unwrap(vault.wrap(KEK_B)) == KEK_B


def test_vault_without_a_kek_says_how_to_set_one() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}).vault()
    assert str(info.value) == (
        "no key-encrypting key: set OPENAMS_KEK or OPENAMS_KEK_FILE (see docs/keys.md)"
    )
    assert info.value.source is None


@pytest.mark.parametrize("kek", [KEK_A, KEK_B], ids=["32", "16"])
def test_settings_repr_and_str_hide_the_kek(kek: bytes) -> None:
    settings = load_settings(environ={"OPENAMS_KEK": kek.hex()})
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "kek=<hidden>" in text
        assert "kek_source='OPENAMS_KEK'" in text
        _assert_no_secret(text, kek)


def test_settings_repr_without_a_kek() -> None:
    settings = load_settings(environ={})
    assert repr(settings) == ("Settings(db_url='sqlite:///openams.db', kek=None, kek_source=None)")


def test_the_kek_field_is_out_of_the_generated_repr() -> None:
    (kek_field,) = [f for f in dataclasses.fields(Settings) if f.name == "kek"]
    assert kek_field.repr is False


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://amr:s3cr3t@db:5432/openams",
            "postgresql+psycopg://amr:***@db:5432/openams",
        ),
        ("postgresql://amr:p@ss:w@rd@db/openams", "postgresql://amr:***@db/openams"),
        ("postgresql://:s3cr3t@db/openams", "postgresql://:***@db/openams"),
        ("postgresql://amr@db:5432/openams", "postgresql://amr@db:5432/openams"),
        ("postgresql://db:5432/openams", "postgresql://db:5432/openams"),
        ("sqlite:////var/lib/openams.db", "sqlite:////var/lib/openams.db"),
    ],
)
def test_settings_repr_hides_the_database_password(url: str, shown: str) -> None:
    settings = load_settings(environ={"OPENAMS_DB": url})
    assert settings.db_url == url
    assert f"db_url={shown!r}" in repr(settings)
    for secret in ("s3cr3t", "p@ss", "w@rd"):
        if secret not in shown:
            assert secret not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.kek = KEK_A  # type: ignore[misc]


def test_settings_refuse_a_kek_of_another_size() -> None:
    with pytest.raises(ValueError, match=r"16 or 32 bytes, not 24$"):
        Settings(kek=bytes(24))


def test_settings_defaults() -> None:
    assert Settings() == Settings(db_url="sqlite:///openams.db", kek=None, kek_source=None)


# --- generate_kek_hex ------------------------------------------------------------------------


def test_a_generated_kek_is_64_hex_digits_and_loads() -> None:
    text = generate_kek_hex()
    assert len(text) == 64
    assert set(text) <= set("0123456789abcdef")
    settings = load_settings(environ={"OPENAMS_KEK": text})
    assert settings.kek == bytes.fromhex(text)
    assert len(settings.vault().wrap(bytes(16))) == 24


def test_generated_keks_differ() -> None:
    assert len({generate_kek_hex() for _ in range(8)}) == 8

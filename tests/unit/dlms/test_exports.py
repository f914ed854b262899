"""The public surface of ``openams.dlms``: a sorted ``__all__``, and nothing but the core."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import openams.dlms as dlms


def _ruf022_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 "isort-style" order: SCREAMING_CASE, then CamelCase, then the rest."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_in_ruff_order():
    assert dlms.__all__ == sorted(dlms.__all__, key=_ruf022_key)


def test_all_has_no_duplicates():
    assert len(set(dlms.__all__)) == len(dlms.__all__)


def test_every_exported_name_resolves():
    for name in dlms.__all__:
        assert getattr(dlms, name) is not None, name


def test_every_public_name_is_exported():
    public = {
        name
        for name, value in vars(dlms).items()
        if not name.startswith("_") and not isinstance(value, type(dlms))
    } - {"annotations"}
    assert public == set(dlms.__all__)


def test_exported_objects_come_from_the_core():
    for name in dlms.__all__:
        module = getattr(getattr(dlms, name), "__module__", None)
        if module is not None and not isinstance(getattr(dlms, name), dict | str | tuple):
            assert module.startswith("openams.dlms."), (name, module)


def test_the_essential_api_is_exported():
    essential = {
        "PushDecoder", "Push", "KeyPair", "decode_push", "unframe",
        "Data", "DataType", "decode_data", "encode_data",
        "HdlcFrame", "decode_hdlc_frames", "encode_hdlc_frames", "crc16_x25",
        "SecuritySuite", "CosemDateTime", "Obis", "build_notification", "encode_push",
        "DlmsError", "DecodeError", "FrameError", "ApduError", "SecurityError",
        "DecryptionError", "MissingKeyError", "ReplayError", "InputTooLarge",
        "register_list_decoder", "register_list_encoder",
    }  # fmt: skip
    assert essential <= set(dlms.__all__)


def test_the_event_api_is_exported():
    events = {
        "EVENTS", "EventCode", "MeterEvent",
        "build_event_notification", "decode_event", "event_by_code",
    }  # fmt: skip
    assert events <= set(dlms.__all__)
    assert all(isinstance(e, dlms.EventCode) for e in dlms.EVENTS.values())


def test_error_tree():
    assert issubclass(dlms.DlmsError, dlms.OpenAMSError)
    for family in (
        dlms.DecodeError,
        dlms.LocalProtocolError,
        dlms.RemoteProtocolError,
        dlms.SecurityError,
    ):
        assert issubclass(family, dlms.DlmsError)
    for decode in (dlms.FrameError, dlms.ApduError, dlms.InputTooLarge):
        assert issubclass(decode, dlms.DecodeError)
    for security in (dlms.MissingKeyError, dlms.DecryptionError, dlms.ReplayError):
        assert issubclass(security, dlms.SecurityError)
    codes = {
        dlms.OpenAMSError: "error",
        dlms.DlmsError: "dlms_error",
        dlms.DecodeError: "bad_apdu",
        dlms.FrameError: "bad_frame",
        dlms.ApduError: "bad_apdu",
        dlms.InputTooLarge: "bad_frame",
        dlms.LocalProtocolError: "local_protocol_error",
        dlms.RemoteProtocolError: "remote_protocol_error",
        dlms.SecurityError: "security_error",
        dlms.MissingKeyError: "no_key",
        dlms.DecryptionError: "auth_failed",
        dlms.ReplayError: "replay",
    }
    for error, code in codes.items():
        assert error.code == code, error


def test_errors_carry_their_context():
    error = dlms.ApduError("bad thing", offset=7, tag=0x12)
    assert (error.offset, error.tag, str(error)) == (7, 0x12, "bad thing at offset 7")
    assert str(dlms.FrameError("no offset")) == "no offset"
    replay = dlms.ReplayError("again", invocation_counter=5, last_invocation_counter=9)
    assert (replay.invocation_counter, replay.last_invocation_counter) == (5, 9)
    missing = dlms.MissingKeyError("who", system_title=b"KFM00001")
    assert missing.system_title == b"KFM00001"


#: Never loaded by importing the core, not even indirectly.
NOT_LOADED = ("socket", "asyncio", "serial", "selectors", "ssl", "threading")
#: Never imported by the core itself (``datetime`` loads ``time`` for its own use, which the
#: import-linter contract allows: ``allow_indirect_imports``).
NOT_IMPORTED = ("socket", "asyncio", "serial", "time")

# Modules loaded at interpreter start-up would not show as newly loaded, so the probe forgets
# them first: an import of one of them under ``openams.dlms`` then loads it again, and shows.
_PROBE = textwrap.dedent(
    f"""
    import ast, inspect, sys
    for name in {NOT_LOADED + NOT_IMPORTED!r}:
        sys.modules.pop(name, None)
    before = set(sys.modules)
    import openams.dlms
    print("loaded", *sorted(set(sys.modules) - before))
    for name, module in sorted(sys.modules.items()):
        if name.startswith("openams."):
            for node in ast.walk(ast.parse(inspect.getsource(module))):
                if isinstance(node, ast.Import):
                    print("imports", name, *(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom):
                    print("imports", name, "." * node.level + (node.module or ""))
    """
)


def _probe(script: str) -> tuple[set[str], dict[str, set[str]]]:
    result = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True
    )
    loaded: set[str] = set()
    imports: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        kind, *names = line.split()
        if kind == "loaded":
            loaded.update(names)
        else:
            imports.setdefault(names[0], set()).update(names[1:])
    return loaded, imports


def test_importing_the_core_loads_nothing_else_from_openams_and_no_io():
    loaded, imports = _probe(_PROBE)
    assert "openams.dlms._push" in loaded
    ours = {name for name in loaded if name.startswith("openams.")}
    assert all(re.fullmatch(r"openams\.dlms(\..+)?", name) for name in ours), ours
    assert not set(NOT_LOADED) & loaded
    assert set(imports) == ours
    for module, names in imports.items():
        top = {name.split(".")[0] for name in names}
        assert not top & set(NOT_IMPORTED), module
        assert not {n for n in names if n.startswith("openams")}, module  # relative only


def test_the_probe_would_see_a_forbidden_import():
    loaded, _ = _probe(_PROBE.replace("import openams.dlms\n", "import openams.dlms, socket\n"))
    assert "socket" in loaded

"""The ``ams`` command line: the decode contract and the demo, run as a user would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openams.cli import main
from openams.dlms import Ciphering, MeterReading, build_notification, encode_push
from openams.services.elhub_message import parse_collected_data
from openams.store import open_store
from openams.store.settlement import SqlSettlementStore

EK = bytes(range(16))
AK = bytes(range(16, 32))
TITLE = bytes.fromhex("4b464d1020000001")
OSLO = ZoneInfo("Europe/Oslo")


def _reading(**kw) -> MeterReading:
    base = {
        "meter_id": "7359992890941742",
        "meter_type": "6534",
        "clock": datetime(2026, 1, 5, 10, 0, tzinfo=OSLO),
        "power_import_w": 1234,
        "energy_import_wh": 12345670,
    }
    base.update(kw)
    return MeterReading(**base)


def _ciphered(counter: int = 123, style: str = "aidon", framing: str = "hdlc") -> bytes:
    return encode_push(
        build_notification(style, 3, _reading()),
        framing=framing,
        style=style,
        ciphering=Ciphering(TITLE, counter, EK, AK),
    )


def _run(capsys, args, stdin_text=None, monkeypatch=None):
    if stdin_text is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    code = main(args)
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return code, lines, err


def test_contract_fields_for_a_ciphered_push(tmp_path, capsys):
    pushes = tmp_path / "p.hex"
    pushes.write_text("# a comment\n\n" + _ciphered().hex() + "\n")
    code, [result], _ = _run(capsys, ["decode", "--ek", EK.hex(), "--ak", AK.hex(), str(pushes)])
    assert code == 0
    assert list(result) == [
        "ok",
        "line",
        "framing",
        "manufacturer",
        "list_id",
        "meter_id",
        "system_title",
        "invocation_counter",
        "security",
        "time",
        "values",
    ]
    assert result["line"] == 3
    assert result["framing"] == "hdlc"
    assert result["manufacturer"] == "Aidon"
    assert result["list_id"] == "AIDON_V0001"
    assert result["meter_id"] == "7359992890941742"
    assert result["system_title"] == TITLE.hex()
    assert result["invocation_counter"] == 123
    assert result["security"] == "auth+enc"
    assert result["time"] == "2026-01-05T10:00:00+01:00"
    assert result["values"]["1-0:1.8.0.255"] == {"value": 12345670, "unit": "Wh"}
    assert result["values"]["1-0:1.7.0.255"] == {"value": 1234, "unit": "W"}
    assert all(key.count(".") == 3 and "-" in key and ":" in key for key in result["values"])


def test_keys_csv_spaces_colons_and_stdin(tmp_path, capsys, monkeypatch):
    keys = tmp_path / "keys.csv"
    keys.write_text(f"system_title,ek,ak\n{TITLE.hex()},{EK.hex()},{AK.hex()}\n")
    spaced = " ".join(f"{b:02x}" for b in _ciphered(7, "kamstrup"))
    coloned = ":".join(f"{b:02x}" for b in _ciphered(8, "kaifa", "wrapper"))
    code, results, _ = _run(
        capsys, ["decode", "--keys", str(keys), "-"], spaced + "\n" + coloned + "\n", monkeypatch
    )
    assert code == 0
    assert [r["manufacturer"] for r in results] == ["Kamstrup", "Kaifa"]
    assert [r["framing"] for r in results] == ["hdlc", "wrapper"]
    assert [r["invocation_counter"] for r in results] == [7, 8]


def test_every_error_code_and_exit_status(tmp_path, capsys):
    plain = encode_push(build_notification("aidon", 2, _reading()))
    bad_fcs = bytearray(plain)
    bad_fcs[30] ^= 0x04
    tampered = bytearray(_ciphered(framing="apdu"))
    tampered[40] ^= 0x01
    # data-notification, no date-time, structure of two double-long-unsigned: no OBIS codes
    body = bytes.fromhex("0f0000000100020206000000010600000002")
    lines = [
        plain.hex(),
        bad_fcs.hex(),
        "0f0000",
        _ciphered().hex(),
        tampered.hex(),
        body.hex(),
        "not hex at all",
    ]
    pushes = tmp_path / "p.hex"
    pushes.write_text("\n".join(lines) + "\n")
    keys = tmp_path / "keys.csv"
    keys.write_text(f"system_title,ek,ak\n{TITLE.hex()},{EK.hex()},{bytes(16).hex()}\n")
    code, results, err = _run(capsys, ["decode", str(pushes)])
    assert code == 1
    assert [r["ok"] for r in results] == [True, False, False, False, False, False, False]
    codes = [r.get("error", {}).get("code") for r in results]
    assert codes == [
        None,
        "bad_frame",
        "bad_apdu",
        "no_key",
        "no_key",
        "unknown_layout",
        "bad_frame",
    ]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5, 6, 7]
    assert "Traceback" not in err
    code, results, _ = _run(capsys, ["decode", "--keys", str(keys), str(pushes)])
    assert [r.get("error", {}).get("code") for r in results][3:5] == ["auth_failed", "auth_failed"]


def test_all_good_exits_zero(tmp_path, capsys):
    pushes = tmp_path / "p.hex"
    pushes.write_text(encode_push(build_notification("kaifa", 1, _reading())).hex() + "\n")
    code, [result], _ = _run(capsys, ["decode", str(pushes)])
    assert code == 0
    assert result["values"] == {"1-0:1.7.0.255": {"value": 1234, "unit": "W"}}
    assert result["time"] == "2026-01-05T10:00:00+01:00"


def test_tz_option_changes_the_zone_of_local_meters(tmp_path, capsys):
    pushes = tmp_path / "p.hex"
    pushes.write_text(encode_push(build_notification("kamstrup", 3, _reading())).hex() + "\n")
    code, [result], _ = _run(capsys, ["decode", "--tz", "UTC", str(pushes)])
    assert code == 0
    assert result["time"] == "2026-01-05T10:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["decode", "--ek", "1234"], "16 bytes"),
        (["decode", "--ak", "00" * 16], "--ak needs --ek"),
        (["decode", "/nonexistent/file.hex"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_a_message(capsys, args, message):
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert message in out + err
    assert "Traceback" not in out + err


def test_a_bad_keys_file_names_file_and_line(tmp_path, capsys):
    keys = tmp_path / "keys.csv"
    keys.write_text(f"system_title,ek,ak\n{TITLE.hex()},{EK.hex()},{AK.hex()}\n00,zz,\n")
    assert main(["decode", "--keys", str(keys), "-"]) == 2
    _, err = capsys.readouterr()
    assert f"{keys}:3:" in err
    assert "system_title" in err


@settings(max_examples=60)
@given(st.lists(st.text(max_size=60), max_size=5))
def test_arbitrary_input_never_gives_a_traceback(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "in.hex"
    path.write_text("\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines))
    code = main(["decode", str(path)])
    assert code in (0, 1)


def test_console_script_runs_the_demo_end_to_end(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from openams.cli import main; sys.exit(main())",
         "demo", "--out", str(tmp_path), "--meters", "60", "--days", "3", "--quiet",
         "--no-serve"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "nothing lost       yes: received = stored + duplicates + quarantined" in out
    received = re.search(r"received +([\d,]+) pushes: ([\d,]+) stored .*?([\d,]+) duplicates, "
                         r"([\d,]+) quarantined", out)  # fmt: skip
    assert received, out
    n = [int(g.replace(",", "")) for g in received.groups()]
    assert n[0] == n[1] + n[2] + n[3]
    assert n[0] == len((tmp_path / "pushes.jsonl").read_text().splitlines())
    # the scenario's wrong key and failing radio are refused and raised
    assert re.search(r"security events +[\d,]+ auth_failed", out), out
    truth = re.search(r"([\d,]+) of ([\d,]+) measured values equal", out)
    assert truth, out
    matching, checked = (int(g.replace(",", "")) for g in truth.groups())
    assert checked > 2000
    assert matching >= 0.999 * checked
    for day in ("2026-01-05", "2026-01-06", "2026-01-07"):
        assert re.search(rf"Elhub {day} +[\d,]+ complete, [\d,]+ with estimates, 0 missing", out)
        (message,) = (tmp_path / "elhub").glob(f"CollectedData-{day}-*.xml")
        _, series = parse_collected_data(message.read_bytes())
        assert len({s.metering_point_id for s in series}) == 60
    assert (tmp_path / "kek.hex").stat().st_mode & 0o077 == 0  # the key is the owner's only
    assert (tmp_path / "openams.db").exists()
    # the month settled from the simulated days, and an invoice per metering point
    settled = re.search(r"settlement +2026-01: ([\d,]+) supplies billed ([\d,.]+) NOK", out)
    assert settled, out
    assert settled.group(1) == "60"
    store = open_store(f"sqlite:///{tmp_path / 'openams.db'}")
    try:
        runs = SqlSettlementStore(store).runs("2026-01")
    finally:
        store.close()
    assert len(runs) == 60
    assert sum(r.total_nok for r in runs) == Decimal(settled.group(2).replace(",", ""))
    assert sum(1 for r in runs if any(ln.code == "norgespris" for ln in r.lines)) == 6
    # only three days were simulated, and VEE left a value in every hour of them: the daily
    # usage settlement reads holds the measured values ingest wrote as well as VEE's own
    assert all(r.missing_hours == 744 - 72 for r in runs)
    assert sum(1 for r in runs if r.energy_kwh > 0) >= 58
    assert len(list((tmp_path / "invoices").glob("*.pdf"))) == 60
    assert len(list((tmp_path / "invoices").glob("*.html"))) == 60


def test_the_demo_starts_afresh_and_refuses_a_bad_size(tmp_path, capsys):
    args = [
        "demo",
        "--out",
        str(tmp_path),
        "--meters",
        "20",
        "--days",
        "1",
        "--quiet",
        "--no-serve",
    ]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0  # again: a new database, the same story
    second = capsys.readouterr().out
    pick = re.compile(r"received .*")
    assert pick.search(first).group() == pick.search(second).group()
    assert main(["demo", "--out", str(tmp_path), "--meters", "1"]) == 2
    assert "--meters" in capsys.readouterr().err


def test_an_unexpected_error_is_one_line_and_exit_3(tmp_path, capsys, monkeypatch):
    import openams.cli.decode as decode_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(decode_module, "decode_hex_lines", boom)
    path = tmp_path / "p.hex"
    path.write_text("00\n")
    assert main(["decode", str(path)]) == 3
    _, err = capsys.readouterr()
    assert err.strip() == "ams: internal error: RuntimeError: disk on fire"


def test_version_and_help_exit_zero(capsys):
    assert main(["--version"]) == 0
    assert "ams, version" in capsys.readouterr().out
    assert main(["decode", "--help"]) == 0
    assert "--keys" in capsys.readouterr().out


def test_sim_grid_writes_the_four_files(tmp_path, capsys):
    assert main(["sim", "grid", "--meters", "250", "--area", "NO2", "--seed", "9",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    out, _ = capsys.readouterr()
    assert out.startswith("250 meters at 250 metering points under ")
    lines = (tmp_path / "meters.csv").read_text().splitlines()
    assert len(lines) == 251
    assert (tmp_path / "topology.csv").exists()
    assert main(["sim", "grid", "--meters", "5", "--area", "NO9", "--out", str(tmp_path)]) == 2


def test_the_demo_ends_by_serving_the_portal_until_interrupted(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from openams.cli import main; sys.exit(main())",
         "demo", "--out", str(tmp_path), "--meters", "20", "--days", "1", "--quiet",
         "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = []
        while not any(line.startswith("portal at ") for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        address = lines[-1].split()[2]
        customer = process.stdout.readline().split()
        assert customer[:2] == ["customer:", "kunde@demo.openams.no"]
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(address + "login", timeout=10) as response:
            form = response.read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode(
            {"email": customer[1], "password": customer[3], "csrf": csrf}
        ).encode()
        with browser.open(address + "login", data=data, timeout=10) as response:
            page = response.read().decode()
        assert "Denne måneden" in page  # logged in: the customer's month (the demo's January)
        assert "Målepunkt 70705" in page
        # A log-in link asked for in another browser is e-mailed: the demo prints the e-mail.
        other = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with other.open(address + "login/link", timeout=10) as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', response.read().decode()).group(1)
        data = urllib.parse.urlencode({"email": customer[1], "csrf": csrf}).encode()
        with other.open(address + "login/link", data=data, timeout=10) as response:
            assert "sendt en innloggingslenke" in response.read().decode()
        printed = []
        while not (printed and printed[-1].startswith("---") and len(printed) > 1):
            line = process.stdout.readline()
            assert line, "".join(lines + printed)
            if printed or line.startswith("--- e-mail to "):
                printed.append(line)
        assert printed[0].startswith(f"--- e-mail to {customer[1]}:")
        link = re.search(r"(http://\S+/login/link/\S+)", "".join(printed)).group(1)
        with other.open(link, timeout=10) as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', response.read().decode()).group(1)
        data = urllib.parse.urlencode({"csrf": csrf}).encode()
        with other.open(link, data=data, timeout=10) as response:
            assert "Denne måneden" in response.read().decode()  # logged in by the link
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
        if process.stdout is not None:
            process.stdout.close()
    assert (tmp_path / "logins.txt").stat().st_mode & 0o077 == 0

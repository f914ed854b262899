"""``ams decode``: decode pushes given as hex, one per line, to JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from openams.dlms import KeyPair, PushDecoder
from openams.errors import InputError
from openams.services.decode import decode_hex_lines, parse_hex_line, parse_keys_csv

__all__ = ["decode_command"]


def _key_option(value: str | None, name: str) -> bytes | None:
    if value is None:
        return None
    try:
        key = parse_hex_line(value)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None
    if len(key) != 16:
        raise click.BadParameter("a key is 16 bytes (32 hex digits)", param_hint=name)
    return key


@click.command("decode")
@click.argument(
    "file",
    required=False,
    default="-",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with the header system_title,ek,ak (hex), one row per meter.",
)
@click.option("--ek", help="Block cipher key (32 hex digits) for every line.")
@click.option("--ak", help="Authentication key (32 hex digits) for every line.")
@click.option(
    "--tz",
    default="Europe/Oslo",
    show_default=True,
    help="Zone of meters that send local time without a usable offset.",
)
def decode_command(
    file: str, keys_file: str | None, ek: str | None, ak: str | None, tz: str
) -> None:
    """Decode pushes in FILE (or standard input): one push per line, as hex.

    Prints one JSON object per push, in order. Exits 1 if any push could not be used.
    """
    table: dict[bytes, KeyPair] = {}
    if keys_file is not None:
        path = Path(keys_file)
        table = parse_keys_csv(path.read_text(encoding="utf-8-sig"), source=str(path))
    ek_bytes = _key_option(ek, "--ek")
    ak_bytes = _key_option(ak, "--ak")
    if ak_bytes is not None and ek_bytes is None:
        raise click.BadParameter("--ak needs --ek", param_hint="--ak")
    default = KeyPair(ek_bytes, ak_bytes) if ek_bytes is not None else None
    try:
        decoder = PushDecoder(tz=tz, keys=lambda title: table.get(title, default))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None
    stream = sys.stdin if file == "-" else Path(file).open(encoding="utf-8", errors="replace")  # noqa: SIM115
    failed = False
    try:
        for result in decode_hex_lines(stream, decoder):
            failed |= not result["ok"]
            click.echo(json.dumps(result, ensure_ascii=False))
    finally:
        if stream is not sys.stdin:
            stream.close()
    if failed:
        click.get_current_context().exit(1)

"""``ams demo``: build a small fleet's pushes as the meters send them, then decode them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from openams.dlms import PushDecoder
from openams.services.decode import decode_hex_lines, parse_keys_csv
from openams.services.demo import build_demo_sample, summarize

__all__ = ["demo_command"]


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="openams-demo",
    show_default=True,
    help="Directory for pushes.hex, keys.csv and decoded.jsonl.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the sample.")
@click.option(
    "--meters",
    "per_style",
    type=click.IntRange(1, 1000),
    default=3,
    show_default=True,
    help="Meters per manufacturer.",
)
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 31),
    default=3,
    show_default=True,
    help="Hourly ciphered List 3 pushes per meter.",
)
def demo_command(out: str, seed: int, per_style: int, hours: int) -> None:
    """Build sample pushes (plain HAN lists, ciphered hourly lists, three broken on purpose),
    decode them and summarise."""
    sample = build_demo_sample(seed=seed, per_style=per_style, hours=hours)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pushes.hex").write_text("\n".join(sample.lines) + "\n")
    (folder / "keys.csv").write_text(sample.keys_csv)
    keys = parse_keys_csv(sample.keys_csv, source=str(folder / "keys.csv"))
    decoder = PushDecoder(keys=keys.get)
    pushes = [line for line in sample.lines if not line.startswith("#")]
    click.echo(
        f"Built {len(pushes)} pushes from {len(sample.meters)} meters "
        f"into {folder / 'pushes.hex'} (keys in {folder / 'keys.csv'})."
    )
    results = []
    with click.progressbar(length=len(pushes), label="Decoding", file=None) as bar:
        for result in decode_hex_lines(sample.lines, decoder):
            results.append(result)
            bar.update(1)
    with (folder / "decoded.jsonl").open("w") as fh:
        for result in results:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    summary = summarize(results)
    example = next(r for r in results if r["ok"] and r["security"] == "auth+enc")
    click.echo("\nOne ciphered hourly push, decoded:")
    click.echo(json.dumps(example, ensure_ascii=False, indent=2))
    click.echo("\nSummary")
    click.echo(f"  pushes           {summary.pushes}")
    click.echo(
        f"  decoded          {summary.decoded} ({summary.ciphered} ciphered and authenticated)"
    )
    for name, count in sorted(summary.by_manufacturer.items()):
        click.echo(f"    {name:<14} {count}")
    click.echo(
        "  by framing       " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_framing.items()))
    )
    refused = ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items())) or "none"
    click.echo(
        f"  refused          {sum(summary.errors.values())} ({refused}; 3 were broken on purpose)"
    )
    click.echo(f"\nAll results: {folder / 'decoded.jsonl'}")

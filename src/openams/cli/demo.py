"""``ams demo``: the main job end to end on a simulated grid company, with a summary."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from openams.config import Settings
from openams.demo import DEMO_TARIFF, DemoResult, run_demo
from openams.services.tariff_files import example_tariff
from openams.store import open_store
from openams.store.outbox import SqlOutboxStore
from openams.web import create_app
from openams.web.server import WebServer

__all__ = ["demo_command"]

_STEPS = {
    "simulate": "Simulating the fleet",
    "ingest": "Ingesting pushes",
    "vee": "Validating and estimating",
    "export": "Delivering to Elhub",
    "prices": "Making spot prices",
    "settle": "Settling the month",
    "invoices": "Writing invoices",
}


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="openams-demo",
              show_default=True, help="Directory for everything the demo makes.")  # fmt: skip
@click.option("--meters", type=click.IntRange(10, 100_000), default=1000, show_default=True,
              help="Metering points in the simulated estate.")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 31), default=3, show_default=True,
              help="Days simulated.")  # fmt: skip
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]),
              default="2026-01-05", show_default=True, help="The first day.")  # fmt: skip
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same run.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes (0: one per core).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--no-serve", is_flag=True, help="Stop after the summary; do not serve the portal.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the portal.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the portal (0: any free one).")  # fmt: skip
def demo_command(out: str, meters: int, days: int, first: datetime, seed: int, workers: int,
                 quiet: bool, no_serve: bool, host: str, port: int) -> None:  # fmt: skip
    """Simulate an estate and its meters with faults and attacks, import it, ingest the
    pushes, run VEE and the Elhub delivery, settle the month and write invoices, summarise,
    and serve the portal until Ctrl-C: the main job, end to end."""
    folder = Path(out)
    console = Console()
    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"), TimeElapsedColumn(),
        console=console, disable=quiet,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def step(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(_STEPS.get(name, name), total=total)
            bar.update(tasks[name], completed=done, total=total)

        result = run_demo(folder, meters=meters, days=days, first_day=first.date(), seed=seed,
                          workers=workers, step=step)  # fmt: skip
    _summary(result, console)
    if not no_serve:
        _serve(result, host, port)


#: How often the served demo looks for new e-mail in the outbox. [s]
_OUTBOX_EVERY_S = 1.0
_OUTBOX_BATCH = 50


def _serve(result: DemoResult, host: str, port: int) -> None:
    """Serve the portal on the demo's store, as on the morning after the last day."""
    app = create_app(Settings(db_url=result.db_url), tariff=example_tariff(DEMO_TARIFF),
                     clock=lambda: result.now_s)  # fmt: skip
    server = WebServer(app, host, port)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    try:
        address = server.start()
        click.echo(f"\nportal at {address}/ (Ctrl-C to stop)")
        for role, (email, password) in result.logins.items():
            click.echo(f"  {role}: {email} / {password}")
        click.echo("  e-mail the portal sends (log-in links, confirmations) is printed here")
        outbox = open_store(result.db_url)
        try:
            seen = max((m.message_id for m in SqlOutboxStore(outbox).messages(limit=1)), default=0)
            while not stop.wait(_OUTBOX_EVERY_S):
                seen = _print_new_mail(SqlOutboxStore(outbox), seen)
        finally:
            outbox.close()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("portal stopped")


def _print_new_mail(outbox: SqlOutboxStore, seen: int) -> int:
    """Print the messages written to the outbox after message ``seen``; the last one's number."""
    new = [m for m in outbox.messages(limit=_OUTBOX_BATCH) if m.message_id > seen]
    for sent in sorted(new, key=lambda m: m.message_id):
        mail = sent.message
        click.echo(f"\n--- e-mail to {mail.to}: {mail.subject}\n{mail.text.rstrip()}\n---")
    return max((m.message_id for m in new), default=seen)


def _step_order(item: tuple[str, int]) -> float:
    low = item[0].lstrip(">").split("-")[0]
    return float(low)


def _summary(r: DemoResult, console: Console) -> None:
    sim, got, vee = r.sim, r.ingest, r.vee
    if sim is None or got is None or vee is None:  # pragma: no cover - run_demo fills them
        raise click.ClickException("the demo did not finish")
    c = sim.counts
    last = r.exports[-1].day if r.exports else r.first_day
    console.print(
        f"\n[bold]OpenAMS demo[/bold]: {r.meters:,} metering points, {r.first_day} to {last}, "
        f"in {sum(r.seconds.values()):.1f} s"
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    faults = ", ".join(f"{n} {k}" for k, n in sorted(sim.faults.items())) or "none"
    table.add_row("simulated", f"{sim.pushes_written:,} pushes arrived; {c['lost']:,} lost on "
                  f"the radio, {c['duplicated']:,} duplicated, {c['late']:,} late, "
                  f"{c['replayed']:,} replayed, {c['corrupted']:,} corrupted, "
                  f"{c['wrong_key']:,} with a wrong key")  # fmt: skip
    table.add_row("faults", faults)
    quarantined = ", ".join(f"{n:,} {k}" for k, n in sorted(got.quarantined.items())) or "none"
    table.add_row("received", f"{got.received:,} pushes: {got.stored:,} stored "
                  f"({got.events:,} events), {got.duplicates:,} duplicates, "
                  f"{got.quarantined_total:,} quarantined ({quarantined})")  # fmt: skip
    accounted = got.stored + got.duplicates + got.quarantined_total == got.received
    table.add_row("nothing lost", "yes: received = stored + duplicates + quarantined"
                  if accounted else "NO: pushes unaccounted for")  # fmt: skip
    security = ", ".join(f"{n:,} {k}" for k, n in sorted(got.security_events.items())) or "none"
    table.add_row("security events", security)
    statuses = ", ".join(f"{n:,} {s}" for s, n in sorted(vee.by_status.items()))
    table.add_row("values", f"{vee.values:,}: {statuses}")
    failed = ", ".join(f"{n:,} {s}" for s, n in sorted(vee.by_validation.items())) or "none"
    table.add_row("not measured", failed)
    methods = ", ".join(f"{n:,} {s}" for s, n in sorted(vee.by_estimation.items())) or "none"
    table.add_row("estimated by", methods)
    share = r.matching / r.checked if r.checked else 0.0
    table.add_row("against the truth", f"{r.matching:,} of {r.checked:,} measured values equal "
                  f"the simulated energy ({share:.2%})")  # fmt: skip
    for export in r.exports:
        counts = export.counts()
        table.add_row(
            f"Elhub {export.day}",
            f"{counts['complete']:,} complete, {counts['estimated']:,} with estimates, "
            f"{counts['missing']:,} missing; {export.series_sent:,} series in "
            f"{len(export.files)} file(s)",
        )
    settled = r.settlement
    if settled is not None:
        resettled = sum(1 for b in settled.billed if b.kind == "resettlement")
        kwh = sum((b.energy_kwh for b in settled.billed), Decimal(0))
        missing = sum(b.missing_hours for b in settled.billed)
        steps = Counter(b.capacity_step for b in settled.billed)
        table.add_row("prices", f"{r.prices:,} quarter-hour spot prices for {r.month} "
                      "(simulated), EUR/NOK 11.50")  # fmt: skip
        table.add_row(
            "settlement",
            f"{r.month}: {len(settled.billed) - resettled:,} supplies billed "
            f"{settled.total_nok:,} NOK incl. VAT for {kwh:,.3f} kWh; "
            f"{len(settled.problems):,} not settled; "
            f"{missing:,} hours without values (outside the simulated days)",
        )
        by_step = sorted(steps.items(), key=_step_order)
        table.add_row("capacity steps", ", ".join(f"{n:,} in {st} kW" for st, n in by_step))
        table.add_row("invoices", f"{r.invoices:,} files (HTML and PDF) in {r.folder}/invoices/")
    table.add_row(
        "files", f"{r.folder}/ (grid/, pushes.jsonl, truth/, elhub/, invoices/, openams.db)"
    )
    console.print(table)
    console.print(
        f"\nLook further: ams quarantine list --db {r.folder / 'openams.db'} | "
        f"ams values --db {r.folder / 'openams.db'} --mp <GSRN> --from {r.first_day} "
        f"--to {r.first_day}"
    )

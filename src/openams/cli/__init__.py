"""The ``ams`` command: thin; each command parses its input, calls a service, prints the result.

Exit codes: 0 success, 1 some input could not be used (reported per item), 2 a usage error or
a bad file (named with its line), 3 an unexpected internal error (reported without a
traceback).
"""

from __future__ import annotations

import click

from openams import __version__
from openams.errors import OpenAMSError

from .accounts import accounts_group
from .decode import decode_command
from .demo import demo_command
from .export import export_group
from .ingest import ingest_command
from .invoice import invoice_command
from .meters import keys_group, meters_group
from .outbox import outbox_command
from .prices import prices_group
from .quarantine import quarantine_group
from .serve import serve_command
from .settle import settle_command, supply_group
from .sim import sim_group
from .tariff import tariff_group
from .values import values_command
from .vee import vee_group

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ams")
def cli() -> None:
    """OpenAMS: the open advanced metering and control system."""


cli.add_command(decode_command)
cli.add_command(demo_command)
cli.add_command(sim_group)
cli.add_command(meters_group)
cli.add_command(keys_group)
cli.add_command(ingest_command)
cli.add_command(quarantine_group)
cli.add_command(values_command)
cli.add_command(serve_command)
cli.add_command(vee_group)
cli.add_command(export_group)
cli.add_command(prices_group)
cli.add_command(tariff_group)
cli.add_command(settle_command)
cli.add_command(supply_group)
cli.add_command(invoice_command)
cli.add_command(accounts_group)
cli.add_command(outbox_command)


def main(argv: list[str] | None = None) -> int:
    """Run ``ams``; map errors to exit codes in this one place."""
    try:
        result = cli.main(args=argv, prog_name="ams", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except OpenAMSError as exc:
        click.echo(f"ams: error: {exc}", err=True)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the entry point: report without a traceback
        click.echo(f"ams: internal error: {type(exc).__name__}: {exc}", err=True)
        return 3
    return result if isinstance(result, int) else 0

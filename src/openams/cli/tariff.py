"""``ams tariff``: check tariff and taxes files; show a tariff's prices."""

from __future__ import annotations

from datetime import date, datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from openams.domain.tariff import DAY_KINDS, EnergyRate, Tariff, TariffPeriod
from openams.domain.taxes import TaxRules
from openams.services.tariff_files import FileCheck, inspect_file

__all__ = ["tariff_group"]


@click.group("tariff")
def tariff_group() -> None:
    """Grid tariffs and the state's taxes, as TOML files."""


def _report(check: FileCheck) -> bool:
    """Print a file's problems on standard error; whether it had none."""
    for problem in check.problems:
        click.echo(str(problem), err=True)
    return not check.problems


def _taxes_summary(taxes: TaxRules) -> str:
    counts = [
        (len(taxes.consumption_tax), "consumption tax"),
        (len(taxes.enova_fee), "Enova fee"),
        (len(taxes.vat), "VAT"),
        (len(taxes.support), "electricity support"),
        (len(taxes.norgespris), "Norgespris"),
    ]
    return "taxes, rules: " + ", ".join(f"{n} {name}" for n, name in counts)


@tariff_group.command("check")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))  # fmt: skip
def tariff_check_command(files: tuple[str, ...]) -> None:
    """Check tariff and taxes files (the kind is recognised by its keys). Every problem is
    printed as FILE:LINE: message on standard error; exit 2 if any file had one."""
    bad = 0
    for name in files:
        check = inspect_file(name)
        if not _report(check):
            bad += 1
        elif check.tariff is not None:
            tariff = check.tariff
            count = len(tariff.periods)
            click.echo(f"{name}: ok — {tariff.company} {tariff.code}, "
                       f"{count} period{'s' if count != 1 else ''}")  # fmt: skip
        elif check.taxes is not None:
            click.echo(f"{name}: ok — {_taxes_summary(check.taxes)}")
    if bad:
        raise click.exceptions.Exit(2)


def _hours_text(rate: EnergyRate) -> str:
    if rate.from_hour == 0 and rate.to_hour == 24:
        return "all day"
    return f"{rate.from_hour:02d}-{rate.to_hour:02d}"


def _days_text(rate: EnergyRate) -> str:
    if rate.days == frozenset(DAY_KINDS):
        return "all"
    return ", ".join(kind for kind in DAY_KINDS if kind in rate.days)


def _months_text(rate: EnergyRate) -> str:
    """``1-3, 11-12`` for the months of a rate, or ``all``."""
    months = sorted(rate.months)
    if len(months) == 12:
        return "all"
    runs: list[list[int]] = []
    for month in months:
        if runs and runs[-1][-1] == month - 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _print_period(console: Console, tariff: Tariff, period: TariffPeriod) -> None:
    until = f"until {period.valid_to} (not included)" if period.valid_to else "until further notice"
    title = escape(f"{tariff.company} {tariff.code} — {tariff.name}")
    console.print(f"{title}: from {period.valid_from}, {until}. "
                  "Prices in NOK excluding VAT and taxes.")  # fmt: skip
    console.print(f"Fixed part: {period.fixed_monthly_nok} a month; "
                  f"export: {period.export_nok_per_kwh} per kWh")  # fmt: skip
    steps = Table(title="Capacity steps")
    steps.add_column("step (kW)", no_wrap=True)
    steps.add_column("NOK a month", justify="right", no_wrap=True)
    for step in period.steps:
        steps.add_row(step.label, str(step.monthly_nok))
    console.print(steps)
    rates = Table(title="Energy rates (the first that matches applies)")
    for name in ("code", "text", "NOK/kWh", "days", "hours", "months"):
        rates.add_column(name, justify="right" if name == "NOK/kWh" else "left")
    for rate in period.energy:
        rates.add_row(escape(rate.code), escape(rate.text), str(rate.nok_per_kwh), _days_text(rate),
                      _hours_text(rate), _months_text(rate))  # fmt: skip
    console.print(rates)


@tariff_group.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--on", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only the period whose prices apply on this day (default: all).")  # fmt: skip
def tariff_show_command(file: str, day: datetime | None) -> None:
    """A tariff's capacity steps and energy rates, period by period."""
    check = inspect_file(file)
    if not _report(check):
        raise click.exceptions.Exit(2)
    if check.tariff is None:
        click.echo(f"{file}: a taxes file, not a tariff; `ams tariff check` summarises it",
                   err=True)  # fmt: skip
        raise click.exceptions.Exit(2)
    tariff = check.tariff
    periods = list(tariff.periods)
    if day is not None:
        on: date = day.date()
        found = tariff.period_on(on)
        if found is None:
            click.echo(f"{file}: no period has prices for {on}", err=True)
            raise click.exceptions.Exit(1)
        periods = [found]
    console = Console()
    for period in periods:
        _print_period(console, tariff, period)

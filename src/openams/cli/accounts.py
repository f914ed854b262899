"""``ams accounts``: who may log in to the portal and the console."""

from __future__ import annotations

import sys
import time

import click

from openams.config import load_settings
from openams.services.accounts import ROLES, create_account
from openams.store import open_store
from openams.store.accounts import SqlAccountStore

from .meters import DB_OPTION

__all__ = ["accounts_group"]


@click.group("accounts")
def accounts_group() -> None:
    """Accounts of customers, operators, installers and administrators."""


@accounts_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--customer", "customer_id", default=None,
              help="For a customer account: whose metering points it sees.")  # fmt: skip
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")  # fmt: skip
@DB_OPTION
def accounts_add_command(email: str, role: str, customer_id: str | None, password_stdin: bool,
                         db: str | None) -> None:  # fmt: skip
    """Add an account; the password is asked for (twice) unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = open_store(load_settings(db=db).db_url)
    try:
        account = create_account(SqlAccountStore(store), email, password, role, customer_id,
                                 now_s=int(time.time()))  # fmt: skip
    finally:
        store.close()
    whose = f" of customer {account.customer_id}" if account.customer_id else ""
    click.echo(f"account {account.account_id}: {account.email}, {account.role}{whose}")

"""Customers' contact details, e-mail confirmations and log-in links.

The outbox (e-mail written instead of sent), pending changes of a customer's e-mail address,
one-time log-in links and identities linked to accounts. Tokens and identities are kept only
as hashes.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _account_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.account_id"], name=f"fk_{table}_account_id_accounts"
    )


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("message_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at_s", sa.BigInteger, nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_outbox"),
    )
    op.create_table(
        "email_confirmations",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at_s", sa.BigInteger, nullable=False),
        sa.Column("expires_at_s", sa.BigInteger, nullable=False),
        sa.Column("used_at_s", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_email_confirmations"),
    )
    op.create_index("ix_email_confirmations_customer_id", "email_confirmations", ["customer_id"])
    op.create_table(
        "login_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("created_at_s", sa.BigInteger, nullable=False),
        sa.Column("expires_at_s", sa.BigInteger, nullable=False),
        sa.Column("used_at_s", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_login_links"),
        _account_key("login_links"),
    )
    op.create_index(
        "ix_login_links_account_id_created_at_s", "login_links", ["account_id", "created_at_s"]
    )
    op.create_table(
        "identity_links",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("created_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("kind", "identity_hash", name="pk_identity_links"),
        _account_key("identity_links"),
    )
    op.create_index("ix_identity_links_account_id", "identity_links", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_identity_links_account_id", table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index("ix_login_links_account_id_created_at_s", table_name="login_links")
    op.drop_table("login_links")
    op.drop_index("ix_email_confirmations_customer_id", table_name="email_confirmations")
    op.drop_table("email_confirmations")
    op.drop_table("outbox")

"""Bearer tokens of the REST API: customers' grants to suppliers and staff tokens.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at_s", sa.BigInteger, nullable=False),
        sa.Column("expires_at_s", sa.BigInteger, nullable=False),
        sa.Column("revoked_at_s", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name="fk_api_tokens_account_id_accounts"
        ),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")

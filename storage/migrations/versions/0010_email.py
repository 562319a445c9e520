"""E-mail beside Telegram (SPEC 15): people's addresses with their double
opt-in and choice of channel, and the mails the bot owes.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _choice(*values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=16, create_constraint=False)


def upgrade() -> None:
    op.create_table(
        "email_addresses",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mode", _choice("all", "fallback"), nullable=False),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bounce", sa.String(length=200), nullable=True),
        sa.Column("pending_address", sa.String(length=254), nullable=True),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_tries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_email_addresses_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_email_addresses")),
    )
    op.create_table(
        "mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("purpose", _choice("delivery", "confirm"), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", _choice("pending", "sent", "skipped", "failed"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_mails_delivery_id_deliveries"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_mails_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mails")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_mails_delivery_id")),
    )
    op.create_index(op.f("ix_mails_person_id"), "mails", ["person_id"], unique=False)
    op.create_index("ix_mails_status_due", "mails", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mails_status_due", table_name="mails")
    op.drop_index(op.f("ix_mails_person_id"), table_name="mails")
    op.drop_table("mails")
    op.drop_table("email_addresses")

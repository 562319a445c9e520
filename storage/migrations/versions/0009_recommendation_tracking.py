"""Tracking the steering circle's recommendations (SPEC 14): the result of a
closed recommendation and, when adopted, its responsible office, due date,
status and review date; deliveries that remind the coordination on a review
date.

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


def _status(*values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=16, create_constraint=False)


def upgrade() -> None:
    op.create_table(
        "trackings",
        sa.Column("recommendation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("result", _status("adopted", "rejected", "noted"), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", _status("open", "in_progress", "delayed", "done"), nullable=False),
        sa.Column("delay_reason", sa.Text(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("review_revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_trackings_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recommendation_id", name=op.f("pk_trackings")),
    )
    op.create_index(op.f("ix_trackings_result"), "trackings", ["result"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracking_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_tracking_id_trackings"),
            "trackings",
            ["tracking_id"],
            ["recommendation_id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            "uq_deliveries_tracking_once", ["tracking_id", "person_id", "kind", "revision"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_tracking_once", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_tracking_id_trackings"), type_="foreignkey")
        batch_op.drop_column("tracking_id")
    op.drop_index(op.f("ix_trackings_result"), table_name="trackings")
    op.drop_table("trackings")

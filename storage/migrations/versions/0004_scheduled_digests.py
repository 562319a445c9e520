"""Scheduled digests: a delivery may be for one DIGEST_SCHEDULE time
(one per coordinator and time); indexes for the digest's grouped counts
and latest entries.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_deliveries_scheduled_once", ["scheduled_for", "person_id", "kind"])
    op.create_index("ix_people_unreachable_since", "people", ["unreachable_since"])
    op.create_index("ix_memberships_group_status", "memberships", ["group_id", "status", "person_id", "decided_at"])
    op.create_index("ix_agenda_items_group_created", "agenda_items", ["group_id", "created_at", "status"])
    op.create_index("ix_agenda_items_occurrence_status", "agenda_items", ["occurrence_id", "status"])
    op.create_index("ix_stances_recommendation_value", "stances", ["recommendation_id", "value", "answered_at"])
    op.create_index("ix_comments_recommendation_created", "comments", ["recommendation_id", "created_at"])
    op.create_index("ix_comments_recommendation_person", "comments", ["recommendation_id", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_comments_recommendation_person", table_name="comments")
    op.drop_index("ix_comments_recommendation_created", table_name="comments")
    op.drop_index("ix_stances_recommendation_value", table_name="stances")
    op.drop_index("ix_agenda_items_occurrence_status", table_name="agenda_items")
    op.drop_index("ix_agenda_items_group_created", table_name="agenda_items")
    op.drop_index("ix_memberships_group_status", table_name="memberships")
    op.drop_index("ix_people_unreachable_since", table_name="people")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_scheduled_once", type_="unique")
        batch_op.drop_column("scheduled_for")

"""Agenda indexes for a proposal that costs the same on a long agenda: the last
position of a session's agenda and a group's waiting items come from an index
alone. The single-column indexes on `group_id` and `occurrence_id` go: each
is the start of a composite index now.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_agenda_items_occurrence_status", table_name="agenda_items")
    op.create_index("ix_agenda_items_occurrence_status", "agenda_items", ["occurrence_id", "status", "position"])
    op.create_index("ix_agenda_items_group_waiting", "agenda_items", ["group_id", "occurrence_id", "status"])
    op.drop_index("ix_agenda_items_group_id", table_name="agenda_items")
    op.drop_index("ix_agenda_items_occurrence_id", table_name="agenda_items")


def downgrade() -> None:
    op.create_index("ix_agenda_items_occurrence_id", "agenda_items", ["occurrence_id"])
    op.create_index("ix_agenda_items_group_id", "agenda_items", ["group_id"])
    op.drop_index("ix_agenda_items_group_waiting", table_name="agenda_items")
    op.drop_index("ix_agenda_items_occurrence_status", table_name="agenda_items")
    op.create_index("ix_agenda_items_occurrence_status", "agenda_items", ["occurrence_id", "status"])

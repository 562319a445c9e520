"""After the session (SPEC 13): attendance, minutes with items, decisions and
proposed corrections, tasks, deputies; deliveries about tasks and minutes,
and deputies' copies of a member's deliveries.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _status(*values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=16, create_constraint=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("guest_name", sa.String(length=64), nullable=True),
        sa.Column("organisation", sa.String(length=120), nullable=True),
        sa.Column("status", _status("present", "excused", "absent"), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _fk("attendance", "occurrence_id", "occurrences", "CASCADE"),
        _fk("attendance", "person_id", "people", "SET NULL"),
        _fk("attendance", "deputy_id", "people", "SET NULL"),
        _fk("attendance", "recorded_by_id", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("occurrence_id", "person_id", name="uq_attendance_occurrence_person"),
    )
    op.create_index("ix_attendance_occurrence_status", "attendance", ["occurrence_id", "status"], unique=False)
    op.create_index(op.f("ix_attendance_person_id"), "attendance", ["person_id"], unique=False)
    op.create_index(op.f("ix_attendance_deputy_id"), "attendance", ["deputy_id"], unique=False)

    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("status", _status("draft", "review", "approved"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("circulated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        _fk("minutes", "occurrence_id", "occurrences", "CASCADE"),
        _fk("minutes", "created_by_id", "people", "SET NULL"),
        _fk("minutes", "approved_by_id", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes")),
        sa.UniqueConstraint("occurrence_id", name=op.f("uq_minutes_occurrence_id")),
    )
    op.create_index(op.f("ix_minutes_status"), "minutes", ["status"], unique=False)
    op.create_index(op.f("ix_minutes_approved_at"), "minutes", ["approved_at"], unique=False)

    op.create_table(
        "minutes_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("minutes_items", "minutes_id", "minutes", "CASCADE"),
        _fk("minutes_items", "agenda_item_id", "agenda_items", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_items")),
    )
    op.create_index(op.f("ix_minutes_items_minutes_id"), "minutes_items", ["minutes_id"], unique=False)

    op.create_table(
        "minutes_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("minutes_decisions", "item_id", "minutes_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_decisions")),
    )
    op.create_index(op.f("ix_minutes_decisions_item_id"), "minutes_decisions", ["item_id"], unique=False)

    op.create_table(
        "minutes_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minutes_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("minutes_corrections", "minutes_id", "minutes", "CASCADE"),
        _fk("minutes_corrections", "person_id", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_corrections")),
    )
    op.create_index(op.f("ix_minutes_corrections_minutes_id"), "minutes_corrections", ["minutes_id"], unique=False)
    op.create_index(op.f("ix_minutes_corrections_person_id"), "minutes_corrections", ["person_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("minutes_item_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", _status("draft", "open", "done"), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        _fk("tasks", "group_id", "groups", "CASCADE"),
        _fk("tasks", "occurrence_id", "occurrences", "SET NULL"),
        _fk("tasks", "minutes_item_id", "minutes_items", "SET NULL"),
        _fk("tasks", "owner_id", "people", "SET NULL"),
        _fk("tasks", "created_by_id", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_group_status", "tasks", ["group_id", "status"], unique=False)
    op.create_index(op.f("ix_tasks_occurrence_id"), "tasks", ["occurrence_id"], unique=False)
    op.create_index(op.f("ix_tasks_minutes_item_id"), "tasks", ["minutes_item_id"], unique=False)
    op.create_index(op.f("ix_tasks_owner_id"), "tasks", ["owner_id"], unique=False)

    op.create_table(
        "deputies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        _fk("deputies", "member_id", "people", "CASCADE"),
        _fk("deputies", "deputy_id", "people", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputies")),
    )
    op.create_index("ix_deputies_member_ended", "deputies", ["member_id", "ended_at"], unique=False)
    op.create_index(op.f("ix_deputies_deputy_id"), "deputies", ["deputy_id"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minutes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("copy_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_task_id_tasks"), "tasks", ["task_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_minutes_id_minutes"), "minutes", ["minutes_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_copy_of_id_deliveries"), "deliveries", ["copy_of_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_unique_constraint("uq_deliveries_task_once", ["task_id", "person_id", "kind"])
        batch_op.create_unique_constraint("uq_deliveries_minutes_once", ["minutes_id", "person_id", "kind"])
        batch_op.create_unique_constraint("uq_deliveries_copy_once", ["copy_of_id", "person_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_copy_once", type_="unique")
        batch_op.drop_constraint("uq_deliveries_minutes_once", type_="unique")
        batch_op.drop_constraint("uq_deliveries_task_once", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_copy_of_id_deliveries"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_minutes_id_minutes"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_task_id_tasks"), type_="foreignkey")
        batch_op.drop_column("copy_of_id")
        batch_op.drop_column("minutes_id")
        batch_op.drop_column("task_id")
    for table in ("deputies", "tasks", "minutes_corrections", "minutes_decisions", "minutes_items", "minutes"):
        op.drop_table(table)
    op.drop_table("attendance")

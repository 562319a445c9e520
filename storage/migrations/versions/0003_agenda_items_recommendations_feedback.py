"""Agenda items, recommendations with their target groups, stances and comments;
deliveries about recommendations and agenda items (no session: occurrence_id may be NULL).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="recommendationstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["people.id"], name=op.f("fk_recommendations_closed_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_recommendations_created_by_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendations_status"), ["status"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_comments_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_comments_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_recommendation_id"), ["recommendation_id"], unique=False)

    op.create_table(
        "recommendation_groups",
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_recommendation_groups_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_groups_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recommendation_id", "group_id", name=op.f("pk_recommendation_groups")),
    )
    with op.batch_alter_table("recommendation_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendation_groups_group_id"), ["group_id"], unique=False)

    op.create_table(
        "stances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column(
            "value",
            sa.Enum("agree", "concerns", "reject", name="stancevalue", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_stances_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_stances_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stances")),
        sa.UniqueConstraint("recommendation_id", "person_id", name="uq_stances_recommendation_person"),
    )
    with op.batch_alter_table("stances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stances_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stances_recommendation_id"), ["recommendation_id"], unique=False)

    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("proposed", "accepted", "rejected", "withdrawn", name="agendastatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_agenda_items_author_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["people.id"], name=op.f("fk_agenda_items_decided_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_agenda_items_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["occurrences.id"],
            name=op.f("fk_agenda_items_occurrence_id_occurrences"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_items_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_items_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_items_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_items_occurrence_id"), ["occurrence_id"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recommendation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("agenda_item_id", sa.Integer(), nullable=True))
        batch_op.alter_column("occurrence_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_deliveries_agenda_item_id"), ["agenda_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_recommendation_id"), ["recommendation_id"], unique=False)
        batch_op.create_unique_constraint(
            "uq_deliveries_recommendation_once", ["recommendation_id", "person_id", "kind"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_recommendation_id_recommendations"),
            "recommendations",
            ["recommendation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_agenda_item_id_agenda_items"),
            "agenda_items",
            ["agenda_item_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deliveries_agenda_item_id_agenda_items"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_deliveries_recommendation_id_recommendations"), type_="foreignkey")
        batch_op.drop_constraint("uq_deliveries_recommendation_once", type_="unique")
        batch_op.drop_index(batch_op.f("ix_deliveries_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_agenda_item_id"))
        batch_op.alter_column("occurrence_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("agenda_item_id")
        batch_op.drop_column("recommendation_id")

    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_occurrence_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_items_group_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_items_created_at"))
        batch_op.drop_index(batch_op.f("ix_agenda_items_author_id"))

    op.drop_table("agenda_items")
    with op.batch_alter_table("stances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stances_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_stances_person_id"))

    op.drop_table("stances")
    with op.batch_alter_table("recommendation_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_groups_group_id"))

    op.drop_table("recommendation_groups")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_comments_person_id"))
        batch_op.drop_index(batch_op.f("ix_comments_created_at"))

    op.drop_table("comments")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_status"))
        batch_op.drop_index(batch_op.f("ix_recommendations_created_at"))

    op.drop_table("recommendations")

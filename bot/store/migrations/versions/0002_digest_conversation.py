"""digest conversation: stored themes and edits, members' answers to themes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("themes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("edits", sa.JSON(), nullable=True))
    op.create_table(
        "digest_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("stance", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["digests.id"],
            name=op.f("fk_digest_responses_digest_id_digests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_digest_responses_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_responses")),
        sa.UniqueConstraint(
            "digest_id",
            "theme",
            "member_id",
            name=op.f("uq_digest_responses_digest_id_theme_member_id"),
        ),
    )
    with op.batch_alter_table("digest_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_responses_digest_id"), ["digest_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_digest_responses_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_responses_member_id"))
        batch_op.drop_index(batch_op.f("ix_digest_responses_digest_id"))
    op.drop_table("digest_responses")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_column("edits")
        batch_op.drop_column("themes")

"""initial schema: players, passages, rounds, guesses

Revision ID: 0001
Revises:
Create Date: 2026-11-30 01:42:22.408097
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("model_kind", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("checkpoint_sha256", sa.String(length=64), nullable=False),
        sa.Column("temperature", sa.Double(), nullable=False),
        sa.Column("top_k", sa.Integer(), nullable=True),
        sa.Column("top_p", sa.Double(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("prime", sa.Text(), nullable=False),
        sa.Column("requested_length", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("longest_copied_span", sa.Integer(), nullable=False),
        sa.Column("real_text", sa.Text(), nullable=False),
        sa.Column("real_source", sa.JSON(), nullable=False),
        sa.Column("heatmap_model", sa.String(length=200), nullable=True),
        sa.Column("generated_bits", sa.JSON(), nullable=True),
        sa.Column("real_bits", sa.JSON(), nullable=True),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_passages_key_served", ["model", "temperature", "served"], unique=False
        )

    op.create_table(
        "players",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("nickname", sa.String(length=24), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("guesses", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("best_streak", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rounds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("difficulty", sa.String(length=10), nullable=False),
        sa.Column("passage_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("player_id", sa.String(length=32), nullable=True),
        sa.Column("room_code", sa.String(length=12), nullable=True),
        sa.Column("guessed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["passage_id"],
            ["passages.id"],
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_room_code"), ["room_code"], unique=False)

    op.create_table(
        "guesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("player_id", sa.String(length=32), nullable=True),
        sa.Column("room_code", sa.String(length=12), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("difficulty", sa.String(length=10), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("temperature", sa.Double(), nullable=False),
        sa.Column("passage_length", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "player_id", name="uq_guesses_round_player"),
    )
    with op.batch_alter_table("guesses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guesses_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_guesses_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guesses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guesses_round_id"))
        batch_op.drop_index(batch_op.f("ix_guesses_created_at"))

    op.drop_table("guesses")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_room_code"))

    op.drop_table("rounds")
    op.drop_table("players")
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.drop_index("ix_passages_key_served")

    op.drop_table("passages")

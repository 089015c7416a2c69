"""passages record their constraints and the machine judge's scores; guesses the judge's verdict

A generated passage is written on its real excerpt's scaffold, maybe under the lexicon and as the
judge's pick of several candidates: `constraints` records that, so the passage can be
regenerated. `judge_real` and `judge_generated` are the machine judge's scores of the two texts;
each guess keeps whether the judge got the same round right, so the statistics can set the
players beside the machine. Passages and guesses from before have none of these (NULL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("passages", sa.Column("constraints", sa.JSON(), nullable=True))
    op.add_column("passages", sa.Column("judge_model", sa.String(length=200), nullable=True))
    op.add_column("passages", sa.Column("judge_real", sa.Double(), nullable=True))
    op.add_column("passages", sa.Column("judge_generated", sa.Double(), nullable=True))
    op.add_column("guesses", sa.Column("judge_correct", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guesses") as batch:
        batch.drop_column("judge_correct")
    with op.batch_alter_table("passages") as batch:
        batch.drop_column("judge_generated")
        batch.drop_column("judge_real")
        batch.drop_column("judge_model")
        batch.drop_column("constraints")

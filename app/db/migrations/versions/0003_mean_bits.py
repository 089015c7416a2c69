"""passages keep the mean of their surprisal lists

A guess's reveal shows each passage's per-character surprisal and its mean. With the mean
stored, the server passes the lists on to the answer as the JSON text they are kept as, instead
of decoding ~900 numbers into Python (and encoding them again) for every guess. Passages already
in the bank get their means here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PASSAGES = sa.table(
    "passages",
    sa.column("id", sa.Integer),
    sa.column("generated_bits", sa.JSON),
    sa.column("real_bits", sa.JSON),
    sa.column("generated_mean_bits", sa.Double),
    sa.column("real_mean_bits", sa.Double),
)


def _mean(bits: list | None) -> float | None:
    return sum(bits) / len(bits) if bits else None


def upgrade() -> None:
    op.add_column("passages", sa.Column("generated_mean_bits", sa.Double(), nullable=True))
    op.add_column("passages", sa.Column("real_mean_bits", sa.Double(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_PASSAGES.c.id, _PASSAGES.c.generated_bits, _PASSAGES.c.real_bits).where(
            sa.or_(_PASSAGES.c.generated_bits.is_not(None), _PASSAGES.c.real_bits.is_not(None))
        )
    ).all()
    for passage_id, generated_bits, real_bits in rows:
        connection.execute(
            sa.update(_PASSAGES)
            .where(_PASSAGES.c.id == passage_id)
            .values(generated_mean_bits=_mean(generated_bits), real_mean_bits=_mean(real_bits))
        )


def downgrade() -> None:
    with op.batch_alter_table("passages") as batch:
        batch.drop_column("real_mean_bits")
        batch.drop_column("generated_mean_bits")

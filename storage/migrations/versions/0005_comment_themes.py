"""themes of each comment

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: not tagged (no text comment, or stored before themes existed: `npsbot themes
    # --recompute` tags those); "": tagged, about none of the themes.
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("themes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("themes")

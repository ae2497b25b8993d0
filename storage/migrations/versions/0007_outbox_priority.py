"""outbox priority: replies to a person's own action before bulk sends

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The purposes that were replies to someone's own action when this revision was written
# (bot.delivery.purposes.PRIORITY); a migration must not import the app, which moves on.
_INTERACTIVE = ("client", "alert", "loop", "command", "export", "enps_member")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default=sa.text("1"), nullable=False)
        )
    # Calls waiting at the upgrade: a reminder queued as "client" goes first too, once.
    op.execute(
        sa.text(
            "UPDATE outbox SET priority = 0 WHERE status = 'pending' AND purpose IN :purposes"
        ).bindparams(sa.bindparam("purposes", _INTERACTIVE, expanding=True))
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending_priority_id",
            ["priority", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_pending_priority_id",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_column("priority")

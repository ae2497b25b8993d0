"""drop the three indexes no query uses, which every closing paid for

Each closing of a ticket inserts a ticket and a survey row, and every index on those tables is
written with it. Each index was checked against the queries of storage/ and bot/ with
``EXPLAIN ANALYZE`` on PostgreSQL over a million surveys (200,000 customers, a million
tickets; issue 15). Three are used by no query:

- ``ix_survey_ticket_id``: the unique ``uq_survey_ticket_closing (ticket_id, closed_at)``
  starts with ``ticket_id``, and every look-up by ticket (the intake's known surveys,
  ``cancel_unsent``'s join) uses it in the same plan once this one is gone.
- ``ix_ticket_customer_id``: no query filters or joins tickets by customer, and customers are
  never deleted (the purge and /forget anonymise them), so the foreign key never looks it up.
- ``ix_survey_due_at``: the sweep's due surveys (``status = 'pending' AND due_at <= now``),
  the expiry of pending surveys and ``end_surveys_of_unreachable`` all use ``ix_survey_status``.
  With 100,000 pending surveys the planner did pick it for the due surveys and walked it in
  order: 224 ms, against 67 ms by ``ix_survey_status`` without it.

Kept, each for the query that uses it: ``ix_survey_status`` (the sweep, expiry, the comment
look-up), ``ix_survey_customer_id`` (the throttle's recount, score history), ``ix_survey_sent_at``
(the digest's sent counts, reminders), ``ix_survey_answered_at`` (the digest, /nps, the
export), ``ix_customer_telegram_user_id`` (linking, /forget), and the unique keys the intake's
``ON CONFLICT`` needs. docs/benchmarks.md (Intake) has the plans.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_ticket_id")
        batch_op.drop_index("ix_survey_due_at")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_customer_id")


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_customer_id", ["customer_id"], unique=False)
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index("ix_survey_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_survey_ticket_id", ["ticket_id"], unique=False)

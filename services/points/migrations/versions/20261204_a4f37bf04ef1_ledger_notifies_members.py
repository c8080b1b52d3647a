"""ledger notifies members

Every insert into the ledger (any write path: earning, holds, captures, vesting, expiry, returns,
adjustments) sends `pg_notify('points_ledger', '<member id>')`, once per member per statement.
PostgreSQL delivers it only when the writing transaction commits, so the `myPoints` subscription
hears of committed changes only. The trigger only notifies: the append-only and TRUNCATE triggers
and the runtime role's SELECT/INSERT-only grant on the ledger stay as they are.

Revision ID: a4f37bf04ef1
Revises: 5b7d2c91e0af
Create Date: 2026-12-04 15:20:00.000000
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'a4f37bf04ef1'
down_revision: Union[str, Sequence[str], None] = '5b7d2c91e0af'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION points.notify_ledger_members() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('points_ledger', changed.member_id::text)
               FROM (SELECT DISTINCT member_id FROM inserted) AS changed;
            RETURN NULL;
        END $$
        """
    )
    # Per statement over the inserted rows: a job's batch of a thousand rows sends one
    # notification per member, not per row.
    op.execute(
        "CREATE TRIGGER ledger_transactions_notify AFTER INSERT ON points.ledger_transactions"
        " REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION points.notify_ledger_members()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ledger_transactions_notify ON points.ledger_transactions")
    op.execute("DROP FUNCTION IF EXISTS points.notify_ledger_members()")

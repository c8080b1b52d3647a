"""redemptions notify members

A redemption created, or one whose status, saga step, refund state or voucher state changed, sends
`pg_notify('redemption_updates', '<member id>:<redemption id>')` from a trigger, so every write path
(the saga's fenced steps, refunds, recovery, operators' decisions, partners' write-offs) notifies,
and PostgreSQL delivers it only when the writing transaction commits. The
`myRedemptionUpdates` subscription listens for it.

Revision ID: 7af4cdfb7d80
Revises: 8cd02d2f602a
Create Date: 2026-12-04 15:30:00.000000
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '7af4cdfb7d80'
down_revision: Union[str, Sequence[str], None] = '8cd02d2f602a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WATCHED = ("status", "step", "refund_state", "code_state")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION redemptions.notify_redemption_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('redemption_updates', NEW.member_id::text || ':' || NEW.id::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER redemptions_notify_insert AFTER INSERT ON redemptions.redemptions"
        " FOR EACH ROW EXECUTE FUNCTION redemptions.notify_redemption_change()"
    )
    changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in WATCHED)
    # Leases, retry times and the like change often and mean nothing to the member: not notified.
    op.execute(
        f"CREATE TRIGGER redemptions_notify_update AFTER UPDATE ON redemptions.redemptions"
        f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION redemptions.notify_redemption_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS redemptions_notify_update ON redemptions.redemptions")
    op.execute("DROP TRIGGER IF EXISTS redemptions_notify_insert ON redemptions.redemptions")
    op.execute("DROP FUNCTION IF EXISTS redemptions.notify_redemption_change()")

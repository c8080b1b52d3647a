"""ledger refuses truncate

Revision ID: 9b2d7e41c3a8
Revises: 4414cca1faea
Create Date: 2026-12-04 12:40:00.000000

The append-only triggers refuse UPDATE and DELETE row by row; TRUNCATE fires no row triggers, so
the ledger also refuses it per statement, even for its owner, unless the session asked for it
deliberately with `SET abg.allow_truncate = 'on'` (the test database's cleanup does).
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '9b2d7e41c3a8'
down_revision: Union[str, Sequence[str], None] = '4414cca1faea'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LEDGER = ("ledger_transactions", "postings")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION points.refuse_ledger_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('abg.allow_truncate', true) IS DISTINCT FROM 'on' THEN
                RAISE EXCEPTION 'the points ledger is append-only: TRUNCATE on % refused', TG_TABLE_NAME
                    USING HINT = 'SET abg.allow_truncate = ''on'' first to empty it deliberately';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in LEDGER:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON points.{table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION points.refuse_ledger_truncate()"
        )


def downgrade() -> None:
    for table in LEDGER:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON points.{table}")
    op.execute("DROP FUNCTION IF EXISTS points.refuse_ledger_truncate()")

"""benefit refund window

Revision ID: 3be5946752e4
Revises: a298a87594a0
Create Date: 2026-12-04 06:51:22.771218

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3be5946752e4'
down_revision: Union[str, Sequence[str], None] = 'a298a87594a0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('benefits', sa.Column('refund_window_days', sa.SmallInteger(), nullable=True), schema='benefits')
    # Autogenerate does not see check constraints: written by hand, as models.py declares it.
    op.create_check_constraint(
        'ck_benefits_refund_window', 'benefits',
        'refund_window_days IS NULL OR refund_window_days BETWEEN 0 AND 365', schema='benefits',
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint('ck_benefits_refund_window', 'benefits', type_='check', schema='benefits')
    op.drop_column('benefits', 'refund_window_days', schema='benefits')

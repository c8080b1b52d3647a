"""purchase caps and member status

Partners get optional caps (purchase amount, points per member per day, purchase age; null means
the settings' defaults); member accounts get the member's status as members announces it.

Revision ID: 5b7d2c91e0af
Revises: 9b2d7e41c3a8
Create Date: 2026-12-04 12:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '5b7d2c91e0af'
down_revision: Union[str, Sequence[str], None] = '9b2d7e41c3a8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('member_accounts', sa.Column('status', sa.String(length=16), server_default='ACTIVE', nullable=False), schema='points')
    op.add_column('member_accounts', sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True), schema='points')
    op.create_check_constraint('ck_member_accounts_status', 'member_accounts', "status IN ('ACTIVE', 'SUSPENDED', 'ERASED')", schema='points')
    op.add_column('partners', sa.Column('max_purchase_minor', sa.BigInteger(), nullable=True), schema='points')
    op.add_column('partners', sa.Column('max_points_per_member_day', sa.BigInteger(), nullable=True), schema='points')
    op.add_column('partners', sa.Column('max_purchase_age_days', sa.Integer(), nullable=True), schema='points')
    op.create_check_constraint('ck_partners_max_purchase', 'partners', 'max_purchase_minor > 0', schema='points')
    op.create_check_constraint('ck_partners_max_points_day', 'partners', 'max_points_per_member_day > 0', schema='points')
    op.create_check_constraint('ck_partners_max_purchase_age', 'partners', 'max_purchase_age_days > 0', schema='points')


def downgrade() -> None:
    """Downgrade schema."""
    for name in ('ck_partners_max_purchase_age', 'ck_partners_max_points_day', 'ck_partners_max_purchase'):
        op.drop_constraint(name, 'partners', schema='points')
    for column in ('max_purchase_age_days', 'max_points_per_member_day', 'max_purchase_minor'):
        op.drop_column('partners', column, schema='points')
    op.drop_constraint('ck_member_accounts_status', 'member_accounts', schema='points')
    op.drop_column('member_accounts', 'status_changed_at', schema='points')
    op.drop_column('member_accounts', 'status', schema='points')

"""seal display name and birthday

Display name and birthday become ciphertext under each member's data key, like phone and email,
so erasure (dropping the key) destroys them too. Existing rows are encrypted here, in batches; the
birthday month stays in clear (other services' birthday multipliers and perks need it). Needs the
same ABG_MASTER_KEY (or a retired one) the data keys were wrapped with.

Revision ID: 93a9b39ea82d
Revises: 8e0fe0c5f1de
Create Date: 2026-12-04 12:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from shared.crypto import decrypt_field, encrypt_field, field_aad, unwrap_data_key

# revision identifiers, used by Alembic.
revision: str = '93a9b39ea82d'
down_revision: Union[str, Sequence[str], None] = '8e0fe0c5f1de'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_BATCH = 500


def _rows(bind, columns: str, after):  # noqa: ANN001, ANN202 - keyset pages of members with a key
    return bind.execute(
        sa.text(
            f"SELECT m.id, k.wrapped_key, {columns} FROM members.members m "
            "JOIN members.member_keys k ON k.member_id = m.id "
            "WHERE (CAST(:after AS uuid) IS NULL OR m.id > CAST(:after AS uuid)) ORDER BY m.id LIMIT :n"
        ),
        {"after": after, "n": _BATCH},
    ).all()


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('members', sa.Column('display_name_ciphertext', sa.LargeBinary(), nullable=True), schema='members')
    op.add_column('members', sa.Column('birthday_ciphertext', sa.LargeBinary(), nullable=True), schema='members')
    bind = op.get_bind()
    update = sa.text(
        "UPDATE members.members SET display_name_ciphertext = :name, birthday_ciphertext = :birthday WHERE id = :id"
    )
    after = None
    while rows := _rows(bind, "m.display_name, m.birthday_month, m.birthday_day", after):
        for row in rows:
            key = unwrap_data_key(row.wrapped_key, row.id.bytes)
            name = encrypt_field(key, row.display_name, field_aad(row.id, "display_name")) if row.display_name else None
            birthday = None
            if row.birthday_month is not None and row.birthday_day is not None:
                text = f"{row.birthday_month:02d}-{row.birthday_day:02d}"
                birthday = encrypt_field(key, text, field_aad(row.id, "birthday"))
            bind.execute(update, {"id": row.id, "name": name, "birthday": birthday})
        after = str(rows[-1].id)
    # Members without a key are erased: nothing of theirs is left to seal.
    op.drop_column('members', 'display_name', schema='members')
    op.drop_column('members', 'birthday_day', schema='members')


def downgrade() -> None:
    """Downgrade schema: back to a clear display name and birthday day (decrypted with the keys)."""
    op.add_column('members', sa.Column('display_name', sa.String(length=40), nullable=True), schema='members')
    op.add_column('members', sa.Column('birthday_day', sa.SmallInteger(), nullable=True), schema='members')
    bind = op.get_bind()
    update = sa.text("UPDATE members.members SET display_name = :name, birthday_day = :day WHERE id = :id")
    after = None
    while rows := _rows(bind, "m.display_name_ciphertext, m.birthday_ciphertext", after):
        for row in rows:
            key = unwrap_data_key(row.wrapped_key, row.id.bytes)
            name = decrypt_field(key, row.display_name_ciphertext, field_aad(row.id, "display_name")) if row.display_name_ciphertext else None
            birthday = decrypt_field(key, row.birthday_ciphertext, field_aad(row.id, "birthday")) if row.birthday_ciphertext else None
            bind.execute(update, {"id": row.id, "name": name, "day": int(birthday[3:]) if birthday else None})
        after = str(rows[-1].id)
    op.drop_column('members', 'birthday_ciphertext', schema='members')
    op.drop_column('members', 'display_name_ciphertext', schema='members')

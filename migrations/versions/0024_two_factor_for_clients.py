"""Two-factor sign-in for clients, recovery codes, TOTP secrets encrypted at rest

Revision ID: 0024_two_factor_for_clients
Revises: 0021_job_slots
Create Date: 2026-12-04 16:00:00.000000

Clients get the TOTP columns staff have; both get single-use recovery codes (stored as keyed
digests, table ``recovery_code``). Staff TOTP secrets, stored in plain text until now, are
encrypted with the app's secret key (portal.core.encryption, as plugin secrets are), which is
why the column grows to hold a Fernet token. The downgrade decrypts them again and refuses to
run if one cannot be decrypted (the secret key changed: put the old one into
``secret_key_fallbacks`` first), rather than lock that staff member out. Clients' two-factor
settings and all recovery codes are dropped by the downgrade.
"""
from alembic import op
import sqlalchemy as sa

from portal.core import encryption
from portal.core.model_base import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0024_two_factor_for_clients'
down_revision = '0021_job_slots'
branch_labels = None
depends_on = None


def _rewrite_secrets(table: str, convert) -> None:
    """Replace every stored TOTP secret of ``table`` with ``convert(secret)``."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f'SELECT id, totp_secret FROM {table} WHERE totp_secret IS NOT NULL')
    ).all()
    for row in rows:
        bind.execute(
            sa.text(f'UPDATE {table} SET totp_secret = :secret WHERE id = :id'),
            {'secret': convert(row.totp_secret), 'id': row.id},
        )


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255)
        )
    _rewrite_secrets('staff', encryption.encrypt)

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            '(staff_id IS NULL) <> (client_id IS NULL)', name=op.f('ck_recovery_code_one_owner')
        ),
        sa.ForeignKeyConstraint(
            ['staff_id'], ['staff.id'], name=op.f('fk_recovery_code_staff_id_staff'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['client_id'],
            ['client.id'],
            name=op.f('fk_recovery_code_client_id_client'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_code_client_id'), ['client_id'], unique=False)


def _decrypt(token: str) -> str:
    try:
        return encryption.decrypt(token)
    except encryption.SecretUnreadable as exc:
        raise RuntimeError(
            'A TOTP secret cannot be decrypted with the configured secret key: add the key it '
            'was encrypted with to secret_key_fallbacks and run the downgrade again.'
        ) from exc


def downgrade():
    _rewrite_secrets('staff', _decrypt)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.alter_column(
            'totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64)
        )

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_client_id'))
        batch_op.drop_index(batch_op.f('ix_recovery_code_staff_id'))
    op.drop_table('recovery_code')

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')

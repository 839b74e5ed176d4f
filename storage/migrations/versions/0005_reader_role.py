"""The role that reads the archive on PostgreSQL (``storage.roles``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

``tgwatch sql``, ``serve``, ``report`` and ``export`` log in as this role, which may only
``SELECT`` the archive's relations (notification targets excepted), so read-only is a privilege
the server enforces. The role is created when the owner may create roles (else a warning says
what to ask an administrator for); the grants cover today's tables and, by default privileges, the
tables later revisions add. SQLite archives have no roles: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage.roles import grant_reader_sql, reader_role

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(grant_reader_sql(reader_role()))


def downgrade() -> None:
    """The role stays (other archives of the cluster may use it); this archive's grants go."""
    if op.get_bind().dialect.name == "postgresql":
        role = reader_role()
        op.execute(
            "DO $tgwatch$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN "
            "EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE SELECT ON TABLES FROM " + role + "', "
            "current_schema()); "
            "EXECUTE format('REVOKE SELECT ON ALL TABLES IN SCHEMA %I FROM " + role + "', current_schema()); "
            "EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM " + role + "', current_schema()); "
            "END IF; END $tgwatch$"
        )

"""One daemon per archive, and crawls that show they are alive.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

``daemon_leases`` holds the SQLite archive's daemon lease (``storage.lease``: a row with a
heartbeat; PostgreSQL uses an advisory lock). ``crawl_runs`` gains ``host`` and ``heartbeat_at``:
a run whose crawl was killed is settled by the next command that touches runs, without waiting
for a daemon to sweep it (``storage.runs.settle_abandoned``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", AwareDateTime(), nullable=False),
        sa.Column("heartbeat_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_daemon_leases"),
    )
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", AwareDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("host")
    op.drop_table("daemon_leases")

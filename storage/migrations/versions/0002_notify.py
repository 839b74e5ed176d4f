"""The notification outbox and the daemon's job table.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02

``change_notices``, ``deliveries`` and ``notify_baselines`` are the transactional outbox of
``monitor/outbox.py`` (see ``storage/models_notify.py``). ``apscheduler_jobs`` is the table
APScheduler 3.x's ``SQLAlchemyJobStore`` would create on its own, created here with its exact
columns so that the schema of an archive is the migrations' alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, AwareDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "change_notices",
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        _time("noticed_at"),
        sa.Column("baseline", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("change_id", name="pk_change_notices"),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name="fk_change_notices_change_id_changes", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _time("created_at"),
        _time("next_attempt_at"),
        sa.Column("last_error", sa.Text()),
        _time("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("change_id", "target", name="uq_deliveries_change_id_target"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_deliveries_status"),
        sa.CheckConstraint("kind IN ('change', 'baseline')", name="ck_deliveries_kind"),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name="fk_deliveries_change_id_changes", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "notify_baselines",
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("run_id", sa.Integer()),
        sa.Column("reports", sa.Integer(), nullable=False, server_default="0"),
        _time("created_at"),
        sa.PrimaryKeyConstraint("site", name="pk_notify_baselines"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_notify_baselines_run_id_crawl_runs", ondelete="SET NULL"
        ),
    )
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apscheduler_jobs"),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("notify_baselines")
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("change_notices")

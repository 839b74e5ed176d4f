"""Backfills: the persisted frontier of ``tgwatch crawl SITE --backfill``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

``backfills`` is one walk through a whole site, ``backfill_pages`` its frontier (listing pages and
articles, pending, done or failed), so that an interrupted backfill goes on where it stopped
(``storage.backfill``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("started_at", AwareDateTime(), nullable=False),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_backfills"),
    )
    op.create_index("ix_backfills_site_finished_at", "backfills", ["site", "finished_at"])
    op.create_table(
        "backfill_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("backfill_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("found_at", AwareDateTime(), nullable=False),
        sa.Column("done_at", AwareDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('listing', 'article')", name="ck_backfill_pages_kind"),
        sa.CheckConstraint("state IN ('pending', 'done', 'failed')", name="ck_backfill_pages_state"),
        sa.ForeignKeyConstraint(["backfill_id"], ["backfills.id"], name="fk_backfill_pages_backfill_id_backfills",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_backfill_pages"),
        sa.UniqueConstraint("backfill_id", "key", name="uq_backfill_pages_backfill_id_key"),
    )
    op.create_index("ix_backfill_pages_backfill_id_state", "backfill_pages", ["backfill_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_backfill_pages_backfill_id_state", table_name="backfill_pages")
    op.drop_table("backfill_pages")
    op.drop_index("ix_backfills_site_finished_at", table_name="backfills")
    op.drop_table("backfills")

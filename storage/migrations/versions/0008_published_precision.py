"""``published_precision`` on articles and versions: how much of ``published_at`` the page stated.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

``day`` (a date alone: its 00:00 is no time the page gave), ``minute`` or ``second``; null where the
page gave no date, and for versions archived before this revision (``tgwatch reextract`` fills it in
from their captures).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def upgrade() -> None:
    # plain ADD COLUMN (no table copy: the front_page view of 0004 reads articles); the values are
    # checked where they are made (storage.content.PRECISIONS)
    for table in ("articles", "versions"):
        op.add_column(table, sa.Column("published_precision", sa.String(6), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN on both backends (SQLite 3.35+): a batch table copy would break the view
    for table in ("articles", "versions"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN published_precision")

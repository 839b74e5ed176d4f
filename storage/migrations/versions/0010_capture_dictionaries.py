"""Captures compressed with zstd and a dictionary per site: ``capture_dictionaries``, ``captures.dictionary_id``.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06

A dictionary is trained on a site's own pages once it has enough of them (``storage.captures``);
each capture names the dictionary it was compressed with (null: none). Captures already stored
keep their codec (``zlib``) and stay readable; ``tgwatch compact`` re-compresses them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capture_dictionaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_capture_dictionaries"),
    )
    op.create_index("ix_capture_dictionaries_site", "capture_dictionaries", ["site"])
    # a plain ADD COLUMN on both backends: a batch copy of ``captures`` would rewrite every body
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE captures ADD COLUMN dictionary_id INTEGER "
                   "CONSTRAINT fk_captures_dictionary_id_capture_dictionaries "
                   "REFERENCES capture_dictionaries (id)")
    else:
        op.add_column("captures", sa.Column("dictionary_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_captures_dictionary_id_capture_dictionaries", "captures",
                              "capture_dictionaries", ["dictionary_id"], ["id"])


def downgrade() -> None:
    """Back to zlib-only captures: refused while any capture needs zstd (decompress them first)."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM captures WHERE compression = 'zstd'")).scalar():
        raise RuntimeError("captures compressed with zstd cannot be read by revision 0008; keep revision 0010")
    if bind.dialect.name == "postgresql":
        op.drop_constraint("fk_captures_dictionary_id_capture_dictionaries", "captures", type_="foreignkey")
    op.execute("ALTER TABLE captures DROP COLUMN dictionary_id")
    op.drop_index("ix_capture_dictionaries_site", table_name="capture_dictionaries")
    op.drop_table("capture_dictionaries")

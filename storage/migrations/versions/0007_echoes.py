"""Echoes: near-duplicate reports across sites and the MinHash LSH index that finds them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

``echo_index``, ``echo_bands``, ``echoes`` and ``echo_findings`` (``storage/models_echoes.py``).
New versions are indexed as they are recorded; reports archived before this revision are indexed
by ``tgwatch echoes --index`` (``Archive.index_echoes``), not here: a migration must not depend on
the models of later revisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime
from storage.vocabulary import ECHO_KINDS, FINDING_KINDS

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, AwareDateTime(), nullable=nullable)


def _article_fk(name: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([name], ["articles.id"], name=f"fk_{table}_{name}_articles", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "echo_index",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        _time("indexed_at"),
        sa.Column("signature", sa.LargeBinary()),
        sa.PrimaryKeyConstraint("article_id", name="pk_echo_index"),
        _article_fk("article_id", "echo_index"),
    )
    op.create_table(
        "echo_bands",
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "band", "article_id", name="pk_echo_bands"),
        _article_fk("article_id", "echo_bands"),
    )
    op.create_index("ix_echo_bands_article_id", "echo_bands", ["article_id"])
    op.create_table(
        "echoes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("original_article_id", sa.Integer(), nullable=False),
        sa.Column("copy_article_id", sa.Integer(), nullable=False),
        sa.Column("original_version", sa.Integer(), nullable=False),
        sa.Column("copy_version", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("containment", sa.Float(), nullable=False),
        sa.Column("lag_seconds", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("differs", sa.Text()),
        _time("detected_at"),
        sa.PrimaryKeyConstraint("id", name="pk_echoes"),
        sa.UniqueConstraint("original_article_id", "copy_article_id",
                            name="uq_echoes_original_article_id_copy_article_id"),
        sa.CheckConstraint(_one_of("kind", ECHO_KINDS), name="ck_echoes_kind"),
        _article_fk("original_article_id", "echoes"),
        _article_fk("copy_article_id", "echoes"),
    )
    op.create_index("ix_echoes_copy_article_id", "echoes", ["copy_article_id"])
    op.create_index("ix_echoes_detected_at", "echoes", ["detected_at"])
    op.create_table(
        "echo_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("echo_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("context", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_echo_findings"),
        sa.CheckConstraint(_one_of("kind", FINDING_KINDS), name="ck_echo_findings_kind"),
        sa.ForeignKeyConstraint(["echo_id"], ["echoes.id"], name="fk_echo_findings_echo_id_echoes",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_echo_findings_echo_id_seq", "echo_findings", ["echo_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_echo_findings_echo_id_seq", table_name="echo_findings")
    op.drop_table("echo_findings")
    op.drop_index("ix_echoes_detected_at", table_name="echoes")
    op.drop_index("ix_echoes_copy_article_id", table_name="echoes")
    op.drop_table("echoes")
    op.drop_index("ix_echo_bands_article_id", table_name="echo_bands")
    op.drop_table("echo_bands")
    op.drop_table("echo_index")

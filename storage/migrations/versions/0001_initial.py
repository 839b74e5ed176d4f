"""The archive: articles, versions, captures, changes, crawl runs, full-text index.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

The whole first schema lives in this one revision; later revisions (``0002``...) build on it.
Full-text search is backend-specific: on SQLite an external-content FTS5 table ``articles_fts``
over ``articles.search_text``, kept in sync by triggers inside the writing transaction; on
PostgreSQL a GIN index over ``to_tsvector('simple', search_text)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS_SQLITE = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(search_text, content='articles', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO articles_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)
_FTS_POSTGRESQL = (
    "CREATE INDEX ix_articles_search ON articles USING gin (to_tsvector('simple', search_text))",
)


_RUN_COUNTS = ("pages", "new", "edited", "unchanged", "removed", "restored", "failed")


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, AwareDateTime(), nullable=nullable)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _cascade(
    column: str, target: str, name: str, ondelete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lead", sa.Text()),
        _time("published_at", nullable=True),
        sa.Column("author", sa.Text()),
        sa.Column("category", sa.Text()),
        _time("first_seen_at"),
        _time("last_checked_at"),
        _time("last_changed_at"),
        _time("removed_at", nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        _count("gone_signals"),
        _time("last_gone_at", nullable=True),
        _count("failed_checks"),
        _time("last_failed_at", nullable=True),
        sa.Column("last_error", sa.Text()),
        sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("site", "url", name="uq_articles_site_url"),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        *(_count(name) for name in _RUN_COUNTS),
        sa.Column("error", sa.Text()),
        sa.Column("pid", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
        sa.CheckConstraint(
            "outcome IN ('running', 'ok', 'failed', 'timeout', 'interrupted')",
            name="ck_crawl_runs_outcome",
        ),
    )
    op.create_index("ix_crawl_runs_site_started_at", "crawl_runs", ["site", "started_at"])
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("fetched_at"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lead", sa.Text()),
        _time("published_at", nullable=True),
        sa.Column("author", sa.Text()),
        sa.Column("category", sa.Text()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.UniqueConstraint("article_id", "version", name="uq_versions_article_id_version"),
        _cascade("article_id", "articles.id", "fk_versions_article_id_articles"),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("compression", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_captures"),
        sa.UniqueConstraint("version_id", name="uq_captures_version_id"),
        _cascade("version_id", "versions.id", "fk_captures_version_id_versions"),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _time("detected_at"),
        sa.Column("from_version", sa.Integer()),
        sa.Column("to_version", sa.Integer()),
        sa.Column("fields", sa.Text()),
        sa.Column("note", sa.Text()),
        sa.Column("run_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.CheckConstraint(
            "kind IN ('new', 'edited', 'removed', 'restored', 'reextracted')",
            name="ck_changes_kind",
        ),
        _cascade("article_id", "articles.id", "fk_changes_article_id_articles"),
        _cascade("run_id", "crawl_runs.id", "fk_changes_run_id_crawl_runs", ondelete="SET NULL"),
    )
    op.create_index("ix_changes_detected_at", "changes", ["detected_at"])
    op.create_index("ix_changes_article_id", "changes", ["article_id"])
    op.create_index("ix_changes_run_id", "changes", ["run_id"])
    for statement in _FTS_SQLITE if op.get_bind().dialect.name == "sqlite" else _FTS_POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    else:
        op.drop_index("ix_articles_search", table_name="articles")
    for table in ("changes", "captures", "versions", "crawl_runs", "articles"):
        op.drop_table(table)

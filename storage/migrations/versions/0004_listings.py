"""Listings: which listing page showed which article where, ``delisted`` and ``relisted``, the front page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

``listing_pages``, ``listings`` (stints) and ``listing_status`` (``storage/models_listings.py``);
the change kinds ``delisted`` and ``relisted``; the view ``front_page`` (one row per stint of an
article on a homepage, with its hours there).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime
from storage.vocabulary import LISTING_KINDS, LISTING_STATES

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("new", "edited", "removed", "restored", "reextracted")
NEW_KINDS = (*OLD_KINDS, "delisted", "relisted")  # this revision's values (storage.vocabulary.CHANGE_KINDS)


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, AwareDateTime(), nullable=nullable)


def _hours(later: str, earlier: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0"
    # SQLite keeps every time as ISO 8601 text at +07:00: the same offset on both sides
    return f"(julianday(substr({later}, 1, 19)) - julianday(substr({earlier}, 1, 19))) * 24.0"


def front_page_sql(dialect: str) -> str:
    until = "COALESCE(l.seen_until, p.last_read_at)"
    return f"""
CREATE VIEW front_page AS
SELECT l.article_id, p.site, a.title, a.url, a.published_at, p.url AS page_url, l.position,
       l.seen_from AS since, {until} AS until, l.seen_until IS NULL AS current,
       {_hours(until, 'l.seen_from', dialect)} AS hours
FROM listings l
JOIN listing_pages p ON p.id = l.page_id
JOIN articles a ON a.id = l.article_id
WHERE p.kind = 'home'
"""


def _set_change_kinds(kinds: Sequence[str]) -> None:
    """The CHECK of ``changes.kind``. SQLite cannot alter a CHECK, and rebuilding ``changes``
    would cascade-delete its findings and notices, so the constraint's text is rewritten in the
    schema, as SQLite documents for loosening a constraint (every existing row stays valid)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("ck_changes_kind", "changes", type_="check")
        op.create_check_constraint("ck_changes_kind", "changes", _one_of("kind", kinds))
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'changes'").scalar()
    old = [c for c in (_one_of("kind", OLD_KINDS), _one_of("kind", NEW_KINDS)) if c in str(sql)]
    if not old:
        raise RuntimeError("changes.kind: unexpected CHECK constraint in the SQLite schema")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'changes'"),
                 {"sql": str(sql).replace(old[0], _one_of("kind", kinds))})
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version or 0) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    op.create_table(
        "listing_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _time("first_read_at"),
        _time("last_read_at"),
        _time("last_failed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_listing_pages"),
        sa.UniqueConstraint("site", "url", name="uq_listing_pages_site_url"),
        sa.CheckConstraint(_one_of("kind", LISTING_KINDS), name="ck_listing_pages_kind"),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _time("seen_from"),
        _time("seen_until", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_listings"),
        sa.ForeignKeyConstraint(["page_id"], ["listing_pages.id"], name="fk_listings_page_id_listing_pages",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_listings_article_id_articles",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_listings_page_id_seen_until", "listings", ["page_id", "seen_until"])
    op.create_index("ix_listings_article_id_seen_until", "listings", ["article_id", "seen_until"])
    op.create_table(
        "listing_status",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("since"),
        _time("last_listed_at"),
        sa.PrimaryKeyConstraint("article_id", name="pk_listing_status"),
        sa.CheckConstraint(_one_of("state", LISTING_STATES), name="ck_listing_status_state"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_listing_status_article_id_articles",
                                ondelete="CASCADE"),
    )
    _set_change_kinds(NEW_KINDS)
    op.execute(front_page_sql(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW front_page")
    op.execute(sa.text(f"DELETE FROM changes WHERE NOT ({_one_of('kind', OLD_KINDS)})"))
    _set_change_kinds(OLD_KINDS)
    op.drop_table("listing_status")
    op.drop_index("ix_listings_article_id_seen_until", table_name="listings")
    op.drop_index("ix_listings_page_id_seen_until", table_name="listings")
    op.drop_table("listings")
    op.drop_table("listing_pages")

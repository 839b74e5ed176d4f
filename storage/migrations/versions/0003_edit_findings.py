"""The anatomy of each edit: ``edit_findings``, filled in for the changes already archived.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

One row per finding (``storage.anatomy``) of an ``edited`` change, or of a ``restored`` change
that brought new content. Changes recorded before this revision are analysed here, on upgrade,
in batches, so an upgraded archive answers the same questions as a new one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.anatomy import analyse
from storage.vocabulary import FINDING_KINDS
from storage.content import Content
from storage.types import AwareDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200

_changes = sa.table(
    "changes", sa.column("id", sa.Integer()), sa.column("article_id", sa.Integer()),
    sa.column("kind", sa.String()), sa.column("from_version", sa.Integer()),
    sa.column("to_version", sa.Integer()),
)
_versions = sa.table(
    "versions", sa.column("article_id", sa.Integer()), sa.column("version", sa.Integer()),
    sa.column("title", sa.Text()), sa.column("lead", sa.Text()), sa.column("text", sa.Text()),
    sa.column("author", sa.Text()), sa.column("category", sa.Text()),
    sa.column("published_at", AwareDateTime()),
)
_findings = sa.table(
    "edit_findings", sa.column("change_id", sa.Integer()), sa.column("seq", sa.Integer()),
    sa.column("kind", sa.String()), sa.column("field", sa.String()), sa.column("before", sa.Text()),
    sa.column("after", sa.Text()), sa.column("context", sa.Text()),
)


def upgrade() -> None:
    kinds = ", ".join(repr(k) for k in FINDING_KINDS)
    op.create_table(
        "edit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("context", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_edit_findings"),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_edit_findings_kind"),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name="fk_edit_findings_change_id_changes", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_edit_findings_change_id_seq", "edit_findings", ["change_id", "seq"])
    _backfill(op.get_bind())


_FIELDS = ("title", "lead", "text", "author", "category", "published_at")


def _content(row: sa.Row[tuple[object, ...]], side: str) -> Content:
    m = row._mapping
    return Content(**{name: m[f"{side}_{name}"] for name in _FIELDS})


def _backfill(connection: sa.Connection) -> None:
    """Findings of every analysable change, read and written in batches of ``BATCH`` changes."""
    old, new = _versions.alias("old"), _versions.alias("new")
    columns = [getattr(v.c, name).label(f"{side}_{name}")
               for side, v in (("old", old), ("new", new)) for name in _FIELDS]
    after = 0
    while True:
        query = (
            sa.select(_changes.c.id, *columns)
            .join(old, sa.and_(old.c.article_id == _changes.c.article_id,
                               old.c.version == _changes.c.from_version))
            .join(new, sa.and_(new.c.article_id == _changes.c.article_id,
                               new.c.version == _changes.c.to_version))
            .where(_changes.c.kind.in_(("edited", "restored")), _changes.c.id > after,
                   _changes.c.from_version != _changes.c.to_version)
            .order_by(_changes.c.id).limit(BATCH)
        )
        rows = connection.execute(query).all()
        for row in rows:
            found = analyse(_content(row, "old"), _content(row, "new"))
            if found:
                connection.execute(_findings.insert(), [
                    {"change_id": row.id, "seq": seq, "kind": f.kind, "field": f.field,
                     "before": f.before, "after": f.after, "context": f.context}
                    for seq, f in enumerate(found)
                ])
        if len(rows) < BATCH:
            return
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_edit_findings_change_id_seq", table_name="edit_findings")
    op.drop_table("edit_findings")

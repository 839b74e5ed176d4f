"""Capture headers packed on SQLite, like the texts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

A capture's headers (JSON, ~250 bytes) repeat from page to page of a site but for a few values
(date, ETag, length). On SQLite ``captures.headers`` now holds ``json.dumps(headers)`` zstd-packed
with the capture's dictionary (``storage.textpack.PackedJSON``; dictionaries trained from now on
learn from headers too: ~70 bytes a capture), read in SQL with ``tgwatch_text(headers)``.
PostgreSQL keeps them plain (TOAST) and gets nothing here.

Downgrade: the JSON text back, as SQLAlchemy wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _headers(packed: bool) -> None:
    """Every capture's headers packed with its own dictionary (or plain again), ``BATCH`` at a time."""
    from storage.textpack import pack, unpack

    bind = op.get_bind()
    rows_by_id = {row.id: zstandard.ZstdCompressionDict(bytes(row.data))
                  for row in bind.execute(sa.text("SELECT id, data FROM capture_dictionaries"))}
    by_zstd_id = {d.dict_id(): d for d in rows_by_id.values()}
    query = sa.text("SELECT id, headers, dictionary_id FROM captures WHERE typeof(headers) = :kind AND id > :after "
                    "ORDER BY id LIMIT :batch")
    update = sa.text("UPDATE captures SET headers = :headers WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"kind": "text" if packed else "blob", "after": after, "batch": BATCH}).all():
        bind.execute(update, [{"id": row.id, "headers": pack(row.headers, rows_by_id.get(row.dictionary_id))
                               if packed else unpack(row.headers, by_zstd_id.get)} for row in rows])
        after = rows[-1].id


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _headers(packed=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _headers(packed=False)

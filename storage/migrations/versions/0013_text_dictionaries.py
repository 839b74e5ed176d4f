"""Texts' own dictionaries; capture headers packed on SQLite, like the texts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

A capture's headers (JSON, ~250 bytes) repeat from page to page of a site but for a few values
(date, ETag, length). On SQLite ``captures.headers`` now holds ``json.dumps(headers)`` zstd-packed
with the capture's dictionary (``storage.textpack.PackedJSON``; dictionaries trained from now on
learn from headers too: ~70 bytes a capture), read in SQL with ``tgwatch_text(headers)``.
PostgreSQL keeps them plain (TOAST).

``capture_dictionaries.kind``: ``pages`` (every dictionary so far: captures and headers are
compressed with it) or ``texts``, trained on a site's reports' texts alongside its pages' one
(``storage.captures.train``), which SQLite's ``versions.text`` of the site is packed with from
then on (a text takes ~7% less than with the pages' dictionary). Existing texts stay as they are.

Downgrade: the JSON text back, as SQLAlchemy wrote it; texts packed with a ``texts`` dictionary
packed again with their site's newest ``pages`` one (0012's), and the ``texts`` dictionaries and
the column dropped.
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
        bind.execute(update, [{"id": row.id, "headers": pack(row.headers, rows_by_id.get(row.dictionary_id), small=True)
                               if packed else unpack(row.headers, by_zstd_id.get)} for row in rows])
        after = rows[-1].id


def _texts_without_text_dictionaries() -> None:
    """SQLite's texts packed with a ``texts`` dictionary packed again with their site's newest
    ``pages`` one (none: plain), ``BATCH`` at a time."""
    from storage.textpack import pack, unpack

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, site, kind, data FROM capture_dictionaries")).all()
    loaded = {row.id: zstandard.ZstdCompressionDict(bytes(row.data)) for row in rows}
    by_zstd_id = {d.dict_id(): d for d in loaded.values()}
    texts = {loaded[row.id].dict_id() for row in rows if row.kind == "texts"}
    newest = {row.site: loaded[row.id] for row in sorted(rows, key=lambda r: r.id) if row.kind == "pages"}
    query = sa.text("SELECT v.id, v.text, a.site FROM versions v JOIN articles a ON a.id = v.article_id "
                    "WHERE typeof(v.text) = 'blob' AND v.id > :after ORDER BY v.id LIMIT :batch")
    update = sa.text("UPDATE versions SET text = :text WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        changed = []
        for row in rows:
            if zstandard.get_frame_parameters(bytes(row.text)).dict_id in texts:
                plain = unpack(row.text, by_zstd_id.get) or ""
                dictionary = newest.get(row.site)
                changed.append({"id": row.id, "text": pack(plain, dictionary) if dictionary is not None else plain})
        if changed:
            bind.execute(update, changed)
        after = rows[-1].id


def upgrade() -> None:
    op.add_column("capture_dictionaries", sa.Column("kind", sa.String(8), nullable=False, server_default="pages"))
    if op.get_bind().dialect.name == "sqlite":
        _headers(packed=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _headers(packed=False)
        _texts_without_text_dictionaries()
    op.execute("DELETE FROM capture_dictionaries WHERE kind = 'texts'")
    op.drop_column("capture_dictionaries", "kind")

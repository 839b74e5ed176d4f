"""Site vocabularies: texts packed as words, then zstd.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

``capture_dictionaries.kind`` gains ``words``: a site's vocabulary (``storage.textpack.Words``,
its newest texts' most frequent tokens), trained with its ``texts`` dictionary, which is now
trained on those texts written in it (``storage.captures.train``). On SQLite a version's text
of the site is then packed as ``WORDS_MAGIC``, the vocabulary's id and a zstd frame of the text
written in it (a third smaller than a frame of the text itself). No schema change: the revision
marks archives that older code cannot read. Existing texts stay as they are (``tgwatch compact
--retrain`` packs them anew).

Downgrade: texts written in a vocabulary packed again as a plain frame with the same ``texts``
dictionary (0013's form), and the vocabularies deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _texts_as_frames() -> None:
    """SQLite's texts written in a vocabulary packed as plain zstd frames with their own
    dictionary, ``BATCH`` at a time."""
    from storage.textpack import WORDS_MAGIC, Words, pack, unpack

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT kind, data FROM capture_dictionaries")).all()
    words = {w.id: w for w in (Words.from_bytes(bytes(row.data)) for row in rows if row.kind == "words")}
    by_zstd_id = {d.dict_id(): d for d in (zstandard.ZstdCompressionDict(bytes(row.data))
                                           for row in rows if row.kind != "words")}
    query = sa.text("SELECT id, text FROM versions WHERE typeof(text) = 'blob' AND substr(text, 1, 1) = :magic "
                    "AND id > :after ORDER BY id LIMIT :batch")
    update = sa.text("UPDATE versions SET text = :text WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"magic": WORDS_MAGIC, "after": after, "batch": BATCH}).all():
        changed = []
        for row in rows:
            frame = bytes(row.text)[len(WORDS_MAGIC) + 4:]
            dictionary = by_zstd_id.get(zstandard.get_frame_parameters(frame).dict_id)
            changed.append({"id": row.id, "text": pack(unpack(row.text, by_zstd_id.get, words.get) or "", dictionary)})
        bind.execute(update, changed)
        after = rows[-1].id


def upgrade() -> None:
    pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _texts_as_frames()
    op.execute("DELETE FROM capture_dictionaries WHERE kind = 'words'")

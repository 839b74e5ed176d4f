"""Echo bands from the first 96 MinHash values: 48 ``echo_bands`` rows an article instead of 64.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

``storage.shingles.BANDS`` is 48 (issue 11: about 208 bytes less an article version). The rows of
bands 48-63 would never be probed again (a key is mixed with its band number) but would take
space, and re-indexing an article (``storage.echoes``) would leave them behind, since it deletes
the keys its text gives. Their keys cannot be told from the others' (a bucket is one 32-bit key),
so they are computed again from the text each article was indexed with (``versions``, packed or
plain) and deleted by primary key, ``BATCH`` articles at a time. An article whose indexed text is
gone or unreadable, or no longer gives its stored signature (rewritten without re-indexing), keeps its rows:
they never match a probe, and re-indexing it deletes all of its rows (by a scan, as it does now).

Downgrade: the 16 bands' rows are computed from the same texts and inserted (an article whose
text cannot give them is left with 48: ``tgwatch echoes --index --again`` indexes it again).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
KEPT = 48  # bands 0-47 stay; 48-63 go
ALL = 64  # 0015's bands: the 128 values two at a time
_MIX = 0x9E3779B1  # storage.shingles._MIX: fixed here, as the keys it made are


def keys(values: Any, first: int, last: int) -> list[int]:
    """The keys of bands ``first`` to ``last - 1`` of full MinHash ``values``, as 0012-0015 made
    them (two values' low 16 bits, mixed with the band number, as a signed 32-bit integer)."""
    import numpy as np

    low = np.asarray(values, dtype=np.uint32)[2 * first:2 * last] & np.uint32(0xFFFF)
    mix = (np.arange(first, last, dtype=np.uint64) * _MIX & 0xFFFFFFFF).astype(np.uint32)
    return list(((low[0::2] | (low[1::2] << np.uint32(16))) ^ mix).view(np.int32).tolist())


def _articles() -> Iterator[list[tuple[int, list[int], list[int]]]]:
    """``(article_id, kept band keys, dropped band keys)`` of the indexed articles whose indexed
    text gives their stored signature, a batch of ``BATCH`` articles at a time."""
    from storage.shingles import minhash_values, packed, shingles
    from storage.textpack import TextPackError, finders, unpack

    bind = op.get_bind()  # texts may be in zstd dictionaries or word vocabularies
    find, find_words = finders(bind.execute(sa.text("SELECT digest, data FROM capture_dictionaries")).all())
    query = sa.text("SELECT i.article_id, i.signature, (SELECT v.text FROM versions v WHERE"
                    " v.article_id = i.article_id AND v.version = i.version) AS text FROM echo_index i"
                    " WHERE i.signature IS NOT NULL AND i.article_id > :after ORDER BY i.article_id LIMIT :batch")
    after = 0
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        batch = []
        for row in rows:
            try:
                text = unpack(row.text, find, find_words) if row.text is not None else None
            except TextPackError:  # unreadable: as if gone (its rows stay, as the docstring says)
                text = None
            values = minhash_values(shingles(text)) if text is not None else None
            if values is not None and packed(values) == bytes(row.signature):
                kept = keys(values, 0, KEPT)
                batch.append((row.article_id, kept, [k for k in keys(values, KEPT, ALL) if k not in kept]))
        yield batch
        after = rows[-1].article_id


def _each_dropped(statement: str) -> None:
    """Run ``statement`` (parameters ``bucket``, ``id``) for every dropped band row, a batch at a time."""
    for batch in _articles():
        rows = [{"bucket": k, "id": a} for a, _, dropped in batch for k in dict.fromkeys(dropped)]
        if rows:
            op.get_bind().execute(sa.text(statement), rows)


def upgrade() -> None:
    _each_dropped("DELETE FROM echo_bands WHERE bucket = :bucket AND article_id = :id")


def downgrade() -> None:
    _each_dropped("INSERT INTO echo_bands (bucket, article_id) VALUES (:bucket, :id) ON CONFLICT DO NOTHING")

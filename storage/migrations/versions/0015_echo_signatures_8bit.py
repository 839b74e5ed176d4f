"""Echo signatures of 8-bit values (b-bit minwise hashing): 128 bytes an article instead of 256.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07

``echo_index.signature`` keeps the low byte of each MinHash value (``storage.shingles``:
``VALUE_BITS``; the estimate takes off the 1/256 chance agreements). Truncated here, ``BATCH``
rows at a time. ``echo_bands`` does not change: its keys were computed from the values' low 16
bits and still are (from the full values, which a signature no longer holds).

Downgrade: the lost byte cannot be read back, so each indexed version's 16-bit signature is
recomputed from its text (``versions``), as 0013 computed it; an article whose indexed version
has no text left keeps no signature (``tgwatch echoes --index --again`` indexes it again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _signatures(rewrite: Callable[[Any], bytes | None], with_text: bool) -> None:
    """Every stored signature replaced by ``rewrite(row)`` (a row of ``article_id``, ``signature``
    and, ``with_text``, the indexed version's ``text``), ``BATCH`` rows at a time."""
    bind = op.get_bind()
    text = (", (SELECT v.text FROM versions v WHERE v.article_id = i.article_id AND v.version = i.version) AS text"
            if with_text else "")
    query = sa.text(f"SELECT i.article_id, i.signature{text} FROM echo_index i WHERE i.signature IS NOT NULL "
                    "AND i.article_id > :after ORDER BY i.article_id LIMIT :batch")
    update = sa.text("UPDATE echo_index SET signature = :signature WHERE article_id = :id")
    after = 0
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        bind.execute(update, [{"id": row.article_id, "signature": rewrite(row)} for row in rows])
        after = rows[-1].article_id


def _low_bytes(row: Any) -> bytes:
    """0013's little-endian 16-bit values, each cut to its low byte (kept as it is if already cut)."""
    stored = bytes(row.signature)
    return stored[0::2] if len(stored) == 256 else stored


def _from_text(rows: Any) -> Callable[[Any], bytes | None]:
    """Each row's 16-bit signature from its ``text``, read with the dictionaries among ``rows``
    (texts may be in 0014's vocabularies)."""
    from storage.shingles import minhash_values, shingles
    from storage.textpack import finders, unpack

    find, find_words = finders(rows)

    def sixteen_bits(row: Any) -> bytes | None:
        text = unpack(row.text, find, find_words) if row.text is not None else None
        if text is None:
            return None
        return bytes((minhash_values(shingles(text)) & 0xFFFF).astype("<u2").tobytes())

    return sixteen_bits


def upgrade() -> None:
    _signatures(_low_bytes, with_text=False)


def downgrade() -> None:
    rows = op.get_bind().execute(sa.text("SELECT digest, data FROM capture_dictionaries")).all()
    _signatures(_from_text(rows), with_text=True)

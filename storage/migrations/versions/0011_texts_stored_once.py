"""Texts stored once: captures compressed against their version's text; SQLite's texts packed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

A capture's article text is its version's text: every capture is re-compressed as ``zstd+text``
(``storage.captures``: zstd against the site dictionary's bytes and the version's text), so the
text is stored once, in ``versions``. On SQLite ``versions.text`` holds the text zstd-packed
(``storage.textpack``; ``tgwatch_text(text)`` reads it in SQL); PostgreSQL keeps it plain (TOAST
compresses it) and gets an identity ``tgwatch_text(text)``, so one query reads texts on both.
No column changes. Downgrade: texts plain again and captures back to ``zstd`` (0010's codec).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200
_PG_FUNCTION = "CREATE OR REPLACE FUNCTION tgwatch_text(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT t'"


def _dictionaries() -> dict[int, bytes]:
    rows = op.get_bind().execute(sa.text("SELECT id, data FROM capture_dictionaries"))
    return {row.id: bytes(row.data) for row in rows}


def _raw(row: Any, site: bytes, text: str) -> bytes:
    """A capture's bytes, whatever its codec (0011's or an older one)."""
    body = bytes(row.body)
    if row.compression in {"", "none"}:
        return body[: row.size]
    if row.compression == "zlib":
        return zlib.decompressobj().decompress(body, row.size)
    if row.compression == "zstd+text":
        prefix = zstandard.ZstdCompressionDict(site + text.encode("utf-8"), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=prefix).decompress(body, max_output_size=row.size)
    reader = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(site)) if site else (
        zstandard.ZstdDecompressor())
    return reader.decompress(body, max_output_size=row.size)


def _recompress(against_text: bool) -> None:
    """Every capture re-compressed: ``zstd+text`` (``against_text``) or plain ``zstd``, each with its
    own site dictionary, ``BATCH`` at a time."""
    from storage.captures import LEVEL
    from storage.textpack import unpack

    bind = op.get_bind()
    dictionaries = _dictionaries()
    wanted = "zstd+text" if against_text else "zstd"
    query = sa.text("SELECT c.id, c.compression, c.dictionary_id, c.size, c.body, v.text FROM captures c "
                    "JOIN versions v ON v.id = c.version_id WHERE c.compression != :wanted AND c.id > :after "
                    "ORDER BY c.id LIMIT :batch")
    update = sa.text("UPDATE captures SET compression = :compression, body = :body WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"wanted": wanted, "after": after, "batch": BATCH}).all():
        changed = []
        for row in rows:
            site = dictionaries.get(row.dictionary_id, b"") if row.dictionary_id is not None else b""
            text = unpack(row.text) or ""
            raw = _raw(row, site, text)
            if against_text and text:
                prefix = zstandard.ZstdCompressionDict(site + text.encode("utf-8"),
                                                       dict_type=zstandard.DICT_TYPE_RAWCONTENT)
                compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=prefix, write_checksum=True)
                codec = "zstd+text"
            else:
                dictionary = zstandard.ZstdCompressionDict(site) if site else None
                compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary, write_checksum=True)
                codec = "zstd"
            changed.append({"id": row.id, "compression": codec, "body": compressor.compress(raw)})
        bind.execute(update, changed)
        after = rows[-1].id


def _texts(packed: bool) -> None:
    """SQLite's ``versions.text`` packed (or plain again), ``BATCH`` rows at a time."""
    from storage.textpack import pack, unpack

    bind = op.get_bind()
    query = sa.text("SELECT id, text FROM versions WHERE typeof(text) = :kind AND id > :after ORDER BY id LIMIT :batch")
    update = sa.text("UPDATE versions SET text = :text WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"kind": "text" if packed else "blob", "after": after, "batch": BATCH}).all():
        bind.execute(update, [{"id": row.id, "text": pack(row.text) if packed else unpack(row.text)} for row in rows])
        after = rows[-1].id


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _texts(packed=True)
    else:
        op.execute(_PG_FUNCTION)
    _recompress(against_text=True)


def downgrade() -> None:
    _recompress(against_text=False)
    if op.get_bind().dialect.name == "sqlite":
        _texts(packed=False)
    else:
        op.execute("DROP FUNCTION IF EXISTS tgwatch_text(text)")

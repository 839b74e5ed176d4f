"""Texts stored once: captures compressed against their version's text; SQLite's texts packed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

A capture's article text is its version's text: every capture is re-compressed as ``zstd+text``
(``storage.captures``: zstd against the site dictionary's bytes and the version's text), so the
text is stored once, in ``versions``. On SQLite ``versions.text`` holds the text zstd-packed
with the site's newest dictionary (``storage.textpack``; ``tgwatch_text(text)`` reads it in SQL);
PostgreSQL keeps it plain (TOAST compresses it) and gets an identity ``tgwatch_text(text)``, so
one query reads texts on both.

The echo index halves (``storage.shingles``): ``echo_index.signature`` keeps the low 16 bits of
each MinHash value (truncated here), and ``echo_bands`` holds one 32-bit key per band
(``bucket``, the band's two values mixed with its number; no ``band`` column), rebuilt here from
the signatures. The same articles share a band as before (but for one chance in 2**32).

Downgrade: texts plain again, captures back to ``zstd`` (0010's codec), and the echo index of
0010 and 0011 recomputed from each indexed version's text (full 32-bit signatures, 64-bit buckets).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import zstandard
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200
_PG_FUNCTION = "CREATE OR REPLACE FUNCTION tgwatch_text(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT t'"


def _dictionaries() -> dict[int, bytes]:
    rows = op.get_bind().execute(sa.text("SELECT id, data FROM capture_dictionaries"))
    return {row.id: bytes(row.data) for row in rows}


def _raw(row: Any, site: bytes, text: str) -> bytes:
    """A capture's bytes, whatever its codec (0012's or an older one)."""
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
    by_zstd_id = {d.dict_id(): d for d in map(zstandard.ZstdCompressionDict, dictionaries.values())}
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
            text = unpack(row.text, by_zstd_id.get) or ""
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
    """SQLite's ``versions.text`` packed with the site's newest dictionary (or plain again), ``BATCH``
    rows at a time."""
    from storage.textpack import pack, unpack

    bind = op.get_bind()
    rows_by_id = {row_id: zstandard.ZstdCompressionDict(data) for row_id, data in _dictionaries().items()}
    by_zstd_id = {d.dict_id(): d for d in rows_by_id.values()}
    query = sa.text("SELECT v.id, v.text, (SELECT max(d.id) FROM capture_dictionaries d WHERE d.site = a.site) AS d "
                    "FROM versions v JOIN articles a ON a.id = v.article_id "
                    "WHERE typeof(v.text) = :kind AND v.id > :after ORDER BY v.id LIMIT :batch")
    update = sa.text("UPDATE versions SET text = :text WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"kind": "text" if packed else "blob", "after": after, "batch": BATCH}).all():
        bind.execute(update, [{"id": row.id, "text": pack(row.text, rows_by_id.get(row.d)) if packed
                               else unpack(row.text, by_zstd_id.get)} for row in rows])
        after = rows[-1].id


def _bands_table(key: sa.types.TypeEngine[int], band: bool) -> None:
    """``echo_bands`` made anew (empty): 0012's ``(bucket, article_id)`` or 0010's ``(bucket, band, article_id)``."""
    op.drop_table("echo_bands")
    columns = [sa.Column("bucket", key, nullable=False)]
    if band:
        columns.append(sa.Column("band", sa.SmallInteger(), nullable=False))
    op.create_table(
        "echo_bands", *columns, sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*(c.name for c in columns), "article_id", name="pk_echo_bands"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_echo_bands_article_id_articles",
                                ondelete="CASCADE"),
        sqlite_with_rowid=False,
    )


def _echo_index(signature: Any, bands: Any) -> None:
    """Each indexed article's signature rewritten as ``signature(article_id, version, stored)`` says,
    and its ``echo_bands`` rows (``bands(new signature)``: dicts of columns) inserted, ``BATCH`` at a time."""
    bind = op.get_bind()
    query = sa.text("SELECT article_id, version, signature FROM echo_index WHERE signature IS NOT NULL "
                    "AND article_id > :after ORDER BY article_id LIMIT :batch")
    update = sa.text("UPDATE echo_index SET signature = :signature WHERE article_id = :id")
    after = 0
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        new = {row.article_id: signature(row.article_id, row.version, bytes(row.signature)) for row in rows}
        bind.execute(update, [{"id": article_id, "signature": sig} for article_id, sig in new.items()])
        keyed = [{**band, "article_id": article_id} for article_id, sig in new.items() for band in bands(sig)]
        table = sa.table("echo_bands", *(sa.column(name) for name in keyed[0]))
        bind.execute(sa.insert(table), keyed)
        after = rows[-1].article_id


def _full_signature(article_id: int, version: int, by_zstd_id: dict[int, Any]) -> bytes:
    """0010's signature of an indexed version: its full 32-bit MinHash values, from its text."""
    from storage.shingles import minhash_values, shingles
    from storage.textpack import unpack

    text = op.get_bind().scalar(sa.text("SELECT text FROM versions WHERE article_id = :a AND version = :v"),
                                {"a": article_id, "v": version})
    return bytes(minhash_values(shingles(unpack(text, by_zstd_id.get) or "")).astype("<u4").tobytes())


def _old_bands(sig: bytes) -> list[dict[str, int]]:
    return [{"band": band, "bucket": int.from_bytes(sig[band * 8:(band + 1) * 8], "little", signed=True)}
            for band in range(len(sig) // 8)]


def upgrade() -> None:
    from storage.shingles import bands

    if op.get_bind().dialect.name == "sqlite":
        _texts(packed=True)
    else:
        op.execute(_PG_FUNCTION)
    _recompress(against_text=True)
    _bands_table(sa.Integer(), band=False)
    _echo_index(lambda _a, _v, stored: _u2(_u4(stored)),
                lambda sig: [{"bucket": key} for key in dict.fromkeys(bands(_u4(sig)))])


def _u4(stored: bytes) -> Any:
    """MinHash values: from 0010's full signature, or (zero-extended) from 0012's 16-bit one."""
    import numpy as np

    return np.frombuffer(stored, dtype="<u4" if len(stored) == 512 else "<u2").astype(np.uint32)


def _u2(values: Any) -> bytes:
    """0012's stored signature: each value's low 16 bits (0015 keeps 8 of them)."""
    import numpy as np

    return bytes((values & np.uint32(0xFFFF)).astype("<u2").tobytes())


def downgrade() -> None:
    _recompress(against_text=False)
    _bands_table(sa.BigInteger(), band=True)
    by_zstd_id = {d.dict_id(): d for d in map(zstandard.ZstdCompressionDict, _dictionaries().values())}
    _echo_index(lambda article_id, version, _stored: _full_signature(article_id, version, by_zstd_id), _old_bands)
    if op.get_bind().dialect.name == "sqlite":
        _texts(packed=False)
    else:
        op.execute("DROP FUNCTION IF EXISTS tgwatch_text(text)")

"""A compact archive: captures with per-site zstd dictionaries; SQLite's search text stored once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``capture_dictionaries`` and ``captures.dictionary_id``: a dictionary is trained on a site's own
pages once it has enough of them (``storage.captures``); each capture names the dictionary it was
compressed with (null: none). Captures already stored keep their codec (``zlib``) and stay
readable; ``tgwatch compact`` re-compresses them.

On SQLite, ``articles_fts`` becomes a contentless FTS5 table with ``detail=none`` (``storage.search``):
the folded text is no longer kept in ``articles.search_text`` (emptied here) nor in the index.
``echo_bands`` loses its index by article (an article's old bands are deleted by their buckets,
recomputed from ``echo_index.signature``), and on SQLite becomes a ``WITHOUT ROWID`` table: the
primary key holds the rows once instead of a table and an index holding them twice.

``tgwatch compact --vacuum`` gives the freed pages back to the file system.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import AwareDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FTS = ("CREATE VIRTUAL TABLE articles_fts USING fts5(search_text, content='', detail=none, "
        "tokenize='unicode61 remove_diacritics 2')")
_OLD_FTS = (
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
_TRIGGERS = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")
BATCH = 500


def _write_search_texts(statement: sa.TextClause) -> None:
    """``statement`` run with each article's ``id`` and the ``text`` that today's ``search_text``
    makes of its latest version, ``BATCH`` articles at a time."""
    from storage.content import Content
    from storage.search import search_text

    bind = op.get_bind()
    query = sa.text(
        "SELECT a.id, v.title, v.lead, v.text, v.author, v.category FROM articles a "
        "JOIN versions v ON v.article_id = a.id AND v.version = a.current_version "
        "WHERE a.id > :after ORDER BY a.id LIMIT :batch")
    after = 0
    while rows := bind.execute(query, {"after": after, "batch": BATCH}).all():
        bind.execute(statement, [
            {"id": r.id, "text": search_text(Content(title=r.title, text=r.text, lead=r.lead, author=r.author,
                                                      category=r.category))}
            for r in rows
        ])
        after = rows[-1].id


def _search_text_sqlite() -> None:
    """The search text out of ``articles`` and into a contentless index, recomputed from each
    article's latest version by today's ``search_text`` (the one its later deletes will use)."""
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(_FTS)
    _write_search_texts(sa.text("INSERT INTO articles_fts(rowid, search_text) VALUES (:id, :text)"))
    op.execute("UPDATE articles SET search_text = '' WHERE search_text != ''")


def _bands_table(rowid: bool) -> str:
    return ("CREATE TABLE {name} (bucket BIGINT NOT NULL, band SMALLINT NOT NULL, article_id INTEGER NOT NULL, "
            "CONSTRAINT pk_echo_bands PRIMARY KEY (bucket, band, article_id), "
            "CONSTRAINT fk_echo_bands_article_id_articles FOREIGN KEY(article_id) REFERENCES articles (id) "
            "ON DELETE CASCADE)" + ("" if rowid else " WITHOUT ROWID"))


def _rebuild_bands(rowid: bool) -> None:
    op.execute(_bands_table(rowid).format(name="echo_bands_0010"))
    op.execute("INSERT INTO echo_bands_0010 (bucket, band, article_id) SELECT bucket, band, article_id FROM echo_bands")
    op.execute("DROP TABLE echo_bands")
    op.execute("ALTER TABLE echo_bands_0010 RENAME TO echo_bands")


def upgrade() -> None:
    op.create_table(
        "capture_dictionaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_capture_dictionaries"),
    )
    op.create_index("ix_capture_dictionaries_site", "capture_dictionaries", ["site"])
    # a plain ADD COLUMN on both backends: a batch copy of ``captures`` would rewrite every body
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE captures ADD COLUMN dictionary_id INTEGER "
                   "CONSTRAINT fk_captures_dictionary_id_capture_dictionaries "
                   "REFERENCES capture_dictionaries (id)")
    else:
        op.add_column("captures", sa.Column("dictionary_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_captures_dictionary_id_capture_dictionaries", "captures",
                              "capture_dictionaries", ["dictionary_id"], ["id"])
    if op.get_bind().dialect.name == "sqlite":
        _search_text_sqlite()
        _rebuild_bands(rowid=False)
    else:
        op.drop_index("ix_echo_bands_article_id", table_name="echo_bands")


def _search_text_back() -> None:
    """``articles.search_text`` filled again and indexed by the external-content FTS5 table of 0001."""
    op.execute("DROP TABLE IF EXISTS articles_fts")
    _write_search_texts(sa.text("UPDATE articles SET search_text = :text WHERE id = :id"))
    for statement in _OLD_FTS:
        op.execute(statement)
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def _captures_back_to_zlib() -> None:
    """Every zstd capture re-compressed with zlib, the one codec revisions 0009 and before read."""
    import zlib

    import zstandard

    bind = op.get_bind()
    dictionaries = {row.id: zstandard.ZstdCompressionDict(bytes(row.data))
                    for row in bind.execute(sa.text("SELECT id, data FROM capture_dictionaries"))}
    query = sa.text("SELECT id, dictionary_id, size, body FROM captures WHERE compression = 'zstd' AND id > :after "
                    "ORDER BY id LIMIT 200")
    update = sa.text("UPDATE captures SET compression = 'zlib', body = :body WHERE id = :id")
    after = 0
    while rows := bind.execute(query, {"after": after}).all():
        changed = []
        for row in rows:
            chosen = dictionaries.get(row.dictionary_id) if row.dictionary_id is not None else None
            reader = zstandard.ZstdDecompressor(dict_data=chosen) if chosen else zstandard.ZstdDecompressor()
            raw = reader.decompress(bytes(row.body), max_output_size=row.size)
            changed.append({"id": row.id, "body": zlib.compress(raw[: row.size], 6)})
        bind.execute(update, changed)
        after = rows[-1].id


def downgrade() -> None:
    """Back to zlib captures (re-compressed here) and 0008's search text and echo bands."""
    bind = op.get_bind()
    _captures_back_to_zlib()
    if bind.dialect.name == "sqlite":
        _search_text_back()
        _rebuild_bands(rowid=True)
    op.create_index("ix_echo_bands_article_id", "echo_bands", ["article_id"])
    if bind.dialect.name == "postgresql":
        op.drop_constraint("fk_captures_dictionary_id_capture_dictionaries", "captures", type_="foreignkey")
    op.execute("ALTER TABLE captures DROP COLUMN dictionary_id")
    op.drop_index("ix_capture_dictionaries_site", table_name="capture_dictionaries")
    op.drop_table("capture_dictionaries")

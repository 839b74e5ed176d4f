"""The archive's tables as SQLAlchemy 2.0 typed models.

Table and column names are a contract: users query ``articles``, ``versions`` and ``changes`` with
plain SQL (see the README). The models describe the schema; ``storage/migrations`` creates it, and
a test checks that the two agree. The full-text index (an FTS5 table on SQLite, a GIN index on
PostgreSQL) lives only in the migration because it is backend-specific.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.content import Content
from storage.textpack import Dictated, PackedJSON, PackedText
from storage.types import COMPRESSION, AwareDateTime
from storage.vocabulary import CHANGE_KINDS, RUN_OUTCOMES, RunOutcome

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: AwareDateTime()}


class ArticleRow(Base):
    """One article URL of one site, with its latest version's fields denormalised for SQL users."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)  # storage.urls.canonical_url
    title: Mapped[str] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_precision: Mapped[str | None] = mapped_column(String(6))  # day | minute | second
    author: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_checked_at: Mapped[datetime]  # last check the server answered (never a failed one)
    last_changed_at: Mapped[datetime]  # last new/edited/removed/restored
    removed_at: Mapped[datetime | None]  # null while live
    current_version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    gone_signals: Mapped[int] = mapped_column(default=0, server_default="0")
    last_gone_at: Mapped[datetime | None]
    failed_checks: Mapped[int] = mapped_column(default=0, server_default="0")  # in a row
    last_failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")


class VersionRow(Base):
    """One distinct content of an article, append-only (fields as the page said them)."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    fetched_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_precision: Mapped[str | None] = mapped_column(String(6))  # day | minute | second
    author: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(PackedText)  # SQLite: zstd, read in SQL with tgwatch_text(text)
    content_hash: Mapped[str] = mapped_column(String(64))

    capture: Mapped[CaptureRow | None] = relationship(
        back_populates="version", cascade="all, delete-orphan", single_parent=True
    )

    def set_content(self, content: Content, digest: str, dictionary: Any = None) -> None:
        """Store ``content`` (whose fingerprint is ``digest``) as this version's fields, its text packed
        with ``dictionary`` on SQLite (a zstd dictionary or a ``WordCodec``: ``storage.textpack``; None:
        without one)."""
        for name, value in content_columns(content, digest, dictionary).items():
            setattr(self, name, value)

    def content(self) -> Content:
        return Content(
            title=self.title,
            text=str(self.text),  # never a Dictated: a Content travels
            lead=self.lead,
            author=self.author,
            category=self.category,
            published_at=self.published_at,
            published_precision=self.published_precision,
        )


def content_columns(content: Content, digest: str, dictionary: Any = None) -> dict[str, Any]:
    """A version's content columns (``VersionRow.set_content``), also as values of a core INSERT."""
    return {
        "title": content.title,
        "lead": content.lead,
        "text": Dictated.of(content.text, dictionary),
        "author": content.author,
        "category": content.category,
        "published_at": content.published_at,
        "published_precision": content.published_precision,
        "content_hash": digest,
    }


class CaptureRow(Base):
    """The raw response a version was extracted from, so extraction can be re-run later."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(Text)  # final URL after redirects
    status: Mapped[int]
    headers: Mapped[dict[str, Any]] = mapped_column(PackedJSON)  # SQLite: packed (migration 0013)
    compression: Mapped[str] = mapped_column(String(16), default=COMPRESSION)  # zstd | zlib | none
    size: Mapped[int]  # uncompressed length
    body: Mapped[bytes] = mapped_column(LargeBinary)
    dictionary_id: Mapped[int | None] = mapped_column(ForeignKey("capture_dictionaries.id"))  # migration 0010

    version: Mapped[VersionRow] = relationship(back_populates="capture")

    def html(self) -> bytes:
        """The capture's bytes as fetched (``storage.captures.decode``: bounded, any codec)."""
        from storage.captures import body_of

        return body_of(self)


class CaptureDictionaryRow(Base):
    """A zstd dictionary trained on one site's pages or texts, or the site's vocabulary (``kind`` words:
    ``storage.textpack.Words``) (``storage.captures``); never changed or deleted."""

    __tablename__ = "capture_dictionaries"
    __table_args__ = (Index(None, "site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8), default="pages", server_default="pages")  # | texts (0013) | words
    created_at: Mapped[datetime]
    samples: Mapped[int]  # captures it was trained on
    size: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of data
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CrawlRunRow(Base):
    """One crawl of one site: what ``tgwatch status`` reports."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", RUN_OUTCOMES), name="outcome"),
        Index(None, "site", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default=RunOutcome.RUNNING.value)
    pages: Mapped[int] = mapped_column(default=0, server_default="0")
    new: Mapped[int] = mapped_column(default=0, server_default="0")
    edited: Mapped[int] = mapped_column(default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(default=0, server_default="0")
    removed: Mapped[int] = mapped_column(default=0, server_default="0")
    restored: Mapped[int] = mapped_column(default=0, server_default="0")
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))  # where pid runs (migration 0006)
    heartbeat_at: Mapped[datetime | None]  # the crawl's last sign of life, every HEARTBEAT seconds


class DaemonLeaseRow(Base):
    """Who runs the daemon of this archive (SQLite; PostgreSQL holds an advisory lock instead)."""

    __tablename__ = "daemon_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(Text)  # "host:pid"
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class ChangeRow(Base):
    """A flagged change: what reports, feeds and notifications are made of."""

    __tablename__ = "changes"
    __table_args__ = (
        CheckConstraint(_one_of("kind", CHANGE_KINDS), name="kind"),
        Index(None, "detected_at"),
        Index(None, "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    detected_at: Mapped[datetime]
    from_version: Mapped[int | None]
    to_version: Mapped[int | None]
    fields: Mapped[str | None] = mapped_column(Text)  # "title,text", CONTENT_FIELDS order
    note: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )

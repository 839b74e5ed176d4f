"""Tables of the echoes: near-duplicate reports across sites, and the persistent index that finds them.

``echo_index`` says which version of each article is indexed; ``echo_bands`` holds its MinHash
LSH band buckets (``storage.shingles``), so a lookup is a handful of index probes in SQL and the
index survives restarts with nothing to rebuild. ``echoes`` is one row per near-duplicate pair
(original, copy) and ``echo_findings`` how the copy differs (the anatomy of ``storage.anatomy``).
Migration ``0007``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.models_anatomy import one_of
from storage.vocabulary import ECHO_KINDS, FINDING_KINDS


class EchoIndexRow(Base):
    """The version of an article the LSH index holds."""

    __tablename__ = "echo_index"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]
    shingles: Mapped[int]  # how many distinct word shingles its text has
    indexed_at: Mapped[datetime]
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # MinHash values, 16 bits; null: too short


class EchoBandRow(Base):
    """One LSH band bucket of one indexed article: articles sharing a bucket are candidates."""

    __tablename__ = "echo_bands"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the table (migration 0010)

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # the band's key; first: lookups probe by it
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)


class EchoRow(Base):
    """A report found again on another site: which is the original, how alike, how late."""

    __tablename__ = "echoes"
    __table_args__ = (
        UniqueConstraint("original_article_id", "copy_article_id"),
        CheckConstraint(one_of("kind", ECHO_KINDS), name="kind"),
        Index(None, "copy_article_id"),
        Index(None, "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    original_article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    copy_article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    original_version: Mapped[int]
    copy_version: Mapped[int]
    similarity: Mapped[float]  # Jaccard similarity of the two texts' word shingles
    containment: Mapped[float]  # shared shingles over the shorter text's: 1.0 for an excerpt
    lag_seconds: Mapped[int]  # copy published (else first seen) minus original's
    kind: Mapped[str] = mapped_column(String(16))
    differs: Mapped[str | None] = mapped_column(Text)  # the kinds of its findings, e.g. "field,sentence_removed"
    detected_at: Mapped[datetime]


class EchoFindingRow(Base):
    """One way the copy differs from the original (``storage.anatomy.Finding``)."""

    __tablename__ = "echo_findings"
    __table_args__ = (CheckConstraint(one_of("kind", FINDING_KINDS), name="kind"), Index(None, "echo_id", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    echo_id: Mapped[int] = mapped_column(ForeignKey("echoes.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(24))
    field: Mapped[str] = mapped_column(String(16))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)

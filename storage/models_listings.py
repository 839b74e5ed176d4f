"""Tables of the listings: which listing page showed which article, where, and since when.

``listing_pages`` is every listing page of a site a crawl has read (homepage, sections,
pagination). ``listings`` holds stints, not sightings: one row while an article stays at one
position of one page, opened by the crawl that first saw it there and closed (``seen_until``) by
the first crawl that read the page without it there, so an unchanged listing adds no row.
``listing_status`` is each article's standing with the listings (``storage.vocabulary.ListingState``),
which decides ``delisted`` and ``relisted`` (``storage.listings``). Migration ``0004``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.models_anatomy import one_of
from storage.vocabulary import LISTING_KINDS, LISTING_STATES


class ListingPageRow(Base):
    """One listing page of one site, as the crawl reaches it."""

    __tablename__ = "listing_pages"
    __table_args__ = (UniqueConstraint("site", "url"), CheckConstraint(one_of("kind", LISTING_KINDS), name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    first_read_at: Mapped[datetime]
    last_read_at: Mapped[datetime]  # the last crawl that read it (a failed fetch does not count)
    last_failed_at: Mapped[datetime | None]


class ListingRow(Base):
    """One stint of an article at one position of one listing page."""

    __tablename__ = "listings"
    __table_args__ = (Index(None, "page_id", "seen_until"), Index(None, "article_id", "seen_until"))

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("listing_pages.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1-based rank among the page's article links, in page order
    seen_from: Mapped[datetime]  # the crawl that first saw it there
    seen_until: Mapped[datetime | None]  # the first crawl that read the page without it there; null: still


class ListingStatusRow(Base):
    """An article's standing with its site's listings; absent until a listing first shows it."""

    __tablename__ = "listing_status"
    __table_args__ = (CheckConstraint(one_of("state", LISTING_STATES), name="state"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]  # when it entered this state
    last_listed_at: Mapped[datetime]  # the last crawl that saw it on a listing page

"""Tables of backfills: the persisted frontier of a walk through a whole site (``storage.backfill``).

``backfills`` is one walk of one site (``tgwatch crawl SITE --backfill``): open until a run of it
ends with nothing left to fetch, and held by the ``crawl_runs`` row of the crawl working on it.
``backfill_pages`` is its frontier: every listing page and article it found, ``pending`` until
fetched, then ``done`` (read, recorded, or out of reach) or ``failed`` (retried by the next run).
Migration ``0009``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.models_anatomy import one_of

BACKFILL_KINDS = ("listing", "article")
BACKFILL_STATES = ("pending", "done", "failed")


class BackfillRow(Base):
    """One walk of one site's listings, from its first run to the one that finishes it."""

    __tablename__ = "backfills"
    __table_args__ = (Index(None, "site", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]  # null while pages remain
    run_id: Mapped[int | None]  # crawl_runs.id of the crawl that works on it (last)


class BackfillPageRow(Base):
    """A listing page or article of a backfill's frontier."""

    __tablename__ = "backfill_pages"
    __table_args__ = (
        UniqueConstraint("backfill_id", "key"),
        Index(None, "backfill_id", "state"),
        CheckConstraint(one_of("kind", BACKFILL_KINDS), name="kind"),
        CheckConstraint(one_of("state", BACKFILL_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    backfill_id: Mapped[int] = mapped_column(ForeignKey("backfills.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)  # what to request
    key: Mapped[str] = mapped_column(Text)  # what makes it one page: the canonical URL of an article
    state: Mapped[str] = mapped_column(String(8))
    found_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

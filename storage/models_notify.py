"""Tables of the notification outbox and of the daemon's schedule (migration ``0002``).

The outbox is what makes "each change is announced once" hold across crashes and restarts:

- ``change_notices`` marks a change as handed to the outbox (one row per change, ever), so a
  change is enqueued once however often the dispatcher runs and however many targets exist;
- ``deliveries`` is one message to one Apprise target, unique per (change, target), with its
  state (pending, sent, failed) and retry schedule; it carries the rendered message, so what is
  sent does not depend on the archive's later state;
- ``notify_baselines`` records that a site's first complete crawl was announced as one summary,
  after which every change of the site is announced by itself.

``apscheduler_jobs`` is APScheduler 3.x's own job table (``SQLAlchemyJobStore``), declared here
with the exact columns it creates so that the migration owns the archive's whole schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

DELIVERY_STATUSES = ("pending", "sent", "failed")
DELIVERY_KINDS = ("change", "baseline")
JOBS_TABLE = "apscheduler_jobs"


class ChangeNoticeRow(Base):
    """A change the outbox has taken in (announced, summarised in a baseline, or filtered out)."""

    __tablename__ = "change_notices"

    change_id: Mapped[int] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), primary_key=True
    )
    site: Mapped[str] = mapped_column(String(100))
    noticed_at: Mapped[datetime]
    baseline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeliveryRow(Base):
    """One message for one Apprise target: the transactional outbox."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("change_id", "target"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in DELIVERY_STATUSES)})", name="status"
        ),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in DELIVERY_KINDS)})", name="kind"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"))
    site: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="change")
    target: Mapped[str] = mapped_column(Text)  # an Apprise URL from the config
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class NotifyBaselineRow(Base):
    """A site whose first complete crawl has been summarised (one row per site)."""

    __tablename__ = "notify_baselines"

    site: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    reports: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]


jobs_table = Table(
    JOBS_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
"""APScheduler 3.x's ``SQLAlchemyJobStore`` table, column for column (it creates it if missing)."""

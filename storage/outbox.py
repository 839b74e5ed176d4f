"""The notification outbox's reads and writes (tables in ``storage/models_notify.py``).

``monitor/outbox.py`` decides what to announce and renders the messages; ``monitor/notify.py``
sends them. Both go through these functions, each one step inside the caller's transaction:
taking in a site's unseen changes (``change_notices``), a site's baseline, one delivery per
target, and the dispatcher's claim → sent/failed cycle on a delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from storage.changes import ChangeInfo, load_changes
from storage.models import ChangeRow, CrawlRunRow
from storage.models_notify import ChangeNoticeRow, DeliveryRow, NotifyBaselineRow
from storage.vocabulary import CHANGE_KINDS, RunOutcome


@dataclass(frozen=True)
class Delivery:
    """One message for one target, as claimed for sending."""

    id: int
    change_id: int
    site: str
    target: str
    title: str
    body: str


@dataclass(frozen=True)
class DeliveryResult:
    """What a send did to a delivery: its attempts so far and, after a failure, the retry delay."""

    attempts: int
    retry_in: float | None = None


def unseen_changes(session: Session, site: str) -> list[ChangeInfo]:
    """``site``'s changes the outbox has not taken in, of finished crawls only (a crawl still
    running may add to its baseline), oldest first, with their versions."""
    finished = or_(ChangeRow.run_id.is_(None), ChangeRow.run_id.in_(
        select(CrawlRunRow.id).where(CrawlRunRow.site == site, CrawlRunRow.outcome != RunOutcome.RUNNING)))
    unseen = ~select(ChangeNoticeRow.change_id).where(ChangeNoticeRow.change_id == ChangeRow.id).exists()
    return load_changes(session, site=site, kinds=CHANGE_KINDS, newest_first=False, where=[unseen, finished])


def has_baseline(session: Session, site: str) -> bool:
    return session.get(NotifyBaselineRow, site) is not None


def first_complete_run(session: Session, site: str) -> int | None:
    """The id of ``site``'s first crawl that finished ``ok``: its baseline."""
    return session.scalar(
        select(func.min(CrawlRunRow.id)).where(CrawlRunRow.site == site, CrawlRunRow.outcome == RunOutcome.OK))


def record_baseline(session: Session, site: str, run_id: int, reports: int, at: datetime) -> None:
    session.add(NotifyBaselineRow(site=site, run_id=run_id, reports=reports, created_at=at))


def mark_seen(session: Session, change_id: int, site: str, at: datetime, *, baseline: bool = False) -> None:
    """The outbox has taken this change in (once, ever: the change id is the key)."""
    session.add(ChangeNoticeRow(change_id=change_id, site=site, noticed_at=at, baseline=baseline))


def add_delivery(
    session: Session, change_id: int, site: str, kind: str, target: str, title: str, body: str, at: datetime
) -> None:
    """A pending message for one target, due at once."""
    session.add(DeliveryRow(
        change_id=change_id, site=site, kind=kind, target=target, title=title, body=body,
        status="pending", attempts=0, created_at=at, next_attempt_at=at,
    ))


def due_deliveries(session: Session, at: datetime) -> list[tuple[int, str]]:
    """(id, target) of every unsent delivery due at ``at``, in the order they were made."""
    rows = session.execute(
        select(DeliveryRow.id, DeliveryRow.target)
        .where(DeliveryRow.status != "sent", DeliveryRow.next_attempt_at <= at)
        .order_by(DeliveryRow.id)
    )
    return [(delivery_id, target) for delivery_id, target in rows]


def claim_delivery(session: Session, delivery_id: int, at: datetime, lease: timedelta) -> Delivery | None:
    """Take a due delivery for one send: attempts + 1 and its next attempt pushed ``lease`` ahead,
    so no other dispatcher sends it meanwhile. None when it was sent or claimed by another."""
    claimed = cast(CursorResult[Any], session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.status != "sent", DeliveryRow.next_attempt_at <= at)
        .values(attempts=DeliveryRow.attempts + 1, next_attempt_at=at + lease)
    )).rowcount
    row = session.get(DeliveryRow, delivery_id) if claimed else None
    if row is None:
        return None
    return Delivery(row.id, row.change_id, row.site, row.target, row.title, row.body)


def finish_delivery(
    session: Session, delivery_id: int, at: datetime, sent: bool, error: str | None,
    backoff: Callable[[int], float],
) -> DeliveryResult | None:
    """Mark a claimed delivery ``sent``, or ``failed`` with ``error`` and due again after
    ``backoff(attempts)`` seconds. None when it is gone (its change was deleted meanwhile)."""
    row = session.get(DeliveryRow, delivery_id)
    if row is None:
        return None
    if sent:
        row.status, row.sent_at, row.last_error = "sent", at, None
        return DeliveryResult(row.attempts)
    delay = backoff(row.attempts)
    row.status, row.last_error = "failed", error
    row.next_attempt_at = at + timedelta(seconds=delay)
    return DeliveryResult(row.attempts, delay)


"""The transactional outbox: changes in the archive become messages waiting to be sent.

``enqueue`` takes in every change of a finished crawl that the outbox has not seen, in one
transaction: it marks the change (``change_notices``, one row per change, ever) and adds one
``deliveries`` row per Apprise target, with the message already rendered. A change is therefore
announced once, however often the dispatcher runs, and a crash between two steps leaves either
nothing done or everything done.

A site's first complete crawl is its baseline: the backlog it archives is marked but summarised
in one message per target ("tuyengiao: baseline of 13 reports archived"). Changes of a crawl
still running wait until it has finished, so a baseline is never split in two.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from crawler.profiles import Config
from storage.models import ArticleRow, ChangeRow, CrawlRunRow, VersionRow
from storage.models_notify import ChangeNoticeRow, DeliveryRow, NotifyBaselineRow
from storage.vocabulary import FLAGGED_KINDS, ChangeKind, RunOutcome


EXCERPT_LINES = 8
OPENING_LINES = 3  # of a new report
EXCERPT_WIDTH = 200


@dataclass(frozen=True)
class ChangeInfo:
    """A change with what a reader needs: the article and the text before and after."""

    id: int
    site: str
    kind: str
    detected_at: datetime
    url: str
    title: str
    fields: list[str]
    note: str | None
    old: VersionRow | None
    new: VersionRow | None


def _clip(line: str, width: int = EXCERPT_WIDTH) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def excerpt(change: ChangeInfo) -> str:
    """A few lines that show what changed: a diff for edits, the opening lines of a new report."""
    if change.kind == ChangeKind.REMOVED:
        return f"No longer online{f' ({change.note})' if change.note else ''}."
    new, old = change.new, change.old
    if new is None:
        return ""
    if old is None or change.kind == ChangeKind.NEW:
        lines = [line for line in (new.lead or "").splitlines() + new.text.splitlines() if line.strip()]
        return "\n".join(_clip(line) for line in list(dict.fromkeys(lines))[:OPENING_LINES])
    out: list[str] = []
    for name in change.fields:
        if name == "text":
            out += _text_diff(old.text.splitlines(), new.text.splitlines())
        else:
            before, after = getattr(old, name), getattr(new, name)
            out += [f"{name}: {_clip(str(before or '-'), 90)} → {_clip(str(after or '-'), 90)}"]
    if len(out) > EXCERPT_LINES:
        out = out[:EXCERPT_LINES] + [f"… ({len(out) - EXCERPT_LINES} more lines)"]
    return "\n".join(out)


def _around(before: str, after: str, context: int = 60) -> tuple[str, str]:
    """Both lines cut to where they differ, with some context, so a long paragraph's edit shows."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    cut = before.rfind(" ", 0, max(0, start - context)) + 1  # a word's start, or the line's

    def piece(line: str) -> str:
        stop = min(len(line), len(line) - end + context)
        return ("…" if cut else "") + line[cut:stop] + ("…" if stop < len(line) else "")

    return piece(before), piece(after)


def _text_diff(old: list[str], new: list[str]) -> list[str]:
    """``-``/``+`` lines of the text's difference; a changed line is shown around its change."""
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0  # edited lines, in order
        for before, after in zip(old[i1:i1 + paired], new[j1:j1 + paired]):
            shown_before, shown_after = _around(before, after)
            out += [_clip("-" + shown_before), _clip("+" + shown_after)]
        out += [_clip("-" + line) for line in old[i1 + paired:i2]] + [_clip("+" + line) for line in new[j1 + paired:j2]]
    return out


def render(change: ChangeInfo) -> tuple[str, str]:
    """The message for one change: (title, body)."""
    title = f"[{change.site}] {change.kind}: {change.title}"
    detected = change.detected_at.isoformat(timespec="minutes")
    head = [change.url, f"site: {change.site} · kind: {change.kind} · detected: {detected}"]
    if change.fields:
        head.append(f"changed: {', '.join(change.fields)}")
    if change.note and change.kind != ChangeKind.REMOVED:
        head.append(change.note)
    body = "\n".join(head)
    shown = excerpt(change)
    return title, f"{body}\n\n{shown}" if shown else body


def load_changes(
    session: Session, where: list[ColumnElement[bool]], limit: int | None = None, newest_first: bool = False
) -> list[ChangeInfo]:
    """Changes matching ``where`` (conditions on ChangeRow/ArticleRow) with their two versions."""
    old, new = aliased(VersionRow), aliased(VersionRow)
    order = (ChangeRow.detected_at.desc(), ChangeRow.id.desc()) if newest_first else (ChangeRow.id,)
    query = (
        select(ChangeRow, ArticleRow.site, ArticleRow.url, ArticleRow.title, old, new)
        .join(ArticleRow, ArticleRow.id == ChangeRow.article_id)
        .outerjoin(old, and_(old.article_id == ChangeRow.article_id, old.version == ChangeRow.from_version))
        .outerjoin(new, and_(new.article_id == ChangeRow.article_id, new.version == ChangeRow.to_version))
        .where(*where)
        .order_by(*order)
        .limit(limit)
    )
    return [
        ChangeInfo(
            id=c.id, site=site, kind=c.kind, detected_at=c.detected_at, url=url,
            title=(v_new.title if v_new is not None else title), fields=[f for f in (c.fields or "").split(",") if f],
            note=c.note, old=v_old, new=v_new,
        )
        for c, site, url, title, v_old, v_new in session.execute(query)
    ]


def targets_of(config: Config, site: str) -> list[str]:
    """Apprise URLs for ``site``'s changes: the config's top-level ones, then the site's own."""
    profile = config.sites.get(site)
    return list(dict.fromkeys(config.notify + (profile.notify if profile else [])))


def kinds_of(config: Config, site: str) -> tuple[str, ...]:
    profile = config.sites.get(site)
    return profile.notify_kinds if profile and profile.notify_kinds else FLAGGED_KINDS


@dataclass
class Enqueued:
    changes: int = 0
    deliveries: int = 0
    baseline: int = 0  # reports summarised in a baseline message


def enqueue(session: Session, config: Config, site: str, at: datetime) -> Enqueued:
    """Take in ``site``'s unseen changes of finished crawls (inside the caller's write transaction)."""
    done = Enqueued()
    finished = or_(ChangeRow.run_id.is_(None), ChangeRow.run_id.in_(
        select(CrawlRunRow.id).where(CrawlRunRow.site == site, CrawlRunRow.outcome != RunOutcome.RUNNING)))
    unseen = ~select(ChangeNoticeRow.change_id).where(ChangeNoticeRow.change_id == ChangeRow.id).exists()
    changes = load_changes(session, [ArticleRow.site == site, unseen, finished])
    if not changes:
        return done
    targets, kinds = targets_of(config, site), kinds_of(config, site)
    if session.get(NotifyBaselineRow, site) is None:
        first_ok = session.scalar(
            select(func.min(CrawlRunRow.id)).where(CrawlRunRow.site == site, CrawlRunRow.outcome == RunOutcome.OK))
        if first_ok is None:
            return done  # no complete crawl yet: the baseline is still being made
        reports = sum(1 for c in changes if c.kind == ChangeKind.NEW)
        session.add(NotifyBaselineRow(site=site, run_id=first_ok, reports=reports, created_at=at))
        for change in changes:
            session.add(ChangeNoticeRow(change_id=change.id, site=site, noticed_at=at, baseline=True))
        if reports and ChangeKind.NEW in kinds:
            title = f"{site}: baseline of {reports} reports archived"
            body = (f"First complete crawl of {site}: {reports} reports archived. "
                    "From now on every new, edited, removed or restored report is announced by itself.")
            for target in targets:
                session.add(_delivery(changes[0].id, site, "baseline", target, title, body, at))
            done.deliveries += len(targets)
        done.changes, done.baseline = len(changes), reports
        return done
    for change in changes:
        session.add(ChangeNoticeRow(change_id=change.id, site=site, noticed_at=at))
        if change.kind in kinds:
            title, body = render(change)
            for target in targets:
                session.add(_delivery(change.id, site, "change", target, title, body, at))
            done.deliveries += len(targets)
        done.changes += 1
    return done


def _delivery(change_id: int, site: str, kind: str, target: str, title: str, body: str, at: datetime) -> DeliveryRow:
    return DeliveryRow(
        change_id=change_id, site=site, kind=kind, target=target, title=title, body=body,
        status="pending", attempts=0, created_at=at, next_attempt_at=at,
    )

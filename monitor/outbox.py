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

from storage.textdiff import opcodes
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.anatomy import lines as anatomy_lines
from storage.anatomy import substance
from storage.changes import ChangeInfo
from storage.outbox import add_delivery, first_complete_run, has_baseline, mark_seen, record_baseline, unseen_changes
from storage.vocabulary import FLAGGED_KINDS, SUBSTANTIVE_EDITS, ChangeKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crawler.profiles import Config

EXCERPT_LINES = 8
ANATOMY_LINES = 10  # findings shown (the anatomy of an edit, before the diff excerpt)
OPENING_LINES = 3  # of a new report
EXCERPT_WIDTH = 200


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
    for op, i1, i2, j1, j2 in opcodes(old, new):
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
    anatomy = anatomy_lines(list(change.findings))
    if len(anatomy) > ANATOMY_LINES + 1:
        anatomy = anatomy[:ANATOMY_LINES + 1] + [f"… ({len(anatomy) - ANATOMY_LINES - 1} more findings)"]
    body = "\n".join(head + anatomy)
    shown = excerpt(change)
    return title, f"{body}\n\n{shown}" if shown else body


def targets_of(config: Config, site: str) -> list[str]:
    """Apprise URLs for ``site``'s changes: the config's top-level ones, then the site's own."""
    profile = config.sites.get(site)
    return list(dict.fromkeys(config.notify + (profile.notify if profile else [])))


def announced(change: ChangeInfo, kinds: tuple[str, ...]) -> bool:
    """Whether a site announcing ``kinds`` announces ``change`` (``edited:substantive``: an edit
    with at least one finding that is not cosmetic)."""
    if change.kind in kinds:
        return True
    weighty = substance(list(change.findings)) == "substantive"
    return change.kind == ChangeKind.EDITED and SUBSTANTIVE_EDITS in kinds and weighty


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
    changes = unseen_changes(session, site)
    if not changes:
        return Enqueued()
    if not has_baseline(session, site):
        return _baseline(session, config, site, changes, at)
    done = Enqueued()
    targets, kinds = targets_of(config, site), kinds_of(config, site)
    for change in changes:
        mark_seen(session, change.id, site, at)
        if announced(change, kinds):
            title, body = render(change)
            for target in targets:
                add_delivery(session, change.id, site, "change", target, title, body, at)
            done.deliveries += len(targets)
        done.changes += 1
    return done


def _baseline(session: Session, config: Config, site: str, changes: list[ChangeInfo], at: datetime) -> Enqueued:
    """A site's first complete crawl: its backlog is marked seen and announced as one summary."""
    first_ok = first_complete_run(session, site)
    if first_ok is None:
        return Enqueued()  # no complete crawl yet: the baseline is still being made
    reports = sum(1 for c in changes if c.kind == ChangeKind.NEW)
    record_baseline(session, site, first_ok, reports, at)
    for change in changes:
        mark_seen(session, change.id, site, at, baseline=True)
    done = Enqueued(changes=len(changes), baseline=reports)
    if reports and ChangeKind.NEW in kinds_of(config, site):
        targets = targets_of(config, site)
        title = f"{site}: baseline of {reports} reports archived"
        body = (f"First complete crawl of {site}: {reports} reports archived. "
                "From now on every new, edited, removed or restored report is announced by itself.")
        for target in targets:
            add_delivery(session, changes[0].id, site, "baseline", target, title, body, at)
        done.deliveries += len(targets)
    return done

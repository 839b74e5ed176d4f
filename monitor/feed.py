"""``tgwatch feed``: an Atom feed of recent changes, for feed readers and for scripts.

One entry per change, newest first. Entry ids are stable (``tag:tgwatch,2026:change/<id>``), so a
reader that polls the feed shows each change once; ``updated`` is when the change was detected, the
link is the report, and the content is the same text a notification carries (what changed and a
short excerpt of the difference).
"""

from __future__ import annotations

import re
from datetime import datetime

import click

from monitor.context import AppContext
from monitor.outbox import render
from storage.anatomy import substance
from storage.changes import ChangeInfo, load_changes
from storage.types import now
from storage.vocabulary import FLAGGED_KINDS

TAG = "tag:tgwatch,2026:"
DEFAULT_LIMIT = 50
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text lxml accepts: XML 1.0 forbids most control characters, which scraped pages may hold."""
    return _NOT_XML.sub("", text)


def feed_id(site: str | None, kind: str | None) -> str:
    """The feed's own id: one per filter, so two filtered feeds are never taken for one."""
    parts = ["feed"] + ([f"site/{site}"] if site else []) + ([f"kind/{kind}"] if kind else [])
    return TAG + "/".join(parts)


def entry_id(change_id: int) -> str:
    return f"{TAG}change/{change_id}"


def build_feed(changes: list[ChangeInfo], site: str | None = None, kind: str | None = None,
               generated_at: datetime | None = None) -> bytes:
    """The Atom document (UTF-8 bytes) for ``changes``, given newest first."""
    from feedgen.feed import FeedGenerator  # imported here: the CLI loads every command module

    feed = FeedGenerator()
    feed.id(feed_id(site, kind))
    scope = " · ".join(filter(None, [site, kind]))
    feed.title(f"tgwatch: changes{f' ({scope})' if scope else ''}")
    feed.subtitle("New, edited, removed and restored reports on the watched Ban Tuyên giáo sites")
    feed.author({"name": "tgwatch"})
    feed.generator("tgwatch")
    feed.language("vi")
    feed.updated(changes[0].detected_at if changes else (generated_at or now()))
    for change in reversed(changes):  # feedgen prepends: add oldest first to keep newest first
        title, body = render(change)
        entry = feed.add_entry()
        entry.id(entry_id(change.id))
        entry.title(_xml(title))
        entry.updated(change.detected_at)
        entry.link(href=change.url, rel="alternate")
        entry.category(term=change.kind)
        if change.findings:  # the anatomy of an edit: edited:substantive or edited:cosmetic
            entry.category(term=f"{change.kind}:{substance(list(change.findings))}")
        entry.content(_xml(body), type="text")
    return feed.atom_str(pretty=True)


def recent_changes(app: AppContext, site: str | None, kind: str | None, limit: int) -> list[ChangeInfo]:
    with app.archive().reading() as session:
        return load_changes(session, site=site or None, kinds=[kind] if kind else FLAGGED_KINDS, limit=limit)


@click.command("feed")
@click.option("--site", help="Only this site's changes.")
@click.option("--kind", type=click.Choice(FLAGGED_KINDS), help="Only changes of this kind.")
@click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="Number of entries (the most recent changes).")
@click.pass_obj
def command(app: AppContext, site: str | None, kind: str | None, limit: int) -> None:
    """Write an Atom feed of recent changes to stdout.

    \b
    Example:
      tgwatch feed --site tuyengiao --kind edited > edits.atom
    """
    document = build_feed(recent_changes(app, site, kind, limit), site, kind)
    click.echo(document, nl=False)  # bytes: written as they are, UTF-8 as the XML declaration says

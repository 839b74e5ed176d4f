"""``tgwatch changes``: the flagged changes, newest first."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import click

from monitor.context import AppContext
from monitor.output import format_option, render
from storage.content import CONTENT_FIELDS, VN_TZ
from storage.errors import InputError
from storage.vocabulary import FLAGGED_KINDS, SUBSTANCES

COLUMNS = ["detected_at", "site", "kind", "article_id", "from_version", "to_version", "fields", "title", "url",
           "substance", "findings"]
_RELATIVE = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """``7d``, ``24h``, ``30m``, ``2w`` ago, or an ISO date/time (Vietnamese time when no offset)."""
    now = now or datetime.now(VN_TZ)
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(text, "not a time: give an ISO date/time (2024-05-01, 2024-05-01T08:00) "
                               "or an age such as 7d, 24h, 30m") from None
    return when.replace(tzinfo=VN_TZ) if when.tzinfo is None else when


def list_changes(app: AppContext, *, since: datetime | None = None, kind: str | None = None,
                 site: str | None = None, limit: int = 0, until: datetime | None = None,
                 field: str | None = None, substance: str | None = None) -> list[tuple[Any, ...]]:
    """Rows of COLUMNS, newest first: the report's changes page lists the same (``storage.report``).

    ``substance`` keeps only edits that are ``substantive`` or only ``cosmetic`` (edit_findings).
    """
    from monitor.anatomy import summary
    from storage.anatomy import substance as substance_of
    from storage.report import ChangeFilter, change_lines

    where = ChangeFilter(site=site, kind=kind, since=since, until=until, field=field, substance=substance)
    with app.archive().reading() as session:
        changes = change_lines(session, where, limit=limit)
    return [(c.detected_at, c.site, c.kind, c.article_id, c.from_version, c.to_version, ",".join(c.fields) or None,
             c.article_title, c.url, substance_of(list(c.findings)) if c.findings else None,
             summary(list(c.findings)) or None) for c in changes]


@click.command("changes")
@click.option("--since", "since_text", metavar="WHEN", help="Only changes since WHEN: ISO date/time or 7d, 24h, 30m.")
@click.option("--kind", type=click.Choice(FLAGGED_KINDS), help="Only this kind of change.")
@click.option("--until", "until_text", metavar="WHEN", help="Only changes before WHEN (same forms as --since).")
@click.option("--site", help="Only this site.")
@click.option("--field", type=click.Choice(CONTENT_FIELDS), help="Only changes of this content field.")
@click.option("--substance", type=click.Choice(SUBSTANCES),
              help="Only edits that changed substance, or only cosmetic ones (spelling, diacritics, punctuation).")
@click.option("--limit", type=int, default=0, help="Most rows to print (default: all).")
@format_option
@click.pass_obj
def command(app: AppContext, since_text: str | None, until_text: str | None, kind: str | None,
            site: str | None, field: str | None, substance: str | None, limit: int, fmt: str) -> None:
    """List flagged changes (new, edited, removed, restored articles), newest first.

    An edit's substance is "cosmetic" when only spelling, diacritics, punctuation, spacing or
    letter case changed, else "substantive"; findings counts what changed, by kind.

    \b
    Example:
      tgwatch changes --since 7d --kind edited
      tgwatch changes --site tuyengiao --format json
      tgwatch changes --substance substantive --since 24h
      tgwatch changes --since 2024-05-01 --until 2024-06-01 --field title
    """
    since = parse_when(since_text) if since_text else None
    until = parse_when(until_text) if until_text else None
    rows = list_changes(app, since=since, until=until, kind=kind, site=site, field=field, substance=substance,
                        limit=limit)
    render(COLUMNS, rows, fmt)

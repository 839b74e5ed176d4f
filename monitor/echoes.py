"""``tgwatch echoes``: the same report found on other sites, newest first."""

from __future__ import annotations

import click

from monitor.changes import parse_when
from monitor.context import AppContext
from monitor.output import format_option, render

COLUMNS = ["detected_at", "kind", "similarity", "containment", "lag_hours", "original_site", "original_id",
           "original_title", "original_url", "copy_site", "copy_id", "copy_title", "copy_url", "differs"]


@click.command("echoes")
@click.option("--site", help="Only echoes with this site on either side (as original or as copy).")
@click.option("--since", "since_text", metavar="WHEN", help="Only echoes found since WHEN: ISO date/time or 7d, 24h.")
@click.option("--limit", type=int, default=0, help="Most rows to print (default: all).")
@click.option("--index", "index", is_flag=True,
              help="First index the reports archived before echoes were detected (once, after an upgrade).")
@format_option
@click.pass_obj
def command(app: AppContext, site: str | None, since_text: str | None, limit: int, index: bool, fmt: str) -> None:
    """List near-duplicate reports across sites: which report republished which, how alike
    (similarity: Jaccard of word shingles; containment: the share of the shorter text found in
    the other), how many hours later, and how the copy differs (finding kinds of the anatomy).

    kind is "copy" (the same words), "edited copy" or "excerpt" (a part of the original).

    \b
    Example:
      tgwatch echoes --since 7d
      tgwatch echoes --site longan --format json
      tgwatch echoes --index
    """
    since = parse_when(since_text) if since_text else None
    archive = app.archive()
    if index:
        count = archive.index_echoes()
        click.echo(f"indexed {count} reports", err=True)
    rows = [(e.detected_at, e.kind, round(e.similarity, 3), round(e.containment, 3), round(e.lag_seconds / 3600, 1),
             e.original_site, e.original_id, e.original_title, e.original_url, e.copy_site, e.copy_id, e.copy_title,
             e.copy_url, e.differs) for e in archive.echoes(site=site, since=since, limit=limit)]
    render(COLUMNS, rows, fmt)

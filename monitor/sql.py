"""``tgwatch sql``: read-only SQL over the archive (``storage.readonly.run_query``)."""

from __future__ import annotations

import click

from monitor.context import AppContext
from monitor.output import format_option, note, render


@click.command("sql")
@click.argument("query")
@format_option
@click.option("--limit", type=int, default=1000, show_default=True,
              help="Most rows to print (0: all).")
@click.pass_obj
def command(app: AppContext, query: str, fmt: str, limit: int) -> None:
    """Run one read-only SQL query over the archive and print the rows.

    Anything that would write (INSERT, UPDATE, DELETE, DROP, ATTACH, PRAGMA settings, several
    statements) is refused. The relations are articles, versions and changes (see the README).

    \b
    Example:
      tgwatch sql "SELECT site, count(*) FROM articles GROUP BY site"
      tgwatch sql "SELECT * FROM changes ORDER BY detected_at DESC" --format csv --limit 50
    """
    from storage.readonly import run_query

    result = run_query(app.db_url, query, limit=limit)
    render(result.columns, result.rows, fmt)
    if result.truncated:
        note(f"(first {limit} rows; --limit 0 prints all)")

"""``tgwatch sql``: read-only SQL over the archive (``storage.readonly.run_query``)."""

from __future__ import annotations

import sys

import click

from monitor.context import AppContext
from monitor.output import format_option, note, render


@click.command("sql")
@click.argument("query")
@click.option("-p", "--param", "params", multiple=True, nargs=2, metavar="NAME VALUE",
              help="A value for the query's :NAME parameter (repeatable), bound by the database driver.")
@format_option
@click.option("--limit", type=int, default=1000, show_default=True,
              help="Most rows to print (0: all).")
@click.pass_obj
def command(app: AppContext, query: str, params: tuple[tuple[str, str], ...], fmt: str, limit: int) -> None:
    """Run one read-only SQL query over the archive and print the rows.

    QUERY is the SQL text, or - to read it from standard input. Values go in as parameters
    (:name in the query, -p name value on the command line), never pasted into the SQL.
    Anything that would write (INSERT, UPDATE, DELETE, DROP, ATTACH, PRAGMA settings, several
    statements) is refused. The relations are articles, versions and changes (see the README).

    \b
    Example:
      tgwatch sql "SELECT site, count(*) FROM articles GROUP BY site"
      tgwatch sql "SELECT * FROM changes ORDER BY detected_at DESC" --format csv --limit 50
      tgwatch sql "SELECT title, url FROM articles WHERE site = :site" -p site tuyengiao
      tgwatch sql - < report.sql
    """
    from storage.readonly import run_query

    if query == "-":
        query = sys.stdin.read()
    result = run_query(app.db_url, query, limit=limit, params=dict(params))
    render(result.columns, result.rows, fmt)
    if result.truncated:
        note(f"(first {limit} rows; --limit 0 prints all)")

"""``tgwatch demo``: the whole job, offline, in well under a minute.

Serves the fixture sites on a free loopback port, crawls version 1 into a fresh SQLite archive,
moves the sites to version 2 and crawls twice (the second crawl confirms the removals), then shows
what was flagged, one diff of an edited article, and the SQL to explore further. The three crawls
run in one reactor (``crawler.run.run_crawls`` with three batches).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from click.core import ParameterSource

from monitor.changes import COLUMNS, list_changes
from monitor.context import AppContext
from monitor.output import render
from storage.content import VN_TZ
from storage.errors import InputError

DEMO_DIR = Path("demo-archive")


def fresh_sqlite(path: Path) -> str:
    """Remove a previous demo archive (with its WAL files) and return the URL of a new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def explicit_db(ctx: click.Context) -> bool:
    """True when --db was given on the command line (TGWATCH_DB alone never points the demo at it)."""
    return ctx.find_root().get_parameter_source("db_url") is ParameterSource.COMMANDLINE


def check_empty(app: AppContext) -> None:
    """The demo's verdicts only make sense in an empty archive; never write into a real one."""
    count = app.archive().article_count()
    if count:
        raise InputError(app.db_url, f"holds {count} articles; the demo needs an empty archive")


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=DEMO_DIR,
              show_default=True, help="Where the demo writes its archive and config.")
@click.pass_context
def command(ctx: click.Context, directory: Path) -> None:
    """Run the whole job offline on the fixture sites and show what was flagged.

    Uses a fresh SQLite archive in --dir (replaced each run) unless --db is given explicitly.

    \b
    Example:
      tgwatch demo
      tgwatch --db sqlite:///other.db demo
    """
    from crawler.profiles import DEFAULT_CONFIG
    from crawler.run import Batch, crawl_settings, run_crawls
    from fixtures.config import LOOPBACK_SETTINGS, site_config
    from fixtures.testing import FixtureServer

    app: AppContext = ctx.obj
    if not explicit_db(ctx):
        app.db_url = fresh_sqlite(directory / "archive.db")
    check_empty(app)
    app.close()
    with FixtureServer() as server:
        config_path = directory / DEFAULT_CONFIG
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(site_config(server.url), encoding="utf-8")
        click.echo(f"fixture sites served at {server.url}; archive {app.db_url}")
        settings = crawl_settings(db_url=app.db_url, config_path=str(config_path.resolve()), recheck="all",
                                  log_level="WARNING", overrides=LOOPBACK_SETTINGS)
        from crawler.profiles import load_config

        sites = sorted(load_config(config_path).sites)
        marks: list[datetime] = []

        def to_v2() -> None:
            marks.append(datetime.now(VN_TZ))
            server.set_version("v2")

        batches = [Batch(sites), Batch(sites, before=to_v2), Batch(sites)]
        summaries = run_crawls(batches, settings)
    labels = ["crawl 1 (v1)", "crawl 2 (v2)", "crawl 3 (v2 again, confirms removals)"]
    for label, summary in zip(labels, summaries):
        click.echo(f"{label}: {summary.line()}")
    if len(summaries) < len(batches):
        click.echo("demo interrupted")
        return
    show_results(ctx, app, since=marks[0], first=summaries[0].totals.get("new", 0))


def show_results(ctx: click.Context, app: AppContext, *, since: datetime, first: int) -> None:
    from monitor import diff

    rows = list_changes(app, since=since)
    click.echo(f"\nflagged after the sites moved to v2 ({len(rows)} changes, newest first; "
               f"the first crawl flagged {first} articles new):")
    render(COLUMNS, rows, "table")
    edited = [r for r in rows if r[2] == "edited"]
    if edited:
        with_text = [r for r in edited if "text" in (r[6] or "")] or edited
        click.echo(f"\none edited article, word by word (tgwatch diff {with_text[0][3]}):")
        ctx.invoke(diff.command, article=str(with_text[0][3]), from_version=None, to_version=None)
    db = f"--db {app.db_url}"
    click.echo("\nexplore further, for example:")
    for query in (
        "SELECT kind, count(*) AS n FROM changes GROUP BY kind",
        "SELECT site, count(*) AS articles, count(removed_at) AS removed FROM articles GROUP BY site",
        "SELECT a.title, c.fields FROM changes c JOIN articles a ON a.id = c.article_id WHERE c.kind = 'edited'",
    ):
        click.echo(f"  tgwatch {db} sql \"{query}\"")
    click.echo(f"  tgwatch {db} changes --kind removed")
    click.echo(f"  tgwatch {db} search tuyen giao")
